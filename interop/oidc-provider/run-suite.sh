#!/usr/bin/env bash
# Reproduces the interop run against node-oidc-provider end to end:
# npm ci, start the server, run the harness's catalogue, stop the server.
#   interop/oidc-provider/run-suite.sh MODE OUTDIR [harness run options...]
#   MODE: plain | obo | obo-jwt | plain-shared-url   (profiles in examples/targets/interop/MODE.toml)
# Not part of CI (it needs node >= 20 and the npm registry). Exit code: the harness's.
# OBO_CONFORMANCE=path/to/obo-conformance uses an already built harness instead of `cargo run`.
set -euo pipefail
mode=${1:?usage: run-suite.sh plain|obo|obo-jwt|plain-shared-url OUTDIR [run options]}
out=${2:?usage: run-suite.sh MODE OUTDIR [run options]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case $mode in
  plain) server_mode=plain urls=split port=3101 ;;
  obo) server_mode=obo urls=split port=3102 ;;
  obo-jwt) server_mode=obo urls=split port=3104 ;;
  plain-shared-url) server_mode=plain urls=shared port=3103 ;;
  *) echo "run-suite.sh: unknown MODE $mode (plain, obo, obo-jwt, plain-shared-url)" >&2; exit 2 ;;
esac
profile="$root/examples/targets/interop/$mode.toml"

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
keys=
if [ "$mode" = obo-jwt ]; then
  # A fresh ES256 key pair per actor: the harness signs with the private key (profile key_file),
  # the AS verifies with the public one (ACTOR_KEYS_DIR). Never committed (.gitignore).
  keys="$here/.keys"
  mkdir -p "$keys"
  for actor in agent-a agent-b; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$keys/$actor.pem" 2>/dev/null
    openssl pkey -in "$keys/$actor.pem" -pubout -out "$keys/$actor.pub.pem"
  done
fi
log=$(mktemp -d)
ACTOR_KEYS_DIR=$keys OBO_MODE=$server_mode PORT=$port INTERACTION_URLS=$urls node "$here/server.mjs" \
  >"$log/stdout" 2>"$log/stderr" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
# The server prints its base URL once it accepts connections.
for _ in $(seq 1 100); do
  if grep -q "^http://127.0.0.1:$port" "$log/stdout"; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$log/stderr" >&2; exit 1; fi
  sleep 0.1
done
grep -q "^http://127.0.0.1:$port" "$log/stdout" || { echo "server did not start" >&2; cat "$log/stderr" >&2; exit 1; }
cd "$root"
status=0
if [ -n "${OBO_CONFORMANCE:-}" ]; then
  "$OBO_CONFORMANCE" run --target "$profile" --out "$out" "$@" || status=$?
else
  cargo run --quiet -- run --target "$profile" --out "$out" "$@" || status=$?
fi
echo "server log: $log/stderr" >&2
exit $status
