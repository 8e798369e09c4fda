//! The known-failures baseline as a CI job uses it: green with the known failure, red when the
//! failure is fixed without updating the file, red on new failures and stale entries.

mod common;

use obo_report::baseline::{self, evaluate, Baseline, StaleKind};
use obo_report::*;
use time::macros::date;

const TODAY: time::Date = date!(2026 - 11 - 29);

/// A run against the reference server with one fault on: one MUST case fails.
fn faulty_run() -> Report {
    common::report(vec![
        common::case("TOKEN-ACTOR-MISMATCH", Verdict::Fail),
        common::case("AT-ACT-CLAIM", Verdict::Pass),
        common::case("RS-ACTOR-REQUIRED", Verdict::Skip),
    ])
}

fn fixed_run() -> Report {
    let mut r = faulty_run();
    r.cases[0].verdict = Verdict::Pass;
    r.summary = Summary::of(&r.cases);
    r
}

const KNOWN_FAILURE: &str = r#"
[[expect]]
id = "TOKEN-ACTOR-MISMATCH"
verdict = "fail"
reason = "actor binding not enforced yet"
link = "https://tracker.example/42"
expires = 2027-03-31
"#;

#[test]
fn known_failure_passes_ci_and_fixing_it_without_updating_fails_ci() {
    let baseline = Baseline::parse(KNOWN_FAILURE).unwrap();
    let eval = evaluate(&faulty_run(), &baseline, TODAY);
    assert_eq!(eval.exit_code(), 0, "{}", eval.render_text());
    assert_eq!(eval.expected.len(), 1);

    let eval = evaluate(&fixed_run(), &baseline, TODAY);
    assert_eq!(eval.exit_code(), 1);
    assert_eq!(eval.stale.len(), 1);
    assert_eq!(eval.stale[0].problem, StaleKind::NowPasses);
    assert!(eval
        .render_text()
        .contains("STALE TOKEN-ACTOR-MISMATCH: now passes"));
}

#[test]
fn without_a_baseline_a_failure_is_unexpected() {
    let eval = evaluate(&faulty_run(), &Baseline::default(), TODAY);
    assert_eq!(eval.exit_code(), 1);
    assert_eq!(eval.unexpected[0].id, "TOKEN-ACTOR-MISMATCH");
    assert_eq!(
        evaluate(&fixed_run(), &Baseline::default(), TODAY).exit_code(),
        0
    );
}

#[test]
fn warnings_alone_keep_ci_green_but_are_listed() {
    let mut r = fixed_run();
    r.cases[1].verdict = Verdict::Warn;
    let eval = evaluate(&r, &Baseline::default(), TODAY);
    assert_eq!(eval.exit_code(), 0);
    assert_eq!(eval.unlisted_warnings.len(), 1);
}

#[test]
fn an_expired_entry_is_stale_and_excuses_nothing() {
    let baseline = Baseline::parse(KNOWN_FAILURE).unwrap();
    let eval = evaluate(&faulty_run(), &baseline, date!(2027 - 04 - 01));
    assert_eq!(eval.exit_code(), 1);
    assert_eq!(
        eval.stale[0].problem,
        StaleKind::Expired("2027-03-31".into())
    );
    assert_eq!(eval.unexpected.len(), 1, "the failure is no longer excused");
    // The expiry day itself still holds.
    assert_eq!(
        evaluate(&faulty_run(), &baseline, date!(2027 - 03 - 31)).exit_code(),
        0
    );
}

#[test]
fn an_unknown_id_is_stale() {
    let text = format!(
        "{KNOWN_FAILURE}\n[[expect]]\nid = \"GONE\"\nverdict = \"warn\"\nreason = \"old case\"\n"
    );
    let eval = evaluate(&faulty_run(), &Baseline::parse(&text).unwrap(), TODAY);
    assert_eq!(eval.exit_code(), 1);
    assert_eq!(eval.stale.len(), 1);
    assert_eq!(
        (eval.stale[0].id.as_str(), &eval.stale[0].problem),
        ("GONE", &StaleKind::UnknownId)
    );
}

