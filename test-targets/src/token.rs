//! The token endpoint (authorization_code with actor_token, client_credentials for actors,
//! refresh_token), revocation (RFC 7009) and introspection (RFC 7662).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::http::{oauth_error, token_json, AppRef, Params};
use crate::state::{App, Refresh};
use crate::tokens::{self, Grant, ACCESS_TTL};
use crate::{Defect, Quirk};

/// Who authenticated at the endpoint.
struct Caller {
    id: String,
    /// An actor client (client_credentials only).
    actor: bool,
    public: bool,
}

fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let pair = decoded.as_deref().and_then(|d| d.split_once(':'));
    // RFC 6749 2.3.1: both halves are form-urlencoded.
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some(pair.map(|(i, s)| (dec(i), dec(s))).ok_or(()))
}

/// Why a caller was refused: (OAuth error code, description).
type Refusal = (&'static str, &'static str);

/// Client authentication (RFC 6749 2.3): Basic, or secret in the body, or a public client's id.
fn authenticate(app: &App, headers: &HeaderMap, p: &Params) -> Result<Caller, Refusal> {
    let reg = &app.opts.registry;
    let bad = |why: &'static str| ("invalid_client", why);
    let (id, secret) = match basic_credentials(headers) {
        Some(Err(())) => return Err(bad("malformed Basic credentials")),
        Some(Ok(_)) if p.get("client_secret").is_some() => {
            return Err(("invalid_request", "two client authentication methods"))
        }
        Some(Ok((id, secret))) => (id, Some(secret)),
        None => match p.get("client_id") {
            Some(id) => (id.to_string(), p.get("client_secret").map(str::to_string)),
            None => return Err(bad("client authentication required")),
        },
    };
    if let Some(c) = reg.client(&id) {
        return match (&c.secret, &secret) {
            (None, None) => Ok(Caller {
                id,
                actor: false,
                public: true,
            }),
            (Some(want), Some(got)) if want == got => Ok(Caller {
                id,
                actor: false,
                public: false,
            }),
            _ => Err(bad("client authentication failed")),
        };
    }
    if let Some(a) = reg.actor(&id) {
        if secret.as_deref() == Some(a.secret.as_str()) {
            return Ok(Caller {
                id,
                actor: true,
                public: false,
            });
        }
    }
    Err(bad("client authentication failed"))
}

