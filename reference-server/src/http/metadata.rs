//! RFC 8414 metadata (OBO-INH-22) with the suite's extension members, and the JWKS.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::Shared;
use crate::config::{Revision, GRANT_TYPE_00};

pub async fn metadata(State(app): State<Shared>) -> Response {
    let base = &app.base_url;
    let rev = app.config.revision;
    let mut grants = vec!["authorization_code", "client_credentials", "refresh_token"];
    if rev == Revision::R00 {
        grants.push(GRANT_TYPE_00);
    }
    let mut m = json!({
        "issuer": app.issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "introspection_endpoint": format!("{base}/introspect"),
        "revocation_endpoint": format!("{base}/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grants,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
        "scopes_supported": app.config.registry.scopes,
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent"],
        "obo_requested_actor_supported": true,
        "obo_draft_revision": rev.as_str(),
        "obo_actor_parameter": rev.actor_param(),
        "obo_actor_token_parameter": rev.actor_token_param(),
    });
    if app.config.control_api {
        if let Some(o) = m.as_object_mut() {
            o.insert(
                "obo_test_control_endpoint".into(),
                Value::from(format!("{base}/control")),
            );
        }
    }
    (StatusCode::OK, axum::Json(m)).into_response()
}

pub async fn jwks(State(app): State<Shared>) -> Response {
    (StatusCode::OK, axum::Json(app.keys.jwks())).into_response()
}
