//! Token lifecycle steps: `refresh`, `introspect` (RFC 7662) and `revoke` (RFC 7009).

use serde_json::Value;
use url::Url;

use super::case_run::CaseRun;
use super::context::TargetContext;
use super::response::{bearer_error, refuses_token_type, summarize};
use super::stop::{Flow, Stop};
use crate::case::forgery::Forgery;
use crate::case::step::{Edits, IntrospectStep, RefreshStep, RevokeStep};
use crate::case::vocabulary::{ActorName, ClientAuth, ClientName, IntrospectToken, RevokeToken};
use crate::case::Step;
use crate::check::Observation;
use crate::exec::tokens::actor_token::actor_client;
use crate::session::{Request, Response};

impl CaseRun<'_> {
    pub(super) async fn refresh(&mut self, i: usize, r: &RefreshStep, step: &Step) -> Flow {
        let (req, name, client_name, actor_token) = self.refresh_request(r)?;
        let resp = self.cx.session.send(&req).await?;
        self.memory.keep_request(i, req, true);
        let save = r.save.as_deref().unwrap_or(&name);
        self.memory
            .save_tokens(step.is_check(), save, &resp, client_name, actor_token);
        self.observe_token_response(i, step, &resp).await
    }

    /// The refresh_token grant request of a `refresh`/`parallel_refresh` step, with the name of
    /// the tokens record it refreshes, its client and its actor token.
    pub(super) fn refresh_request(
        &mut self,
        r: &RefreshStep,
    ) -> Flow<(Request, String, ClientName, Option<String>)> {
        let (name, rec) = self.memory.tokens_record(r.tokens.as_deref())?;
        let Some(refresh) = rec.refresh_token.clone() else {
            return Err(Stop::Error(format!(
                "tokens {name:?} hold no refresh token"
            )));
        };
        let client_name = r.client.unwrap_or(rec.client);
        let client = self.cx.client(client_name)?;
        let endpoint = self.cx.target.endpoints.token.clone();
        let pairs = vec![
            ("grant_type".to_string(), "refresh_token".to_string()),
            ("refresh_token".into(), refresh),
        ];
        let req =
            self.cx
                .authenticated_form(client, ClientAuth::Profile, endpoint, pairs, r.edits())?;
        Ok((req, name, client_name, rec.actor_token.clone()))
    }

    /// The token `kind` of the tokens record `tokens` (default: the last), with its
    /// `token_type_hint`. A record without an actor token answers with a fresh one of actor a.
    pub(super) async fn pick_token(
        &mut self,
        tokens: Option<&str>,
        kind: IntrospectToken,
    ) -> Flow<(String, &'static str)> {
        let (name, rec) = self.memory.tokens_record(tokens)?;
        let (value, hint) = match kind {
            IntrospectToken::Refresh => (rec.refresh_token, "refresh_token"),
            IntrospectToken::Actor => match rec.actor_token {
                Some(t) => (Some(t), "access_token"),
                None => (
                    Some(self.cx.actor_token(ActorName::A).await?),
                    "access_token",
                ),
            },
            IntrospectToken::Access => (rec.access_token, "access_token"),
        };
        let v =
            value.ok_or_else(|| Stop::Error(format!("tokens {name:?} hold no {kind} token")))?;
        Ok((v, hint))
    }

    /// An introspection (RFC 7662 §2.1) or revocation (RFC 7009 §2.1) request: `token` with its
    /// `token_type_hint`, the client authenticated by `auth` (default: as the profile says), then
    /// the step's edits.
    fn token_form(
        &mut self,
        endpoint: Url,
        client: ClientName,
        auth: Option<ClientAuth>,
        token: String,
        hint: &str,
        edits: Edits<'_>,
    ) -> Flow<Request> {
        let client = self.cx.client(client)?;
        let pairs = vec![
            ("token".to_string(), token),
            ("token_type_hint".into(), hint.into()),
        ];
        let auth = auth.unwrap_or(ClientAuth::Profile);
        self.cx
            .authenticated_form(client, auth, endpoint, pairs, edits)
    }

    /// [`Self::pick_token`] with the step's signature forgery applied, if it asks for one.
    async fn pick_forged_token(
        &mut self,
        tokens: Option<&str>,
        kind: IntrospectToken,
        forge: Option<Forgery>,
    ) -> Flow<(String, &'static str)> {
        let (token, hint) = self.pick_token(tokens, kind).await?;
        let token = match forge {
            Some(f) => self.cx.signature_forgery(&token, f)?,
            None => token,
        };
        Ok((token, hint))
    }

    pub(super) async fn introspect(&mut self, i: usize, r: &IntrospectStep, step: &Step) -> Flow {
        let kind = r.token.unwrap_or(IntrospectToken::Access);
        let (token, hint) = self
            .pick_forged_token(r.tokens.as_deref(), kind, r.forge)
            .await?;
        let endpoint = self
            .cx
            .target
            .endpoints
            .introspection
            .clone()
            .ok_or_else(|| Stop::Skip("the target has no introspection endpoint".into()))?;
        let client = r.client.unwrap_or(ClientName::Primary);
        let req = self.token_form(endpoint, client, r.auth, token, hint, r.edits())?;
        let mut resp = self.cx.session.send(&req).await?;
        if hint == "access_token" && refuses_token_type(&resp) {
            // The AS does not introspect its access tokens (JWTs, typically). When the case
            // asks whether the grant was revoked, its refresh token answers as well (RFC 7009
            // §2.1: revoking a grant invalidates both); otherwise nothing can be observed.
            let (_, rec) = self.memory.tokens_record(r.tokens.as_deref())?;
            let wants_inactive = step
                .expect
                .as_ref()
                .is_some_and(|e| e.active == Some(false));
            match rec.refresh_token {
                Some(refresh) if wants_inactive && r.forge.is_none() => {
                    resp = self
                        .cx
                        .introspect_raw(&refresh, Some("refresh_token"))
                        .await?;
                }
                _ => {
                    return Err(Stop::Skip(format!(
                        "the target does not introspect its access tokens ({}; RFC 7009 §2.2.1 \
                         unsupported_token_type)",
                        summarize(&resp)
                    )))
                }
            }
        }
        self.observe_plain(i, step, &resp)
    }

    pub(super) async fn revoke(&mut self, i: usize, r: &RevokeStep, step: &Step) -> Flow {
        let kind = match r.token.as_ref().unwrap_or(&RevokeToken::Access) {
            RevokeToken::Saved(name) => {
                let actor = r.actor.unwrap_or(ActorName::A);
                return self.revoke_actor_token(i, step, name, actor).await;
            }
            RevokeToken::Access => IntrospectToken::Access,
            RevokeToken::Refresh => IntrospectToken::Refresh,
        };
        let (token, hint) = self
            .pick_forged_token(r.tokens.as_deref(), kind, r.forge)
            .await?;
        let endpoint = self
            .cx
            .target
            .endpoints
            .revocation
            .clone()
            .ok_or_else(|| Stop::Skip("the target has no revocation endpoint".into()))?;
        let client_name = match r.client {
            Some(c) => c,
            None => self.memory.tokens_record(r.tokens.as_deref())?.1.client,
        };
        let req = self.token_form(endpoint, client_name, r.auth, token, hint, r.edits())?;
        let resp = self.cx.session.send(&req).await?;
        // RFC 7009 §2.2.1: an AS that does not revoke this token type answers 400
        // `unsupported_token_type`. Revoking access tokens is optional (OBO-INH-23), so what the
        // case checks after the revocation does not apply. `--strict` judges the answer instead.
        if hint == "access_token"
            && refuses_token_type(&resp)
            && !(self.cx.strict && step.is_check())
        {
            return Err(Stop::Skip(format!(
                "the target does not revoke access tokens ({}; RFC 7009 §2.2.1)",
                summarize(&resp)
            )));
        }
        if !step.is_check() && !(200..300).contains(&resp.status) {
            return Err(Stop::Error(format!(
                "revocation failed: {}",
                summarize(&resp)
            )));
        }
        self.observe_plain(i, step, &resp)
    }

    /// Revokes an actor token kept by an `actor_token` step (RFC 7009), authenticated as the
    /// actor it was issued to (§2.1: a client revokes only its own tokens). A target that cannot
    /// revoke actor tokens (no endpoint, no actor credentials, `unsupported_token_type`) makes
    /// the case a skip: the revoked-actor-token check (OBO-TOKEN-10) does not apply to it.
    async fn revoke_actor_token(
        &mut self,
        i: usize,
        step: &Step,
        name: &str,
        which: ActorName,
    ) -> Flow {
        let token = self
            .memory
            .saved_actor_token(name)
            .ok_or_else(|| Stop::Error(format!("no actor token saved as {name:?}")))?;
        let endpoint = self.cx.target.endpoints.revocation.clone().ok_or_else(|| {
            Stop::Skip(
                "the target has no revocation endpoint: actor tokens cannot be revoked".into(),
            )
        })?;
        let actor = self
            .cx
            .target
            .actor(which.name())
            .ok_or_else(|| Stop::Skip(format!("the profile has no actor {:?}", which.name())))?
            .clone();
        let client = actor_client(&actor).ok_or_else(|| {
            Stop::Skip(format!(
                "actor {:?} has no client_credentials source: the harness holds no credentials to revoke its token with (RFC 7009 §2.1)",
                which.name()
            ))
        })?;
        let pairs = vec![
            ("token".to_string(), token),
            ("token_type_hint".into(), "access_token".into()),
        ];
        let req = self.cx.authenticated_form(
            &client,
            ClientAuth::Profile,
            endpoint,
            pairs,
            Edits::default(),
        )?;
        let resp = self.cx.session.send(&req).await?;
        let error = resp
            .json()
            .and_then(|j| j.get("error").and_then(Value::as_str).map(str::to_string));
        if error.as_deref() == Some("unsupported_token_type") {
            return Err(Stop::Skip(
                "the target does not revoke actor tokens (unsupported_token_type, RFC 7009 §2.2.1)"
                    .into(),
            ));
        }
        if !step.is_check() && !(200..300).contains(&resp.status) {
            return Err(Stop::Error(format!(
                "revoking the actor token failed: {}",
                summarize(&resp)
            )));
        }
        self.observe_plain(i, step, &resp)
    }

    /// Observation of a response checked by status, headers, JSON and error code only.
    pub(super) fn observe_plain(&mut self, i: usize, step: &Step, resp: &Response) -> Flow {
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
        self.record_checks(i, step, &obs)
    }
}

impl TargetContext<'_> {
    /// An introspection request (RFC 7662) authenticated as the primary client.
    pub(crate) async fn introspect_raw(
        &mut self,
        token: &str,
        hint: Option<&str>,
    ) -> Flow<Response> {
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
        let req = self.authenticated_form(
            client,
            ClientAuth::Profile,
            endpoint,
            pairs,
            Edits::default(),
        )?;
        self.session.send(&req).await.map_err(Stop::from)
    }
}
