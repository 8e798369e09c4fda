//! The rules an expectation is judged by, over the requests the proxy recorded: PKCE S256
//! binding, distinct values, credentials confined to the token endpoint, the answer to a
//! resource server's challenge, and the record predicates they share.

use std::collections::BTreeSet;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::client::proxy::Record;

use super::{judged, Context, Outcome};

/// Applies `problem` to every record: none may have one. No record at all is itself a miss.
pub(super) fn each(
    records: &[&Record],
    what: &str,
    problem: impl Fn(&Record) -> Option<String>,
) -> Outcome {
    if records.is_empty() {
        return judged(format!("at least one {what}"), format!("no {what}"), false);
    }
    let problems: Vec<String> = records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| problem(r).map(|p| format!("{what} #{}: {p}", i + 1)))
        .collect();
    judged(
        format!("every {what} conforms ({})", records.len()),
        if problems.is_empty() {
            "all conform".to_string()
        } else {
            problems.join("; ")
        },
        problems.is_empty(),
    )
}

pub(super) fn missing_params<'a>(
    wanted: &[String],
    get: impl Fn(&str) -> Option<&'a str>,
) -> Option<String> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|w| match w.split_once('=') {
            Some((n, v)) => get(n) != Some(v),
            None => get(w).is_none_or(str::is_empty),
        })
        .map(String::as_str)
        .collect();
    (!missing.is_empty()).then(|| format!("missing or wrong: {}", missing.join(", ")))
}

/// The authorization request whose response carried the code this redemption sends.
pub(super) fn origin_of<'a>(redemption: &Record, authz: &[&'a Record]) -> Option<&'a Record> {
    let code = redemption.form_param("code")?;
    authz
        .iter()
        .find(|a| a.location_param("code").as_deref() == Some(code))
        .copied()
}

pub(super) fn pkce_s256(authz: &[&Record], redemptions: &[&Record]) -> Outcome {
    let a = each(authz, "authorization request", |r| {
        match (r.param("code_challenge_method"), r.param("code_challenge")) {
            (_, None) => Some("no code_challenge".into()),
            (Some("S256"), Some(c)) if c.len() == 43 && URL_SAFE_NO_PAD.decode(c).is_ok() => None,
            (Some("S256"), Some(_)) => {
                Some("the S256 code_challenge is not 43 base64url characters".into())
            }
            (Some(m), _) => Some(format!("code_challenge_method {m:?}, not S256")),
            (None, _) => Some("no code_challenge_method (defaults to plain)".into()),
        }
    });
    if let Outcome::Judged { ok: false, .. } = a {
        return a;
    }
    each(redemptions, "code redemption", |r| {
        let Some(v) = r.form_param("code_verifier") else {
            return Some("no code_verifier".into());
        };
        // RFC 7636 §4.1: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
        if !(43..=128).contains(&v.len())
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Some("the code_verifier is not 43-128 unreserved characters".into());
        }
        let origin = origin_of(r, authz)?;
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
        (origin.param("code_challenge") != Some(challenge.as_str()))
            .then(|| "S256(code_verifier) does not match the code_challenge sent".into())
    })
}

/// No two authorization requests share the value of `name` (needs two requests).
pub(super) fn distinct(authz: &[&Record], name: &str) -> Outcome {
    let values: Vec<&str> = authz.iter().filter_map(|r| r.param(name)).collect();
    if authz.len() < 2 {
        return judged(
            format!("two authorization requests with distinct {name}"),
            format!("{} authorization request(s)", authz.len()),
            false,
        );
    }
    let unique: BTreeSet<&str> = values.iter().copied().collect();
    let ok = values.len() == authz.len() && unique.len() == values.len();
    judged(
        format!(
            "a different {name} in each of {} authorization requests",
            authz.len()
        ),
        if values.len() < authz.len() {
            format!(
                "{name} missing in {} request(s)",
                authz.len() - values.len()
            )
        } else if ok {
            "all distinct".to_string()
        } else {
            format!(
                "{} distinct value(s) in {} requests",
                unique.len(),
                values.len()
            )
        },
        ok,
    )
}

/// The user part of a Basic Authorization header (RFC 6749 §2.3.1 form-decoded).
pub(super) fn basic_user(r: &Record) -> Option<String> {
    basic_pair(r).map(|(u, _)| u)
}

pub(super) fn basic_pair(r: &Record) -> Option<(String, String)> {
    let h = r.header("authorization")?;
    let (scheme, b64) = h.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (u, p) = raw.split_once(':')?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(u)?, dec(p)?))
}

/// Whether the request authenticates `id` with `secret`: Basic or client_secret_post.
pub(super) fn authenticated_as(r: &Record, id: &str, secret: &str) -> bool {
    if let Some((u, p)) = basic_pair(r) {
        return u == id && p == secret;
    }
    r.form_param("client_id") == Some(id) && r.form_param("client_secret") == Some(secret)
}

