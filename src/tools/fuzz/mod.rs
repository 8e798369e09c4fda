//! Model-based stateful fuzzing (`obo-conformance fuzz`).
//!
//! From a seed, [`op::generate`] makes random sequences of operations (authorize for an actor
//! and approve or deny, redeem a code with some actor's token, replay, parallel redemptions,
//! advance the clock, disable/enable an actor, revoke consent, refresh, call the resource
//! server). [`script::build`] turns a sequence into a case of the case language, which the
//! harness's own interpreter ([`crate::exec`]) runs against a fresh target (a new in-process
//! reference server, or a profile target reset through its control API). [`model::check`] then
//! walks the observations and reports any success the draft forbids. A counterexample is
//! shrunk by delta debugging ([`shrink`]), re-running each candidate on a fresh target, and
//! reported as a failing case of a report.json, with the sequence saved for `--replay`.
//!
//! Library use: [`FuzzTarget`] + [`FuzzOptions`] → [`fuzz`] → [`FuzzOutcome`]; [`to_report`].

pub mod model;
pub mod op;
pub mod script;
pub mod shrink;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use obo_report::{CaseResult, Check, Level, Report, RequirementInfo, Summary, Verdict};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::exec::{self, Executed};
use crate::profile::reference::{self, ReferenceOptions};
use crate::profile::Target;
use crate::verdict::Ending;
use model::Violation;
use op::{Abilities, Op};
use script::{Observed, Style};

/// Case ID of the fuzz result in the report.
pub const CASE_ID: &str = "FUZZ-MODEL";

/// Where sequences run.
pub enum FuzzTarget {
    /// A new in-process reference server for every sequence (faults, form mode).
    Reference(ReferenceOptions),
    /// A resolved profile target, reset through its control API before every sequence.
    Profile(Arc<Target>),
}

impl FuzzTarget {
    async fn fresh(&self) -> Result<Arc<Target>, String> {
        match self {
            FuzzTarget::Reference(o) => reference::reference(o.clone())
                .await
                .map(Arc::new)
                .map_err(|e| e.to_string()),
            FuzzTarget::Profile(t) => {
                reset(t).await?;
                Ok(t.clone())
            }
        }
    }

    async fn release(&self, t: &Target) {
        if matches!(self, FuzzTarget::Reference(_)) {
            t.shutdown().await;
        }
    }
}

/// POST `<control>/reset` (docs/contracts.md): forget codes, consents, clock offset, disables.
async fn reset(t: &Target) -> Result<(), String> {
    let Some(base) = &t.endpoints.control else {
        return Ok(());
    };
    let url = url::Url::parse(&format!("{}/reset", base.as_str().trim_end_matches('/')))
        .map_err(|e| e.to_string())?;
    let session = crate::session::Session::new(
        t.timeout(),
        65536,
        Arc::new(crate::redact::Redactor::default()),
    )?;
    let req = crate::session::Request::post_json(url, &serde_json::json!({}));
    let resp = crate::session::send_raw(&session.client(), &req, 65536)
        .await
        .map_err(|e| format!("control reset: {e}"))?;
    if resp.status != 200 {
        return Err(format!("control reset answered status {}", resp.status));
    }
    Ok(())
}

/// How much to fuzz.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub seed: u64,
    /// Sequences to generate and run.
    pub iterations: usize,
    /// Operations per sequence.
    pub length: usize,
    /// Most runs spent shrinking a counterexample.
    pub shrink_runs: usize,
    /// Runs of a shrinking candidate before it counts as not reproducing (races are not
    /// deterministic).
    pub attempts: usize,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            seed: 0,
            iterations: 100,
            length: 12,
            shrink_runs: 150,
            attempts: 3,
        }
    }
}

/// One sequence run and checked.
#[derive(Debug, Clone)]
pub struct Execution {
    pub ops: Vec<Op>,
    pub case_toml: String,
    pub observed: Vec<Option<Observed>>,
    pub violations: Vec<Violation>,
    /// How the case ended when it did not complete.
    pub note: Option<String>,
    pub executed: Arc<Executed>,
}

/// A minimal sequence that breaks the model.
#[derive(Debug, Clone)]
pub struct Counterexample {
    pub seed: u64,
    /// 0-based index of the sequence that first showed it.
    pub iteration: usize,
    pub original: Vec<Op>,
    pub minimal: Execution,
    pub violation: Violation,
    pub shrink_runs: usize,
}

