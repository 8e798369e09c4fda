//! RFC 7009 token revocation (OBO-INH-23): client authentication required; a client may revoke
//! its own access and refresh tokens, an actor its own actor tokens. Unknown or foreign tokens
//! get 200 and no effect (RFC 7009 §2.2).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_auth::{authenticate, Caller};
use super::{no_store, oauth_error, oauth_form, Shared};
use crate::keys::Jws;

pub async fn revoke(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let p = match oauth_form(&app, &headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let caller = match authenticate(&app, &headers, &p) {
        Ok(c) => c,
        Err(e) => return oauth_error(e.status, e.error, &e.description),
    };
    let Some(token) = p.get("token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is missing",
        );
    };
    if let Some(r) = app.store.refresh(token) {
        if r.client_id == caller.id() {
            app.store.deactivate_refresh(token);
        }
    } else if let Ok(jws) = Jws::parse(token) {
        let ours = jws.alg() == Some("ES256") && app.keys.verify(&jws);
        let owner = match caller {
            Caller::Client(_) => jws.claim_str("client_id"),
            Caller::Actor(_) => jws.claim_str("sub"),
        };
        if let (true, Some(jti)) = (ours && owner == Some(caller.id()), jws.claim_str("jti")) {
            app.store.revoke_jti(jti);
        }
    }
    let mut resp = StatusCode::OK.into_response();
    no_store(resp.headers_mut());
    resp
}
