//! The ambiguity report over crafted reports: implementations that agree, disagree, and all
//! deviate from the recommended reading.

mod common;

use obo_report::interop::{build, render_html, render_md};
use obo_report::{AmbiguityInfo, Reading, Report, Verdict};

fn reading(amb: &str, chosen: Option<usize>) -> Reading {
    let alternatives = vec!["invalid_grant".to_string(), "invalid_request".to_string()];
    Reading {
        ambiguity: amb.into(),
        step: 1,
        chosen,
        outcome: chosen.map_or("none accepted (status 500)".into(), |k| {
            alternatives[k].clone()
        }),
        alternatives,
    }
}

/// A run of `name` whose cases AGREE, SPLIT and DEVIATE chose the given alternatives.
fn run(name: &str, revision: &str, agree: usize, split: usize, deviate: usize) -> Report {
    let mut r = common::report(vec![
        common::case("AGREE", Verdict::Pass),
        common::case("SPLIT", Verdict::Pass),
        common::case("DEVIATE", Verdict::Pass),
    ]);
    r.target.name = name.into();
    r.target.revision = revision.into();
    r.cases[0].readings = vec![reading("AMB-13", Some(agree))];
    r.cases[1].readings = vec![reading("AMB-14", Some(split))];
    r.cases[2].readings = vec![reading("AMB-26", Some(deviate))];
    for id in ["AMB-13", "AMB-14", "AMB-26"] {
        r.ambiguities.insert(
            id.into(),
            AmbiguityInfo {
                question: format!("question of {id}"),
                recommended: format!("recommendation of {id}"),
            },
        );
    }
    r
}

#[test]
fn agree_disagree_and_all_deviate_are_flagged() {
    let reports = [run("alpha", "02", 0, 0, 1), run("beta", "01", 0, 1, 1)];
    let i = build(&reports);
    assert_eq!(i.columns, ["alpha -02", "beta -01"]);
    let ids: Vec<&str> = i.ambiguities.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["AMB-13", "AMB-14", "AMB-26"]);
    let [agree, split, deviate] = &i.ambiguities[..] else {
        panic!("three rows expected")
    };
    assert!(!agree.disagree() && !agree.all_deviate());
    assert!(split.disagree() && !split.all_deviate());
    assert!(!deviate.disagree() && deviate.all_deviate());

    let md = render_md(&i);
    assert!(md.contains("## AMB-14"), "{md}");
    assert!(md.contains("Question: question of AMB-14"), "{md}");
    assert!(
        md.contains("| SPLIT | invalid_grant (recommended) | invalid_request |"),
        "{md}"
    );
    assert!(md.contains("implementations disagree"), "{md}");
    assert!(md.contains("every implementation deviates"), "{md}");
    assert!(md.contains("3 ambiguities exercised, 2 flagged."), "{md}");
    assert!(!md.contains('<'), "the Markdown stays plain: {md}");
    let html = render_html(&i);
    assert!(html.contains("<h2 id=\"AMB-26\">AMB-26</h2>"), "{html}");
}

#[test]
fn a_run_without_the_case_is_no_divergence_and_labels_are_escaped() {
    let mut b = run("<b>beta</b>", "02", 0, 0, 0);
    b.cases.retain(|c| c.id != "SPLIT");
    let i = build(&[run("alpha", "02", 0, 1, 0), b]);
    let split = &i.ambiguities[1];
    assert!(!split.disagree() && split.all_deviate());
    assert!(render_md(&i).contains("| SPLIT | invalid_request | - |"));
    assert!(!render_html(&i).contains("<b>beta"));
}

#[test]
fn requirement_matrix_shows_the_worst_verdict_per_run() {
    let mut a = run("alpha", "02", 0, 0, 0);
    a.cases[1].verdict = Verdict::Fail;
    let i = build(&[a, run("beta", "00", 0, 0, 0)]);
    let md = render_md(&i);
    let row = i
        .requirements
        .iter()
        .find(|(_, cells)| cells[0] == Some(Verdict::Fail))
        .expect("a failed requirement");
    assert_eq!(row.1[1], Some(Verdict::Pass));
    assert!(md.contains(&format!("| {} | fail | pass |", row.0)), "{md}");
}
