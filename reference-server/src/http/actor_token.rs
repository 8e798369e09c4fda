//! Actor tokens: issuance to actors through `client_credentials` (AMB-7) and validation at the
//! token endpoint (OBO-TOKEN-3, -4, -10, -11; AMB-5, AMB-19, AMB-20).

use serde_json::{json, Value};

use super::App;
use crate::config::Actor;
use crate::fault::Fault;
use crate::keys::{key_from_jwk, random_token, verify_with, Jws};

pub const ACTOR_TYP: &str = "actor+jwt";

/// Issues an actor token: ES256 JWT, typ actor+jwt, aud = issuer, `token_use: "actor"`.
pub fn issue(app: &App, actor: &Actor) -> Result<(String, u64), String> {
    let now = app.now();
    let ttl = app.config.ttl.actor_token;
    let claims = json!({
        "iss": app.issuer, "sub": actor.id, "aud": app.issuer,
        "iat": now, "exp": crate::store::expiry(now, ttl), "jti": random_token(),
        "token_use": "actor",
    });
    Ok((app.keys.sign_typed(ACTOR_TYP, &claims)?, ttl))
}

/// Validates an actor token and returns the actor id it authenticates. Every failure is a
/// message for `invalid_grant` (AMB-14).
pub fn validate(app: &App, token: &str) -> Result<String, String> {
    let jws = Jws::parse(token).map_err(|e| format!("actor token: {e}"))?;
    verify_signature(app, &jws)?;
    // OBO-TOKEN-10, AMB-5: only self-issued actor tokens are trusted.
    if jws.claim_str("iss") != Some(app.issuer.as_str())
        && !app.fault(Fault::ActorTokenIssuerUnchecked)
    {
        return Err("actor token issuer is not trusted".into());
    }
    check_times(app, &jws)?;
    if app.fault(Fault::UserTokenAsActorToken) {
        // Defect: any token we signed is taken as proof of an actor, read from act.sub.
        let act = jws
            .claims
            .get("act")
            .and_then(|a| a.get("sub"))
            .and_then(Value::as_str);
        return act
            .or(jws.claim_str("sub"))
            .map(String::from)
            .ok_or_else(|| "actor token has no sub".into());
    }
    // OBO-TOKEN-3, AMB-20, OBO-INH-20: explicit typing keeps user access tokens (at+jwt, aud =
    // the RS) from passing as actor tokens.
    let marked = jws.typ() == Some(ACTOR_TYP)
        && jws.claim_str("token_use") == Some("actor")
        && jws.aud_contains(&app.issuer);
    if !marked {
        return Err("not an actor token issued by this server (typ, token_use or aud)".into());
    }
    // OBO-TOKEN-4: a non-empty sub identifies the actor.
    let sub = jws
        .claim_str("sub")
        .filter(|s| !s.is_empty())
        .ok_or("actor token has no sub")?;
    // AMB-19: chained actor tokens are refused.
    if jws.claims.contains_key("act") && !app.fault(Fault::ChainedActInverted) {
        return Err("chained actor tokens (with act) are not accepted".into());
    }
    if let Some(jti) = jws.claim_str("jti") {
        if app.store.is_revoked(jti) && !app.fault(Fault::ActorTokenRevocationUnchecked) {
            return Err("actor token has been revoked".into());
        }
    }
    Ok(sub.to_string())
}

/// OBO-TOKEN-10, OBO-INH-20, RFC 8725 §3.1: ES256 only, our key only (by kid), never `none`,
/// never a key carried by the token itself.
fn verify_signature(app: &App, jws: &Jws<'_>) -> Result<(), String> {
    match jws.alg() {
        Some("ES256") => {}
        Some("none") if app.fault(Fault::ActorTokenAlgNone) => return Ok(()),
        _ => return Err("actor token algorithm is not allowed".into()),
    }
    if app.fault(Fault::ActorTokenSignatureUnchecked) {
        return Ok(());
    }
    if let Some(jwk) = jws.header.get("jwk") {
        if app.fault(Fault::ActorTokenEmbeddedJwk) {
            let key = key_from_jwk(jwk).ok_or("actor token jwk is unusable")?;
            return verify_with(jws, &key)
                .then_some(())
                .ok_or_else(|| "actor token signature is invalid".into());
        }
    }
    if jws.kid().is_some_and(|k| k != app.keys.kid()) {
        return Err("actor token kid is unknown".into());
    }
    if !app.keys.verify(jws) {
        return Err("actor token signature is invalid".into());
    }
    Ok(())
}

/// OBO-TOKEN-11, OBO-INH-19: exp required and in the future, nbf/iat not in the future,
/// with the configured skew.
fn check_times(app: &App, jws: &Jws<'_>) -> Result<(), String> {
    if app.fault(Fault::ActorTokenExpiryUnchecked) {
        return Ok(());
    }
    let now = app.now();
    let skew = i64::try_from(app.config.policy.clock_skew_secs).unwrap_or(i64::MAX);
    let exp = jws.claim_i64("exp").ok_or("actor token has no exp")?;
    if now >= exp.saturating_add(skew) {
        return Err("actor token has expired".into());
    }
    if jws
        .claim_i64("nbf")
        .is_some_and(|nbf| nbf > now.saturating_add(skew))
    {
        return Err("actor token is not yet valid".into());
    }
    if jws
        .claim_i64("iat")
        .is_some_and(|iat| iat > now.saturating_add(skew))
    {
        return Err("actor token was issued in the future".into());
    }
    Ok(())
}
