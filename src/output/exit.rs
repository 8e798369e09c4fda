//! Exit codes of every `obo-conformance` subcommand: one table. The library's gate functions
//! return these so that a CI job can tell a failing target from a broken run.

/// No unexpected result.
pub const OK: i32 = 0;
/// The target failed a case (or warned under `--fail-on-warn`), a regression, a counterexample,
/// an uncaught fault or a MUST without a case.
pub const TARGET_FAILED: i32 = 1;
/// The harness could not run or observe: unreachable target, no applicable case, artefacts that
/// cannot be written.
pub const HARNESS: i32 = 2;
/// Invalid input given before anything runs: command-line usage, profile, cases, expectations,
/// reports.
pub const INVALID: i32 = 3;

/// The table as `--help` shows it.
pub const TABLE: &str = "\
Exit codes:
  0  no unexpected result
  1  the target failed (a case, or a warning under --fail-on-warn; a regression, counterexample,
     uncaught fault or MUST gap for diff, fuzz, selfcheck, coverage)
  2  harness error: unreachable target, no applicable case, reports not written
  3  invalid input: command-line usage, profile, case files, expectations, report files";