#[test]
fn a_different_failure_than_expected_is_unexpected() {
    let text = KNOWN_FAILURE.replace("\"fail\"", "\"warn\"");
    let eval = evaluate(&faulty_run(), &Baseline::parse(&text).unwrap(), TODAY);
    assert_eq!(eval.exit_code(), 1);
    assert_eq!(eval.unexpected[0].expected, Some(Verdict::Warn));
}

#[test]
fn conditions_select_entries_by_revision_and_profile() {
    let text = r#"
[[expect]]
id = "TOKEN-ACTOR-MISMATCH"
verdict = "fail"
reason = "only the -00 build lacks the binding"
revision = "00"

[[expect]]
id = "AT-ACT-CLAIM"
verdict = "fail"
reason = "only on staging"
profile = "staging"
"#;
    let baseline = Baseline::parse(text).unwrap();
    let mut r = faulty_run();
    // A -02 run of the reference profile: neither entry applies, so the failure is unexpected
    // and the non-applying entries are not stale.
    let eval = evaluate(&r, &baseline, TODAY);
    assert_eq!((eval.unexpected.len(), eval.stale.len()), (1, 0));
    r.target.revision = "00".into();
    assert_eq!(evaluate(&r, &baseline, TODAY).exit_code(), 0);
    r.target.name = "staging".into();
    let eval = evaluate(&r, &baseline, TODAY);
    assert_eq!(
        eval.stale[0].problem,
        StaleKind::NowPasses,
        "AT-ACT-CLAIM passes on staging"
    );
}

#[test]
fn the_most_specific_entry_wins() {
    let text = r#"
[[expect]]
id = "TOKEN-ACTOR-MISMATCH"
verdict = "warn"
reason = "generic"

[[expect]]
id = "TOKEN-ACTOR-MISMATCH"
verdict = "fail"
reason = "on -02 it fails"
revision = "02"
"#;
    let eval = evaluate(&faulty_run(), &Baseline::parse(text).unwrap(), TODAY);
    assert_eq!(eval.exit_code(), 0, "{}", eval.render_text());
}

#[test]
fn harness_errors_and_empty_runs_exit_2() {
    let mut r = faulty_run();
    r.cases[1].verdict = Verdict::Error;
    assert_eq!(
        evaluate(&r, &Baseline::parse(KNOWN_FAILURE).unwrap(), TODAY).exit_code(),
        2
    );
    let skipped = common::report(vec![common::case("RS-ACTOR-REQUIRED", Verdict::Skip)]);
    let eval = evaluate(&skipped, &Baseline::default(), TODAY);
    assert!(eval.nothing_applicable);
    assert_eq!(eval.exit_code(), 2);
    // A failure of the target outranks harness trouble (as `run` does).
    assert_eq!(evaluate(&r, &Baseline::default(), TODAY).exit_code(), 1);
    assert_eq!(
        evaluate(&common::report(vec![]), &Baseline::default(), TODAY).exit_code(),
        2
    );
}

#[test]
fn invalid_files_are_refused_with_the_entry_named() {
    for (text, needle) in [
        ("[[expect]]\nid = \"X\"\nverdict = \"fail\"\n", "reason"),
        ("[[expect]]\nid = \"X\"\nverdict = \"flaky\"\nreason = \"r\"\n", "flaky"),
        ("[[expect]]\nid = \"X\"\nverdict = \"pass\"\nreason = \"r\"\n", "needs no entry"),
        ("[[expect]]\nid = \"X\"\nverdict = \"fail\"\nreason = \"r\"\nexpires = 2027-02-30\n", "2027"),
        ("[[expect]]\nid = \"X\"\nverdict = \"fail\"\nreason = \"r\"\nexpires = 2027-02-03T10:00:00Z\n", "expires"),
        ("[[expect]]\nid = \"X\"\nverdict = \"fail\"\nreason = \"r\"\ncolour = \"red\"\n", "colour"),
        (
            "[[expect]]\nid = \"X\"\nverdict = \"fail\"\nreason = \"r\"\n[[expect]]\nid = \"X\"\nverdict = \"warn\"\nreason = \"r\"\n",
            "duplicate",
        ),
    ] {
        let err = Baseline::parse(text).unwrap_err().to_string();
        assert!(err.contains(needle), "{err} should mention {needle}");
    }
}

