//! End-to-end behaviour over HTTP: happy path, the real login/consent form flow, the control
//! API, revisions and robustness.

mod common;

use common::*;
use obo_reference_server::{spawn, Config, Revision};
use serde_json::{json, Value};

#[tokio::test]
async fn happy_path_issues_a_delegated_rfc9068_token() {
    let h = server(&[]).await;
    let base = h.base_url();
    let r = exchange(&base, "agent-a").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(r.headers["pragma"], "no-cache");
    assert_eq!(r.body["token_type"], "Bearer");
    let c = r.claims().expect("JWT access token");
    assert_eq!(c["sub"], "user-alice");
    assert_eq!(c["act"], json!({"sub": "agent-a"}));
    assert_eq!(c["client_id"], "obo-client");
    assert_eq!(c["azp"], "obo-client");
    assert_eq!(c["iss"], base.as_str());
    assert_eq!(c["aud"], format!("{base}/resource"));
    assert_eq!(c["scope"], "files.read");
    for k in ["iat", "exp", "jti"] {
        assert!(c.get(k).is_some(), "missing {k}");
    }
    let header: Value = {
        use base64::Engine;
        let t = r.access_token().unwrap();
        let h = t.split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");

    // The RS accepts it for agent-a only (outermost act.sub).
    let rs = |path: String| {
        let t = r.access_token().unwrap().to_string();
        async move {
            http()
                .get(path)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(rs(format!("{base}/resource")).await, 200);
    assert_eq!(rs(format!("{base}/resource/actor/agent-a")).await, 200);
    assert_eq!(rs(format!("{base}/resource/actor/agent-b")).await, 403);
    assert_eq!(rs(format!("{base}/resource/write")).await, 403);
    h.shutdown().await;
}

#[tokio::test]
async fn state_and_iss_are_echoed() {
    let h = server(&[]).await;
    let r = authorize_raw(&h.base_url(), &authz_params(Some("agent-a"))).await;
    assert_eq!(r.status(), 302);
    let u = location(&r).unwrap();
    assert_eq!(u.host_str(), Some("client.example"));
    assert_eq!(query_param(&u, "state").as_deref(), Some("st-123"));
    assert_eq!(query_param(&u, "iss"), Some(h.base_url()));
    h.shutdown().await;
}

#[tokio::test]
async fn authorization_errors_redirect_or_show_a_page() {
    let h = server(&[]).await;
    let base = h.base_url();
    // Unknown actor: error redirect with invalid_request and state.
    let mut p = authz_params(Some("agent-zzz"));
    let u = location(&authorize_raw(&base, &p).await).unwrap();
    assert_eq!(query_param(&u, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query_param(&u, "state").as_deref(), Some("st-123"));
    // Case variant of a real actor is another id (AMB-6).
    set(&mut p, "requested_actor", Some("Agent-A"));
    let u = location(&authorize_raw(&base, &p).await).unwrap();
    assert_eq!(query_param(&u, "error").as_deref(), Some("invalid_request"));
    // Disabled actor.
    set(&mut p, "requested_actor", Some("agent-disabled"));
    let u = location(&authorize_raw(&base, &p).await).unwrap();
    assert_eq!(query_param(&u, "error").as_deref(), Some("invalid_request"));
    // No PKCE, plain PKCE.
    let mut p = authz_params(Some("agent-a"));
    set(&mut p, "code_challenge", None);
    let u = location(&authorize_raw(&base, &p).await).unwrap();
    assert_eq!(query_param(&u, "error").as_deref(), Some("invalid_request"));
    let mut p = authz_params(Some("agent-a"));
    set(&mut p, "code_challenge_method", Some("plain"));
    let u = location(&authorize_raw(&base, &p).await).unwrap();
    assert_eq!(query_param(&u, "error").as_deref(), Some("invalid_request"));
    // Duplicated requested_actor (OBO-INH-1).
    let mut p = authz_params(Some("agent-a"));
    p.push(("requested_actor".into(), "agent-b".into()));
    let u = location(&authorize_raw(&base, &p).await).unwrap();
    assert_eq!(query_param(&u, "error").as_deref(), Some("invalid_request"));
    // Unregistered redirect_uri: no redirect at all.
    let mut p = authz_params(Some("agent-a"));
    set(&mut p, "redirect_uri", Some("https://evil.example/cb"));
    let r = authorize_raw(&base, &p).await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    // Unknown scope.
    let mut p = authz_params(Some("agent-a"));
    set(&mut p, "scope", Some("admin"));
    let u = location(&authorize_raw(&base, &p).await).unwrap();
    assert_eq!(query_param(&u, "error").as_deref(), Some("invalid_scope"));
    h.shutdown().await;
}

#[tokio::test]
async fn token_endpoint_refuses_binding_violations() {
    let h = server(&[]).await;
    let base = h.base_url();
    let at_a = actor_token(&base, "agent-a").await.unwrap();
    let at_b = actor_token(&base, "agent-b").await.unwrap();
    let fresh = || async {
        code_for(&base, &authz_params(Some("agent-a")))
            .await
            .unwrap()
    };

    // ADV-1: other actor's token.
    let r = token_request(&base, CLIENT, &code_form(&fresh().await, Some(&at_b))).await;
    assert_eq!((r.status, r.error()), (400, Some("invalid_grant")));
    assert_eq!(r.headers["cache-control"], "no-store");
    // ADV-2: no actor token.
    let r = token_request(&base, CLIENT, &code_form(&fresh().await, None)).await;
    assert_eq!((r.status, r.error()), (400, Some("invalid_request")));
    // ADV-19: other client.
    let r = token_request(&base, CLIENT2, &code_form(&fresh().await, Some(&at_a))).await;
    assert_eq!((r.status, r.error()), (400, Some("invalid_grant")));
    // ADV-23: wrong verifier.
    let mut f = code_form(&fresh().await, Some(&at_a));
    set(&mut f, "code_verifier", Some(&"x".repeat(43)));
    let r = token_request(&base, CLIENT, &f).await;
    assert_eq!((r.status, r.error()), (400, Some("invalid_grant")));
    // ADV-28: redirect_uri mismatch.
    let mut f = code_form(&fresh().await, Some(&at_a));
    set(&mut f, "redirect_uri", Some("https://client.example/other"));
    let r = token_request(&base, CLIENT, &f).await;
    assert_eq!((r.status, r.error()), (400, Some("invalid_grant")));
    // ADV-10: the user's access token is not an actor token.
    let user_at = exchange(&base, "agent-a")
        .await
        .access_token()
        .unwrap()
        .to_string();
    let r = token_request(&base, CLIENT, &code_form(&fresh().await, Some(&user_at))).await;
    assert_eq!((r.status, r.error()), (400, Some("invalid_grant")));
    // Garbage actor token.
    let r = token_request(&base, CLIENT, &code_form(&fresh().await, Some("garbage"))).await;
    assert_eq!((r.status, r.error()), (400, Some("invalid_grant")));
    // Wrong client secret: 401 + WWW-Authenticate.
    let r = token_request(
        &base,
        ("obo-client", "nope"),
        &code_form(&fresh().await, Some(&at_a)),
    )
    .await;
    assert_eq!((r.status, r.error()), (401, Some("invalid_client")));
    assert!(r.headers.get("www-authenticate").is_some());
    // AMB-26: a failed attempt burns the code.
    let code = fresh().await;
    let r = token_request(&base, CLIENT, &code_form(&code, Some(&at_b))).await;
    assert_eq!(r.status, 400);
    let r = token_request(&base, CLIENT, &code_form(&code, Some(&at_a))).await;
    assert_eq!((r.status, r.error()), (400, Some("invalid_grant")));
    // -00 grant URN in a -02 server.
    let mut f = code_form(&fresh().await, Some(&at_a));
    set(
        &mut f,
        "grant_type",
        Some("urn:ietf:params:oauth:grant-type:agent-authorization_code"),
    );
    let r = token_request(&base, CLIENT, &f).await;
    assert_eq!((r.status, r.error()), (400, Some("unsupported_grant_type")));
    // Scope escalation at the token endpoint.
    let mut f = code_form(&fresh().await, Some(&at_a));
    f.push(("scope".into(), "files.read files.write".into()));
    let r = token_request(&base, CLIENT, &f).await;
    assert_eq!((r.status, r.error()), (400, Some("invalid_scope")));
    h.shutdown().await;
}

#[tokio::test]
async fn replay_revokes_the_first_token() {
    let h = server(&[]).await;
    let base = h.base_url();
    let code = code_for(&base, &authz_params(Some("agent-a")))
        .await
        .unwrap();
    let at = actor_token(&base, "agent-a").await.unwrap();
    let first = token_request(&base, CLIENT, &code_form(&code, Some(&at))).await;
    assert_eq!(first.status, 200);
    let second = token_request(&base, CLIENT, &code_form(&code, Some(&at))).await;
    assert_eq!(
        (second.status, second.error()),
        (400, Some("invalid_grant"))
    );
    let status = http()
        .get(format!("{base}/resource"))
        .bearer_auth(first.access_token().unwrap())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    h.shutdown().await;
}

#[tokio::test]
async fn parallel_redemptions_have_one_winner() {
    let h = server(&[]).await;
    let base = h.base_url();
    let code = code_for(&base, &authz_params(Some("agent-a")))
        .await
        .unwrap();
    let at = actor_token(&base, "agent-a").await.unwrap();
    let form = code_form(&code, Some(&at));
    assert_eq!(parallel_wins(&base, CLIENT, vec![form; 8]).await, 1);
    h.shutdown().await;
}

#[tokio::test]
async fn refresh_keeps_sub_and_act_and_control_api_disables_actors() {
    let h = server(&[]).await;
    let base = h.base_url();
    let r = exchange(&base, "agent-a").await;
    let rt = r.body["refresh_token"].as_str().unwrap().to_string();
    let form = vec![
        ("grant_type".to_string(), "refresh_token".to_string()),
        ("refresh_token".to_string(), rt.clone()),
    ];
    let rr = token_request(&base, CLIENT, &form).await;
    assert_eq!(rr.status, 200, "{}", rr.body);
    let c = rr.claims().unwrap();
    assert_eq!(c["act"]["sub"], "agent-a");
    assert_eq!(c["sub"], "user-alice");
    // Another client cannot use it.
    let other = token_request(&base, CLIENT2, &form).await;
    assert_eq!(other.error(), Some("invalid_grant"));
    // Disabling the actor stops refresh and new actor tokens, and the introspection of its
    // access token says inactive (AMB-29).
    assert_eq!(
        control(&base, "actors/disable", json!({"actor": "agent-a"})).await["ok"],
        true
    );
    assert_eq!(
        token_request(&base, CLIENT, &form).await.error(),
        Some("invalid_grant")
    );
    assert!(actor_token(&base, "agent-a").await.is_none());
    let intro: Value = http()
        .post(format!("{base}/introspect"))
        .basic_auth(CLIENT.0, Some(CLIENT.1))
        .form(&[("token", r.access_token().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(intro["active"], false);
    control(&base, "actors/enable", json!({"actor": "agent-a"})).await;
    let intro: Value = http()
        .post(format!("{base}/introspect"))
        .basic_auth(CLIENT.0, Some(CLIENT.1))
        .form(&[("token", r.access_token().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(intro["active"], true);
    assert_eq!(intro["act"]["sub"], "agent-a");
    h.shutdown().await;
}

#[tokio::test]
async fn clock_advance_expires_codes_and_actor_tokens() {
    let h = server(&[]).await;
    let base = h.base_url();
    let code = code_for(&base, &authz_params(Some("agent-a")))
        .await
        .unwrap();
    let old_at = actor_token(&base, "agent-a").await.unwrap();
    let now = control(&base, "clock/advance", json!({"seconds": 400})).await;
    assert!(now["now"].as_i64().is_some());
    let fresh_at = actor_token(&base, "agent-a").await.unwrap();
    let r = token_request(&base, CLIENT, &code_form(&code, Some(&fresh_at))).await;
    assert_eq!(r.error(), Some("invalid_grant"), "expired code");
    let code = code_for(&base, &authz_params(Some("agent-a")))
        .await
        .unwrap();
    let r = token_request(&base, CLIENT, &code_form(&code, Some(&old_at))).await;
    assert_eq!(r.error(), Some("invalid_grant"), "expired actor token");
    assert_eq!(control(&base, "reset", json!({})).await["ok"], true);
    assert_eq!(exchange(&base, "agent-a").await.status, 200);
    h.shutdown().await;
}

#[tokio::test]
async fn mint_signs_tokens_the_rs_checks() {
    let h = server(&[]).await;
    let base = h.base_url();
    let now = control(&base, "clock/advance", json!({"seconds": 0})).await["now"]
        .as_i64()
        .unwrap();
    let claims = |aud: String, act: Value| {
        json!({"iss": base, "aud": aud, "sub": "user-alice", "client_id": "obo-client",
               "scope": "files.read", "iat": now, "exp": now + 60, "jti": "j1", "act": act})
    };
    let mint = |c: Value| {
        let base = base.clone();
        async move {
            control(&base, "mint", json!({"claims": c})).await["token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let get = |path: &'static str, t: String| {
        let base = base.clone();
        async move {
            http()
                .get(format!("{base}{path}"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let good = mint(claims(
        format!("{base}/resource"),
        json!({"sub": "agent-a"}),
    ))
    .await;
    assert_eq!(get("/resource/actor/agent-a", good).await, 200);
    let wrong_aud = mint(claims(
        "https://other-rs.example".into(),
        json!({"sub": "agent-a"}),
    ))
    .await;
    assert_eq!(get("/resource", wrong_aud).await, 401);
    let nested = mint(claims(
        format!("{base}/resource"),
        json!({"sub": "agent-b", "act": {"sub": "agent-a"}}),
    ))
    .await;
    assert_eq!(get("/resource/actor/agent-a", nested).await, 403);
    h.shutdown().await;
}

#[tokio::test]
async fn control_api_is_absent_unless_enabled() {
    let h = spawn(Config::default()).await.unwrap();
    let r = http()
        .post(format!("{}/control/reset", h.base_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let m: Value = http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            h.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(m.get("obo_test_control_endpoint").is_none());
    assert_eq!(m["obo_requested_actor_supported"], true);
    assert_eq!(m["obo_draft_revision"], "02");
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    h.shutdown().await;
}

/// The real pages: login then consent, as plain forms with a cookie and a CSRF field.
#[tokio::test]
async fn form_flow_with_login_consent_and_reuse() {
    let h = spawn(Config::default()).await.unwrap();
    let base = h.base_url();
    let b = browser();
    let start = |actor: &'static str| {
        let (b, base) = (b.clone(), base.clone());
        async move {
            b.get(format!("{base}/authorize"))
                .query(&authz_params(Some(actor)))
                .send()
                .await
                .unwrap()
        }
    };
    let r = start("agent-a").await;
    assert_eq!(r.status(), 303);
    let login_url = format!("{base}{}", r.headers()["location"].to_str().unwrap());
    let page = b.get(&login_url).send().await.unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let html = page.text().await.unwrap();
    let field = |html: &str, name: &str| -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = html.find(&marker).expect(name) + marker.len();
        html[start..].split('"').next().unwrap().to_string()
    };
    let (csrf, tx) = (field(&html, "csrf"), field(&html, "tx"));
    // Wrong CSRF is refused.
    let bad = b
        .post(format!("{base}/login"))
        .form(&[
            ("username", "alice"),
            ("password", "alice-password"),
            ("csrf", "x"),
            ("tx", tx.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);
    // Wrong password re-renders the form.
    let bad = b
        .post(format!("{base}/login"))
        .form(&[
            ("username", "alice"),
            ("password", "nope"),
            ("csrf", csrf.as_str()),
            ("tx", tx.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let r = b
        .post(format!("{base}/login"))
        .form(&[
            ("username", "alice"),
            ("password", "alice-password"),
            ("csrf", csrf.as_str()),
            ("tx", tx.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let consent_url = format!("{base}{}", r.headers()["location"].to_str().unwrap());
    let html = b
        .get(&consent_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "OBO Demo Client",
        "obo-client",
        "Agent A (travel)",
        "agent-a",
        "files.read",
        "Approve",
        "Deny",
    ] {
        assert!(html.contains(needle), "consent page lacks {needle}");
    }
    let csrf = field(&html, "csrf");
    let r = b
        .post(format!("{base}/consent"))
        .form(&[
            ("decision", "approve"),
            ("csrf", csrf.as_str()),
            ("tx", tx.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let u = location(&r).unwrap();
    assert!(query_param(&u, "code").is_some());

    // Same triple, same scope: silent code (AMB-11).
    let r = start("agent-a").await;
    assert_eq!(r.status(), 302);
    // Another actor: consent page again (ADV-15).
    let r = start("agent-b").await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/consent"));
    // Deny: access_denied with state.
    let consent_url = format!("{base}{}", r.headers()["location"].to_str().unwrap());
    let html = b
        .get(&consent_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Agent B (finance)"));
    let (csrf, tx) = (field(&html, "csrf"), field(&html, "tx"));
    let r = b
        .post(format!("{base}/consent"))
        .form(&[
            ("decision", "deny"),
            ("csrf", csrf.as_str()),
            ("tx", tx.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let u = location(&r).unwrap();
    assert_eq!(query_param(&u, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&u, "state").as_deref(), Some("st-123"));
    h.shutdown().await;
}

#[tokio::test]
async fn consent_page_escapes_request_values() {
    let h = spawn(Config {
        faults: vec![obo_reference_server::Fault::UnknownActorAccepted],
        ..Config::default()
    })
    .await
    .unwrap();
    let base = h.base_url();
    let b = browser();
    let r = b
        .get(format!("{base}/authorize"))
        .query(&authz_params(Some("<script>alert(1)</script>")))
        .send()
        .await
        .unwrap();
    let login_url = format!("{base}{}", r.headers()["location"].to_str().unwrap());
    let html = b
        .get(&login_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&lt;script&gt;"));
    h.shutdown().await;
}

#[tokio::test]
async fn revision_00_speaks_the_00_wire_names() {
    let h = spawn(Config {
        auto_consent: Some("alice".into()),
        revision: Revision::R00,
        ..Config::default()
    })
    .await
    .unwrap();
    let base = h.base_url();
    let mut p = authz_params(None);
    p.push(("requested_agent".into(), "agent-a".into()));
    let code = code_for(&base, &p).await.unwrap();
    let at = actor_token(&base, "agent-a").await.unwrap();
    let mut f = code_form(&code, None);
    set(
        &mut f,
        "grant_type",
        Some("urn:ietf:params:oauth:grant-type:agent-authorization_code"),
    );
    f.push(("agent_token".into(), at));
    let r = token_request(&base, CLIENT, &f).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.claims().unwrap()["act"]["sub"], "agent-a");
    h.shutdown().await;
}

#[tokio::test]
async fn malformed_input_never_yields_a_500() {
    let h = server(&[]).await;
    let base = h.base_url();
    let c = http();
    let big = "a".repeat(100 * 1024);
    let bodies: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "/token",
            b"%%%&&&==".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (
            "/token",
            vec![0xff, 0xfe, 0x00],
            "application/x-www-form-urlencoded",
        ),
        ("/token", b"{\"grant_type\":1}".to_vec(), "application/json"),
        (
            "/token",
            format!("grant_type=authorization_code&code={big}").into_bytes(),
            "application/x-www-form-urlencoded",
        ),
        (
            "/token",
            b"grant_type=authorization_code&grant_type=authorization_code".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (
            "/introspect",
            b"token=a.b.c".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (
            "/revoke",
            b"token=\xff".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (
            "/authorize",
            b"client_id=%ZZ".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        ("/control/mint", b"{not json".to_vec(), "application/json"),
        (
            "/control/mint",
            b"{\"claims\":[1]}".to_vec(),
            "application/json",
        ),
        (
            "/login",
            b"tx=nope".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (
            "/consent",
            b"tx=nope&decision=approve".to_vec(),
            "application/x-www-form-urlencoded",
        ),
    ];
    for (path, body, ct) in bodies {
        let r = c
            .post(format!("{base}{path}"))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
    for path in [
        "/token",
        "/resource/actor/%ff",
        "/authorize?client_id=obo-client&client_id=x",
        "/nope",
        "/login?tx=x",
    ] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
    let r = c.get(format!("{base}/token")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    for auth in [
        "Bearer",
        "Bearer ...",
        "Bearer e30.e30.e30",
        "Basic Zm9v",
        "Bearer \u{7f}",
    ] {
        if let Ok(v) = reqwest::header::HeaderValue::from_str(auth) {
            let r = c
                .get(format!("{base}/resource"))
                .header("authorization", v)
                .send()
                .await
                .unwrap();
            assert!(
                matches!(r.status().as_u16(), 400 | 401),
                "{auth}: {}",
                r.status()
            );
        }
    }
    h.shutdown().await;
}

#[tokio::test]
async fn public_client_uses_pkce_only_and_its_refresh_tokens_rotate() {
    let h = server(&[]).await;
    let base = h.base_url();
    let mut p = authz_params(Some("agent-b"));
    set(&mut p, "client_id", Some("obo-public"));
    set(&mut p, "redirect_uri", Some("https://public.example/cb"));
    let code = code_for(&base, &p).await.unwrap();
    let at = actor_token(&base, "agent-b").await.unwrap();
    let mut f = code_form(&code, Some(&at));
    set(&mut f, "redirect_uri", Some("https://public.example/cb"));
    f.push(("client_id".into(), "obo-public".into()));
    let post = |form: Vec<(String, String)>| {
        let base = base.clone();
        async move {
            let r = http()
                .post(format!("{base}/token"))
                .form(&form)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = post(f).await;
    assert_eq!(status, 200, "{body}");
    let rt = body["refresh_token"].as_str().unwrap().to_string();
    let refresh = vec![
        ("grant_type".to_string(), "refresh_token".to_string()),
        ("refresh_token".to_string(), rt),
        ("client_id".to_string(), "obo-public".to_string()),
    ];
    let (s1, b1) = post(refresh.clone()).await;
    assert_eq!(s1, 200);
    assert!(b1["refresh_token"].as_str().is_some(), "rotated");
    let (s2, b2) = post(refresh).await;
    assert_eq!((s2, b2["error"].as_str()), (400, Some("invalid_grant")));
    h.shutdown().await;
}

#[tokio::test]
async fn latency_option_delays_every_response() {
    let h = spawn(Config {
        latency: std::time::Duration::from_millis(150),
        ..Config::default()
    })
    .await
    .expect("spawn");
    let base = h.base_url();
    let c = http();
    for path in ["/jwks", "/no-such-path"] {
        let t = std::time::Instant::now();
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert!(r.status().is_success() || r.status() == 404);
        assert!(
            t.elapsed() >= std::time::Duration::from_millis(150),
            "{path}"
        );
    }
    h.shutdown().await;
}
