//! The selfcheck: the suite proves its own power.
//!
//! The catalogue runs once against the clean reference server, where every case must pass or
//! skip with a reason, then once per fault switch ([`Fault::ALL`]), each against a fresh
//! in-process server with only that fault on. The *kill matrix* records, per fault, the cases
//! that failed or warned against it although they passed against the clean server.
//!
//! A fault is *caught* when at least one *relevant* case kills it: one that cites one of the
//! requirement IDs the fault breaks ([`Fault::requirements`]). A fault killed only by unrelated
//! cases (an accident of some other check) or by none is a selfcheck failure: the suite would
//! not notice that defect for the reason that matters. Per fault, the output names the relevant
//! killers, so removing a case that is the only one shows up as a newly uncaught fault.
//!
//! Adversarial cases (tag `adversarial`) that no fault kills are listed for information: they
//! guard behaviour no fault switch breaks yet.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use obo_reference_server::fault::Fault;
use obo_report::{CaseResult, Verdict};
use serde::Serialize;

use crate::case::Case;
use crate::catalog::Catalog;

mod mutation;
mod render;
mod variant;
pub use mutation::MutationScore;
pub use render::{render_markdown, render_text};
use variant::{clean_plan, run_plan, Plan};
pub use variant::{Variant, VARIANTS};

/// The tag that marks a case as adversarial (cases/README.md).
const ADVERSARIAL: &str = "adversarial";

/// How to run the selfcheck.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    /// Catalogue runs in flight at once.
    pub jobs: usize,
    /// Cases in flight at once within each run.
    pub case_jobs: usize,
    /// The faults to check.
    pub faults: Vec<Fault>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 1,
            jobs: 8,
            case_jobs: 8,
            faults: Fault::ALL.to_vec(),
        }
    }
}

/// One case's outcome, as the matrix shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaseNote {
    pub id: String,
    pub verdict: Verdict,
    pub message: String,
}

/// The run against the clean server.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CleanRun {
    /// Reference variants used and how many cases each ran.
    pub variants: Vec<(String, usize)>,
    pub passed: usize,
    /// Skipped cases with their reasons (allowed).
    pub skipped: Vec<CaseNote>,
    /// Cases that failed, warned or errored: each one is a selfcheck failure.
    pub problems: Vec<CaseNote>,
    /// The server could not be started or driven at all.
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// How well the catalogue catches one fault.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A case citing one of the fault's requirements failed or warned.
    Caught,
    /// Only cases citing other requirements noticed the fault.
    OnlyUnrelated,
    /// No case noticed the fault.
    Missed,
    /// The faulty server could not be started.
    NotRun,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Caught => "CAUGHT",
            Status::OnlyUnrelated => "UNRELATED",
            Status::Missed => "MISSED",
            Status::NotRun => "NOT RUN",
        }
    }
}

/// One row of the kill matrix.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRow {
    pub fault: String,
    pub description: String,
    /// Requirement IDs the fault breaks.
    pub requirements: Vec<String>,
    pub status: Status,
    /// Killers citing one of the fault's requirements.
    pub relevant: Vec<CaseNote>,
    /// Killers citing none of them.
    pub unrelated: Vec<CaseNote>,
    /// Cases that passed clean but errored under the fault (informative: not kills).
    pub errors: Vec<CaseNote>,
    /// Why the run did not happen (status `not_run`).
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl FaultRow {
    pub fn relevant_ids(&self) -> Vec<&str> {
        self.relevant.iter().map(|c| c.id.as_str()).collect()
    }
}

/// The whole selfcheck result (kill-matrix.json).
#[derive(Debug, Clone, Serialize)]
pub struct Selfcheck {
    pub seed: u64,
    pub cases: usize,
    pub clean: CleanRun,
    pub faults: Vec<FaultRow>,
    /// Adversarial cases that are no fault's relevant killer (informative): they guard
    /// behaviour that no fault switch breaks for the requirements they cite. Empty unless
    /// every fault was checked.
    pub unkilled_adversarial: Vec<String>,
    /// Adversarial cases that no fault makes fail or warn at all (informative).
    pub never_failed_adversarial: Vec<String>,
    /// Faults whose only relevant killer is one case: removing that case loses the fault.
    pub single_killer: BTreeMap<String, String>,
    /// The committed mutation score of the reference server's checks (informative: measured
    /// by scripts/mutants.sh, not on this run).
    pub mutation: Option<MutationScore>,
    pub duration_ms: u64,
}

