#!/usr/bin/env bash
# Release builds of both binaries (obo-conformance, obo-reference-server), statically linked,
# into dist/ with SHA-256 checksums.
#
#   scripts/release.sh                 # musl if the target is installed, else static glibc
#   OBO_RELEASE_TARGET=x86_64-unknown-linux-gnu scripts/release.sh
#
# Targets:
#   x86_64-unknown-linux-musl  fully static (musl libc); `rustup target add x86_64-unknown-linux-musl`
#                              and a C compiler for ring (`musl-gcc` from Debian's musl-tools, else cc).
#   x86_64-unknown-linux-gnu   glibc linked with -C target-feature=+crt-static (needs libc.a:
#                              Debian's libc6-dev). Static glibc still loads NSS modules for name
#                              lookups; musl does not, which is why musl is preferred.
# TLS is rustls with the bundled webpki roots, so the binaries need no OpenSSL and no CA bundle.
#
# Environment:
#   OBO_RELEASE_TARGET      target triple (default: see above)
#   OBO_RELEASE_OUT         output folder (default: dist)
#   OBO_RELEASE_STANDALONE  require (default) | check | skip: run the harness copied alone into an
#                           empty folder against the built-in reference (the catalogue is embedded);
#                           `require` fails the script when that run does not exit 0, `check` only
#                           reports it.
#
# Writes: $OUT/obo-conformance, $OUT/obo-reference-server, $OUT/SHA256SUMS, $OUT/BUILD-INFO.
set -euo pipefail
cd "$(dirname "$0")/.."

installed_targets() { rustup target list --installed 2>/dev/null || rustc -vV | sed -n 's/^host: //p'; }

target="${OBO_RELEASE_TARGET:-}"
if [[ -z "$target" ]]; then
  if installed_targets | grep -qx 'x86_64-unknown-linux-musl'; then
    target=x86_64-unknown-linux-musl
  else
    target=x86_64-unknown-linux-gnu
  fi
fi
out="${OBO_RELEASE_OUT:-dist}"
standalone="${OBO_RELEASE_STANDALONE:-require}"

case "$target" in
  *-linux-musl)
    # ring compiles C; musl-gcc builds it against musl's headers when present.
    if command -v musl-gcc >/dev/null 2>&1; then
      export "CC_${target//-/_}=musl-gcc"
    fi
    ;;
  *-linux-gnu)
    export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"
    ;;
  *)
    echo "error: OBO_RELEASE_TARGET=$target: only x86_64 Linux (musl or gnu) is supported by this script" >&2
    exit 3
    ;;
esac

# Symbols stripped: the binaries ship; backtraces keep function names only with symbols, which
# the debug build provides for development.
export CARGO_PROFILE_RELEASE_STRIP="${CARGO_PROFILE_RELEASE_STRIP:-symbols}"

echo "== release build: target $target ($(rustc --version))"
start=$(date +%s)
cargo build --release --locked --target "$target" -p obo-conformance -p obo-reference-server --bins
build_secs=$(( $(date +%s) - start ))
echo "== build took ${build_secs} s"

mkdir -p "$out"
# dist/ is a build product, never committed.
printf '*\n' > "$out/.gitignore"
bins=(obo-conformance obo-reference-server)
for b in "${bins[@]}"; do
  install -m 0755 "target/$target/release/$b" "$out/$b"
done

echo "== static linking check"
for b in "${bins[@]}"; do
  desc=$(file -b "$out/$b")
  echo "$b: $desc"
  ldd_out=$(ldd "$out/$b" 2>&1 || true)
  echo "  ldd: $ldd_out"
  if ! grep -Eq 'statically linked|static-pie linked' <<<"$desc"; then
    echo "error: $b is dynamically linked" >&2
    exit 1
  fi
done

(cd "$out" && sha256sum "${bins[@]}" > SHA256SUMS)
echo "== checksums ($out/SHA256SUMS)"
cat "$out/SHA256SUMS"

# The harness copied alone into an empty folder. As root, the folder becomes the root directory
# (chroot), so that the source tree the binary was built from is out of its sight; otherwise
# that tree stays visible and the result is only indicative.
standalone_result="not run"
if [[ "$standalone" != skip ]]; then
  empty=$(mktemp -d)
  install -m 0755 "$out/obo-conformance" "$empty/obo-conformance"
  if [[ $(id -u) -eq 0 ]] && command -v chroot >/dev/null 2>&1; then
    isolation=chroot
    in_empty() { chroot "$empty" /obo-conformance "$@"; }
  else
    isolation="plain folder, source tree visible"
    in_empty() { (cd "$empty" && ./obo-conformance "$@"); }
  fi
  echo "== the harness alone in an empty folder ($isolation): obo-conformance run"
  code=0
  in_empty run --seed 1 --out out >/dev/null 2>"$empty/stderr" || code=$?
  sed 's/^/  /' "$empty/stderr" | tail -n 3
  standalone_result="exit $code ($isolation)"
  echo "standalone run: $standalone_result"
  rm -rf "$empty"
  if [[ $code -ne 0 && "$standalone" == require ]]; then
    exit 1
  fi
fi

{
  echo "target: $target"
  echo "rustc: $(rustc --version)"
  echo "revision: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "build_seconds: $build_secs"
  for b in "${bins[@]}"; do
    echo "size_bytes.$b: $(stat -c %s "$out/$b")"
  done
  echo "standalone_run: $standalone_result"
} > "$out/BUILD-INFO"
echo "== $out/BUILD-INFO"
cat "$out/BUILD-INFO"
