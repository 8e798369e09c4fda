//! Forged actor tokens and access tokens (cases/README.md, "Actor tokens", `forge` table;
//! digest ADV-3..ADV-9). Pure functions: they take a genuine token and return the forgery.
//!
//! API:
//! - [`Forgery`] `{ TamperPayload, ResignAttacker, UnknownKid, AlgNone, Hs256PublicKey, EmbeddedJwk }`,
//!   `FromStr` / [`Forgery::name`] with the case-language names, [`Forgery::ALL`].
//! - [`forge`]`(token, kind, target_jwks, attacker) -> Result<String, ForgeError>`: signature
//!   forgeries. The result never verifies against `target_jwks` (tests/forge_props.rs).
//!   `tamper_payload` changes a claim that keeps the token otherwise valid (`jti`, else `iat`...),
//!   so that only the signature check can refuse it.
//! - [`tamper_payload`]`(token, patch)`: claims patched (`null` removes), signature kept; e.g.
//!   actor B's token with `{"sub": actor A}`.
//! - [`ClaimDefect`] `{ Expired, NotYetValid, WrongIssuer, WrongAudience, NoSub, EmptySub,
//!   OtherActorSub(String), Chained(String) }` with `FromStr` (`"other_actor_sub"` and `"chained"`
//!   parse with an empty subject: fill it with [`ClaimDefect::with_subject`]; `"chained:agent-b"`
//!   also parses), [`ClaimDefect::name`], [`ClaimDefect::NAMES`], and
//!   [`apply_defect`]`(claims, defect, now)`: the one defect, to be signed by a legitimate key.
//! - [`actor_assertion_claims`]`(iss, sub, aud, now, lifetime, jti)`: claims of a `jwt`-source
//!   actor token.
//! - [`is_forgery_name`] / [`is_defect_name`] for case validation.

use std::str::FromStr;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Map, Value};

use crate::jose::{self, canonical_json, decode_unverified, JoseError, SigningKey};

/// Why a forgery could not be built (the base token is not a JWS, the JWKS is empty...).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ForgeError {
    #[error("the token to forge from is not a compact JWS: {0}")]
    NotAJws(#[from] JoseError),
    #[error("the target's JWKS has no key to use for `{0}`")]
    NoTargetKey(String),
    #[error("unknown forgery `{0}` (known: {1})")]
    UnknownForgery(String, String),
    #[error("unknown claim defect `{0}` (known: {1})")]
    UnknownDefect(String, String),
    #[error("HMAC signing failed")]
    Hmac,
}

/// A signature forgery: the claims stay the genuine ones (except for `TamperPayload`), only the
/// proof of origin is broken. Each must be refused by a conforming AS/RS (ADV-4, ADV-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Forgery {
    /// One claim changed so the token stays otherwise valid (`jti`, else `iat`/`exp` one second
    /// earlier, else an added `tampered` claim), original header and signature bytes kept.
    TamperPayload,
    /// Same header (same `kid`) and claims, signed by the attacker's ES256 key.
    ResignAttacker,
    /// Signed by the attacker under a `kid` the target never published.
    UnknownKid,
    /// Header `alg: none`, empty signature segment (RFC 8725 §3.1).
    AlgNone,
    /// HS256 keyed with the target's public JWK (algorithm confusion, RFC 8725 §3.2).
    Hs256PublicKey,
    /// Signed by the attacker, whose public JWK rides in the `jwk` header (RFC 8725 §3.10).
    EmbeddedJwk,
}

impl Forgery {
    pub const ALL: [Forgery; 6] = [
        Forgery::TamperPayload,
        Forgery::ResignAttacker,
        Forgery::UnknownKid,
        Forgery::AlgNone,
        Forgery::Hs256PublicKey,
        Forgery::EmbeddedJwk,
    ];

    /// The case-language name (`forge = "..."`).
    pub fn name(self) -> &'static str {
        match self {
            Forgery::TamperPayload => "tamper_payload",
            Forgery::ResignAttacker => "resign_attacker",
            Forgery::UnknownKid => "unknown_kid",
            Forgery::AlgNone => "alg_none",
            Forgery::Hs256PublicKey => "hs256_public_key",
            Forgery::EmbeddedJwk => "embedded_jwk",
        }
    }
}

impl std::fmt::Display for Forgery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Forgery {
    type Err = ForgeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Forgery::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Forgery::ALL.iter().map(|f| f.name()).collect();
                ForgeError::UnknownForgery(s.to_string(), known.join(", "))
            })
    }
}

/// Whether `name` is a signature forgery of the case language.
pub fn is_forgery_name(name: &str) -> bool {
    Forgery::from_str(name).is_ok()
}

