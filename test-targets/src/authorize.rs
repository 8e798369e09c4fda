//! The authorization endpoint with its login and consent pages (draft 4.1, RFC 6749 4.1.1).
//! Plain HTML forms, a CSRF value per pending request, a session cookie after login.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use url::Url;

use crate::http::{
    self, client_redirect, cookie, esc, internal_redirect, page, set_cookie, AppRef, Params,
};
use crate::state::{App, Code, Tx};
use crate::{Defect, Quirk};

const SESSION: &str = "tt_sid";
const BROWSER: &str = "tt_browser";

pub async fn get(State(app): State<AppRef>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    start(
        &app,
        &headers,
        Params::parse(q.unwrap_or_default().as_bytes()),
    )
}

pub async fn post(State(app): State<AppRef>, headers: HeaderMap, body: Bytes) -> Response {
    start(&app, &headers, Params::from_body(&body))
}

fn error_page(app: &App, msg: &str) -> Response {
    let body = format!("<h1>Request refused</h1><p>{}</p>", esc(msg));
    page(app, StatusCode::BAD_REQUEST, "Error", &body, false)
}

/// The client's redirect_uri with extra query parameters (and RFC 9207 `iss` under the quirk).
fn back_to_client(app: &App, redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return error_page(app, "unusable redirect_uri");
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if app.quirk(Quirk::IssOnCallback) {
            q.append_pair("iss", &app.base);
        }
    }
    client_redirect(url.as_str())
}

