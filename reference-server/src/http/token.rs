//! The token endpoint: `authorization_code` with `actor_token` (draft §4.2), `client_credentials`
//! for actors (AMB-7) and `refresh_token` (AMB-25). Checks follow AMB-31's order; any failure
//! after the code was taken leaves it burnt (AMB-26).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::client_auth::{authenticate, Caller, OAuthError};
use super::{actor_token, is_form, App, Shared};
use crate::config::{Client, GRANT_TYPE_00};
use crate::fault::Fault;
use crate::keys::random_token;
use crate::params::Params;
use crate::store::{Pkce, RefreshRecord, Taken};

/// How long the `non-atomic-redemption` fault waits between "unused?" and "mark used": wide
/// enough that parallel redemptions overlap even on a loaded 2-core CI machine.
const RACE_WINDOW: Duration = Duration::from_millis(250);

pub async fn token(
    State(app): State<Shared>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    match handle(&app, &method, &headers, &uri, &body).await {
        Ok(body) => reply(&app, StatusCode::OK, body),
        Err(e) => error(&app, e, &method),
    }
}

async fn handle(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<Value, OAuthError> {
    // OBO-INH-2, ADV-49: POST only, form body only, credentials never in the URL.
    if method != Method::POST {
        return Err(OAuthError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            error: "invalid_request",
            description: "the token endpoint accepts POST only".into(),
        });
    }
    if uri.query().is_some_and(|q| !q.is_empty()) {
        return Err(OAuthError::new(
            "invalid_request",
            "parameters must be sent in the request body, not the URL",
        ));
    }
    if !is_form(headers) {
        return Err(OAuthError::new(
            "invalid_request",
            "expected an application/x-www-form-urlencoded body",
        ));
    }
    let p = Params::parse(body);
    // OBO-INH-1, ADV-31: no parameter twice.
    if let Some(msg) = p.malformed(&app.faults) {
        return Err(OAuthError::new("invalid_request", msg));
    }
    let caller = authenticate(app, headers, &p)?;
    match p.get("grant_type") {
        None => Err(OAuthError::new("invalid_request", "grant_type is missing")),
        Some("authorization_code") => code_grant(app, &caller, &p).await,
        Some(GRANT_TYPE_00)
            if app.config.revision == crate::Revision::R00
                || app.fault(Fault::LegacyGrantAccepted) =>
        {
            code_grant(app, &caller, &p).await
        }
        Some("client_credentials") => client_credentials(app, &caller),
        Some("refresh_token") => refresh(app, &caller, &p),
        // OBO-TOKEN-1, ADV-44: the -00 URN is unknown to a -01/-02 server.
        Some(_) => Err(OAuthError::new(
            "unsupported_grant_type",
            "unsupported grant_type",
        )),
    }
}

/// Success and error bodies carry `Cache-Control: no-store` and `Pragma: no-cache`
/// (OBO-INH-7, OBO-TOKEN-14).
fn reply(app: &App, status: StatusCode, body: Value) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    if !app.fault(Fault::CacheHeadersMissing) {
        super::no_store(resp.headers_mut());
    }
    resp
}

/// RFC 6749 §5.2 (OBO-TOKEN-14, OBO-INH-8): 400, or 401 + WWW-Authenticate for invalid_client.
fn error(app: &App, e: OAuthError, method: &Method) -> Response {
    let status = if app.fault(Fault::ErrorsStatus200) {
        StatusCode::OK
    } else {
        e.status
    };
    let mut resp = reply(
        app,
        status,
        json!({"error": e.error, "error_description": e.description}),
    );
    let h = resp.headers_mut();
    // RFC 6749 §5.2: 401 invalid_client carries a challenge of the scheme the client used.
    if e.error == "invalid_client" && !app.fault(Fault::ClientAuthChallengeMissing) {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"obo-reference\""),
        );
    }
    if method != Method::POST {
        h.insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    resp
}

fn grant_error(msg: impl Into<String>) -> OAuthError {
    OAuthError::new("invalid_grant", msg)
}

fn as_client<'a>(caller: &Caller<'a>) -> Result<&'a Client, OAuthError> {
    match caller {
        Caller::Client(c) => Ok(c),
        Caller::Actor(_) => Err(OAuthError::new(
            "unauthorized_client",
            "actors may only use client_credentials to obtain actor tokens",
        )),
    }
}

/// What an access token states: the delegation chain user → client → actor.
struct Delegation {
    username: String,
    subject: String,
    client_id: String,
    actor: Option<String>,
    scope: Vec<String>,
    audience: String,
    /// The `chained-act-inverted` defect: the actor token's own `act`, put outermost.
    prior_act: Option<Value>,
}

