//! Routes and the HTTP helpers every endpoint shares: parameters, cookies, OAuth error bodies,
//! token responses, redirects within the AS and HTML pages.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::Router;
use serde_json::{json, Value};

use crate::state::App;
use crate::{admin, authorize, metadata, resource, token, Defect, Quirk};

pub type AppRef = Arc<App>;

pub fn router(app: AppRef) -> Router {
    let mut r = Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::metadata),
        )
        .route("/jwks", get(metadata::jwks))
        .route("/authorize", get(authorize::get).post(authorize::post))
        .route(
            "/login",
            get(authorize::login_page).post(authorize::login_submit),
        )
        .route(
            "/consent",
            get(authorize::consent_page).post(authorize::consent_submit),
        )
        .route(
            "/interaction/{uid}",
            get(authorize::interaction_get).post(authorize::interaction_post),
        )
        .route("/token", post(token::token).get(token::token_get))
        .route("/revoke", post(token::revoke))
        .route("/resource", get(resource::read))
        .route("/resource/write", get(resource::write))
        .route("/resource/actor/{actor}", get(resource::actor));
    if !app.quirk(Quirk::JwtNotIntrospectable) {
        r = r.route("/introspect", post(token::introspect));
    }
    if app.quirk(Quirk::OwnControlApi) {
        r = r
            .route("/__admin/time", post(admin::time))
            .route("/__admin/agents/{id}", patch(admin::agent))
            .route("/__admin/grants", delete(admin::grants))
            .route("/__admin/reset", post(admin::reset));
    }
    r.with_state(app)
}

/// Request parameters in order, duplicates kept (RFC 6749 3.1: none may repeat).
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: &[u8]) -> Params {
        Params(
            url::form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A parameter's value; an empty value counts as absent (RFC 6749 3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The first parameter name sent more than once.
    pub fn duplicate(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (k, _))| {
            self.0[..i]
                .iter()
                .any(|(k2, _)| k2 == k)
                .then_some(k.as_str())
        })
    }

    pub fn from_body(body: &Bytes) -> Params {
        Params::parse(body)
    }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn set_cookie(resp: &mut Response, name: &str, value: &str) {
    let c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// An RFC 6749 5.2 error. `invalid_client` is 401 (with a challenge when Basic was used).
pub fn oauth_error(app: &App, error: &str, description: &str) -> Response {
    let mut status = if error == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    // Defect errors-200: breaks OBO-INH-8 / OBO-TOKEN-14 (errors use HTTP 400).
    if app.defect(Defect::Errors200) {
        status = StatusCode::OK;
    }
    let body = json!({"error": error, "error_description": description});
    let mut resp = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"tt\""),
        );
    }
    if !app.quirk(Quirk::ErrorsWithoutPragma) {
        no_store(&mut resp);
    }
    resp
}

/// A 200 JSON response carrying tokens: always no-store (RFC 6749 5.1).
pub fn token_json(body: Value) -> Response {
    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    no_store(&mut resp);
    resp
}

/// A hop inside the AS (login → consent): 302 absolute, or 303 relative under the quirk.
pub fn internal_redirect(app: &App, path: &str) -> Response {
    let (status, location) = if app.quirk(Quirk::RelativeRedirect) {
        (StatusCode::SEE_OTHER, path.to_string())
    } else {
        (StatusCode::FOUND, format!("{}{path}", app.base))
    };
    let mut resp = status.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// The redirect back to the client (always 302, absolute).
pub fn client_redirect(location: &str) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// An HTML page; login and consent pages forbid framing (OBO-INH-15).
pub fn page(app: &App, status: StatusCode, title: &str, body: &str, interactive: bool) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body>{body}</body></html>",
        esc(title)
    );
    let mut resp = (status, axum::response::Html(html)).into_response();
    // Defect frameable-pages: breaks OBO-INH-15 (clickjacking protection of login/consent).
    if interactive && !app.defect(Defect::FrameablePages) {
        let h = resp.headers_mut();
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
        h.insert(
            "content-security-policy",
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// HTML-escapes text (actor ids are attacker-chosen, AMB-30).
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A query string from pairs.
pub fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}
