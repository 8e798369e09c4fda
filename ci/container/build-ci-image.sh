#!/usr/bin/env bash
# Builds Containerfile.ci with podman from the static binaries of scripts/release.sh (no image is
# pulled: the image starts FROM scratch) and proves it in two runs:
#   1. the harness in the image runs the catalogue against the built-in reference, with no network;
#   2. the reference server runs in one container and the harness in another sharing its network
#      namespace, as compose.yaml does, with examples/targets/reference-subprocess-auto.toml.
#
#   scripts/release.sh && ci/container/build-ci-image.sh
#
# Needs podman (Debian: apt-get install podman). Environment: OBO_CI_IMAGE (image name, default
# localhost/obo-conformance:ci), OBO_RELEASE_OUT (folder of the binaries, default dist),
# OBO_PODMAN_GLOBAL_OPTS / OBO_PODMAN_RUN_OPTS (extra podman options, see below).
set -euo pipefail
cd "$(dirname "$0")/../.."

image="${OBO_CI_IMAGE:-localhost/obo-conformance:ci}"
dist="${OBO_RELEASE_OUT:-dist}"
for b in obo-conformance obo-reference-server; do
  if [[ ! -x "$dist/$b" ]]; then
    echo "error: $dist/$b missing: run scripts/release.sh first" >&2
    exit 3
  fi
done

# In nested or restricted sandboxes crun may refuse hybrid cgroups and raising rlimits; runc with
# limits below the usual hard limits works there and changes nothing elsewhere.
read -r -a global_opts <<<"${OBO_PODMAN_GLOBAL_OPTS:-$(command -v runc >/dev/null 2>&1 && echo --runtime runc)}"
read -r -a run_opts <<<"${OBO_PODMAN_RUN_OPTS:---ulimit nofile=4096:4096 --ulimit nproc=4096:4096}"
podman_() { podman "${global_opts[@]}" "$@"; }

work=$(mktemp -d)
ref="obo-ci-reference-$$"
cleanup() {
  podman_ rm -f "$ref" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

ctx="$work/context"
mkdir -p "$ctx"
cp "$dist/obo-conformance" "$dist/obo-reference-server" "$ctx/"

echo "== podman build -f Containerfile.ci -t $image"
start=$(date +%s)
podman_ build -q -f Containerfile.ci -t "$image" "$ctx"
echo "image build took $(( $(date +%s) - start )) s; size $(podman_ image inspect --format '{{.Size}}' "$image") bytes"

out="$work/out"
mkdir -p "$out"
chmod 0777 "$out"   # the image runs as uid 65532

echo "== 1. built-in reference, no network: $image run --seed 1"
start=$(date +%s)
podman_ run --rm "${run_opts[@]}" --network none -v "$out:/out" "$image" run --seed 1 --out /out/builtin
echo "run 1 took $(( $(date +%s) - start )) s"
test -s "$out/builtin/report.json"

echo "== 2. reference server and harness in two containers (the compose.yaml topology)"
podman_ run -d "${run_opts[@]}" --network none --name "$ref" --entrypoint /usr/local/bin/obo-reference-server \
  "$image" --port 8080 --auto-consent alice --control-api >/dev/null
# The server prints its base URL once it listens.
for _ in $(seq 1 50); do
  podman_ logs "$ref" 2>/dev/null | grep -q '^http://127.0.0.1:8080' && break
  sleep 0.2
done
podman_ logs "$ref" 2>/dev/null | grep -q '^http://127.0.0.1:8080' || { echo "error: reference server did not start" >&2; podman_ logs "$ref"; exit 2; }
start=$(date +%s)
podman_ run --rm "${run_opts[@]}" --network "container:$ref" -v "$out:/out" \
  -v "$PWD/examples/targets/reference-subprocess-auto.toml:/data/profile.toml:ro" \
  "$image" run --target /data/profile.toml --seed 1 --out /out/compose
echo "run 2 took $(( $(date +%s) - start )) s"
test -s "$out/compose/report.json"
echo "== image $image: both runs exited 0"
