//! Vacuous-pass warnings: a green run that tested nothing must say so, first.

mod common;

use obo_report::warnings::vacuous;
use obo_report::*;

fn kinds(r: &Report) -> Vec<&'static str> {
    vacuous(r).into_iter().map(|w| w.kind).collect()
}

fn with_status(mut case: CaseResult, statuses: &[Option<u16>]) -> CaseResult {
    let template = &common::synthetic().cases[0].transcript[1];
    case.transcript = statuses
        .iter()
        .map(|s| {
            let mut e = template.clone();
            match s {
                Some(code) => {
                    if let Some(r) = &mut e.response {
                        r.status = *code;
                    }
                }
                None => {
                    e.response = None;
                    e.error = Some("connection refused".into());
                }
            }
            e
        })
        .collect();
    case.checks = common::synthetic().cases[1].checks.clone();
    case
}

#[test]
fn a_healthy_run_has_no_warning() {
    let r = common::report(vec![with_status(
        common::case("A", Verdict::Pass),
        &[Some(200), Some(400)],
    )]);
    assert_eq!(kinds(&r), Vec::<&str>::new());
}

#[test]
fn every_response_401_means_the_credentials_were_refused() {
    let r = common::report(vec![
        with_status(common::case("A", Verdict::Pass), &[Some(401), Some(401)]),
        with_status(common::case("B", Verdict::Pass), &[Some(401)]),
    ]);
    assert_eq!(kinds(&r), ["all-401"]);
    assert!(vacuous(&r)[0]
        .message
        .contains("Every one of the 3 responses was 401"));
    // One other status is enough to lift it.
    let r = common::report(vec![with_status(
        common::case("A", Verdict::Pass),
        &[Some(401), Some(400)],
    )]);
    assert!(kinds(&r).is_empty());
}

#[test]
fn no_response_at_all_means_the_target_was_never_reached() {
    let r = common::report(vec![with_status(
        common::case("A", Verdict::Pass),
        &[None, None],
    )]);
    assert_eq!(kinds(&r), ["no-response"]);
}

#[test]
fn empty_and_all_skipped_runs_are_called_out_alone() {
    assert_eq!(kinds(&common::report(vec![])), ["no-cases"]);
    let mut a = common::case("A", Verdict::Skip);
    a.message = "needs capability control_api".into();
    let r = common::report(vec![a, common::case("B", Verdict::Skip)]);
    assert_eq!(kinds(&r), ["all-skipped"]);
    let msg = &vacuous(&r)[0].message;
    assert!(
        msg.contains("All 2 cases were skipped") && msg.contains("needs capability control_api")
    );
}

#[test]
fn a_tag_or_requirement_group_without_applicable_case_is_a_hole() {
    let mut rs = common::case("RS-1", Verdict::Skip);
    rs.tags = vec!["rs".into()];
    rs.requirements = vec!["OBO-RS-9".into()];
    rs.message = "needs capability resource_server".into();
    let ok = with_status(common::case("A", Verdict::Pass), &[Some(200)]);
    let r = common::report(vec![ok, rs]);
    assert_eq!(
        kinds(&r),
        ["tag-not-applicable", "requirement-group-not-applicable"]
    );
    assert!(vacuous(&r)[1].message.contains("requirement group OBO-RS"));
}

#[test]
fn harness_errors_and_hollow_passes_are_listed() {
    let hollow = common::case("HOLLOW", Verdict::Pass);
    let err = with_status(common::case("E", Verdict::Error), &[Some(500)]);
    let r = common::report(vec![hollow, err]);
    assert_eq!(kinds(&r), ["harness-errors", "pass-without-checks"]);
    assert!(vacuous(&r)[1].message.contains("HOLLOW"));
}
