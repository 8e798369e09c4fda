//! junit.xml: one `<testsuite>` per case folder (the draft section), one `<testcase>` per case. fail -> `<failure>`, error -> `<error>`, skip -> `<skipped>`;
//! warn stays a passing testcase (a SHOULD miss must not turn CI red) with the message in
//! `<system-out>`.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::escape::{xml, xml_text};
use crate::model::{CaseResult, Report, Summary, Verdict};
use crate::{case_folder, requirement_group, verdict_name};

pub fn render(report: &Report) -> String {
    let mut suites: BTreeMap<String, Vec<&CaseResult>> = BTreeMap::new();
    for case in &report.cases {
        suites.entry(classname(case)).or_default().push(case);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total = Summary::of(&report.cases);
    let _ = writeln!(
        out,
        "<testsuites name=\"obo-conformance\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        report.cases.len(),
        total.failed,
        total.errors,
        total.skipped,
        seconds(report.duration_ms)
    );
    for (name, cases) in &suites {
        suite(&mut out, report, name, cases);
    }
    out.push_str("</testsuites>\n");
    out
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
    let mut s = Summary::default();
    cases.iter().for_each(|c| s.count(c.verdict));
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
        testcase(out, name, case);
    }
    out.push_str("  </testsuite>\n");
}

fn testcase(out: &mut String, classname: &str, case: &CaseResult) {
    let _ = writeln!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">",
        xml(classname),
        xml(&format!("{}: {}", case.id, case.title)),
        seconds(case.duration_ms)
    );
    let message = xml(&case.message);
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
        xml_text(&system_out(case))
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

fn system_out(case: &CaseResult) -> String {
    format!(
        "{}: {}\nrequirements: {}\n",
        verdict_name(case.verdict),
        case.message,
        case.requirements.join(", ")
    )
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}