#[test]
fn update_expectations_writes_a_baseline_the_same_run_passes() {
    let mut r = faulty_run();
    r.cases.push(common::case("CODE-EXPIRED", Verdict::Error));
    r.cases.push(common::case("TOKEN-NO-STORE", Verdict::Warn));
    let text = Baseline::from_report(&r).to_toml().unwrap();
    let baseline = Baseline::parse(&text).unwrap();
    let ids: Vec<_> = baseline.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        ["CODE-EXPIRED", "TOKEN-ACTOR-MISMATCH", "TOKEN-NO-STORE"]
    );
    assert_eq!(evaluate(&r, &baseline, TODAY).exit_code(), 0);
    assert!(text.starts_with("# obo-conformance expectations"));
}

#[test]
fn updating_keeps_what_people_wrote_for_entries_that_still_hold() {
    let previous = Baseline::parse(KNOWN_FAILURE).unwrap();
    let updated = Baseline::updated(&faulty_run(), Some(&previous));
    assert_eq!(updated, previous);
    let updated = Baseline::updated(&fixed_run(), Some(&previous));
    assert!(updated.entries.is_empty(), "a fixed case leaves the file");
}

/// The checked-in example run (reference server with the skip-actor-binding fault) and its
/// expectations file: green as recorded, red once the failures are fixed without updating it.
#[test]
fn the_example_run_and_its_expectations_file_gate_ci() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/example");
    let mut report = read_report(&root.join("reference-skip-actor-binding/report.json")).unwrap();
    let baseline = Baseline::load(&root.join("expectations.toml")).unwrap();
    let eval = evaluate(&report, &baseline, TODAY);
    assert_eq!(eval.exit_code(), 0, "{}", eval.render_text());
    assert_eq!(eval.expected.len(), 3);
    for case in &mut report.cases {
        if case.verdict == Verdict::Fail {
            case.verdict = Verdict::Pass;
        }
    }
    let eval = evaluate(&report, &baseline, TODAY);
    assert_eq!(eval.exit_code(), 1);
    assert_eq!(eval.stale.len(), 3);
}

