//! The known-failures baseline ("expectations file") that lets CI gate on *unexpected* results.
//!
//! ```toml
//! [[expect]]
//! id = "TOKEN-ACTOR-MISMATCH"
//! verdict = "fail"
//! reason = "actor binding not implemented yet"
//! link = "https://tracker.example/123"   # optional
//! expires = 2027-03-31                   # optional: after this date the entry is stale
//! revision = "02"                        # optional: only for runs against this draft revision
//! profile = "acme-staging"               # optional: only for runs of this profile
//! ```
//!
//! A result is unexpected when it differs from its entry, or, without an entry, when it is a
//! fail or an error. An entry is stale when its expected failure now passes, when its ID is not
//! in the run, or when it has expired. Exit codes: [`Evaluation::exit_code`].

use std::collections::BTreeSet;
use std::fmt::Write;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::model::{CaseExpectation, CaseResult, ExpectationStatus, Judgement, Report, Verdict};
use crate::verdict_name;

/// Parsed expectations file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    #[serde(default, rename = "expect")]
    pub entries: Vec<Expectation>,
}

/// One known result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub id: String,
    pub verdict: Verdict,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<toml::value::Datetime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// An expectations file that cannot be used: the harness exits 3 (invalid configuration).
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read the expectations file {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid expectations file: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("cannot write the expectations file: {0}")]
    Write(#[from] toml::ser::Error),
    #[error("expect entry {index} ({id}): {problem}")]
    Entry {
        index: usize,
        id: String,
        problem: String,
    },
}

impl Baseline {
    /// Parses and validates an expectations file's text.
    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let baseline: Baseline = toml::from_str(text)?;
        baseline.validate()?;
        Ok(baseline)
    }

    pub fn load(path: &std::path::Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Baseline::parse(&text)
    }

    /// Entries must be unambiguous: one per (id, revision, profile), a real date when given.
    fn validate(&self) -> Result<(), BaselineError> {
        let mut seen = BTreeSet::new();
        for (index, e) in self.entries.iter().enumerate() {
            let problem = |problem: &str| BaselineError::Entry {
                index,
                id: e.id.clone(),
                problem: problem.to_string(),
            };
            if e.id.trim().is_empty() {
                return Err(problem("id is empty"));
            }
            if e.reason.trim().is_empty() {
                return Err(problem("reason is empty: say why the result is expected"));
            }
            if e.verdict == Verdict::Pass {
                return Err(problem("verdict \"pass\" needs no entry; remove it"));
            }
            if let Some(expires) = &e.expires {
                if to_date(expires).is_none() {
                    return Err(problem("expires must be a date such as 2027-03-31"));
                }
            }
            if !seen.insert((&e.id, &e.revision, &e.profile)) {
                return Err(problem(
                    "duplicate entry for the same id, revision and profile",
                ));
            }
        }
        Ok(())
    }

    /// The current results as a baseline (`--update-expectations`): every fail, warn and error,
    /// its message as the reason. Entries of `previous` that still hold keep their reason, link
    /// and expiry, so that rewriting the file does not lose what people wrote.
    pub fn from_report(report: &Report) -> Baseline {
        Baseline::updated(report, None)
    }

    pub fn updated(report: &Report, previous: Option<&Baseline>) -> Baseline {
        let mut entries = Vec::new();
        for case in &report.cases {
            if matches!(case.verdict, Verdict::Pass | Verdict::Skip) {
                continue;
            }
            let kept = previous
                .and_then(|b| b.entry_for(report, &case.id))
                .filter(|e| e.verdict == case.verdict);
            entries.push(match kept {
                Some(e) => e.clone(),
                None => Expectation {
                    id: case.id.clone(),
                    verdict: case.verdict,
                    reason: if case.message.is_empty() {
                        "recorded by --update-expectations".to_string()
                    } else {
                        case.message.clone()
                    },
                    link: None,
                    expires: None,
                    revision: None,
                    profile: None,
                },
            });
        }
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        Baseline { entries }
    }

    pub fn to_toml(&self) -> Result<String, BaselineError> {
        let body = toml::to_string_pretty(self)?;
        Ok(format!(
            "# obo-conformance expectations (known results). See reports/README.md.\n\n{body}"
        ))
    }

    /// Whether an entry that has not expired by `today` expects `verdict` for case `id` of a
    /// run against `target`: what progress lines show before the run is judged as a whole.
    pub fn expects(
        &self,
        target: &crate::model::Target,
        id: &str,
        verdict: Verdict,
        today: Date,
    ) -> bool {
        self.entries
            .iter()
            .filter(|e| e.id == id && applies_to(e, target))
            .filter(|e| {
                e.expires
                    .as_ref()
                    .and_then(to_date)
                    .is_none_or(|d| d >= today)
            })
            .max_by_key(|e| e.revision.is_some() as u8 + e.profile.is_some() as u8)
            .is_some_and(|e| e.verdict == verdict)
    }

    /// The most specific entry for `id` whose conditions hold for this run.
    fn entry_for(&self, report: &Report, id: &str) -> Option<&Expectation> {
        self.entries
            .iter()
            .filter(|e| e.id == id && applies(e, report))
            .max_by_key(|e| e.revision.is_some() as u8 + e.profile.is_some() as u8)
    }
}

