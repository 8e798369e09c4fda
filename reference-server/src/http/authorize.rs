//! The authorization endpoint (draft §4.1): validates the request, then either answers at once
//! (auto-consent mode, or a stored consent covers it) or sends the browser to login/consent.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::{cookie, is_form, session_cookie, App, Shared, SESSION_COOKIE};
use crate::config::User;
use crate::fault::Fault;
use crate::keys::random_token;
use crate::params::Params;
use crate::store::{AuthzRequest, CodeRecord, Pkce, Prompt, Transaction};

/// Longest `state` kept (it is stored until the response and echoed back).
pub const MAX_STATE_LEN: usize = 1024;

/// Why a request is refused: either an error page (the redirect target is not trusted,
/// OBO-INH-3) or an error redirect to the client (OBO-AUTHZ-16, OBO-CODE-4).
pub enum AuthzError {
    Page(StatusCode, &'static str, String),
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl AuthzError {
    pub fn respond(self, app: &App) -> Response {
        match self {
            AuthzError::Page(status, error, msg) => app.pages.error(status, error, &msg),
            AuthzError::Redirect {
                redirect_uri,
                state,
                error,
                description,
            } => redirect_to_client(
                app,
                &redirect_uri,
                &[("error", error), ("error_description", &description)],
                state.as_deref(),
            ),
        }
    }
}

pub async fn authorize(
    State(app): State<Shared>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let params = if method == Method::POST {
        if !is_form(&headers) {
            return app.pages.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "expected an application/x-www-form-urlencoded body",
            );
        }
        Params::parse(&body)
    } else {
        Params::parse(uri.query().unwrap_or("").as_bytes())
    };
    match validate(&app, &params) {
        Ok(req) => begin(&app, &headers, req),
        Err(e) => e.respond(&app),
    }
}

/// RFC 6749 §4.1.1 plus the draft's §4.1.2 checks, in that order: client and redirect_uri
/// first (errors shown as a page), then everything else (errors redirected).
pub fn validate(app: &App, p: &Params) -> Result<AuthzRequest, AuthzError> {
    let page = |msg: &str| AuthzError::Page(StatusCode::BAD_REQUEST, "invalid_request", msg.into());
    // OBO-AUTHZ-4, OBO-INH-1: the client must be known before we may redirect anywhere.
    if p.is_duplicated("client_id") && !app.fault(Fault::DuplicateParamsAccepted) {
        return Err(page("client_id is repeated"));
    }
    let client = p
        .get("client_id")
        .and_then(|id| app.config.registry.client(id));
    let Some(client) = client else {
        // OBO-INH-3: without a known client nothing is trusted to redirect to.
        if let (true, Some(r)) = (
            app.fault(Fault::UnknownClientRedirect),
            p.get("redirect_uri"),
        ) {
            return Err(AuthzError::Redirect {
                redirect_uri: r.to_string(),
                state: p.get("state").map(String::from),
                error: "invalid_request",
                description: "missing or unknown client_id".into(),
            });
        }
        return Err(page("missing or unknown client_id"));
    };
    // OBO-INH-3: exact string match against a registered redirect URI, else no redirect.
    if p.is_duplicated("redirect_uri") && !app.fault(Fault::DuplicateParamsAccepted) {
        return Err(page("redirect_uri is repeated"));
    }
    let (redirect_uri, redirect_uri_sent) = match p.get("redirect_uri") {
        Some(r) => {
            let registered = client.redirect_uris.iter().any(|u| u == r);
            if !registered && !app.fault(Fault::OpenRedirect) {
                return Err(page("redirect_uri is not registered for this client"));
            }
            if url::Url::parse(r).is_err() {
                return Err(page("redirect_uri is not an absolute URI"));
            }
            (r.to_string(), true)
        }
        None => match client.redirect_uris.as_slice() {
            [only] => (only.clone(), false),
            _ => return Err(page("redirect_uri is required for this client")),
        },
    };
    let state = if p.is_duplicated("state") {
        None
    } else {
        p.get("state").map(String::from)
    };
    // Stored with the transaction or code until the redirect: bounded. Too long to echo, so
    // the error redirect goes without it.
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(AuthzError::Redirect {
            redirect_uri,
            state: None,
            error: "invalid_request",
            description: format!("state is longer than {MAX_STATE_LEN} bytes"),
        });
    }
    let fail = |error: &'static str, description: String| AuthzError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
        description,
    };

    // OBO-AUTHZ-9, OBO-INH-1: no parameter twice.
    if let Some(msg) = p.malformed(&app.faults) {
        return Err(fail("invalid_request", msg));
    }
    match p.get("response_type") {
        _ if app.fault(Fault::ResponseTypeUnchecked) => {}
        None => return Err(fail("invalid_request", "response_type is missing".into())),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is supported".into(),
            ))
        }
    }
    let pkce = pkce(app, p).map_err(|d| fail("invalid_request", d))?;
    let scope = scope(app, p).map_err(|d| fail("invalid_scope", d))?;
    let actor = requested_actor(app, p).map_err(|d| {
        if d == STORAGE_FAILURE {
            // Only reachable under the `actor-length-unchecked` fault.
            return AuthzError::Page(StatusCode::INTERNAL_SERVER_ERROR, "server_error", d);
        }
        fail("invalid_request", d)
    })?;
    if let Some(a) = &actor {
        // AMB-9: optional client→actor association policy.
        let list = &app.config.policy.actor_client_allowlist;
        if !list.is_empty()
            && !list
                .iter()
                .any(|e| e.client_id == client.id && e.actor == *a)
        {
            return Err(fail(
                "unauthorized_client",
                "this actor is not allowed for this client".into(),
            ));
        }
    }
    let audience = audience(app, p).map_err(|d| fail("invalid_target", d))?;
    // Only known values are kept, a few at most (a hostile `prompt` is refused, not stored).
    let prompt =
        Prompt::parse(p.get("prompt").unwrap_or("")).map_err(|d| fail("invalid_request", d))?;
    Ok(AuthzRequest {
        client_id: client.id.clone(),
        redirect_uri,
        redirect_uri_sent,
        scope,
        state,
        actor,
        pkce,
        audience,
        prompt,
    })
}