pub async fn token(State(app): State<AppRef>, headers: HeaderMap, body: Bytes) -> Response {
    let p = Params::from_body(&body);
    if let Some(d) = p.duplicate() {
        return oauth_error(&app, "invalid_request", &format!("parameter {d} repeated"));
        // OBO-INH-1
    }
    let caller = match authenticate(&app, &headers, &p) {
        Ok(c) => c,
        Err((code, why)) => return oauth_error(&app, code, why),
    };
    match p.get("grant_type") {
        Some("authorization_code") if !caller.actor => code_grant(&app, &caller, &p),
        Some("refresh_token") if !caller.actor => refresh_grant(&app, &caller, &p),
        Some("client_credentials") if caller.actor => actor_grant(&app, &caller),
        Some("authorization_code" | "refresh_token" | "client_credentials") => oauth_error(
            &app,
            "unauthorized_client",
            "grant not allowed for this client",
        ),
        Some(_) => oauth_error(&app, "unsupported_grant_type", "unsupported grant_type"),
        None => oauth_error(&app, "invalid_request", "grant_type missing"),
    }
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn code_grant(app: &App, caller: &Caller, p: &Params) -> Response {
    let invalid = |why: &str| oauth_error(app, "invalid_grant", why);
    let Some(code) = p.get("code") else {
        return oauth_error(app, "invalid_request", "code missing");
    };
    // Single use: the code leaves the store on its first redemption, successful or not
    // (OBO-SEC-3, AMB-26). Defect code-replay-accepted: breaks OBO-SEC-3 / OBO-INH-5.
    let taken = if app.defect(Defect::CodeReplayAccepted) {
        app.store().codes.get(code).cloned()
    } else {
        app.store().codes.remove(code)
    };
    let Some(c) = taken else {
        let replayed = app.store().used_codes.get(code).cloned();
        if let Some(grant) = replayed {
            // RFC 6749 4.1.2: revoke what the code already issued.
            tokens::revoke_grant(app, &grant);
        }
        return invalid("unknown, expired or used code");
    };
    if c.client_id != caller.id {
        return invalid("code issued to another client"); // OBO-SEC-6
    }
    if app.now() >= c.exp {
        return invalid("code expired"); // OBO-SEC-4
    }
    if let Some(r) = &c.redirect_uri {
        if p.get("redirect_uri") != Some(r.as_str()) {
            return invalid("redirect_uri differs from the authorization request");
        }
    }
    let Some(verifier) = p.get("code_verifier") else {
        return invalid("code_verifier missing");
    };
    // Defect pkce-unchecked: breaks OBO-SEC-2 / OBO-TOKEN-7.
    if s256(verifier) != c.challenge && !app.defect(Defect::PkceUnchecked) {
        return invalid("PKCE verification failed");
    }
    if let Some(bound) = &c.actor {
        let Some(actor_token) = p.get("actor_token") else {
            return oauth_error(app, "invalid_request", "actor_token missing"); // OBO-TOKEN-2
        };
        let sub = match tokens::verify_actor_token(app, actor_token) {
            Ok(s) => s,
            Err(e) => return invalid(&e), // OBO-TOKEN-10, OBO-TOKEN-11
        };
        // Exact match with the consented actor (OBO-TOKEN-12, AMB-6).
        // Defect actor-case-insensitive: breaks OBO-TOKEN-12.
        let same = sub == *bound
            || (app.defect(Defect::ActorCaseInsensitive) && sub.eq_ignore_ascii_case(bound));
        if !same {
            return invalid("actor token does not name the consented actor");
        }
    }
    app.store()
        .used_codes
        .insert(code.to_string(), c.grant.clone());
    let grant = Grant {
        grant: &c.grant,
        client_id: &c.client_id,
        user: &c.user,
        actor: c.actor.as_deref(),
        scope: &c.scope,
    };
    let refresh = new_refresh(app, &grant);
    token_json(json!({
        "access_token": tokens::access_token(app, &grant),
        "token_type": "Bearer",
        "expires_in": ACCESS_TTL,
        "scope": c.scope,
        "refresh_token": refresh,
    }))
}

fn new_refresh(app: &App, g: &Grant) -> String {
    let rt = app.random();
    app.store().refresh.insert(
        rt.clone(),
        Refresh {
            grant: g.grant.to_string(),
            client_id: g.client_id.to_string(),
            user: g.user.to_string(),
            actor: g.actor.map(str::to_string),
            scope: g.scope.to_string(),
            active: true,
        },
    );
    rt
}

fn refresh_grant(app: &App, caller: &Caller, p: &Params) -> Response {
    let invalid = |why: &str| oauth_error(app, "invalid_grant", why);
    let Some(rt) = p.get("refresh_token") else {
        return oauth_error(app, "invalid_request", "refresh_token missing");
    };
    let Some(r) = app.store().refresh.get(rt).cloned() else {
        return invalid("unknown refresh token");
    };
    if !r.active || app.store().revoked_grants.contains(&r.grant) {
        return invalid("refresh token no longer valid");
    }
    // Defect refresh-other-client: breaks OBO-SEC-6 / OBO-INH-6 (bound to its client).
    if r.client_id != caller.id && !app.defect(Defect::RefreshOtherClient) {
        return invalid("refresh token issued to another client");
    }
    if r.actor.as_deref().is_some_and(|a| !app.actor_enabled(a)) {
        return invalid("actor is disabled"); // AMB-25
    }
    let scope = match p.get("scope") {
        None => r.scope.clone(),
        Some(s) => {
            let within = s.split(' ').all(|x| r.scope.split(' ').any(|y| y == x));
            // Defect refresh-scope-escalation: breaks OBO-INH-9 (never broader than granted).
            if !within && !app.defect(Defect::RefreshScopeEscalation) {
                return oauth_error(app, "invalid_scope", "scope exceeds the grant");
            }
            s.to_string()
        }
    };
    // Public clients get a rotated refresh token (OBO-INH-14, RFC 9700 §4.14.2): the old one is
    // checked and retired under one lock, so concurrent refreshes cannot both redeem it.
    if caller.public {
        let retired = match app.store().refresh.get_mut(rt) {
            Some(old) if old.active => {
                old.active = false;
                true
            }
            _ => false,
        };
        if !retired {
            return invalid("refresh token no longer valid");
        }
    }
    let grant = Grant {
        grant: &r.grant,
        client_id: &r.client_id,
        user: &r.user,
        actor: r.actor.as_deref(),
        scope: &scope,
    };
    let mut body = json!({
        "access_token": tokens::access_token(app, &grant),
        "token_type": "Bearer",
        "expires_in": ACCESS_TTL,
        "scope": scope,
    });
    if caller.public {
        body["refresh_token"] = Value::String(new_refresh(app, &grant));
    }
    token_json(body)
}

fn actor_grant(app: &App, caller: &Caller) -> Response {
    if !app.actor_enabled(&caller.id) {
        return oauth_error(app, "unauthorized_client", "actor is disabled");
    }
    token_json(json!({
        "access_token": tokens::actor_token(app, &caller.id),
        "token_type": "Bearer",
        "expires_in": app.actor_token_ttl(),
    }))
}

/// GET on the token endpoint: refused (OBO-INH-2), in one of three conforming ways.
pub async fn token_get(State(app): State<AppRef>) -> Response {
    if app.quirk(Quirk::TokenGet404) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if app.quirk(Quirk::TokenGet405) {
        let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    oauth_error(
        &app,
        "invalid_request",
        "the token endpoint accepts POST only",
    )
}

fn client_only(app: &App, headers: &HeaderMap, p: &Params) -> Result<Caller, Refusal> {
    let caller = authenticate(app, headers, p)?;
    if caller.actor {
        return Err(("unauthorized_client", "not an OAuth client"));
    }
    Ok(caller)
}

/// RFC 7009.
pub async fn revoke(State(app): State<AppRef>, headers: HeaderMap, body: Bytes) -> Response {
    let p = Params::from_body(&body);
    let caller = match client_only(&app, &headers, &p) {
        Ok(c) => c,
        Err((code, why)) => return oauth_error(&app, code, why),
    };
    let Some(token) = p.get("token") else {
        return oauth_error(&app, "invalid_request", "token missing");
    };
    let refresh = app.store().refresh.get(token).cloned();
    if let Some(r) = refresh {
        if r.client_id == caller.id {
            tokens::revoke_grant(&app, &r.grant);
        }
        return StatusCode::OK.into_response();
    }
    if let Ok((_, claims)) = app.keys.verify_own(token) {
        if app.quirk(Quirk::RevokeUnsupportedAccess) {
            return oauth_error(
                &app,
                "unsupported_token_type",
                "access tokens are not revocable",
            );
        }
        if claims.get("client_id").and_then(Value::as_str) == Some(caller.id.as_str()) {
            if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
                app.store().revoked_jtis.insert(jti.to_string());
            }
        }
    }
    StatusCode::OK.into_response()
}

/// RFC 7662.
pub async fn introspect(State(app): State<AppRef>, headers: HeaderMap, body: Bytes) -> Response {
    let p = Params::from_body(&body);
    if let Err((code, why)) = client_only(&app, &headers, &p) {
        return oauth_error(&app, code, why);
    }
    let Some(token) = p.get("token") else {
        return oauth_error(&app, "invalid_request", "token missing");
    };
    let refresh = app.store().refresh.get(token).cloned();
    if let Some(r) = refresh {
        let live = r.active
            && !app.store().revoked_grants.contains(&r.grant)
            && r.actor.as_deref().is_none_or(|a| app.actor_enabled(a));
        if !live {
            return token_json(json!({"active": false}));
        }
        let mut out = json!({"active": true, "client_id": r.client_id, "scope": r.scope,
            "token_type": "refresh_token"});
        if let Some(a) = r.actor {
            out["act"] = json!({"sub": a});
        }
        return token_json(out);
    }
    match tokens::verify_access_token(&app, token) {
        Ok(claims) => {
            let actor_disabled = claims
                .get("act")
                .and_then(|a| a.get("sub"))
                .and_then(Value::as_str)
                .is_some_and(|a| !app.actor_enabled(a));
            if actor_disabled {
                return token_json(json!({"active": false}));
            }
            let mut out = Value::Object(claims);
            out["active"] = json!(true);
            out["token_type"] = json!("Bearer");
            token_json(out)
        }
        Err(_) => token_json(json!({"active": false})),
    }
}
