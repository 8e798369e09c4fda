//! The case interpreter: runs one case's steps against a target and collects checks.
//!
//! Each case gets a fresh [`Session`] (cookie jar), fresh state and PKCE, and its own RNG
//! seeded from the run seed and the case ID, so the same seed gives the same requests.
//! A set-up step (no `expect`) that cannot reach the state the case needs ends the case in
//! `error`, naming the step and what was seen; a check step's observed response gives checks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use obo_report::{Check, Exchange};
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::case::{Case, Expect, Step, StepKind};
use crate::check::{self, AuthzView, CheckContext, Observation};
use crate::jose::{self, SigningKey};
use crate::profile::Target;
use crate::redact::Redactor;
use crate::session::{Request, Response, Session};
use crate::verdict::{self, Ending};
use consent::{Decision, Destination};

mod authorize;
pub mod consent;
pub mod control;
mod lifecycle;
mod request;
mod resource;
pub mod schedule;
pub mod session;
mod token;
pub mod tokens;

/// Why a case stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    Skip(String),
    Error(String),
}

type Flow<T = ()> = Result<T, Stop>;

/// Transport trouble and control-API refusals stop the case in error (the harness could not
/// drive the target), never in fail.
impl From<session::TransportError> for Stop {
    fn from(e: session::TransportError) -> Stop {
        Stop::Error(e.to_string())
    }
}

impl From<control::ControlError> for Stop {
    fn from(e: control::ControlError) -> Stop {
        match e {
            control::ControlError::Unavailable(_) => Stop::Skip(e.to_string()),
            _ => Stop::Error(e.to_string()),
        }
    }
}

/// An authorization the case made (`save` name → record).
#[derive(Debug, Clone)]
struct AuthzRecord {
    client: String,
    actor: String,
    redirect_uri: String,
    code: Option<String>,
    verifier: Option<String>,
    describe: String,
}

/// Tokens a token/refresh step obtained.
#[derive(Debug, Clone, Default)]
struct TokenRecord {
    client: String,
    access_token: Option<String>,
    refresh_token: Option<String>,
    actor_token: Option<String>,
}

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

/// Algorithms the harness accepts when it verifies a target's access token.
const VERIFY_ALGS: &[&str] = &[
    "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
];

/// The per-case seed: SHA-256 of the run seed and the case ID.
pub fn case_seed(seed: u64, id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(id.as_bytes());
    h.finalize().into()
}

pub(crate) struct CaseRun<'a> {
    pub(crate) target: &'a Target,
    case: &'a Case,
    strict: bool,
    pub(crate) session: Session,
    pub(crate) rng: ChaCha20Rng,
    key_seed: u64,
    attacker: Option<SigningKey>,
    checks: Vec<Check>,
    readings: Vec<obo_report::Reading>,
    /// Facts the case's expectations needed that the harness could not observe.
    unobserved: Vec<String>,
    authz: HashMap<String, AuthzRecord>,
    last_authz: Option<String>,
    tokens: HashMap<String, TokenRecord>,
    last_tokens: Option<String>,
    saved_actor: HashMap<String, String>,
    requests: HashMap<usize, Request>,
    last_token_step: Option<usize>,
    disabled: Vec<String>,
    waited_secs: u64,
    /// Credentials met during the case (refresh tokens, PKCE verifiers): redacted from the
    /// transcript at the end, since they appear in responses recorded before they are known.
    dynamic_secrets: Vec<String>,
    pub(crate) step_index: usize,
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
    let cs = case_seed(seed, &case.id);
    let mut key_seed_bytes = [0u8; 8];
    key_seed_bytes.copy_from_slice(&cs[..8]);
    let rng = <ChaCha20Rng as rand::SeedableRng>::from_seed(cs);
    let mut run = CaseRun {
        target,
        case,
        strict,
        session,
        rng,
        key_seed: u64::from_le_bytes(key_seed_bytes),
        attacker: None,
        checks: Vec::new(),
        readings: Vec::new(),
        unobserved: Vec::new(),
        authz: HashMap::new(),
        last_authz: None,
        tokens: HashMap::new(),
        last_tokens: None,
        saved_actor: HashMap::new(),
        requests: HashMap::new(),
        last_token_step: None,
        disabled: Vec::new(),
        waited_secs: 0,
        dynamic_secrets: Vec::new(),
        step_index: 0,
    };
    let ending = match run.applicability() {
        Some(why) => Ending::Skipped(why),
        None => run.steps().await,
    };
    let ending = verdict::conclude(ending, &run.unobserved);
    run.restore().await;
    let mut transcript = std::mem::take(&mut run.session.transcript);
    scrub(&mut transcript, std::mem::take(&mut run.dynamic_secrets));
    Executed {
        ending,
        checks: run.checks,
        transcript,
        readings: run.readings,
        waited_secs: run.waited_secs,
    }
}