fn error_redirect(app: &App, redirect_uri: &str, state: Option<&str>, error: &str) -> Response {
    let mut pairs = vec![("error", error)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    back_to_client(app, redirect_uri, &pairs)
}

/// Validates the request, then sends the browser to login, consent, or back with a code.
fn start(app: &App, headers: &HeaderMap, p: Params) -> Response {
    let reg = &app.opts.registry;
    let count = |name: &str| p.0.iter().filter(|(k, _)| k == name).count();
    // Client and redirect_uri first: never redirect to an unvalidated URI (OBO-INH-3).
    if count("client_id") > 1 || count("redirect_uri") > 1 {
        return error_page(app, "client_id or redirect_uri repeated");
    }
    let Some(client) = p.get("client_id").and_then(|id| reg.client(id)) else {
        return error_page(app, "unknown or missing client_id");
    };
    let redirect_uri = match p.get("redirect_uri") {
        Some(r) if r == client.redirect_uri => r.to_string(),
        Some(_) => return error_page(app, "redirect_uri is not registered for this client"),
        None => client.redirect_uri.clone(),
    };
    let state = p.get("state");
    let fail = |error: &str| error_redirect(app, &redirect_uri, state, error);
    if p.duplicate().is_some() {
        return fail("invalid_request"); // OBO-INH-1
    }
    match p.get("response_type") {
        None => return fail("invalid_request"),
        Some("code") => {}
        Some(_) => return fail("unsupported_response_type"),
    }
    // PKCE S256 required (OBO-SEC-2, AMB-15).
    if p.get("code_challenge").is_none() || p.get("code_challenge_method") != Some("S256") {
        return fail("invalid_request");
    }
    let scope = p.get("scope").unwrap_or(&reg.default_scope).to_string();
    if scope.split(' ').any(|s| !reg.scopes.iter().any(|k| k == s)) {
        return fail("invalid_scope");
    }
    // Defect ignores-obo: breaks OBO-TOKEN-12 / OBO-AT-3 (requested_actor never bound).
    let actor = if app.defect(Defect::IgnoresObo) {
        None
    } else {
        match p.get("requested_actor") {
            None if app.quirk(Quirk::OboOnly) => return fail("invalid_request"),
            None => None,
            // Exact, case-sensitive match of a recognised, enabled actor (OBO-AUTHZ-10, AMB-6).
            Some(a) => match reg.actor(a) {
                Some(known) if app.actor_enabled(&known.id) => Some(known.id.clone()),
                _ => return fail("invalid_request"),
            },
        }
    };
    let prompt = p.get("prompt").unwrap_or_default();
    let mut tx = Tx {
        client_id: client.id.clone(),
        redirect_uri,
        redirect_sent: p.get("redirect_uri").is_some(),
        state: state.map(str::to_string),
        scope,
        actor,
        challenge: p.get("code_challenge").unwrap_or_default().to_string(),
        csrf: app.random(),
        user: None,
        browser: None,
        force_consent: prompt == "consent",
    };
    let signed_in = cookie(headers, SESSION)
        .and_then(|s| app.store().sessions.get(&s).cloned())
        .filter(|_| prompt != "login");
    let browser = app.quirk(Quirk::CookiesRequired).then(|| app.random());
    tx.browser = browser.clone();
    tx.user = signed_in;
    let id = app.random();
    let mut resp = if tx.user.is_some() {
        app.store().txs.insert(id.clone(), tx);
        proceed(app, &id, true)
    } else {
        app.store().txs.insert(id.clone(), tx);
        internal_redirect(app, &login_path(app, &id))
    };
    if let Some(b) = browser {
        set_cookie(&mut resp, BROWSER, &b);
    }
    resp
}

fn login_path(app: &App, id: &str) -> String {
    if app.quirk(Quirk::OneUrlInteraction) {
        format!("/interaction/{id}")
    } else {
        format!("/login?{}", http::query(&[("tx", id)]))
    }
}

fn consent_path(app: &App, id: &str) -> String {
    if app.quirk(Quirk::OneUrlInteraction) {
        format!("/interaction/{id}")
    } else {
        format!("/consent?{}", http::query(&[("tx", id)]))
    }
}

fn consent_key(app: &App, tx: &Tx, user: &str) -> (String, String, String) {
    // Defect consent-reused-across-actors: breaks OBO-AUTHZ-15 (consent is per actor, AMB-11).
    let actor = if app.defect(Defect::ConsentReusedAcrossActors) {
        String::new()
    } else {
        tx.actor.clone().unwrap_or_default()
    };
    (user.to_string(), tx.client_id.clone(), actor)
}

/// After login: a stored consent covering the request gives a code; else the consent page.
fn proceed(app: &App, id: &str, at_authorize: bool) -> Response {
    let Some(tx) = app.store().txs.get(id).cloned() else {
        return error_page(app, "unknown or finished authorization request");
    };
    let Some(user) = tx.user.clone() else {
        return internal_redirect(app, &login_path(app, id));
    };
    let covered = !tx.force_consent
        && !app.quirk(Quirk::ConsentEveryTime)
        && app
            .store()
            .consents
            .get(&consent_key(app, &tx, &user))
            .is_some_and(|s| tx.scope.split(' ').all(|x| s.contains(x)));
    if covered {
        return issue_code(app, id);
    }
    if at_authorize && app.quirk(Quirk::ConsentAtAuthorize) {
        return consent_form(app, id, &tx);
    }
    internal_redirect(app, &consent_path(app, id))
}

/// Ends the request with a code bound to user, client, actor, PKCE, redirect_uri and scope
/// (OBO-SEC-5..7).
fn issue_code(app: &App, id: &str) -> Response {
    let Some(tx) = app.store().txs.remove(id) else {
        return error_page(app, "unknown or finished authorization request");
    };
    let code = app.random();
    let entry = Code {
        grant: app.random(),
        client_id: tx.client_id.clone(),
        user: tx.user.clone().unwrap_or_default(),
        actor: tx.actor.clone(),
        challenge: tx.challenge.clone(),
        redirect_uri: tx.redirect_sent.then(|| tx.redirect_uri.clone()),
        scope: tx.scope.clone(),
        exp: app.now() + app.code_ttl(),
    };
    app.store().codes.insert(code.clone(), entry);
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &tx.state {
        pairs.push(("state", s));
    }
    back_to_client(app, &tx.redirect_uri, &pairs)
}

/// The pending request, checked against the form's CSRF value and the browser's cookies.
fn checked_tx(app: &App, headers: &HeaderMap, id: &str, csrf: Option<&str>) -> Result<Tx, String> {
    let tx = app
        .store()
        .txs
        .get(id)
        .cloned()
        .ok_or("unknown or finished authorization request")?;
    if let Some(c) = csrf {
        if c != tx.csrf {
            return Err("CSRF check failed".into());
        }
    }
    if app.quirk(Quirk::CookiesRequired) && cookie(headers, BROWSER) != tx.browser {
        return Err("this browser did not start the authorization (cookie missing)".into());
    }
    Ok(tx)
}

fn login_form(app: &App, id: &str, tx: &Tx, action: &str, note: &str) -> Response {
    let body = format!(
        "<h1>Sign in</h1><p>{}</p><form id=\"signin\" method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"tx\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label>User <input name=\"username\"></label><label>Password <input type=\"password\" name=\"password\"></label>\
         <button type=\"submit\">Sign in</button></form>",
        esc(note),
        esc(action),
        esc(id),
        esc(&tx.csrf)
    );
    page(app, StatusCode::OK, "Sign in", &body, true)
}

fn consent_form(app: &App, id: &str, tx: &Tx) -> Response {
    let reg = &app.opts.registry;
    let client = reg
        .client(&tx.client_id)
        .map(|c| format!("{} ({})", c.name, c.id))
        .unwrap_or_default();
    let actor = match tx.actor.as_deref().and_then(|a| reg.actor(a)) {
        Some(a) => format!("<p>Agent: {} ({})</p>", esc(&a.display), esc(&a.id)),
        None => String::new(),
    };
    let action = if app.quirk(Quirk::OneUrlInteraction) {
        format!("/interaction/{id}")
    } else {
        "/consent".to_string()
    };
    let body = format!(
        "<h1>Allow access?</h1><p>Application: {}</p>{actor}<p>Scopes: {}</p>\
         <form id=\"decide\" method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"tx\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        esc(&client),
        esc(&tx.scope),
        esc(&action),
        esc(id),
        esc(&tx.csrf)
    );
    page(app, StatusCode::OK, "Consent", &body, true)
}

fn tx_param(q: &Option<String>) -> String {
    Params::parse(q.as_deref().unwrap_or_default().as_bytes())
        .get("tx")
        .unwrap_or_default()
        .to_string()
}

pub async fn login_page(
    State(app): State<AppRef>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let id = tx_param(&q);
    match checked_tx(&app, &headers, &id, None) {
        Ok(tx) => login_form(&app, &id, &tx, "/login", ""),
        Err(e) => error_page(&app, &e),
    }
}

pub async fn login_submit(State(app): State<AppRef>, headers: HeaderMap, body: Bytes) -> Response {
    let p = Params::from_body(&body);
    do_login(&app, &headers, &p, "/login")
}

fn do_login(app: &App, headers: &HeaderMap, p: &Params, action: &str) -> Response {
    let id = p.get("tx").unwrap_or_default().to_string();
    let tx = match checked_tx(app, headers, &id, Some(p.get("csrf").unwrap_or_default())) {
        Ok(tx) => tx,
        Err(e) => return error_page(app, &e),
    };
    let user = app
        .opts
        .registry
        .user(p.get("username").unwrap_or_default())
        .filter(|u| Some(u.password.as_str()) == p.get("password"));
    let Some(user) = user else {
        return login_form(app, &id, &tx, action, "Wrong user name or password.");
    };
    let sid = app.random();
    {
        let mut store = app.store();
        store.sessions.insert(sid.clone(), user.username.clone());
        if let Some(t) = store.txs.get_mut(&id) {
            t.user = Some(user.username.clone());
        }
    }
    let mut resp = if app.quirk(Quirk::OneUrlInteraction) {
        internal_redirect(app, &format!("/interaction/{id}"))
    } else {
        proceed(app, &id, false)
    };
    set_cookie(&mut resp, SESSION, &sid);
    resp
}

/// The signed-in user of this browser must be the one the request belongs to.
fn session_matches(app: &App, headers: &HeaderMap, tx: &Tx) -> bool {
    if !app.quirk(Quirk::CookiesRequired) {
        return true;
    }
    let user = cookie(headers, SESSION).and_then(|s| app.store().sessions.get(&s).cloned());
    user.is_some() && user == tx.user
}

pub async fn consent_page(
    State(app): State<AppRef>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let id = tx_param(&q);
    show_consent(&app, &headers, &id)
}

fn show_consent(app: &App, headers: &HeaderMap, id: &str) -> Response {
    match checked_tx(app, headers, id, None) {
        Ok(tx) if tx.user.is_none() => internal_redirect(app, &login_path(app, id)),
        Ok(tx) if !session_matches(app, headers, &tx) => error_page(app, "not signed in"),
        Ok(tx) => consent_form(app, id, &tx),
        Err(e) => error_page(app, &e),
    }
}

pub async fn consent_submit(
    State(app): State<AppRef>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    decide(&app, &headers, &Params::from_body(&body))
}

fn decide(app: &App, headers: &HeaderMap, p: &Params) -> Response {
    let id = p.get("tx").unwrap_or_default().to_string();
    let tx = match checked_tx(app, headers, &id, Some(p.get("csrf").unwrap_or_default())) {
        Ok(tx) => tx,
        Err(e) => return error_page(app, &e),
    };
    let Some(user) = tx.user.clone() else {
        return internal_redirect(app, &login_path(app, &id));
    };
    if !session_matches(app, headers, &tx) {
        return error_page(app, "not signed in");
    }
    match p.get("decision") {
        Some("approve") => {
            let key = consent_key(app, &tx, &user);
            app.store()
                .consents
                .entry(key)
                .or_default()
                .extend(tx.scope.split(' ').map(str::to_string));
            issue_code(app, &id)
        }
        // Defect deny-issues-code: breaks OBO-AUTHZ-15 (a code only after consent).
        _ if app.defect(Defect::DenyIssuesCode) => issue_code(app, &id),
        _ => {
            app.store().txs.remove(&id);
            error_redirect(app, &tx.redirect_uri, tx.state.as_deref(), "access_denied")
        }
    }
}

pub async fn interaction_get(
    State(app): State<AppRef>,
    headers: HeaderMap,
    Path(uid): Path<String>,
) -> Response {
    match checked_tx(&app, &headers, &uid, None) {
        Ok(tx) if tx.user.is_none() => {
            login_form(&app, &uid, &tx, &format!("/interaction/{uid}"), "")
        }
        Ok(_) => proceed_or_consent(&app, &headers, &uid),
        Err(e) => error_page(&app, &e),
    }
}

/// One-URL mode after login: a stored consent still gives a code without a page.
fn proceed_or_consent(app: &App, headers: &HeaderMap, uid: &str) -> Response {
    let resp = proceed(app, uid, false);
    if resp.status() == StatusCode::FOUND || resp.status() == StatusCode::SEE_OTHER {
        // proceed() redirects to this same URL when consent is needed: show it instead.
        let here = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.ends_with(&format!("/interaction/{uid}")));
        if here {
            return show_consent(app, headers, uid);
        }
    }
    resp
}

pub async fn interaction_post(
    State(app): State<AppRef>,
    headers: HeaderMap,
    Path(uid): Path<String>,
    body: Bytes,
) -> Response {
    let mut p = Params::from_body(&body);
    p.0.retain(|(k, _)| k != "tx");
    p.0.push(("tx".into(), uid.clone()));
    if p.0.iter().any(|(k, _)| k == "password") {
        do_login(&app, &headers, &p, &format!("/interaction/{uid}"))
    } else {
        decide(&app, &headers, &p)
    }
}
