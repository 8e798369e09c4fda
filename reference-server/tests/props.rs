//! Properties of issue #2 §8, checked over HTTP against an in-process server:
//! any tampered actor token is rejected; a code yields at most one token; act.sub always equals
//! the actor the code is bound to; no token for an unconsented (user, client, actor).

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use obo_reference_server::{spawn, Config};
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Flips one bit of one decoded part of a compact JWS.
fn flip(token: &str, part: usize, idx: prop::sample::Index, bit: u8) -> String {
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let Ok(mut bytes) = URL_SAFE_NO_PAD.decode(&parts[part]) else {
        return token.to_string();
    };
    if bytes.is_empty() {
        return token.to_string();
    }
    let i = idx.index(bytes.len());
    bytes[i] ^= 1 << bit;
    parts[part] = URL_SAFE_NO_PAD.encode(bytes);
    parts.join(".")
}

#[test]
fn any_tampered_actor_token_is_rejected() {
    let rt = runtime();
    let h = rt.block_on(server(&[]));
    let base = h.base_url();
    let genuine = rt.block_on(actor_token(&base, "agent-a")).unwrap();
    let mut runner = TestRunner::new(PtConfig::with_cases(48));
    let strategy = prop_oneof![
        (0usize..3, any::<prop::sample::Index>(), 0u8..8)
            .prop_map(|(p, i, b)| flip(&genuine, p, i, b)),
        "[ -~]{0,300}",
        (0usize..genuine.len()).prop_map(|n| genuine[..n].to_string()),
    ];
    runner
        .run(&strategy, |tampered| {
            prop_assume!(tampered != genuine && !tampered.is_empty());
            let r = rt.block_on(async {
                let code = code_for(&base, &authz_params(Some("agent-a")))
                    .await
                    .unwrap();
                token_request(&base, CLIENT, &code_form(&code, Some(&tampered))).await
            });
            prop_assert_eq!(r.status, 400, "{}", r.body);
            prop_assert!(r.access_token().is_none());
            Ok(())
        })
        .unwrap();
    rt.block_on(h.shutdown());
}

#[derive(Clone, Debug)]
enum Attempt {
    Good,
    OtherActor,
    NoActorToken,
    WrongVerifier,
}

#[test]
fn a_code_yields_at_most_one_token() {
    let rt = runtime();
    let h = rt.block_on(server(&[]));
    let base = h.base_url();
    let attempt = prop_oneof![
        Just(Attempt::Good),
        Just(Attempt::OtherActor),
        Just(Attempt::NoActorToken),
        Just(Attempt::WrongVerifier)
    ];
    let mut runner = TestRunner::new(PtConfig::with_cases(32));
    runner
        .run(
            &(prop::collection::vec(attempt, 1..6), any::<bool>()),
            |(attempts, parallel)| {
                let wins = rt.block_on(async {
                    let code = code_for(&base, &authz_params(Some("agent-a")))
                        .await
                        .unwrap();
                    let a = actor_token(&base, "agent-a").await.unwrap();
                    let b = actor_token(&base, "agent-b").await.unwrap();
                    let forms: Vec<_> = attempts
                        .iter()
                        .map(|at| {
                            let mut f = match at {
                                Attempt::OtherActor => code_form(&code, Some(&b)),
                                Attempt::NoActorToken => code_form(&code, None),
                                _ => code_form(&code, Some(&a)),
                            };
                            if matches!(at, Attempt::WrongVerifier) {
                                set(&mut f, "code_verifier", Some(&"v".repeat(43)));
                            }
                            f
                        })
                        .collect();
                    let mut wins = 0;
                    if parallel {
                        wins = parallel_wins(&base, CLIENT, forms).await;
                    } else {
                        for f in forms {
                            wins +=
                                usize::from(token_request(&base, CLIENT, &f).await.status == 200);
                        }
                    }
                    wins
                });
                prop_assert!(wins <= 1, "{wins} tokens from one code");
                Ok(())
            },
        )
        .unwrap();
    rt.block_on(h.shutdown());
}

