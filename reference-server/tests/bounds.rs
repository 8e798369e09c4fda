//! Hostile input is refused with a named cause before anything is stored: unknown or too many
//! `prompt` values, an over-long `state`, too many parameters, clock advances that would
//! overflow; idle connections are closed after the header-read timeout.

mod common;

use std::time::{Duration, Instant};

use common::*;
use obo_reference_server::connections::Connections;
use obo_reference_server::{spawn, Config};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn error_of(base: &str, edit: impl FnOnce(&mut Vec<(String, String)>)) -> (String, String) {
    let mut p = authz_params(Some("agent-a"));
    edit(&mut p);
    let r = authorize_raw(base, &p).await;
    let u = location(&r).expect("an error redirect");
    assert!(query_param(&u, "code").is_none());
    (
        query_param(&u, "error").unwrap_or_default(),
        query_param(&u, "error_description").unwrap_or_default(),
    )
}

#[tokio::test]
async fn hostile_authorization_parameters_are_refused_and_named() {
    let h = server(&[]).await;
    let base = h.base_url();
    let huge = vec!["a"; 4000].join(" ");
    let cases: Vec<(&str, String, &str)> = vec![
        ("prompt", huge, "not supported"),
        ("prompt", "login consent none".into(), "none"),
        ("prompt", "login login".into(), "repeated"),
        ("prompt", "login x".into(), "not supported"),
        ("state", "s".repeat(1025), "state"),
    ];
    for (k, v, cause) in cases {
        let (error, description) = error_of(&base, |p| set(p, k, Some(&v))).await;
        assert_eq!(error, "invalid_request", "{k}");
        assert!(description.contains(cause), "{k}: {description}");
    }
    // Known values still work.
    let code = code_for(&base, &{
        let mut p = authz_params(Some("agent-a"));
        set(&mut p, "prompt", Some("login consent select_account"));
        p
    })
    .await;
    assert!(code.is_some());
    h.shutdown().await;
}

#[tokio::test]
async fn too_many_parameters_are_refused() {
    let h = server(&[]).await;
    let base = h.base_url();
    let mut form: Vec<(String, String)> = vec![("grant_type".into(), "client_credentials".into())];
    form.extend((0..70).map(|i| (format!("k{i}"), "v".to_string())));
    let r = token_request(&base, ("agent-a", "agent-a-secret"), &form).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["error_description"]
        .as_str()
        .unwrap_or("")
        .contains("parameters"));
    h.shutdown().await;
}

#[tokio::test]
async fn overflowing_clock_advances_are_refused() {
    let h = server(&[]).await;
    let base = h.base_url();
    for seconds in [json!(i64::MAX), json!(i64::MIN), json!(1e300)] {
        let r = http()
            .post(format!("{base}/control/clock/advance"))
            .json(&json!({ "seconds": seconds }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(
            v["error"].as_str().unwrap_or("").contains("advancing"),
            "{v}"
        );
    }
    // The clock did not move: a fresh exchange still works.
    assert_eq!(exchange(&base, "agent-a").await.status, 200);
    h.shutdown().await;
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_header_read_timeout() {
    let h = spawn(Config {
        connections: Connections {
            header_read_timeout: Duration::from_secs(1),
            ..Connections::default()
        },
        ..Config::default()
    })
    .await
    .unwrap();
    let addr = h.base_url().trim_start_matches("http://").to_string();
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buf))
        .await
        .expect("closed before 10 s")
        .unwrap_or(0);
    assert_eq!(n, 0, "closed without a response");
    assert!(t.elapsed() >= Duration::from_millis(900));
    h.shutdown().await;
}

// hyper starts the header-read timer whenever a connection waits for a request head, so a
// kept-alive connection that goes quiet after a response is closed too (the idle timeout).
#[tokio::test]
async fn kept_alive_connections_are_closed_when_idle() {
    let h = spawn(Config {
        connections: Connections {
            header_read_timeout: Duration::from_secs(1),
            ..Connections::default()
        },
        ..Config::default()
    })
    .await
    .unwrap();
    let addr = h.base_url().trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    conn.write_all(b"GET /jwks HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let t = Instant::now();
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
            .await
            .expect("closed before 10 s")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 200"), "answered first");
    assert!(t.elapsed() >= Duration::from_millis(900));
    h.shutdown().await;
}
