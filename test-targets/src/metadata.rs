//! RFC 8414 metadata and the JWKS.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::http::AppRef;
use crate::Quirk;

pub async fn metadata(State(app): State<AppRef>) -> Json<Value> {
    let b = &app.base;
    let mut m = json!({
        "issuer": b,
        "authorization_endpoint": format!("{b}/authorize"),
        "token_endpoint": format!("{b}/token"),
        "jwks_uri": format!("{b}/jwks"),
        "revocation_endpoint": format!("{b}/revoke"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": app.opts.registry.scopes,
        "authorization_response_iss_parameter_supported": app.quirk(Quirk::IssOnCallback),
    });
    if !app.quirk(Quirk::JwtNotIntrospectable) {
        m["introspection_endpoint"] = json!(format!("{b}/introspect"));
    }
    Json(m)
}

pub async fn jwks(State(app): State<AppRef>) -> Json<Value> {
    Json(app.keys.jwks())
}
