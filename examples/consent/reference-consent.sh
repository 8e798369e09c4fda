#!/usr/bin/env bash
# An example program for the `command` consent driver (README.md, "The command driver"), written
# for the bundled reference server's HTML pages (consent_ui = "html") with curl.
#
# Contract: the harness runs the program with the authorization URL; the program plays the user
# (log in, then approve or deny) and prints the URL the authorization server redirected to
# (the client's redirect_uri with code or error) as its LAST non-empty line on stdout, then exits
# 0. With OBO_DECISION=observe it logs in and prints CONSENT_PROMPT instead when a consent page
# appears. A non-zero exit is an `error` verdict quoting the end of stderr.
#
# Input (environment): OBO_AUTHORIZATION_URL, OBO_DECISION (approve|deny|observe),
# OBO_REDIRECT_URI; the same values may be passed as arguments via {url} {decision}
# {redirect_uri} in the profile's `command`. The user's credentials come from this script's own
# environment (OBO_USERNAME, OBO_PASSWORD; defaults: the reference server's demo user).
set -euo pipefail

url="${1:-${OBO_AUTHORIZATION_URL:?OBO_AUTHORIZATION_URL is not set}}"
decision="${2:-${OBO_DECISION:-approve}}"
username="${OBO_USERNAME:-alice}"
password="${OBO_PASSWORD:-alice-password}"

jar="$(mktemp)"
page="$(mktemp)"
trap 'rm -f "$jar" "$page"' EXIT

origin="$(printf '%s' "$url" | sed -E 's#^(https?://[^/]+).*#\1#')"

# GET or POST with the cookie jar, no redirect following; prints "STATUS LOCATION".
fetch() {
  curl -sS -b "$jar" -c "$jar" -o "$page" -w '%{http_code} %{redirect_url}\n' "$@"
}
# The value of a hidden field of the page.
field() {
  sed -nE "s/.*name=\"$1\" value=\"([^\"]*)\".*/\1/p" "$page" | head -n1
}
absolute() {
  case "$1" in http*) printf '%s' "$1" ;; *) printf '%s%s' "$origin" "$1" ;; esac
}

read -r status location < <(fetch "$url")
for _ in 1 2 3 4 5 6 7 8; do
  case "$status" in
    30[1237])
      # Leaving the AS: the final redirect (to redirect_uri, or wherever the AS sent the user).
      if [[ "$location" != "$origin"* ]]; then
        echo "$location"
        exit 0
      fi
      read -r status location < <(fetch "$location")
      ;;
    200)
      tx="$(field tx)"
      csrf="$(field csrf)"
      if grep -q 'type="password"' "$page"; then
        read -r status location < <(fetch --data-urlencode "csrf=$csrf" --data-urlencode "tx=$tx" \
          --data-urlencode "username=$username" --data-urlencode "password=$password" \
          "$(absolute /login)")
      elif grep -q 'name="decision"' "$page"; then
        if [[ "$decision" == observe ]]; then
          echo CONSENT_PROMPT
          exit 0
        fi
        choice=approve
        [[ "$decision" == deny ]] && choice=deny
        read -r status location < <(fetch --data-urlencode "csrf=$csrf" --data-urlencode "tx=$tx" \
          --data-urlencode "decision=$choice" "$(absolute /consent)")
      else
        echo "a page that is neither the login nor the consent page: $(grep -o '<title>[^<]*' "$page" | head -n1)" >&2
        exit 1
      fi
      ;;
    *)
      echo "the authorization server answered $status" >&2
      exit 1
      ;;
  esac
done
echo "too many pages without reaching the redirect_uri" >&2
exit 1
