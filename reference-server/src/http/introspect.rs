//! RFC 7662 token introspection (OBO-INH-23, AMB-29): client authentication required; access,
//! refresh and actor tokens; tokens of a disabled actor are inactive.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::actor_token::ACTOR_TYP;
use super::client_auth::{authenticate, Caller};
use super::{json_response, oauth_error, oauth_form, App, Shared};
use crate::keys::Jws;

pub async fn introspect(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let p = match oauth_form(&app, &headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match authenticate(&app, &headers, &p) {
        Err(e) => return oauth_error(e.status, e.error, &e.description),
        // RFC 7662 §2.1: the caller must be authenticated; a public client cannot be.
        Ok(Caller::Client(c)) if c.is_public() => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "introspection requires client authentication",
            )
        }
        Ok(_) => {}
    }
    let Some(token) = p.get("token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is missing",
        );
    };
    let body = inspect(&app, token).unwrap_or_else(|| json!({"active": false}));
    json_response(StatusCode::OK, body)
}

fn inspect(app: &App, token: &str) -> Option<Value> {
    if let Some(r) = app.store.refresh(token) {
        let active = r.active
            && app.now() < r.expires_at
            && r.actor.as_deref().is_none_or(|a| app.actor_enabled(a));
        if !active {
            return None;
        }
        let mut m = Map::new();
        m.insert("active".into(), true.into());
        m.insert("token_type".into(), "refresh_token".into());
        m.insert("client_id".into(), r.client_id.into());
        m.insert("sub".into(), r.subject.into());
        m.insert("username".into(), r.username.into());
        m.insert("scope".into(), r.scope.join(" ").into());
        m.insert("exp".into(), r.expires_at.into());
        if let Some(a) = r.actor {
            m.insert("act".into(), json!({ "sub": a }));
        }
        return Some(Value::Object(m));
    }
    let jws = Jws::parse(token).ok()?;
    if jws.alg() != Some("ES256") || jws.kid() != Some(app.keys.kid()) || !app.keys.verify(&jws) {
        return None;
    }
    if jws.claim_str("iss") != Some(app.issuer.as_str()) {
        return None;
    }
    if jws.claim_i64("exp").is_none_or(|exp| app.now() >= exp) {
        return None;
    }
    let revoked = jws
        .claim_str("jti")
        .is_some_and(|j| app.store.is_revoked(j));
    if revoked && !app.fault(crate::fault::Fault::IntrospectIgnoresRevocation) {
        return None;
    }
    let actor = match jws.typ() {
        Some("at+jwt") => jws
            .claims
            .get("act")
            .and_then(|a| a.get("sub"))
            .and_then(Value::as_str),
        Some(ACTOR_TYP) => jws.claim_str("sub"),
        _ => return None,
    };
    if actor.is_some_and(|a| !app.actor_enabled(a)) {
        return None;
    }
    let mut m = jws.claims.clone();
    m.insert("active".into(), true.into());
    m.insert(
        "token_type".into(),
        if jws.typ() == Some(ACTOR_TYP) {
            "actor_token"
        } else {
            "Bearer"
        }
        .into(),
    );
    Some(Value::Object(m))
}
