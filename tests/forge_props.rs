//! Properties of the harness's JOSE and forgeries (ADV-4, ADV-5): for any claims, the genuine
//! token verifies against the target's JWKS and every forgery of it does not; decoding never
//! panics on arbitrary input.

use obo_conformance::forge::{apply_defect, forge, ClaimDefect, DefectKind, Forgery};
use obo_conformance::jose::{decode_unverified, verify, SigningKey};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const ALGS: &[&str] = &["ES256"];

/// Claim values: strings, integers, booleans, small arrays and nested objects.
fn claim_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<String>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Claims objects, with or without `sub`, `jti` and `iat` (tamper_payload picks its claim by
/// which of them are present).
fn claims() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map("[a-z_]{1,8}", claim_value(), 0..6),
        prop::option::of(any::<String>()),
        prop::option::of(any::<String>()),
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(extra, sub, jti, iat)| {
            let mut map: Map<String, Value> = extra.into_iter().collect();
            let optional = [
                ("sub", sub.map(Value::from)),
                ("jti", jti.map(Value::from)),
                ("iat", iat.map(Value::from)),
            ];
            for (name, value) in optional {
                if let Some(value) = value {
                    map.insert(name.into(), value);
                }
            }
            Value::Object(map)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_forgery_is_rejected_while_the_genuine_token_verifies(
        claims in claims(),
        seed in any::<u64>(),
        typ in prop::option::of("[a-z+]{1,10}"),
    ) {
        let target = SigningKey::from_seed(seed, "target");
        let attacker = SigningKey::from_seed(seed, "attacker");
        let jwks = target.jwks();
        let header = typ.map_or_else(|| json!({}), |typ| json!({ "typ": typ }));
        let genuine = target.sign(&header, &claims);

        let verified = verify(&genuine, &jwks, ALGS);
        prop_assert!(verified.is_ok(), "genuine token refused: {:?}", verified.err());
        prop_assert_eq!(verified.map(|jwt| jwt.claims).ok(), Some(claims.clone()));

        for kind in Forgery::ALL {
            let forged = forge(&genuine, kind, &jwks, &attacker);
            prop_assert!(forged.is_ok(), "{} could not be built: {:?}", kind, forged.err());
            let forged = forged.unwrap_or_default();
            prop_assert!(decode_unverified(&forged).is_ok(), "{} is not a JWS", kind);
            prop_assert!(verify(&forged, &jwks, ALGS).is_err(), "{} verified", kind);
            // Even a lenient allow-list must not rescue a forgery.
            prop_assert!(
                verify(&forged, &jwks, &["ES256", "HS256", "none", "RS256"]).is_err(),
                "{} verified under a lenient alg list", kind
            );
        }
    }

    #[test]
    fn defective_tokens_signed_by_the_target_still_verify(
        claims in claims(),
        now in 1_000_000_000i64..3_000_000_000,
        which in 0usize..DefectKind::ALL.len(),
    ) {
        // A defect is about claims, not signatures: the signature check alone must pass, so the
        // case verdict depends on the target checking the claim (ADV-3, ADV-6..ADV-9).
        let target = SigningKey::from_seed(1, "target");
        let defect: ClaimDefect = ClaimDefect::new(DefectKind::ALL[which], "");
        let mut defective = claims;
        apply_defect(&mut defective, &defect, now);
        let token = target.sign(&json!({}), &defective);
        prop_assert!(verify(&token, &target.jwks(), ALGS).is_ok());
    }

    #[test]
    fn decode_unverified_never_panics(text in any::<String>()) {
        let _ = decode_unverified(&text);
    }

    #[test]
    fn decode_unverified_never_panics_on_near_jws(
        parts in prop::collection::vec("[A-Za-z0-9_=+/-]{0,40}", 0..5),
    ) {
        let token = parts.join(".");
        if let Ok(jwt) = decode_unverified(&token) {
            prop_assert!(jwt.header.is_object() && jwt.claims.is_object());
            prop_assert_eq!(token.matches('.').count(), 2);
        }
    }

    #[test]
    fn verify_never_panics_on_arbitrary_tokens_and_jwks(
        text in any::<String>(),
        jwks in claim_value(),
    ) {
        let _ = verify(&text, &jwks, ALGS);
    }
}

/// Interop with an independent implementation: the reference server's signer and verifier
/// (jsonwebtoken-based, written separately). Its tokens verify here; harness-signed tokens verify
/// there; and no forgery of its tokens passes its own signature check.
#[test]
fn interoperates_with_the_reference_server_keys() {
    use obo_reference_server::keys::{key_from_jwk, verify_with, Jws, Keys};

    let server = Keys::generate().expect("reference server key");
    let claims = json!({ "iss": "http://127.0.0.1", "sub": "alice", "act": { "sub": "agent-a" } });
    let token = server
        .sign_typed("at+jwt", &claims)
        .expect("reference server signs");
    let jwt = verify(&token, &server.jwks(), ALGS).expect("reference token verifies here");
    assert_eq!(jwt.claims, claims);

    let harness = SigningKey::from_seed(3, "actor:a");
    let own = harness.sign(&json!({ "typ": "actor+jwt" }), &claims);
    let harness_key = key_from_jwk(&harness.public_jwk()).expect("harness JWK is a P-256 key");
    let parsed = Jws::parse(&own).expect("harness token parses there");
    assert!(verify_with(&parsed, &harness_key));

    let attacker = SigningKey::from_seed(3, "attacker");
    for kind in Forgery::ALL {
        let forged = forge(&token, kind, &server.jwks(), &attacker).expect("forgery builds");
        let accepted = Jws::parse(&forged).map(|jws| server.verify(&jws));
        assert_ne!(
            accepted,
            Ok(true),
            "{kind} passed the reference server's check"
        );
    }
}