/// OBO-SEC-2, OBO-AUTHZ-8, AMB-15: a S256 code_challenge is required.
fn pkce(app: &App, p: &Params) -> Result<Option<Pkce>, String> {
    let Some(challenge) = p.get("code_challenge") else {
        if app.fault(Fault::PkceOptional) {
            return Ok(None);
        }
        return Err("code_challenge is required (PKCE)".into());
    };
    let method = match p.get("code_challenge_method") {
        Some("S256") => "S256",
        Some("plain") | None if app.fault(Fault::PkcePlainAccepted) => "plain",
        Some("plain") | None => {
            return Err("code_challenge_method must be S256".into());
        }
        Some(_) if app.fault(Fault::PkceMethodUnchecked) => "S256",
        Some(_) => return Err("unsupported code_challenge_method".into()),
    };
    // RFC 7636 §4.2: 43..128 unreserved characters.
    let ok_len = (43..=128).contains(&challenge.len());
    let ok_chars = challenge
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !ok_len || !ok_chars {
        return Err("code_challenge is malformed".into());
    }
    Ok(Some(Pkce {
        challenge: challenge.to_string(),
        method: method.to_string(),
    }))
}

/// RFC 6749 §3.3: registered scopes only; absent means the default scope.
fn scope(app: &App, p: &Params) -> Result<Vec<String>, String> {
    let reg = &app.config.registry;
    let raw = p.get("scope").unwrap_or(&reg.default_scope);
    let mut out: Vec<String> = Vec::new();
    for s in raw.split(' ').filter(|s| !s.is_empty()) {
        if !reg.scopes.iter().any(|r| r == s) {
            return Err(format!("unknown scope `{}`", truncate(s)));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        return Err("no scope requested".into());
    }
    Ok(out)
}

/// What the `actor-length-unchecked` fault simulates: an over-long id breaking storage.
const STORAGE_FAILURE: &str = "storage failure: the actor id does not fit its column";

/// OBO-AUTHZ-3, OBO-AUTHZ-10, AMB-12, AMB-30: a recognized, enabled actor, 1..255 printable
/// characters. Absent: a plain RFC 6749 flow (AMB-2) unless policy requires an actor.
fn requested_actor(app: &App, p: &Params) -> Result<Option<String>, String> {
    let name = app.config.revision.actor_param();
    let Some(v) = p.get(name) else {
        if app.config.policy.obo_required {
            return Err(format!("{name} is required"));
        }
        return Ok(None);
    };
    let normalized;
    let v = if app.fault(Fault::ActorIdNormalized) {
        normalized = v
            .trim_matches(|c: char| c.is_whitespace() || c.is_control())
            .to_string();
        normalized.as_str()
    } else {
        if v.chars().any(char::is_control) {
            return Err(format!("{name} is malformed"));
        }
        if v.chars().count() > 255 {
            if app.fault(Fault::ActorLengthUnchecked) {
                return Err(STORAGE_FAILURE.into());
            }
            return Err(format!("{name} is malformed"));
        }
        v
    };
    if app.actor(v).is_none() {
        if app.fault(Fault::UnknownActorAccepted) {
            return Ok(Some(v.to_string()));
        }
        return Err(format!("{name} is not a recognized actor"));
    }
    if !app.actor_enabled(v) {
        return Err(format!("{name} names a disabled actor"));
    }
    Ok(Some(v.to_string()))
}

/// RFC 8707 `resource` (AMB-28): one of the registered audiences.
fn audience(app: &App, p: &Params) -> Result<String, String> {
    let default = app.resource_audience();
    match p.get("resource") {
        None => Ok(default),
        Some(r) if r == default || app.config.registry.other_audiences.iter().any(|a| a == r) => {
            Ok(r.to_string())
        }
        Some(_) => Err("unknown resource".into()),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// After validation: auto-consent answers at once; otherwise login and consent as needed.
fn begin(app: &App, headers: &HeaderMap, req: AuthzRequest) -> Response {
    if let Some(username) = &app.config.auto_consent {
        let Some(user) = app.config.registry.user(username) else {
            return app.pages.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "auto-consent user missing",
            );
        };
        let actor = req.actor.clone().unwrap_or_default();
        app.store
            .grant_consent(&user.username, &req.client_id, &actor, &req.scope);
        return issue_code(app, req, user);
    }
    let existing = cookie(headers, SESSION_COOKIE).filter(|s| app.store.session_exists(s));
    let force_login = req.prompt.login;
    let user = existing
        .as_deref()
        .filter(|_| !force_login)
        .and_then(|s| app.store.session_user(s))
        .and_then(|u| app.config.registry.user(&u).cloned());
    if let Some(user) = &user {
        if consent_covers(app, &user.username, &req) {
            return issue_code(app, req, user);
        }
    }
    if req.prompt.none {
        let error = if user.is_some() {
            "consent_required"
        } else {
            "login_required"
        };
        return AuthzError::Redirect {
            redirect_uri: req.redirect_uri.clone(),
            state: req.state.clone(),
            error,
            description: "prompt=none but interaction is needed".into(),
        }
        .respond(app);
    }
    let (session, new_cookie) = match existing {
        Some(s) => (s, false),
        None => (app.store.new_session(), true),
    };
    let tx = random_token();
    let next = if user.is_some() { "consent" } else { "login" };
    app.store.insert_transaction(
        tx.clone(),
        Transaction {
            request: req,
            session: session.clone(),
            csrf: random_token(),
            expires_at: app.expiry(app.config.ttl.transaction),
        },
    );
    let mut resp = see_other(&format!("/{next}?tx={tx}"));
    if new_cookie {
        resp.headers_mut()
            .insert(header::SET_COOKIE, session_cookie(&session));
    }
    resp
}

/// AMB-11: a stored consent for exactly (user, client, actor) whose scopes cover the request
/// lets the AS skip the consent page; `prompt=consent` always shows it.
pub fn consent_covers(app: &App, username: &str, req: &AuthzRequest) -> bool {
    if req.prompt.consent {
        return false;
    }
    let covers = |granted: &std::collections::BTreeSet<String>| {
        req.scope.iter().all(|s| granted.contains(s))
    };
    if app.fault(Fault::ConsentReusedAcrossActors) {
        return app
            .store
            .consents_of(username, &req.client_id)
            .iter()
            .any(covers);
    }
    let actor = req.actor.as_deref().unwrap_or("");
    app.store
        .consented(username, &req.client_id, actor)
        .is_some_and(|g| covers(&g))
}

/// Issues a code bound to user, client, actor, redirect_uri, scope and PKCE challenge
/// (OBO-SEC-5..7) and redirects with it (OBO-CODE-1, OBO-CODE-2).
pub fn issue_code(app: &App, req: AuthzRequest, user: &User) -> Response {
    let code = random_token();
    let now = app.now();
    let redirect_uri = req.redirect_uri.clone();
    let state = req.state.clone();
    app.store.insert_code(
        code.clone(),
        CodeRecord {
            request: req,
            username: user.username.clone(),
            subject: user.subject.clone(),
            expires_at: crate::store::expiry(now, app.config.ttl.code),
            used: false,
            issued_jtis: Vec::new(),
            issued_refresh: Vec::new(),
            replayed: false,
        },
        now,
    );
    redirect_to_client(app, &redirect_uri, &[("code", &code)], state.as_deref())
}

/// 302 to the client's redirect URI with the given parameters, `state` (OBO-CODE-3) and `iss`
/// (RFC 9207).
pub fn redirect_to_client(
    app: &App,
    redirect_uri: &str,
    pairs: &[(&str, &str)],
    state: Option<&str>,
) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return app.pages.error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is not an absolute URI",
        );
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(s) = state {
            if !app.fault(Fault::StateNotEchoed) {
                q.append_pair("state", s);
            }
        }
        q.append_pair("iss", &app.issuer);
    }
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
