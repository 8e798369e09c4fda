//! Hostile targets: servers that answer with malformed JSON, HTML error pages, 500s, redirect
//! loops, slow or endless bodies, huge headers, wrong content types, connection resets, or a
//! discovery document that points elsewhere. Real cases run through the real runner with a
//! short timeout; every case must end in `error` or `fail` with a message naming the cause,
//! within a time bound, and without a panic.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use obo_conformance::catalog;
use obo_conformance::profile;
use obo_conformance::run::{self, RunOptions};
use obo_report::{Report, Verdict};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Cases that drive the authorization endpoint and then the token endpoint.
const FLOW_CASES: &[&str] = &[
    "AUTHZ-CODE-REDIRECT",
    "TOKEN-ACTOR-MISMATCH",
    "AT-ACT-SUB-ACTOR",
    "CODE-REPLAY",
];
/// Cases whose hostile part is the token endpoint (the authorization endpoint behaves).
const TOKEN_CASES: &[&str] = &["TOKEN-ACTOR-MISMATCH", "AT-ACT-SUB-ACTOR", "CODE-REPLAY"];
/// Whole run, all cases: far above the 1 s request timeout, far below a hang.
const RUN_BOUND: Duration = Duration::from_secs(60);

/// A profile with explicit endpoints (or discovery only when `authorization` is None),
/// static actor tokens and a 1 s request timeout.
fn profile_text(issuer: &str, authorization: Option<&str>, token: Option<&str>) -> String {
    let endpoints = match (authorization, token) {
        (Some(a), Some(t)) => format!("[endpoints]\nauthorization = \"{a}\"\ntoken = \"{t}\"\n"),
        _ => String::new(),
    };
    format!(
        r#"profile_version = 1
name = "hostile"
revision = "02"
issuer = "{issuer}"
capabilities = []
{endpoints}
[client.primary]
id = "obo-client"
secret = "hostile-client-secret"
auth_method = "client_secret_basic"
redirect_uri = "https://client.example/cb"

[actor.a]
id = "agent-a"
token = {{ source = "static", value = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudC1hIn0." }}

[actor.b]
id = "agent-b"
token = {{ source = "static", value = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudC1iIn0." }}

[user]
username = "alice"
password = "alice-password"
sub = "user-alice"

[consent]
driver = "auto"

[http]
timeout_secs = 1
max_response_bytes = 65536
"#
    )
}

/// Runs `ids` against the profile; the report, within [`RUN_BOUND`].
async fn run_cases(text: &str, ids: &[&str]) -> Report {
    let cat = match catalog::load(&catalog::default_dir()) {
        Ok(c) => c,
        Err(e) => panic!("catalogue: {e}"),
    };
    let filters: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let cases = match run::select(&cat, &filters) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        cases.len(),
        ids.len(),
        "a case of {ids:?} is missing from the catalogue"
    );
    let started = Instant::now();
    let work = async {
        let p = profile::parse(text, "hostile", Path::new("."))
            .unwrap_or_else(|e| panic!("profile: {e}"));
        let target = match profile::resolve(p, text, None).await {
            Ok(t) => Arc::new(t),
            Err(e) => panic!("the hostile profile did not resolve: {e}"),
        };
        let opts = RunOptions {
            seed: 11,
            jobs: 4,
            case_timeout: Some(Duration::from_secs(15)),
            ..Default::default()
        };
        run::run_catalog(target, &cat, &cases, &opts).await
    };
    match tokio::time::timeout(RUN_BOUND, work).await {
        Ok(r) => {
            assert!(started.elapsed() < RUN_BOUND);
            r
        }
        Err(_) => panic!("the run against a hostile target did not end within {RUN_BOUND:?}"),
    }
}

/// Every case ends in error or fail (warn for a SHOULD/MAY case: its miss counts at that
/// level), its message names the cause (one of `causes`, case insensitive), and no case
/// reports a harness panic.
fn assert_hostile(report: &Report, causes: &[&str]) {
    let all: String = report
        .cases
        .iter()
        .map(|c| format!("{} {:?}: {}\n", c.id, c.verdict, c.message))
        .collect();
    for c in &report.cases {
        let advisory = c.level != obo_report::Level::Must && c.verdict == Verdict::Warn;
        assert!(
            matches!(c.verdict, Verdict::Error | Verdict::Fail) || advisory,
            "{} should be error or fail:\n{all}",
            c.id
        );
        let msg = c.message.to_ascii_lowercase();
        assert!(!msg.contains("panic"), "{}: {}", c.id, c.message);
        assert!(
            causes.iter().any(|k| msg.contains(&k.to_ascii_lowercase())),
            "{}: message does not name the cause {causes:?}:\n{all}",
            c.id
        );
    }
}

/// A well-behaved authorization endpoint: redirects back with a code and the request's state.
struct GoodAuthorize;

impl Respond for GoodAuthorize {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let state = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let enc: String = url::form_urlencoded::byte_serialize(state.as_bytes()).collect();
        ResponseTemplate::new(302).insert_header(
            "location",
            format!("https://client.example/cb?code=hostile-code&state={enc}").as_str(),
        )
    }
}

/// A mock with a good authorization endpoint and `token` as the token endpoint's answer.
async fn token_endpoint(token: ResponseTemplate) -> (MockServer, String) {
    let server = MockServer::start().await;
    Mock::given(path("/authorize"))
        .respond_with(GoodAuthorize)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(token)
        .mount(&server)
        .await;
    let base = server.uri();
    let text = profile_text(
        &base,
        Some(&format!("{base}/authorize")),
        Some(&format!("{base}/token")),
    );
    (server, text)
}

/// A mock whose authorization endpoint answers `authorize`.
async fn authorize_endpoint(authorize: ResponseTemplate) -> (MockServer, String) {
    let server = MockServer::start().await;
    Mock::given(path("/authorize"))
        .respond_with(authorize)
        .mount(&server)
        .await;
    let base = server.uri();
    let text = profile_text(
        &base,
        Some(&format!("{base}/authorize")),
        Some(&format!("{base}/token")),
    );
    (server, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_from_the_token_endpoint() {
    let (_s, text) = token_endpoint(
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string("{\"access_token\": \"abc\", "),
    )
    .await;
    let r = run_cases(&text, TOKEN_CASES).await;
    // Either a check names what it expected (a status, a token), or set-up says no token came.
    assert_hostile(&r, &["no token", "token issued", "status", "error"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_content_type_form_encoded_token_response() {
    let (_s, text) = token_endpoint(
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/x-www-form-urlencoded")
            .set_body_string("access_token=abc&token_type=bearer"),
    )
    .await;
    let r = run_cases(&text, TOKEN_CASES).await;
    assert_hostile(&r, &["no token", "token issued", "status", "error"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_error_page_at_the_authorization_endpoint() {
    let (_s, text) = authorize_endpoint(
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/html")
            .set_body_string(
                "<html><head><title>Oops</title></head><body>Internal error</body></html>",
            ),
    )
    .await;
    let r = run_cases(&text, FLOW_CASES).await;
    assert_hostile(&r, &["html page", "oops"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_everywhere() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    let base = server.uri();
    let text = profile_text(
        &base,
        Some(&format!("{base}/authorize")),
        Some(&format!("{base}/token")),
    );
    let r = run_cases(&text, FLOW_CASES).await;
    assert_hostile(&r, &["status 500"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loop_at_the_authorization_endpoint() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(path("/authorize"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{base}/loop").as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(path("/loop"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{base}/authorize").as_str()),
        )
        .mount(&server)
        .await;
    let text = profile_text(
        &base,
        Some(&format!("{base}/authorize")),
        Some(&format!("{base}/token")),
    );
    let r = run_cases(&text, FLOW_CASES).await;
    assert_hostile(&r, &["redirects"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_beyond_the_timeout() {
    let (_s, text) = authorize_endpoint(
        ResponseTemplate::new(302)
            .insert_header("location", "https://client.example/cb?code=x")
            .set_delay(Duration::from_secs(5)),
    )
    .await;
    let started = Instant::now();
    let r = run_cases(&text, FLOW_CASES).await;
    assert_hostile(&r, &["timed out"]);
    // Each case gives up after about one request timeout, not after the 5 s delay times retries.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

/// A raw HTTP/1.1 server on loopback: `answer` writes the response on each connection.
async fn raw_server<F, Fut>(answer: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("bind: {e}"),
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                // Read the request head (enough for these tests; bodies are small).
                let mut buf = [0u8; 8192];
                let _ =
                    tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await;
                answer(stream).await;
            });
        }
    });
    format!("http://{addr}")
}

fn raw_profile(base: &str) -> String {
    profile_text(
        base,
        Some(&format!("{base}/authorize")),
        Some(&format!("{base}/token")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reset_on_every_request() {
    let base = raw_server(|stream| async move { drop(stream) }).await;
    let r = run_cases(&raw_profile(&base), FLOW_CASES).await;
    assert_hostile(&r, &["connection", "closed", "error sending request"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_slow_body_hits_the_timeout() {
    let base = raw_server(|mut stream| async move {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ntransfer-encoding: chunked\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        // One small chunk every 100 ms, forever (until the client hangs up).
        while stream.write_all(b"5\r\n<p>a\r\n").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let started = Instant::now();
    let r = run_cases(&raw_profile(&base), FLOW_CASES).await;
    assert_hostile(&r, &["timed out", "reading the body"]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_fast_body_is_cut_at_the_size_cap() {
    let base = raw_server(|mut stream| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("1000\r\n{}\r\n", "x".repeat(0x1000));
        while stream.write_all(chunk.as_bytes()).await.is_ok() {}
    })
    .await;
    let r = run_cases(&raw_profile(&base), FLOW_CASES).await;
    // The authorization endpoint answers 200 with a (cut) non-HTML body: the driver stops there.
    assert_hostile(&r, &["status 200", "timed out"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_response_header() {
    let base = raw_server(|mut stream| async move {
        let head = format!("HTTP/1.1 302 Found\r\nlocation: https://client.example/cb?code=x\r\nx-huge: {}\r\ncontent-length: 0\r\n\r\n", "a".repeat(1 << 20));
        let _ = stream.write_all(head.as_bytes()).await;
    })
    .await;
    let r = run_cases(&raw_profile(&base), FLOW_CASES).await;
    assert_hostile(&r, &["error", "large", "header"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_document_pointing_elsewhere() {
    // Metadata names another issuer and endpoints on a closed loopback port.
    let server = MockServer::start().await;
    let meta = serde_json::json!({
        "issuer": "http://127.0.0.1:1",
        "authorization_endpoint": "http://127.0.0.1:1/authorize",
        "token_endpoint": "http://127.0.0.1:1/token",
        "jwks_uri": format!("{}/jwks", server.uri()),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    });
    Mock::given(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(meta))
        .mount(&server)
        .await;
    Mock::given(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({ "keys": [] })))
        .mount(&server)
        .await;
    // By default the harness refuses to follow: credentials would go to an undeclared origin.
    let text = profile_text(&server.uri(), None, None);
    let err = resolve_error(&text).await;
    assert!(
        err.contains("authorization_endpoint") && err.contains("http://127.0.0.1:1"),
        "{err}"
    );
    assert!(err.contains("allow_cross_origin"), "{err}");
    // A vendor that splits origins says so; the run then goes there and reports what it meets.
    let text = format!("{text}allow_cross_origin = true\n");
    let r = run_cases(
        &text,
        &[
            "DISCOVERY-METADATA",
            "AUTHZ-CODE-REDIRECT",
            "TOKEN-ACTOR-MISMATCH",
        ],
    )
    .await;
    assert_hostile(&r, &["connection", "issuer"]);
}

/// The error `resolve` gives for a profile, within the run bound.
async fn resolve_error(text: &str) -> String {
    let p = profile::parse(text, "hostile", Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    match tokio::time::timeout(RUN_BOUND, profile::resolve(p, text, None)).await {
        Ok(Ok(_)) => panic!("the profile resolved"),
        Ok(Err(e)) => e.to_string(),
        Err(_) => panic!("resolve did not end within {RUN_BOUND:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_pointing_at_a_link_local_address_is_never_followed() {
    let server = MockServer::start().await;
    let meta = serde_json::json!({
        "issuer": server.uri(),
        "authorization_endpoint": format!("{}/authorize", server.uri()),
        "token_endpoint": "http://169.254.169.254/latest/meta-data/token",
    });
    Mock::given(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(meta))
        .mount(&server)
        .await;
    let text = format!(
        "{}allow_cross_origin = true\n",
        profile_text(&server.uri(), None, None)
    );
    let err = resolve_error(&text).await;
    assert!(
        err.contains("token_endpoint") && err.contains("link-local"),
        "{err}"
    );
    // Nothing was sent there: the only requests were the discovery fetch.
    let received = server.received_requests().await.unwrap_or_default();
    assert!(received
        .iter()
        .all(|r| r.url.path() == "/.well-known/oauth-authorization-server"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_discovery_document_is_refused_at_the_cap() {
    let base = raw_server(|mut stream| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("1000\r\n{}\r\n", " ".repeat(0x1000));
        while stream.write_all(chunk.as_bytes()).await.is_ok() {}
    })
    .await;
    let started = Instant::now();
    let err = resolve_error(&profile_text(&base, None, None)).await;
    assert!(
        err.contains("larger than 65536 bytes") && err.contains("max_response_bytes"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_discovery_names_the_timeout() {
    let base = raw_server(|stream| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(stream);
    })
    .await;
    let err = resolve_error(&profile_text(&base, None, None)).await;
    assert!(
        err.contains("timed out after 1 s") && err.contains("timeout"),
        "{err}"
    );
}
