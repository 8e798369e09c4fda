//! Unit tests of [`super`].

use super::*;

const ALGS: &[&str] = &["ES256"];

fn claims() -> Value {
    json!({ "iss": "https://as.example", "sub": "agent-a", "exp": 2_000_000_000 })
}

#[test]
fn sign_then_verify_round_trips() {
    let key = SigningKey::from_seed(7, "target");
    let token = key.sign(&json!({ "typ": "at+jwt" }), &claims());
    let jwt = verify(&token, &key.jwks(), ALGS).unwrap();
    assert_eq!(jwt.claims, claims());
    assert_eq!(jwt.header["typ"], "at+jwt");
    assert_eq!(jwt.kid(), Some(key.kid()));
    assert_eq!(jwt.claim("sub"), Some(&json!("agent-a")));
}

#[test]
fn from_seed_is_deterministic_and_label_separated() {
    let a1 = SigningKey::from_seed(1, "attacker");
    let a2 = SigningKey::from_seed(1, "attacker");
    let b = SigningKey::from_seed(1, "actor:a");
    let c = SigningKey::from_seed(2, "attacker");
    assert_eq!(a1.public_jwk(), a2.public_jwk());
    assert_ne!(a1.kid(), b.kid());
    assert_ne!(a1.kid(), c.kid());
    // RFC 6979: same key, same message, same signature.
    assert_eq!(
        a1.sign(&json!({}), &claims()),
        a2.sign(&json!({}), &claims())
    );
}

#[test]
fn kid_is_the_rfc7638_thumbprint() {
    // RFC 7638 §3.1 hashes {"crv","kty","x","y"} in that order for EC keys.
    let key = SigningKey::from_seed(3, "k");
    let jwk = key.public_jwk();
    let text = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap()
    );
    assert_eq!(key.kid(), b64url(Sha256::digest(text.as_bytes())));
}

#[test]
fn debug_does_not_print_key_material() {
    let key = SigningKey::from_seed(9, "secret");
    let shown = format!("{key:?}");
    let scalar = b64url(key.inner.to_bytes());
    assert!(shown.contains(key.kid()));
    assert!(!shown.contains(&scalar));
    assert!(!shown.to_lowercase().contains("scalar"));
}

#[test]
fn from_pem_reads_pkcs8_and_sec1() {
    use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
    let original = SigningKey::from_seed(5, "pem");
    let secret = p256::SecretKey::from(original.inner.as_nonzero_scalar());
    let pkcs8 = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
    let sec1 = secret.to_sec1_pem(LineEnding::LF).unwrap();
    assert_eq!(SigningKey::from_pem(&pkcs8).unwrap().kid(), original.kid());
    assert_eq!(SigningKey::from_pem(&sec1).unwrap().kid(), original.kid());
    assert!(matches!(
        SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
        Err(JoseError::BadKey(_))
    ));
}

#[test]
fn decode_rejects_malformed_tokens() {
    let key = SigningKey::from_seed(1, "t");
    let token = key.sign(&json!({}), &claims());
    let segments: Vec<&str> = token.split('.').collect();
    let bad = [
        String::new(),
        "a.b".to_string(),
        format!("{token}.x"),
        format!("{}.{}.{}=", segments[0], segments[1], segments[2]),
        format!("{}.{}.{}", b64url("[1]"), segments[1], segments[2]),
        format!("{}.{}.{}", segments[0], b64url("not json"), segments[2]),
        format!("{}=.{}.{}", segments[0], segments[1], segments[2]),
    ];
    for token in bad {
        assert!(
            matches!(decode_unverified(&token), Err(JoseError::Malformed(_))),
            "{token}"
        );
    }
}

#[test]
fn verify_refuses_none_hmac_and_disallowed_algs() {
    let key = SigningKey::from_seed(1, "t");
    let payload = encode_segment(&claims());
    let none = format!("{}.{payload}.", encode_segment(&json!({"alg": "none"})));
    assert_eq!(verify(&none, &key.jwks(), ALGS), Err(JoseError::AlgNone));
    let hs = format!(
        "{}.{payload}.AAAA",
        encode_segment(&json!({"alg": "HS256"}))
    );
    assert!(matches!(
        verify(&hs, &key.jwks(), &["HS256", "ES256"]),
        Err(JoseError::SymmetricAlg(_))
    ));
    let token = key.sign(&json!({}), &claims());
    assert!(matches!(
        verify(&token, &key.jwks(), &["RS256"]),
        Err(JoseError::AlgNotAllowed(..))
    ));
    let crit = key.sign(&json!({"crit": ["exp"]}), &claims());
    assert_eq!(
        verify(&crit, &key.jwks(), ALGS),
        Err(JoseError::CriticalHeader)
    );
}

