//! report.html: one self-contained page (inline CSS and JS, no external URL) rendered with
//! minijinja autoescape from a view built here, so the template only lays things out.

use std::collections::BTreeSet;

use minijinja::Environment;
use serde::Serialize;

use crate::model::{CaseExpectation, CaseResult, Check, Exchange, Report, Verdict};
use crate::warnings::{self, Warning};
use crate::{
    curl, replay_command, requirement_group, run_status, severity_rank, verdict_name, ReportError,
    Status,
};

const TEMPLATE: &str = include_str!("../templates/report.html");
pub(crate) const STYLE: &str = include_str!("../templates/style.css");

#[derive(Serialize)]
struct View<'a> {
    report: &'a Report,
    style: &'static str,
    status: &'static str,
    status_text: String,
    /// Fails not known to the expectations file (all fails without one).
    unexpected_fails: usize,
    /// Fails and errors the expectations file lists (shown as `expected`, not red).
    expected: usize,
    stale: Vec<StaleView<'a>>,
    warnings: Vec<Warning>,
    tags: Vec<&'a str>,
    requirements: Vec<&'a str>,
    requirement_groups: Vec<&'a str>,
    cases: Vec<CaseView<'a>>,
}

#[derive(Serialize)]
struct StaleView<'a> {
    id: &'a str,
    why: String,
    reason: &'a str,
}

#[derive(Serialize)]
struct CaseView<'a> {
    case: &'a CaseResult,
    /// The verdict, or `expected` for a fail or error the expectations file lists.
    verdict: &'static str,
    expectation: Option<&'a CaseExpectation>,
    /// Open by default: every case that needs the reader's attention.
    open: bool,
    requirements: Vec<RequirementView<'a>>,
    failed_checks: Vec<&'a Check>,
    exchanges: Vec<ExchangeView<'a>>,
    replay: String,
    /// Space-separated, for the filter script.
    tag_list: String,
    requirement_list: String,
}

#[derive(Serialize)]
struct RequirementView<'a> {
    id: &'a str,
    section: Option<&'a str>,
    level: Option<&'a str>,
    text: Option<&'a str>,
}

#[derive(Serialize)]
struct ExchangeView<'a> {
    exchange: &'a Exchange,
    curl: String,
    /// A failed check belongs to this exchange's step.
    suspect: bool,
    open: bool,
    request_text: String,
    /// Status line, headers and body; the transport error when no response came.
    response_text: String,
    outcome: String,
}

pub fn render(report: &Report) -> Result<String, ReportError> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|source| ReportError::Template {
            what: "report.html",
            source,
        })?;
    let template = env
        .get_template("report.html")
        .map_err(|source| ReportError::Template {
            what: "report.html",
            source,
        })?;
    template
        .render(view(report))
        .map_err(|source| ReportError::Template {
            what: "report.html",
            source,
        })
}

fn view(report: &Report) -> View<'_> {
    let mut cases: Vec<&CaseResult> = report.cases.iter().collect();
    // Known failures sort below the unknown ones: what needs action first.
    cases.sort_by_key(|c| (severity_rank(c.verdict), report.is_known_failure(c)));
    let tags: BTreeSet<&str> = report
        .cases
        .iter()
        .flat_map(|c| c.tags.iter().map(String::as_str))
        .collect();
    let requirements: BTreeSet<&str> = report
        .cases
        .iter()
        .flat_map(|c| c.requirements.iter().map(String::as_str))
        .collect();
    let (status, status_text) = status(report);
    let expected = report
        .cases
        .iter()
        .filter(|c| report.is_known_failure(c))
        .count();
    let known_fails = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Fail && report.is_known_failure(c))
        .count();
    let stale = report
        .expectations
        .iter()
        .flat_map(|j| j.stale.iter())
        .map(|s| StaleView {
            id: &s.id,
            why: s.why(),
            reason: &s.reason,
        })
        .collect();
    View {
        report,
        style: STYLE,
        status,
        status_text,
        unexpected_fails: report.summary.failed as usize - known_fails,
        expected,
        stale,
        warnings: warnings::vacuous(report),
        tags: tags.into_iter().collect(),
        requirement_groups: requirements
            .iter()
            .map(|r| requirement_group(r))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        requirements: requirements.into_iter().collect(),
        cases: cases.into_iter().map(|c| case_view(report, c)).collect(),
    }
}

