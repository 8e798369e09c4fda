//! diff between two runs (regressions first) and the interop matrix.

mod common;

use obo_report::diff::diff;
use obo_report::matrix;
use obo_report::*;

fn run(verdicts: &[(&str, Verdict)]) -> Report {
    common::report(
        verdicts
            .iter()
            .map(|(id, v)| common::case(id, *v))
            .collect(),
    )
}

#[test]
fn regressions_improvements_and_presence_are_told_apart() {
    use Verdict::*;
    let a = run(&[
        ("A", Pass),
        ("B", Fail),
        ("C", Pass),
        ("D", Skip),
        ("E", Warn),
        ("GONE", Pass),
    ]);
    let b = run(&[
        ("A", Fail),
        ("B", Pass),
        ("C", Error),
        ("D", Warn),
        ("E", Warn),
        ("NEW", Fail),
    ]);
    let d = diff(&a, &b);
    let ids = |v: &[diff::Change]| v.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&d.regressions), ["A", "C", "D"]);
    assert_eq!(ids(&d.improvements), ["B"]);
    assert!(d.other.is_empty());
    assert_eq!(d.added[0].id, "NEW");
    assert_eq!(d.removed[0].id, "GONE");
    assert!(d.has_regression());
    assert_eq!(d.exit_code(), 1);
    let text = d.render_text();
    assert!(text.find("REGRESSION A").unwrap() < text.find("improved B").unwrap());
    let md = d.render_md();
    assert!(md.find("Regressions: 3").unwrap() < md.find("Improvements: 1").unwrap());
}

#[test]
fn a_new_failure_message_is_a_change_but_no_regression() {
    let a = run(&[("A", Verdict::Fail)]);
    let mut b = a.clone();
    b.cases[0].message = "fails for another reason".into();
    let d = diff(&a, &b);
    assert_eq!(d.other.len(), 1);
    assert_eq!(d.exit_code(), 0);
    assert!(diff(&a, &a).is_empty());
    assert!(diff(&a, &a).render_md().contains("No change"));
}

#[test]
fn comparing_different_targets_says_so() {
    let a = run(&[("A", Verdict::Pass)]);
    let mut b = a.clone();
    b.target.name = "vendor".into();
    b.target.revision = "00".into();
    let notes = diff(&a, &b).notes;
    assert!(notes.iter().any(|n| n.contains("different targets")));
    assert!(notes.iter().any(|n| n.contains("-02 vs -00")));
}

#[test]
fn matrix_has_one_column_per_target_and_revision() {
    use Verdict::*;
    let reference = run(&[("A", Pass), ("B", Pass)]);
    let mut vendor = run(&[("A", Fail), ("C", Skip)]);
    vendor.target.name = "vendor<x>".into();
    let mut old = reference.clone();
    old.target.revision = "00".into();
    let mut faulty = reference.clone();
    faulty.target.profile_digest = "0123456789abcdef".into();
    let reports = [reference.clone(), vendor, old, reference, faulty];
    let md = matrix::render_md(&reports);
    let header = "| case | reference -02 @9f2c1e0d (1) | vendor&lt;x&gt; -02 | reference -00 \
                  | reference -02 @9f2c1e0d (2) | reference -02 @01234567 |";
    assert!(md.contains(header), "{md}");
    assert!(md.contains("| ⚡ A | ✅ pass | ❌ fail | ✅ pass | ✅ pass | ✅ pass |"));
    assert!(md.contains("| C | — | ➖ skip | — | — | — |"));
    assert!(md.contains("1 where applicable results disagree"));
    let html = matrix::render_html(&reports).unwrap();
    assert!(html.contains("vendor&lt;x&gt; -02"));
    assert!(html.contains("<td class=\"cell v-fail\" title=\"A message\">fail</td>"));
    assert_eq!(html.matches("<tr class=\"divergent\">").count(), 1);
    for needle in ["<link", "src=", "@import", "url("] {
        assert!(!html.contains(needle));
    }
}
