//! Judging a client from the traffic the proxy recorded: each `[[expect]]` of a scenario
//! becomes one [`Check`] (expected vs observed), or an [`Ending::Errored`] when the client never
//! reached the point the expectation is about (the harness could not observe it).
//!
//! Observed values that are credentials (codes, verifiers, states, secrets, tokens) never appear
//! in a check: checks say "matches", "differs", "present", or name the parameter.

mod rules;

use rules::{
    authenticated_as, basic_user, challenge_answered, confined, distinct, each, mentions,
    missing_params, origin_of, pkce_s256,
};

use std::collections::BTreeSet;

use obo_report::Check;

use super::proxy::Record;
use super::scenario::{CheckKind, Expectation, Scenario};
use crate::verdict::Ending;

/// What the client was told, and what the suite knows about the registry.
#[derive(Debug, Clone)]
pub struct Context {
    pub client_id: String,
    /// None for a public client.
    pub client_secret: Option<String>,
    pub redirect_uri: String,
    pub actor_id: String,
    pub actor_secret: String,
    pub registered_actors: Vec<String>,
}

/// The result of one expectation: a check, or the reason it could not be judged.
enum Outcome {
    Judged {
        expected: String,
        actual: String,
        ok: bool,
    },
    Unobservable(String),
}

fn judged(expected: impl Into<String>, actual: impl Into<String>, ok: bool) -> Outcome {
    Outcome::Judged {
        expected: expected.into(),
        actual: actual.into(),
        ok,
    }
}

/// Every check of the scenario, and how the judging ended.
pub fn judge(s: &Scenario, ctx: &Context, records: &[Record]) -> (Vec<Check>, Ending) {
    let mut checks = Vec::new();
    let mut unobservable = Vec::new();
    if records.is_empty() {
        return (
            checks,
            Ending::Errored(
                "the client made no request to the suite (check the command and its environment)"
                    .into(),
            ),
        );
    }
    for (i, e) in s.expect.iter().enumerate() {
        match evaluate(e, ctx, records) {
            Outcome::Judged {
                expected,
                actual,
                ok,
            } => checks.push(Check {
                step: i,
                name: e.check.name().to_string(),
                expected,
                actual,
                ok,
                level: e.level.unwrap_or(s.level),
                requirements: s.requirements_of(e).to_vec(),
            }),
            Outcome::Unobservable(why) => unobservable.push(format!("{}: {why}", e.check.name())),
        }
    }
    let ending = if unobservable.is_empty() {
        Ending::Completed
    } else {
        Ending::Errored(unobservable.join("; "))
    };
    (checks, ending)
}

