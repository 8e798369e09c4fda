//! Client authentication at the token, introspection and revocation endpoints (AMB-8,
//! OBO-TOKEN-9, OBO-INH-6): client_secret_basic, client_secret_post, or `client_id` alone for a
//! public client. Actors authenticate the same way, with their id and secret, to obtain actor
//! tokens through `client_credentials` (AMB-7).

use axum::http::{header, HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::App;
use crate::config::{Actor, Client};
use crate::fault::Fault;
use crate::keys::ct_eq;
use crate::params::Params;

/// Who called.
pub enum Caller<'a> {
    Client(&'a Client),
    Actor(&'a Actor),
}

impl Caller<'_> {
    pub fn id(&self) -> &str {
        match self {
            Caller::Client(c) => &c.id,
            Caller::Actor(a) => &a.id,
        }
    }
}

/// An RFC 6749 §5.2 error, rendered by the endpoint.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        let status = if error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }
}

fn invalid_client(msg: &str) -> OAuthError {
    OAuthError::new("invalid_client", msg)
}

/// Authenticates the caller from the Authorization header or the form.
pub fn authenticate<'a>(
    app: &'a App,
    headers: &HeaderMap,
    p: &Params,
) -> Result<Caller<'a>, OAuthError> {
    let basic = basic_credentials(headers)?;
    let (id, secret) = match basic {
        Some((id, secret)) => {
            if p.get("client_secret").is_some() {
                return Err(OAuthError::new(
                    "invalid_request",
                    "more than one client authentication method",
                ));
            }
            if p.get("client_id").is_some_and(|c| c != id) {
                return Err(OAuthError::new(
                    "invalid_request",
                    "client_id differs from the authenticated client",
                ));
            }
            (id, Some(secret))
        }
        None => {
            let id = p
                .get("client_id")
                .ok_or_else(|| invalid_client("client authentication required"))?;
            (id.to_string(), p.get("client_secret").map(String::from))
        }
    };
    let reg = &app.config.registry;
    if let Some(client) = reg.client(&id) {
        return match (&client.secret, secret) {
            (None, None) => Ok(Caller::Client(client)),
            (None, Some(_)) => Err(invalid_client("public clients have no secret")),
            (Some(expected), given) => secret_ok(app, expected, given.as_deref())
                .then_some(Caller::Client(client))
                .ok_or_else(|| invalid_client("client authentication failed")),
        };
    }
    if let Some(actor) = reg.actors.iter().find(|a| a.id == id) {
        return secret_ok(app, &actor.secret, secret.as_deref())
            .then_some(Caller::Actor(actor))
            .ok_or_else(|| invalid_client("client authentication failed"));
    }
    Err(invalid_client("client authentication failed"))
}

/// The one place a client secret is checked.
fn secret_ok(app: &App, expected: &str, given: Option<&str>) -> bool {
    let Some(given) = given else {
        return false;
    };
    if app.fault(Fault::ClientAuthSkipped) {
        return true;
    }
    ct_eq(expected.as_bytes(), given.as_bytes())
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id):urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || invalid_client("malformed Basic credentials");
    let value = value.to_str().map_err(|_| bad())?;
    let Some((scheme, rest)) = value.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid_client("unsupported authentication scheme"));
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    let (id, secret) = (form_decode(id), form_decode(secret));
    if id.is_empty() {
        return Err(bad());
    }
    Ok(Some((id, secret)))
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
