//! The demo resource server (draft 4.4): validates the bearer token, its scope and, where the
//! resource names an actor, the outermost `act.sub` (OBO-RS-1..12).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::http::AppRef;
use crate::state::App;
use crate::tokens;

fn challenge(status: StatusCode, value: String, body: Value) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// Checks the request's token; `scope` must be granted, `actor` (if any) must be `act.sub`.
fn guard(app: &App, headers: &HeaderMap, scope: &str, actor: Option<&str>) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = bearer else {
        // No credentials: no error code (RFC 6750 3.1, AMB-22).
        return challenge(
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"tt\"".into(),
            json!({"error": "invalid_request"}),
        );
    };
    let claims = match tokens::verify_access_token(app, token.trim()) {
        Ok(c) => c,
        Err(e) => {
            return challenge(
                StatusCode::UNAUTHORIZED,
                format!("Bearer realm=\"tt\", error=\"invalid_token\", error_description=\"{e}\""),
                json!({"error": "invalid_token", "error_description": e}),
            )
        }
    };
    let granted = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !granted.split(' ').any(|s| s == scope) {
        return challenge(
            StatusCode::FORBIDDEN,
            format!("Bearer realm=\"tt\", error=\"insufficient_scope\", scope=\"{scope}\""),
            json!({"error": "insufficient_scope", "scope": scope}),
        );
    }
    if let Some(want) = actor {
        // Only the outermost actor counts (OBO-RS-9, RFC 8693 4.1).
        let acting = claims
            .get("act")
            .and_then(Value::as_object)
            .and_then(|a| a.get("sub"))
            .and_then(Value::as_str);
        if acting != Some(want) {
            return challenge(
                StatusCode::FORBIDDEN,
                "Bearer realm=\"tt\", error=\"insufficient_scope\", error_description=\"this resource needs another actor\"".into(),
                json!({"error": "insufficient_scope"}),
            );
        }
    }
    axum::Json(json!({"ok": true, "sub": claims.get("sub"), "act": claims.get("act")}))
        .into_response()
}

pub async fn read(State(app): State<AppRef>, headers: HeaderMap) -> Response {
    guard(&app, &headers, "docs.read", None)
}

pub async fn write(State(app): State<AppRef>, headers: HeaderMap) -> Response {
    guard(&app, &headers, "docs.write", None)
}

pub async fn actor(
    State(app): State<AppRef>,
    headers: HeaderMap,
    Path(actor): Path<String>,
) -> Response {
    guard(&app, &headers, "docs.read", Some(&actor))
}
