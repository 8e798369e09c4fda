#!/usr/bin/env bash
# Mutation testing of the reference server's checks, judged by the case catalogue.
#
#   scripts/mutants.sh                      # the whole scope; writes reports/mutation/summary.md
#   scripts/mutants.sh --file reference-server/src/clock.rs   # one file (repeatable)
#
# cargo-mutants mutates the server's validation code (a condition negated, a comparison flipped,
# a body replaced by a default) and, for each mutant, builds the server library and one test
# binary (reference-server/tests/catalogue_judge.rs) that starts the mutated server in-process
# and runs the whole catalogue against it with a harness binary built once, here, from the
# unmutated tree. A mutant is caught when the catalogue rejects the server (a case fails or
# warns, or the target cannot be opened at all). Exclusions, each with its reason:
# .cargo/mutants.toml.
#
# Options:
#   --file GLOB     mutate only these files (repeatable; default: the scope below, file by file,
#                   smallest first, so that a run cut short has whole files done)
#   --copy DIR      build in a copy of the source tree with DIR as the target folder (seeded once
#                   from target/debug, mtimes kept, so dependencies stay fresh) instead of in
#                   place, so the tree can be edited and built meanwhile
#   --re REGEX      test only the mutants whose name matches (repeatable; cargo-mutants --re),
#                   e.g. to rerun the ones a first run missed after new cases were added
#   --out DIR       cargo-mutants' output folders, one per scope entry (default:
#                   target/mutants-out)
#   --summary PATH  where to write the summary (default: reports/mutation/summary.md for the
#                   whole scope, DIR/summary.md for a --file run)
#   --from FILE     write the summary from these outcomes.json files (repeatable; a later file
#                   wins for a mutant named in two) instead of running cargo-mutants
#
# In place (the default) cargo-mutants edits the server's source files while it runs and
# restores each one after its mutant; do not edit or build in the tree meanwhile.
# Exit: 0 every mutant caught, 1 some missed or timed out (listed in the summary), 2 no result
# (cargo-mutants could not run, or the judge failed on the unmutated tree), 3 usage.
# The body is one block, read whole before it runs: editing this file during a run is harmless.
{
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# Smallest first (by mutant count), store.rs last.
SCOPE=(
  reference-server/src/clock.rs
  reference-server/src/http/metadata.rs
  reference-server/src/http/consent.rs
  reference-server/src/http/revoke.rs
  reference-server/src/http/pages.rs
  reference-server/src/http/login.rs
  reference-server/src/http/control.rs
  reference-server/src/http/client_auth.rs
  reference-server/src/params.rs
  reference-server/src/http/introspect.rs
  reference-server/src/http/actor_token.rs
  reference-server/src/http/mod.rs
  reference-server/src/http/resource.rs
  reference-server/src/keys.rs
  reference-server/src/http/authorize.rs
  reference-server/src/http/token.rs
  reference-server/src/store.rs
)

files=()
res=()
froms=()
copy=
out=target/mutants-out
summary=
while [ $# -gt 0 ]; do
  case "$1" in
    --file) files+=("$2"); shift 2 ;;
    --copy) copy=$2; shift 2 ;;
    --re) res+=(--re "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --summary) summary=$2; shift 2 ;;
    --from) froms+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,/^# The body/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 3 ;;
  esac
done
whole=0
if [ ${#files[@]} -eq 0 ]; then
  files=("${SCOPE[@]}")
  whole=1
fi
if [ -z "$summary" ]; then
  if [ $whole = 1 ]; then summary=reports/mutation/summary.md; else summary=$out/summary.md; fi
fi

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "error: cargo-mutants is not installed (cargo install cargo-mutants --locked)" >&2
  exit 2
fi

fileargs=()
for f in "${files[@]}"; do fileargs+=(-f "$f"); done
command="scripts/mutants.sh"
if [ $whole = 0 ]; then for f in "${files[@]}"; do command+=" --file $f"; done; fi
for ((k = 1; k < ${#res[@]}; k += 2)); do command+=" --re '${res[k]}'"; done

if [ ${#froms[@]} -eq 0 ]; then
  echo "== the harness, built once from the unmutated tree"
  cargo build --bin obo-conformance
  # A copy outside target/: cargo-mutants' builds never touch it.
  harness_dir=$(mktemp -d)
  trap 'rm -rf "$harness_dir"' EXIT
  cp target/debug/obo-conformance "$harness_dir/"
  export OBO_HARNESS_BIN=$harness_dir/obo-conformance

  mode=(--in-place)
  if [ -n "$copy" ]; then
    if [ ! -d "$copy/debug" ] && [ -d target/debug ]; then
      echo "== seeding $copy from target/debug"
      mkdir -p "$copy" && cp -a target/debug "$copy/debug"
    fi
    export CARGO_TARGET_DIR
    CARGO_TARGET_DIR=$(cd "$copy" && pwd)
    mode=()
  fi
  # The first entry runs the baseline (the judge on the unmutated tree must pass; it also
  # sets the test timeout); later entries reuse its timeout.
  baseline=(--minimum-test-timeout 60)
  k=0
  for f in "${files[@]}"; do
    k=$((k + 1))
    dir=$out/$k
    mkdir -p "$dir"
    echo "== cargo mutants: $f"
    start=$(date +%s)
    rc=0
    cargo mutants -p obo-reference-server -f "$f" "${res[@]}" "${mode[@]}" "${baseline[@]}" \
      --output "$dir" || rc=$?
    # cargo-mutants: 0 all caught, 2 some missed, 3 some timed out; anything else (4: the
    # baseline failed, 1: usage) means no result to summarise.
    case $rc in
      0|2|3) ;;
      *) echo "error: cargo mutants exited $rc (see $dir/mutants.out/debug.log)" >&2; exit 2 ;;
    esac
    echo "== $f: $(( $(date +%s) - start )) s"
    # Every mutant of the file excluded: no outcomes file.
    if [ -f "$dir/mutants.out/outcomes.json" ]; then froms+=("$dir/mutants.out/outcomes.json"); fi
    baseline=(--baseline skip --timeout 120)
  done
  unset CARGO_TARGET_DIR
fi

excluded=$( (cargo mutants --list -p obo-reference-server "${fileargs[@]}" --no-config | wc -l) || echo 0)
kept=$( (cargo mutants --list -p obo-reference-server "${fileargs[@]}" | wc -l) || echo 0)
mkdir -p "$(dirname "$summary")"
rc=0
python3 scripts/mutants_summary.py --command "$command" --excluded $((excluded - kept)) \
  --summary "$summary" "${froms[@]}" || rc=$?
echo "== summary: $summary"
exit $rc
}