/// Redacts the case's dynamic secrets from every recorded exchange: one automaton per case.
fn scrub(transcript: &mut [Exchange], secrets: Vec<String>) {
    if secrets.is_empty() {
        return;
    }
    // The structural rules already ran when each exchange was recorded (Session::record).
    let r = Redactor::new(secrets);
    transcript
        .iter_mut()
        .for_each(|ex| r.redact_exchange_secrets(ex));
}

impl<'a> CaseRun<'a> {
    /// Why the case does not apply to the target, if it does not.
    fn applicability(&self) -> Option<String> {
        let rev = &self.target.profile.revision;
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
            .filter(|n| !self.target.has(n))
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
            self.step_index = i;
            self.session.step = i;
            match self.step(i, step).await {
                Ok(()) => {}
                Err(Stop::Skip(why)) => return Ending::Skipped(why),
                Err(Stop::Error(why)) => {
                    return Ending::Errored(format!("step[{i}] ({}): {why}", step.kind.name()))
                }
            }
        }
        Ending::Completed
    }

    /// Undoes server-wide changes of the case (disabled actors).
    async fn restore(&mut self) {
        let disabled = std::mem::take(&mut self.disabled);
        for actor in disabled {
            let _ = self.control_raw(control::Call::EnableActor { actor }).await;
        }
    }

    async fn step(&mut self, i: usize, step: &Step) -> Flow {
        match step.kind {
            StepKind::Authorize => self.authorize(i, step).await,
            StepKind::Token => self.token(i, step).await,
            StepKind::Replay => self.replay(i, step).await,
            StepKind::ParallelToken => self.parallel_token(i, step).await,
            StepKind::ActorToken => {
                let which = step.actor.clone().unwrap_or_else(|| "a".into());
                let token = self.actor_token(&which).await?;
                let name = step.save.clone().unwrap_or_else(|| which.clone());
                self.saved_actor.insert(name, token);
                Ok(())
            }
            StepKind::AdvanceClock => {
                let seconds = step.seconds.unwrap_or(0);
                let can_move = control::ControlClient::of(self.target)
                    .is_some_and(|c| c.available(crate::profile::control::Operation::AdvanceClock));
                if can_move {
                    self.control(control::Call::AdvanceClock { seconds })
                        .await
                        .map(|_| ())
                } else {
                    self.wait_out(step.expires.as_deref()).await
                }
            }
            StepKind::Wait => {
                tokio::time::sleep(Duration::from_secs(
                    step.seconds.unwrap_or(0).clamp(0, 10) as u64
                ))
                .await;
                Ok(())
            }
            StepKind::DisableActor | StepKind::EnableActor => {
                let which = step.actor.clone().unwrap_or_else(|| "a".into());
                let id = self.actor_id(&which)?;
                let disable = step.kind == StepKind::DisableActor;
                let call = if disable {
                    control::Call::DisableActor { actor: id.clone() }
                } else {
                    control::Call::EnableActor { actor: id.clone() }
                };
                self.control(call).await?;
                if disable {
                    self.disabled.push(id);
                } else {
                    self.disabled.retain(|a| *a != id);
                }
                Ok(())
            }
            StepKind::RevokeConsent => {
                let actor = self.actor_id(step.actor.as_deref().unwrap_or("a"))?;
                let client = self
                    .client(step.client.as_deref().unwrap_or("primary"))?
                    .id
                    .clone();
                let user = self.target.profile.user.username.clone();
                self.control(control::Call::RevokeConsent {
                    user,
                    client_id: client,
                    actor,
                })
                .await
                .map(|_| ())
            }
            StepKind::Refresh => self.refresh(i, step).await,
            StepKind::Introspect => self.introspect(i, step).await,
            StepKind::Revoke => self.revoke(i, step).await,
            StepKind::Resource => self.resource(i, step).await,
            StepKind::Get => self.get(i, step).await,
        }
    }

    /// Without a clock operation: waits out the lifetime of `expires` in real time, when the
    /// profile gives it and allows the wait (`[time]`); otherwise skips saying why.
    async fn wait_out(&mut self, expires: Option<&str>) -> Flow {
        let time = &self.target.profile.time;
        let what = expires.ok_or_else(|| {
            Stop::Skip(
                "the target has no advance_clock operation and the step names nothing to wait out"
                    .into(),
            )
        })?;
        let wait = time.wait_for(what).ok_or_else(|| {
            Stop::Skip(format!(
                "the target has no advance_clock operation and the profile gives no [time] {what}_ttl_secs"
            ))
        })?;
        if wait > time.max_wait_secs {
            return Err(Stop::Skip(format!(
                "the target has no advance_clock operation; outliving the {what} needs a {wait} s wait, the profile allows max_wait_secs = {}",
                time.max_wait_secs
            )));
        }
        tracing::info!("waiting {wait} s in real time for the {what} to expire");
        tokio::time::sleep(Duration::from_secs(wait)).await;
        self.waited_secs += wait;
        Ok(())
    }

    // ---- values -------------------------------------------------------------------------

    pub(crate) fn random_b64(&mut self, n: usize) -> String {
        let mut b = vec![0u8; n];
        self.rng.fill_bytes(&mut b);
        jose::b64url(b)
    }

    pub(crate) fn attacker_key(&mut self) -> SigningKey {
        if self.attacker.is_none() {
            self.attacker = Some(SigningKey::from_seed(self.key_seed, "attacker"));
        }
        match &self.attacker {
            Some(k) => k.clone(),
            None => SigningKey::from_seed(self.key_seed, "attacker"),
        }
    }

    pub(crate) fn last_access_token(&self) -> Option<String> {
        self.last_tokens
            .as_ref()
            .and_then(|n| self.tokens.get(n))
            .and_then(|t| t.access_token.clone())
    }

    pub(crate) fn saved_actor_token(&self, name: &str) -> Option<String> {
        self.saved_actor.get(name).cloned()
    }

    // ---- checks -------------------------------------------------------------------------

    /// Records the checks of a step's expectations (`expect_any`: the first set that holds).
    fn record_checks(&mut self, i: usize, step: &Step, obs: &Observation) -> Flow {
        let ctx = CheckContext {
            step: i,
            level: self.case.level.into(),
            requirements: &self.case.requirements,
            strict: self.strict,
        };
        if let Some(e) = &step.expect {
            let e = self.expand_expect(e)?;
            let out = check::checks_of(obs, &e, &ctx);
            if let Some(amb) = step.reading() {
                let held = out.unobserved.is_empty() && out.checks.iter().all(|c| c.ok);
                self.readings
                    .push(check::reading_of_list(amb, i, obs, &e, self.strict, held));
            }
            self.checks.extend(out.checks);
            self.unobserved.extend(out.unobserved);
            return Ok(());
        }
        if let Some(alts) = &step.expect_any {
            let alts: Vec<&Expect> = if self.strict {
                alts.iter().take(1).collect()
            } else {
                alts.iter().collect()
            };
            let mut evaluated = Vec::new();
            for e in &alts {
                let e = self.expand_expect(e)?;
                evaluated.push(check::checks_of(obs, &e, &ctx));
            }
            let n = evaluated.len();
            let chosen = evaluated.iter().position(|cs| {
                cs.unobserved.is_empty()
                    && cs
                        .checks
                        .iter()
                        .all(|c| c.ok || c.level != obo_report::Level::Must)
            });
            if let Some(amb) = step.reading() {
                let labels = alts.iter().map(|e| e.outcome_label()).collect();
                self.readings
                    .push(check::reading_of_alternatives(amb, i, obs, chosen, labels));
            }
            match chosen {
                Some(k) => {
                    let mut cs = evaluated.swap_remove(k).checks;
                    for c in &mut cs {
                        c.name = format!("outcome {}/{n}: {}", k + 1, c.name);
                    }
                    self.checks.extend(cs);
                }
                None => {
                    for (k, cs) in evaluated.into_iter().enumerate() {
                        let mut failed: Vec<Check> =
                            cs.checks.into_iter().filter(|c| !c.ok).collect();
                        for c in &mut failed {
                            c.name = format!("outcome {}/{n}: {}", k + 1, c.name);
                        }
                        // Only the failed checks of each alternative explain why none held.
                        self.checks.extend(failed);
                        self.unobserved.extend(cs.unobserved);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The `error` parameter of a Bearer challenge.
pub fn bearer_error(h: &str) -> Option<String> {
    let lower = h.to_ascii_lowercase();
    let start = lower.find("error=")? + "error=".len();
    let rest = h.get(start..)?;
    let v = if let Some(stripped) = rest.strip_prefix('"') {
        stripped.split('"').next()?
    } else {
        rest.split([',', ' ']).next()?
    };
    Some(v.to_string())
}

/// "status 400, error invalid_grant" for messages.
pub fn summarize(resp: &Response) -> String {
    let err = resp
        .json()
        .and_then(|j| j.get("error").and_then(Value::as_str).map(str::to_string))
        .or_else(|| resp.header("www-authenticate").and_then(bearer_error));
    match err {
        Some(e) => format!("status {}, error {e}", resp.status),
        None => format!("status {}", resp.status),
    }
}

/// Why a token endpoint response gave no usable access token, naming the cause: an error
/// answer, a body cut at the size cap, a compressed body, a body that is not JSON, or JSON
/// without `access_token`.
pub fn why_no_token(resp: &Response) -> String {
    let json = resp.json();
    let error = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(Value::as_str);
    let cause = if let Some(e) = error {
        format!("error {e}")
    } else if resp.truncated {
        "the body is too large (cut at the size cap)".to_string()
    } else if let Some(enc) = resp
        .header("content-encoding")
        .filter(|e| !e.eq_ignore_ascii_case("identity"))
        .filter(|_| json.is_none())
    {
        format!("the body is compressed (Content-Encoding: {enc}) and not JSON")
    } else if json.is_none() {
        "the body is not JSON".to_string()
    } else if !(200..300).contains(&resp.status) {
        "no access_token".to_string()
    } else {
        "the JSON body has no access_token string".to_string()
    };
    format!("status {}, {cause}", resp.status)
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_error_parses_quoted_and_bare() {
        assert_eq!(
            bearer_error(r#"Bearer realm="x", error="invalid_token""#).as_deref(),
            Some("invalid_token")
        );
        assert_eq!(
            bearer_error("Bearer error=insufficient_scope, scope=\"a\"").as_deref(),
            Some("insufficient_scope")
        );
        assert_eq!(bearer_error("Bearer realm=\"x\""), None);
    }

    #[test]
    fn case_seed_depends_on_seed_and_id() {
        assert_eq!(case_seed(1, "A"), case_seed(1, "A"));
        assert_ne!(case_seed(1, "A"), case_seed(2, "A"));
        assert_ne!(case_seed(1, "A"), case_seed(1, "B"));
    }
}