fn applies(e: &Expectation, report: &Report) -> bool {
    applies_to(e, &report.target)
}

fn applies_to(e: &Expectation, target: &crate::model::Target) -> bool {
    e.revision.as_ref().is_none_or(|r| *r == target.revision)
        && e.profile.as_ref().is_none_or(|p| *p == target.name)
}

fn to_date(d: &toml::value::Datetime) -> Option<Date> {
    if d.time.is_some() || d.offset.is_some() {
        return None;
    }
    let date = d.date?;
    let month = time::Month::try_from(date.month).ok()?;
    Date::from_calendar_date(i32::from(date.year), month, date.day).ok()
}

/// One result and how it compares with the baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub id: String,
    pub verdict: Verdict,
    /// The entry's verdict, when there is one.
    pub expected: Option<Verdict>,
    pub message: String,
    /// The entry's reason and link, when there is an entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Why an entry no longer describes the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stale {
    pub id: String,
    pub problem: StaleKind,
    pub reason: String,
}

impl Stale {
    /// What is wrong with the entry and what to do, in a few words.
    pub fn why(&self) -> String {
        match &self.problem {
            StaleKind::NowPasses => "now passes; remove the entry".to_string(),
            StaleKind::UnknownId => "no such case in this run".to_string(),
            StaleKind::Expired(d) => format!("expired on {d}; fix the target or renew the entry"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StaleKind {
    /// The expected non-pass result now passes: the entry hides nothing and should go.
    NowPasses,
    /// No case of this ID was in the run.
    UnknownId,
    /// The entry's expiry date is past.
    Expired(String),
}

/// A run judged against a baseline.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evaluation {
    /// Results that match their entry (known failures).
    pub expected: Vec<Outcome>,
    /// Results that match no entry and are not pass/skip/warn, or differ from their entry.
    pub unexpected: Vec<Outcome>,
    pub stale: Vec<Stale>,
    /// SHOULD-level misses without an entry: shown, but CI stays green.
    pub unlisted_warnings: Vec<Outcome>,
    /// No case applied (empty run or everything skipped).
    pub nothing_applicable: bool,
}

/// Judges `report` against `baseline` as of `today` (entries expiring today still hold).
pub fn evaluate(report: &Report, baseline: &Baseline, today: Date) -> Evaluation {
    let mut eval = Evaluation {
        nothing_applicable: report.cases.iter().all(|c| c.verdict == Verdict::Skip),
        ..Evaluation::default()
    };
    let mut expired = BTreeSet::new();
    for (index, e) in baseline.entries.iter().enumerate() {
        if !applies(e, report) {
            continue;
        }
        if let Some(date) = e.expires.as_ref().and_then(to_date) {
            if date < today {
                expired.insert(index);
                eval.stale.push(Stale {
                    id: e.id.clone(),
                    problem: StaleKind::Expired(date.to_string()),
                    reason: e.reason.clone(),
                });
                continue;
            }
        }
        if !report.cases.iter().any(|c| c.id == e.id) {
            eval.stale.push(Stale {
                id: e.id.clone(),
                problem: StaleKind::UnknownId,
                reason: e.reason.clone(),
            });
        }
    }
    // Expired entries no longer excuse anything.
    let live = Baseline {
        entries: baseline
            .entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !expired.contains(i))
            .map(|(_, e)| e.clone())
            .collect(),
    };
    for case in &report.cases {
        judge(&mut eval, case, live.entry_for(report, &case.id));
    }
    eval
}

fn judge(eval: &mut Evaluation, case: &CaseResult, entry: Option<&Expectation>) {
    let outcome = Outcome {
        id: case.id.clone(),
        verdict: case.verdict,
        expected: entry.map(|e| e.verdict),
        message: case.message.clone(),
        reason: entry.map(|e| e.reason.clone()),
        link: entry.and_then(|e| e.link.clone()),
    };
    match entry {
        Some(e) if e.verdict == case.verdict => eval.expected.push(outcome),
        Some(e) if case.verdict == Verdict::Pass => eval.stale.push(Stale {
            id: case.id.clone(),
            problem: StaleKind::NowPasses,
            reason: e.reason.clone(),
        }),
        // A skip under an entry (capability removed, other revision) neither fails nor hides.
        Some(_) if case.verdict == Verdict::Skip => {}
        Some(_) => eval.unexpected.push(outcome),
        None => match case.verdict {
            Verdict::Fail | Verdict::Error => eval.unexpected.push(outcome),
            Verdict::Warn => eval.unlisted_warnings.push(outcome),
            Verdict::Pass | Verdict::Skip => {}
        },
    }
}

/// Judges `report` against `baseline` (see [`evaluate`]) and records the judgement in the
/// report itself (`file` as the user named it), so that every artefact shows known failures as
/// expected and stale entries as stale.
pub fn judge_report(
    report: &mut Report,
    baseline: &Baseline,
    today: Date,
    file: &str,
) -> Evaluation {
    let eval = evaluate(report, baseline, today);
    report.expectations = Some(eval.judgement(file));
    eval
}

impl Evaluation {
    /// The evaluation as the report records it.
    pub fn judgement(&self, file: &str) -> Judgement {
        let mut cases = std::collections::BTreeMap::new();
        let mut note = |o: &Outcome, status| {
            let entry = CaseExpectation {
                status,
                expected: o.expected,
                reason: o.reason.clone(),
                link: o.link.clone(),
            };
            cases.insert(o.id.clone(), entry);
        };
        self.expected
            .iter()
            .for_each(|o| note(o, ExpectationStatus::Expected));
        self.unexpected
            .iter()
            .for_each(|o| note(o, ExpectationStatus::Unexpected));
        self.unlisted_warnings
            .iter()
            .for_each(|o| note(o, ExpectationStatus::UnlistedWarning));
        for s in &self.stale {
            if s.problem == StaleKind::NowPasses {
                cases.insert(
                    s.id.clone(),
                    CaseExpectation {
                        status: ExpectationStatus::NowPasses,
                        expected: None,
                        reason: Some(s.reason.clone()),
                        link: None,
                    },
                );
            }
        }
        Judgement {
            file: file.to_string(),
            cases,
            stale: self.stale.clone(),
        }
    }

    /// 0: nothing unexpected. 1: the target failed or warned unexpectedly, or an entry is
    /// stale. 2: otherwise an unexpected harness error, or nothing applicable (a green run that
    /// tested nothing). A finding about the target outranks harness trouble, as in `run`.
    /// (3, an invalid profile, case or expectations file, is the harness's, before any run.)
    pub fn exit_code(&self) -> i32 {
        let target_finding = self.unexpected.iter().any(|o| o.verdict != Verdict::Error);
        let harness_trouble = self.unexpected.iter().any(|o| o.verdict == Verdict::Error);
        if target_finding || !self.stale.is_empty() {
            1
        } else if harness_trouble || self.nothing_applicable {
            2
        } else {
            0
        }
    }

    /// Plain text for the terminal and CI logs.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if self.nothing_applicable {
            out.push_str(
                "NOTHING APPLICABLE: no case applied to this target; the run proves nothing.\n",
            );
        }
        for o in &self.unexpected {
            let _ = writeln!(
                out,
                "UNEXPECTED {} {} (expected {}): {}",
                verdict_name(o.verdict).to_uppercase(),
                o.id,
                o.expected.map_or("pass", verdict_name),
                o.message
            );
        }
        for s in &self.stale {
            let _ = writeln!(
                out,
                "STALE {}: {} (entry reason: {})",
                s.id,
                s.why(),
                s.reason
            );
        }
        for o in &self.unlisted_warnings {
            let _ = writeln!(out, "warning {} (SHOULD): {}", o.id, o.message);
        }
        let _ = writeln!(
            out,
            "{} expected, {} unexpected, {} stale, {} warnings -> exit {}",
            self.expected.len(),
            self.unexpected.len(),
            self.stale.len(),
            self.unlisted_warnings.len(),
            self.exit_code()
        );
        if !self.stale.is_empty() {
            out.push_str("Rewrite the file from this run with --update-expectations, then review the diff.\n");
        }
        out
    }
}
