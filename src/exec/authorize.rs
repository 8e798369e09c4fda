//! The `authorize` step: a fresh authorization request (state, PKCE) driven through the
//! consent driver; checks on the redirect back (code or error, state echo, consent page).

use sha2::{Digest, Sha256};
use url::Url;

use super::case_run::CaseRun;
use super::consent::{self, Decision, Destination};
use super::memory::AuthzRecord;
use super::stop::{Flow, Stop};
use crate::case::step::AuthorizeStep;
use crate::case::vocabulary::{ClientName, Consent, HttpMethod, Pkce, RequestedActor, UserName};
use crate::case::Step;
use crate::check::{AuthzView, Observation};
use crate::jose;
use crate::session::{Request, Response};
use serde_json::Value;

impl CaseRun<'_> {
    pub(super) async fn authorize(&mut self, i: usize, a: &AuthorizeStep, step: &Step) -> Flow {
        let client_name = a.client.unwrap_or(ClientName::Primary);
        let client = self.cx.client(client_name)?;
        let actor = a.actor.unwrap_or(RequestedActor::A);
        let scope = self.cx.expand(a.scope.as_deref().unwrap_or("${scope}"))?;
        let pkce = a.pkce.unwrap_or(Pkce::S256);
        let verifier = self.cx.random_b64(32);
        let state = self.cx.random_b64(16);
        let mut pairs: Vec<(String, String)> = vec![
            ("response_type".into(), "code".into()),
            ("client_id".into(), client.id.clone()),
            ("redirect_uri".into(), client.redirect_uri.clone()),
            ("scope".into(), scope),
            ("state".into(), state.clone()),
        ];
        match pkce {
            Pkce::S256 => {
                pairs.push((
                    "code_challenge".into(),
                    jose::b64url(Sha256::digest(verifier.as_bytes())),
                ));
                pairs.push(("code_challenge_method".into(), "S256".into()));
            }
            Pkce::Plain => {
                pairs.push(("code_challenge".into(), verifier.clone()));
                pairs.push(("code_challenge_method".into(), "plain".into()));
            }
            Pkce::None => {}
        }
        if let Some(named) = actor.actor() {
            pairs.push((self.cx.wire("requested_actor"), self.cx.actor_id(named)?));
        }
        self.cx.modify(&mut pairs, a.edits())?;
        let sent_state = pairs
            .iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.clone());
        let sent_redirect = pairs
            .iter()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.clone());
        let endpoint = self.cx.target.endpoints.authorization.clone();
        let req = if a.method == Some(HttpMethod::Post) {
            Request::post_form(endpoint, &pairs)
        } else {
            Request::get_query(endpoint, &pairs)
        };
        let decision = Decision::of(a.consent.unwrap_or(Consent::Approve));
        let registered = Url::parse(&client.redirect_uri)
            .map_err(|e| Stop::Error(format!("bad redirect_uri in the profile: {e}")))?;
        let sent_url = sent_redirect.as_deref().and_then(|s| Url::parse(s).ok());
        let which_user = a.user.unwrap_or(UserName::Primary);
        let user = self
            .cx
            .target
            .user(which_user.name())
            .ok_or_else(|| Stop::Skip(format!("the profile has no {which_user} user")))?;
        let dest = Destination {
            sent: sent_url.as_ref(),
            registered: &registered,
            user,
        };
        let outcome = consent::drive(&mut self.cx.session, self.cx.target, &req, &dest, decision)
            .await
            .map_err(Stop::Error)?;
        self.memory
            .dynamic_secrets
            .extend(outcome.secrets.iter().cloned());
        if let Some(why) = &outcome.not_applicable {
            return Err(Stop::Skip(why.clone()));
        }
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
        // A 200 HTML page the driver could not get through is the harness's situation: what the
        // AS does after it was not observed (checks that need the redirect become `unobserved`).
        let driver_stuck = outcome.stopped.clone().filter(|_| {
            outcome.status == Some(200) && outcome.last.as_ref().is_some_and(|r| r.is_html())
        });
        let plain_request = actor == RequestedActor::None;
        let in_interaction = !outcome.framing.is_empty() || outcome.consent_prompt == Some(true);
        if pkce != Pkce::None {
            self.memory.dynamic_secrets.push(verifier.clone());
        }
        let record = AuthzRecord {
            client: client_name,
            actor,
            redirect_uri: sent_redirect.unwrap_or_else(|| client.redirect_uri.clone()),
            code: code.clone(),
            verifier: (pkce != Pkce::None).then_some(verifier.clone()),
            describe: describe.clone(),
        };
        let name = a.save.clone().unwrap_or_else(|| "code".into());
        self.memory.keep_authorization(name, record);
        if !step.is_check() {
            // AMB-2: an OBO-only AS may refuse a request without requested_actor with
            // invalid_request. A case that needs a plain code does not apply to such a target.
            let refused_plain = plain_request
                && code.is_none()
                && to_redirect_uri
                && outcome.param("error").as_deref() == Some("invalid_request");
            if refused_plain {
                return Err(Stop::Skip(format!(
                    "the target refuses authorization requests without requested_actor \
                     (OBO-only, allowed by AMB-2): {describe}"
                )));
            }
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
            token_header: None,
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
                driver_stuck,
                in_interaction,
            }),
            consent_prompt: outcome.consent_prompt,
            consent_page_text: outcome.consent_page_text.clone(),
            framing: outcome.framing.clone(),
            parallel: None,
            token_endpoint: false,
        };
        self.record_checks(i, step, &obs)
    }
}
