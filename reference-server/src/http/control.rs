//! The test-control API (docs/contracts.md §1): clock, reset, actor switches, consent
//! revocation and minting. Absent (404) unless enabled.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::{json_response, Shared};

fn fail(status: StatusCode, msg: &str) -> Response {
    json_response(status, json!({"ok": false, "error": msg}))
}

pub async fn control(
    State(app): State<Shared>,
    Path(path): Path<String>,
    method: Method,
    body: Bytes,
) -> Response {
    if !app.config.control_api {
        return fail(StatusCode::NOT_FOUND, "not_found");
    }
    if method != Method::POST {
        return fail(StatusCode::METHOD_NOT_ALLOWED, "POST only");
    }
    let v: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return fail(StatusCode::BAD_REQUEST, "body must be a JSON object"),
        }
    };
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    match path.trim_end_matches('/') {
        "clock/advance" => {
            let Some(secs) = v
                .get("seconds")
                .and_then(|x| x.as_i64().or_else(|| x.as_f64().map(|f| f as i64)))
            else {
                return fail(StatusCode::BAD_REQUEST, "seconds (number) is required");
            };
            match app.clock.advance(secs) {
                Ok(now) => json_response(StatusCode::OK, json!({"ok": true, "now": now})),
                Err(e) => fail(StatusCode::BAD_REQUEST, &e.to_string()),
            }
        }
        "reset" => {
            app.store.reset();
            app.clock.reset();
            json_response(StatusCode::OK, json!({"ok": true, "now": app.now()}))
        }
        p @ ("actors/disable" | "actors/enable") => {
            let Some(actor) = s("actor") else {
                return fail(StatusCode::BAD_REQUEST, "actor is required");
            };
            if !app.config.registry.actors.iter().any(|a| a.id == actor) {
                return fail(StatusCode::NOT_FOUND, "unknown actor");
            }
            app.store.set_actor_enabled(actor, p == "actors/enable");
            json_response(StatusCode::OK, json!({"ok": true}))
        }
        "consents/revoke" => {
            let (Some(user), Some(client)) = (s("user"), s("client_id")) else {
                return fail(StatusCode::BAD_REQUEST, "user and client_id are required");
            };
            let revoked = app
                .store
                .revoke_consent(user, client, s("actor").unwrap_or(""));
            json_response(StatusCode::OK, json!({"ok": true, "revoked": revoked}))
        }
        "mint" => mint(&app, &v),
        _ => fail(StatusCode::NOT_FOUND, "not_found"),
    }
}

/// Signs arbitrary claims with the AS key. Without a `header`, typ is `actor+jwt` when the
/// claims say `token_use: "actor"`, else `at+jwt`.
fn mint(app: &super::App, v: &Value) -> Response {
    let Some(claims @ Value::Object(c)) = v.get("claims") else {
        return fail(StatusCode::BAD_REQUEST, "claims (object) is required");
    };
    let header: Map<String, Value> = match v.get("header") {
        Some(Value::Object(h)) => h.clone(),
        Some(_) => return fail(StatusCode::BAD_REQUEST, "header must be an object"),
        None => {
            let typ = if c.get("token_use").and_then(Value::as_str) == Some("actor") {
                "actor+jwt"
            } else {
                "at+jwt"
            };
            let mut h = Map::new();
            h.insert("typ".into(), typ.into());
            h
        }
    };
    match app.keys.sign(header, claims) {
        Ok(token) => json_response(StatusCode::OK, json!({"ok": true, "token": token})),
        Err(_) => fail(StatusCode::BAD_REQUEST, "could not sign"),
    }
}
