//! The demo resource server (draft §4.4): validates the bearer token (OBO-RS-1..7), its scope
//! (OBO-RS-8) and, where a route names an actor, the outermost `act.sub` (OBO-RS-9), and
//! answers failures with `WWW-Authenticate: Bearer` (OBO-RS-10..12, AMB-22, AMB-23, AMB-33).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{App, Shared};
use crate::fault::Fault;
use crate::keys::Jws;

const REALM: &str = "obo-demo";

pub async fn read(State(app): State<Shared>, headers: HeaderMap) -> Response {
    guard(&app, &headers, "files.read", None)
}

pub async fn write(State(app): State<Shared>, headers: HeaderMap) -> Response {
    guard(&app, &headers, "files.write", None)
}

pub async fn actor(
    State(app): State<Shared>,
    Path(actor_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    guard(&app, &headers, "files.read", Some(&actor_id))
}

fn guard(app: &App, headers: &HeaderMap, scope: &str, actor: Option<&str>) -> Response {
    let token = match bearer(headers) {
        Ok(Some(t)) => t,
        Ok(None) if app.fault(Fault::RsTokenOptional) => {
            return (
                StatusCode::OK,
                axum::Json(json!({"ok": true, "user": null})),
            )
                .into_response();
        }
        // RFC 6750 §3.1 (AMB-22): no credentials, no error code.
        Ok(None) => {
            return challenge(
                StatusCode::UNAUTHORIZED,
                format!("Bearer realm=\"{REALM}\""),
                json!({"error": "invalid_token", "error_description": "an access token is required"}),
            )
        }
        Err(msg) => {
            return challenge(
                StatusCode::BAD_REQUEST,
                format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_request\", error_description=\"{msg}\""
            ),
                json!({"error": "invalid_request", "error_description": msg}),
            )
        }
    };
    let claims = match check_token(app, token) {
        Ok(c) => c,
        Err(msg) => {
            return challenge(
                StatusCode::UNAUTHORIZED,
                format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{msg}\""
            ),
                json!({"error": "invalid_token", "error_description": msg}),
            )
        }
    };
    // OBO-RS-8.
    let granted = claims.get("scope").and_then(Value::as_str).unwrap_or("");
    if !granted.split(' ').any(|s| s == scope) && !app.fault(Fault::RsScopeUnchecked) {
        return insufficient(app, scope, "the token lacks the required scope");
    }
    // OBO-RS-9, OBO-INH-17: only the outermost actor counts.
    if let Some(required) = actor {
        if !actor_matches(app, &claims, required) {
            return insufficient(
                app,
                scope,
                "this resource requires a token delegated to another actor",
            );
        }
    }
    let act = claims.get("act").and_then(|a| a.get("sub")).cloned();
    let mut resp = (
        StatusCode::OK,
        axum::Json(json!({
            "ok": true,
            "user": claims.get("sub"),
            "client_id": claims.get("client_id"),
            "actor": act,
            "scope": granted,
        })),
    )
        .into_response();
    super::no_store(resp.headers_mut());
    resp
}

fn actor_matches(app: &App, claims: &serde_json::Map<String, Value>, required: &str) -> bool {
    if app.fault(Fault::RsIgnoresAct) {
        return true;
    }
    let mut act = claims.get("act");
    while let Some(a) = act {
        if a.get("sub").and_then(Value::as_str) == Some(required) {
            return true;
        }
        if !app.fault(Fault::RsNestedActAccepted) {
            return false;
        }
        act = a.get("act");
    }
    false
}

