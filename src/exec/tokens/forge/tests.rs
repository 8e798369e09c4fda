//! Unit tests of [`super`].

use super::*;
use crate::jose::{b64url, verify};

const NOW: i64 = 1_800_000_000;

fn target() -> SigningKey {
    SigningKey::from_seed(11, "target")
}

fn attacker() -> SigningKey {
    SigningKey::from_seed(11, "attacker")
}

fn genuine() -> String {
    let claims = actor_assertion_claims(
        "https://as.example",
        "agent-a",
        "https://as.example/token",
        NOW,
        300,
        "jti-1",
    );
    target().sign(&json!({ "typ": "actor+jwt" }), &claims)
}

#[test]
fn names_round_trip() {
    for kind in Forgery::ALL {
        assert_eq!(kind.name().parse::<Forgery>(), Ok(kind));
    }
    for kind in DefectKind::ALL {
        let defect = kind.name().parse::<ClaimDefect>();
        assert_eq!(defect.map(|d| d.kind()), Ok(kind));
    }
    assert!("alg-none".parse::<Forgery>().is_err());
    assert_eq!(
        "chained:agent-b".parse::<ClaimDefect>(),
        Ok(ClaimDefect::Chained("agent-b".into()))
    );
    assert!("expird".parse::<ClaimDefect>().is_err());
}

#[test]
fn genuine_verifies_and_every_forgery_fails() {
    let jwks = target().jwks();
    assert!(verify(&genuine(), &jwks, &["ES256"]).is_ok());
    for kind in Forgery::ALL {
        let forged = forge(&genuine(), kind, &jwks, &attacker()).unwrap();
        assert_ne!(forged, genuine());
        assert!(verify(&forged, &jwks, &["ES256"]).is_err(), "{kind}");
    }
}

#[test]
fn tamper_payload_keeps_header_and_signature() {
    let token = genuine();
    let forged = forge(&token, Forgery::TamperPayload, &json!({}), &attacker()).unwrap();
    assert_eq!(signature_segment(&forged), signature_segment(&token));
    assert_eq!(forged.split('.').next(), token.split('.').next());
    let jwt = decode_unverified(&forged).unwrap();
    let genuine_claims = decode_unverified(&token).unwrap().claims;
    assert_eq!(jwt.claims["jti"], "jti-1-tampered");
    // Everything a validator checks is unchanged: only the signature can refuse it.
    for claim in ["iss", "sub", "aud", "exp", "nbf", "iat"] {
        assert_eq!(jwt.claims[claim], genuine_claims[claim], "{claim}");
    }
    let no_jti = target().sign(&json!({}), &json!({ "sub": "a", "iat": 10, "exp": 20 }));
    let forged = forge(&no_jti, Forgery::TamperPayload, &json!({}), &attacker()).unwrap();
    assert_eq!(decode_unverified(&forged).unwrap().claims["iat"], 9);
    let bare = target().sign(&json!({}), &json!({ "sub": "a" }));
    let forged = forge(&bare, Forgery::TamperPayload, &json!({}), &attacker()).unwrap();
    assert_eq!(decode_unverified(&forged).unwrap().claims["tampered"], true);
}

#[test]
fn tamper_payload_patches_claims_and_keeps_the_signature() {
    let token = genuine();
    let forged = tamper_payload(&token, &json!({ "sub": "agent-b", "jti": null })).unwrap();
    assert_eq!(signature_segment(&forged), signature_segment(&token));
    let claims = decode_unverified(&forged).unwrap().claims;
    assert_eq!(claims["sub"], "agent-b");
    assert!(claims.get("jti").is_none());
    assert!(verify(&forged, &target().jwks(), &["ES256"]).is_err());
    assert!(tamper_payload("x.y", &json!({})).is_err());
}

#[test]
fn resign_keeps_kid_and_unknown_kid_avoids_published_ones() {
    let jwks = target().jwks();
    let resigned = forge(&genuine(), Forgery::ResignAttacker, &jwks, &attacker()).unwrap();
    let jwt = decode_unverified(&resigned).unwrap();
    assert_eq!(jwt.kid(), Some(target().kid()));
    assert_eq!(jwt.header["typ"], "actor+jwt");
    // Signed by the attacker indeed: verifies against the attacker's key under that kid.
    let mut attacker_jwk = attacker().public_jwk();
    attacker_jwk["kid"] = json!(target().kid());
    assert!(verify(&resigned, &json!({ "keys": [attacker_jwk] }), &["ES256"]).is_ok());

    // Even if the target happened to publish the attacker's kid, the forgery avoids it.
    let both = json!({ "keys": [target().public_jwk(), attacker().public_jwk()] });
    let forged = forge(&genuine(), Forgery::UnknownKid, &both, &attacker()).unwrap();
    let kid = decode_unverified(&forged)
        .unwrap()
        .kid()
        .map(str::to_string);
    assert!(kid.is_some());
    assert_ne!(kid.as_deref(), Some(target().kid()));
    assert_ne!(kid.as_deref(), Some(attacker().kid()));
}