fn evaluate(e: &Expectation, ctx: &Context, recs: &[Record]) -> Outcome {
    let authz: Vec<&Record> = recs.iter().filter(|r| r.is_authorize()).collect();
    let redemptions: Vec<&Record> = recs.iter().filter(|r| r.is_code_redemption()).collect();
    match e.check {
        CheckKind::AuthorizeParams => each(&authz, "authorization request", |r| {
            missing_params(&e.params, |n| r.query_param(n).or(r.form_param(n)))
        }),
        CheckKind::RequestedActorRegistered => each(&authz, "authorization request", |r| {
            match r.param("requested_actor") {
                None => Some("no requested_actor".into()),
                Some(a) if a != ctx.actor_id => Some(format!(
                    "requested_actor {a:?} is not the client's actor {:?}",
                    ctx.actor_id
                )),
                Some(a) if !ctx.registered_actors.iter().any(|r| r == a) => {
                    Some(format!("requested_actor {a:?} is not registered"))
                }
                Some(_) => None,
            }
        }),
        CheckKind::PkceS256 => pkce_s256(&authz, &redemptions),
        CheckKind::FreshPkce => distinct(&authz, "code_challenge"),
        CheckKind::FreshState => distinct(&authz, "state"),
        CheckKind::RedirectUriRegistered => each(&authz, "authorization request", |r| {
            match r.param("redirect_uri") {
                None => Some("no redirect_uri".into()),
                Some(u) if u != ctx.redirect_uri => Some(format!(
                    "redirect_uri {u:?} is not the registered {:?}",
                    ctx.redirect_uri
                )),
                Some(_) => None,
            }
        }),
        CheckKind::TokenParams => each(&redemptions, "code redemption", |r| {
            let basic_id = basic_user(r);
            missing_params(&e.params, |n| {
                r.form_param(n)
                    .or_else(|| (n == "client_id").then_some(basic_id.as_deref()).flatten())
            })
        }),
        CheckKind::RedirectUriIdentical => each(&redemptions, "code redemption", |r| {
            let Some(origin) = origin_of(r, &authz) else {
                return Some("redeems a code no authorization response carried".into());
            };
            match (r.form_param("redirect_uri"), origin.param("redirect_uri")) {
                (Some(a), Some(b)) if a == b => None,
                (None, None) => None,
                (Some(_), Some(_)) => {
                    Some("redirect_uri differs from the authorization request's".into())
                }
                (None, Some(_)) => {
                    Some("no redirect_uri (the authorization request had one)".into())
                }
                (Some(_), None) => None,
            }
        }),
        CheckKind::ActorTokenFromActor => {
            let issued: BTreeSet<String> = recs
                .iter()
                .filter(|r| r.is_actor_grant() && r.status == Some(200))
                .filter(|r| authenticated_as(r, &ctx.actor_id, &ctx.actor_secret))
                .filter_map(|r| r.resp_json_str("access_token"))
                .collect();
            each(&redemptions, "code redemption", |r| {
                match r.form_param("actor_token") {
                    None => Some("no actor_token".into()),
                    Some(t) if issued.contains(t) => None,
                    Some(_) => Some(
                        "the actor_token is not one the AS issued to the actor by client_credentials"
                            .into(),
                    ),
                }
            })
        }
        CheckKind::ClientAuthenticated => {
            let Some(secret) = &ctx.client_secret else {
                return judged(
                    "no client authentication (public client)",
                    "public client",
                    true,
                );
            };
            each(&redemptions, "code redemption", |r| {
                if authenticated_as(r, &ctx.client_id, secret) {
                    None
                } else {
                    Some("the client did not authenticate (Basic or client_secret_post)".into())
                }
            })
        }
        CheckKind::ClientSecretConfined => {
            let mut secrets = vec![("the actor's secret", ctx.actor_secret.as_str())];
            if let Some(s) = &ctx.client_secret {
                secrets.push(("the client secret", s.as_str()));
            }
            confined(recs, &secrets, |r, in_header, in_body| {
                (in_header || in_body) && r.is_token()
            })
        }
        CheckKind::ActorTokenConfined => {
            let tokens: Vec<String> = recs
                .iter()
                .filter(|r| r.is_actor_grant())
                .filter_map(|r| r.resp_json_str("access_token"))
                .collect();
            if tokens.is_empty() {
                return Outcome::Unobservable("the actor obtained no actor token".into());
            }
            let named: Vec<(&str, &str)> = tokens
                .iter()
                .map(|t| ("the actor token", t.as_str()))
                .collect();
            confined(recs, &named, |r, in_header, in_body| {
                in_body && !in_header && r.is_code_redemption()
            })
        }
        CheckKind::NoRedemptionAfterTampering => {
            let tampered: Vec<String> = authz
                .iter()
                .filter(|r| r.tampered.is_some())
                .filter_map(|r| r.location_param("code"))
                .collect();
            if tampered.is_empty() {
                return Outcome::Unobservable(
                    "the client never received a tampered authorization response".into(),
                );
            }
            let redeemed = redemptions
                .iter()
                .filter(|r| {
                    r.form_param("code")
                        .is_some_and(|c| tampered.iter().any(|t| t == c))
                })
                .count();
            judged(
                "no token request redeeming the code of the tampered response",
                if redeemed == 0 {
                    "none".to_string()
                } else {
                    format!("{redeemed} token request(s) redeemed it")
                },
                redeemed == 0,
            )
        }
        CheckKind::PlantedTokenUnused => {
            let planted: Vec<&str> = recs
                .iter()
                .filter_map(|r| r.planted_token.as_deref())
                .collect();
            if planted.is_empty() {
                return Outcome::Unobservable(
                    "no token response with a substituted access token reached the client".into(),
                );
            }
            let used: Vec<String> = recs
                .iter()
                .filter(|r| planted.iter().any(|p| mentions(r, p).0 || mentions(r, p).1))
                .map(|r| format!("{} {}", r.method, r.path))
                .collect();
            judged(
                "the access token naming another actor is never presented",
                if used.is_empty() {
                    "never presented".to_string()
                } else {
                    format!("presented in {}", used.join(", "))
                },
                used.is_empty(),
            )
        }
        CheckKind::ChallengeAnswered => challenge_answered(recs, ctx),
        CheckKind::ResourceReached => {
            let Some(last) = recs.iter().rev().find(|r| r.is_resource()) else {
                return judged(
                    "a 2xx from the resource server",
                    "no resource request",
                    false,
                );
            };
            let status = last.status.unwrap_or(0);
            judged(
                "the last resource request gets a 2xx",
                format!("HTTP {status}"),
                (200..300).contains(&status),
            )
        }
    }
}

#[cfg(test)]
mod tests;
