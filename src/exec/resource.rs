//! The `resource` step (the RS, with genuine, forged or minted access tokens) and `get`
//! (metadata, JWKS, any URL).

use super::*;

impl CaseRun<'_> {
    pub(super) async fn resource(&mut self, i: usize, step: &Step) -> Flow {
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
        let resp = self.session.send(&req).await?;
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
    pub(super) async fn minted_access_token(&mut self, step: &Step) -> Flow<String> {
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
        self.control(super::control::Call::Mint { claims, header })
            .await?
            .ok_or_else(|| Stop::Error("control mint answered without a token".into()))
    }

    pub(super) async fn get(&mut self, i: usize, step: &Step) -> Flow {
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
        let resp = self.session.send(&Request::get(url)).await?;
        self.observe_plain(i, step, &resp)
    }
}
