//! The case interpreter: runs one case's steps against a target and collects checks.
//!
//! Each case gets a fresh [`Session`] (cookie jar), fresh state and PKCE, and its own RNG
//! seeded from the run seed and the case ID, so the same seed gives the same requests.
//! A set-up step (no `expect`) that cannot reach the state the case needs ends the case in
//! `error`, naming the step and what was seen; a check step's observed response gives checks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use obo_report::{Check, Exchange};
use rand::RngCore;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::case::{Case, Expect, Step, StepKind};
use crate::check::{self, AuthzView, CheckContext, Observation};
use crate::consent::{self, Decision, Destination};
use crate::jose::{self, SigningKey};
use crate::profile::{AuthMethod, Client, Target};
use crate::redact::Redactor;
use crate::session::{Request, Response, Session};
use crate::verdict::Ending;

/// Why a case stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    Skip(String),
    Error(String),
}

type Flow<T = ()> = Result<T, Stop>;

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
    authz: HashMap<String, AuthzRecord>,
    last_authz: Option<String>,
    tokens: HashMap<String, TokenRecord>,
    last_tokens: Option<String>,
    saved_actor: HashMap<String, String>,
    requests: HashMap<usize, Request>,
    last_token_step: Option<usize>,
    disabled: Vec<String>,
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
        authz: HashMap::new(),
        last_authz: None,
        tokens: HashMap::new(),
        last_tokens: None,
        saved_actor: HashMap::new(),
        requests: HashMap::new(),
        last_token_step: None,
        disabled: Vec::new(),
        dynamic_secrets: Vec::new(),
        step_index: 0,
    };
    let ending = match run.applicability() {
        Some(why) => Ending::Skipped(why),
        None => run.steps().await,
    };
    run.restore().await;
    let mut transcript = std::mem::take(&mut run.session.transcript);
    scrub(&mut transcript, std::mem::take(&mut run.dynamic_secrets));
    Executed {
        ending,
        checks: run.checks,
        transcript,
    }
}

