use super::*;

fn case(id: &str, requirements: &[&str]) -> Case {
    let text = format!(
        "id = \"{id}\"\ntitle = \"t\"\ndescription = \"d\"\nrequirements = {requirements:?}\nlevel = \"MUST\"\n[[step]]\ndo = \"authorize\"\n"
    );
    toml::from_str(&text).expect("a minimal case")
}

fn result(id: &str, verdict: Verdict) -> CaseResult {
    CaseResult {
        id: id.into(),
        title: "t".into(),
        verdict,
        requirements: vec![],
        scenarios: vec![],
        level: obo_report::Level::Must,
        tags: vec![],
        message: format!("{verdict:?}"),
        checks: vec![],
        duration_ms: 0,
        transcript: vec![],
        readings: vec![],
    }
}

fn passed(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

// skip-actor-binding breaks OBO-TOKEN-12, OBO-SEC-7, OBO-SEC-8.
const FAULT: Fault = Fault::SkipActorBinding;

#[test]
fn a_failing_case_citing_a_broken_requirement_catches_the_fault() {
    let cases = [case("REL", &["OBO-SEC-7"]), case("OTHER", &["OBO-AT-3"])];
    let results = vec![result("REL", Verdict::Fail), result("OTHER", Verdict::Warn)];
    let row = fault_row(
        FAULT,
        Ok(results),
        &cases,
        &passed(&["REL", "OTHER"]),
        Duration::ZERO,
    );
    assert_eq!(row.status, Status::Caught);
    assert_eq!(row.relevant_ids(), ["REL"]);
    assert_eq!(row.unrelated.len(), 1);
}

#[test]
fn a_fault_noticed_only_by_unrelated_cases_is_not_caught() {
    let cases = [case("REL", &["OBO-TOKEN-12"]), case("OTHER", &["OBO-AT-3"])];
    let results = vec![result("REL", Verdict::Pass), result("OTHER", Verdict::Fail)];
    let row = fault_row(
        FAULT,
        Ok(results),
        &cases,
        &passed(&["REL", "OTHER"]),
        Duration::ZERO,
    );
    assert_eq!(row.status, Status::OnlyUnrelated);
}

#[test]
fn errors_skips_and_cases_that_did_not_pass_clean_are_not_kills() {
    let cases = [
        case("A", &["OBO-TOKEN-12"]),
        case("B", &["OBO-TOKEN-12"]),
        case("C", &["OBO-SEC-8"]),
    ];
    // A errors, B was already failing clean, C skips.
    let results = vec![
        result("A", Verdict::Error),
        result("B", Verdict::Fail),
        result("C", Verdict::Skip),
    ];
    let row = fault_row(
        FAULT,
        Ok(results),
        &cases,
        &passed(&["A", "C"]),
        Duration::ZERO,
    );
    assert_eq!(row.status, Status::Missed);
    assert_eq!(row.errors.len(), 1);
    let not_run = fault_row(
        FAULT,
        Err("no server".into()),
        &cases,
        &passed(&["A"]),
        Duration::ZERO,
    );
    assert_eq!(not_run.status, Status::NotRun);
}

#[test]
fn the_selfcheck_fails_on_a_clean_problem_or_an_uncaught_fault_and_names_it() {
    let cases = [case("REL", &["OBO-SEC-7"])];
    let row = fault_row(
        FAULT,
        Ok(vec![result("REL", Verdict::Pass)]),
        &cases,
        &passed(&["REL"]),
        Duration::ZERO,
    );
    let mut s = Selfcheck {
        seed: 1,
        cases: 1,
        clean: CleanRun {
            passed: 1,
            ..Default::default()
        },
        faults: vec![row],
        unkilled_adversarial: vec![],
        never_failed_adversarial: vec![],
        single_killer: BTreeMap::new(),
        every_fault_checked: false,
        mutation: None,
        duration_ms: 0,
    };
    assert_eq!(s.failures().len(), 1);
    assert!(s.failures()[0].contains("skip-actor-binding"));
    assert!(render_text(&s).contains("MISSED    skip-actor-binding"));
    s.faults[0].status = Status::Caught;
    assert!(s.ok());
    s.clean.problems.push(CaseNote {
        id: "X".into(),
        verdict: Verdict::Warn,
        message: "m".into(),
    });
    assert!(!s.ok());
    assert!(render_markdown(&s).contains("**warn** X"));
}
