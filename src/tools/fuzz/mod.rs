//! Model-based stateful fuzzing.
//!
//! From a seed, [`op::generate`] makes random sequences of operations (authorize for an actor
//! and approve or deny, redeem a code with some actor's token, replay, parallel redemptions,
//! advance the clock, disable/enable an actor, revoke consent, refresh, call the resource
//! server). [`script::build`] turns a sequence into a case of the case language, which the
//! harness's own interpreter ([`crate::exec`]) runs against a target: a new in-process
//! reference server per sequence, or a profile target. A profile target needs no reset: every
//! sequence is self-contained (fresh authorizations with fresh state and PKCE, actor tokens
//! fetched at its start, the model tracking only what the sequence created), and the control
//! adapter's `reset` is called before each sequence only when the profile maps one. Operations
//! that need a control operation the target lacks are left out ([`Plan::left_out`]).
//! [`model::check`] then
//! walks the observations and reports any success the draft forbids. A counterexample is
//! shrunk by delta debugging ([`shrink`]), re-running each candidate on a fresh target, and
//! reported as a failing case of a report.json, with the sequence saved for `--replay`.
//!
//! Library use: [`FuzzTarget`] + [`FuzzOptions`] → [`fuzz`] → [`FuzzOutcome`]; [`to_report`].

pub mod model;
pub mod observe;
pub mod op;
mod report;
pub mod script;
pub mod shrink;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::exec::control::{Call, ControlClient};
use crate::exec::{self, Executed};
use crate::profile::control::Operation;
use crate::profile::reference::{self, ReferenceOptions};
use crate::profile::Target;
use crate::verdict::Ending;
use model::Violation;
use observe::Observed;
use op::{Abilities, Op};
use script::Style;

pub use report::{name, to_report, SavedSequence};

/// Case ID of the fuzz result in the report.
pub const CASE_ID: &str = "FUZZ-MODEL";

/// Where sequences run.
pub enum FuzzTarget {
    /// A new in-process reference server for every sequence (faults, form mode).
    Reference(ReferenceOptions),
    /// A resolved profile target, shared by every sequence; reset through its control adapter
    /// before each one when the adapter has a `reset` operation.
    Profile(Arc<Target>),
}

impl FuzzTarget {
    pub async fn fresh(&self) -> Result<Arc<Target>, String> {
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

    pub async fn release(&self, t: &Target) {
        if matches!(self, FuzzTarget::Reference(_)) {
            t.shutdown().await;
        }
    }
}

/// The control adapter's `reset` (docs/contracts.md: forget codes, consents, clock offset,
/// disables), when the target has one; otherwise nothing: sequences do not need it.
async fn reset(t: &Target) -> Result<(), String> {
    match ControlClient::of(t) {
        Some(control) if control.available(Operation::Reset) => {
            control.reset().await.map_err(|e| e.to_string())
        }
        _ => Ok(()),
    }
}

/// Whether the control adapter can do `op`.
fn can(t: &Target, op: Operation) -> bool {
    ControlClient::of(t).is_some_and(|c| c.available(op))
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
    /// Operations not generated, each with what the target lacks for it.
    pub left_out: Vec<String>,
    pub counterexample: Option<Counterexample>,
    pub took: Duration,
}

/// What a target allows the fuzzer to do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub abilities: Abilities,
    pub style: Style,
    /// Operations left out, each with what the target lacks for it.
    pub left_out: Vec<String>,
}