/// Redacts the case's dynamic secrets from every recorded exchange.
fn scrub(transcript: &mut [Exchange], secrets: Vec<String>) {
    if secrets.is_empty() {
        return;
    }
    let r = Redactor::new(secrets);
    for ex in transcript {
        ex.request.url = r.redact(&ex.request.url);
        ex.request.body = ex.request.body.as_deref().map(|b| r.redact(b));
        for (_, v) in ex.request.headers.iter_mut() {
            *v = r.redact(v);
        }
        if let Some(resp) = &mut ex.response {
            resp.body = resp.body.as_deref().map(|b| r.redact(b));
            for (_, v) in resp.headers.iter_mut() {
                *v = r.redact(v);
            }
        }
    }
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
            let _ = self
                .control_raw("actors/enable", json!({ "actor": actor }))
                .await;
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
                self.control("clock/advance", json!({ "seconds": seconds }))
                    .await
                    .map(|_| ())
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
                let (path, disable) = if step.kind == StepKind::DisableActor {
                    ("actors/disable", true)
                } else {
                    ("actors/enable", false)
                };
                self.control(path, json!({ "actor": id })).await?;
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
                self.control(
                    "consents/revoke",
                    json!({ "user": user, "client_id": client, "actor": actor }),
                )
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

    pub(crate) fn expand(&self, s: &str) -> Flow<String> {
        crate::vars::substitute(s, |n| self.target.variable(n))
            .map_err(|n| Stop::Skip(format!("the profile gives no value for ${{{n}}}")))
    }

    fn expand_value(&self, v: &toml::Value) -> Flow<toml::Value> {
        Ok(match v {
            toml::Value::String(s) => toml::Value::String(self.expand(s)?),
            toml::Value::Array(a) => toml::Value::Array(
                a.iter()
                    .map(|x| self.expand_value(x))
                    .collect::<Flow<_>>()?,
            ),
            toml::Value::Table(t) => {
                let mut out = toml::map::Map::new();
                for (k, x) in t {
                    out.insert(k.clone(), self.expand_value(x)?);
                }
                toml::Value::Table(out)
            }
            other => other.clone(),
        })
    }

    fn expand_expect(&self, e: &Expect) -> Flow<Expect> {
        let mut e = e.clone();
        let table = |t: &mut Option<std::collections::BTreeMap<String, toml::Value>>| -> Flow {
            if let Some(t) = t {
                for v in t.values_mut() {
                    *v = self.expand_value(v)?;
                }
            }
            Ok(())
        };
        table(&mut e.json)?;
        table(&mut e.json_contains)?;
        table(&mut e.claims)?;
        if let Some(s) = &e.client_claim {
            e.client_claim = Some(self.expand(s)?);
        }
        if let Some(s) = &e.scope_within {
            e.scope_within = Some(self.expand(s)?);
        }
        if let Some(list) = &e.consent_page_contains {
            e.consent_page_contains =
                Some(list.iter().map(|s| self.expand(s)).collect::<Flow<_>>()?);
        }
        Ok(e)
    }

    pub(crate) fn client(&self, which: &str) -> Flow<&'a Client> {
        self.target
            .client(which)
            .ok_or_else(|| Stop::Skip(format!("the profile has no {which} client")))
    }

    pub(crate) fn actor_id(&self, which: &str) -> Flow<String> {
        self.target
            .actor(which)
            .map(|a| a.id.clone())
            .ok_or_else(|| Stop::Skip(format!("the profile has no actor {which:?}")))
    }

    /// -00 wire names for the -02 names cases are written with.
    fn wire(&self, name: &str) -> String {
        if self.target.profile.revision == "00" {
            match name {
                "requested_actor" => return "requested_agent".into(),
                "actor_token" => return "agent_token".into(),
                _ => {}
            }
        }
        name.to_string()
    }

    fn param_value(&self, v: &toml::Value) -> Flow<String> {
        Ok(match v {
            toml::Value::String(s) => self.expand(s)?,
            other => other.to_string(),
        })
    }

    /// Applies `params`, `omit`, `append`, `duplicate` after the normal request was built.
    fn modify(&self, pairs: &mut Vec<(String, String)>, step: &Step) -> Flow {
        for (k, v) in step.params.iter().flatten() {
            let k = self.wire(k);
            let v = self.param_value(v)?;
            match pairs.iter_mut().find(|(n, _)| *n == k) {
                Some(slot) => slot.1 = v,
                None => pairs.push((k, v)),
            }
        }
        for k in step.omit.iter().flatten() {
            let k = self.wire(k);
            pairs.retain(|(n, _)| *n != k);
        }
        for (k, v) in step.append.iter().flatten() {
            pairs.push((self.wire(k), self.param_value(v)?));
        }
        for k in step.duplicate.iter().flatten() {
            let k = self.wire(k);
            if let Some((_, v)) = pairs.iter().find(|(n, _)| *n == k).cloned() {
                pairs.push((k, v));
            }
        }
        Ok(())
    }

    // ---- client authentication ----------------------------------------------------------

    /// Adds client authentication for `client` to a request to `endpoint`.
    /// `mode`: `profile`, `none` (client_id only) or `wrong_secret`.
    pub(crate) fn client_auth(
        &mut self,
        client: &Client,
        mode: &str,
        endpoint: &Url,
        pairs: &mut Vec<(String, String)>,
        headers: &mut Vec<(String, String)>,
    ) {
        let id = client.id.clone();
        let secret = match mode {
            "wrong_secret" => Some(format!("wrong-{}", self.random_b64(9))),
            _ => client.secret.clone(),
        };
        let push_id = |pairs: &mut Vec<(String, String)>| {
            if !pairs.iter().any(|(k, _)| k == "client_id") {
                pairs.push(("client_id".into(), id.clone()));
            }
        };
        if mode == "none" {
            push_id(pairs);
            return;
        }
        match client.auth_method {
            AuthMethod::ClientSecretBasic => {
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let raw = format!("{}:{}", enc(&id), enc(secret.as_deref().unwrap_or("")));
                let b = base64::engine::general_purpose::STANDARD.encode(raw);
                headers.push(("authorization".into(), format!("Basic {b}")));
            }
            AuthMethod::ClientSecretPost => {
                push_id(pairs);
                pairs.push(("client_secret".into(), secret.unwrap_or_default()));
            }
            AuthMethod::None => push_id(pairs),
            AuthMethod::PrivateKeyJwt => {
                push_id(pairs);
                let key = match (mode, client.key_pem.as_deref().map(SigningKey::from_pem)) {
                    ("wrong_secret", _) | (_, None) | (_, Some(Err(_))) => self.attacker_key(),
                    (_, Some(Ok(k))) => k,
                };
                let now = now_unix();
                let jti = self.random_b64(16);
                let claims = json!({ "iss": id, "sub": id, "aud": endpoint.as_str(), "iat": now, "exp": now + 60, "jti": jti });
                let assertion = key.sign(&json!({ "typ": "JWT" }), &claims);
                pairs.push((
                    "client_assertion_type".into(),
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                pairs.push(("client_assertion".into(), assertion));
            }
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

    // ---- authorize ----------------------------------------------------------------------

    async fn authorize(&mut self, i: usize, step: &Step) -> Flow {
        let client_name = step.client.clone().unwrap_or_else(|| "primary".into());
        let client = self.client(&client_name)?;
        let actor = step.actor.clone().unwrap_or_else(|| "a".into());
        let scope = self.expand(step.scope.as_deref().unwrap_or("${scope}"))?;
        let pkce = step.pkce.clone().unwrap_or_else(|| "S256".into());
        let verifier = self.random_b64(32);
        let state = self.random_b64(16);
        let mut pairs: Vec<(String, String)> = vec![
            ("response_type".into(), "code".into()),
            ("client_id".into(), client.id.clone()),
            ("redirect_uri".into(), client.redirect_uri.clone()),
            ("scope".into(), scope),
            ("state".into(), state.clone()),
        ];
        match pkce.as_str() {
            "S256" => {
                pairs.push((
                    "code_challenge".into(),
                    jose::b64url(Sha256::digest(verifier.as_bytes())),
                ));
                pairs.push(("code_challenge_method".into(), "S256".into()));
            }
            "plain" => {
                pairs.push(("code_challenge".into(), verifier.clone()));
                pairs.push(("code_challenge_method".into(), "plain".into()));
            }
            _ => {}
        }
        if actor != "none" {
            pairs.push((self.wire("requested_actor"), self.actor_id(&actor)?));
        }
        self.modify(&mut pairs, step)?;
        let sent_state = pairs
            .iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.clone());
        let sent_redirect = pairs
            .iter()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.clone());
        let endpoint = self.target.endpoints.authorization.clone();
        let req = if step.method.as_deref() == Some("POST") {
            Request::post_form(endpoint, &pairs)
        } else {
            Request::get_query(endpoint, &pairs)
        };
        let decision = match step.consent.as_deref() {
            Some("deny") => Decision::Deny,
            Some("observe") => Decision::Observe,
            _ => Decision::Approve,
        };
        let registered = Url::parse(&client.redirect_uri)
            .map_err(|e| Stop::Error(format!("bad redirect_uri in the profile: {e}")))?;
        let sent_url = sent_redirect.as_deref().and_then(|s| Url::parse(s).ok());
        let dest = Destination {
            sent: sent_url.as_ref(),
            registered: &registered,
        };
        let outcome = consent::drive(&mut self.session, self.target, &req, &dest, decision)
            .await
            .map_err(Stop::Error)?;
        let expected_target = sent_url.clone().unwrap_or_else(|| registered.clone());
        let to_redirect_uri = outcome
            .redirect
            .as_ref()
            .is_some_and(|r| consent::is_redirect_uri(r, &expected_target));
        let code = if to_redirect_uri {
            outcome.param("code")
        } else {
            None
        };
        let describe = outcome.describe();
        if pkce != "none" {
            self.dynamic_secrets.push(verifier.clone());
        }
        let record = AuthzRecord {
            client: client_name,
            actor,
            redirect_uri: sent_redirect.unwrap_or_else(|| client.redirect_uri.clone()),
            code: code.clone(),
            verifier: (pkce != "none").then_some(verifier.clone()),
            describe: describe.clone(),
        };
        let name = step.save.clone().unwrap_or_else(|| "code".into());
        self.authz.insert(name.clone(), record);
        self.last_authz = Some(name);
        if !step.is_check() {
            if code.is_none() {
                return Err(Stop::Error(format!("no code came back: {describe}")));
            }
            return Ok(());
        }
        let last = outcome.last.as_ref();
        let json_body = last.and_then(Response::json);
        let redirect_error = if to_redirect_uri {
            outcome.param("error")
        } else {
            None
        };
        let error_code = redirect_error.clone().or_else(|| {
            json_body
                .as_ref()
                .and_then(|j| j.get("error"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let obs = Observation {
            status: outcome.status,
            headers: last.map(|r| r.headers.clone()).unwrap_or_default(),
            json: json_body,
            error_code,
            token_issued: false,
            claims: None,
            authz: Some(AuthzView {
                to_redirect_uri,
                code,
                error: redirect_error,
                state: if to_redirect_uri {
                    outcome.param("state")
                } else {
                    None
                },
                sent_state,
                describe,
            }),
            consent_prompt: outcome.consent_prompt,
            consent_page_text: outcome.consent_page_text.clone(),
            framing: outcome.framing.clone(),
            parallel: None,
        };
        self.evaluate(i, step, &obs)
    }

    // ---- token --------------------------------------------------------------------------

    /// Builds the authorization_code token request of a `token`/`parallel_token` step.
    async fn token_request(&mut self, step: &Step) -> Flow<(Request, String, String)> {
        let name = match step.code.clone().or_else(|| self.last_authz.clone()) {
            Some(n) => n,
            None => return Err(Stop::Error("no earlier authorize step".into())),
        };
        let rec = self
            .authz
            .get(&name)
            .cloned()
            .ok_or_else(|| Stop::Error(format!("no authorization saved as {name:?}")))?;
        let Some(code) = rec.code.clone() else {
            return Err(Stop::Error(format!(
                "needs the code of authorization {name:?}, but none came back ({})",
                rec.describe
            )));
        };
        let client_name = step.client.clone().unwrap_or_else(|| rec.client.clone());
        let client = self.client(&client_name)?;
        let default_actor = if rec.actor == "none" {
            "a".to_string()
        } else {
            rec.actor.clone()
        };
        let which = step.actor_token.clone().unwrap_or(default_actor);
        let actor_token = self
            .actor_token_for_request(&which, step.forge.as_deref())
            .await?;
        let grant = if self.target.profile.revision == "00" {
            "urn:ietf:params:oauth:grant-type:agent-authorization_code"
        } else {
            "authorization_code"
        };
        let mut pairs: Vec<(String, String)> = vec![
            ("grant_type".into(), grant.into()),
            ("code".into(), code),
            ("redirect_uri".into(), rec.redirect_uri.clone()),
        ];
        if let Some(v) = &rec.verifier {
            pairs.push(("code_verifier".into(), v.clone()));
        }
        let mut headers = Vec::new();
        let endpoint = self.target.endpoints.token.clone();
        // The draft makes client_id a MUST in the token request (§4.2.1), whatever the method.
        pairs.push(("client_id".into(), client.id.clone()));
        self.client_auth(
            client,
            step.auth.as_deref().unwrap_or("profile"),
            &endpoint,
            &mut pairs,
            &mut headers,
        );
        if let Some(t) = &actor_token {
            pairs.push((self.wire("actor_token"), t.clone()));
        }
        self.modify(&mut pairs, step)?;
        let mut req = if step.method.as_deref() == Some("GET") {
            Request::get_query(endpoint, &pairs)
        } else {
            Request::post_form(endpoint, &pairs)
        };
        req.headers = headers;
        Ok((req, client_name, actor_token.unwrap_or_default()))
    }

    async fn token(&mut self, i: usize, step: &Step) -> Flow {
        let (req, client_name, actor_token) = self.token_request(step).await?;
        let resp = self
            .session
            .send(&req)
            .await
            .map_err(|e| Stop::Error(e.to_string()))?;
        self.requests.insert(i, req);
        self.last_token_step = Some(i);
        self.save_tokens(step, &resp, client_name, Some(actor_token), "tokens");
        self.observe_token_response(i, step, &resp).await
    }

    fn save_tokens(
        &mut self,
        step: &Step,
        resp: &Response,
        client: String,
        actor_token: Option<String>,
        default_name: &str,
    ) {
        let json = resp.json();
        let access = json
            .as_ref()
            .and_then(|j| j.get("access_token"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let refresh = json
            .as_ref()
            .and_then(|j| j.get("refresh_token"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if access.is_none() && !step.is_check() {
            return;
        }
        let name = step
            .save
            .clone()
            .unwrap_or_else(|| default_name.to_string());
        if let Some(r) = &refresh {
            self.dynamic_secrets.push(r.clone());
        }
        let previous_refresh = self.tokens.get(&name).and_then(|t| t.refresh_token.clone());
        let previous_actor = self.tokens.get(&name).and_then(|t| t.actor_token.clone());
        if access.is_some() {
            self.tokens.insert(
                name.clone(),
                TokenRecord {
                    client,
                    access_token: access,
                    // A refresh response may omit the refresh token (no rotation): keep the old one.
                    refresh_token: refresh.or(previous_refresh),
                    actor_token: actor_token.filter(|a| !a.is_empty()).or(previous_actor),
                },
            );
            self.last_tokens = Some(name);
        }
    }

    /// Observation of a token endpoint response (token, replay, refresh).
    async fn observe_token_response(&mut self, i: usize, step: &Step, resp: &Response) -> Flow {
        let json = resp.json();
        let access = json
            .as_ref()
            .and_then(|j| j.get("access_token"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let issued = access.is_some() && (200..300).contains(&resp.status);
        if !step.is_check() {
            if !issued {
                return Err(Stop::Error(format!("no token issued: {}", summarize(resp))));
            }
            return Ok(());
        }
        let claims = match (&access, self.wants_claims(step)) {
            (Some(t), true) => Some(self.read_claims(t).await?),
            _ => None,
        };
        let obs = Observation {
            status: Some(resp.status),
            headers: resp.headers.clone(),
            error_code: json
                .as_ref()
                .and_then(|j| j.get("error"))
                .and_then(Value::as_str)
                .map(str::to_string),
            json,
            token_issued: issued,
            claims,
            ..Default::default()
        };
        self.evaluate(i, step, &obs)
    }

    fn wants_claims(&self, step: &Step) -> bool {
        step.expect
            .iter()
            .chain(step.expect_any.iter().flatten())
            .any(|e| {
                e.claims.is_some()
                    || e.claim_types.is_some()
                    || e.claims_absent.is_some()
                    || e.client_claim.is_some()
                    || e.act_differs_from_sub.is_some()
                    || e.scope_within.is_some()
            })
    }

    /// The claims of an access token: verified against the JWKS (jwt_access_tokens), or
    /// from introspection. `Ok(Err(why))` is a token whose claims cannot be trusted.
    async fn read_claims(&mut self, token: &str) -> Flow<Result<Value, String>> {
        if self.target.has("jwt_access_tokens") {
            if let Some(jwks) = &self.target.jwks {
                return Ok(jose::verify(token, jwks, VERIFY_ALGS)
                    .map(|j| j.claims)
                    .map_err(|e| {
                        format!("the access token does not verify against the target's JWKS: {e}")
                    }));
            }
        }
        if self.target.has("introspection") {
            let resp = self.introspect_raw(token, None).await?;
            let json = resp.json();
            return Ok(match json {
                Some(j) if j.get("active").and_then(Value::as_bool) == Some(true) => Ok(j),
                _ => Err(format!(
                    "introspection did not report the access token active: {}",
                    summarize(&resp)
                )),
            });
        }
        Err(Stop::Skip("the target declares neither jwt_access_tokens nor introspection: access token claims cannot be read".into()))
    }

    async fn replay(&mut self, i: usize, step: &Step) -> Flow {
        let of = step
            .of
            .or(self.last_token_step)
            .ok_or_else(|| Stop::Error("no earlier token request to replay".into()))?;
        let req =
            self.requests.get(&of).cloned().ok_or_else(|| {
                Stop::Error(format!("step[{of}] sent no token request to replay"))
            })?;
        let resp = self
            .session
            .send(&req)
            .await
            .map_err(|e| Stop::Error(e.to_string()))?;
        self.requests.insert(i, req);
        self.observe_token_response(i, step, &resp).await
    }

    async fn parallel_token(&mut self, i: usize, step: &Step) -> Flow {
        let (req, client_name, actor_token) = self.token_request(step).await?;
        let count = step.count.unwrap_or(8).clamp(2, 64);
        let client = self.session.client();
        let max = self.target.profile.http.max_response_bytes;
        let mut set = tokio::task::JoinSet::new();
        for n in 0..count {
            let (client, req) = (client.clone(), req.clone());
            set.spawn(async move {
                let started = std::time::Instant::now();
                let r = crate::session::send_raw(&client, &req, max).await;
                (n, r, started.elapsed())
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(r) => results.push(r),
                Err(e) => {
                    return Err(Stop::Error(format!(
                        "a parallel redemption task failed: {e}"
                    )))
                }
            }
        }
        results.sort_by_key(|(n, _, _)| *n);
        for (_, r, took) in &results {
            self.session.record(&req, r, *took);
        }
        let mut responses = Vec::new();
        for (_, r, _) in results {
            responses.push(r.map_err(|e| Stop::Error(e.to_string()))?);
        }
        self.requests.insert(i, req);
        self.last_token_step = Some(i);
        let success = |r: &Response| {
            (200..300).contains(&r.status)
                && r.json().is_some_and(|j| j.get("access_token").is_some())
        };
        let wins = responses.iter().filter(|r| success(r)).count();
        if let Some(first_win) = responses.iter().find(|r| success(r)) {
            self.save_tokens(step, first_win, client_name, Some(actor_token), "tokens");
        }
        if !step.is_check() {
            if wins == 0 {
                let first = responses.first().map(summarize).unwrap_or_default();
                return Err(Stop::Error(format!(
                    "none of {count} redemptions issued a token: {first}"
                )));
            }
            return Ok(());
        }
        // Other expectations apply to a losing redemption (the one that must be refused).
        let shown = responses.iter().find(|r| !success(r)).or(responses.first());
        let json = shown.and_then(Response::json);
        let obs = Observation {
            status: shown.map(|r| r.status),
            headers: shown.map(|r| r.headers.clone()).unwrap_or_default(),
            error_code: json
                .as_ref()
                .and_then(|j| j.get("error"))
                .and_then(Value::as_str)
                .map(str::to_string),
            json,
            token_issued: wins > 0,
            parallel: Some((wins, count)),
            ..Default::default()
        };
        self.evaluate(i, step, &obs)
    }

    // ---- refresh, introspect, revoke ----------------------------------------------------

    fn tokens_record(&self, name: Option<&str>) -> Flow<(String, TokenRecord)> {
        let name = name
            .map(str::to_string)
            .or_else(|| self.last_tokens.clone())
            .ok_or_else(|| Stop::Error("no earlier step obtained tokens".into()))?;
        let rec = self
            .tokens
            .get(&name)
            .cloned()
            .ok_or_else(|| Stop::Error(format!("no tokens saved as {name:?}")))?;
        Ok((name, rec))
    }

    async fn refresh(&mut self, i: usize, step: &Step) -> Flow {
        let (name, rec) = self.tokens_record(step.tokens.as_deref())?;
        let Some(refresh) = rec.refresh_token.clone() else {
            return Err(Stop::Error(format!(
                "tokens {name:?} hold no refresh token"
            )));
        };
        let client_name = step.client.clone().unwrap_or_else(|| rec.client.clone());
        let client = self.client(&client_name)?;
        let endpoint = self.target.endpoints.token.clone();
        let mut pairs = vec![
            ("grant_type".to_string(), "refresh_token".to_string()),
            ("refresh_token".into(), refresh),
        ];
        let mut headers = Vec::new();
        self.client_auth(client, "profile", &endpoint, &mut pairs, &mut headers);
        self.modify(&mut pairs, step)?;
        let mut req = Request::post_form(endpoint, &pairs);
        req.headers = headers;
        let resp = self
            .session
            .send(&req)
            .await
            .map_err(|e| Stop::Error(e.to_string()))?;
        self.requests.insert(i, req);
        self.last_token_step = Some(i);
        self.save_tokens(step, &resp, client_name, rec.actor_token.clone(), &name);
        self.observe_token_response(i, step, &resp).await
    }

    async fn introspect_raw(&mut self, token: &str, hint: Option<&str>) -> Flow<Response> {
        let endpoint = self
            .target
            .endpoints
            .introspection
            .clone()
            .ok_or_else(|| Stop::Skip("the target has no introspection endpoint".into()))?;
        let client = &self.target.profile.client.primary;
        let mut pairs = vec![("token".to_string(), token.to_string())];
        if let Some(h) = hint {
            pairs.push(("token_type_hint".into(), h.into()));
        }
        let mut headers = Vec::new();
        self.client_auth(client, "profile", &endpoint, &mut pairs, &mut headers);
        let mut req = Request::post_form(endpoint, &pairs);
        req.headers = headers;
        self.session
            .send(&req)
            .await
            .map_err(|e| Stop::Error(e.to_string()))
    }

    /// The token named by `token` (`access`, `refresh`, `actor`) of a tokens record.
    async fn pick_token(&mut self, step: &Step) -> Flow<(String, &'static str)> {
        let (name, rec) = self.tokens_record(step.tokens.as_deref())?;
        let kind = step.token.as_deref().unwrap_or("access");
        let (value, hint) = match kind {
            "refresh" => (rec.refresh_token, "refresh_token"),
            "actor" => match rec.actor_token {
                Some(t) => (Some(t), "access_token"),
                None => (Some(self.actor_token("a").await?), "access_token"),
            },
            _ => (rec.access_token, "access_token"),
        };
        let v =
            value.ok_or_else(|| Stop::Error(format!("tokens {name:?} hold no {kind} token")))?;
        Ok((v, hint))
    }

    async fn introspect(&mut self, i: usize, step: &Step) -> Flow {
        let (token, hint) = self.pick_token(step).await?;
        let resp = self.introspect_raw(&token, Some(hint)).await?;
        self.observe_plain(i, step, &resp)
    }

    async fn revoke(&mut self, i: usize, step: &Step) -> Flow {
        let (token, hint) = self.pick_token(step).await?;
        let endpoint = self
            .target
            .endpoints
            .revocation
            .clone()
            .ok_or_else(|| Stop::Skip("the target has no revocation endpoint".into()))?;
        let client_name = self.tokens_record(step.tokens.as_deref())?.1.client;
        let client = self.client(&client_name)?;
        let mut pairs = vec![
            ("token".to_string(), token),
            ("token_type_hint".into(), hint.into()),
        ];
        let mut headers = Vec::new();
        self.client_auth(client, "profile", &endpoint, &mut pairs, &mut headers);
        let mut req = Request::post_form(endpoint, &pairs);
        req.headers = headers;
        let resp = self
            .session
            .send(&req)
            .await
            .map_err(|e| Stop::Error(e.to_string()))?;
        if !step.is_check() && !(200..300).contains(&resp.status) {
            return Err(Stop::Error(format!(
                "revocation failed: {}",
                summarize(&resp)
            )));
        }
        self.observe_plain(i, step, &resp)
    }

    /// Observation of a response checked by status, headers, JSON and error code only.
    fn observe_plain(&mut self, i: usize, step: &Step, resp: &Response) -> Flow {
        if !step.is_check() {
            return Ok(());
        }
        let json = resp.json();
        let error_code = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| resp.header("www-authenticate").and_then(bearer_error));
        let obs = Observation {
            status: Some(resp.status),
            headers: resp.headers.clone(),
            json,
            error_code,
            ..Default::default()
        };
        self.evaluate(i, step, &obs)
    }

    // ---- resource, get, control ---------------------------------------------------------

    async fn resource(&mut self, i: usize, step: &Step) -> Flow {
        let res = self
            .target
            .profile
            .resource
            .clone()
            .ok_or_else(|| Stop::Skip("the profile has no resource".into()))?;
        let path = step.path.as_deref().unwrap_or("default");
        let url = match path {
            "write" => res
                .write_url
                .clone()
                .ok_or_else(|| Stop::Skip("the profile has no resource.write_url".into()))?,
            p if p.starts_with("actor:") => {
                let which = p.trim_start_matches("actor:");
                let id = self.actor_id(which)?;
                let tpl = res
                    .actor_url
                    .clone()
                    .ok_or_else(|| Stop::Skip("the profile has no resource.actor_url".into()))?;
                let enc: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
                tpl.replace("{actor}", &enc)
            }
            _ => res.url.clone(),
        };
        let url =
            Url::parse(&url).map_err(|e| Stop::Error(format!("resource URL {url:?}: {e}")))?;
        let token = match step.token.as_deref().unwrap_or("access") {
            "none" => None,
            "actor" => Some(
                self.pick_token(&Step {
                    token: Some("actor".into()),
                    ..step.clone()
                })
                .await?
                .0,
            ),
            "minted" => Some(self.minted_access_token(step).await?),
            _ => Some(
                self.tokens_record(step.tokens.as_deref())?
                    .1
                    .access_token
                    .ok_or_else(|| Stop::Error("no access token saved".into()))?,
            ),
        };
        let token = match (token, &step.forge) {
            (Some(t), Some(kind)) => Some(self.signature_forgery(&t, kind)?),
            (t, _) => t,
        };
        let mut req = Request::get(url);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = self
            .session
            .send(&req)
            .await
            .map_err(|e| Stop::Error(e.to_string()))?;
        if !step.is_check() && !(200..300).contains(&resp.status) {
            return Err(Stop::Error(format!(
                "the resource refused: {}",
                summarize(&resp)
            )));
        }
        // The RS's error code is in its challenge first (RFC 6750 §3), else in a JSON body.
        if !step.is_check() {
            return Ok(());
        }
        let json = resp.json();
        let error_code = resp
            .header("www-authenticate")
            .and_then(bearer_error)
            .or_else(|| {
                json.as_ref()
                    .and_then(|j| j.get("error"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        let obs = Observation {
            status: Some(resp.status),
            headers: resp.headers.clone(),
            json,
            error_code,
            ..Default::default()
        };
        self.evaluate(i, step, &obs)
    }

    /// A token signed by the target's key through the control API's `mint`: the saved access
    /// token's claims with the case's `mint` table merged over them, and its header.
    async fn minted_access_token(&mut self, step: &Step) -> Flow<String> {
        let rec = self.tokens_record(step.tokens.as_deref())?.1;
        let base = rec.access_token.ok_or_else(|| {
            Stop::Error("no access token saved to base the minted token on".into())
        })?;
        let jwt = jose::decode_unverified(&base).map_err(|e| {
            Stop::Skip(format!(
                "the access token is not a JWT, cannot mint a variant: {e}"
            ))
        })?;
        let mut claims = jwt.claims.clone();
        for (k, v) in step.mint.iter().flatten() {
            let v = check::toml_to_json(&self.expand_value(v)?);
            if let Value::Object(m) = &mut claims {
                m.insert(k.clone(), v);
            }
        }
        let mut header = serde_json::Map::new();
        if let Some(t) = jwt.header.get("typ") {
            header.insert("typ".into(), t.clone());
        }
        self.mint(claims, Value::Object(header)).await
    }

    pub(crate) async fn mint(&mut self, claims: Value, header: Value) -> Flow<String> {
        let resp = self
            .control("mint", json!({ "claims": claims, "header": header }))
            .await?;
        resp.get("token")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Stop::Error("control mint answered without a token".into()))
    }

    async fn get(&mut self, i: usize, step: &Step) -> Flow {
        let which = step.url.clone().unwrap_or_default();
        let url = match which.as_str() {
            "metadata" => match &self.target.endpoints.metadata {
                Some(u) => u.clone(),
                None => crate::profile::metadata_url(
                    &Url::parse(&self.target.issuer)
                        .map_err(|e| Stop::Error(format!("issuer: {e}")))?,
                ),
            },
            "jwks" => self
                .target
                .endpoints
                .jwks
                .clone()
                .ok_or_else(|| Stop::Skip("the target publishes no jwks_uri".into()))?,
            other => Url::parse(&self.expand(other)?)
                .map_err(|e| Stop::Error(format!("url {other:?}: {e}")))?,
        };
        let resp = self
            .session
            .send(&Request::get(url))
            .await
            .map_err(|e| Stop::Error(e.to_string()))?;
        self.observe_plain(i, step, &resp)
    }

    /// POST to the control API; any answer but 200 `{"ok": true}` stops the case in error.
    pub(crate) async fn control(&mut self, path: &str, body: Value) -> Flow<Value> {
        let base = self
            .target
            .endpoints
            .control
            .clone()
            .ok_or_else(|| Stop::Skip("the target has no control API".into()))?;
        let url = Url::parse(&format!("{}/{path}", base.as_str().trim_end_matches('/')))
            .map_err(|e| Stop::Error(e.to_string()))?;
        let resp = self
            .session
            .send(&Request::post_json(url, &body))
            .await
            .map_err(|e| Stop::Error(e.to_string()))?;
        let json = resp.json();
        if resp.status != 200
            || json
                .as_ref()
                .and_then(|j| j.get("ok"))
                .and_then(Value::as_bool)
                != Some(true)
        {
            return Err(Stop::Error(format!(
                "control API {path} answered {}",
                summarize(&resp)
            )));
        }
        Ok(json.unwrap_or(Value::Null))
    }

    /// Control call outside the transcript (restoring state after the case).
    async fn control_raw(&self, path: &str, body: Value) -> Option<()> {
        let base = self.target.endpoints.control.clone()?;
        let url = Url::parse(&format!("{}/{path}", base.as_str().trim_end_matches('/'))).ok()?;
        let r = crate::session::send_raw(
            &self.session.client(),
            &Request::post_json(url, &body),
            65536,
        )
        .await
        .ok()?;
        (r.status == 200).then_some(())
    }

    // ---- checks -------------------------------------------------------------------------

    /// Turns a step's expectations into checks (`expect_any`: the first set that holds).
    fn evaluate(&mut self, i: usize, step: &Step, obs: &Observation) -> Flow {
        let ctx = CheckContext {
            step: i,
            level: self.case.level.into(),
            requirements: &self.case.requirements,
            strict: self.strict,
        };
        if let Some(e) = &step.expect {
            let e = self.expand_expect(e)?;
            self.checks.extend(check::evaluate(obs, &e, &ctx));
            return Ok(());
        }
        if let Some(alts) = &step.expect_any {
            let alts: Vec<&Expect> = if self.strict {
                alts.iter().take(1).collect()
            } else {
                alts.iter().collect()
            };
            let mut evaluated = Vec::new();
            for e in alts {
                let e = self.expand_expect(e)?;
                evaluated.push(check::evaluate(obs, &e, &ctx));
            }
            let n = evaluated.len();
            let chosen = evaluated.iter().position(|cs| {
                cs.iter()
                    .all(|c| c.ok || c.level != obo_report::Level::Must)
            });
            match chosen {
                Some(k) => {
                    let mut cs = evaluated.swap_remove(k);
                    for c in &mut cs {
                        c.name = format!("outcome {}/{n}: {}", k + 1, c.name);
                    }
                    self.checks.extend(cs);
                }
                None => {
                    for (k, mut cs) in evaluated.into_iter().enumerate() {
                        for c in &mut cs {
                            c.name = format!("outcome {}/{n}: {}", k + 1, c.name);
                        }
                        // Only the failed checks of each alternative explain why none held.
                        self.checks.extend(cs.into_iter().filter(|c| !c.ok));
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