impl Selfcheck {
    /// Every reason the selfcheck fails, one line each; empty when it passes.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.clean.error {
            out.push(format!("clean run: {e}"));
        }
        for p in &self.clean.problems {
            out.push(format!(
                "clean run: {} {}: {}",
                verdict_word(p.verdict),
                p.id,
                p.message
            ));
        }
        for f in &self.faults {
            match f.status {
                Status::Caught => {}
                Status::OnlyUnrelated => out.push(format!(
                    "fault {} ({}) is caught only by unrelated cases: {}",
                    f.fault,
                    f.requirements.join(", "),
                    ids(&f.unrelated)
                )),
                Status::Missed => out.push(format!(
                    "fault {} ({}) is caught by no case",
                    f.fault,
                    f.requirements.join(", ")
                )),
                Status::NotRun => out.push(format!(
                    "fault {}: {}",
                    f.fault,
                    f.error.as_deref().unwrap_or("not run")
                )),
            }
        }
        out
    }

    pub fn ok(&self) -> bool {
        self.failures().is_empty()
    }

    pub fn fault(&self, name: &str) -> Option<&FaultRow> {
        self.faults.iter().find(|f| f.fault == name)
    }
}

pub(crate) fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Warn => "warn",
        Verdict::Skip => "skip",
        Verdict::Error => "error",
    }
}