fn status(report: &Report) -> (&'static str, String) {
    let total = report.cases.len();
    let applied = total.saturating_sub(report.summary.skipped as usize);
    let run = run_status(report);
    let (class, text) = match (run.status, run.judged) {
        (Status::Fail, false) => ("fail", "The target failed MUST-level cases".to_string()),
        (Status::Error, _) => (
            "error",
            "Incomplete: part of the suite could not run".to_string(),
        ),
        (Status::Warn, false) => ("warn", "Passed, with SHOULD-level warnings".to_string()),
        (Status::Pass, false) => ("pass", "Passed every applicable case".to_string()),
        (Status::Fail, true) => ("fail", capitalise(&run.phrase())),
        (Status::Warn, true) => ("warn", capitalise(&run.phrase())),
        (Status::Pass, true) => ("pass", capitalise(&run.phrase())),
    };
    // The share that applied, so that a green bar over a mostly skipped run does not mislead.
    (
        class,
        format!("{text} ({applied} of {total} cases applied)"),
    )
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn case_view<'a>(report: &'a Report, case: &'a CaseResult) -> CaseView<'a> {
    let failed_checks: Vec<&Check> = case.checks.iter().filter(|c| !c.ok).collect();
    let mut exchanges: Vec<ExchangeView> = case
        .transcript
        .iter()
        .enumerate()
        .map(|(i, e)| {
            // A step may send set-up requests (an actor token, a mint) before the one its checks
            // judge: the step's last exchange is the judged one.
            let last_of_step = case
                .transcript
                .get(i + 1)
                .is_none_or(|next| next.step != e.step);
            let suspect = last_of_step && failed_checks.iter().any(|c| c.step == e.step);
            ExchangeView {
                exchange: e,
                curl: curl::command(e),
                suspect,
                open: suspect,
                request_text: request_text(e),
                response_text: response_text(e),
                outcome: outcome(e),
            }
        })
        .collect();
    // A harness error or a case-level failure without a step: the last exchange is the clue.
    // A known failure needs no attention until it changes.
    let known = report.is_known_failure(case);
    let needs_attention =
        !known && matches!(case.verdict, Verdict::Fail | Verdict::Error | Verdict::Warn);
    if needs_attention && !exchanges.iter().any(|x| x.open) {
        if let Some(last) = exchanges.last_mut() {
            last.open = true;
        }
    }
    let requirements = case
        .requirements
        .iter()
        .map(|id| {
            let info = report.requirements.get(id);
            RequirementView {
                id,
                section: info.map(|r| r.section.as_str()),
                level: info.map(|r| r.level.as_str()),
                text: info.map(|r| r.text.as_str()),
            }
        })
        .collect();
    CaseView {
        case,
        verdict: if known {
            "expected"
        } else {
            verdict_name(case.verdict)
        },
        expectation: report
            .expectations
            .as_ref()
            .and_then(|j| j.cases.get(&case.id)),
        open: needs_attention,
        requirements,
        failed_checks,
        exchanges,
        replay: replay_command(report, &case.id),
        tag_list: case.tags.join(" "),
        requirement_list: case.requirements.join(" "),
    }
}

fn request_text(e: &Exchange) -> String {
    let r = &e.request;
    let mut text = format!("{} {}\n", r.method, r.url);
    for (name, value) in &r.headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    if let Some(body) = r.body.as_deref().filter(|b| !b.is_empty()) {
        text.push('\n');
        text.push_str(&pretty_body(body));
    }
    text
}

fn response_text(e: &Exchange) -> String {
    let Some(r) = &e.response else {
        return format!(
            "(no response: {})",
            e.error.as_deref().unwrap_or("no reason recorded")
        );
    };
    let mut text = format!("HTTP {}\n", r.status);
    for (name, value) in &r.headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    if let Some(body) = r.body.as_deref().filter(|b| !b.is_empty()) {
        text.push('\n');
        text.push_str(&pretty_body(body));
    }
    if r.truncated {
        text.push_str("\n[body truncated by the harness]");
    }
    text
}

/// One line for the exchange's header: `-> 400` or `-> no response`.
fn outcome(e: &Exchange) -> String {
    match &e.response {
        Some(r) => format!("→ {}", r.status),
        None => "→ no response".to_string(),
    }
}

/// JSON bodies indented for reading; anything else as recorded.
fn pretty_body(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            serde_json::to_string_pretty(&v).unwrap_or_else(|_| body.to_string())
        }
        _ => body.to_string(),
    }
}
