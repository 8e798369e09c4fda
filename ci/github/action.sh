#!/usr/bin/env bash
# The logic of the obo-conformance GitHub Action (action.yml at the repository root), kept in a
# script so that it runs, and is tested, outside GitHub (tests/shipping.rs sets fake GITHUB_*).
#
#   ci/github/action.sh install   # cargo install of the harness (skipped when INPUT_BINARY is set)
#   ci/github/action.sh run       # run the suite, append report.md to $GITHUB_STEP_SUMMARY
#
# Inputs come as INPUT_* variables, the names action.yml gives them:
#   INPUT_PROFILE       --target: a profile file or a built-in target (default: reference)
#   INPUT_EXPECTATIONS  --expectations FILE (known failures; optional)
#   INPUT_CASES         --cases filter (optional; comma-separated IDs, globs, tag:NAME, req:ID)
#   INPUT_CASES_DIR     --cases-dir DIR (optional; another catalogue)
#   INPUT_STRICT        true: --strict (only the preferred reading of each acceptable outcome)
#   INPUT_ARGS          further arguments for `run`, split on whitespace (e.g. `--seed 7 --jobs 4`)
#   INPUT_OUT           output folder (default: obo-conformance-report)
#   INPUT_BINARY        an obo-conformance binary to use instead of installing one
#   INPUT_VERSION       install: a git revision of INPUT_REPOSITORY; empty: the action's own checkout
#   INPUT_REPOSITORY    install: repository URL used with INPUT_VERSION
#   OBO_INSTALL_ROOT    install: cargo --root (default: ~/.obo-conformance)
#   OBO_DEFER_EXIT      run: true = always exit 0 and leave the run's exit code in the step output
#                       `exit-code` (action.yml passes it through in its last step, after the
#                       summary and the uploads); otherwise exit with the run's code.
#
# Writes to $GITHUB_OUTPUT (when set): exit-code, out, report-md, sarif (empty when absent), bin.
set -euo pipefail

mode="${1:-run}"
action_root="$(cd "$(dirname "$0")/../.." && pwd)"

output() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"
  fi
}

install() {
  if [[ -n "${INPUT_BINARY:-}" ]]; then
    echo "using the given binary: $INPUT_BINARY"
    output bin "$INPUT_BINARY"
    return
  fi
  local root="${OBO_INSTALL_ROOT:-$HOME/.obo-conformance}"
  local bin="$root/bin/obo-conformance"
  if [[ -x "$bin" ]]; then
    echo "obo-conformance already installed (cache): $bin"
  elif [[ -n "${INPUT_VERSION:-}" ]]; then
    cargo install --locked --root "$root" --git "${INPUT_REPOSITORY:?INPUT_REPOSITORY is needed with INPUT_VERSION}" \
      --rev "$INPUT_VERSION" obo-conformance
  else
    cargo install --locked --root "$root" --path "$action_root"
  fi
  output bin "$bin"
}

# The exit-code table of `obo-conformance run` (README.md).
meaning() {
  case "$1" in
    0) echo "no unexpected result" ;;
    1) echo "the target failed a case (or an expectations entry is stale)" ;;
    2) echo "harness errors, unreachable target, or no applicable case" ;;
    3) echo "invalid profile, case or expectations file" ;;
    *) echo "unexpected exit status" ;;
  esac
}

# $GITHUB_STEP_SUMMARY takes at most 1 MiB per step; keep well under it.
summary_limit=900000

# The backticks in the summary are Markdown, not command substitution.
# shellcheck disable=SC2016
summarise() {
  local code="$1" out="$2"
  [[ -n "${GITHUB_STEP_SUMMARY:-}" ]] || return 0
  {
    if [[ -f "$out/report.md" ]]; then
      head -c "$summary_limit" "$out/report.md"
      if [[ $(stat -c %s "$out/report.md") -gt $summary_limit ]]; then
        printf '\n\n*(report.md truncated for the step summary; the full file is in the artefact)*\n'
      fi
    else
      printf '## obo-conformance: no report\n\nThe run wrote no `report.md`; the job log names the cause.\n'
    fi
    printf '\n`obo-conformance run` exited with %s: %s.\n' "$code" "$(meaning "$code")"
  } >> "$GITHUB_STEP_SUMMARY"
}

run() {
  local bin="${INPUT_BINARY:-${OBO_CONFORMANCE_BIN:-obo-conformance}}"
  local out="${INPUT_OUT:-obo-conformance-report}"
  local -a global=() args=(run --target "${INPUT_PROFILE:-reference}" --out "$out")
  [[ -n "${INPUT_CASES_DIR:-}" ]] && global+=(--cases-dir "$INPUT_CASES_DIR")
  [[ -n "${INPUT_CASES:-}" ]] && args+=(--cases "$INPUT_CASES")
  [[ -n "${INPUT_EXPECTATIONS:-}" ]] && args+=(--expectations "$INPUT_EXPECTATIONS")
  [[ "${INPUT_STRICT:-false}" == true ]] && args+=(--strict)
  if [[ -n "${INPUT_ARGS:-}" ]]; then
    local -a extra
    read -r -a extra <<<"$INPUT_ARGS"
    args+=("${extra[@]}")
  fi

  echo "+ $bin ${global[*]} ${args[*]}"
  local code=0
  "$bin" "${global[@]}" "${args[@]}" || code=$?
  summarise "$code" "$out"

  output exit-code "$code"
  output out "$out"
  output report-md "$([[ -f "$out/report.md" ]] && echo "$out/report.md")"
  output sarif "$([[ -f "$out/report.sarif" ]] && echo "$out/report.sarif")"
  echo "obo-conformance exited with $code: $(meaning "$code")"
  if [[ "${OBO_DEFER_EXIT:-false}" == true ]]; then
    return 0
  fi
  return "$code"
}

case "$mode" in
  install) install ;;
  run) run ;;
  *) echo "usage: $0 install|run" >&2; exit 3 ;;
esac
