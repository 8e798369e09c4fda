//! The recording reverse proxy in front of the reference AS + RS.
//!
//! The client under test talks only to the proxy. Every request (method, path, query, headers,
//! body) and its response are recorded in memory as [`Record`]s, unredacted: the judge needs the
//! values; redaction happens when records become report transcripts. The proxy rewrites the
//! AS metadata so every endpoint names the proxy, refuses the test-control API (a client under
//! test has no business there), and applies the scenario's [`Behaviour`] to responses.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use tokio::net::TcpListener;
use url::Url;

use super::scenario::Behaviour;

/// Largest request or response body the proxy relays (hostile clients send anything).
const BODY_LIMIT: usize = 1 << 20;
/// Response bodies kept in a record beyond this are cut.
const KEEP_BODY: usize = 16 * 1024;
/// Requests recorded per scenario; a client looping beyond this gets 503 and is not recorded.
const MAX_RECORDS: usize = 5_000;
/// The issuer named by a mix-up authorization response (RFC 9207).
pub const FOREIGN_ISSUER: &str = "https://mix-up-as.example";

/// One request the client (or its actor) made, and what it got back.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Which run of the client command (0-based).
    pub run: u32,
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// Request body as text (lossy UTF-8).
    pub body: String,
    /// The body parsed as a form (empty when it is not one).
    pub form: Vec<(String, String)>,
    /// None when the backend gave no response.
    pub status: Option<u16>,
    pub resp_headers: Vec<(String, String)>,
    pub resp_body: String,
    pub resp_truncated: bool,
    /// What the scenario's behaviour changed in the response, if anything.
    pub tampered: Option<String>,
    /// The access token the proxy substituted (wrong_act).
    pub planted_token: Option<String>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Record {
    pub fn query_param(&self, name: &str) -> Option<&str> {
        first(&self.query, name)
    }
    pub fn form_param(&self, name: &str) -> Option<&str> {
        first(&self.form, name)
    }
    /// A request parameter from the query (GET) or the form body (POST).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query_param(name).or_else(|| self.form_param(name))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        first(&self.headers, name)
    }
    pub fn resp_header(&self, name: &str) -> Option<&str> {
        first(&self.resp_headers, name)
    }
    pub fn is_authorize(&self) -> bool {
        self.path == "/authorize"
    }
    pub fn is_token(&self) -> bool {
        self.path == "/token"
    }
    /// A token request redeeming a code (the client's, draft §4.2).
    pub fn is_code_redemption(&self) -> bool {
        self.is_token() && self.form_param("grant_type") == Some("authorization_code")
    }
    /// A token request of the actor for its actor token (AMB-7).
    pub fn is_actor_grant(&self) -> bool {
        self.is_token() && self.form_param("grant_type") == Some("client_credentials")
    }
    pub fn is_resource(&self) -> bool {
        self.path == "/resource" || self.path.starts_with("/resource/")
    }
    /// A parameter of the authorization response's redirect (Location query).
    pub fn location_param(&self, name: &str) -> Option<String> {
        let loc = self.resp_header("location")?;
        let url = Url::parse(loc).ok()?;
        let v = url
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned());
        v
    }
    /// The JSON member `name` of the response body, when it is a string.
    pub fn resp_json_str(&self, name: &str) -> Option<String> {
        let v: Value = serde_json::from_str(&self.resp_body).ok()?;
        v.get(name)?.as_str().map(String::from)
    }
    /// The bearer token of the request, if any.
    pub fn bearer(&self) -> Option<&str> {
        let h = self.header("authorization")?;
        let (scheme, token) = h.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    }
}

/// What the proxy shares with its handler.
struct Shared {
    backend: String,
    public: String,
    behaviour: Behaviour,
    /// Actor named by substituted tokens (wrong_act).
    other_actor: String,
    forged_state: String,
    http: reqwest::Client,
    records: Mutex<Vec<Record>>,
    run: Mutex<u32>,
    last_activity: Mutex<Instant>,
}

