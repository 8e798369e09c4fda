//! HTML pages (login, consent, error), rendered with minijinja. Auto-escaping is on for
//! `.html` templates, so every request value shown is escaped (AMB-30). Every page carries
//! anti-framing headers (OBO-INH-15, ADV-50) and `Cache-Control: no-store`.
//!
//! With `consent_ui = "spa"` the login and consent pages carry no form: a small inline script
//! (templates/spa.js, allowed by its CSP hash) builds the same form, with the same CSRF token
//! and POST endpoint, from a JSON blob; a `<noscript>` says JavaScript is required.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use minijinja::Environment;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::ConsentUi;

/// The script of the `spa` pages; its hash is the only script the pages' CSP allows.
const SPA_SCRIPT: &str = include_str!("../../templates/spa.js");

pub struct Pages {
    env: Environment<'static>,
    /// The `consent-page-framable` fault: no anti-framing headers.
    framable: bool,
    ui: ConsentUi,
}

impl Pages {
    pub fn new(framable: bool, ui: ConsentUi) -> Result<Pages, String> {
        let mut env = Environment::new();
        for (name, src) in [
            ("login.html", include_str!("../../templates/login.html")),
            ("consent.html", include_str!("../../templates/consent.html")),
            ("error.html", include_str!("../../templates/error.html")),
            ("spa.html", include_str!("../../templates/spa.html")),
        ] {
            env.add_template(name, src)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        Ok(Pages { env, framable, ui })
    }

    /// Renders a template into an HTML response (login and consent built by script in `spa`).
    pub fn render(&self, status: StatusCode, name: &str, ctx: &Value) -> Response {
        let spa = match name {
            "login.html" if self.ui == ConsentUi::Spa => Some(("login", "Sign in")),
            "consent.html" if self.ui == ConsentUi::Spa => Some(("consent", "Authorize an agent")),
            _ => None,
        };
        let (name, spa_ctx) = match spa {
            Some((page, title)) => {
                let mut data = ctx.clone();
                if let Some(o) = data.as_object_mut() {
                    o.insert("page".into(), json!(page));
                }
                // Inside <script type="application/json"> only `</script` could end the blob:
                // escape the characters HTML cares about (they occur only inside JSON strings).
                let blob = serde_json::to_string(&data)
                    .unwrap_or_else(|_| "{}".into())
                    .replace('<', "\\u003c")
                    .replace('>', "\\u003e")
                    .replace('&', "\\u0026");
                let c = json!({"title": title, "data": blob, "script": SPA_SCRIPT});
                ("spa.html", Some(c))
            }
            None => (name, None),
        };
        let body = self
            .env
            .get_template(name)
            .and_then(|t| t.render(spa_ctx.as_ref().unwrap_or(ctx)))
            .unwrap_or_else(|e| {
                tracing::error!("rendering {name}: {e}");
                "<!doctype html><title>error</title><p>page unavailable</p>".into()
            });
        let mut resp = html(status, body);
        if spa_ctx.is_some() {
            let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SPA_SCRIPT));
            let csp = format!(
                "frame-ancestors 'none'; default-src 'self'; style-src 'unsafe-inline'; script-src 'sha256-{hash}'"
            );
            if let Ok(v) = HeaderValue::from_str(&csp) {
                resp.headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, v);
            }
        }
        if self.framable {
            resp.headers_mut().remove(header::X_FRAME_OPTIONS);
            resp.headers_mut().remove(header::CONTENT_SECURITY_POLICY);
        }
        resp
    }

    /// An error page: used when the AS must not redirect (unknown client, bad redirect_uri).
    pub fn error(&self, status: StatusCode, error: &str, message: &str) -> Response {
        self.render(
            status,
            "error.html",
            &json!({"title": "Request refused", "error": error, "message": message}),
        )
    }
}

pub fn html(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "frame-ancestors 'none'; default-src 'self'; style-src 'unsafe-inline'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}
