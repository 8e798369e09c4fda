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
#   --file GLOB     mutate only these files (repeatable; default: the scope below)
#   --copy          build in a copy of the tree (with a copy of target/, ~6 GB) instead of in
#                   place, so the tree can be edited and built meanwhile
#   --jobs N        mutants built at once (copy mode only; default 1: 2 cores)
#   --out DIR       cargo-mutants' output folder (default: target/mutants-out)
#   --summary PATH  where to write the summary (default: reports/mutation/summary.md for the
#                   whole scope, DIR/summary.md for a --file run)
#   --from FILE     write the summary from these outcomes.json files (repeatable; a later file
#                   wins for a mutant named in two) instead of running cargo-mutants
#
# In place (the default) cargo-mutants edits the server's source files while it runs and
# restores each one after its mutant; do not edit or build in the tree meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCOPE=(
  reference-server/src/clock.rs
  reference-server/src/params.rs
  reference-server/src/keys.rs
  'reference-server/src/http/*.rs'
  reference-server/src/store.rs
)

files=()
froms=()
copy=0
jobs=1
out=target/mutants-out
summary=
while [ $# -gt 0 ]; do
  case "$1" in
    --file) files+=("$2"); shift 2 ;;
    --copy) copy=1; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --summary) summary=$2; shift 2 ;;
    --from) froms+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
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

if [ ${#froms[@]} -eq 0 ]; then
  echo "== the harness, built once from the unmutated tree"
  cargo build --bin obo-conformance
  # A copy outside target/: cargo-mutants' builds never touch it.
  harness_dir=$(mktemp -d)
  trap 'rm -rf "$harness_dir"' EXIT
  cp target/debug/obo-conformance "$harness_dir/"
  export OBO_HARNESS_BIN=$harness_dir/obo-conformance

  mode=(--in-place)
  if [ $copy = 1 ]; then mode=(--copy-target=true --jobs "$jobs"); fi
  echo "== cargo mutants over: ${files[*]}"
  # The baseline (the judge on the unmutated tree) must pass; it also sets the test timeout.
  # The judge's own limit per catalogue run is 120 s.
  start=$(date +%s)
  rc=0
  cargo mutants -p obo-reference-server "${fileargs[@]}" "${mode[@]}" \
    --minimum-test-timeout 60 --output "$out" || rc=$?
  # cargo-mutants: 0 all caught, 2 some missed, 3 some timed out; anything else (4: the
  # baseline failed, 1: usage) means no result to summarise.
  case $rc in
    0|2|3) ;;
    *) echo "error: cargo mutants exited $rc (see $out/mutants.out/debug.log)" >&2; exit 2 ;;
  esac
  echo "== $(( $(date +%s) - start )) s"
  froms=("$out/mutants.out/outcomes.json")
fi

excluded=$( (cargo mutants --list -p obo-reference-server "${fileargs[@]}" --no-config | wc -l) || echo 0)
kept=$( (cargo mutants --list -p obo-reference-server "${fileargs[@]}" | wc -l) || echo 0)
mkdir -p "$(dirname "$summary")"
python3 scripts/mutants_summary.py --command "$command" --excluded $((excluded - kept)) \
  --summary "$summary" "${froms[@]}"
echo "== summary: $summary"