/// Where `needle` occurs in a request: (in the URL or a non-Authorization header, in the
/// Authorization header, in the body). Percent-encoded forms count.
pub(super) fn mentions(r: &Record, needle: &str) -> (bool, bool) {
    let in_query = r
        .query
        .iter()
        .any(|(k, v)| k.contains(needle) || v.contains(needle))
        || r.path.contains(needle);
    let in_headers = r
        .headers
        .iter()
        .any(|(k, v)| !k.eq_ignore_ascii_case("authorization") && v.contains(needle));
    let in_auth = r.header("authorization").is_some_and(|h| {
        h.contains(needle) || basic_pair(r).is_some_and(|(u, p)| u == needle || p == needle)
    });
    let in_body = r.body.contains(needle) || r.form.iter().any(|(_, v)| v.contains(needle));
    (in_query || in_headers || in_auth, in_body)
}

/// Every request where one of `secrets` appears outside what `allowed(record, in_auth_header,
/// in_body)` accepts. A secret in a URL or an ordinary header is never accepted.
pub(super) fn confined(
    recs: &[Record],
    secrets: &[(&str, &str)],
    allowed: impl Fn(&Record, bool, bool) -> bool,
) -> Outcome {
    let mut leaks = Vec::new();
    for r in recs {
        for (label, s) in secrets {
            if s.is_empty() {
                continue;
            }
            let in_url = r.path.contains(s) || r.query.iter().any(|(_, v)| v.contains(s));
            let in_header = r
                .headers
                .iter()
                .any(|(k, v)| !k.eq_ignore_ascii_case("authorization") && v.contains(s));
            let in_auth = r.header("authorization").is_some_and(|h| {
                h.contains(s) || basic_pair(r).is_some_and(|(u, p)| u == *s || p == *s)
            });
            let in_body = r.body.contains(s) || r.form.iter().any(|(_, v)| v.contains(s));
            let seen = in_url || in_header || in_auth || in_body;
            if seen && (in_url || in_header || !allowed(r, in_auth, in_body)) {
                let place = if in_url {
                    "the URL"
                } else if in_header {
                    "a header"
                } else if in_auth {
                    "the Authorization header"
                } else {
                    "the body"
                };
                leaks.push(format!("{label} in {place} of {} {}", r.method, r.path));
            }
        }
    }
    leaks.dedup();
    judged(
        "credentials only where they belong",
        if leaks.is_empty() {
            "none elsewhere".to_string()
        } else {
            leaks.join("; ")
        },
        leaks.is_empty(),
    )
}

/// Draft §3.1 steps 7-10, §4.4: after a 403 insufficient_scope, a new authorization request
/// (requested_actor, every challenged scope) and a new code redemption come before the next
/// resource request, which presents a different token.
pub(super) fn challenge_answered(recs: &[Record], ctx: &Context) -> Outcome {
    let Some(at) = recs.iter().position(|r| {
        r.is_resource()
            && r.status == Some(403)
            && r.resp_header("www-authenticate")
                .is_some_and(|h| h.contains("insufficient_scope"))
    }) else {
        return Outcome::Unobservable("the resource server never challenged the client".into());
    };
    let challenge = recs[at].resp_header("www-authenticate").unwrap_or_default();
    let needed = challenge_scope(challenge);
    let challenged_token = recs[at].bearer().map(String::from);
    let Some(next) = recs[at + 1..].iter().position(|r| r.is_resource()) else {
        return judged(
            "a new authorization, then a retry",
            "no resource request after the challenge",
            false,
        );
    };
    let between = &recs[at + 1..at + 1 + next];
    let retry = &recs[at + 1 + next];
    let new_authz = between.iter().find(|r| {
        r.is_authorize()
            && r.param("requested_actor") == Some(ctx.actor_id.as_str())
            && needed.iter().all(|s| {
                r.param("scope")
                    .is_some_and(|have| have.split(' ').any(|h| h == s))
            })
    });
    let redeemed = between.iter().any(|r| r.is_code_redemption());
    let new_token = retry.bearer().map(String::from) != challenged_token;
    let ok = new_authz.is_some() && redeemed && new_token;
    let actual = if ok {
        "new authorization with requested_actor and the scope, new token, then the retry"
            .to_string()
    } else if new_authz.is_none() {
        format!(
            "the retry came without a new authorization request naming the actor and scope {:?}",
            needed.join(" ")
        )
    } else if !redeemed {
        "the retry came without a new code redemption".into()
    } else {
        "the retry presented the challenged token again".into()
    };
    judged(
        format!(
            "a new authorization (requested_actor, scope {:?}) and token before the retry",
            needed.join(" ")
        ),
        actual,
        ok,
    )
}

/// The scope a challenge names: RFC 6750 `scope`, else the draft example's `required_scope`.
pub(super) fn challenge_scope(h: &str) -> Vec<String> {
    let param = |name: &str| -> Option<String> {
        let mut rest = h;
        while let Some(at) = rest.find(&format!("{name}=\"")) {
            let before = rest[..at].chars().last();
            let tail = &rest[at + name.len() + 2..];
            if before.is_none_or(|c| c == ' ' || c == ',') {
                return tail.find('"').map(|end| tail[..end].to_string());
            }
            rest = tail;
        }
        None
    };
    param("scope")
        .or_else(|| param("required_scope"))
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}
