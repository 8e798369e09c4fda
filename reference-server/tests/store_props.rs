//! Properties of the bounded store, with small caps so that arbitrary request sequences reach
//! them: no table ever holds more than its cap, a signed-in session survives any number of
//! anonymous ones, and a code is redeemed at most once, sequentially or in parallel (OBO-SEC-3).

use std::sync::Arc;

use obo_reference_server::clock::Clock;
use obo_reference_server::config::Ttl;
use obo_reference_server::store::{
    AuthzRequest, Caps, CodeRecord, Prompt, RefreshRecord, Store, Taken, Transaction,
};
use proptest::prelude::*;

const CAPS: Caps = Caps {
    live_codes: 8,
    used_codes: 16,
    refresh_tokens: 8,
    revoked: 8,
    transactions: 6,
    anonymous_sessions: 5,
    user_sessions: 4,
};

#[derive(Clone, Debug)]
enum Op {
    NewSession,
    Login(usize),
    UseSession(usize),
    Transaction,
    FinishTransaction(usize),
    Code,
    Take(usize),
    Issue(usize),
    Refresh,
    Revoke,
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::NewSession),
        1 => (0usize..64).prop_map(Op::Login),
        1 => (0usize..64).prop_map(Op::UseSession),
        2 => Just(Op::Transaction),
        1 => (0usize..64).prop_map(Op::FinishTransaction),
        3 => Just(Op::Code),
        2 => (0usize..64).prop_map(Op::Take),
        1 => (0usize..64).prop_map(Op::Issue),
        1 => Just(Op::Refresh),
        1 => Just(Op::Revoke),
        1 => (-120i64..4000).prop_map(Op::Advance),
    ]
}

fn request() -> AuthzRequest {
    AuthzRequest {
        client_id: "obo-client".into(),
        redirect_uri: "https://client.example/cb".into(),
        redirect_uri_sent: true,
        scope: vec!["files.read".into()],
        state: Some("s".into()),
        actor: Some("agent-a".into()),
        pkce: None,
        audience: "aud".into(),
        prompt: Prompt::default(),
    }
}

fn code_record(expires_at: i64) -> CodeRecord {
    CodeRecord {
        request: request(),
        username: "alice".into(),
        subject: "user-alice".into(),
        expires_at,
        used: false,
        issued_jtis: Vec::new(),
        issued_refresh: Vec::new(),
        replayed: false,
    }
}

fn within_caps(store: &Store) -> Result<(), TestCaseError> {
    let c = store.counts();
    prop_assert!(c.live_codes <= CAPS.live_codes, "{c:?}");
    prop_assert!(c.used_codes <= CAPS.used_codes, "{c:?}");
    prop_assert!(c.refresh_tokens <= CAPS.refresh_tokens, "{c:?}");
    prop_assert!(c.revoked <= CAPS.revoked, "{c:?}");
    prop_assert!(c.transactions <= CAPS.transactions, "{c:?}");
    prop_assert!(c.anonymous_sessions <= CAPS.anonymous_sessions, "{c:?}");
    prop_assert!(c.user_sessions <= CAPS.user_sessions, "{c:?}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_sequences_never_exceed_the_caps_and_redeem_once(
        ops in prop::collection::vec(op(), 1..300)
    ) {
        let clock = Clock::default();
        let store = Store::with_caps(clock.clone(), &Ttl::default(), CAPS);
        let (mut sessions, mut txs, mut codes) = (Vec::new(), Vec::new(), Vec::new());
        let mut redeemed = std::collections::HashSet::new();
        let mut serial = 0u64;
        let mut next = || {
            serial += 1;
            format!("v{serial}")
        };
        for op in ops {
            match op {
                Op::NewSession => sessions.push(store.new_session()),
                Op::Login(i) if !sessions.is_empty() => {
                    let old = sessions[i % sessions.len()].clone();
                    sessions.push(store.login(&old, "tx", "alice"));
                }
                Op::UseSession(i) if !sessions.is_empty() => {
                    store.session_user(&sessions[i % sessions.len()]);
                }
                Op::Transaction => {
                    let id = next();
                    store.insert_transaction(id.clone(), Transaction {
                        request: request(),
                        session: "s".into(),
                        csrf: "c".into(),
                        expires_at: clock.now() + 600,
                    });
                    txs.push(id);
                }
                Op::FinishTransaction(i) if !txs.is_empty() => {
                    store.remove_transaction(&txs[i % txs.len()]);
                }
                Op::Code => {
                    let c = next();
                    store.insert_code(c.clone(), code_record(clock.now() + 60), clock.now());
                    codes.push(c);
                }
                Op::Take(i) if !codes.is_empty() => {
                    let c = &codes[i % codes.len()];
                    if let Taken::Fresh(_) = store.take_code(c) {
                        // OBO-SEC-3: never twice.
                        prop_assert!(redeemed.insert(c.clone()), "{c} redeemed twice");
                    }
                }
                Op::Issue(i) if !codes.is_empty() => {
                    let jti = next();
                    store.record_issued(&codes[i % codes.len()], &jti, None);
                }
                Op::Refresh => store.insert_refresh(next(), RefreshRecord {
                    client_id: "obo-client".into(),
                    username: "alice".into(),
                    subject: "user-alice".into(),
                    actor: None,
                    scope: vec!["files.read".into()],
                    audience: "aud".into(),
                    expires_at: clock.now() + 3600,
                    active: true,
                    rotate: false,
                }),
                Op::Revoke => store.revoke_jti(&next()),
                Op::Advance(s) => {
                    let _ = clock.advance(s);
                }
                _ => {}
            }
            within_caps(&store)?;
        }
    }

    #[test]
    fn a_signed_in_session_survives_any_anonymous_flood(n in 0usize..200) {
        let store = Store::with_caps(Clock::default(), &Ttl::default(), CAPS);
        let anon = store.new_session();
        let alice = store.login(&anon, "tx", "alice");
        for _ in 0..n {
            store.new_session();
        }
        let user = store.session_user(&alice);
        prop_assert_eq!(user.as_deref(), Some("alice"));
        within_caps(&store)?;
    }

    #[test]
    fn parallel_redemptions_of_one_code_yield_one_record(threads in 2usize..8) {
        let store = Arc::new(Store::with_caps(Clock::default(), &Ttl::default(), CAPS));
        let now = Clock::default().now();
        store.insert_code("k".into(), code_record(now + 60), now);
        let fresh: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let store = store.clone();
                    s.spawn(move || matches!(store.take_code("k"), Taken::Fresh(_)) as usize)
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        prop_assert_eq!(fresh, 1);
    }
}