#[test]
fn alg_none_has_an_empty_signature() {
    let forged = forge(&genuine(), Forgery::AlgNone, &json!({}), &attacker()).unwrap();
    assert!(forged.ends_with('.'));
    let jwt = decode_unverified(&forged).unwrap();
    assert_eq!(jwt.alg(), Some("none"));
    assert!(jwt.signature.is_empty());
    assert_eq!(jwt.claims, decode_unverified(&genuine()).unwrap().claims);
}

#[test]
fn hs256_is_keyed_with_the_published_jwk() {
    let jwks = target().jwks();
    let forged = forge(&genuine(), Forgery::Hs256PublicKey, &jwks, &attacker()).unwrap();
    let jwt = decode_unverified(&forged).unwrap();
    assert_eq!(jwt.alg(), Some("HS256"));
    // A confused verifier that keys HMAC with the JWK text accepts it.
    let secret = canonical_json(&target().public_jwk());
    let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()).unwrap();
    let ok = jsonwebtoken::crypto::verify(
        &b64url(&jwt.signature),
        jwt.signing_input.as_bytes(),
        &key,
        Algorithm::HS256,
    );
    assert_eq!(ok.ok(), Some(true));
    assert_eq!(
        forge(
            &genuine(),
            Forgery::Hs256PublicKey,
            &json!({"keys": []}),
            &attacker()
        ),
        Err(ForgeError::NoTargetKey("hs256_public_key".into()))
    );
}

#[test]
fn embedded_jwk_carries_the_attacker_key() {
    let forged = forge(
        &genuine(),
        Forgery::EmbeddedJwk,
        &target().jwks(),
        &attacker(),
    )
    .unwrap();
    let jwt = decode_unverified(&forged).unwrap();
    assert_eq!(jwt.header["jwk"], attacker().public_jwk());
    // Self-consistent: the embedded key does verify it (what a vulnerable AS would do).
    let embedded = json!({ "keys": [{
        "kty": "EC", "crv": "P-256",
        "x": jwt.header["jwk"]["x"], "y": jwt.header["jwk"]["y"],
        "kid": jwt.kid(),
    }]});
    assert!(verify(&forged, &embedded, &["ES256"]).is_ok());
}

#[test]
fn forge_rejects_non_jws_input() {
    for bad in ["", "garbage", "a.b.c", "a.b.c.d.e"] {
        assert!(matches!(
            forge(bad, Forgery::AlgNone, &json!({}), &attacker()),
            Err(ForgeError::NotAJws(_))
        ));
    }
}

#[test]
fn defects_change_exactly_their_claim() {
    let base = actor_assertion_claims("https://as", "agent-a", "https://as/token", NOW, 300, "j");
    let apply = |d: ClaimDefect| {
        let mut c = base.clone();
        apply_defect(&mut c, &d, NOW);
        c
    };
    let expired = apply(ClaimDefect::Expired);
    assert_eq!(expired["exp"], NOW - 600);
    assert_eq!(expired["iat"], NOW - 900);
    assert_eq!(expired["nbf"], NOW - 900);
    let early = apply(ClaimDefect::NotYetValid);
    assert_eq!(early["nbf"], NOW + 600);
    assert!(early["exp"].as_i64().unwrap() > NOW + 600);
    let future = apply(ClaimDefect::IatFuture);
    assert_eq!(future["iat"], NOW + 600);
    assert!(future.get("nbf").is_none());
    assert!(future["exp"].as_i64().unwrap() > NOW + 600);
    assert_eq!(apply(ClaimDefect::WrongIssuer)["iss"], ATTACKER_ISSUER);
    assert_eq!(apply(ClaimDefect::WrongAudience)["aud"], OTHER_AUDIENCE);
    assert!(apply(ClaimDefect::NoSub).get("sub").is_none());
    assert_eq!(apply(ClaimDefect::EmptySub)["sub"], "");
    assert_eq!(
        apply(ClaimDefect::OtherActorSub("agent-b".into()))["sub"],
        "agent-b"
    );
    assert_eq!(
        apply(ClaimDefect::OtherActorSub(String::new()))["sub"],
        "agent-a-other"
    );
    let chained = apply(
        "chained"
            .parse::<ClaimDefect>()
            .unwrap()
            .with_subject("agent-b"),
    );
    assert_eq!(chained["act"], json!({ "sub": "agent-b" }));
    assert_eq!(chained["sub"], "agent-a");
    let mut not_object = json!([1]);
    apply_defect(&mut not_object, &ClaimDefect::WrongIssuer, NOW);
    assert_eq!(not_object, json!({ "iss": ATTACKER_ISSUER }));
}

#[test]
fn assertion_claims_have_the_expected_shape() {
    let c = actor_assertion_claims("i", "s", "a", 100, 60, "j");
    assert_eq!(
        c,
        json!({"iss": "i", "sub": "s", "aud": "a", "iat": 100, "nbf": 100, "exp": 160, "jti": "j"})
    );
}
