//! The login page: a plain HTML form (`username`, `password`, `csrf`, `tx`) bound to the
//! browser session cookie, so an HTTP client can complete it by posting the form.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::json;

use super::authorize::{consent_covers, issue_code, see_other};
use super::{cookie, is_form, session_cookie, App, Shared, SESSION_COOKIE};
use crate::fault::Fault;
use crate::keys::ct_eq;
use crate::params::Params;
use crate::store::Transaction;

/// Finds the pending transaction and checks that it belongs to this browser session.
pub fn load_tx(
    app: &App,
    headers: &HeaderMap,
    tx: Option<&str>,
) -> Result<(String, Transaction), Response> {
    let refuse = |msg: &str| {
        Err(app
            .pages
            .error(StatusCode::BAD_REQUEST, "invalid_request", msg))
    };
    let Some(tx_id) = tx else {
        return refuse("missing transaction");
    };
    let Some(t) = app.store.transaction(tx_id) else {
        return refuse("unknown or finished transaction; start again from the client");
    };
    if t.expires_at <= app.now() {
        app.store.remove_transaction(tx_id);
        return refuse("this sign-in took too long; start again from the client");
    }
    let session = cookie(headers, SESSION_COOKIE).unwrap_or_default();
    if !ct_eq(session.as_bytes(), t.session.as_bytes()) {
        return refuse("session cookie missing or not the one that started this request");
    }
    Ok((tx_id.to_string(), t))
}

/// A login or consent form post: a form body naming a live transaction (`tx`) whose CSRF token
/// it carries; otherwise the error page.
pub fn page_form(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, String, Transaction), Response> {
    if !is_form(headers) {
        return Err(app.pages.error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "form body expected",
        ));
    }
    let p = Params::parse(body);
    let (tx, t) = load_tx(app, headers, p.get("tx"))?;
    check_csrf(app, &p, &t)?;
    Ok((p, tx, t))
}

/// RFC 6749 §10.12 (OBO-INH-28): a login or consent post must carry the transaction's CSRF
/// token, so a third party's page cannot sign the user in or approve on their behalf.
pub fn check_csrf(app: &App, p: &Params, t: &Transaction) -> Result<(), Response> {
    if app.fault(Fault::CsrfUnchecked) {
        return Ok(());
    }
    match p.get("csrf") {
        Some(c) if ct_eq(c.as_bytes(), t.csrf.as_bytes()) => Ok(()),
        _ => Err(app.pages.error(
            StatusCode::FORBIDDEN,
            "invalid_request",
            "CSRF token missing or wrong",
        )),
    }
}

pub fn render(
    app: &App,
    status: StatusCode,
    tx: &str,
    t: &Transaction,
    error: Option<&str>,
    username: &str,
) -> Response {
    let client = app.config.registry.client(&t.request.client_id);
    let actor_id = t.request.actor.clone().unwrap_or_default();
    let actor_name = app
        .actor(&actor_id)
        .map(|a| a.display_name.clone())
        .unwrap_or_else(|| actor_id.clone());
    app.pages.render(
        status,
        "login.html",
        &json!({
            "tx": tx, "csrf": t.csrf, "error": error, "username": username,
            "client_id": t.request.client_id,
            "client_name": client.map(|c| c.name.clone()).unwrap_or_default(),
            "actor_id": actor_id, "actor_name": actor_name,
        }),
    )
}

pub async fn show(State(app): State<Shared>, headers: HeaderMap, uri: Uri) -> Response {
    let q = Params::parse(uri.query().unwrap_or("").as_bytes());
    match load_tx(&app, &headers, q.get("tx")) {
        Ok((tx, t)) => render(&app, StatusCode::OK, &tx, &t, None, ""),
        Err(r) => r,
    }
}

pub async fn submit(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (p, tx, t) = match page_form(&app, &headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let username = p.get("username").unwrap_or("");
    let password = p.get("password").unwrap_or("");
    let user = app
        .config
        .registry
        .user(username)
        .filter(|u| ct_eq(u.password.as_bytes(), password.as_bytes()))
        .cloned();
    let Some(user) = user else {
        return render(
            &app,
            StatusCode::UNAUTHORIZED,
            &tx,
            &t,
            Some("Unknown user or wrong password."),
            username,
        );
    };
    let session = app.store.login(&t.session, &tx, &user.username);
    let mut resp = if consent_covers(&app, &user.username, &t.request) {
        app.store.remove_transaction(&tx);
        issue_code(&app, t.request, &user)
    } else {
        see_other(&format!("/consent?tx={tx}"))
    };
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&session));
    resp
}