#[test]
fn verify_uses_only_the_jwks_keys() {
    let target = SigningKey::from_seed(1, "target");
    let attacker = SigningKey::from_seed(1, "attacker");
    // Attacker key under its own kid, with its JWK embedded: unknown kid.
    let embedded = attacker.sign(&json!({"jwk": attacker.public_jwk()}), &claims());
    assert!(matches!(
        verify(&embedded, &target.jwks(), ALGS),
        Err(JoseError::UnknownKid(_))
    ));
    // Attacker key under the target's kid: bad signature.
    let same_kid = attacker.sign(&json!({"kid": target.kid()}), &claims());
    assert_eq!(
        verify(&same_kid, &target.jwks(), ALGS),
        Err(JoseError::BadSignature)
    );
    // No kid: every fitting key is tried, the right one wins.
    let mut header = Map::new();
    header.insert("typ".into(), "JWT".into());
    let no_kid = target.sign_with_header(&Value::Object(header), &claims());
    let both = json!({"keys": [attacker.public_jwk(), target.public_jwk()]});
    assert!(verify(&no_kid, &both, ALGS).is_ok());
    assert!(matches!(
        verify(&no_kid, &json!([]), ALGS),
        Err(JoseError::BadJwks)
    ));
}

#[test]
fn verify_checks_key_type_against_alg() {
    let target = SigningKey::from_seed(1, "target");
    let token = target.sign(&json!({}), &claims());
    let mut wrong_curve = target.public_jwk();
    wrong_curve["crv"] = json!("P-384");
    wrong_curve.as_object_mut().unwrap().remove("alg");
    assert!(matches!(
        verify(&token, &json!({"keys": [wrong_curve]}), &["ES256"]),
        Err(JoseError::NoKeyForAlg(_))
    ));
    let mut oct = json!({"kty": "oct", "k": "c2VjcmV0", "kid": target.kid()});
    assert!(matches!(
        verify(&token, &json!({"keys": [oct.take()]}), ALGS),
        Err(JoseError::NoKeyForAlg(_))
    ));
}

#[test]
fn key_type_rules_per_alg() {
    let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
    assert!(key_fits_alg(&rsa, "RS256") && key_fits_alg(&rsa, "PS256"));
    assert!(!key_fits_alg(&rsa, "ES256") && !key_fits_alg(&rsa, "EdDSA"));
    let p384 = json!({"kty": "EC", "crv": "P-384"});
    assert!(key_fits_alg(&p384, "ES384") && !key_fits_alg(&p384, "ES256"));
    let pinned = json!({"kty": "RSA", "alg": "PS256"});
    assert!(key_fits_alg(&pinned, "PS256") && !key_fits_alg(&pinned, "RS256"));
    let encryption = json!({"kty": "EC", "crv": "P-256", "use": "enc"});
    assert!(!key_fits_alg(&encryption, "ES256"));
    assert!(!key_fits_alg(&json!({"kty": "oct"}), "HS256"));
}

#[test]
fn verify_accepts_eddsa_from_a_jwks() {
    // An independent EdDSA signer: jsonwebtoken's encoder, with the RFC 8037 A.1 key pair.
    use jsonwebtoken::{encode, EncodingKey, Header};
    let d = b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").unwrap();
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&d);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("ed".into());
    let token = encode(&header, &claims(), &EncodingKey::from_ed_der(&der)).unwrap();
    let jwk = json!({
        "kty": "OKP", "crv": "Ed25519", "kid": "ed",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    });
    let jwks = json!({ "keys": [jwk] });
    assert!(verify(&token, &jwks, &["EdDSA"]).is_ok());
    assert!(matches!(
        verify(&token, &jwks, &["ES256"]),
        Err(JoseError::AlgNotAllowed(..))
    ));
}

#[test]
fn es256_verification_refuses_any_altered_byte_or_malformed_key() {
    let key = SigningKey::from_seed(7, "t");
    let token = key.sign(&json!({}), &claims());
    assert!(verify(&token, &key.jwks(), ALGS).is_ok());
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut raw = b64url_decode(sig).unwrap();
    for i in [0, 31, 32, 63] {
        raw[i] ^= 1;
        let altered = format!("{input}.{}", b64url(&raw));
        assert_eq!(
            verify(&altered, &key.jwks(), ALGS),
            Err(JoseError::BadSignature)
        );
        raw[i] ^= 1;
    }
    // r || s must be exactly 64 bytes (RFC 7518 §3.4): a DER signature does not verify.
    let short = format!("{input}.{}", b64url(&raw[..63]));
    assert_eq!(
        verify(&short, &key.jwks(), ALGS),
        Err(JoseError::BadSignature)
    );
    let mut jwk = key.public_jwk();
    jwk["x"] = json!(b64url([0u8; 31]));
    assert_eq!(
        verify(&token, &json!({"keys": [jwk]}), ALGS),
        Err(JoseError::BadSignature)
    );
}
