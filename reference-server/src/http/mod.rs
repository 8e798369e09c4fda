//! The HTTP surface (docs/contracts.md §1): one module per endpoint.

// Handlers return early with a ready `Response` as the error value, as axum handlers do.
#![allow(clippy::result_large_err)]

pub mod actor_token;
pub mod authorize;
pub mod client_auth;
pub mod consent;
pub mod control;
pub mod introspect;
pub mod login;
pub mod metadata;
pub mod pages;
pub mod resource;
pub mod revoke;
pub mod token;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::clock::Clock;
use crate::config::{Actor, Config};
use crate::fault::{Fault, Faults};
use crate::keys::Keys;
use crate::params::Params;
use crate::store::Store;

/// Request bodies above this size are refused with 413.
pub const MAX_BODY: usize = 64 * 1024;

/// Shared server state.
pub struct App {
    pub config: Config,
    pub base_url: String,
    pub issuer: String,
    pub faults: Faults,
    pub keys: Keys,
    pub clock: Clock,
    pub store: Store,
    pub pages: pages::Pages,
}

pub type Shared = Arc<App>;

impl App {
    pub fn new(config: Config, base_url: String) -> Result<App, String> {
        let issuer = config.issuer.clone().unwrap_or_else(|| base_url.clone());
        let clock = Clock::default();
        Ok(App {
            faults: Faults::new(&config.faults),
            keys: Keys::generate()?,
            store: Store::new(clock.clone(), &config.ttl),
            clock,
            pages: pages::Pages::new(
                config.faults.contains(&Fault::ConsentPageFramable),
                config.consent_ui,
            )?,
            config,
            base_url,
            issuer,
        })
    }

    pub fn fault(&self, f: Fault) -> bool {
        self.faults.on(f)
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// `now + ttl`, saturating (the clock may have been moved far ahead).
    pub fn expiry(&self, ttl: u64) -> i64 {
        crate::store::expiry(self.now(), ttl)
    }

    /// The default access-token audience: the demo RS.
    pub fn resource_audience(&self) -> String {
        format!("{}/resource", self.base_url)
    }

    /// Looks up a registered actor. Ids compare byte for byte (AMB-6).
    pub fn actor(&self, id: &str) -> Option<&Actor> {
        self.config
            .registry
            .actors
            .iter()
            .find(|a| self.actor_id_eq(&a.id, id))
    }

    /// The one place where actor ids are compared (OBO-TOKEN-12, AMB-6: exact, case-sensitive).
    pub fn actor_id_eq(&self, a: &str, b: &str) -> bool {
        if self.fault(Fault::ActorMatchCaseInsensitive) {
            return a.to_lowercase() == b.to_lowercase();
        }
        a == b
    }

    /// Whether an actor may get anything new (OBO-TOKEN-10, AMB-29): registered and enabled,
    /// with the control API's switch taking precedence over the registry.
    pub fn actor_enabled(&self, id: &str) -> bool {
        let Some(actor) = self.actor(id) else {
            return false;
        };
        if self.fault(Fault::DisabledActorAccepted) {
            return true;
        }
        self.store
            .actor_override(&actor.id)
            .unwrap_or(actor.enabled)
    }
}

pub fn router(app: Shared) -> Router {
    let routes = Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::metadata),
        )
        .route("/jwks", get(metadata::jwks))
        .route(
            "/authorize",
            get(authorize::authorize).post(authorize::authorize),
        )
        .route("/login", get(login::show).post(login::submit))
        .route("/consent", get(consent::show).post(consent::submit))
        .route("/token", any(token::token))
        .route("/introspect", post(introspect::introspect))
        .route("/revoke", post(revoke::revoke))
        .route("/resource", get(resource::read))
        .route("/resource/write", get(resource::write))
        .route("/resource/actor/{actor_id}", get(resource::actor))
        .route("/control/{*path}", any(control::control))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            request_timeout,
        ));
    // The delay layer costs a boxed future per request; only pay for it when it is asked for.
    let routes = if app.config.latency.is_zero() {
        routes
    } else {
        routes.layer(axum::middleware::from_fn_with_state(app.clone(), latency))
    };
    routes.with_state(app)
}

/// `--latency-ms`: delays every response (benchmarks).
async fn latency(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let delay = app.config.latency;
    let resp = next.run(req).await;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    resp
}

/// Reading the body and answering must end within `connections.request_timeout` (a client
/// trickling its body is cut off with 408).
async fn request_timeout(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let limit = app.config.connections.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => json_response(
            StatusCode::REQUEST_TIMEOUT,
            json!({"error": "request_timeout", "error_description": format!("the request took longer than {} s", limit.as_secs_f64())}),
        ),
    }
}

async fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, json!({"error": "not_found"}))
}

/// JSON with `Cache-Control: no-store` and `Pragma: no-cache`.
pub fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    no_store(resp.headers_mut());
    resp
}

pub fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// An RFC 6749 §5.2 error body (introspection, revocation).
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// Reads a cookie value from the request.
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

pub const SESSION_COOKIE: &str = "obo_session";

pub fn session_cookie(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("obo_session=; Path=/"))
}

/// Whether the request's form content type is acceptable for a form POST.
/// The form body of an RFC 6749-style back-channel request (introspection, revocation): a form
/// content type, no malformed or duplicated parameter (OBO-INH-1); otherwise the JSON error.
pub fn oauth_form(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<Params, Response> {
    if !is_form(headers) {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "form body expected",
        ));
    }
    let p = Params::parse(body);
    match p.malformed(&app.faults) {
        Some(msg) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &msg,
        )),
        None => Ok(p),
    }
}

pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false)
}
