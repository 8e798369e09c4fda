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

use crate::case::Case;
use crate::catalog::Catalog;

mod mutation;
mod variant;
pub use obo_report::selfcheck::{
    render_markdown, render_text, CaseNote, CleanRun, FaultRow, MutationScore, Selfcheck, Status,
};
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
        every_fault_checked: opts.faults.len() >= Fault::ALL.len(),
        mutation: mutation::committed(),
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
