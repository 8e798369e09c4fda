//! junit.xml: one `<testsuite>` per case folder (the draft section), one `<testcase>` per case. fail -> `<failure>`, error -> `<error>`, skip -> `<skipped>`;
//! warn stays a passing testcase (a SHOULD miss must not turn CI red) with the message in
//! `<system-out>`.
//!
//! Under an expectations file a known fail or error is `<skipped message="expected fail: …">`:
//! GitLab's test report, GitHub test-report actions (dorny/test-reporter,
//! mikepenz/action-junit-report) and Jenkins count a skipped testcase as not failed and still
//! show it with its message, where a property on a passing testcase is shown by none of them.
//! Stale entries are failing testcases of their own suite, `obo.expectations`, since they fail
//! the gate while the case itself passed.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::baseline::Stale;
use crate::escape::{xml, xml_text};
use crate::model::{CaseResult, Report, Summary, Verdict};
use crate::{case_folder, replay_command, requirement_group, verdict_name};

pub fn render(report: &Report) -> String {
    let mut suites: BTreeMap<String, Vec<&CaseResult>> = BTreeMap::new();
    for case in &report.cases {
        suites.entry(classname(case)).or_default().push(case);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let cases: Vec<&CaseResult> = report.cases.iter().collect();
    let total = counts(report, &cases);
    let stale = report
        .expectations
        .as_ref()
        .map_or(&[][..], |j| j.stale.as_slice());
    let _ = writeln!(
        out,
        "<testsuites name=\"obo-conformance\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        report.cases.len() + stale.len(),
        total.failed as usize + stale.len(),
        total.errors,
        total.skipped,
        seconds(report.duration_ms)
    );
    for (name, cases) in &suites {
        suite(&mut out, report, name, cases);
    }
    if !stale.is_empty() {
        stale_suite(&mut out, report, stale);
    }
    out.push_str("</testsuites>\n");
    out
}

/// The verdicts as JUnit counts them: a known fail or error is skipped.
fn counts(report: &Report, cases: &[&CaseResult]) -> Summary {
    let mut s = Summary::default();
    for c in cases {
        s.count(if report.is_known_failure(c) {
            Verdict::Skip
        } else {
            c.verdict
        });
    }
    s
}

/// One failing testcase per stale entry of the expectations file.
fn stale_suite(out: &mut String, report: &Report, stale: &[Stale]) {
    let file = report.expectations.as_ref().map_or("", |j| j.file.as_str());
    let _ = writeln!(
        out,
        "  <testsuite name=\"obo.expectations\" tests=\"{n}\" failures=\"{n}\" errors=\"0\" skipped=\"0\" time=\"0.000\" timestamp=\"{}\">",
        xml(report.started_at.trim_end_matches('Z')),
        n = stale.len()
    );
    for s in stale {
        let message = format!("stale expectation in {file}: {}", s.why());
        let _ = writeln!(
            out,
            "    <testcase classname=\"obo.expectations\" name=\"{}: stale entry\" time=\"0.000\">\n      <failure message=\"{}\" type=\"stale-expectation\">entry reason: {}</failure>\n    </testcase>",
            xml(&s.id),
            xml(&message),
            xml_text(&s.reason)
        );
    }
    out.push_str("  </testsuite>\n");
}

/// `obo.<folder>` after the case's folder under cases/ (`obo.token`, `obo.actor-token`); for an
/// ID of no known folder, the group of its first requirement (`OBO-RS-9` -> `obo.rs`).
fn classname(case: &CaseResult) -> String {
    if let Some(folder) = case_folder(&case.id) {
        return format!("obo.{folder}");
    }
    let group = case
        .requirements
        .first()
        .map(|r| requirement_group(r))
        .unwrap_or("OBO-UNCATEGORISED");
    let group = group.strip_prefix("OBO-").unwrap_or(group);
    format!("obo.{}", group.to_ascii_lowercase())
}

fn suite(out: &mut String, report: &Report, name: &str, cases: &[&CaseResult]) {
    let s = counts(report, cases);
    // Saturating: durations come from the run and a sum must not panic.
    let ms = cases
        .iter()
        .fold(0u64, |sum, c| sum.saturating_add(c.duration_ms));
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">",
        xml(name),
        cases.len(),
        s.failed,
        s.errors,
        s.skipped,
        seconds(ms),
        xml(report.started_at.trim_end_matches('Z'))
    );
    let _ = writeln!(out, "    <properties>");
    for (key, value) in [
        ("target", report.target.name.as_str()),
        ("issuer", report.target.issuer.as_str()),
        ("revision", report.target.revision.as_str()),
        ("suite_version", report.suite_version.as_str()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{key}\" value=\"{}\"/>",
            xml(value)
        );
    }
    let _ = writeln!(
        out,
        "      <property name=\"seed\" value=\"{}\"/>\n    </properties>",
        report.seed
    );
    for case in cases {
        testcase(out, report, name, case);
    }
    out.push_str("  </testsuite>\n");
}

