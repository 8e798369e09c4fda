//! Every fault switch observably changes behaviour: the same probe, run against a clean server
//! and against a server with only that fault on, gives different observations.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use obo_reference_server::{spawn, Config, Fault, Handle};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use serde_json::{json, Value};

async fn with(faults: &[Fault], auto: bool) -> Handle {
    spawn(Config {
        auto_consent: auto.then(|| "alice".to_string()),
        control_api: true,
        faults: faults.to_vec(),
        ..Config::default()
    })
    .await
    .expect("spawn")
}

fn b64json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn part(token: &str, i: usize) -> Value {
    let p = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

/// Redeems a fresh agent-a code with the given actor token and extra form changes.
async fn redeem_with(
    base: &str,
    at: Option<&str>,
    edit: impl FnOnce(&mut Vec<(String, String)>),
) -> TokenReply {
    let code = code_for(base, &authz_params(Some("agent-a")))
        .await
        .unwrap();
    let mut f = code_form(&code, at);
    edit(&mut f);
    token_request(base, CLIENT, &f).await
}

async fn authz_outcome(base: &str, edit: impl FnOnce(&mut Vec<(String, String)>)) -> String {
    let mut p = authz_params(Some("agent-a"));
    edit(&mut p);
    let r = authorize_raw(base, &p).await;
    match location(&r) {
        Some(u) => format!(
            "{} code={} error={:?} state={:?}",
            r.status(),
            query_param(&u, "code").is_some(),
            query_param(&u, "error"),
            query_param(&u, "state")
        ),
        None => format!("{} no-redirect", r.status()),
    }
}

async fn rs_status(base: &str, path: &str, token: &str) -> u16 {
    http()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn mint(base: &str, claims: Value) -> String {
    control(base, "mint", json!({"claims": claims})).await["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn now(base: &str) -> i64 {
    control(base, "clock/advance", json!({"seconds": 0})).await["now"]
        .as_i64()
        .unwrap()
}

/// Drives login + consent in a browser session; returns the final redirect (status, location).
async fn form_consent(base: &str, b: &reqwest::Client, actor: &str, decision: &str) -> String {
    let r = b
        .get(format!("{base}/authorize"))
        .query(&authz_params(Some(actor)))
        .send()
        .await
        .unwrap();
    let mut loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    if r.status() == 302 {
        return "silent-code".into();
    }
    let field = |html: &str, name: &str| -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let s = html.find(&marker).map(|i| i + marker.len()).unwrap_or(0);
        html[s..].split('"').next().unwrap_or("").to_string()
    };
    if let Some(l) = loc.clone().filter(|l| l.starts_with("/login")) {
        let html = b
            .get(format!("{base}{l}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (csrf, tx) = (field(&html, "csrf"), field(&html, "tx"));
        let r = b
            .post(format!("{base}/login"))
            .form(&[
                ("username", "alice"),
                ("password", "alice-password"),
                ("csrf", &csrf),
                ("tx", &tx),
            ])
            .send()
            .await
            .unwrap();
        if r.status() == 302 {
            return "silent-code".into();
        }
        loc = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
    }
    let l = loc.unwrap_or_default();
    let html = b
        .get(format!("{base}{l}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (csrf, tx) = (field(&html, "csrf"), field(&html, "tx"));
    let r = b
        .post(format!("{base}/consent"))
        .form(&[("decision", decision), ("csrf", &csrf), ("tx", &tx)])
        .send()
        .await
        .unwrap();
    let u = location(&r).unwrap();
    format!(
        "prompted code={} error={:?}",
        query_param(&u, "code").is_some(),
        query_param(&u, "error")
    )
}

/// Runs the scenario that exposes `fault` against a server with `faults` on.
async fn probe(fault: Fault, faults: &[Fault]) -> String {
    let interactive = matches!(
        fault,
        Fault::ConsentReusedAcrossActors
            | Fault::ConsentDenyIgnored
            | Fault::ConsentPageFramable
            | Fault::CsrfUnchecked
    );
    let h = with(faults, !interactive).await;
    let base = h.base_url();
    let base = base.as_str();
    let at_a = || async { actor_token(base, "agent-a").await.unwrap() };
    let out = match fault {
        Fault::SkipActorBinding => {
            let b = actor_token(base, "agent-b").await.unwrap();
            redeem_with(base, Some(&b), |_| {}).await.status.to_string()
        }
        Fault::ActFromRequest => {
            let r = redeem_with(base, Some(&at_a().await), |f| {
                f.push(("requested_actor".into(), "agent-b".into()))
            })
            .await;
            r.claims().map(|c| c["act"].to_string()).unwrap_or_default()
        }
        Fault::AcceptCodeReplay => {
            let code = code_for(base, &authz_params(Some("agent-a")))
                .await
                .unwrap();
            let at = at_a().await;
            token_request(base, CLIENT, &code_form(&code, Some(&at))).await;
            token_request(base, CLIENT, &code_form(&code, Some(&at)))
                .await
                .status
                .to_string()
        }
        Fault::NonAtomicRedemption => {
            let code = code_for(base, &authz_params(Some("agent-a")))
                .await
                .unwrap();
            let form = code_form(&code, Some(&at_a().await));
            (parallel_wins(base, CLIENT, vec![form; 8]).await > 1).to_string()
        }
        Fault::CodeExpiryUnchecked => {
            let code = code_for(base, &authz_params(Some("agent-a")))
                .await
                .unwrap();
            control(base, "clock/advance", json!({"seconds": 120})).await;
            token_request(base, CLIENT, &code_form(&code, Some(&at_a().await)))
                .await
                .status
                .to_string()
        }
        Fault::ActorTokenSignatureUnchecked => {
            let (a, b) = (at_a().await, actor_token(base, "agent-b").await.unwrap());
            let forged = format!(
                "{}.{}",
                a.rsplit_once('.').unwrap().0,
                b.rsplit_once('.').unwrap().1
            );
            redeem_with(base, Some(&forged), |_| {})
                .await
                .status
                .to_string()
        }
        Fault::ActorTokenAlgNone => {
            let a = at_a().await;
            let forged = format!(
                "{}.{}.",
                b64json(&json!({"alg": "none", "typ": "actor+jwt"})),
                a.split('.').nth(1).unwrap()
            );
            redeem_with(base, Some(&forged), |_| {})
                .await
                .status
                .to_string()
        }
        Fault::ActorTokenExpiryUnchecked => {
            let a = at_a().await;
            control(base, "clock/advance", json!({"seconds": 1000})).await;
            redeem_with(base, Some(&a), |_| {}).await.status.to_string()
        }
        Fault::ActorTokenEmbeddedJwk => {
            let a = at_a().await;
            let key = <SigningKey as p256::elliptic_curve::Generate>::generate();
            let pt = key.verifying_key().to_sec1_point(false);
            let jwk = json!({"kty": "EC", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(pt.x().unwrap()), "y": URL_SAFE_NO_PAD.encode(pt.y().unwrap())});
            let input = format!(
                "{}.{}",
                b64json(&json!({"alg": "ES256", "typ": "actor+jwt", "jwk": jwk})),
                a.split('.').nth(1).unwrap()
            );
            let sig: Signature = key.sign(input.as_bytes());
            let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()));
            redeem_with(base, Some(&forged), |_| {})
                .await
                .status
                .to_string()
        }
        Fault::ActorTokenIssuerUnchecked => {
            let mut c = part(&at_a().await, 1);
            c["iss"] = json!("https://evil.example");
            let t = control(
                base,
                "mint",
                json!({"claims": c, "header": {"typ": "actor+jwt"}}),
            )
            .await["token"]
                .as_str()
                .unwrap()
                .to_string();
            redeem_with(base, Some(&t), |_| {}).await.status.to_string()
        }
        Fault::UserTokenAsActorToken => {
            let user = exchange(base, "agent-a")
                .await
                .access_token()
                .unwrap()
                .to_string();
            redeem_with(base, Some(&user), |_| {})
                .await
                .status
                .to_string()
        }
        Fault::ActorMatchCaseInsensitive => {
            authz_outcome(base, |p| set(p, "requested_actor", Some("Agent-A"))).await
        }
        Fault::ActorTokenOptional => redeem_with(base, None, |_| {}).await.status.to_string(),
        Fault::UnknownActorAccepted => {
            authz_outcome(base, |p| set(p, "requested_actor", Some("agent-zzz"))).await
        }
        Fault::DisabledActorAccepted => {
            authz_outcome(base, |p| set(p, "requested_actor", Some("agent-disabled"))).await
        }
        Fault::PkceVerifierUnchecked => redeem_with(base, Some(&at_a().await), |f| {
            set(f, "code_verifier", Some(&"w".repeat(43)))
        })
        .await
        .status
        .to_string(),
        Fault::PkceOptional => {
            authz_outcome(base, |p| {
                set(p, "code_challenge", None);
                set(p, "code_challenge_method", None);
            })
            .await
        }
        Fault::PkcePlainAccepted => {
            authz_outcome(base, |p| {
                set(p, "code_challenge", Some(VERIFIER));
                set(p, "code_challenge_method", Some("plain"));
            })
            .await
        }
        Fault::SkipClientBinding => {
            let code = code_for(base, &authz_params(Some("agent-a")))
                .await
                .unwrap();
            token_request(base, CLIENT2, &code_form(&code, Some(&at_a().await)))
                .await
                .status
                .to_string()
        }
        Fault::ClientAuthSkipped => {
            let code = code_for(base, &authz_params(Some("agent-a")))
                .await
                .unwrap();
            token_request(
                base,
                ("obo-client", "wrong"),
                &code_form(&code, Some(&at_a().await)),
            )
            .await
            .status
            .to_string()
        }
        Fault::RedirectUriNotCompared => redeem_with(base, Some(&at_a().await), |f| {
            set(f, "redirect_uri", Some("https://client.example/x"))
        })
        .await
        .status
        .to_string(),
        Fault::OpenRedirect => {
            authz_outcome(base, |p| {
                set(p, "redirect_uri", Some("https://evil.example/cb"))
            })
            .await
        }
        Fault::DuplicateParamsAccepted => {
            authz_outcome(base, |p| {
                p.push(("requested_actor".into(), "agent-b".into()))
            })
            .await
        }
        Fault::ActOmitted | Fault::ActAsString | Fault::ActorInSub => {
            let c = exchange(base, "agent-a").await.claims().unwrap();
            format!("{} {}", c["sub"], c["act"])
        }
        Fault::StateNotEchoed => authz_outcome(base, |_| {}).await,
        Fault::ErrorsStatus200 => redeem_with(base, Some(&at_a().await), |f| {
            set(f, "code", Some("unknown"))
        })
        .await
        .status
        .to_string(),
        Fault::CacheHeadersMissing => format!(
            "{:?}",
            exchange(base, "agent-a").await.headers.get("cache-control")
        ),
        Fault::ConsentReusedAcrossActors => {
            let b = browser();
            form_consent(base, &b, "agent-a", "approve").await;
            form_consent(base, &b, "agent-b", "approve").await
        }
        Fault::ConsentDenyIgnored => form_consent(base, &browser(), "agent-a", "deny").await,
        Fault::ScopeEscalation => redeem_with(base, Some(&at_a().await), |f| {
            f.push(("scope".into(), "files.read files.write".into()))
        })
        .await
        .status
        .to_string(),
        Fault::RefreshDropsAct => {
            let r = exchange(base, "agent-a").await;
            let form = vec![
                ("grant_type".to_string(), "refresh_token".to_string()),
                (
                    "refresh_token".to_string(),
                    r.body["refresh_token"].as_str().unwrap().to_string(),
                ),
            ];
            token_request(base, CLIENT, &form)
                .await
                .claims()
                .map(|c| c["act"].to_string())
                .unwrap_or_default()
        }
        Fault::RefreshScopeEscalation | Fault::RefreshClientUnchecked => {
            let r = exchange(base, "agent-a").await;
            let mut form = vec![
                ("grant_type".to_string(), "refresh_token".to_string()),
                (
                    "refresh_token".to_string(),
                    r.body["refresh_token"].as_str().unwrap().to_string(),
                ),
            ];
            let client = if fault == Fault::RefreshClientUnchecked {
                CLIENT2
            } else {
                form.push(("scope".into(), "files.read files.write".into()));
                CLIENT
            };
            token_request(base, client, &form).await.status.to_string()
        }
        Fault::ClientAuthChallengeMissing => {
            let code = code_for(base, &authz_params(Some("agent-a")))
                .await
                .unwrap();
            let r = token_request(
                base,
                ("obo-client", "wrong-secret"),
                &code_form(&code, Some(&at_a().await)),
            )
            .await;
            format!("{} {:?}", r.status, r.headers.get("www-authenticate"))
        }
        Fault::RsChallengeBare => {
            let t = exchange(base, "agent-a")
                .await
                .access_token()
                .unwrap()
                .to_string();
            let r = http()
                .get(format!("{base}/resource/write"))
                .bearer_auth(&t)
                .send()
                .await
                .unwrap();
            format!("{:?}", r.headers().get("www-authenticate"))
        }
        Fault::AtTypGeneric | Fault::AtAudOmitted => {
            let r = exchange(base, "agent-a").await;
            let t = r.access_token().unwrap();
            format!("{} {}", part(t, 0)["typ"], part(t, 1)["aud"])
        }
        Fault::ActorTokenRevocationUnchecked => {
            let at = at_a().await;
            let revoked = http()
                .post(format!("{base}/revoke"))
                .basic_auth("agent-a", Some("agent-a-secret"))
                .form(&[("token", at.as_str())])
                .send()
                .await
                .unwrap()
                .status();
            let r = redeem_with(base, Some(&at), |_| {}).await;
            format!("{revoked} {}", r.status)
        }
        Fault::ChainedActInverted => {
            let n = now(base).await;
            let chained = control(
                base,
                "mint",
                json!({"header": {"typ": "actor+jwt"}, "claims": {"iss": base, "aud": base,
                    "sub": "agent-a", "token_use": "actor", "iat": n, "exp": n + 60,
                    "jti": "chained-probe", "act": {"sub": "agent-b"}}}),
            )
            .await["token"]
                .as_str()
                .unwrap()
                .to_string();
            let r = redeem_with(base, Some(&chained), |_| {}).await;
            format!(
                "{} {:?}",
                r.status,
                r.claims().map(|c| c["act"]["sub"].to_string())
            )
        }
        Fault::LegacyGrantAccepted => redeem_with(base, Some(&at_a().await), |f| {
            set(
                f,
                "grant_type",
                Some(obo_reference_server::config::GRANT_TYPE_00),
            )
        })
        .await
        .status
        .to_string(),
        Fault::RsIgnoresAct => {
            let t = exchange(base, "agent-a")
                .await
                .access_token()
                .unwrap()
                .to_string();
            rs_status(base, "/resource/actor/agent-b", &t)
                .await
                .to_string()
        }
        Fault::RsNestedActAccepted | Fault::RsAudienceUnchecked | Fault::RsExpiryUnchecked => {
            let n = now(base).await;
            let mut c = json!({"iss": base, "aud": format!("{base}/resource"), "sub": "user-alice",
                "client_id": "obo-client", "scope": "files.read", "iat": n, "exp": n + 60, "jti": "probe",
                "act": {"sub": "agent-a"}});
            match fault {
                Fault::RsNestedActAccepted => {
                    c["act"] = json!({"sub": "agent-b", "act": {"sub": "agent-a"}})
                }
                Fault::RsAudienceUnchecked => c["aud"] = json!("https://other-rs.example"),
                _ => c["exp"] = json!(n - 10),
            }
            let t = mint(base, c).await;
            rs_status(base, "/resource/actor/agent-a", &t)
                .await
                .to_string()
        }
        Fault::RsSignatureUnchecked => {
            let t1 = exchange(base, "agent-a")
                .await
                .access_token()
                .unwrap()
                .to_string();
            let t2 = exchange(base, "agent-b")
                .await
                .access_token()
                .unwrap()
                .to_string();
            let forged = format!(
                "{}.{}",
                t1.rsplit_once('.').unwrap().0,
                t2.rsplit_once('.').unwrap().1
            );
            rs_status(base, "/resource", &forged).await.to_string()
        }
        Fault::RsScopeUnchecked => {
            let t = exchange(base, "agent-a")
                .await
                .access_token()
                .unwrap()
                .to_string();
            rs_status(base, "/resource/write", &t).await.to_string()
        }
        Fault::RsRevocationUnchecked => {
            let t = exchange(base, "agent-a")
                .await
                .access_token()
                .unwrap()
                .to_string();
            http()
                .post(format!("{base}/revoke"))
                .basic_auth(CLIENT.0, Some(CLIENT.1))
                .form(&[("token", t.as_str())])
                .send()
                .await
                .unwrap();
            rs_status(base, "/resource", &t).await.to_string()
        }
        Fault::RsIssuerUnchecked | Fault::RsAlgNoneAccepted => {
            let n = now(base).await;
            let mut c = json!({"iss": base, "aud": format!("{base}/resource"), "sub": "user-alice",
                "client_id": "obo-client", "scope": "files.read", "iat": n, "exp": n + 60, "jti": "probe2"});
            if fault == Fault::RsIssuerUnchecked {
                c["iss"] = json!("https://attacker.example");
                let t = mint(base, c).await;
                rs_status(base, "/resource", &t).await.to_string()
            } else {
                let t = format!(
                    "{}.{}.",
                    b64json(&json!({"alg": "none", "typ": "at+jwt"})),
                    b64json(&c)
                );
                rs_status(base, "/resource", &t).await.to_string()
            }
        }
        Fault::RsTokenTypeUnchecked => rs_status(base, "/resource", &at_a().await)
            .await
            .to_string(),
        Fault::RsTokenOptional => http()
            .get(format!("{base}/resource"))
            .send()
            .await
            .unwrap()
            .status()
            .to_string(),
        Fault::ActorIdNormalized => {
            authz_outcome(base, |p| set(p, "requested_actor", Some("agent-a\n"))).await
        }
        Fault::PkceMethodUnchecked => {
            authz_outcome(base, |p| {
                set(p, "code_challenge_method", Some("S512-obo-unknown"))
            })
            .await
        }
        Fault::ResponseTypeUnchecked => {
            authz_outcome(base, |p| set(p, "response_type", Some("token"))).await
        }
        Fault::UnknownClientRedirect => {
            authz_outcome(base, |p| set(p, "client_id", Some("nobody"))).await
        }
        Fault::IntrospectIgnoresRevocation => {
            let t = exchange(base, "agent-a")
                .await
                .access_token()
                .unwrap()
                .to_string();
            let c = http();
            c.post(format!("{base}/revoke"))
                .basic_auth(CLIENT.0, Some(CLIENT.1))
                .form(&[("token", t.as_str())])
                .send()
                .await
                .unwrap();
            let v: Value = c
                .post(format!("{base}/introspect"))
                .basic_auth(CLIENT.0, Some(CLIENT.1))
                .form(&[("token", t.as_str())])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["active"].to_string()
        }
        Fault::ActInPlainFlow => {
            let code = code_for(base, &authz_params(None)).await.unwrap();
            let r = token_request(base, CLIENT, &code_form(&code, None)).await;
            r.claims().map(|c| c["act"].to_string()).unwrap_or_default()
        }
        Fault::RsHs256Confusion => {
            let jwks: Value = http()
                .get(format!("{base}/jwks"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let jwk = jwks["keys"][0].as_object().unwrap().clone();
            let mut members: Vec<_> = jwk.into_iter().collect();
            members.sort_by(|a, b| a.0.cmp(&b.0));
            let secret = format!(
                "{{{}}}",
                members
                    .iter()
                    .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), v))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let n = now(base).await;
            let claims = json!({"iss": base, "aud": format!("{base}/resource"), "sub": "user-alice",
                "client_id": "obo-client", "scope": "files.read", "iat": n, "exp": n + 60, "jti": "probe3"});
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            header.typ = Some("at+jwt".into());
            let t = jsonwebtoken::encode(
                &header,
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap(),
            )
            .unwrap();
            rs_status(base, "/resource", &t).await.to_string()
        }
        Fault::ActorLengthUnchecked => {
            authz_outcome(base, |p| set(p, "requested_actor", Some(&"a".repeat(2000)))).await
        }
        Fault::CsrfUnchecked => {
            // The login form posted without its csrf field.
            let b = browser();
            let r = b
                .get(format!("{base}/authorize"))
                .query(&authz_params(Some("agent-a")))
                .send()
                .await
                .unwrap();
            let login = url::Url::parse(base)
                .unwrap()
                .join(r.headers()["location"].to_str().unwrap())
                .unwrap();
            let tx = query_param(&login, "tx").unwrap_or_default();
            let r = b
                .post(format!("{base}/login"))
                .form(&[
                    ("username", "alice"),
                    ("password", "alice-password"),
                    ("tx", tx.as_str()),
                ])
                .send()
                .await
                .unwrap();
            r.status().to_string()
        }
        Fault::ConsentPageFramable => {
            let b = browser();
            let r = b
                .get(format!("{base}/authorize"))
                .query(&authz_params(Some("agent-a")))
                .send()
                .await
                .unwrap();
            let l = r.headers()["location"].to_str().unwrap().to_string();
            let page = b.get(format!("{base}{l}")).send().await.unwrap();
            format!(
                "{:?} {:?}",
                page.headers().get("x-frame-options"),
                page.headers().get("content-security-policy")
            )
        }
    };
    h.shutdown().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_changes_observed_behaviour() {
    let mut unobserved = Vec::new();
    for &f in Fault::ALL {
        let clean = probe(f, &[]).await;
        let faulty = probe(f, &[f]).await;
        if clean == faulty {
            unobserved.push(format!("{}: both {clean}", f.name()));
        }
    }
    assert!(
        unobserved.is_empty(),
        "faults without effect: {unobserved:#?}"
    );
}

#[test]
fn list_is_stable_and_named() {
    let names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
    assert!(names.contains(&"skip-actor-binding"));
    assert!(names.contains(&"consent-reused-across-actors"));
    let unique: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
}
