//! Report model and renderers for obo-conformance.
//!
//! The harness fills a [`Report`] (see [`model`]); everything a person or a CI job reads is rendered
//! from it alone: [`write_all`] writes report.json, report.html, report.md, junit.xml and
//! report.sarif; [`baseline`] judges a run against a known-failures file; [`diff`] compares two
//! runs; [`matrix`] puts several runs side by side.

pub mod baseline;
pub mod coverage;
pub mod curl;
pub mod diff;
mod escape;
mod html;
pub mod interop;
mod junit;
pub mod leak;
mod markdown;
pub mod matrix;
pub mod model;
mod normalize;
mod sarif;
pub mod selfcheck;
mod volatile;
pub mod warnings;

use std::path::{Path, PathBuf};

pub use model::*;
pub use normalize::normalize;

/// What can go wrong while reading or writing reports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a report: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} has schema_version {found:?}; this build reads {SCHEMA_VERSION:?}")]
    SchemaVersion { path: PathBuf, found: String },
    #[error("cannot serialise the report: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot render {what}: {source}")]
    Template {
        what: &'static str,
        #[source]
        source: minijinja::Error,
    },
}

/// File names [`write_all`] writes, in order.
pub const ARTEFACTS: [&str; 5] = [
    "report.json",
    "report.html",
    "report.md",
    "junit.xml",
    "report.sarif",
];

/// Writes every artefact of one run into `out_dir` (created if missing) and returns their paths.
pub fn write_all(report: &Report, out_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out_dir).map_err(|source| ReportError::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let contents = [
        render_json(report)?,
        render_html(report)?,
        render_markdown(report),
        render_junit(report),
        render_sarif(report)?,
    ];
    let mut written = Vec::with_capacity(ARTEFACTS.len());
    for (name, text) in ARTEFACTS.iter().zip(contents) {
        let path = out_dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// report.json: pretty-printed, stable field order, trailing newline.
pub fn render_json(report: &Report) -> Result<String, ReportError> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}

/// report.html: one self-contained file (inline CSS and JS, no external URL).
pub fn render_html(report: &Report) -> Result<String, ReportError> {
    html::render(report)
}

/// report.md: a short summary fit for a CI step summary.
pub fn render_markdown(report: &Report) -> String {
    markdown::render(report)
}

/// junit.xml: one testcase per case.
pub fn render_junit(report: &Report) -> String {
    junit::render(report)
}

/// report.sarif: SARIF 2.1.0, one rule per case, results for fail and warn.
pub fn render_sarif(report: &Report) -> Result<String, ReportError> {
    sarif::render(report)
}

/// Reads a report.json written by any run, refusing another schema version.
pub fn read_report(path: &Path) -> Result<Report, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| ReportError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
    let found = value
        .get("schema_version")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    if found != SCHEMA_VERSION {
        return Err(ReportError::SchemaVersion {
            path: path.to_path_buf(),
            found,
        });
    }
    serde_json::from_value(value).map_err(|source| ReportError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Calls `f` on every string of the report that came from the target or quotes it: case
/// messages, checks' expected and actual values, and every part of every exchange (URL, header
/// values, bodies, transport errors). For passes that must reach every copy of a value
/// (redaction, normalisation).
pub fn each_text_mut(report: &mut Report, mut f: impl FnMut(&mut String)) {
    for case in &mut report.cases {
        f(&mut case.message);
        for check in &mut case.checks {
            f(&mut check.expected);
            f(&mut check.actual);
        }
        for exchange in &mut case.transcript {
            each_exchange_text_mut(exchange, &mut f);
        }
    }
}

fn each_exchange_text_mut(exchange: &mut Exchange, f: &mut impl FnMut(&mut String)) {
    let req = &mut exchange.request;
    f(&mut req.url);
    req.headers.iter_mut().for_each(|(_, v)| f(v));
    req.body.iter_mut().for_each(&mut *f);
    exchange.error.iter_mut().for_each(&mut *f);
    if let Some(resp) = &mut exchange.response {
        resp.headers.iter_mut().for_each(|(_, v)| f(v));
        resp.body.iter_mut().for_each(&mut *f);
    }
}

/// Requirement group of an ID: the ID without its last `-` part (`OBO-TOKEN-12` -> `OBO-TOKEN`,
/// `OBO-INH-PKCE-1` -> `OBO-INH-PKCE`). Groups follow the draft's sections, as the case folders do.
pub fn requirement_group(id: &str) -> &str {
    match id.rsplit_once('-') {
        Some((group, _)) if !group.is_empty() => group,
        _ => id,
    }
}

/// Case folders by ID prefix (cases/README.md: folders follow the draft's sections, file name =
/// ID in lower case). Longest prefix first: `ACTOR-TOKEN-` before `TOKEN-`.
const CASE_FOLDERS: [(&str, &str); 10] = [
    ("CLIENT-", "client"),
    ("ACTOR-TOKEN-", "actor-token"),
    ("DISCOVERY-", "discovery"),
    ("AUTHZ-", "authorize"),
    ("TOKEN-", "token"),
    ("CODE-", "code"),
    ("INH-", "inherited"),
    ("SEC-", "security"),
    ("AT-", "access-token"),
    ("RS-", "resource"),
];

/// The case's folder under cases/ (`token` for `TOKEN-ACTOR-MISMATCH`), when its prefix is known.
pub fn case_folder(id: &str) -> Option<&'static str> {
    CASE_FOLDERS
        .iter()
        .find(|(prefix, _)| id.starts_with(prefix))
        .map(|(_, folder)| *folder)
}

/// The case file relative to the suite's root (`cases/token/token-actor-mismatch.toml`).
pub fn case_path(id: &str) -> Option<String> {
    case_folder(id).map(|folder| format!("cases/{folder}/{}.toml", id.to_ascii_lowercase()))
}

/// Verdicts from worst to best, the order reports list cases in.
pub fn severity_rank(v: Verdict) -> u8 {
    match v {
        Verdict::Fail => 0,
        Verdict::Error => 1,
        Verdict::Warn => 2,
        Verdict::Pass => 3,
        Verdict::Skip => 4,
    }
}

/// The verdict's wire name (`pass`, `fail`, ...).
pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Warn => "warn",
        Verdict::Skip => "skip",
        Verdict::Error => "error",
    }
}