/// A running proxy; [`Proxy::shutdown`] stops it.
pub struct Proxy {
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// How to build a proxy.
pub struct ProxyConfig {
    pub behaviour: Behaviour,
    pub other_actor: String,
    /// Value put into `state` by the wrong_state behaviour (drawn from the run's seed).
    pub forged_state: String,
}

/// Binds the proxy's port first (the AS's issuer must name the proxy before the AS starts).
pub async fn bind(port: u16) -> std::io::Result<(TcpListener, String)> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let addr = listener.local_addr()?;
    Ok((listener, format!("http://127.0.0.1:{}", addr.port())))
}

impl Proxy {
    /// Starts serving on `listener` (whose URL is `public`), relaying to `backend`.
    pub fn start(
        listener: TcpListener,
        public: String,
        backend: String,
        cfg: ProxyConfig,
    ) -> Result<Proxy, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("proxy HTTP client: {e}"))?;
        let shared = Arc::new(Shared {
            backend,
            public,
            behaviour: cfg.behaviour,
            other_actor: cfg.other_actor,
            forged_state: cfg.forged_state,
            http,
            records: Mutex::new(Vec::new()),
            run: Mutex::new(0),
            last_activity: Mutex::new(Instant::now()),
        });
        let app = axum::Router::new()
            .fallback(relay)
            .with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Proxy {
            shared,
            stop: Some(tx),
            task: Some(task),
        })
    }

    pub fn url(&self) -> &str {
        &self.shared.public
    }

    /// Requests recorded from now on belong to run `n`.
    pub fn set_run(&self, n: u32) {
        *lock(&self.shared.run) = n;
    }

    pub fn records(&self) -> Vec<Record> {
        lock(&self.shared.records).clone()
    }

    pub fn request_count(&self) -> usize {
        lock(&self.shared.records).len()
    }

    /// Time since the last request arrived (or since the proxy started).
    pub fn idle_for(&self) -> Duration {
        lock(&self.shared.last_activity).elapsed()
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            // A client that keeps its connections open must not keep the port bound.
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
                let _ = task.await;
            }
        }
    }
}

/// A poisoned lock still holds valid records: keep going with them.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn text_response(status: StatusCode, msg: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(msg.to_string()));
    *r.status_mut() = status;
    r
}