async fn code_grant(app: &App, caller: &Caller<'_>, p: &Params) -> Result<Value, OAuthError> {
    let client = as_client(caller)?;
    let code = p
        .get("code")
        .ok_or_else(|| OAuthError::new("invalid_request", "code is missing"))?;
    // OBO-SEC-3, OBO-INH-5: single use, taken atomically; a replay revokes what was issued.
    let taken = if app.fault(Fault::AcceptCodeReplay) {
        app.store
            .get_code(code)
            .map(|c| Taken::Fresh(Box::new(c)))
            .unwrap_or(Taken::Unknown)
    } else if app.fault(Fault::NonAtomicRedemption) {
        let t = app.store.peek_code(code);
        if matches!(t, Taken::Fresh(_)) {
            tokio::time::sleep(RACE_WINDOW).await;
            app.store.mark_code_used(code);
        }
        t
    } else {
        app.store.take_code(code)
    };
    let rec = match taken {
        Taken::Unknown => return Err(grant_error("unknown authorization code")),
        Taken::Replayed => {
            return Err(grant_error(
                "authorization code already used; tokens issued from it are revoked",
            ))
        }
        Taken::Fresh(r) => r,
    };
    let req = &rec.request;
    // OBO-SEC-4: codes are short-lived.
    if app.now() >= rec.expires_at && !app.fault(Fault::CodeExpiryUnchecked) {
        return Err(grant_error("authorization code has expired"));
    }
    // OBO-SEC-6, OBO-INH-6: the code was issued to this client.
    if req.client_id != client.id && !app.fault(Fault::SkipClientBinding) {
        return Err(grant_error(
            "authorization code was issued to another client",
        ));
    }
    // OBO-TOKEN-8, OBO-INH-6: redirect_uri identical to the authorization request's.
    let sent = p.get("redirect_uri");
    let redirect_ok = if req.redirect_uri_sent {
        sent == Some(req.redirect_uri.as_str())
    } else {
        sent.is_none_or(|s| s == req.redirect_uri)
    };
    if !redirect_ok && !app.fault(Fault::RedirectUriNotCompared) {
        return Err(grant_error(
            "redirect_uri does not match the authorization request",
        ));
    }
    check_pkce(app, req.pkce.as_ref(), p.get("code_verifier")).map_err(grant_error)?;
    let actor = bound_actor(app, req.actor.as_deref(), p)?;
    // ADV-35 is the reading; the fault lets a request parameter name the actor.
    let actor = match p.get(app.config.revision.actor_param()) {
        Some(injected) if app.fault(Fault::ActFromRequest) => Some(injected.to_string()),
        _ => actor,
    };
    let scope = token_scope(app, &req.scope, p, Fault::ScopeEscalation)?;
    let d = Delegation {
        username: rec.username.clone(),
        subject: rec.subject.clone(),
        client_id: client.id.clone(),
        actor,
        scope,
        audience: req.audience.clone(),
        prior_act: inverted_chain(app, p),
    };
    let (access, jti) = mint_access_token(app, &d)?;
    let refresh = issue_refresh(app, client, &d);
    app.store.record_issued(code, &jti, Some(&refresh));
    Ok(success(app, access, &d.scope, Some(refresh)))
}

/// OBO-SEC-2, OBO-TOKEN-7, OBO-INH-10/11: the verifier must match the stored S256 challenge;
/// a verifier without a stored challenge is a downgrade.
fn check_pkce(app: &App, pkce: Option<&Pkce>, verifier: Option<&str>) -> Result<(), String> {
    match (pkce, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => {
            Err("code_verifier sent but the authorization had no code_challenge".into())
        }
        (Some(_), None) => Err("code_verifier is missing".into()),
        (Some(pkce), Some(v)) => {
            let well_formed = (43..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !well_formed {
                return Err("code_verifier is malformed".into());
            }
            let derived = if pkce.method == "plain" {
                v.to_string()
            } else {
                URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))
            };
            if derived != pkce.challenge && !app.fault(Fault::PkceVerifierUnchecked) {
                return Err("code_verifier does not match the code_challenge".into());
            }
            Ok(())
        }
    }
}

