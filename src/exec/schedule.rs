//! Scheduling: cases run in parallel (`--jobs`), except those that change server-wide state
//! (clock, actors), which run alone afterwards, each followed by a control-API `reset`.
//! Every case runs in its own task with a deadline, so neither a panic nor a hanging target
//! can stop the run: either becomes that case's `error`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use obo_report::{CaseResult, Report, RequirementInfo, Summary, Target as ReportTarget, Verdict};

use crate::case::{Action, Case};
use crate::catalog::Catalog;
use crate::exec;
use crate::profile::{Consent, Target};
use crate::redact::Redactor;
use crate::verdict::{self, Ending};

/// Progress callback: called once per finished case.
pub type Progress = Arc<dyn Fn(&CaseResult) + Send + Sync>;

/// How to run.
#[derive(Clone)]
pub struct RunOptions {
    /// All randomness of the run (state, PKCE, jti, attacker keys) comes from it.
    pub seed: u64,
    /// Cases in flight at once.
    pub jobs: usize,
    /// Accept only the preferred reading (first of each list of acceptable outcomes).
    pub strict: bool,
    /// Deadline per case; default from the profile's HTTP timeout.
    pub case_timeout: Option<Duration>,
    pub progress: Option<Progress>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: 0,
            jobs: 8,
            strict: false,
            case_timeout: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("seed", &self.seed)
            .field("jobs", &self.jobs)
            .field("strict", &self.strict)
            .finish()
    }
}

/// The redactor for a target: every secret of its profile and its Basic-auth pairs.
pub fn redactor_for(target: &Target) -> Arc<Redactor> {
    let mut r = Redactor::new(target.secrets());
    for (id, secret) in target.basic_pairs() {
        r = r.with_basic_pair(&id, &secret);
    }
    Arc::new(r)
}

fn case_deadline(target: &Target, opts: &RunOptions) -> Duration {
    if let Some(t) = opts.case_timeout {
        return t;
    }
    let driver = match &target.profile.consent {
        Consent::Command { timeout_secs, .. } => timeout_secs.unwrap_or(120),
        Consent::Manual { timeout_secs } => timeout_secs.unwrap_or(300),
        _ => 0,
    };
    // A case may wait out a lifetime in real time (`[time] max_wait_secs`).
    let wait = target.profile.time.max_wait_secs;
    Duration::from_secs(target.profile.http.timeout_secs * 12 + driver * 4 + 30 + wait * 2)
}

/// Runs one case in its own task with a deadline; never panics.
pub async fn run_case(target: Arc<Target>, case: &Case, opts: &RunOptions) -> CaseResult {
    let redactor = redactor_for(&target);
    let deadline = case_deadline(&target, opts);
    run_one(
        target,
        case.clone(),
        opts.seed,
        opts.strict,
        redactor,
        deadline,
    )
    .await
}

async fn run_one(
    target: Arc<Target>,
    case: Case,
    seed: u64,
    strict: bool,
    redactor: Arc<Redactor>,
    deadline: Duration,
) -> CaseResult {
    let started = Instant::now();
    let task_case = case.clone();
    let task =
        tokio::spawn(
            async move { exec::execute(&target, &task_case, seed, strict, redactor).await },
        );
    let abort = task.abort_handle();
    let executed = match tokio::time::timeout(deadline, task).await {
        Ok(Ok(e)) => e,
        Ok(Err(join)) => exec::Executed {
            ending: Ending::Errored(if join.is_panic() {
                "the harness panicked while running this case (a harness bug)".into()
            } else {
                "the case task was cancelled".into()
            }),
            checks: vec![],
            transcript: vec![],
            readings: vec![],
            waited_secs: 0,
        },
        Err(_) => {
            abort.abort();
            exec::Executed {
                ending: Ending::Errored(format!(
                    "the case did not finish within {} s",
                    deadline.as_secs()
                )),
                checks: vec![],
                transcript: vec![],
                readings: vec![],
                waited_secs: 0,
            }
        }
    };
    let (verdict, mut message) = verdict::decide(&executed.ending, &executed.checks);
    if executed.waited_secs > 0 {
        message.push_str(&format!(
            " (waited {} s in real time: the target has no clock operation)",
            executed.waited_secs
        ));
    }
    CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        verdict,
        requirements: case.requirements.clone(),
        scenarios: case.scenarios.clone(),
        level: case.level.into(),
        tags: case.tags.clone(),
        message,
        checks: executed.checks,
        duration_ms: started.elapsed().as_millis() as u64,
        transcript: executed.transcript,
        readings: executed.readings,
    }
}