/// Under an expectations file a known failure is *expected* in every artefact: the Markdown and
/// HTML status say "passed with 1 expected failure", JUnit counts it as skipped with its reason,
/// SARIF lowers it to a suppressed note, report.json records it per case. A fixed target makes
/// the entry stale in every artefact.
#[test]
fn every_artefact_shows_known_failures_as_expected_and_stale_entries_as_stale() {
    let baseline = Baseline::parse(KNOWN_FAILURE).unwrap();
    let mut r = faulty_run();
    let eval = baseline::judge_report(&mut r, &baseline, TODAY, "ci/expectations.toml");
    assert_eq!(eval.exit_code(), 0);
    let status = run_status(&r);
    assert_eq!(status.phrase(), "passed with 1 expected failure");
    let j = r.expectations.as_ref().unwrap();
    assert_eq!(
        j.cases["TOKEN-ACTOR-MISMATCH"].status,
        ExpectationStatus::Expected
    );
    assert_eq!(
        j.cases["TOKEN-ACTOR-MISMATCH"].reason.as_deref(),
        Some("actor binding not enforced yet")
    );

    let md = render_markdown(&r);
    assert!(md.contains("✅ passed with 1 expected failure"), "{md}");
    assert!(!md.contains("### Failures (MUST)"), "{md}");
    assert!(md.contains("Expected failures (known, listed in `ci/expectations.toml`): 1"));
    assert!(md.contains("actor binding not enforced yet"), "{md}");

    let html = render_html(&r).unwrap();
    assert!(html.contains("class=\"status-pass\""), "green header");
    assert!(html.contains("Passed with 1 expected failure"));
    assert!(html.contains("data-verdict=\"expected\""));
    assert!(!html.contains("class=\"case v-fail\""));

    let junit = render_junit(&r);
    assert!(junit.contains("<testsuites name=\"obo-conformance\" tests=\"3\" failures=\"0\""));
    assert!(!junit.contains("<failure"), "{junit}");
    assert!(
        junit.contains("<skipped message=\"expected fail (known, entry reason: actor binding not enforced yet)"),
        "{junit}"
    );

    let sarif: serde_json::Value = serde_json::from_str(&render_sarif(&r).unwrap()).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["level"], "note");
    assert_eq!(result["suppressions"][0]["kind"], "external");
    assert!(result["properties"].get("security-severity").is_none());

    let json: serde_json::Value = serde_json::from_str(&render_json(&r).unwrap()).unwrap();
    assert_eq!(
        json["expectations"]["cases"]["TOKEN-ACTOR-MISMATCH"]["status"],
        "expected"
    );

    // Fixed without updating the file: the entry is stale everywhere, the status red.
    let mut r = fixed_run();
    let eval = baseline::judge_report(&mut r, &baseline, TODAY, "ci/expectations.toml");
    assert_eq!(eval.exit_code(), 1);
    assert_eq!(run_status(&r).phrase(), "failed: 1 stale expectation");
    let md = render_markdown(&r);
    assert!(md.contains("❌ failed: 1 stale expectation"), "{md}");
    assert!(
        md.contains("**TOKEN-ACTOR-MISMATCH**: now passes; remove the entry"),
        "{md}"
    );
    assert!(render_html(&r).unwrap().contains("Stale expectations"));
    let junit = render_junit(&r);
    assert!(junit.contains("name=\"obo.expectations\""), "{junit}");
    assert!(junit.contains("type=\"stale-expectation\""), "{junit}");
    assert!(junit.contains("<testsuites name=\"obo-conformance\" tests=\"4\" failures=\"1\""));
    let json: serde_json::Value = serde_json::from_str(&render_json(&r).unwrap()).unwrap();
    assert_eq!(json["expectations"]["stale"][0]["problem"], "now-passes");
    assert_eq!(
        json["expectations"]["cases"]["TOKEN-ACTOR-MISMATCH"]["status"],
        "now-passes"
    );
}

/// The replay line names the target as given (a path stays a path), every fault and option,
/// the seed, strictness and the case; report.json carries it as argv.
#[test]
fn the_replay_line_carries_the_whole_invocation() {
    let mut r = faulty_run();
    r.strict = true;
    r.invocation = Some(Invocation {
        target: "profiles/acme spa.toml".into(),
        builtin: false,
        faults: vec![],
        revision: None,
        latency_ms: 0,
        timeout_secs: Some(5),
        allow_cross_origin: true,
        cases_dir: Some("my-cases".into()),
    });
    assert_eq!(
        replay_command(&r, "TOKEN-ACTOR-MISMATCH"),
        "obo-conformance run --target 'profiles/acme spa.toml' --timeout 5 --cases-dir my-cases \
         --seed 42 --cases TOKEN-ACTOR-MISMATCH --allow-cross-origin --strict"
    );
    r.invocation = Some(Invocation {
        target: "reference".into(),
        builtin: true,
        faults: vec!["skip-actor-binding".into(), "no-pkce".into()],
        revision: Some("01".into()),
        ..Invocation::default()
    });
    r.strict = false;
    fill_replay(&mut r);
    assert_eq!(r.replay.len(), 1, "only the failed case: {:?}", r.replay);
    assert_eq!(
        r.replay["TOKEN-ACTOR-MISMATCH"].join(" "),
        "obo-conformance run --target reference --fault skip-actor-binding --fault no-pkce \
         --revision 01 --seed 42 --cases TOKEN-ACTOR-MISMATCH"
    );
    let md = render_markdown(&r);
    assert!(
        md.contains("--fault skip-actor-binding --fault no-pkce"),
        "{md}"
    );
    assert!(render_html(&r)
        .unwrap()
        .contains("--fault skip-actor-binding --fault no-pkce"));
}