/// What a fuzz run found.
#[derive(Debug, Clone)]
pub struct FuzzOutcome {
    pub seed: u64,
    pub sequences: usize,
    pub operations: usize,
    /// Sequences that stopped before their last operation (set-up failed), or were skipped.
    pub incomplete: usize,
    /// Why the first few incomplete sequences stopped.
    pub incomplete_notes: Vec<String>,
    pub counterexample: Option<Counterexample>,
    pub took: Duration,
}

/// The abilities and step style a target allows.
fn plan(t: &Target) -> Result<(Abilities, Style), String> {
    for which in ["a", "b"] {
        if t.actor(which).is_none() {
            return Err(format!(
                "the profile has no actor {which:?}; fuzzing needs two actors"
            ));
        }
    }
    let ab = Abilities {
        control: t.has("control_api"),
        deny: t.has("interactive_consent"),
        refresh: t.has("refresh_tokens"),
        actor_resource: t.has("resource_server")
            && t.profile
                .resource
                .as_ref()
                .is_some_and(|r| r.actor_url.is_some()),
    };
    let style = Style {
        claims: t.has("jwt_access_tokens") || t.has("introspection"),
    };
    Ok((ab, style))
}

/// Runs `ops` once on a fresh target and checks the model.
pub async fn execute(src: &FuzzTarget, ops: &[Op], seed: u64) -> Result<Execution, String> {
    let target = src.fresh().await?;
    let result = execute_on(&target, ops, seed).await;
    src.release(&target).await;
    result
}

async fn execute_on(target: &Arc<Target>, ops: &[Op], seed: u64) -> Result<Execution, String> {
    let (_, style) = plan(target)?;
    let ops = op::normalize(ops);
    let (case, case_toml) = script::build(CASE_ID, &ops, style)?;
    let redactor = crate::run::redactor_for(target);
    let deadline = target.timeout() * (2 * case.steps.len() as u32 + 2) + Duration::from_secs(30);
    let (t, c) = (target.clone(), case.clone());
    // Own task and deadline: a panic or a hanging target becomes an incomplete sequence.
    let task = tokio::spawn(async move { exec::execute(&t, &c, seed, false, redactor).await });
    let abort = task.abort_handle();
    let executed = match tokio::time::timeout(deadline, task).await {
        Ok(Ok(e)) => e,
        Ok(Err(e)) => Executed {
            ending: Ending::Errored(format!("the sequence task failed: {e}")),
            checks: vec![],
            transcript: vec![],
        },
        Err(_) => {
            abort.abort();
            Executed {
                ending: Ending::Errored(format!(
                    "the sequence did not finish within {} s",
                    deadline.as_secs()
                )),
                checks: vec![],
                transcript: vec![],
            }
        }
    };
    let (observed, note) = script::observe(&executed, ops.len());
    let violations = model::check(&ops, &observed);
    Ok(Execution {
        ops,
        case_toml,
        observed,
        violations,
        note,
        executed: Arc::new(executed),
    })
}

/// Generates and runs `opts.iterations` sequences; shrinks the first counterexample.
pub async fn fuzz(
    src: &FuzzTarget,
    opts: &FuzzOptions,
    mut progress: impl FnMut(&str),
) -> Result<FuzzOutcome, String> {
    let started = Instant::now();
    let probe = src.fresh().await?;
    let planned = plan(&probe);
    src.release(&probe).await;
    let (abilities, _) = planned?;
    let mut rng = ChaCha20Rng::seed_from_u64(opts.seed);
    let mut outcome = FuzzOutcome {
        seed: opts.seed,
        sequences: 0,
        operations: 0,
        incomplete: 0,
        incomplete_notes: Vec::new(),
        counterexample: None,
        took: Duration::ZERO,
    };
    for iteration in 0..opts.iterations {
        let ops = op::generate(&mut rng, opts.length, abilities);
        let run = execute(src, &ops, opts.seed).await?;
        outcome.sequences += 1;
        outcome.operations += run.ops.len();
        if let Some(note) = &run.note {
            outcome.incomplete += 1;
            if outcome.incomplete_notes.len() < 5 {
                outcome
                    .incomplete_notes
                    .push(format!("sequence {iteration}: {note}"));
            }
        }
        let Some(first) = run.violations.first().cloned() else {
            continue;
        };
        progress(&format!(
            "sequence {iteration}: {} at operation {}: {}",
            name(first.property),
            first.op,
            first.message
        ));
        let mut oracle = Reproducer {
            src,
            seed: opts.seed,
            property: first.property,
            attempts: opts.attempts.max(1),
            runs: 0,
            budget: opts.shrink_runs,
            last: None,
        };
        let minimal_ops = shrink::shrink(&run.ops, &mut oracle).await;
        let runs = oracle.runs;
        // The minimal sequence's own run (transcript for the report); fall back on the original.
        let mut minimal = None;
        for _ in 0..opts.attempts.max(1) {
            let m = execute(src, &minimal_ops, opts.seed).await?;
            if m.violations.iter().any(|v| v.property == first.property) {
                minimal = Some(m);
                break;
            }
        }
        let minimal = minimal.unwrap_or(run.clone());
        let violation = minimal
            .violations
            .iter()
            .find(|v| v.property == first.property)
            .cloned()
            .unwrap_or(first);
        outcome.counterexample = Some(Counterexample {
            seed: opts.seed,
            iteration,
            original: run.ops.clone(),
            minimal,
            violation,
            shrink_runs: runs,
        });
        break;
    }
    outcome.took = started.elapsed();
    Ok(outcome)
}