/// Draft §4.2.1–4.2.2: an actor-bound code needs a valid actor token whose sub is the bound
/// actor, and the actor must still be enabled.
fn bound_actor(app: &App, bound: Option<&str>, p: &Params) -> Result<Option<String>, OAuthError> {
    let param = app.config.revision.actor_token_param();
    match (bound, p.get(param)) {
        (None, None) => Ok(None),
        // AMB-3 (strict reading): an actor token for a code without an actor is refused.
        (None, Some(_)) => Err(OAuthError::new(
            "invalid_request",
            format!("{param} sent but no actor is bound to this code"),
        )),
        // OBO-TOKEN-2, AMB-13.
        (Some(bound), None) => {
            if app.fault(Fault::ActorTokenOptional) {
                return Ok(Some(bound.to_string()));
            }
            Err(OAuthError::new(
                "invalid_request",
                format!("{param} is required: the code is bound to an actor"),
            ))
        }
        (Some(bound), Some(token)) => {
            let sub = actor_token::validate(app, token).map_err(grant_error)?;
            // OBO-TOKEN-12, OBO-SEC-7/8: byte-for-byte equal to the consented actor (AMB-6).
            if !app.actor_id_eq(&sub, bound) && !app.fault(Fault::SkipActorBinding) {
                return Err(grant_error(
                    "actor token subject does not match the requested actor",
                ));
            }
            // OBO-TOKEN-10, AMB-29: a disabled actor gets nothing new.
            if !app.actor_enabled(bound) || !app.actor_enabled(&sub) {
                return Err(grant_error("the actor is not active"));
            }
            Ok(Some(bound.to_string()))
        }
    }
}

/// ADV-33, OBO-INH-9 (and RFC 6749 §6 for refresh): the token endpoint may narrow the consented
/// scope, never broaden it. `widen` is the fault that breaks this check at the calling grant.
fn token_scope(
    app: &App,
    granted: &[String],
    p: &Params,
    widen: Fault,
) -> Result<Vec<String>, OAuthError> {
    let Some(requested) = p.get("scope") else {
        return Ok(granted.to_vec());
    };
    let requested: Vec<String> = requested
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if app.fault(widen) {
        return Ok(requested);
    }
    if requested.is_empty() || !requested.iter().all(|s| granted.contains(s)) {
        return Err(OAuthError::new(
            "invalid_scope",
            "requested scope exceeds the consented scope",
        ));
    }
    Ok(requested)
}

/// The `chained-act-inverted` defect: the `act` of an accepted chained actor token. The reference
/// refuses chained actor tokens (AMB-19); a server that chains must keep the requested actor
/// outermost (RFC 8693 §4.1, OBO-INH-17), which this defect inverts.
fn inverted_chain(app: &App, p: &Params) -> Option<Value> {
    if !app.fault(Fault::ChainedActInverted) {
        return None;
    }
    let token = p.get(app.config.revision.actor_token_param())?;
    crate::keys::Jws::parse(token)
        .ok()?
        .claims
        .get("act")
        .cloned()
}

/// RFC 9068 access token with the delegation claims of draft §4.3 (OBO-AT-1..7).
fn mint_access_token(app: &App, d: &Delegation) -> Result<(String, String), OAuthError> {
    let now = app.now();
    let jti = random_token();
    let mut claims = Map::new();
    claims.insert("iss".into(), app.issuer.clone().into());
    if !app.fault(Fault::AtAudOmitted) {
        claims.insert("aud".into(), d.audience.clone().into());
    }
    // AMB-18: sub is the user, never the actor.
    let sub = match &d.actor {
        Some(actor) if app.fault(Fault::ActorInSub) => actor.clone(),
        _ => d.subject.clone(),
    };
    claims.insert("sub".into(), sub.into());
    // AMB-17: both client claims.
    claims.insert("client_id".into(), d.client_id.clone().into());
    claims.insert("azp".into(), d.client_id.clone().into());
    claims.insert("scope".into(), d.scope.join(" ").into());
    claims.insert("iat".into(), now.into());
    claims.insert(
        "exp".into(),
        crate::store::expiry(now, app.config.ttl.access_token).into(),
    );
    claims.insert("jti".into(), jti.clone().into());
    if d.actor.is_none() && app.fault(Fault::ActInPlainFlow) {
        claims.insert("act".into(), json!({ "sub": d.client_id }));
    }
    if let Some(actor) = &d.actor {
        // OBO-AT-3..5: act is an object whose sub is the bound actor.
        if app.fault(Fault::ActAsString) {
            claims.insert("act".into(), actor.clone().into());
        } else if let Some(Value::Object(prior)) = &d.prior_act {
            let mut act = prior.clone();
            act.insert("act".into(), json!({ "sub": actor }));
            claims.insert("act".into(), Value::Object(act));
        } else if !app.fault(Fault::ActOmitted) {
            claims.insert("act".into(), json!({ "sub": actor }));
        }
    }
    let token = app
        .keys
        .sign_typed(
            if app.fault(Fault::AtTypGeneric) {
                "JWT"
            } else {
                "at+jwt"
            },
            &Value::Object(claims),
        )
        .map_err(|e| {
            tracing::error!("signing access token: {e}");
            OAuthError::new("server_error", "could not sign the token")
        })?;
    Ok((token, jti))
}