#[test]
fn act_sub_always_equals_the_bound_actor() {
    let rt = runtime();
    let h = rt.block_on(server(&[]));
    let base = h.base_url();
    let actors = prop_oneof![Just("agent-a"), Just("agent-b")];
    let injected = prop::option::of(prop_oneof![
        Just(("requested_actor", "agent-b")),
        Just(("act", "{\"sub\":\"agent-b\"}")),
        Just(("sub", "agent-b")),
        Just(("requested_actor", "agent-a")),
    ]);
    let mut runner = TestRunner::new(PtConfig::with_cases(32));
    runner
        .run(
            &(actors.clone(), actors, injected),
            |(bound, presented, inject)| {
                let r = rt.block_on(async {
                    let code = code_for(&base, &authz_params(Some(bound))).await.unwrap();
                    let at = actor_token(&base, presented).await.unwrap();
                    let mut f = code_form(&code, Some(&at));
                    if let Some((k, v)) = inject {
                        f.push((k.into(), v.into()));
                    }
                    token_request(&base, CLIENT, &f).await
                });
                if r.status == 200 {
                    let c = r.claims().unwrap();
                    prop_assert_eq!(c["act"]["sub"].as_str(), Some(bound));
                    prop_assert_eq!(c["sub"].as_str(), Some("user-alice"));
                } else {
                    prop_assert_ne!(bound, presented);
                }
                Ok(())
            },
        )
        .unwrap();
    rt.block_on(h.shutdown());
}

#[test]
fn no_code_without_consent_for_the_triple() {
    let rt = runtime();
    let h = rt.block_on(spawn(Config::default())).unwrap();
    let base = h.base_url();
    let b = browser();
    // Consent once for (alice, obo-client, agent-a, files.read) through the real pages.
    rt.block_on(async {
        let r = b
            .get(format!("{base}/authorize"))
            .query(&authz_params(Some("agent-a")))
            .send()
            .await
            .unwrap();
        let field = |html: &str, name: &str| -> String {
            let marker = format!("name=\"{name}\" value=\"");
            let s = html.find(&marker).unwrap() + marker.len();
            html[s..].split('"').next().unwrap().to_string()
        };
        let login = format!("{base}{}", r.headers()["location"].to_str().unwrap());
        let html = b.get(login).send().await.unwrap().text().await.unwrap();
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
        let consent = format!("{base}{}", r.headers()["location"].to_str().unwrap());
        let html = b.get(consent).send().await.unwrap().text().await.unwrap();
        let csrf = field(&html, "csrf");
        let r = b
            .post(format!("{base}/consent"))
            .form(&[("decision", "approve"), ("csrf", &csrf), ("tx", &tx)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
    });
    let clients = prop_oneof![
        Just(("obo-client", "https://client.example/cb")),
        Just(("obo-client-2", "https://second.example/cb"))
    ];
    let actors = prop_oneof![Just("agent-a"), Just("agent-b")];
    let scopes =
        prop::sample::subsequence(vec!["files.read", "files.write", "calendar.read"], 1..=3);
    let mut runner = TestRunner::new(PtConfig::with_cases(48));
    runner
        .run(
            &(clients, actors, scopes),
            |((client, redirect), actor, scopes)| {
                let got_code = rt.block_on(async {
                    let mut p = authz_params(Some(actor));
                    set(&mut p, "client_id", Some(client));
                    set(&mut p, "redirect_uri", Some(redirect));
                    set(&mut p, "scope", Some(&scopes.join(" ")));
                    set(&mut p, "prompt", Some("none"));
                    let r = b
                        .get(format!("{base}/authorize"))
                        .query(&p)
                        .send()
                        .await
                        .unwrap();
                    location(&r).and_then(|u| query_param(&u, "code")).is_some()
                });
                let covered =
                    client == "obo-client" && actor == "agent-a" && scopes == ["files.read"];
                prop_assert_eq!(got_code, covered, "{} {} {:?}", client, actor, scopes);
                Ok(())
            },
        )
        .unwrap();
    rt.block_on(h.shutdown());
}