/// Builds the forgery `kind` of the genuine compact JWS `token`.
pub fn forge(
    token: &str,
    kind: Forgery,
    target_jwks: &Value,
    attacker: &SigningKey,
) -> Result<String, ForgeError> {
    let jwt = decode_unverified(token)?;
    let segments: Vec<&str> = token.trim().split('.').collect();
    let (header_segment, payload_segment, signature_segment) = match segments.as_slice() {
        [h, p, s] => (*h, *p, *s),
        _ => return Err(JoseError::Malformed("expected three segments".into()).into()),
    };
    let header = object_of(&jwt.header);
    match kind {
        Forgery::TamperPayload => {
            let mut claims = jwt.claims.clone();
            tamper(&mut claims);
            // The header segment and the signature stay byte-identical: only the payload moved.
            Ok(format!(
                "{header_segment}.{}.{signature_segment}",
                jose::encode_segment(&claims)
            ))
        }
        Forgery::ResignAttacker => {
            Ok(attacker.sign_with_header(&Value::Object(header), &jwt.claims))
        }
        Forgery::UnknownKid => {
            let mut header = header;
            header.insert(
                "kid".into(),
                Value::from(unpublished_kid(attacker, target_jwks)),
            );
            Ok(attacker.sign_with_header(&Value::Object(header), &jwt.claims))
        }
        Forgery::AlgNone => {
            let mut header = header;
            header.insert("alg".into(), Value::from("none"));
            Ok(format!(
                "{}.{payload_segment}.",
                jose::encode_segment(&Value::Object(header))
            ))
        }
        Forgery::Hs256PublicKey => {
            let secret = hs256_confusion_secret(target_jwks, jwt.kid())
                .ok_or_else(|| ForgeError::NoTargetKey(kind.name().into()))?;
            let mut header = header;
            header.insert("alg".into(), Value::from("HS256"));
            let signing_input = format!(
                "{}.{payload_segment}",
                jose::encode_segment(&Value::Object(header))
            );
            let signature = jsonwebtoken::crypto::sign(
                signing_input.as_bytes(),
                &EncodingKey::from_secret(secret.as_bytes()),
                Algorithm::HS256,
            )
            .map_err(|_| ForgeError::Hmac)?;
            Ok(format!("{signing_input}.{signature}"))
        }
        Forgery::EmbeddedJwk => {
            let mut header = header;
            header.insert("jwk".into(), attacker.public_jwk());
            Ok(attacker.sign_with_header(&Value::Object(header), &jwt.claims))
        }
    }
}

fn object_of(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Changes one claim so that the token stays otherwise valid: a server that skips the signature
/// check would accept it, so only that check can refuse it (ADV-4). `jti` gets a suffix; else
/// `iat` or `exp` moves one second earlier; else a `tampered` claim is added. (Changing `sub`
/// would be refused by the actor binding check alone and prove nothing about the signature;
/// [`tamper_payload`] makes such targeted edits.)
fn tamper(claims: &mut Value) {
    if !claims.is_object() {
        *claims = json!({});
    }
    let Value::Object(map) = claims else {
        return;
    };
    let earlier = |name: &str| {
        map.get(name)
            .and_then(Value::as_i64)
            .and_then(|t| t.checked_sub(1))
    };
    if let Some(jti) = map.get("jti").and_then(Value::as_str) {
        let changed = format!("{jti}-tampered");
        map.insert("jti".into(), Value::from(changed));
    } else if let Some(iat) = earlier("iat") {
        map.insert("iat".into(), Value::from(iat));
    } else if let Some(exp) = earlier("exp") {
        map.insert("exp".into(), Value::from(exp));
    } else {
        // Whatever `tampered` held before, it now holds something else.
        let flag = map.get("tampered") != Some(&Value::Bool(true));
        map.insert("tampered".into(), Value::from(flag));
    }
}

/// The genuine token with `patch`'s members set in its claims (a `null` member removes the
/// claim), header and signature segments kept byte for byte: e.g. actor B's token re-labelled
/// `{"sub": "<actor A>"}`, an impersonation only the signature check can stop.
pub fn tamper_payload(token: &str, patch: &Value) -> Result<String, ForgeError> {
    let jwt = decode_unverified(token)?;
    let mut claims = object_of(&jwt.claims);
    if let Value::Object(patch) = patch {
        for (name, value) in patch {
            if value.is_null() {
                claims.remove(name);
            } else {
                claims.insert(name.clone(), value.clone());
            }
        }
    }
    let mut segments = token.trim().split('.');
    let (Some(header), Some(_), Some(signature)) =
        (segments.next(), segments.next(), segments.next())
    else {
        return Err(JoseError::Malformed("expected three segments".into()).into());
    };
    Ok(format!(
        "{header}.{}.{signature}",
        jose::encode_segment(&Value::Object(claims))
    ))
}

/// The attacker's kid, suffixed until no key of the target's JWKS carries it.
fn unpublished_kid(attacker: &SigningKey, target_jwks: &Value) -> String {
    let keys = jwks_keys(target_jwks);
    let published: Vec<&str> = keys
        .iter()
        .filter_map(|k| k.get("kid").and_then(Value::as_str))
        .collect();
    let mut kid = attacker.kid().to_string();
    while published.contains(&kid.as_str()) {
        kid.push_str("-x");
    }
    kid
}

fn jwks_keys(jwks: &Value) -> Vec<Value> {
    match jwks.get("keys").and_then(Value::as_array) {
        Some(keys) => keys.clone(),
        None if jwks.get("kty").is_some() => vec![jwks.clone()],
        None => Vec::new(),
    }
}

/// The HMAC secret of the algorithm-confusion forgery: the canonical JSON (members sorted, no
/// whitespace; see [`canonical_json`]) of the target's public JWK, exactly as published, with
/// every member it has. The key is the one whose `kid` the token names, else the first key: the
/// key a confused verifier would pick. A JWK text is what a library that "uses the verification
/// key as the HMAC secret" sees when keys come from a JWKS (PEM-keyed variants are out of scope).
pub fn hs256_confusion_secret(target_jwks: &Value, kid: Option<&str>) -> Option<String> {
    let keys = jwks_keys(target_jwks);
    let by_kid = kid.and_then(|kid| {
        keys.iter()
            .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
    });
    by_kid.or_else(|| keys.first()).map(canonical_json)
}

/// One defect of an otherwise valid, validly signed token (ADV-3, ADV-6..ADV-9, actor chains).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimDefect {
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    NoSub,
    EmptySub,
    /// `sub` set to another actor's identifier.
    OtherActorSub(String),
    /// An `act` claim naming this upstream actor: the actor token itself claims a delegation chain.
    Chained(String),
}