/// The run's overall status, the one line every artefact and the terminal lead with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The target failed a MUST (unexpectedly, under an expectations file), or an expectation
    /// is stale.
    Fail,
    /// Harness errors, or nothing applied: the run is incomplete.
    Error,
    /// Passed, with SHOULD-level warnings.
    Warn,
    Pass,
}

/// [`Status`] with the counts its wording needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunStatus {
    pub status: Status,
    /// Under an expectations file: fails and errors that are the entries' verdicts.
    pub expected_failures: usize,
    /// Under an expectations file: results that are not the entries' (or without one).
    pub unexpected: usize,
    /// Under an expectations file: entries that no longer describe the target.
    pub stale: usize,
    pub judged: bool,
}

impl RunStatus {
    /// `failed`, `incomplete`, `passed with warnings`, `passed`, or under an expectations file
    /// `passed with 3 expected failures`, `failed: 1 unexpected result, 2 stale expectations`.
    pub fn phrase(&self) -> String {
        let expected = plural(self.expected_failures, "expected failure");
        match self.status {
            Status::Fail if self.judged => {
                let mut parts = Vec::new();
                if self.unexpected > 0 {
                    parts.push(plural(self.unexpected, "unexpected result"));
                }
                if self.stale > 0 {
                    parts.push(plural(self.stale, "stale expectation"));
                }
                format!("failed: {}", parts.join(", "))
            }
            Status::Fail => "failed".into(),
            Status::Error => "incomplete".into(),
            Status::Warn if self.expected_failures > 0 => {
                format!("passed with {expected} and warnings")
            }
            Status::Warn => "passed with warnings".into(),
            Status::Pass if self.expected_failures > 0 => format!("passed with {expected}"),
            Status::Pass => "passed".into(),
        }
    }
}

