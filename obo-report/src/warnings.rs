//! Warnings that make a pass meaningless, shown before anything else in HTML and Markdown:
//! a green run that tested nothing must not look like a conformant target.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Report, Verdict};
use crate::{requirement_group, verdict_name};

/// One reason to distrust the run's passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Stable kind: `no-cases`, `all-skipped`, `all-401`, `no-response`, `harness-errors`,
    /// `tag-not-applicable`, `requirement-group-not-applicable`, `pass-without-checks`.
    pub kind: &'static str,
    pub message: String,
}

/// Every warning for `report`, most damning first.
pub fn vacuous(report: &Report) -> Vec<Warning> {
    let mut out = Vec::new();
    let cases = &report.cases;
    if cases.is_empty() {
        out.push(warn(
            "no-cases",
            "The run contains no case at all: nothing was tested.".into(),
        ));
        return out;
    }
    let applicable = cases.iter().filter(|c| c.verdict != Verdict::Skip).count();
    if applicable == 0 {
        out.push(warn(
            "all-skipped",
            format!(
                "All {} cases were skipped: nothing applied to this target ({}).",
                cases.len(),
                skip_reasons(report.cases.iter().map(|c| (c.verdict, c.message.as_str())))
            ),
        ));
        return out;
    }
    out.extend(status_warnings(report));
    let errors = cases.iter().filter(|c| c.verdict == Verdict::Error).count();
    if errors > 0 {
        out.push(warn(
            "harness-errors",
            format!(
                "{errors} of {} cases ended in a harness error: the suite could not drive the \
                 target that far, so those requirements are untested (not failed).",
                cases.len()
            ),
        ));
    }
    out.extend(group_warnings(report));
    let hollow: Vec<&str> = cases
        .iter()
        .filter(|c| c.verdict == Verdict::Pass && c.checks.is_empty())
        .map(|c| c.id.as_str())
        .collect();
    if !hollow.is_empty() {
        out.push(warn(
            "pass-without-checks",
            format!(
                "{} case(s) passed without a single recorded check: {}.",
                hollow.len(),
                hollow.join(", ")
            ),
        ));
    }
    out
}

fn warn(kind: &'static str, message: String) -> Warning {
    Warning { kind, message }
}

/// Every response a 401 means the suite's credentials were refused; no response means the target
/// was never reached. Either way the passes of negative cases are empty.
fn status_warnings(report: &Report) -> Vec<Warning> {
    let exchanges: Vec<_> = report.cases.iter().flat_map(|c| &c.transcript).collect();
    if exchanges.is_empty() {
        return Vec::new();
    }
    let statuses: Vec<u16> = exchanges
        .iter()
        .filter_map(|e| e.response.as_ref().map(|r| r.status))
        .collect();
    if statuses.is_empty() {
        return vec![warn(
            "no-response",
            format!(
                "None of the {} requests got a response (connection errors or timeouts): the \
                 target was never reached.",
                exchanges.len()
            ),
        )];
    }
    if statuses.iter().all(|s| *s == 401) {
        return vec![warn(
            "all-401",
            format!(
                "Every one of the {} responses was 401 Unauthorized: the target probably refused \
                 the suite's client or actor credentials, so cases that expect a refusal passed \
                 for the wrong reason. Check the profile's secrets.",
                statuses.len()
            ),
        )];
    }
    Vec::new()
}

/// A tag or requirement group whose every case was skipped is a hole in the run's coverage.
fn group_warnings(report: &Report) -> Vec<Warning> {
    let mut by_tag: BTreeMap<&str, Vec<(Verdict, &str)>> = BTreeMap::new();
    let mut by_group: BTreeMap<&str, Vec<(Verdict, &str)>> = BTreeMap::new();
    for case in &report.cases {
        let entry = (case.verdict, case.message.as_str());
        for tag in &case.tags {
            by_tag.entry(tag).or_default().push(entry);
        }
        let mut groups: Vec<&str> = case
            .requirements
            .iter()
            .map(|r| requirement_group(r))
            .collect();
        groups.sort_unstable();
        groups.dedup();
        for group in groups {
            by_group.entry(group).or_default().push(entry);
        }
    }
    let mut out = Vec::new();
    for (kind, label, map) in [
        ("tag-not-applicable", "tag", &by_tag),
        (
            "requirement-group-not-applicable",
            "requirement group",
            &by_group,
        ),
    ] {
        for (name, results) in map {
            if results.iter().all(|(v, _)| *v == Verdict::Skip) {
                out.push(warn(
                    kind,
                    format!(
                        "Zero applicable cases for {label} {name}: {} skipped ({}).",
                        if results.len() == 1 {
                            "its only case was".to_string()
                        } else {
                            format!("all {} cases were", results.len())
                        },
                        skip_reasons(results.iter().copied())
                    ),
                ));
            }
        }
    }
    out
}

/// Up to three distinct skip reasons, for a warning's parenthesis.
fn skip_reasons<'a>(results: impl Iterator<Item = (Verdict, &'a str)>) -> String {
    let mut reasons: Vec<&str> = Vec::new();
    let mut more = 0;
    for (verdict, message) in results {
        let message = if message.is_empty() {
            verdict_name(verdict)
        } else {
            message
        };
        if reasons.contains(&message) {
            continue;
        }
        if reasons.len() < 3 {
            reasons.push(message);
        } else {
            more += 1;
        }
    }
    let mut text = reasons.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} other reason(s)"));
    }
    text
}