/// Issuer and audience used by the `wrong_issuer` / `wrong_audience` defects.
pub const ATTACKER_ISSUER: &str = "https://attacker.example";
pub const OTHER_AUDIENCE: &str = "https://other-as.example";
/// Used when `chained` is given without a subject.
pub const DEFAULT_UPSTREAM_ACTOR: &str = "upstream-agent";

impl ClaimDefect {
    pub const NAMES: [&'static str; 8] = [
        "expired",
        "not_yet_valid",
        "wrong_issuer",
        "wrong_audience",
        "no_sub",
        "empty_sub",
        "other_actor_sub",
        "chained",
    ];

    /// The case-language name.
    pub fn name(&self) -> &'static str {
        match self {
            ClaimDefect::Expired => "expired",
            ClaimDefect::NotYetValid => "not_yet_valid",
            ClaimDefect::WrongIssuer => "wrong_issuer",
            ClaimDefect::WrongAudience => "wrong_audience",
            ClaimDefect::NoSub => "no_sub",
            ClaimDefect::EmptySub => "empty_sub",
            ClaimDefect::OtherActorSub(_) => "other_actor_sub",
            ClaimDefect::Chained(_) => "chained",
        }
    }

    /// Whether the defect carries a subject the harness should fill from the profile.
    pub fn needs_subject(&self) -> bool {
        matches!(
            self,
            ClaimDefect::OtherActorSub(_) | ClaimDefect::Chained(_)
        )
    }

    /// Sets the subject of `other_actor_sub` / `chained`; other defects are returned unchanged.
    pub fn with_subject(self, subject: impl Into<String>) -> ClaimDefect {
        match self {
            ClaimDefect::OtherActorSub(_) => ClaimDefect::OtherActorSub(subject.into()),
            ClaimDefect::Chained(_) => ClaimDefect::Chained(subject.into()),
            other => other,
        }
    }
}

impl std::fmt::Display for ClaimDefect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ClaimDefect {
    type Err = ForgeError;

    /// `"name"` or `"name:subject"` (the subject only matters for `other_actor_sub` and `chained`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, subject) = match s.split_once(':') {
            Some((name, subject)) => (name, subject.to_string()),
            None => (s, String::new()),
        };
        let defect = match name {
            "expired" => ClaimDefect::Expired,
            "not_yet_valid" => ClaimDefect::NotYetValid,
            "wrong_issuer" => ClaimDefect::WrongIssuer,
            "wrong_audience" => ClaimDefect::WrongAudience,
            "no_sub" => ClaimDefect::NoSub,
            "empty_sub" => ClaimDefect::EmptySub,
            "other_actor_sub" => ClaimDefect::OtherActorSub(subject),
            "chained" => ClaimDefect::Chained(subject),
            _ => {
                return Err(ForgeError::UnknownDefect(
                    s.to_string(),
                    ClaimDefect::NAMES.join(", "),
                ))
            }
        };
        Ok(defect)
    }
}

