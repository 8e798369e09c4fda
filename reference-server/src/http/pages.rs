//! HTML pages (login, consent, error), rendered with minijinja. Auto-escaping is on for
//! `.html` templates, so every request value shown is escaped (AMB-30). Every page carries
//! anti-framing headers (OBO-INH-15, ADV-50) and `Cache-Control: no-store`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde_json::{json, Value};

pub struct Pages {
    env: Environment<'static>,
    /// The `consent-page-framable` fault: no anti-framing headers.
    framable: bool,
}

impl Pages {
    pub fn new(framable: bool) -> Result<Pages, String> {
        let mut env = Environment::new();
        for (name, src) in [
            ("login.html", include_str!("../../templates/login.html")),
            ("consent.html", include_str!("../../templates/consent.html")),
            ("error.html", include_str!("../../templates/error.html")),
        ] {
            env.add_template(name, src)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        Ok(Pages { env, framable })
    }

    /// Renders a template into an HTML response.
    pub fn render(&self, status: StatusCode, name: &str, ctx: &Value) -> Response {
        let body = self
            .env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .unwrap_or_else(|e| {
                tracing::error!("rendering {name}: {e}");
                "<!doctype html><title>error</title><p>page unavailable</p>".into()
            });
        let mut resp = html(status, body);
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
