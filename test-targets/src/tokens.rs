//! The JWTs the AS issues (access tokens, actor tokens) and how it checks them.

use serde_json::{json, Map, Value};

use crate::keys::{self, peek_issuer};
use crate::state::App;
use crate::{Defect, Quirk};

pub const ACCESS_TYP: &str = "at+jwt";
pub const ACTOR_TYP: &str = "actor+jwt";
pub const ACCESS_TTL: i64 = 3600;

/// Claims of an access token: user in `sub`, client, scope, and the actor in `act` (draft 4.3).
pub struct Grant<'a> {
    pub grant: &'a str,
    pub client_id: &'a str,
    pub user: &'a str,
    pub actor: Option<&'a str>,
    pub scope: &'a str,
}

pub fn access_token(app: &App, g: &Grant) -> String {
    let now = app.now();
    let jti = app.random();
    let sub = app
        .opts
        .registry
        .user(g.user)
        .map(|u| u.sub.clone())
        .unwrap_or_default();
    let mut claims = json!({
        "iss": app.base, "aud": app.resource_audience(), "sub": sub,
        "client_id": g.client_id, "scope": g.scope,
        "iat": now, "exp": now + ACCESS_TTL, "jti": jti,
    });
    if !app.quirk(Quirk::NoAzp) {
        claims["azp"] = json!(g.client_id);
    }
    // Defect act-missing: breaks OBO-AT-3 (an OBO access token carries act).
    if let Some(actor) = g.actor.filter(|_| !app.defect(Defect::ActMissing)) {
        claims["act"] = json!({"sub": actor});
    }
    let mut store = app.store();
    store
        .grant_jtis
        .entry(g.grant.to_string())
        .or_default()
        .push(jti);
    drop(store);
    app.keys.sign(ACCESS_TYP, &claims)
}

/// An actor token for an authenticated actor client (AMB-7): marked by `typ` and `token_use`.
pub fn actor_token(app: &App, actor: &str) -> String {
    let now = app.now();
    let claims = json!({
        "iss": app.base, "sub": actor, "aud": app.base, "iat": now,
        "exp": now + app.actor_token_ttl(), "jti": app.random(), "token_use": "actor",
    });
    app.keys.sign(ACTOR_TYP, &claims)
}

/// Checks an actor token and returns the actor it authenticates (draft 4.2.2).
pub fn verify_actor_token(app: &App, token: &str) -> Result<String, String> {
    let iss = peek_issuer(token).ok_or("actor token is not a JWT with iss")?;
    let claims = if iss == app.base {
        let (typ, claims) = app.keys.verify_own(token)?;
        let marked = typ.as_deref() == Some(ACTOR_TYP)
            && claims.get("token_use").and_then(Value::as_str) == Some("actor");
        // Defect user-token-as-actor-token: breaks OBO-TOKEN-3 / OBO-INH-20 (token kinds must
        // not pass for one another).
        let own_access = typ.as_deref() == Some(ACCESS_TYP);
        if !(marked || own_access && app.defect(Defect::UserTokenAsActorToken)) {
            return Err("not an actor token".into());
        }
        claims
    } else {
        let trusted = app
            .opts
            .registry
            .trusted_issuers
            .iter()
            .find(|t| t.iss == iss)
            .ok_or("actor token from an untrusted issuer")?;
        let claims = keys::verify_with(token, &keys::decoding_key_pem(&trusted.public_pem)?)?;
        // Assertions from another issuer must be meant for this AS (RFC 7523 3, OBO-INH-21).
        if !audience_has(&claims, &app.base) {
            return Err("actor token audience is not this AS".into());
        }
        claims
    };
    check_times(app, &claims)?;
    if claims.contains_key("act") {
        return Err("chained actor tokens are not accepted (AMB-19)".into());
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("actor token has no sub")?;
    let known = app.opts.registry.actors.iter().find(|a| {
        a.id == sub || (app.defect(Defect::ActorCaseInsensitive) && a.id.eq_ignore_ascii_case(sub))
    });
    let Some(actor) = known else {
        // An own access token of a user: its sub is not an actor; say so plainly.
        return Err("actor token sub is not a registered actor".into());
    };
    // Defect disabled-actor-token-accepted: breaks OBO-TOKEN-10 (a disabled actor's token is
    // not valid).
    if !app.actor_enabled(&actor.id) && !app.defect(Defect::DisabledActorTokenAccepted) {
        return Err("actor is disabled".into());
    }
    Ok(sub.to_string())
}

fn check_times(app: &App, claims: &Map<String, Value>) -> Result<(), String> {
    let now = app.now();
    let skew = app.skew();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or("actor token has no exp")?;
    // Defect expired-actor-token-accepted: breaks OBO-TOKEN-11 (not expired).
    if now >= exp + skew && !app.defect(Defect::ExpiredActorTokenAccepted) {
        return Err("actor token expired".into());
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64) {
        if nbf > now + skew {
            return Err("actor token not yet valid".into());
        }
    }
    Ok(())
}

fn audience_has(claims: &Map<String, Value>, want: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(s)) => s == want,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(want)),
        _ => false,
    }
}

/// An access token of this AS that is valid now: typ, signature, iss, aud, exp, not revoked.
pub fn verify_access_token(app: &App, token: &str) -> Result<Map<String, Value>, String> {
    let (typ, claims) = app.keys.verify_own(token)?;
    if typ.as_deref() != Some(ACCESS_TYP) {
        return Err("not an access token".into());
    }
    if claims.get("iss").and_then(Value::as_str) != Some(app.base.as_str()) {
        return Err("wrong issuer".into());
    }
    if !audience_has(&claims, &app.resource_audience()) {
        return Err("wrong audience".into());
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if app.now() >= exp {
        return Err("expired".into());
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if app.store().revoked_jtis.contains(jti) {
        return Err("revoked".into());
    }
    Ok(claims)
}

/// Revokes everything issued under a grant: its access tokens and refresh tokens.
pub fn revoke_grant(app: &App, grant: &str) {
    let mut store = app.store();
    store.revoked_grants.insert(grant.to_string());
    let jtis = store.grant_jtis.get(grant).cloned().unwrap_or_default();
    store.revoked_jtis.extend(jtis);
    for r in store.refresh.values_mut().filter(|r| r.grant == grant) {
        r.active = false;
    }
}