async fn relay(State(sh): State<Arc<Shared>>, req: Request<Body>) -> Response<Body> {
    let started = Instant::now();
    *lock(&sh.last_activity) = Instant::now();
    if lock(&sh.records).len() >= MAX_RECORDS {
        return text_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "request limit of the client conformance mode reached",
        );
    }
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or_default().to_string();
    let mut rec = Record {
        run: *lock(&sh.run),
        method: parts.method.as_str().to_string(),
        path: path.clone(),
        query: url::form_urlencoded::parse(raw_query.as_bytes())
            .into_owned()
            .collect(),
        headers: pairs(&parts.headers),
        ..Default::default()
    };
    let body = match to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => {
            rec.error = Some(format!("request body unreadable or over 1 MiB: {e}"));
            push(&sh, rec, started);
            return text_response(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
    };
    rec.body = String::from_utf8_lossy(&body).into_owned();
    let is_form = rec
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        rec.form = url::form_urlencoded::parse(&body).into_owned().collect();
    }
    if path.starts_with("/control") {
        // The test-control API is the suite's, not the client's.
        rec.status = Some(404);
        push(&sh, rec, started);
        return text_response(StatusCode::NOT_FOUND, "not found");
    }
    let mut target = format!("{}{}", sh.backend, path);
    if !raw_query.is_empty() {
        target.push('?');
        target.push_str(&raw_query);
    }
    let mut out = sh.http.request(parts.method.clone(), &target);
    for (name, value) in parts.headers.iter() {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            out = out.header(name, value);
        }
    }
    let resp = match out.body(body.to_vec()).send().await {
        Ok(r) => r,
        Err(e) => {
            rec.error = Some(format!("the reference server did not answer: {e}"));
            push(&sh, rec, started);
            return text_response(StatusCode::BAD_GATEWAY, "upstream error");
        }
    };
    let status = resp.status();
    let mut headers = resp.headers().clone();
    let bytes = match resp.bytes().await {
        Ok(b) if b.len() <= BODY_LIMIT => b.to_vec(),
        Ok(_) | Err(_) => {
            rec.error = Some("the reference server's response was unreadable".into());
            push(&sh, rec, started);
            return text_response(StatusCode::BAD_GATEWAY, "upstream error");
        }
    };
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    let mut changed_body = false;
    if path == "/.well-known/oauth-authorization-server" {
        // Endpoints name the backend's address; the client must only ever see the proxy.
        text = text.replace(&sh.backend, &sh.public);
        changed_body = true;
    }
    if rec.is_authorize() {
        tamper_redirect(&sh, &mut headers, &mut rec);
    }
    if rec.is_code_redemption() && status.is_success() && sh.behaviour == Behaviour::WrongAct {
        if let Some(new) = plant_token(&sh, &text, &mut rec).await {
            text = new;
            changed_body = true;
        }
    }
    rec.status = Some(status.as_u16());
    rec.resp_headers = pairs(&headers);
    rec.resp_truncated = text.len() > KEEP_BODY;
    rec.resp_body = crate::util::clip(&text, KEEP_BODY);
    push(&sh, rec, started);
    let body = if changed_body {
        headers.remove(axum::http::header::CONTENT_LENGTH);
        Body::from(text)
    } else {
        Body::from(bytes)
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    for (k, v) in headers.iter() {
        if !matches!(k.as_str(), "transfer-encoding" | "connection") {
            r.headers_mut().append(k.clone(), v.clone());
        }
    }
    r
}

fn push(sh: &Shared, mut rec: Record, started: Instant) {
    rec.duration_ms = started.elapsed().as_millis() as u64;
    lock(&sh.records).push(rec);
    *lock(&sh.last_activity) = Instant::now();
}

/// wrong_state / wrong_iss: rewrite the authorization response's redirect.
fn tamper_redirect(sh: &Shared, headers: &mut HeaderMap, rec: &mut Record) {
    let (name, value) = match sh.behaviour {
        Behaviour::WrongState => ("state", sh.forged_state.as_str()),
        Behaviour::WrongIss => ("iss", FOREIGN_ISSUER),
        _ => return,
    };
    let Some(loc) = headers
        .get(axum::http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let Ok(mut url) = Url::parse(loc) else {
        return;
    };
    if !url.query_pairs().any(|(k, _)| k == "code") {
        return;
    }
    let mut kept: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    kept.push((name.to_string(), value.to_string()));
    url.query_pairs_mut().clear().extend_pairs(kept);
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        headers.insert(HeaderName::from_static("location"), v);
        rec.tampered = Some(format!("authorization response: {name} replaced"));
    }
}

/// wrong_act: the same claims with act.sub naming another actor, signed by the AS itself
/// through the control API's `mint` (no forged signature: only the actor is wrong).
async fn plant_token(sh: &Shared, body: &str, rec: &mut Record) -> Option<String> {
    let mut json: Value = serde_json::from_str(body).ok()?;
    let token = json.get("access_token")?.as_str()?;
    let payload = token.split('.').nth(1)?;
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims["act"] = serde_json::json!({ "sub": sh.other_actor });
    let minted: Value = sh
        .http
        .post(format!("{}/control/mint", sh.backend))
        .json(&serde_json::json!({ "claims": claims }))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let planted = minted.get("token")?.as_str()?.to_string();
    json["access_token"] = Value::String(planted.clone());
    rec.tampered = Some(format!(
        "token response: access token replaced by one whose act.sub is {}",
        sh.other_actor
    ));
    rec.planted_token = Some(planted);
    serde_json::to_string(&json).ok()
}
