//! insta snapshots of the catalogue as the CLI shows it (`list`, `explain`), and the command
//! line's own behaviour: help, usage errors, completions, man page, colour and piped progress.
//!
//! The built binary runs from the crate root, so case paths are relative (`cases/...`); the
//! crate root and the version are filtered out in case they appear. A catalogue change shows up
//! here as a snapshot diff to review; accept it with
//! `INSTA_UPDATE=always cargo test --test cli_snapshots` (or `cargo insta review`).

use std::process::Command;

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn cli(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_obo-conformance"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run obo-conformance");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Filters for anything that depends on the checkout or the build.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(&regex_escape(env!("CARGO_MANIFEST_DIR")), "[ROOT]");
    s.add_filter(&regex_escape(env!("CARGO_PKG_VERSION")), "[VERSION]");
    s.set_prepend_module_to_snapshot(false);
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

#[test]
fn list_shows_every_case() {
    let out = cli(&["list"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    settings().bind(|| insta::assert_snapshot!("list", out.stdout));
}

#[test]
fn list_filters_by_requirement() {
    let out = cli(&["list", "--cases", "req:OBO-TOKEN-12"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert!(out.stdout.contains("TOKEN-ACTOR-MISMATCH"));
    settings().bind(|| insta::assert_snapshot!("list_req_obo_token_12", out.stdout));
}

#[test]
fn explain_shows_requirements_steps_and_outcomes() {
    // Lower case on purpose: explain accepts any case of the ID.
    let out = cli(&["explain", "token-actor-mismatch"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    settings().bind(|| insta::assert_snapshot!("explain_token_actor_mismatch", out.stdout));
}

#[test]
fn explain_of_an_expect_any_case() {
    let out = cli(&["explain", "TOKEN-SCOPE-ESCALATION"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    settings().bind(|| insta::assert_snapshot!("explain_token_scope_escalation", out.stdout));
}

#[test]
fn explain_of_an_unknown_case_is_invalid_input_and_says_so() {
    let out = cli(&["explain", "NO-SUCH-CASE"]);
    assert_eq!(out.code, Some(3));
    assert!(out.stdout.is_empty());
    settings().bind(|| insta::assert_snapshot!("explain_unknown", out.stderr));
}

#[test]
fn selfcheck_help() {
    let out = cli(&["selfcheck", "--help"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    settings().bind(|| insta::assert_snapshot!("selfcheck_help", out.stdout));
}

#[test]
fn a_usage_error_is_invalid_input() {
    let out = cli(&["run", "--no-such-flag"]);
    assert_eq!(out.code, Some(3), "stderr: {}", out.stderr);
    // A filter that matches no case is a mistake in the command, not a harness error.
    let out = cli(&["run", "--cases", "NO-SUCH-*"]);
    assert_eq!(out.code, Some(3), "stderr: {}", out.stderr);
    // Every other way of getting the command line wrong is invalid input too (3), never the
    // harness error code (2): no subcommand, an unknown one, a bad value, a missing argument,
    // an option that needs another, options that do not fit the target.
    for args in [
        &[][..],
        &["no-such-command"],
        &["run", "--jobs", "many"],
        &["run", "--format", "xml"],
        &["--color", "sometimes", "list"],
        &["schema"],
        &["schema", "no-such-format"],
        &["validate-profile"],
        &["run", "--update-expectations"],
        &["run", "--fault", "no-such-fault"],
        &["run", "--shard", "3/2"],
        &["completions", "tcsh"],
        &["diff", "only-one.json"],
    ] {
        let out = cli(args);
        assert_eq!(out.code, Some(3), "{args:?}: stderr: {}", out.stderr);
        assert!(!out.stderr.trim().is_empty(), "{args:?}: says why");
    }
}

#[test]
fn help_shows_examples_and_the_exit_codes() {
    let out = cli(&["run", "--help"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    for needle in [
        "--format",
        "--color",
        "--quiet",
        "Examples:",
        "Exit codes:",
        "3  invalid input",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle:?} missing from:\n{}",
            out.stdout
        );
    }
}

#[test]
fn completions_and_man_page() {
    let out = cli(&["completions", "bash"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert!(out.stdout.contains("obo-conformance"));
    assert!(out.stdout.contains("selfcheck"));
    let out = cli(&["man"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert!(out.stdout.starts_with(".ie") || out.stdout.contains(".TH"));
}

/// Piped (as in CI logs): one progress line per finished case on stderr, failures first in the
/// summary with their requirement IDs, the path of report.html; `--format json` gives one JSON
/// object per case on stdout and a summary line.
#[test]
fn piped_run_prints_a_line_per_case_and_json_lines() {
    let dir = std::env::temp_dir().join(format!("obo-cli-piped-{}", std::process::id()));
    let out_dir = dir.to_string_lossy().into_owned();
    let out = cli(&[
        "run",
        "--cases",
        "TOKEN-ACTOR-MISMATCH,AUTHZ-ACTOR-CONTROL-CHAR",
        "--seed",
        "1",
        "--out",
        &out_dir,
        "--fault",
        "skip-actor-binding",
    ]);
    assert_eq!(
        out.code,
        Some(1),
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
    assert!(out.stderr.contains("[  1/2] "), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("[  2/2] "), "stderr: {}", out.stderr);
    let first = out.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("FAIL  "),
        "failures first: {}",
        out.stdout
    );
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("FAIL  TOKEN-ACTOR-MISMATCH"))
        .unwrap_or_else(|| panic!("stdout: {}", out.stdout));
    assert!(line.contains("[OBO-"), "requirement IDs: {line}");
    assert!(
        !out.stdout.contains('\x1b'),
        "NO_COLOR is set: {}",
        out.stdout
    );
    assert!(out.stdout.contains("report.html"), "stdout: {}", out.stdout);

    let out = cli(&[
        "run",
        "--cases",
        "TOKEN-ACTOR-MISMATCH",
        "--seed",
        "1",
        "--out",
        &out_dir,
        "--format",
        "json",
    ]);
    assert_eq!(
        out.code,
        Some(0),
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "stdout: {}", out.stdout);
    assert_eq!(lines[0]["id"], "TOKEN-ACTOR-MISMATCH");
    assert_eq!(lines[0]["verdict"], "pass");
    assert_eq!(lines[1]["summary"]["passed"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}