/// Refresh tokens for every client; public clients' are rotated (OBO-INH-14).
fn issue_refresh(app: &App, client: &Client, d: &Delegation) -> String {
    let token = random_token();
    app.store.insert_refresh(
        token.clone(),
        RefreshRecord {
            client_id: client.id.clone(),
            username: d.username.clone(),
            subject: d.subject.clone(),
            actor: d.actor.clone(),
            scope: d.scope.clone(),
            audience: d.audience.clone(),
            expires_at: app.expiry(app.config.ttl.refresh_token),
            active: true,
            rotate: client.is_public(),
        },
    );
    token
}

fn success(app: &App, access: String, scope: &[String], refresh: Option<String>) -> Value {
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": app.config.ttl.access_token,
        "scope": scope.join(" "),
    });
    if let (Some(r), Some(m)) = (refresh, body.as_object_mut()) {
        m.insert("refresh_token".into(), r.into());
    }
    body
}

/// AMB-7: an actor authenticates with its own id and secret and receives an actor token.
fn client_credentials(app: &App, caller: &Caller<'_>) -> Result<Value, OAuthError> {
    let Caller::Actor(actor) = caller else {
        return Err(OAuthError::new(
            "unauthorized_client",
            "client_credentials is only for actors",
        ));
    };
    if !app.actor_enabled(&actor.id) {
        return Err(OAuthError::new(
            "unauthorized_client",
            "the actor is disabled",
        ));
    }
    let (token, ttl) = actor_token::issue(app, actor).map_err(|e| {
        tracing::error!("signing actor token: {e}");
        OAuthError::new("server_error", "could not sign the token")
    })?;
    Ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "issued_token_type": "urn:ietf:params:oauth:token-type:jwt",
    }))
}

/// AMB-25: refresh keeps sub, act and scope (never broader), only for the same client, and
/// only while the actor is enabled.
fn refresh(app: &App, caller: &Caller<'_>, p: &Params) -> Result<Value, OAuthError> {
    let client = as_client(caller)?;
    let token = p
        .get("refresh_token")
        .ok_or_else(|| OAuthError::new("invalid_request", "refresh_token is missing"))?;
    let rec = app
        .store
        .refresh(token)
        .ok_or_else(|| grant_error("unknown refresh token"))?;
    if !rec.active || app.now() >= rec.expires_at {
        return Err(grant_error("refresh token is no longer valid"));
    }
    // RFC 6749 §6, OBO-INH-6: a refresh token is bound to the client it was issued to.
    if rec.client_id != client.id && !app.fault(Fault::RefreshClientUnchecked) {
        return Err(grant_error("refresh token was issued to another client"));
    }
    if let Some(actor) = &rec.actor {
        if !app.actor_enabled(actor) {
            return Err(grant_error("the actor is not active"));
        }
        if app.config.policy.actor_token_on_refresh {
            let param = app.config.revision.actor_token_param();
            let t = p.get(param).ok_or_else(|| {
                OAuthError::new("invalid_request", format!("{param} is required"))
            })?;
            let sub = actor_token::validate(app, t).map_err(grant_error)?;
            if !app.actor_id_eq(&sub, actor) {
                return Err(grant_error("actor token subject does not match"));
            }
        }
    }
    let scope = token_scope(app, &rec.scope, p, Fault::RefreshScopeEscalation)?;
    if rec.rotate && !app.store.deactivate_refresh(token) {
        return Err(grant_error("refresh token was already used"));
    }
    let d = Delegation {
        username: rec.username.clone(),
        subject: rec.subject.clone(),
        client_id: client.id.clone(),
        actor: if app.fault(Fault::RefreshDropsAct) {
            None
        } else {
            rec.actor.clone()
        },
        scope,
        audience: rec.audience.clone(),
        prior_act: None,
    };
    let (access, _) = mint_access_token(app, &d)?;
    let new_refresh = rec.rotate.then(|| issue_refresh(app, client, &d));
    Ok(success(app, access, &d.scope, new_refresh))
}
