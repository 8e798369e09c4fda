//! insta snapshots of the catalogue as the CLI shows it: `list` and `explain` (issue 6, item 6).
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
fn explain_of_an_unknown_case_exits_2_and_says_so() {
    let out = cli(&["explain", "NO-SUCH-CASE"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stdout.is_empty());
    settings().bind(|| insta::assert_snapshot!("explain_unknown", out.stderr));
}

#[test]
fn selfcheck_help() {
    let out = cli(&["selfcheck", "--help"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    settings().bind(|| insta::assert_snapshot!("selfcheck_help", out.stdout));
}
