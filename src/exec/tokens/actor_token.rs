//! Actor tokens: obtained from the profile's source (`client_credentials` at the target,
//! `static`, `command`, `jwt` signed by the harness), or forged (cases/README.md, "Actor tokens").
//!
//! Signature forgeries (tamper, attacker key, alg none, HS256 with the public JWK, embedded
//! JWK, unknown kid) are [`crate::forge::forge`]. Claim defects need a legitimate signer:
//! the actor's `jwt` key, or the target's control-API `mint`; without either the case is skipped.

use std::time::Duration;

use serde_json::{json, Value};

use super::forge::{self, ClaimDefect};
use crate::case::forgery::{DefectKind, ForgeSpec, Forgery};
use crate::case::step::Edits;
use crate::case::vocabulary::{ActorName, ActorTokenChoice, ClientAuth};
use crate::exec::context::{now_unix, TargetContext};
use crate::exec::memory::CaseMemory;
use crate::exec::response::why_no_token;
use crate::exec::stop::{Flow, Stop};
use crate::jose::{self, SigningKey};
use crate::profile::{AuthMethod, Client, TokenSource};

const DEFAULT_COMMAND_TIMEOUT: u64 = 30;
const DEFAULT_LIFETIME: i64 = 300;

impl TargetContext<'_> {
    /// The value of a token step's `actor_token` (None: omit the parameter), forged as
    /// `forge` says: a claim defect is signed anew, a signature forgery breaks the genuine one.
    /// `memory` gives the tokens earlier steps obtained or kept.
    pub(crate) async fn actor_token_for_request(
        &mut self,
        which: &ActorTokenChoice,
        forge: Option<ForgeSpec>,
        memory: &CaseMemory,
    ) -> Flow<Option<String>> {
        let token = match which {
            ActorTokenChoice::None => return Ok(None),
            ActorTokenChoice::Garbage => format!("not-a-jwt-{}", self.random_b64(12)),
            ActorTokenChoice::AccessTokenWithActorSub => {
                self.access_token_with_actor_sub(memory.last_access_token())
                    .await?
            }
            ActorTokenChoice::UserAccessToken => memory.last_access_token().ok_or_else(|| {
                Stop::Error("actor_token = \"user_access_token\" needs an earlier token step that got an access token".into())
            })?,
            ActorTokenChoice::Saved(name) => memory
                .saved_actor_token(name)
                .ok_or_else(|| Stop::Error(format!("no actor token saved as {name:?}")))?,
            ActorTokenChoice::Actor(w) => match forge {
                Some(ForgeSpec::Defect(kind)) => {
                    return self.defect_token(*w, kind).await.map(Some)
                }
                _ => self.actor_token(*w).await?,
            },
        };
        match forge {
            Some(ForgeSpec::Signature(forgery)) => {
                Ok(Some(self.signature_forgery(&token, forgery)?))
            }
            _ => Ok(Some(token)),
        }
    }

    /// A genuine actor token of actor `which` from its source.
    pub(crate) async fn actor_token(&mut self, which: ActorName) -> Flow<String> {
        let actor = self.profile_actor(which)?;
        match self.source_token(which).await? {
            Ok(t) => Ok(t),
            // A disabled actor gets nothing from its source (OBO-TOKEN-10); a still-valid token of
            // it can still be made by the target's own key through `mint`.
            Err(why) if which == ActorName::Disabled => self.minted_actor_token(&actor.id).await.map_err(|_| {
                Stop::Skip(format!("no actor token can be made for the disabled actor ({why}) and the target has no control_mint"))
            }),
            Err(why) => Err(Stop::Error(format!("actor token for {}: {why}", actor.id))),
        }
    }

    /// The token from the actor's configured source; `Ok(Err(why))` when the source refused.
    async fn source_token(&mut self, which: ActorName) -> Flow<Result<String, String>> {
        let actor = self.profile_actor(which)?;
        Ok(match &actor.token {
            TokenSource::Static { value } => Ok(value.clone()),
            TokenSource::Command {
                command,
                timeout_secs,
            } => self.command_token(command, *timeout_secs, &actor.id).await,
            TokenSource::Jwt { .. } => self.jwt_token(which, None).await,
            TokenSource::ClientCredentials { scope, .. } => {
                let Some(client) = actor_client(&actor) else {
                    return Ok(Err("the actor has no client_credentials source".into()));
                };
                self.client_credentials(&client, scope.as_deref()).await
            }
        })
    }

    async fn client_credentials(
        &mut self,
        client: &Client,
        scope: Option<&str>,
    ) -> Result<String, String> {
        let endpoint = self.target.endpoints.token.clone();
        let mut pairs = vec![("grant_type".to_string(), "client_credentials".to_string())];
        if let Some(s) = scope {
            pairs.push(("scope".into(), s.into()));
        }
        let req = self
            .authenticated_form(
                client,
                ClientAuth::Profile,
                endpoint,
                pairs,
                Edits::default(),
            )
            .map_err(|e| match e {
                Stop::Skip(m) | Stop::Error(m) => m,
            })?;
        let resp = self.session.send(&req).await.map_err(|e| e.to_string())?;
        let token = resp.json().and_then(|j| {
            j.get("access_token")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        match token {
            Some(t) if (200..300).contains(&resp.status) => Ok(t),
            _ => Err(format!(
                "client_credentials at the token endpoint gave no token: {}",
                why_no_token(&resp)
            )),
        }
    }

    async fn command_token(
        &mut self,
        command: &[String],
        timeout: Option<u64>,
        actor: &str,
    ) -> Result<String, String> {
        let (program, args) = command.split_first().ok_or("empty command")?;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env("OBO_ACTOR", actor)
            .stdin(std::process::Stdio::null());
        let out = crate::exec::consent::run_program(
            cmd,
            Duration::from_secs(timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT)),
            program,
        )
        .await?;
        let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if token.is_empty() {
            return Err(format!("{program:?} printed no token"));
        }
        Ok(token)
    }

    /// Signs an actor assertion with the actor's `jwt` source key, optionally with a defect.
    async fn jwt_token(
        &mut self,
        which: ActorName,
        defect: Option<&ClaimDefect>,
    ) -> Result<String, String> {
        let actor = self
            .target
            .actor(which.name())
            .ok_or("no such actor")?
            .clone();
        let TokenSource::Jwt {
            key_pem,
            kid,
            iss,
            aud,
            lifetime_secs,
            typ,
            ..
        } = &actor.token
        else {
            return Err("not a jwt source".into());
        };
        let key =
            SigningKey::from_pem(key_pem.as_deref().unwrap_or("")).map_err(|e| e.to_string())?;
        let now = now_unix();
        let jti = self.random_b64(16);
        let iss = iss.clone().unwrap_or_else(|| actor.id.clone());
        let aud = aud.clone().unwrap_or_else(|| self.target.issuer.clone());
        let mut claims = forge::actor_assertion_claims(
            &iss,
            &actor.id,
            &aud,
            now,
            lifetime_secs.unwrap_or(DEFAULT_LIFETIME),
            &jti,
        );
        if let Some(d) = defect {
            forge::apply_defect(&mut claims, d, now);
        }
        let mut header = json!({ "typ": typ.clone().unwrap_or_else(|| "JWT".into()) });
        if let Some(k) = kid {
            header["kid"] = Value::String(k.clone());
        }
        Ok(key.sign(&header, &claims))
    }

    /// A validly signed actor token with one defect (expired, wrong audience, ...).
    async fn defect_token(&mut self, which: ActorName, kind: DefectKind) -> Flow<String> {
        let other = self.actor_id(if which == ActorName::B {
            ActorName::A
        } else {
            ActorName::B
        })?;
        let defect = ClaimDefect::new(kind, other);
        let actor = self.profile_actor(which)?;
        if matches!(actor.token, TokenSource::Jwt { .. }) {
            return self
                .jwt_token(which, Some(&defect))
                .await
                .map_err(|e| Stop::Error(format!("signing the {kind} actor token: {e}")));
        }
        if !self.target.has("control_mint") {
            return Err(Stop::Skip(format!(
                "forge {kind} needs a jwt actor-token source or control_mint"
            )));
        }
        let genuine = self.actor_token(which).await?;
        let jwt = jose::decode_unverified(&genuine).map_err(|e| {
            Stop::Skip(format!(
                "the actor token is not a JWT ({e}); cannot make a {kind} variant"
            ))
        })?;
        let mut claims = jwt.claims.clone();
        // "now" as the target sees it: the genuine token's iat (its clock may be advanced).
        let now = claims
            .get("iat")
            .and_then(Value::as_i64)
            .unwrap_or_else(now_unix);
        forge::apply_defect(&mut claims, &defect, now);
        let header = header_typ(&jwt.header);
        self.mint(claims, header).await
    }

    /// The user's access token re-signed by the target (`mint`) with `sub` = actor A and no
    /// `act`: a token of the target's own whose subject is the bound actor but which is no actor
    /// token, so only a token-type check can refuse it (OBO-TOKEN-3, OBO-INH-20).
    async fn access_token_with_actor_sub(&mut self, base: Option<String>) -> Flow<String> {
        if !self.target.has("control_mint") {
            return Err(Stop::Skip(
                "a token of the target's own with chosen claims needs control_mint".into(),
            ));
        }
        let base = base.ok_or_else(|| {
            Stop::Error(
                "actor_token = \"access_token_with_actor_sub\" needs an earlier token step that got an access token".into(),
            )
        })?;
        let jwt = jose::decode_unverified(&base).map_err(|e| {
            Stop::Skip(format!(
                "the access token is not a JWT ({e}); cannot re-mint it"
            ))
        })?;
        let actor = self.actor_id(ActorName::A)?;
        let jti = self.random_b64(16);
        let mut claims = jwt.claims.clone();
        if let Some(m) = claims.as_object_mut() {
            m.insert("sub".into(), Value::String(actor));
            m.insert("jti".into(), Value::String(jti));
            m.remove("act");
        }
        self.mint(claims, header_typ(&jwt.header)).await
    }

    /// A still-valid actor token for `actor_id`, signed by the target through `mint`, shaped
    /// like a genuine token of actor a.
    async fn minted_actor_token(&mut self, actor_id: &str) -> Flow<String> {
        if !self.target.has("control_mint") {
            return Err(Stop::Skip("no control_mint".into()));
        }
        let base = self.source_token(ActorName::A).await?.map_err(|why| {
            Stop::Skip(format!(
                "no actor token of actor a to base a minted one on: {why}"
            ))
        })?;
        let jwt = jose::decode_unverified(&base)
            .map_err(|e| Stop::Skip(format!("actor token is not a JWT: {e}")))?;
        let mut claims = jwt.claims.clone();
        let jti = self.random_b64(16);
        if let Some(m) = claims.as_object_mut() {
            m.insert("sub".into(), Value::String(actor_id.to_string()));
            m.insert("jti".into(), Value::String(jti));
        }
        self.mint(claims, header_typ(&jwt.header)).await
    }

    /// The profile's entry for actor `which`; a profile without it makes the case a skip.
    fn profile_actor(&self, which: ActorName) -> Flow<crate::profile::Actor> {
        self.target
            .actor(which.name())
            .cloned()
            .ok_or_else(|| Stop::Skip(format!("the profile has no actor {:?}", which.name())))
    }

    /// A signature-level forgery of `token` (also used on access tokens for `resource`).
    pub(crate) fn signature_forgery(&mut self, token: &str, forgery: Forgery) -> Flow<String> {
        let attacker = self.attacker_key();
        let jwks = self.target.jwks.clone().unwrap_or(Value::Null);
        forge::forge(token, forgery, &jwks, &attacker)
            .map_err(|e| Stop::Skip(format!("cannot forge {forgery}: {e}")))
    }
}

fn header_typ(h: &Value) -> Value {
    let mut header = serde_json::Map::new();
    if let Some(t) = h.get("typ") {
        header.insert("typ".into(), t.clone());
    }
    Value::Object(header)
}

/// The client identity an actor authenticates with at the target (its `client_credentials`
/// source), if the profile gives one.
pub(crate) fn actor_client(actor: &crate::profile::Actor) -> Option<Client> {
    let TokenSource::ClientCredentials {
        client_id,
        client_secret,
        auth_method,
        ..
    } = &actor.token
    else {
        return None;
    };
    Some(Client {
        id: client_id.clone().unwrap_or_else(|| actor.id.clone()),
        secret: client_secret.clone(),
        auth_method: auth_method.unwrap_or(if client_secret.is_some() {
            AuthMethod::ClientSecretBasic
        } else {
            AuthMethod::None
        }),
        redirect_uri: String::new(),
        key_pem: None,
        key_file: None,
    })
}