fn testcase(out: &mut String, report: &Report, classname: &str, case: &CaseResult) {
    let _ = writeln!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">",
        xml(classname),
        xml(&format!("{}: {}", case.id, case.title)),
        seconds(case.duration_ms)
    );
    let message = xml(&case.message);
    let known = report
        .expectations
        .as_ref()
        .filter(|_| report.is_known_failure(case))
        .and_then(|j| j.cases.get(&case.id));
    if let Some(entry) = known {
        let _ = writeln!(
            out,
            "      <skipped message=\"{}\"/>",
            xml(&format!(
                "expected {} (known, entry reason: {}): {}",
                verdict_name(case.verdict),
                entry.reason.as_deref().unwrap_or(""),
                case.message
            ))
        );
        let _ = writeln!(
            out,
            "      <system-out>{}</system-out>\n    </testcase>",
            xml_text(&system_out(report, case))
        );
        return;
    }
    match case.verdict {
        Verdict::Fail => {
            let _ = writeln!(
                out,
                "      <failure message=\"{message}\" type=\"{}\">{}</failure>",
                level_name(case),
                xml_text(&details(case))
            );
        }
        Verdict::Error => {
            let _ = writeln!(
                out,
                "      <error message=\"{message}\" type=\"harness\">{}</error>",
                xml_text(&details(case))
            );
        }
        Verdict::Skip => {
            let _ = writeln!(out, "      <skipped message=\"{message}\"/>");
        }
        Verdict::Pass | Verdict::Warn => {}
    }
    let _ = writeln!(
        out,
        "      <system-out>{}</system-out>\n    </testcase>",
        xml_text(&system_out(report, case))
    );
}

fn level_name(case: &CaseResult) -> &'static str {
    match case.level {
        crate::model::Level::Must => "MUST",
        crate::model::Level::Should => "SHOULD",
        crate::model::Level::May => "MAY",
    }
}

/// The failed checks, expected vs actual, one per line.
fn details(case: &CaseResult) -> String {
    let mut text = String::new();
    for check in case.checks.iter().filter(|c| !c.ok) {
        let _ = writeln!(
            text,
            "step {} {}: expected {}, got {} [{}]",
            check.step,
            check.name,
            check.expected,
            check.actual,
            check.requirements.join(", ")
        );
    }
    if text.is_empty() {
        text = case.message.clone();
    }
    text
}

fn system_out(report: &Report, case: &CaseResult) -> String {
    let mut text = format!(
        "{}: {}\nrequirements: {}\n",
        verdict_name(case.verdict),
        case.message,
        case.requirements.join(", ")
    );
    if !matches!(case.verdict, Verdict::Pass | Verdict::Skip) {
        let _ = writeln!(text, "replay: {}", replay_command(report, &case.id));
    }
    text
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}