/// `1 stale expectation`, `2 stale expectations`.
pub fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The run's status. Without an expectations file: fail on any fail, incomplete on any error
/// or when nothing applied. Under one (as its gate judges, [`baseline::Evaluation::exit_code`]):
/// fail on an unexpected target result or a stale entry, incomplete on an unexpected error;
/// known failures keep it green.
pub fn run_status(report: &Report) -> RunStatus {
    let s = &report.summary;
    let nothing_applied = s.passed + s.warned == 0;
    let Some(j) = &report.expectations else {
        let status = if s.failed > 0 {
            Status::Fail
        } else if s.errors > 0 || nothing_applied {
            Status::Error
        } else if s.warned > 0 {
            Status::Warn
        } else {
            Status::Pass
        };
        return RunStatus {
            status,
            expected_failures: 0,
            unexpected: 0,
            stale: 0,
            judged: false,
        };
    };
    let unexpected: Vec<&CaseResult> = report
        .cases
        .iter()
        .filter(|c| {
            j.cases
                .get(&c.id)
                .is_some_and(|e| e.status == ExpectationStatus::Unexpected)
        })
        .collect();
    let findings = unexpected.iter().any(|c| c.verdict != Verdict::Error);
    let errors = unexpected.iter().any(|c| c.verdict == Verdict::Error);
    let all_skipped = report.cases.iter().all(|c| c.verdict == Verdict::Skip);
    let status = if findings || !j.stale.is_empty() {
        Status::Fail
    } else if errors || all_skipped {
        Status::Error
    } else if s.warned > 0 {
        Status::Warn
    } else {
        Status::Pass
    };
    RunStatus {
        status,
        expected_failures: j.expected_failures(report),
        unexpected: unexpected.len(),
        stale: j.stale.len(),
        judged: true,
    }
}

/// The command line (argv) that runs `case_id` again: the same target as given (a profile's
/// path, or a built-in profile's name with its faults and options), seed, strictness and
/// catalogue. Reports without an invocation (written by other producers) fall back to the
/// profile's name.
pub fn replay_argv(report: &Report, case_id: &str) -> Vec<String> {
    let fallback = Invocation {
        target: report.target.name.clone(),
        ..Invocation::default()
    };
    let inv = report.invocation.as_ref().unwrap_or(&fallback);
    let mut argv: Vec<String> = vec!["obo-conformance".into(), "run".into()];
    let mut opt = |name: &str, value: String| {
        argv.push(name.into());
        argv.push(value);
    };
    opt("--target", inv.target.clone());
    for f in &inv.faults {
        opt("--fault", f.clone());
    }
    if let Some(r) = &inv.revision {
        opt("--revision", r.clone());
    }
    if inv.latency_ms > 0 {
        opt("--latency-ms", inv.latency_ms.to_string());
    }
    if let Some(t) = inv.timeout_secs {
        opt("--timeout", t.to_string());
    }
    if let Some(d) = &inv.cases_dir {
        opt("--cases-dir", d.clone());
    }
    opt("--seed", report.seed.to_string());
    opt("--cases", case_id.to_string());
    if inv.allow_cross_origin {
        argv.push("--allow-cross-origin".into());
    }
    if report.strict {
        argv.push("--strict".into());
    }
    argv
}

/// [`replay_argv`] as one line for a POSIX shell, each word quoted where needed.
pub fn replay_command(report: &Report, case_id: &str) -> String {
    replay_argv(report, case_id)
        .iter()
        .map(|w| curl::sh_quote_if_needed(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Records [`replay_argv`] in `report.replay` for every case that did not pass or skip.
pub fn fill_replay(report: &mut Report) {
    report.replay = report
        .cases
        .iter()
        .filter(|c| !matches!(c.verdict, Verdict::Pass | Verdict::Skip))
        .map(|c| (c.id.clone(), replay_argv(report, &c.id)))
        .collect();
}