/// The abilities and step style a target allows.
pub fn plan(t: &Target) -> Result<Plan, String> {
    for which in ["a", "b"] {
        if t.actor(which).is_none() {
            return Err(format!(
                "the profile has no actor {which:?}; fuzzing needs two actors"
            ));
        }
    }
    let reset = can(t, Operation::Reset);
    let second_user = t.profile.user.second.is_some();
    let interactive = t.has("interactive_consent");
    let ab = Abilities {
        clock: can(t, Operation::AdvanceClock),
        disable: can(t, Operation::DisableActor) && can(t, Operation::EnableActor),
        revoke_consent: can(t, Operation::RevokeConsent),
        // Without a reset the primary user's stored consents are unknown: a deny is only
        // meaningful for a user the fuzzer never approves anything for.
        deny: interactive && (reset || second_user),
        deny_as_second_user: !reset && second_user,
        refresh: t.has("refresh_tokens"),
        actor_resource: t.has("resource_server")
            && t.profile
                .resource
                .as_ref()
                .is_some_and(|r| r.actor_url.is_some()),
        second_client: t.profile.client.second.is_some(),
        wider_scope: t.profile.scope.extra.is_some(),
    };
    let mut left_out = Vec::new();
    let mut lacks = |cond: bool, what: &str, why: &str| {
        if !cond {
            left_out.push(format!("{what} ({why})"));
        }
    };
    lacks(
        ab.clock,
        "advance the clock",
        "no advance_clock control operation",
    );
    lacks(
        ab.disable,
        "disable/enable an actor",
        "no disable_actor and enable_actor control operations",
    );
    lacks(
        ab.revoke_consent,
        "revoke consent",
        "no revoke_consent control operation",
    );
    lacks(
        ab.deny,
        "deny consent",
        if !interactive {
            "the consent driver cannot deny"
        } else {
            "no reset and no [user.second]"
        },
    );
    lacks(ab.refresh, "refresh", "no refresh_tokens capability");
    lacks(
        ab.actor_resource,
        "call an actor's resource",
        "no resource.actor_url",
    );
    lacks(
        ab.second_client,
        "cross-client redemption",
        "no [client.second]",
    );
    lacks(ab.wider_scope, "scope escalation", "no [scope] extra");
    let style = Style {
        claims: t.has("jwt_access_tokens") || t.has("introspection"),
    };
    Ok(Plan {
        abilities: ab,
        style,
        left_out,
    })
}

/// Runs `ops` once on a fresh target and checks the model.
pub async fn execute(src: &FuzzTarget, ops: &[Op], seed: u64) -> Result<Execution, String> {
    let target = src.fresh().await?;
    let result = execute_on(&target, ops, seed).await;
    src.release(&target).await;
    result
}

async fn execute_on(target: &Arc<Target>, ops: &[Op], seed: u64) -> Result<Execution, String> {
    let style = plan(target)?.style;
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
            readings: vec![],
            waited_secs: 0,
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
                readings: vec![],
                waited_secs: 0,
            }
        }
    };
    if note_of(&executed).is_some() {
        reenable(target, &ops).await;
    }
    let extra: Vec<String> = target
        .profile
        .scope
        .extra
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let (observed, note) = observe::observe(&executed, ops.len(), &extra);
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

fn note_of(e: &Executed) -> Option<&str> {
    match &e.ending {
        Ending::Completed => None,
        Ending::Skipped(w) | Ending::Errored(w) => Some(w),
    }
}

/// After a sequence that did not finish (its task may have been stopped before the interpreter
/// undid its changes): enables the actors it disabled, so that the next sequence on a shared
/// target without a reset starts with both actors enabled.
async fn reenable(target: &Target, ops: &[Op]) {
    let Some(control) = ControlClient::of(target) else {
        return;
    };
    for a in [op::Actor::A, op::Actor::B] {
        let touched = ops.contains(&Op::Disable { actor: a });
        if let (true, Some(actor)) = (touched, target.actor(a.which())) {
            let _ = control
                .call(&Call::EnableActor {
                    actor: actor.id.clone(),
                })
                .await;
        }
    }
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
    let planned = planned?;
    let abilities = planned.abilities;
    let mut rng = ChaCha20Rng::seed_from_u64(opts.seed);
    let mut outcome = FuzzOutcome {
        seed: opts.seed,
        sequences: 0,
        operations: 0,
        incomplete: 0,
        incomplete_notes: Vec::new(),
        left_out: planned.left_out,
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
        left_out: Vec::new(),
        counterexample,
        took: started.elapsed(),
    })
}
