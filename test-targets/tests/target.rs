//! The test target over HTTP: the clean flow, what each observable quirk changes, and that a
//! few defects bite only when switched on (the rest are judged by tests/corpus.rs).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use obo_test_targets::registry::UserReg;
use obo_test_targets::{spawn, Defect, Handle, Options, Quirk, Registry};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";
const APP: (&str, &str) = ("tt-app", "tt-app-secret");

fn client(cookies: bool) -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(cookies)
        .build()
        .expect("http client")
}

async fn target(quirks: &[Quirk], defects: &[Defect]) -> Handle {
    target_with(quirks, defects, Registry::default()).await
}

async fn target_with(quirks: &[Quirk], defects: &[Defect], registry: Registry) -> Handle {
    spawn(Options {
        quirks: quirks.to_vec(),
        defects: defects.to_vec(),
        registry,
        ..Default::default()
    })
    .await
    .expect("target starts")
}

fn location(base: &str, r: &Response) -> Url {
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location header");
    Url::parse(base)
        .and_then(|b| b.join(loc))
        .expect("a usable Location")
}

/// The value of a hidden input in a page.
fn hidden(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let start = html.find(&key).map(|i| i + key.len()).expect(name);
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn authorize_url(base: &str, actor: Option<&str>) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let mut u = Url::parse(&format!("{base}/authorize")).expect("url");
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", APP.0)
        .append_pair("redirect_uri", "https://app.test/callback")
        .append_pair("scope", "docs.read")
        .append_pair("state", "s1")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if let Some(a) = actor {
        u.query_pairs_mut().append_pair("requested_actor", a);
    }
    u.to_string()
}

/// Drives login and consent with plain requests; returns the final redirect to the client.
async fn authorize(http: &Client, base: &str, actor: Option<&str>, decision: &str) -> Url {
    let mut r = http
        .get(authorize_url(base, actor))
        .send()
        .await
        .expect("authorize");
    for _ in 0..8 {
        if r.status().is_redirection() {
            let to = location(base, &r);
            if to.as_str().starts_with("https://app.test/") {
                return to;
            }
            r = http.get(to).send().await.expect("hop");
            continue;
        }
        assert_eq!(r.status(), StatusCode::OK, "a page");
        let page_url = r.url().clone();
        let html = r.text().await.expect("html");
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a form");
        let target = page_url.join(action).expect("action");
        let mut form = vec![
            ("tx".to_string(), hidden(&html, "tx")),
            ("csrf".to_string(), hidden(&html, "csrf")),
        ];
        if html.contains("type=\"password\"") {
            form.push(("username".into(), "alice".into()));
            form.push(("password".into(), "password".into()));
        } else {
            form.push(("decision".into(), decision.into()));
        }
        r = http.post(target).form(&form).send().await.expect("submit");
    }
    panic!("no redirect to the client");
}

fn param(u: &Url, name: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn actor_token(http: &Client, base: &str, actor: &str) -> String {
    let r = http
        .post(format!("{base}/token"))
        .basic_auth(actor, Some(format!("{actor}-pw")))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("client_credentials");
    let j: Value = r.json().await.expect("json");
    j["access_token"].as_str().expect("actor token").to_string()
}

async fn redeem(http: &Client, base: &str, code: &str, actor_token: Option<&str>) -> Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", "https://app.test/callback"),
        ("code_verifier", VERIFIER),
    ];
    if let Some(t) = actor_token {
        form.push(("actor_token", t));
    }
    http.post(format!("{base}/token"))
        .basic_auth(APP.0, Some(APP.1))
        .form(&form)
        .send()
        .await
        .expect("token")
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json")
}