struct Reproducer<'a> {
    src: &'a FuzzTarget,
    seed: u64,
    property: model::Property,
    attempts: usize,
    runs: usize,
    budget: usize,
    last: Option<String>,
}

impl shrink::Oracle for Reproducer<'_> {
    async fn reproduces(&mut self, ops: &[Op]) -> bool {
        for _ in 0..self.attempts {
            if self.runs >= self.budget {
                return false;
            }
            self.runs += 1;
            match execute(self.src, ops, self.seed).await {
                Ok(run) if run.violations.iter().any(|v| v.property == self.property) => {
                    return true
                }
                Ok(_) => {}
                Err(e) => self.last = Some(e),
            }
        }
        false
    }

    fn budget_left(&self) -> usize {
        self.budget.saturating_sub(self.runs)
    }
}

pub fn name(p: model::Property) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The sequence file written next to report.json; `--replay` runs it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedSequence {
    pub seed: u64,
    pub ops: Vec<Op>,
}

/// The fuzz result as a report of one case: `fail` with the minimal counterexample, or `pass`.
pub fn to_report(
    outcome: &FuzzOutcome,
    target: &obo_report::Target,
    requirements: &std::collections::BTreeMap<String, RequirementInfo>,
) -> Report {
    let reqs: Vec<String> = script::REQUIREMENTS.iter().map(|s| s.to_string()).collect();
    let case = match &outcome.counterexample {
        Some(cx) => counterexample_case(outcome, cx),
        None => CaseResult {
            id: CASE_ID.into(),
            title: "Model-based fuzzing: no success the draft forbids".into(),
            verdict: if outcome.sequences > outcome.incomplete {
                Verdict::Pass
            } else {
                Verdict::Error
            },
            requirements: reqs.clone(),
            scenarios: vec![],
            level: Level::Must,
            tags: vec!["fuzz".into()],
            message: format!(
                "seed {}: {} sequences ({} operations, {} incomplete) held to the model",
                outcome.seed, outcome.sequences, outcome.operations, outcome.incomplete
            ),
            checks: vec![],
            duration_ms: outcome.took.as_millis() as u64,
            transcript: vec![],
        },
    };
    let cases = vec![case];
    Report {
        schema_version: obo_report::SCHEMA_VERSION.to_string(),
        suite_version: env!("CARGO_PKG_VERSION").to_string(),
        target: target.clone(),
        seed: outcome.seed,
        strict: false,
        started_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: outcome.took.as_millis() as u64,
        summary: Summary::of(&cases),
        cases,
        requirements: requirements
            .iter()
            .filter(|(k, _)| reqs.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn counterexample_case(outcome: &FuzzOutcome, cx: &Counterexample) -> CaseResult {
    let v = &cx.violation;
    let steps: Vec<String> = cx
        .minimal
        .ops
        .iter()
        .enumerate()
        .map(|(i, o)| format!("{}. {o}", i + 1))
        .collect();
    let mut checks = vec![Check {
        step: v.op + 2,
        name: format!("model: {}", name(v.property)),
        expected: "no success the draft forbids".into(),
        actual: v.message.clone(),
        ok: false,
        level: Level::Must,
        requirements: v
            .property
            .requirements()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }];
    checks.extend(cx.minimal.executed.checks.iter().filter(|c| !c.ok).cloned());
    CaseResult {
        id: CASE_ID.into(),
        title: format!("Model-based fuzzing: counterexample ({})", name(v.property)),
        verdict: Verdict::Fail,
        requirements: v
            .property
            .requirements()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        scenarios: vec![],
        level: Level::Must,
        tags: vec!["fuzz".into()],
        message: format!(
            "seed {}, sequence {}: {} operations shrunk to {} ({} runs): {} | {}",
            cx.seed,
            cx.iteration,
            cx.original.len(),
            cx.minimal.ops.len(),
            cx.shrink_runs,
            steps.join("; "),
            v.message
        ),
        checks,
        duration_ms: outcome.took.as_millis() as u64,
        transcript: cx.minimal.executed.transcript.clone(),
    }
}

/// `obo-conformance fuzz` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct FuzzArgs {
    /// A profile file (needs a control API to reset between sequences), or `reference` /
    /// `reference-form` (a fresh in-process server per sequence).
    #[arg(long, default_value = "reference")]
    pub target: String,
    /// Built-in targets only: start the reference server with this fault (repeatable).
    #[arg(long, value_name = "NAME")]
    pub fault: Vec<String>,
    /// Seed of the sequences (default: random, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Sequences to run.
    #[arg(long, default_value_t = 100)]
    pub iterations: usize,
    /// Operations per sequence.
    #[arg(long, default_value_t = 12)]
    pub length: usize,
    /// Most target runs spent shrinking a counterexample.
    #[arg(long, default_value_t = 150)]
    pub shrink_runs: usize,
    /// Run a saved sequence (counterexample.json of an earlier run) once instead of fuzzing.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Output folder for report.json, counterexample.json and counterexample.toml (default:
    /// reports/runs/<UTC timestamp>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The `fuzz` subcommand: exit 0 no counterexample, 1 counterexample, 2 harness trouble,
/// 3 bad arguments.
pub fn command(args: &FuzzArgs) -> i32 {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => rt.block_on(command_async(args)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            2
        }
    }
}

async fn open(args: &FuzzArgs) -> Result<FuzzTarget, i32> {
    let builtin =
        reference::BUILTIN.contains(&args.target.as_str()) && !Path::new(&args.target).exists();
    if builtin {
        let mut o = ReferenceOptions::for_name(&args.target).unwrap_or_default();
        for n in &args.fault {
            match obo_reference_server::fault::Fault::from_name(n) {
                Some(f) => o.faults.push(f),
                None => {
                    let known: Vec<&str> = obo_reference_server::fault::Fault::ALL
                        .iter()
                        .map(|f| f.name())
                        .collect();
                    eprintln!("error: unknown fault {n:?} (known: {})", known.join(", "));
                    return Err(3);
                }
            }
        }
        return Ok(FuzzTarget::Reference(o));
    }
    if !args.fault.is_empty() {
        eprintln!("error: --fault applies to the built-in reference targets only");
        return Err(3);
    }
    let (p, text) = crate::profile::load_file(Path::new(&args.target)).map_err(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })?;
    let t = crate::profile::resolve(p, &text, None).await.map_err(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })?;
    if !t.has("control_api") {
        eprintln!("warning: the target has no control API: sequences cannot be isolated by a reset, and clock/actor operations are left out");
    }
    Ok(FuzzTarget::Profile(Arc::new(t)))
}