pub(crate) fn ids(notes: &[CaseNote]) -> String {
    if notes.is_empty() {
        return "-".into();
    }
    notes
        .iter()
        .map(|n| n.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn note(r: &obo_report::CaseResult) -> CaseNote {
    CaseNote {
        id: r.id.clone(),
        verdict: r.verdict,
        message: r.message.clone(),
    }
}

fn clean_run(result: Result<Vec<CaseResult>, String>, plan: &Plan, took: Duration) -> CleanRun {
    let mut clean = CleanRun {
        duration_ms: took.as_millis() as u64,
        ..Default::default()
    };
    clean.variants = plan
        .iter()
        .map(|(v, cases)| (v.name.to_string(), cases.len()))
        .collect();
    match result {
        Err(e) => clean.error = Some(e),
        Ok(results) => {
            for r in &results {
                match r.verdict {
                    Verdict::Pass => clean.passed += 1,
                    Verdict::Skip => clean.skipped.push(note(r)),
                    Verdict::Fail | Verdict::Warn | Verdict::Error => clean.problems.push(note(r)),
                }
            }
        }
    }
    clean
}

/// The kill-matrix row of one fault, from its run and the set of cases that passed clean.
fn fault_row(
    fault: Fault,
    result: Result<Vec<CaseResult>, String>,
    cases: &[Case],
    passed_clean: &BTreeSet<String>,
    took: Duration,
) -> FaultRow {
    let breaks: BTreeSet<&str> = fault.requirements().iter().copied().collect();
    let mut row = FaultRow {
        fault: fault.name().to_string(),
        description: fault.description().to_string(),
        requirements: fault.requirements().iter().map(|s| s.to_string()).collect(),
        status: Status::NotRun,
        relevant: vec![],
        unrelated: vec![],
        errors: vec![],
        error: None,
        duration_ms: took.as_millis() as u64,
    };
    let results = match result {
        Ok(r) => r,
        Err(e) => {
            row.error = Some(e);
            return row;
        }
    };
    let cites: BTreeMap<&str, &Case> = cases.iter().map(|c| (c.id.as_str(), c)).collect();
    for r in &results {
        // A case that did not pass clean says nothing about this fault.
        if !passed_clean.contains(&r.id) {
            continue;
        }
        match r.verdict {
            Verdict::Fail | Verdict::Warn => {
                let relevant = cites
                    .get(r.id.as_str())
                    .is_some_and(|c| c.requirements.iter().any(|q| breaks.contains(q.as_str())));
                if relevant {
                    row.relevant.push(note(r));
                } else {
                    row.unrelated.push(note(r));
                }
            }
            Verdict::Error => row.errors.push(note(r)),
            Verdict::Pass | Verdict::Skip => {}
        }
    }
    row.status = if !row.relevant.is_empty() {
        Status::Caught
    } else if !row.unrelated.is_empty() {
        Status::OnlyUnrelated
    } else {
        Status::Missed
    };
    row
}

/// Runs the selfcheck of `cases` (normally the whole catalogue): the clean run first (it
/// decides which variant each case runs under), then every fault, `opts.jobs` runs at a time.
pub async fn run(catalog: &Catalog, cases: &[Case], opts: &Options) -> Selfcheck {
    let started = Instant::now();
    let (clean_result, plan) = clean_plan(catalog, cases, opts).await;
    let clean = clean_run(clean_result, &plan, started.elapsed());
    let skipped: BTreeSet<&str> = clean.skipped.iter().map(|n| n.id.as_str()).collect();
    let failed: BTreeSet<&str> = clean.problems.iter().map(|n| n.id.as_str()).collect();
    let passed_clean: BTreeSet<String> = if clean.error.is_some() {
        BTreeSet::new()
    } else {
        cases
            .iter()
            .filter(|c| !skipped.contains(c.id.as_str()) && !failed.contains(c.id.as_str()))
            .map(|c| c.id.clone())
            .collect()
    };

    let catalog = Arc::new(catalog.clone());
    let plan = Arc::new(plan);
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (k, fault) in opts.faults.iter().copied().enumerate() {
        let (catalog, plan, sem, opts) = (catalog.clone(), plan.clone(), sem.clone(), opts.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            let t = Instant::now();
            let result = run_plan(&catalog, &plan, &[fault], &opts).await;
            (k, result, t.elapsed())
        });
    }
    let mut results: BTreeMap<usize, (Result<Vec<CaseResult>, String>, Duration)> = BTreeMap::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((k, result, took)) => {
                results.insert(k, (result, took));
            }
            Err(e) => tracing::warn!("a selfcheck run was lost: {e}"),
        }
    }
    let faults: Vec<FaultRow> = opts
        .faults
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let (result, took) = results
                .remove(&k)
                .unwrap_or_else(|| (Err("the run was lost".into()), Duration::ZERO));
            fault_row(*f, result, cases, &passed_clean, took)
        })
        .collect();
    let killed: BTreeSet<&str> = faults
        .iter()
        .flat_map(|f| f.relevant.iter().chain(&f.unrelated))
        .map(|n| n.id.as_str())
        .collect();
    let killed_relevantly: BTreeSet<&str> = faults
        .iter()
        .flat_map(|f| &f.relevant)
        .map(|n| n.id.as_str())
        .collect();
    // Only meaningful when every fault was checked: with a subset, most cases kill nothing.
    let every_fault = Fault::ALL.iter().all(|f| opts.faults.contains(f));
    let adversarial = || {
        cases.iter().filter(|c| {
            every_fault && c.tags.iter().any(|t| t == ADVERSARIAL) && passed_clean.contains(&c.id)
        })
    };
    let unkilled_adversarial = adversarial()
        .filter(|c| !killed_relevantly.contains(c.id.as_str()))
        .map(|c| c.id.clone())
        .collect();
    let never_failed_adversarial = adversarial()
        .filter(|c| !killed.contains(c.id.as_str()))
        .map(|c| c.id.clone())
        .collect();
    let single_killer = faults
        .iter()
        .filter_map(|f| match f.relevant.as_slice() {
            [only] => Some((f.fault.clone(), only.id.clone())),
            _ => None,
        })
        .collect();
    Selfcheck {
        seed: opts.seed,
        cases: cases.len(),
        clean,
        faults,
        unkilled_adversarial,
        never_failed_adversarial,
        single_killer,
        mutation: MutationScore::committed(),
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

/// Writes kill-matrix.md and kill-matrix.json into `dir`.
pub fn write(s: &Selfcheck, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("kill-matrix.md"), render_markdown(s))?;
    let json = serde_json::to_string_pretty(s).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("kill-matrix.json"), json + "\n")
}

/// The faults named in `names` (each entry may be a comma-separated list); none named means
/// every fault of the reference server. An unknown name is an error that lists the known ones.
pub fn parse_faults(names: &[String]) -> Result<Vec<Fault>, String> {
    if names.is_empty() {
        return Ok(Fault::ALL.to_vec());
    }
    let mut v = Vec::new();
    for name in names
        .iter()
        .flat_map(|f| f.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match Fault::from_name(name) {
            Some(f) => v.push(f),
            None => {
                let known: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                return Err(format!(
                    "unknown fault {name:?} (known: {})",
                    known.join(", ")
                ));
            }
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests;