#[tokio::test]
async fn clean_flow_issues_an_act_token_the_rs_accepts() {
    let t = target(&[], &[]).await;
    let http = client(true);
    let back = authorize(&http, &t.base_url, Some("agent-a"), "approve").await;
    assert_eq!(param(&back, "state").as_deref(), Some("s1"));
    assert_eq!(param(&back, "iss"), None);
    let code = param(&back, "code").expect("a code");
    let at = actor_token(&http, &t.base_url, "agent-a").await;
    let r = redeem(&http, &t.base_url, &code, Some(&at)).await;
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.expect("json");
    let access = body["access_token"].as_str().expect("access token");
    let c = claims(access);
    assert_eq!(c["act"]["sub"], "agent-a");
    assert_eq!(c["sub"], "uid-alice");
    assert_eq!(c["azp"], APP.0);
    for (path, want) in [
        ("/resource/actor/agent-a", 200),
        ("/resource/actor/agent-b", 403),
    ] {
        let r = http
            .get(format!("{}{path}", t.base_url))
            .bearer_auth(access)
            .send()
            .await
            .expect("rs");
        assert_eq!(r.status().as_u16(), want, "{path}");
    }
    // Replay: refused, and the first token is revoked.
    let again = redeem(&http, &t.base_url, &code, Some(&at)).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let r = http
        .get(format!("{}/resource", t.base_url))
        .bearer_auth(access)
        .send()
        .await
        .expect("rs");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    t.shutdown().await;
}

#[tokio::test]
async fn quirks_change_what_they_say() {
    let t = target(
        &[Quirk::RelativeRedirect, Quirk::IssOnCallback, Quirk::NoAzp],
        &[],
    )
    .await;
    let http = client(true);
    let first = http
        .get(authorize_url(&t.base_url, Some("agent-a")))
        .send()
        .await
        .expect("authorize");
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert!(first.headers()["location"]
        .to_str()
        .unwrap_or("")
        .starts_with("/login?"));
    let back = authorize(&http, &t.base_url, Some("agent-a"), "approve").await;
    assert_eq!(param(&back, "iss").as_deref(), Some(t.base_url.as_str()));
    let at = actor_token(&http, &t.base_url, "agent-a").await;
    let r = redeem(
        &http,
        &t.base_url,
        &param(&back, "code").unwrap_or_default(),
        Some(&at),
    )
    .await;
    let body: Value = r.json().await.expect("json");
    let c = claims(body["access_token"].as_str().unwrap_or_default());
    assert!(c.get("azp").is_none() && c["client_id"] == APP.0);
    t.shutdown().await;
}

#[tokio::test]
async fn cookies_required_breaks_the_flow_without_a_cookie_jar() {
    let t = target(&[Quirk::CookiesRequired], &[]).await;
    let http = client(false);
    let r = http
        .get(authorize_url(&t.base_url, Some("agent-a")))
        .send()
        .await
        .expect("authorize");
    let login = http
        .get(location(&t.base_url, &r))
        .send()
        .await
        .expect("login page");
    assert_eq!(login.status(), StatusCode::BAD_REQUEST);
    // With cookies the same flow works.
    let back = authorize(&client(true), &t.base_url, Some("agent-a"), "approve").await;
    assert!(param(&back, "code").is_some());
    t.shutdown().await;
}

#[tokio::test]
async fn token_get_refusals_and_error_headers() {
    for (quirks, want) in [
        (vec![], 400),
        (vec![Quirk::TokenGet404], 404),
        (vec![Quirk::TokenGet405], 405),
    ] {
        let t = target(&quirks, &[]).await;
        let r = client(false)
            .get(format!("{}/token", t.base_url))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), want, "{quirks:?}");
        t.shutdown().await;
    }
    let t = target(&[Quirk::ErrorsWithoutPragma], &[Defect::Errors200]).await;
    let r = redeem(&client(false), &t.base_url, "no-such-code", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("pragma").is_none() && r.headers().get("cache-control").is_none());
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");
    t.shutdown().await;
}

#[tokio::test]
async fn obo_only_refuses_the_plain_flow() {
    let t = target(&[Quirk::OboOnly], &[]).await;
    let back = authorize(&client(true), &t.base_url, None, "approve").await;
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    t.shutdown().await;
}

