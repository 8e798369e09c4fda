#!/usr/bin/env python3
"""The mutation summary (summary.md and summary.json beside it) from cargo-mutants' outcomes.json.

Called by scripts/mutants.sh; by hand: scripts/mutants_summary.py --summary OUT.md OUTCOMES.json...
Several outcomes files are merged per mutant name, a later file winning (a rerun of the mutants
a first run missed, after new cases were added).

Score over viable mutants = caught / (caught + missed + timeouts): an unviable mutant (it does
not compile) proves nothing either way and is left out; a timeout (the judge itself did not end)
is not a proof that the catalogue noticed, so it counts against the score.
"""

import argparse
import json
import os
import re
from collections import OrderedDict

try:
    import tomllib  # Python 3.11+
except ImportError:  # older Python: the exclude_re list is read by pattern below
    tomllib = None

# The files of scripts/mutants.sh's scope (the endpoint handlers and the code they validate
# with); control.rs is excluded whole (.cargo/mutants.toml).
SCOPE = [
    "reference-server/src/clock.rs",
    "reference-server/src/params.rs",
    "reference-server/src/keys.rs",
    "reference-server/src/store.rs",
] + [
    f"reference-server/src/http/{f}.rs"
    for f in [
        "actor_token", "authorize", "client_auth", "consent", "introspect", "login",
        "metadata", "mod", "pages", "resource", "revoke", "token",
    ]
]

KIND = {
    "CaughtMutant": "caught",
    "MissedMutant": "missed",
    "Timeout": "timeout",
    "Unviable": "unviable",
}


def load(paths):
    mutants = OrderedDict()
    meta = {"version": None, "start": None, "end": None}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        meta["version"] = data.get("cargo_mutants_version") or meta["version"]
        start, end = data.get("start_time"), data.get("end_time")
        if start and (meta["start"] is None or start < meta["start"]):
            meta["start"] = start
        if end and (meta["end"] is None or end > meta["end"]):
            meta["end"] = end
        for o in data["outcomes"]:
            scenario = o["scenario"]
            if not isinstance(scenario, dict) or "Mutant" not in scenario:
                continue
            m = scenario["Mutant"]
            kind = KIND.get(o["summary"], o["summary"])
            mutants[m["name"]] = (m["file"], kind)
    return mutants, meta


