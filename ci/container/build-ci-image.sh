#!/usr/bin/env bash
# Builds Containerfile.ci with podman without pulling any image (it starts FROM scratch) and proves
# it in two runs:
#   1. the harness in the image runs the catalogue against the built-in reference, with no network;
#   2. the reference server runs in one container and the harness in another sharing its network
#      namespace, as compose.yaml does, with examples/targets/reference-subprocess-auto.toml.
#
#   ci/container/build-ci-image.sh                         # the debug binaries of `cargo test`/`cargo build` (.ci/run)
#   OBO_CI_BINARIES=dist ci/container/build-ci-image.sh    # the static binaries of scripts/release.sh
#
# The binaries may be static (scripts/release.sh) or dynamically linked to glibc (target/debug):
# for a dynamic one, the shared libraries `ldd` lists and the loader are copied into the image
# at their own paths, so the scratch image needs no distribution layer.
#
# Needs podman (Debian: apt-get install podman runc) and ldd. Environment: OBO_CI_BINARIES (folder
# of the two binaries, default target/debug), OBO_CI_IMAGE (image name, default
# localhost/obo-conformance:ci), OBO_PODMAN_GLOBAL_OPTS / OBO_PODMAN_RUN_OPTS (extra podman
# options, see below). Every failure names its step on stderr ("error: <step>: <cause>").
set -euo pipefail
cd "$(dirname "$0")/../.."

image="${OBO_CI_IMAGE:-localhost/obo-conformance:ci}"
bins_dir="${OBO_CI_BINARIES:-target/debug}"
bins=(obo-conformance obo-reference-server)

fail() {
  echo "error: $1" >&2
  exit "${2:-2}"
}

command -v podman >/dev/null 2>&1 || fail "podman not found (Debian: apt-get install podman runc)" 3
for b in "${bins[@]}"; do
  [[ -x "$bins_dir/$b" ]] || fail "$bins_dir/$b missing: build it first (cargo build --bins, or scripts/release.sh with OBO_CI_BINARIES=dist)" 3
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

# The build context is the image's root file system.
root="$work/context"
mkdir -p "$root/usr/local/bin"
for b in "${bins[@]}"; do
  cp "$bins_dir/$b" "$root/usr/local/bin/$b"
  # Debug information is most of a debug binary's size and is no use in the image.
  if command -v strip >/dev/null 2>&1; then
    strip --strip-debug "$root/usr/local/bin/$b" || fail "strip $b failed"
  fi
done

# The shared libraries and the loader of dynamically linked binaries, at the paths the binaries
# ask for (ldd prints "name => /path (addr)" for libraries and "/path (addr)" for the loader).
libs=()
for b in "${bins[@]}"; do
  if ! ldd_out=$(ldd "$bins_dir/$b" 2>&1); then
    grep -q 'not a dynamic executable' <<<"$ldd_out" || fail "ldd $bins_dir/$b: $ldd_out"
    continue
  fi
  grep -q 'statically linked' <<<"$ldd_out" && continue
  grep -q 'not found' <<<"$ldd_out" && fail "ldd $bins_dir/$b: a library is missing: $ldd_out"
  while read -r lib; do libs+=("$lib"); done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out")
done
if ((${#libs[@]})); then
  for lib in $(printf '%s\n' "${libs[@]}" | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib" || fail "cannot copy the shared library $lib"
  done
  echo "== shared libraries copied into the image: $(printf '%s\n' "${libs[@]}" | sort -u | tr '\n' ' ')"
fi

echo "== podman build -f Containerfile.ci -t $image (binaries from $bins_dir)"
start=$(date +%s)
podman_ build -q -f "$PWD/Containerfile.ci" -t "$image" "$root" >/dev/null || fail "podman build of Containerfile.ci failed (see podman's message above)"
echo "image build took $(($(date +%s) - start)) s; size $(podman_ image inspect --format '{{.Size}}' "$image") bytes"

out="$work/out"
mkdir -p "$out"
chmod 0777 "$out" # the image runs as uid 65532

echo "== 1. built-in reference, no network: $image run --seed 1"
start=$(date +%s)
code=0
podman_ run --rm "${run_opts[@]}" --network none -v "$out:/out" "$image" run --seed 1 --out /out/builtin || code=$?
echo "run 1 took $(($(date +%s) - start)) s"
((code == 0)) || fail "run 1 (built-in reference in the image) exited $code"
[[ -s "$out/builtin/report.json" ]] || fail "run 1 wrote no report.json"

echo "== 2. reference server and harness in two containers (the compose.yaml topology)"
podman_ run -d "${run_opts[@]}" --network none --name "$ref" --entrypoint /usr/local/bin/obo-reference-server \
  "$image" --port 8080 --auto-consent alice --control-api >/dev/null || fail "run 2: the reference server container did not start"
# The server prints its base URL once it listens.
for _ in $(seq 1 100); do
  podman_ logs "$ref" 2>/dev/null | grep -q '^http://127.0.0.1:8080' && break
  sleep 0.2
done
if ! podman_ logs "$ref" 2>/dev/null | grep -q '^http://127.0.0.1:8080'; then
  podman_ logs "$ref" >&2 || true
  fail "run 2: the reference server in the image did not print its URL within 20 s (its log is above)"
fi
start=$(date +%s)
code=0
podman_ run --rm "${run_opts[@]}" --network "container:$ref" -v "$out:/out" \
  -v "$PWD/examples/targets/reference-subprocess-auto.toml:/data/profile.toml:ro" \
  "$image" run --target /data/profile.toml --seed 1 --out /out/compose || code=$?
echo "run 2 took $(($(date +%s) - start)) s"
((code == 0)) || fail "run 2 (harness against the reference server container) exited $code"
[[ -s "$out/compose/report.json" ]] || fail "run 2 wrote no report.json"
echo "== image $image: both runs exited 0"
