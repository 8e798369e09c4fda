//! Helpers shared by the integration tests: spawn a server, run the authorization-code +
//! actor-token exchange over HTTP.
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use obo_reference_server::{spawn, Config, Fault, Handle};
use reqwest::{redirect::Policy, Client, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-test";
pub const CLIENT: (&str, &str) = ("obo-client", "obo-client-secret");
pub const CLIENT2: (&str, &str) = ("obo-client-2", "obo-client-2-secret");
pub const REDIRECT: &str = "https://client.example/cb";

pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub async fn server(faults: &[Fault]) -> Handle {
    spawn(Config {
        auto_consent: Some("alice".into()),
        control_api: true,
        faults: faults.to_vec(),
        ..Config::default()
    })
    .await
    .expect("spawn")
}

pub fn http() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

pub fn browser() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .build()
        .expect("client")
}

/// Standard authorization parameters for the primary client and `actor`.
pub fn authz_params(actor: Option<&str>) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = vec![
        ("response_type".into(), "code".into()),
        ("client_id".into(), CLIENT.0.into()),
        ("redirect_uri".into(), REDIRECT.into()),
        ("scope".into(), "files.read".into()),
        ("state".into(), "st-123".into()),
        ("code_challenge".into(), challenge(VERIFIER)),
        ("code_challenge_method".into(), "S256".into()),
    ];
    if let Some(a) = actor {
        p.push(("requested_actor".into(), a.into()));
    }
    p
}

pub fn set(p: &mut Vec<(String, String)>, k: &str, v: Option<&str>) {
    p.retain(|(x, _)| x != k);
    if let Some(v) = v {
        p.push((k.into(), v.into()));
    }
}

pub async fn authorize_raw(base: &str, params: &[(String, String)]) -> Response {
    http()
        .get(format!("{base}/authorize"))
        .query(params)
        .send()
        .await
        .expect("authorize")
}

pub fn location(r: &Response) -> Option<url::Url> {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| url::Url::parse(s).ok())
}

pub fn query_param(u: &url::Url, name: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Auto-consent authorization: the code from the redirect.
pub async fn code_for(base: &str, params: &[(String, String)]) -> Option<String> {
    let r = authorize_raw(base, params).await;
    location(&r).and_then(|u| query_param(&u, "code"))
}

pub async fn actor_token(base: &str, actor: &str) -> Option<String> {
    let r = http()
        .post(format!("{base}/token"))
        .basic_auth(actor, Some(format!("{actor}-secret")))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .ok()?;
    let v: Value = r.json().await.ok()?;
    v["access_token"].as_str().map(String::from)
}

pub struct TokenReply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TokenReply {
    pub fn access_token(&self) -> Option<&str> {
        self.body["access_token"].as_str()
    }
    pub fn claims(&self) -> Option<Value> {
        let t = self.access_token()?;
        let payload = t.split('.').nth(1)?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }
    pub fn error(&self) -> Option<&str> {
        self.body["error"].as_str()
    }
}

pub async fn token_request(
    base: &str,
    client: (&str, &str),
    form: &[(String, String)],
) -> TokenReply {
    let r = http()
        .post(format!("{base}/token"))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .expect("token");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.json().await.unwrap_or(Value::Null);
    TokenReply {
        status,
        headers,
        body,
    }
}

/// Sends every form to the token endpoint at once and counts the 200s (OBO-SEC-3: of parallel
/// redemptions of one code, exactly one may win).
pub async fn parallel_wins(
    base: &str,
    client: (&'static str, &'static str),
    forms: Vec<Vec<(String, String)>>,
) -> usize {
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|f| {
            let base = base.to_string();
            tokio::spawn(async move { token_request(&base, client, &f).await.status })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.expect("redemption task") == 200);
    }
    wins
}

pub fn code_form(code: &str, actor_token: Option<&str>) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![
        ("grant_type".into(), "authorization_code".into()),
        ("code".into(), code.into()),
        ("code_verifier".into(), VERIFIER.into()),
        ("redirect_uri".into(), REDIRECT.into()),
    ];
    if let Some(t) = actor_token {
        f.push(("actor_token".into(), t.into()));
    }
    f
}

/// The whole happy exchange for `actor`; returns the token reply.
pub async fn exchange(base: &str, actor: &str) -> TokenReply {
    let code = code_for(base, &authz_params(Some(actor)))
        .await
        .expect("code");
    let at = actor_token(base, actor).await.expect("actor token");
    token_request(base, CLIENT, &code_form(&code, Some(&at))).await
}

pub async fn control(base: &str, path: &str, body: Value) -> Value {
    http()
        .post(format!("{base}/control/{path}"))
        .json(&body)
        .send()
        .await
        .expect("control")
        .json()
        .await
        .unwrap_or(Value::Null)
}
