//! The token endpoint steps: `token` (the authorization_code grant with an actor token),
//! `replay`, `parallel_token`; `actor_token` (a kept actor token); claims of issued access
//! tokens (verified with the JWKS or introspected).

use serde_json::Value;

use super::case_run::CaseRun;
use super::context::TargetContext;
use super::response::{summarize, why_no_token};
use super::stop::{Flow, Stop};
use crate::case::step::{ActorTokenStep, ParallelRefreshStep, ParallelTokenStep, TokenRequest};
use crate::case::vocabulary::{ActorName, ActorTokenChoice, ClientAuth, ClientName, HttpMethod};
use crate::case::Step;
use crate::check::Observation;
use crate::jose;
use crate::session::{Request, Response};

impl CaseRun<'_> {
    /// `actor_token`: a genuine actor token, kept under `save` (default: the actor's name).
    pub(super) async fn keep_actor_token(&mut self, a: &ActorTokenStep) -> Flow {
        let which = a.actor.unwrap_or(ActorName::A);
        let token = self.cx.actor_token(which).await?;
        let name = a.save.clone().unwrap_or_else(|| which.name().to_string());
        self.memory.keep_actor_token(name, token);
        Ok(())
    }

    /// Builds the authorization_code token request of a `token`/`parallel_token` step.
    pub(super) async fn token_request(
        &mut self,
        step: &TokenRequest,
    ) -> Flow<(Request, ClientName, String)> {
        let (name, rec) = self.memory.authorization(step.code.as_deref())?;
        let Some(code) = rec.code.clone() else {
            return Err(Stop::Error(format!(
                "needs the code of authorization {name:?}, but none came back ({})",
                rec.describe
            )));
        };
        let client_name = step.client.unwrap_or(rec.client);
        let client = self.cx.client(client_name)?;
        // A plain authorization (no requested actor) is redeemed with actor a's token.
        let which = step.actor_token.clone().unwrap_or(ActorTokenChoice::Actor(
            rec.actor.actor().unwrap_or(ActorName::A),
        ));
        let actor_token = self
            .cx
            .actor_token_for_request(&which, step.forge, &self.memory)
            .await?;
        let grant = if self.cx.target.profile.revision == "00" {
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
        let endpoint = self.cx.target.endpoints.token.clone();
        // The draft makes client_id a MUST in the token request (§4.2.1), whatever the method.
        pairs.push(("client_id".into(), client.id.clone()));
        self.cx.client_auth(
            client,
            step.auth.unwrap_or(ClientAuth::Profile),
            &endpoint,
            &mut pairs,
            &mut headers,
        );
        if let Some(t) = &actor_token {
            pairs.push((self.cx.wire("actor_token"), t.clone()));
        }
        self.cx.modify(&mut pairs, step.edits())?;
        let mut req = if step.method == Some(HttpMethod::Get) {
            Request::get_query(endpoint, &pairs)
        } else {
            Request::post_form(endpoint, &pairs)
        };
        req.headers = headers;
        Ok((req, client_name, actor_token.unwrap_or_default()))
    }

    pub(super) async fn token(&mut self, i: usize, r: &TokenRequest, step: &Step) -> Flow {
        let (req, client_name, actor_token) = self.token_request(r).await?;
        let resp = self.cx.session.send(&req).await?;
        self.memory.keep_request(i, req, true);
        let save = r.save.as_deref().unwrap_or("tokens");
        self.memory
            .save_tokens(step.is_check(), save, &resp, client_name, Some(actor_token));
        self.observe_token_response(i, step, &resp).await
    }

    /// Observation of a token endpoint response (token, replay, refresh).
    pub(super) async fn observe_token_response(
        &mut self,
        i: usize,
        step: &Step,
        resp: &Response,
    ) -> Flow {
        let json = resp.json();
        let access = json
            .as_ref()
            .and_then(|j| j.get("access_token"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let issued = access.is_some() && (200..300).contains(&resp.status);
        if !step.is_check() {
            if !issued {
                return Err(Stop::Error(format!(
                    "no token issued: {}",
                    why_no_token(resp)
                )));
            }
            return Ok(());
        }
        let claims = match (&access, self.wants_claims(step)) {
            (Some(t), true) => Some(self.cx.read_claims(t).await?),
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
            token_header: access
                .as_deref()
                .and_then(|t| jose::decode_unverified(t).ok())
                .map(|j| j.header),
            claims,
            token_endpoint: true,
            ..Default::default()
        };
        self.record_checks(i, step, &obs)
    }

    pub(super) fn wants_claims(&self, step: &Step) -> bool {
        step.expectations().any(|e| {
            e.claims.is_some()
                || e.claim_types.is_some()
                || e.claims_absent.is_some()
                || e.claims_present.is_some()
                || e.client_claim.is_some()
                || e.act_differs_from_sub.is_some()
                || e.scope_within.is_some()
        })
    }

    pub(super) async fn replay(&mut self, i: usize, of: Option<usize>, step: &Step) -> Flow {
        let of = of
            .or(self.memory.last_token_step)
            .ok_or_else(|| Stop::Error("no earlier token request to replay".into()))?;
        let req = self
            .memory
            .request(of)
            .ok_or_else(|| Stop::Error(format!("step[{of}] sent no token request to replay")))?;
        let resp = self.cx.session.send(&req).await?;
        self.memory.keep_request(i, req, false);
        self.observe_token_response(i, step, &resp).await
    }

    pub(super) async fn parallel_token(
        &mut self,
        i: usize,
        p: &ParallelTokenStep,
        step: &Step,
    ) -> Flow {
        let (req, client_name, actor_token) = self.token_request(&p.request).await?;
        let save = p.request.save.as_deref().unwrap_or("tokens").to_string();
        let race = Race {
            count: p.count(),
            what: "redemption",
            save,
            client: client_name,
            actor_token: Some(actor_token),
        };
        self.parallel(i, req, race, step).await
    }

    /// `parallel_refresh`: one refresh token presented `count` times at once (RFC 9700
    /// §4.14.2: a rotated refresh token is used once).
    pub(super) async fn parallel_refresh(
        &mut self,
        i: usize,
        p: &ParallelRefreshStep,
        step: &Step,
    ) -> Flow {
        let (req, name, client_name, actor_token) = self.refresh_request(&p.request)?;
        let save = p.request.save.clone().unwrap_or(name);
        let race = Race {
            count: p.count(),
            what: "refresh",
            save,
            client: client_name,
            actor_token,
        };
        self.parallel(i, req, race, step).await
    }

    /// Sends `req` `race.count` times at once and judges the responses: successes are counted
    /// (`at_most_one_success`), the first token response is saved, and the other expectations
    /// apply to a losing response (the one that must be refused).
    async fn parallel(&mut self, i: usize, req: Request, race: Race, step: &Step) -> Flow {
        let count = race.count.clamp(2, 64);
        let client = self.cx.session.client();
        let max = self.cx.target.profile.http.max_response_bytes;
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
                        "a parallel {} task failed: {e}",
                        race.what
                    )))
                }
            }
        }
        results.sort_by_key(|(n, _, _)| *n);
        for (_, r, took) in &results {
            self.cx.session.record(&req, r, *took);
        }
        let mut responses = Vec::new();
        for (_, r, _) in results {
            responses.push(r?);
        }
        self.memory.keep_request(i, req, true);
        let success = |r: &Response| {
            (200..300).contains(&r.status)
                && r.json().is_some_and(|j| j.get("access_token").is_some())
        };
        let wins = responses.iter().filter(|r| success(r)).count();
        if let Some(first_win) = responses.iter().find(|r| success(r)) {
            self.memory.save_tokens(
                step.is_check(),
                &race.save,
                first_win,
                race.client,
                race.actor_token,
            );
        }
        if !step.is_check() {
            if wins == 0 {
                let first = responses.first().map(summarize).unwrap_or_default();
                return Err(Stop::Error(format!(
                    "none of {count} {}s issued a token: {first}",
                    race.what
                )));
            }
            return Ok(());
        }
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
            token_endpoint: true,
            ..Default::default()
        };
        self.record_checks(i, step, &obs)
    }
}

/// What a parallel step races and where its first token goes.
struct Race {
    count: usize,
    /// "redemption", "refresh": how the messages name one request.
    what: &'static str,
    save: String,
    client: ClientName,
    actor_token: Option<String>,
}

/// Algorithms the harness accepts when it verifies a target's access token.
const VERIFY_ALGS: &[&str] = &[
    "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
];

impl TargetContext<'_> {
    /// The claims of an access token: verified against the JWKS (jwt_access_tokens), or
    /// from introspection. `Ok(Err(why))` is a token whose claims cannot be trusted.
    pub(crate) async fn read_claims(&mut self, token: &str) -> Flow<Result<Value, String>> {
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
}
