//! A test API in a format of its own (quirk own-control-api), unlike the reference server's
//! contract: the clock, actors, stored consents and a reset (test-targets/README.md).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::http::{AppRef, Params};

/// `POST /__admin/time {"offset_seconds": N}`: the clock runs N seconds ahead of real time.
pub async fn time(State(app): State<AppRef>, Json(body): Json<Value>) -> Response {
    let Some(offset) = body.get("offset_seconds").and_then(Value::as_i64) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "offset_seconds: an integer",
        )
            .into_response();
    };
    app.store().clock_offset = offset;
    Json(json!({"now": app.now()})).into_response()
}

/// `PATCH /__admin/agents/{id} {"enabled": false}`.
pub async fn agent(
    State(app): State<AppRef>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if app.opts.registry.actor(&id).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(enabled) = body.get("enabled").and_then(Value::as_bool) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, "enabled: a boolean").into_response();
    };
    app.store().actor_enabled.insert(id.clone(), enabled);
    Json(json!({"id": id, "enabled": enabled})).into_response()
}

/// `DELETE /__admin/grants?user=&agent=&client=`: forgets stored consents (missing = any).
pub async fn grants(State(app): State<AppRef>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.unwrap_or_default().as_bytes());
    let (user, agent, client) = (p.get("user"), p.get("agent"), p.get("client"));
    let mut store = app.store();
    let before = store.consents.len();
    store.consents.retain(|(u, c, a), _| {
        !(user.is_none_or(|x| x == u)
            && client.is_none_or(|x| x == c)
            && agent.is_none_or(|x| x == a))
    });
    let removed = before - store.consents.len();
    Json(json!({"removed": removed})).into_response()
}

/// `POST /__admin/reset`: forgets every code, session, consent and token; clock back.
pub async fn reset(State(app): State<AppRef>) -> Response {
    app.reset();
    StatusCode::NO_CONTENT.into_response()
}
