//! Forged actor tokens and access tokens (cases/README.md, "Actor tokens", `forge` table;
//! digest ADV-3..ADV-9). Pure functions: they take a genuine token and return the forgery.
//!
//! API:
//! - [`Forgery`] `{ TamperPayload, ResignAttacker, UnknownKid, AlgNone, Hs256PublicKey, EmbeddedJwk }`,
//!   the case-language vocabulary of [`crate::case::forgery`], re-exported here.
//! - [`forge`]`(token, kind, target_jwks, attacker) -> Result<String, ForgeError>`: signature
//!   forgeries. The result never verifies against `target_jwks` (tests/forge_props.rs).
//!   `tamper_payload` changes a claim that keeps the token otherwise valid (`jti`, else `iat`...),
//!   so that only the signature check can refuse it.
//! - [`tamper_payload`]`(token, patch)`: claims patched (`null` removes), signature kept; e.g.
//!   actor B's token with `{"sub": actor A}`.
//! - [`ClaimDefect`] `{ Expired, NotYetValid, WrongIssuer, WrongAudience, NoSub, EmptySub,
//!   OtherActorSub(String), Chained(String), SubCaseVariant, SubTrailingSpace }` with `FromStr` (`"other_actor_sub"` and `"chained"`
//!   parse with an empty subject: fill it with [`ClaimDefect::with_subject`]; `"chained:agent-b"`
//!   also parses), [`ClaimDefect::new`]`(DefectKind, subject)`, [`ClaimDefect::kind`], and
//!   [`apply_defect`]`(claims, defect, now)`: the one defect, to be signed by a legitimate key.
//! - [`actor_assertion_claims`]`(iss, sub, aud, now, lifetime, jti)`: claims of a `jwt`-source
//!   actor token.

use std::str::FromStr;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Map, Value};

pub use crate::case::forgery::{DefectKind, Forgery, UnknownName};
use crate::jose::{self, canonical_json, decode_unverified, JoseError, SigningKey};

/// Why a forgery could not be built (the base token is not a JWS, the JWKS is empty...).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ForgeError {
    #[error("the token to forge from is not a compact JWS: {0}")]
    NotAJws(#[from] JoseError),
    #[error("the target's JWKS has no key to use for `{0}`")]
    NoTargetKey(String),
    #[error(transparent)]
    UnknownName(#[from] UnknownName),
    #[error("HMAC signing failed")]
    Hmac,
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
            let key = EncodingKey::from_secret(secret.as_bytes()).map_err(|_| ForgeError::Hmac)?;
            let signature =
                jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::HS256)
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
    /// `iat` in the future, no `nbf`: only the issue time is wrong (AMB-5).
    IatFuture,
    WrongIssuer,
    WrongAudience,
    NoSub,
    EmptySub,
    /// `sub` set to another actor's identifier.
    OtherActorSub(String),
    /// An `act` claim naming this upstream actor: the actor token itself claims a delegation chain.
    Chained(String),
    /// `sub` with ASCII letters upper-cased (AMB-6, ADV-32: identifiers match exactly).
    SubCaseVariant,
    /// `sub` with a trailing space (AMB-6, ADV-32).
    SubTrailingSpace,
}

/// Issuer and audience used by the `wrong_issuer` / `wrong_audience` defects.
pub const ATTACKER_ISSUER: &str = "https://attacker.example";
pub const OTHER_AUDIENCE: &str = "https://other-as.example";
/// Used when `chained` is given without a subject.
pub const DEFAULT_UPSTREAM_ACTOR: &str = "upstream-agent";

impl ClaimDefect {
    /// The defect of vocabulary kind `kind`; `subject` fills `other_actor_sub` and `chained`.
    pub fn new(kind: DefectKind, subject: impl Into<String>) -> ClaimDefect {
        match kind {
            DefectKind::Expired => ClaimDefect::Expired,
            DefectKind::NotYetValid => ClaimDefect::NotYetValid,
            DefectKind::IatFuture => ClaimDefect::IatFuture,
            DefectKind::WrongIssuer => ClaimDefect::WrongIssuer,
            DefectKind::WrongAudience => ClaimDefect::WrongAudience,
            DefectKind::NoSub => ClaimDefect::NoSub,
            DefectKind::EmptySub => ClaimDefect::EmptySub,
            DefectKind::OtherActorSub => ClaimDefect::OtherActorSub(subject.into()),
            DefectKind::Chained => ClaimDefect::Chained(subject.into()),
            DefectKind::SubCaseVariant => ClaimDefect::SubCaseVariant,
            DefectKind::SubTrailingSpace => ClaimDefect::SubTrailingSpace,
        }
    }

    /// The vocabulary kind of this defect.
    pub fn kind(&self) -> DefectKind {
        match self {
            ClaimDefect::Expired => DefectKind::Expired,
            ClaimDefect::NotYetValid => DefectKind::NotYetValid,
            ClaimDefect::IatFuture => DefectKind::IatFuture,
            ClaimDefect::WrongIssuer => DefectKind::WrongIssuer,
            ClaimDefect::WrongAudience => DefectKind::WrongAudience,
            ClaimDefect::NoSub => DefectKind::NoSub,
            ClaimDefect::EmptySub => DefectKind::EmptySub,
            ClaimDefect::OtherActorSub(_) => DefectKind::OtherActorSub,
            ClaimDefect::Chained(_) => DefectKind::Chained,
            ClaimDefect::SubCaseVariant => DefectKind::SubCaseVariant,
            ClaimDefect::SubTrailingSpace => DefectKind::SubTrailingSpace,
        }
    }

    /// The case-language name.
    pub fn name(&self) -> &'static str {
        self.kind().name()
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
        let (name, subject) = s.split_once(':').unwrap_or((s, ""));
        Ok(ClaimDefect::new(name.parse()?, subject))
    }
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
        // AMB-5: issued in the future, with no nbf to judge validity by; exp after iat.
        ClaimDefect::IatFuture => {
            map.remove("nbf");
            map.insert("iat".into(), Value::from(now + 600));
            map.insert("exp".into(), Value::from(now + 1200));
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
        ClaimDefect::SubCaseVariant => {
            if let Some(s) = map.get("sub").and_then(Value::as_str) {
                let v = Value::String(s.to_ascii_uppercase());
                map.insert("sub".into(), v);
            }
        }
        ClaimDefect::SubTrailingSpace => {
            if let Some(s) = map.get("sub").and_then(Value::as_str) {
                let v = Value::String(format!("{s} "));
                map.insert("sub".into(), v);
            }
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
mod tests;
