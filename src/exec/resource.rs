//! The `resource` step (the RS, with genuine, forged or minted access tokens) and `get`
//! (metadata, JWKS, any URL).

use serde_json::Value;
use url::Url;

use super::case_run::CaseRun;
use super::response::{bearer_error, summarize};
use super::stop::{Flow, Stop};
use crate::case::step::ResourceStep;
use crate::case::vocabulary::{GetUrl, IntrospectToken, ResourcePath, ResourceToken};
use crate::case::Step;
use crate::check::{self, Observation};
use crate::jose;
use crate::session::Request;

impl CaseRun<'_> {
    pub(super) async fn resource(&mut self, i: usize, r: &ResourceStep, step: &Step) -> Flow {
        let res = self
            .cx
            .target
            .profile
            .resource
            .clone()
            .ok_or_else(|| Stop::Skip("the profile has no resource".into()))?;
        let url = match r.path.unwrap_or(ResourcePath::Default) {
            ResourcePath::Write => res
                .write_url
                .clone()
                .ok_or_else(|| Stop::Skip("the profile has no resource.write_url".into()))?,
            ResourcePath::Actor(which) => {
                let id = self.cx.actor_id(which)?;
                let tpl = res
                    .actor_url
                    .clone()
                    .ok_or_else(|| Stop::Skip("the profile has no resource.actor_url".into()))?;
                let enc: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
                tpl.replace("{actor}", &enc)
            }
            ResourcePath::Default => res.url.clone(),
        };
        let url =
            Url::parse(&url).map_err(|e| Stop::Error(format!("resource URL {url:?}: {e}")))?;
        let token = match r.token.unwrap_or(ResourceToken::Access) {
            ResourceToken::None => None,
            ResourceToken::Actor => Some(
                self.pick_token(r.tokens.as_deref(), IntrospectToken::Actor)
                    .await?
                    .0,
            ),
            ResourceToken::Minted => Some(self.minted_access_token(r).await?),
            ResourceToken::Access => Some(
                self.memory
                    .tokens_record(r.tokens.as_deref())?
                    .1
                    .access_token
                    .ok_or_else(|| Stop::Error("no access token saved".into()))?,
            ),
        };
        let token = match (token, r.forge) {
            (Some(t), Some(forgery)) => Some(self.cx.signature_forgery(&t, forgery)?),
            (t, _) => t,
        };
        let mut req = Request::get(url);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = self.cx.session.send(&req).await?;
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
        self.record_checks(i, step, &obs)
    }

    /// A token signed by the target's key through the control API's `mint`: the saved access
    /// token's claims with the case's `mint` table merged over them, and its header.
    pub(super) async fn minted_access_token(&mut self, r: &ResourceStep) -> Flow<String> {
        let rec = self.memory.tokens_record(r.tokens.as_deref())?.1;
        let base = rec.access_token.ok_or_else(|| {
            Stop::Error("no access token saved to base the minted token on".into())
        })?;
        let jwt = jose::decode_unverified(&base).map_err(|e| {
            Stop::Skip(format!(
                "the access token is not a JWT, cannot mint a variant: {e}"
            ))
        })?;
        let mut claims = jwt.claims.clone();
        for (k, v) in r.mint.iter().flatten() {
            let v = check::toml_to_json(&self.cx.expand_value(v)?);
            if let Value::Object(m) = &mut claims {
                m.insert(k.clone(), v);
            }
        }
        let mut header = serde_json::Map::new();
        if let Some(t) = jwt.header.get("typ") {
            header.insert("typ".into(), t.clone());
        }
        self.cx.mint(claims, Value::Object(header)).await
    }

    pub(super) async fn get(&mut self, i: usize, which: &GetUrl, step: &Step) -> Flow {
        let url = match which {
            GetUrl::Metadata => match &self.cx.target.endpoints.metadata {
                Some(u) => u.clone(),
                None => crate::profile::metadata_url(
                    &Url::parse(&self.cx.target.issuer)
                        .map_err(|e| Stop::Error(format!("issuer: {e}")))?,
                ),
            },
            GetUrl::Jwks => self
                .cx
                .target
                .endpoints
                .jwks
                .clone()
                .ok_or_else(|| Stop::Skip("the target publishes no jwks_uri".into()))?,
            GetUrl::Absolute(other) => Url::parse(&self.cx.expand(other)?)
                .map_err(|e| Stop::Error(format!("url {other:?}: {e}")))?,
        };
        let resp = self.cx.session.send(&Request::get(url)).await?;
        self.observe_plain(i, step, &resp)
    }
}