async fn command_async(args: &FuzzArgs) -> i32 {
    let src = match open(args).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let code = run_command(args, &src).await;
    if let FuzzTarget::Profile(t) = &src {
        t.shutdown().await;
    }
    code
}

async fn run_command(args: &FuzzArgs, src: &FuzzTarget) -> i32 {
    let out = args
        .out
        .clone()
        .unwrap_or_else(crate::report::default_out_dir);
    let seed = args.seed.unwrap_or_else(rand::random);
    let opts = FuzzOptions {
        seed,
        iterations: args.iterations,
        length: args.length.max(1),
        shrink_runs: args.shrink_runs,
        ..Default::default()
    };
    let replay_line = |iterations: usize| {
        let faults: String = args.fault.iter().map(|f| format!(" --fault {f}")).collect();
        format!("obo-conformance fuzz --target {}{faults} --seed {seed} --iterations {iterations} --length {}", args.target, opts.length)
    };
    let outcome = if let Some(file) = &args.replay {
        match replay(src, file).await {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    } else {
        eprintln!(
            "obo-conformance fuzz: seed {seed}, {} sequences of {} operations",
            opts.iterations, opts.length
        );
        match fuzz(src, &opts, |m| eprintln!("{m}; shrinking...")).await {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    };
    let probe = match src.fresh().await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let target_info = obo_report::Target {
        name: probe.profile.name.clone(),
        issuer: probe.issuer.clone(),
        revision: probe.profile.revision.clone(),
        profile_digest: probe.digest.clone(),
        capabilities: probe.capabilities.iter().cloned().collect(),
    };
    src.release(&probe).await;
    let requirements = crate::catalog::load(&crate::catalog::default_dir())
        .map(|c| {
            c.requirements
                .iter()
                .map(|(k, r)| {
                    (
                        k.clone(),
                        RequirementInfo {
                            section: r.section.clone(),
                            level: r.level.clone(),
                            text: r.text.clone(),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let rep = to_report(&outcome, &target_info, &requirements);
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return 2;
    }
    for n in &outcome.incomplete_notes {
        eprintln!("incomplete: {n}");
    }
    match &outcome.counterexample {
        Some(cx) => {
            println!(
                "COUNTEREXAMPLE ({}), seed {}, sequence {}:",
                name(cx.violation.property),
                cx.seed,
                cx.iteration
            );
            for (i, o) in cx.minimal.ops.iter().enumerate() {
                println!("  {}. {o}", i + 1);
            }
            println!(
                "violation: {} [{}]",
                cx.violation.message,
                cx.violation.property.requirements().join(", ")
            );
            println!(
                "shrunk from {} to {} operations in {} runs",
                cx.original.len(),
                cx.minimal.ops.len(),
                cx.shrink_runs
            );
            let saved = SavedSequence {
                seed: cx.seed,
                ops: cx.minimal.ops.clone(),
            };
            let json = out.join("counterexample.json");
            let written = serde_json::to_string_pretty(&saved)
                .map_err(|e| e.to_string())
                .and_then(|s| std::fs::write(&json, s).map_err(|e| e.to_string()));
            let style = Style {
                claims: target_info
                    .capabilities
                    .iter()
                    .any(|c| c == "jwt_access_tokens" || c == "introspection"),
            };
            let toml = script::counterexample_toml(
                "FUZZ-COUNTEREXAMPLE",
                &cx.minimal.ops,
                style,
                &cx.violation,
            )
            .unwrap_or_else(|e| format!("# {e}\n{}", cx.minimal.case_toml));
            let _ = std::fs::write(out.join("counterexample.toml"), toml);
            match written {
                Ok(()) => println!(
                    "replay: obo-conformance fuzz --target {} --replay {}",
                    args.target,
                    json.display()
                ),
                Err(e) => eprintln!("error: cannot write {}: {e}", json.display()),
            }
            if args.replay.is_none() {
                println!("or: {}", replay_line(cx.iteration + 1));
            }
        }
        None => println!(
            "no counterexample: {} sequences, {} operations, {} incomplete, {:.1} s",
            outcome.sequences,
            outcome.operations,
            outcome.incomplete,
            outcome.took.as_secs_f64()
        ),
    }
    match crate::report::write_json(&rep, &out) {
        Ok(p) => println!("report: {}", p.display()),
        Err(e) => {
            eprintln!("error: cannot write the report to {}: {e}", out.display());
            return 2;
        }
    }
    if outcome.counterexample.is_some() {
        1
    } else if outcome.sequences > 0 && outcome.incomplete == outcome.sequences {
        2
    } else {
        0
    }
}

/// Runs a saved sequence once and checks it.
pub async fn replay(src: &FuzzTarget, file: &Path) -> Result<FuzzOutcome, String> {
    let started = Instant::now();
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let saved: SavedSequence =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let run = execute(src, &saved.ops, saved.seed).await?;
    let incomplete = usize::from(run.note.is_some());
    let counterexample = run
        .violations
        .first()
        .cloned()
        .map(|violation| Counterexample {
            seed: saved.seed,
            iteration: 0,
            original: saved.ops.clone(),
            minimal: run.clone(),
            violation,
            shrink_runs: 0,
        });
    Ok(FuzzOutcome {
        seed: saved.seed,
        sequences: 1,
        operations: run.ops.len(),
        incomplete,
        incomplete_notes: run.note.clone().into_iter().collect(),
        counterexample,
        took: started.elapsed(),
    })
}
