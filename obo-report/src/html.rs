//! report.html: one self-contained page (inline CSS and JS, no external URL) rendered with
//! minijinja autoescape from a view built here, so the template only lays things out.

use std::collections::BTreeSet;

use minijinja::Environment;
use serde::Serialize;

use crate::model::{CaseResult, Check, Exchange, Report, Verdict};
use crate::warnings::{self, Warning};
use crate::{curl, replay_command, requirement_group, severity_rank, verdict_name, ReportError};

const TEMPLATE: &str = include_str!("../templates/report.html");
pub(crate) const STYLE: &str = include_str!("../templates/style.css");

#[derive(Serialize)]
struct View<'a> {
    report: &'a Report,
    style: &'static str,
    status: &'static str,
    status_text: String,
    warnings: Vec<Warning>,
    tags: Vec<&'a str>,
    requirements: Vec<&'a str>,
    requirement_groups: Vec<&'a str>,
    cases: Vec<CaseView<'a>>,
}

#[derive(Serialize)]
struct CaseView<'a> {
    case: &'a CaseResult,
    verdict: &'static str,
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
    cases.sort_by_key(|c| severity_rank(c.verdict));
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
    View {
        report,
        style: STYLE,
        status,
        status_text,
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
    let s = &report.summary;
    let total = report.cases.len();
    let applied = total.saturating_sub(s.skipped as usize);
    let (class, text) = if s.failed > 0 {
        ("fail", "The target failed MUST-level cases")
    } else if s.errors > 0 || s.passed + s.warned == 0 {
        ("error", "Incomplete: part of the suite could not run")
    } else if s.warned > 0 {
        ("warn", "Passed, with SHOULD-level warnings")
    } else {
        ("pass", "Passed every applicable case")
    };
    // The share that applied, so that a green bar over a mostly skipped run does not mislead.
    (
        class,
        format!("{text} ({applied} of {total} cases applied)"),
    )
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
    let needs_attention = matches!(case.verdict, Verdict::Fail | Verdict::Error | Verdict::Warn);
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
        verdict: verdict_name(case.verdict),
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
