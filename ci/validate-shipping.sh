#!/usr/bin/env bash
# Offline validation of the shipping files against their published schemas, with vendored copies
# (no network): the GitHub Action, the fan-out workflow, the GitLab template, the compose file and
# the Kubernetes manifests.
#
#   pip install check-jsonschema kubernetes-validate     # once
#   ci/validate-shipping.sh
#
# Exit 0 when all are valid, 1 when one is not, 4 when a validator is missing (tests/shipping.rs
# skips on 4 locally and fails on it under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in check-jsonschema kubernetes-validate; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "missing validator: $tool (pip install check-jsonschema kubernetes-validate)" >&2
    exit 4
  fi
done

status=0
check() {
  local schema="$1"; shift
  echo "== $schema: $*"
  check-jsonschema --builtin-schema "$schema" "$@" || status=1
}

check vendor.github-actions action.yml
check vendor.github-workflows deploy/github/interop-matrix.yml
# The schema does not look inside hidden jobs (`.name`), so the template's job is checked once as
# written and once made visible; the gitlab-ci transform resolves `!reference` tags.
check vendor.gitlab-ci --data-transform gitlab-ci ci/gitlab/obo-conformance.gitlab-ci.yml
visible="$(mktemp -d)/obo-conformance.gitlab-ci.yml"
sed 's/^\.obo-conformance:/obo-conformance:/' ci/gitlab/obo-conformance.gitlab-ci.yml > "$visible"
check vendor.gitlab-ci --data-transform gitlab-ci "$visible"
rm -rf "$(dirname "$visible")"
check vendor.compose-spec compose.yaml

# Strict: unknown fields are errors (a misspelt key would be silently ignored by the API server).
# The version is pinned so that the result does not move with the validator's default.
echo "== kubernetes 1.31 (strict): deploy/k8s/*.yaml"
kubernetes-validate --strict --kubernetes-version 1.31.0 deploy/k8s/*.yaml || status=1

exit "$status"