/// The runtime a catalogue run drives its cases on: one thread. The cases wait on the network
/// almost all the time, so the work between exchanges never needs a second core, and a
/// multi-threaded scheduler spends more CPU waking workers across threads than it saves (the
/// figures, side by side: README, "Cost per HTTP exchange"). Deadlines and timeouts stay exact:
/// nothing on the run path blocks the thread (child processes, files and the browser go through
/// tokio).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Runs `cases` against `target` and builds the report (cases in the order given).
pub async fn run_catalog(
    target: Arc<Target>,
    catalog: &Catalog,
    cases: &[Case],
    opts: &RunOptions,
) -> Report {
    let started_at = time::OffsetDateTime::now_utc();
    let clock = Instant::now();
    let redactor = redactor_for(&target);
    let deadline = case_deadline(&target, opts);
    // The manual driver listens on one redirect_uri port: one case at a time.
    let jobs = if matches!(target.profile.consent, Consent::Manual { .. }) {
        1
    } else {
        opts.jobs.max(1)
    };
    type Indexed<'c> = Vec<(usize, &'c Case)>;
    let (exclusive, shared): (Indexed, Indexed) = cases
        .iter()
        .enumerate()
        .partition(|(_, c)| c.is_exclusive());
    let mut results: Vec<Option<CaseResult>> = vec![None; cases.len()];

    let sem = Arc::new(tokio::sync::Semaphore::new(jobs));
    let mut set = tokio::task::JoinSet::new();
    for (idx, case) in shared {
        let (target, case, redactor, sem) =
            (target.clone(), case.clone(), redactor.clone(), sem.clone());
        let (seed, strict) = (opts.seed, opts.strict);
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            (
                idx,
                run_one(target, case, seed, strict, redactor, deadline).await,
            )
        });
    }
    while let Some(joined) = set.join_next().await {
        // run_one never panics: a join error here means the runtime is shutting down.
        if let Ok((idx, r)) = joined {
            if let Some(p) = &opts.progress {
                p(&r);
            }
            if let Some(slot) = results.get_mut(idx) {
                *slot = Some(r);
            }
        }
    }
    for (idx, case) in exclusive {
        let r = run_one(
            target.clone(),
            case.clone(),
            opts.seed,
            opts.strict,
            redactor.clone(),
            deadline,
        )
        .await;
        if r.verdict != Verdict::Skip {
            reset(&target).await;
        }
        if let Some(p) = &opts.progress {
            p(&r);
        }
        if let Some(slot) = results.get_mut(idx) {
            *slot = Some(r);
        }
    }
    let cases_out: Vec<CaseResult> = results
        .into_iter()
        .zip(cases)
        .map(|(r, c)| r.unwrap_or_else(|| lost(c)))
        .collect();
    build_report(
        &target,
        catalog,
        cases_out,
        opts,
        started_at,
        clock.elapsed(),
    )
}

fn lost(case: &Case) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        verdict: Verdict::Error,
        requirements: case.requirements.clone(),
        scenarios: case.scenarios.clone(),
        level: case.level.into(),
        tags: case.tags.clone(),
        message: "the case's task was lost".into(),
        checks: vec![],
        duration_ms: 0,
        transcript: vec![],
        readings: vec![],
    }
}

/// Control reset after an exclusive case (clock back, actors enabled).
async fn reset(target: &Target) {
    let Some(control) = exec::control::ControlClient::of(target) else {
        return;
    };
    if !target.has("control_api") {
        return;
    }
    if let Err(e) = control.reset().await {
        tracing::warn!("{e}");
    }
}

/// The report of a run.
pub fn build_report(
    target: &Target,
    catalog: &Catalog,
    cases: Vec<CaseResult>,
    opts: &RunOptions,
    started_at: time::OffsetDateTime,
    took: Duration,
) -> Report {
    let mut cases = cases;
    let diagnosis = crate::check::diagnosis::diagnose(&mut cases);
    let cited: BTreeSet<&String> = cases.iter().flat_map(|c| c.requirements.iter()).collect();
    let requirements = cited
        .into_iter()
        .filter_map(|id| {
            catalog.requirements.get(id).map(|r| {
                (
                    id.clone(),
                    RequirementInfo {
                        section: r.section_for(&target.profile.revision).to_string(),
                        level: r.level.clone(),
                        text: r.text.clone(),
                    },
                )
            })
        })
        .collect();
    // The ambiguities the readings illustrate, so that `interop` reads the report alone.
    let ambiguities = cases
        .iter()
        .flat_map(|c| c.readings.iter())
        .filter_map(|r| {
            catalog.ambiguities.get(&r.ambiguity).map(|a| {
                (
                    a.id.clone(),
                    obo_report::AmbiguityInfo {
                        question: a.question.clone(),
                        recommended: a.recommended.clone(),
                    },
                )
            })
        })
        .collect();
    Report {
        schema_version: obo_report::SCHEMA_VERSION.to_string(),
        suite_version: env!("CARGO_PKG_VERSION").to_string(),
        target: ReportTarget {
            name: target.profile.name.clone(),
            issuer: target.issuer.clone(),
            revision: target.profile.revision.clone(),
            profile_digest: target.digest.clone(),
            capabilities: target.capabilities.iter().cloned().collect(),
        },
        seed: opts.seed,
        strict: opts.strict,
        started_at: started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: took.as_millis() as u64,
        summary: Summary::of(&cases),
        cases,
        requirements,
        ambiguities,
        invocation: None,
        replay: Default::default(),
        expectations: None,
        diagnosis,
    }
}