/// Whether `name` is a claim defect of the case language.
pub fn is_defect_name(name: &str) -> bool {
    ClaimDefect::from_str(name).is_ok()
}

/// Applies one defect to `claims` (an object; anything else is replaced by `{}` first). `now` is
/// the target's clock in Unix seconds. Times are 10 minutes off: beyond any sane clock skew.
pub fn apply_defect(claims: &mut Value, defect: &ClaimDefect, now: i64) {
    if !claims.is_object() {
        *claims = json!({});
    }
    let Value::Object(map) = claims else {
        return;
    };
    match defect {
        // ADV-3: exp in the past; iat and nbf moved back too so only expiry is wrong.
        ClaimDefect::Expired => {
            map.insert("exp".into(), Value::from(now - 600));
            map.insert("iat".into(), Value::from(now - 900));
            if map.contains_key("nbf") {
                map.insert("nbf".into(), Value::from(now - 900));
            }
        }
        // ADV-8: nbf in the future; exp kept after nbf so only nbf is wrong.
        ClaimDefect::NotYetValid => {
            map.insert("nbf".into(), Value::from(now + 600));
            let exp_too_early = map
                .get("exp")
                .and_then(Value::as_i64)
                .is_none_or(|exp| exp <= now + 600);
            if exp_too_early {
                map.insert("exp".into(), Value::from(now + 1200));
            }
        }
        // ADV-6: an issuer the target does not trust (signature still valid).
        ClaimDefect::WrongIssuer => {
            map.insert("iss".into(), Value::from(ATTACKER_ISSUER));
        }
        // ADV-7: an audience other than the target AS.
        ClaimDefect::WrongAudience => {
            map.insert("aud".into(), Value::from(OTHER_AUDIENCE));
        }
        // ADV-9: no subject, or an empty one.
        ClaimDefect::NoSub => {
            map.remove("sub");
        }
        ClaimDefect::EmptySub => {
            map.insert("sub".into(), Value::from(""));
        }
        // ADV-1 with a self-made token: sub names another actor. Without a subject, a derived
        // one that differs from the current sub keeps the defect meaningful.
        ClaimDefect::OtherActorSub(other) => {
            let other = if other.is_empty() {
                let current = map.get("sub").and_then(Value::as_str).unwrap_or("actor");
                format!("{current}-other")
            } else {
                other.clone()
            };
            map.insert("sub".into(), Value::from(other));
        }
        ClaimDefect::Chained(upstream) => {
            let upstream = if upstream.is_empty() {
                DEFAULT_UPSTREAM_ACTOR
            } else {
                upstream
            };
            map.insert("act".into(), json!({ "sub": upstream }));
        }
    }
}

/// Claims of an actor token that the harness signs itself (the profile's `jwt` source):
/// `iss`, `sub` (the actor), `aud` (the target AS), `iat`, `nbf`, `exp` = now + lifetime, `jti`.
pub fn actor_assertion_claims(
    iss: &str,
    sub: &str,
    aud: &str,
    now: i64,
    lifetime: i64,
    jti: &str,
) -> Value {
    json!({
        "iss": iss,
        "sub": sub,
        "aud": aud,
        "iat": now,
        "nbf": now,
        "exp": now.saturating_add(lifetime),
        "jti": jti,
    })
}

/// The signature segment of a token, for tests and evidence that it was or was not kept.
pub fn signature_segment(token: &str) -> Option<&str> {
    let mut parts = token.trim().split('.');
    let (_, _, signature, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next())
    else {
        return None;
    };
    Some(signature)
}

#[cfg(test)]
mod tests {
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
        for name in ClaimDefect::NAMES {
            assert_eq!(name.parse::<ClaimDefect>().map(|d| d.name()), Ok(name));
        }
        assert!(matches!(
            "alg-none".parse::<Forgery>(),
            Err(ForgeError::UnknownForgery(..))
        ));
        assert_eq!(
            "chained:agent-b".parse::<ClaimDefect>(),
            Ok(ClaimDefect::Chained("agent-b".into()))
        );
        assert!(!is_defect_name("expird"));
        assert!(is_forgery_name("embedded_jwk"));
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
        let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
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
        let base =
            actor_assertion_claims("https://as", "agent-a", "https://as/token", NOW, 300, "j");
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
}
