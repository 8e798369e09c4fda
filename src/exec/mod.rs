//! The case interpreter: runs one case's steps against a target and collects checks.
//!
//! Each case gets a fresh [`Session`] (cookie jar), fresh state and PKCE, and its own RNG
//! seeded from the run seed and the case ID, so the same seed gives the same requests.
//! A set-up step (no `expect`) that cannot reach the state the case needs ends the case in
//! `error`, naming the step and what was seen; a check step's observed response gives checks.
//!
//! The rooms: [`context`] (the target, session, RNG and keys, options), [`memory`] (what the
//! case learned: codes, tokens, requests), [`case_run`] (the two plus the checks found), one
//! module per step family adding its step to `CaseRun`, [`tokens`] (actor tokens and
//! forgeries, on the target context only) and [`control`]. Imports point one way: from here
//! into the rooms, never back.

use std::sync::Arc;
use std::time::Duration;

use obo_report::{Check, Exchange};
use sha2::{Digest, Sha256};

use crate::case::step::Action;
use crate::case::{Case, Step};
use crate::profile::Target;
use crate::redact::Redactor;
use crate::session::Session;
use crate::verdict::{self, Ending};
use case_run::{CaseRun, Findings};
use context::TargetContext;
use memory::CaseMemory;
use stop::{Flow, Stop};

mod authorize;
mod case_run;
pub mod consent;
mod context;
pub mod control;
mod lifecycle;
mod memory;
mod request;
mod resource;
pub mod response;
pub mod schedule;
pub mod session;
mod stop;
mod target_state;
mod token;

/// The wrong secret `auth = "near_secret"` sends for a secret (tests check it is redacted).
pub use request::near_secret;
pub mod tokens;

pub use context::now_unix;
pub use response::{bearer_error, summarize, why_no_token};

/// The outcome of one case, before the verdict.
#[derive(Debug, Clone)]
pub struct Executed {
    pub ending: Ending,
    pub checks: Vec<Check>,
    pub transcript: Vec<Exchange>,
    /// The outcome chosen at each step annotated with an ambiguity (`reading`).
    pub readings: Vec<obo_report::Reading>,
    /// Seconds waited in real time in place of a clock operation (`[time]`).
    pub waited_secs: u64,
}

/// The per-case seed: SHA-256 of the run seed and the case ID.
pub fn case_seed(seed: u64, id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(id.as_bytes());
    h.finalize().into()
}

/// Runs one case to its ending.
pub async fn execute(
    target: &Target,
    case: &Case,
    seed: u64,
    strict: bool,
    redactor: Arc<Redactor>,
) -> Executed {
    let session = match Session::new(
        target.timeout(),
        target.profile.http.max_response_bytes,
        redactor,
    ) {
        Ok(s) => s,
        Err(e) => {
            return Executed {
                ending: Ending::Errored(e),
                checks: vec![],
                transcript: vec![],
                readings: vec![],
                waited_secs: 0,
            }
        }
    };
    let mut run = CaseRun {
        case,
        cx: TargetContext::new(target, session, seed, case_seed(seed, &case.id), strict),
        memory: CaseMemory::default(),
        findings: Findings::default(),
    };
    let ending = match run.applicability() {
        Some(why) => Ending::Skipped(why),
        None => run.steps().await,
    };
    let ending = verdict::conclude(ending, &run.findings.unobserved);
    run.cx.restore().await;
    // The one redaction point of the case: its transcript, ending and checks.
    let mut secrets = std::mem::take(&mut run.memory.dynamic_secrets);
    secrets.append(&mut run.cx.sent_secrets);
    let (redactor, transcript) = run.cx.session.finish(&secrets);
    let ending = match ending {
        Ending::Skipped(mut why) => {
            redactor.redact_quoted(&mut why);
            Ending::Skipped(why)
        }
        Ending::Errored(mut what) => {
            redactor.redact_quoted(&mut what);
            Ending::Errored(what)
        }
        completed => completed,
    };
    let mut checks = run.findings.checks;
    for check in &mut checks {
        redactor.redact_quoted(&mut check.expected);
        redactor.redact_quoted(&mut check.actual);
    }
    Executed {
        ending,
        checks,
        transcript,
        readings: run.findings.readings,
        waited_secs: run.cx.waited_secs,
    }
}

impl CaseRun<'_> {
    /// Why the case does not apply to the target, if it does not.
    fn applicability(&self) -> Option<String> {
        let rev = &self.cx.target.profile.revision;
        if !self.case.applies_to(rev) {
            let revs = self.case.revisions.clone().unwrap_or_default().join(", ");
            return Some(format!(
                "applies to revisions {revs}; the target implements -{rev}"
            ));
        }
        let missing: Vec<String> = self
            .case
            .effective_needs()
            .into_iter()
            .filter(|n| !self.cx.target.has(n))
            .collect();
        if !missing.is_empty() {
            return Some(format!(
                "the target does not declare {}",
                missing.join(", ")
            ));
        }
        None
    }

    async fn steps(&mut self) -> Ending {
        let case = self.case;
        for (i, step) in case.steps.iter().enumerate() {
            self.cx.session.step = i;
            match self.step(i, step).await {
                Ok(()) => {}
                Err(Stop::Skip(why)) => return Ending::Skipped(why),
                Err(Stop::Error(why)) => {
                    return Ending::Errored(format!("step[{i}] ({}): {why}", step.action.name()))
                }
            }
        }
        Ending::Completed
    }

    async fn step(&mut self, i: usize, step: &Step) -> Flow {
        match &step.action {
            Action::Authorize(a) => self.authorize(i, a, step).await,
            Action::Token(r) => self.token(i, r, step).await,
            Action::Replay(r) => self.replay(i, r.of, step).await,
            Action::ParallelToken(p) => self.parallel_token(i, p, step).await,
            Action::ActorToken(a) => self.keep_actor_token(a).await,
            Action::AdvanceClock(c) => self.cx.advance_clock(c.seconds, c.expires).await,
            Action::Wait(w) => {
                tokio::time::sleep(Duration::from_secs(w.seconds.clamp(0, 10) as u64)).await;
                Ok(())
            }
            Action::DisableActor(a) => self.cx.set_actor_enabled(a.actor, false).await,
            Action::EnableActor(a) => self.cx.set_actor_enabled(a.actor, true).await,
            Action::RevokeConsent(r) => self.cx.revoke_consent(r).await,
            Action::Refresh(r) => self.refresh(i, r, step).await,
            Action::ParallelRefresh(p) => self.parallel_refresh(i, p, step).await,
            Action::Introspect(r) => self.introspect(i, r, step).await,
            Action::Revoke(r) => self.revoke(i, r, step).await,
            Action::Resource(r) => self.resource(i, r, step).await,
            Action::Get(g) => self.get(i, &g.url, step).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::case_seed;

    #[test]
    fn case_seed_depends_on_seed_and_id() {
        assert_eq!(case_seed(1, "A"), case_seed(1, "A"));
        assert_ne!(case_seed(1, "A"), case_seed(2, "A"));
        assert_ne!(case_seed(1, "A"), case_seed(1, "B"));
    }
}