/// OBO-RS-1..7, OBO-INH-18/19/20: ES256 with our key, typ at+jwt, our issuer, our audience,
/// not expired, not revoked.
pub fn check_token(app: &App, token: &str) -> Result<serde_json::Map<String, Value>, &'static str> {
    let jws = Jws::parse(token).map_err(|_| "the access token is malformed")?;
    let accepted_by_fault = (jws.alg() == Some("none") && app.fault(Fault::RsAlgNoneAccepted))
        || (jws.alg() == Some("HS256")
            && app.fault(Fault::RsHs256Confusion)
            && hmac_with_public_jwk(app, &jws));
    if jws.alg() != Some("ES256") && !accepted_by_fault {
        return Err("the access token algorithm is not allowed");
    }
    if !app.fault(Fault::RsSignatureUnchecked)
        && !accepted_by_fault
        && (jws.kid().is_some_and(|k| k != app.keys.kid()) || !app.keys.verify(&jws))
    {
        return Err("the access token signature is invalid");
    }
    // OBO-INH-18, OBO-INH-20: only access tokens (typ at+jwt) meant for this RS (aud).
    if !app.fault(Fault::RsTokenTypeUnchecked) {
        if jws.typ() != Some("at+jwt") {
            return Err("not an access token (typ)");
        }
        if !jws.aud_contains(&app.resource_audience()) && !app.fault(Fault::RsAudienceUnchecked) {
            return Err("the access token is for another audience");
        }
    }
    if jws.claim_str("iss") != Some(app.issuer.as_str()) && !app.fault(Fault::RsIssuerUnchecked) {
        return Err("the access token issuer is not trusted");
    }
    let now = app.now();
    let expired = jws.claim_i64("exp").is_none_or(|exp| now >= exp);
    if expired && !app.fault(Fault::RsExpiryUnchecked) {
        return Err("the access token has expired");
    }
    if jws.claim_i64("nbf").is_some_and(|nbf| nbf > now + 5) {
        return Err("the access token is not yet valid");
    }
    let revoked = jws
        .claim_str("jti")
        .is_some_and(|j| app.store.is_revoked(j));
    if revoked && !app.fault(Fault::RsRevocationUnchecked) {
        return Err("the access token has been revoked");
    }
    Ok(jws.claims)
}

/// Extracts the bearer token: Ok(None) when no Bearer credentials were sent.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, &'static str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(v) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("more than one Authorization header");
    }
    let v = v.to_str().map_err(|_| "malformed Authorization header")?;
    let Some((scheme, token)) = v.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err("empty bearer token");
    }
    Ok(Some(token))
}

/// OBO-RS-12, AMB-23: the challenge names the error and the needed scope, as RFC 6750's
/// `scope` and the draft example's `required_scope`, and the JSON body repeats them.
fn insufficient(app: &App, scope: &str, msg: &str) -> Response {
    if app.fault(Fault::RsChallengeBare) {
        return challenge(
            StatusCode::FORBIDDEN,
            format!("Bearer realm=\"{REALM}\""),
            json!({"error": "insufficient_scope", "error_description": msg, "required_scope": scope}),
        );
    }
    challenge(
        StatusCode::FORBIDDEN,
        format!(
            "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", error_description=\"{msg}\", scope=\"{scope}\", required_scope=\"{scope}\""
        ),
        json!({"error": "insufficient_scope", "error_description": msg, "scope": scope, "required_scope": scope}),
    )
}

fn challenge(status: StatusCode, www: String, body: Value) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_str(&www)
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"obo-demo\"")),
    );
    super::no_store(h);
    resp
}

/// The `rs-hs256-confusion` defect: HMAC-SHA256 keyed with the canonical JSON of our own public
/// JWK (sorted members, no spaces), as an attacker who read the JWKS would key it.
fn hmac_with_public_jwk(app: &App, jws: &Jws<'_>) -> bool {
    let Some(jwk) = app.keys.jwks().get("keys").and_then(|k| k.get(0)).cloned() else {
        return false;
    };
    let Value::Object(m) = jwk else {
        return false;
    };
    let mut members: Vec<(String, Value)> = m.into_iter().collect();
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), v))
        .collect();
    let secret = format!("{{{}}}", body.join(","));
    let Ok(key) = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()) else {
        return false;
    };
    jsonwebtoken::crypto::verify(
        jws.signature,
        jws.signing_input.as_bytes(),
        &key,
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap_or(false)
}