/// Selects cases by filters: exact ID, glob on the ID (`TOKEN-*`), `tag:NAME`, `req:ID` or a
/// requirement ID (`OBO-TOKEN-12`). Several filters (or comma-separated values) are a union.
/// An empty filter list selects every case.
pub fn select(catalog: &Catalog, filters: &[String]) -> Result<Vec<Case>, String> {
    let terms: Vec<String> = filters
        .iter()
        .flat_map(|f| f.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if terms.is_empty() {
        return Ok(catalog.cases.clone());
    }
    let mut keep = vec![false; catalog.cases.len()];
    for term in &terms {
        let matcher: Box<dyn Fn(&Case) -> bool> = if let Some(tag) = term.strip_prefix("tag:") {
            let tag = tag.to_string();
            Box::new(move |c: &Case| c.tags.contains(&tag))
        } else if let Some(req) = term.strip_prefix("req:").or_else(|| {
            catalog
                .requirements
                .contains_key(term.as_str())
                .then_some(term.as_str())
        }) {
            let g = glob(req)?;
            Box::new(move |c: &Case| c.requirements.iter().any(|r| g.is_match(r)))
        } else {
            let g = glob(&term.to_uppercase())?;
            Box::new(move |c: &Case| g.is_match(&c.id))
        };
        let mut any = false;
        for (k, c) in catalog.cases.iter().enumerate() {
            if matcher(c) {
                keep[k] = true;
                any = true;
            }
        }
        if !any {
            return Err(format!("no case matches {term:?}"));
        }
    }
    Ok(catalog
        .cases
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(c, _)| c.clone())
        .collect())
}

fn glob(pattern: &str) -> Result<globset::GlobMatcher, String> {
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("bad pattern {pattern:?}: {e}"))
}

/// One slice of a sharded run: shard `index` of `count`, counted from 1 (`--shard 2/4`), as
/// CI matrices and Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX + 1`) number them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard: {s:?} is not K/N with 1 <= K <= N (e.g. 2/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Estimated cost of a case: its HTTP round trips (an `authorize` drives login and consent,
/// a `parallel_token` sends `count` requests). Exclusive cases also wait for a reset.
pub fn estimated_cost(case: &Case) -> u64 {
    let steps: u64 = case
        .steps
        .iter()
        .map(|s| match &s.action {
            Action::Authorize(_) => 4,
            Action::ParallelToken(p) => p.count() as u64,
            _ => 1,
        })
        .sum();
    steps + if case.is_exclusive() { 2 } else { 0 }
}

/// The cases of `shard`, in the order given. Deterministic (depends on the case IDs and their
/// costs only, never on the seed), a partition of `cases` over the shards, balanced greedily
/// by [`estimated_cost`] (largest first onto the lightest shard); exclusive cases, which run
/// one at a time, are dealt first so they spread across shards.
pub fn shard_of(cases: &[Case], shard: Shard) -> Vec<Case> {
    let n = shard.count.max(1);
    let mut order: Vec<(bool, u64, &str, usize)> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (c.is_exclusive(), estimated_cost(c), c.id.as_str(), i))
        .collect();
    // Exclusive first, then dearest first; the ID breaks ties.
    order.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
    let mut load = vec![(0u64, 0u64); n]; // (exclusive cost, shared cost) per shard
    let mut owner = vec![0usize; cases.len()];
    for (exclusive, cost, _, i) in order {
        // Exclusive cases run serially: balance them on their own, then the rest on the total.
        let pick = (0..n)
            .min_by_key(|&s| {
                if exclusive {
                    (load[s].0, s as u64)
                } else {
                    (load[s].0 + load[s].1, s as u64)
                }
            })
            .unwrap_or(0);
        if exclusive {
            load[pick].0 += cost;
        } else {
            load[pick].1 += cost;
        }
        owner[i] = pick;
    }
    cases
        .iter()
        .zip(owner)
        .filter(|(_, o)| *o + 1 == shard.index)
        .map(|(c, _)| c.clone())
        .collect()
}