#[tokio::test]
async fn one_url_and_consent_at_authorize_shapes() {
    let t = target(&[Quirk::OneUrlInteraction], &[]).await;
    let http = client(true);
    let r = http
        .get(authorize_url(&t.base_url, Some("agent-a")))
        .send()
        .await
        .expect("authorize");
    assert!(location(&t.base_url, &r)
        .path()
        .starts_with("/interaction/"));
    let back = authorize(&http, &t.base_url, Some("agent-a"), "approve").await;
    assert!(param(&back, "code").is_some());
    t.shutdown().await;

    let t = target(&[Quirk::ConsentAtAuthorize, Quirk::ConsentEveryTime], &[]).await;
    let http = client(true);
    authorize(&http, &t.base_url, Some("agent-a"), "approve").await;
    let r = http
        .get(authorize_url(&t.base_url, Some("agent-a")))
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap_or_default().contains("Approve"));
    t.shutdown().await;
}

#[tokio::test]
async fn own_control_api_moves_the_clock_and_disables_actors() {
    let t = target(&[], &[]).await;
    let r = client(false)
        .post(format!("{}/__admin/reset", t.base_url))
        .send()
        .await
        .expect("admin");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    t.shutdown().await;

    let t = target(&[Quirk::OwnControlApi], &[]).await;
    let http = client(true);
    let at = actor_token(&http, &t.base_url, "agent-a").await;
    let back = authorize(&http, &t.base_url, Some("agent-a"), "approve").await;
    let r = http
        .post(format!("{}/__admin/time", t.base_url))
        .json(&serde_json::json!({"offset_seconds": 400}))
        .send()
        .await
        .expect("time");
    assert!(r.status().is_success());
    // The code (60 s) and the actor token (300 s + 60 s skew) have both expired.
    let r = redeem(
        &http,
        &t.base_url,
        &param(&back, "code").unwrap_or_default(),
        Some(&at),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http
        .patch(format!("{}/__admin/agents/agent-b", t.base_url))
        .json(&serde_json::json!({"enabled": false}))
        .send()
        .await
        .expect("agent");
    assert!(r.status().is_success());
    let back = authorize(&http, &t.base_url, Some("agent-b"), "approve").await;
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    t.shutdown().await;
}

#[tokio::test]
async fn deny_and_the_user_token_defect() {
    let t = target(&[Quirk::ConsentEveryTime], &[]).await;
    let back = authorize(&client(true), &t.base_url, Some("agent-a"), "deny").await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    t.shutdown().await;
    let t = target(&[Quirk::ConsentEveryTime], &[Defect::DenyIssuesCode]).await;
    let back = authorize(&client(true), &t.base_url, Some("agent-a"), "deny").await;
    assert!(param(&back, "code").is_some());
    t.shutdown().await;

    // A user whose subject equals an actor id: their access token must not pass as an actor
    // token (AMB-20, OBO-INH-20) unless the defect is on.
    let mut registry = Registry::default();
    registry.users[0] = UserReg {
        username: "alice".into(),
        password: "password".into(),
        sub: "agent-a".into(),
    };
    for (defects, want) in [(vec![], 400), (vec![Defect::UserTokenAsActorToken], 200)] {
        let t = target_with(&[], &defects, registry.clone()).await;
        let http = client(true);
        let plain = authorize(&http, &t.base_url, None, "approve").await;
        let r = redeem(
            &http,
            &t.base_url,
            &param(&plain, "code").unwrap_or_default(),
            None,
        )
        .await;
        let body: Value = r.json().await.expect("json");
        let user_token = body["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let obo = authorize(&http, &t.base_url, Some("agent-a"), "approve").await;
        let r = redeem(
            &http,
            &t.base_url,
            &param(&obo, "code").unwrap_or_default(),
            Some(&user_token),
        )
        .await;
        assert_eq!(r.status().as_u16(), want, "{defects:?}");
        t.shutdown().await;
    }
}

#[test]
fn switch_names_round_trip_and_defects_cite_catalogued_requirements() {
    let catalogue = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases/requirements.toml"),
    )
    .expect("requirements.toml");
    for q in Quirk::ALL {
        assert_eq!(Quirk::from_name(q.name()), Some(*q));
    }
    for d in Defect::ALL {
        assert_eq!(Defect::from_name(d.name()), Some(*d));
        for r in d.requirements() {
            assert!(
                catalogue.contains(&format!("id = \"{r}\"")),
                "{} cites {r}",
                d.name()
            );
        }
    }
}
