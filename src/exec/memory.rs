//! What a case learned while it ran: its authorizations, tokens, kept actor tokens and sent
//! token requests, by the names later steps use (`save`, `code`, `tokens`, `of`), and the
//! one-time credentials met on the way (redacted from the transcript at the end).

use std::collections::HashMap;

use serde_json::Value;

use super::session::{Request, Response};
use super::stop::{Flow, Stop};
use crate::case::vocabulary::{ClientName, RequestedActor};

/// An authorization the case made (`save` name → record).
#[derive(Debug, Clone)]
pub(crate) struct AuthzRecord {
    pub(crate) client: ClientName,
    pub(crate) actor: RequestedActor,
    pub(crate) redirect_uri: String,
    pub(crate) code: Option<String>,
    pub(crate) verifier: Option<String>,
    /// What the authorization ended in, for messages.
    pub(crate) describe: String,
}

/// Tokens a token/refresh step obtained.
#[derive(Debug, Clone)]
pub(crate) struct TokenRecord {
    pub(crate) client: ClientName,
    pub(crate) access_token: Option<String>,
    pub(crate) refresh_token: Option<String>,
    pub(crate) actor_token: Option<String>,
}

#[derive(Default)]
pub(crate) struct CaseMemory {
    authz: HashMap<String, AuthzRecord>,
    last_authz: Option<String>,
    tokens: HashMap<String, TokenRecord>,
    last_tokens: Option<String>,
    saved_actor: HashMap<String, String>,
    /// Token requests by step index (`replay`).
    requests: HashMap<usize, Request>,
    pub(crate) last_token_step: Option<usize>,
    /// Credentials met during the case (refresh tokens, PKCE verifiers): redacted from the
    /// transcript at the end, since they appear in responses recorded before they are known.
    pub(crate) dynamic_secrets: Vec<String>,
}

impl CaseMemory {
    pub(crate) fn keep_authorization(&mut self, name: String, record: AuthzRecord) {
        self.authz.insert(name.clone(), record);
        self.last_authz = Some(name);
    }

    /// The authorization saved as `name` (default: the last one).
    pub(crate) fn authorization(&self, name: Option<&str>) -> Flow<(String, AuthzRecord)> {
        let name = name
            .map(str::to_string)
            .or_else(|| self.last_authz.clone())
            .ok_or_else(|| Stop::Error("no earlier authorize step".into()))?;
        let rec = self
            .authz
            .get(&name)
            .cloned()
            .ok_or_else(|| Stop::Error(format!("no authorization saved as {name:?}")))?;
        Ok((name, rec))
    }

    /// The tokens saved as `name` (default: the last ones).
    pub(crate) fn tokens_record(&self, name: Option<&str>) -> Flow<(String, TokenRecord)> {
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

    pub(crate) fn last_access_token(&self) -> Option<String> {
        self.last_tokens
            .as_ref()
            .and_then(|n| self.tokens.get(n))
            .and_then(|t| t.access_token.clone())
    }

    pub(crate) fn keep_actor_token(&mut self, name: String, token: String) {
        self.saved_actor.insert(name, token);
    }

    pub(crate) fn saved_actor_token(&self, name: &str) -> Option<String> {
        self.saved_actor.get(name).cloned()
    }

    /// Keeps the token request of step `i` for a later `replay`.
    pub(crate) fn keep_request(&mut self, i: usize, req: Request, token_step: bool) {
        self.requests.insert(i, req);
        if token_step {
            self.last_token_step = Some(i);
        }
    }

    pub(crate) fn request(&self, i: usize) -> Option<Request> {
        self.requests.get(&i).cloned()
    }

    /// Keeps the tokens of a token endpoint response under `name`; a set-up step (`is_check`
    /// false) whose response holds no access token keeps nothing.
    pub(crate) fn save_tokens(
        &mut self,
        is_check: bool,
        name: &str,
        resp: &Response,
        client: ClientName,
        actor_token: Option<String>,
    ) {
        let json = resp.json();
        let member = |m: &str| {
            json.as_ref()
                .and_then(|j| j.get(m))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let (access, refresh) = (member("access_token"), member("refresh_token"));
        if access.is_none() && !is_check {
            return;
        }
        if let Some(r) = &refresh {
            self.dynamic_secrets.push(r.clone());
        }
        if access.is_none() {
            return;
        }
        let previous = self.tokens.get(name);
        let previous_refresh = previous.and_then(|t| t.refresh_token.clone());
        let previous_actor = previous.and_then(|t| t.actor_token.clone());
        self.tokens.insert(
            name.to_string(),
            TokenRecord {
                client,
                access_token: access,
                // A refresh response may omit the refresh token (no rotation): keep the old one.
                refresh_token: refresh.or(previous_refresh),
                actor_token: actor_token.filter(|a| !a.is_empty()).or(previous_actor),
            },
        );
        self.last_tokens = Some(name.to_string());
    }
}