def exclusions(config):
    """The exclude_re patterns of .cargo/mutants.toml: a mutant tested before its exclusion was
    written is dropped from the counts like one excluded before the run."""
    try:
        with open(config, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return []
    if tomllib is not None:
        found = tomllib.loads(raw.decode()).get("exclude_re", [])
    else:
        # The list holds only single-quoted (literal) strings, one a line.
        block = raw.decode().split("exclude_re = [", 1)[-1].split("\n]", 1)[0]
        found = re.findall(r"^\s*'([^']*)',?\s*$", block, re.M)
    return [re.compile(r) for r in found]


def score(c):
    viable = c["caught"] + c["missed"] + c["timeout"]
    return 100.0 * c["caught"] / viable if viable else None


def counts(items):
    c = {"mutants": 0, "caught": 0, "missed": 0, "timeout": 0, "unviable": 0}
    for kind in items:
        c["mutants"] += 1
        if kind in c:
            c[kind] += 1
    c["score_percent"] = score(c)
    return c


def fmt_score(s):
    return "-" if s is None else f"{s:.1f}%"


def carry(path, per_file, meta, patterns):
    """Adds to per_file the files of a previous summary.json that have no outcome here, with
    their counts; returns their missed mutants. Their caught mutants have no names in a summary,
    so an exclusion written since can drop only a missed one from the counts."""
    with open(path) as f:
        prior = json.load(f)
    carried = []
    for file, c in prior["files"].items():
        if file in per_file:
            continue
        c = {k: c[k] for k in ("mutants", "caught", "missed", "timeout", "unviable")}
        for name in prior["missed_mutants"]:
            if not name.startswith(file + ":"):
                continue
            if any(p.search(name) for p in patterns):
                # Timeouts are listed with the missed; a summary does not say which is which.
                c["mutants"] -= 1
                c["missed" if c["missed"] else "timeout"] -= 1
            else:
                carried.append(name)
        c["score_percent"] = score(c)
        per_file[file] = c
    start, end = prior.get("run_start"), prior.get("run_end")
    if start and (meta["start"] is None or start < meta["start"]):
        meta["start"] = start
    if end and (meta["end"] is None or end > meta["end"]):
        meta["end"] = end
    return carried


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--summary", required=True)
    ap.add_argument("--command", default="scripts/mutants.sh")
    ap.add_argument("--excluded", type=int, default=0)
    ap.add_argument("--config", default=".cargo/mutants.toml")
    ap.add_argument("--note", action="append", default=[], help="a line under the title")
    ap.add_argument(
        "--carry",
        help="a previous summary.json: its files with no outcome in OUTCOMES keep their counts "
        "and missed mutants (for merging with a run whose outcomes files are gone)",
    )
    ap.add_argument("outcomes", nargs="+")
    args = ap.parse_args()

    mutants, meta = load(args.outcomes)
    patterns = exclusions(args.config)
    mutants = OrderedDict(
        (n, v) for n, v in mutants.items() if not any(p.search(n) for p in patterns)
    )
    by_file = OrderedDict()
    for name, (file, kind) in sorted(mutants.items(), key=lambda kv: kv[1][0]):
        by_file.setdefault(file, []).append(kind)
    per_file = {file: counts(kinds) for file, kinds in by_file.items()}
    missed = [n for n, (_, k) in mutants.items() if k in ("missed", "timeout")]
    if args.carry:
        carried_missed = carry(args.carry, per_file, meta, patterns)
        missed = carried_missed + missed
    per_file = OrderedDict(sorted(per_file.items()))
    total = {"mutants": 0, "caught": 0, "missed": 0, "timeout": 0, "unviable": 0}
    for c in per_file.values():
        for k in total:
            total[k] += c[k]
    total["score_percent"] = score(total)
    missing = [s for s in SCOPE if s not in per_file]

    lines = ["# Mutation testing of the reference server's checks", ""]
    lines += [n + "\n" for n in args.note]
    if missing:
        lines += [
            "**Partial run**: no outcome for " + ", ".join(f"`{m}`" for m in missing) + ".",
            "",
        ]
    lines += [
        f"- Command: `{args.command}`",
        f"- Run: {meta['start'] or '?'} to {meta['end'] or '?'} (UTC)",
        f"- cargo-mutants {meta['version'] or '?'}",
        "- Judge: reference-server/tests/catalogue_judge.rs, the whole case catalogue against the "
        "mutated server under four variants (auto-consent -02, login and consent pages -02, "
        "auto-consent -00, -01); a mutant is caught when a case fails or warns, or the target cannot "
        "be opened at all (every case errors, or no report). A case that errors or skips is not a "
        "catch.",
        "- Score over viable mutants = caught / (caught + missed + timeouts); unviable mutants "
        "(they do not compile) are left out.",
        f"- Excluded before the run (.cargo/mutants.toml `exclude_re`, each with its reason): "
        f"{args.excluded}",
        "",
        f"**Score: {fmt_score(total['score_percent'])}** "
        f"({total['caught']} caught of {total['caught'] + total['missed'] + total['timeout']} "
        f"viable; {total['mutants']} mutants, {total['missed']} missed, {total['timeout']} "
        f"timeouts, {total['unviable']} unviable)",
        "",
        "| file | mutants | caught | missed | timeouts | unviable | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for file, c in per_file.items():
        lines.append(
            f"| {file} | {c['mutants']} | {c['caught']} | {c['missed']} | {c['timeout']} "
            f"| {c['unviable']} | {fmt_score(c['score_percent'])} |"
        )
    lines.append(
        f"| **all** | {total['mutants']} | {total['caught']} | {total['missed']} "
        f"| {total['timeout']} | {total['unviable']} | {fmt_score(total['score_percent'])} |"
    )
    lines += ["", "## Missed and timed-out mutants", ""]
    lines += [f"- `{n}`" for n in missed] or ["None."]
    lines.append("")
    with open(args.summary, "w") as f:
        f.write("\n".join(lines))

    data = dict(total)
    data.update(
        {
            "excluded": args.excluded,
            "partial": bool(missing),
            "run_start": meta["start"],
            "run_end": meta["end"],
            "cargo_mutants_version": meta["version"],
            "command": args.command,
            "files": per_file,
            "missed_mutants": missed,
        }
    )
    json_path = os.path.splitext(args.summary)[0] + ".json"
    with open(json_path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
