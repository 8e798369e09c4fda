//! Turns a sequence of operations into a case of the case language (one step per operation,
//! after a prelude), so the harness's own interpreter drives the target; and reads back, per
//! operation, what the target did from the case's transcript and checks.
//!
//! Every operation step carries an expectation, so that a refused request is an observation
//! and not a set-up failure that would end the case. Token steps expect either no token or a
//! token whose `act.sub` is the actor bound to the code (OBO-AT-5, OBO-TOKEN-12), checked by the
//! harness's claim checks against the target's JWKS.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Property, Violation};
use super::op::{Actor, Op};
use crate::case::{Case, CaseLevel, Step};

/// Requirements the model checks (cited by the synthetic case and its report).
pub const REQUIREMENTS: &[&str] = &[
    "OBO-AUTHZ-15",
    "OBO-AT-5",
    "OBO-TOKEN-12",
    "OBO-SEC-3",
    "OBO-SEC-4",
    "OBO-TOKEN-10",
    "OBO-RS-9",
    "OBO-SEC-6",
    "OBO-INH-6",
    "OBO-INH-9",
    "OBO-INH-13",
];

/// The `scope` parameter of the scope-escalation operations: the consented scope plus one the
/// user never consented to (`[scope] extra`).
const WIDER_SCOPE: &str = "${scope} ${scope.extra}";

/// Steps before the first operation: actor tokens of a and b fetched while both are enabled,
/// used later for an actor the sequence has disabled (a still-valid token of a disabled actor).
pub(super) const PRELUDE: usize = 2;

/// How the steps are written for this target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Access-token claims can be read (JWT + JWKS, or introspection): check `act.sub`.
    pub claims: bool,
}

/// The case for `ops` (already normalized) and its TOML text.
pub fn build(id: &str, ops: &[Op], style: Style) -> Result<(Case, String), String> {
    let tables = step_tables(ops, style)?;
    let case = case_of(id, ops, &tables)?;
    let text = render(&case, &tables);
    Ok((case, text))
}

/// The case file of a counterexample: the step of the violation carries the expectation the
/// model holds it to, so `run` with this file fails on a target that still shows it.
pub fn counterexample_toml(
    id: &str,
    ops: &[Op],
    style: Style,
    violation: &Violation,
) -> Result<String, String> {
    let mut tables = step_tables(ops, style)?;
    let Some(t) = tables.get_mut(PRELUDE + violation.op) else {
        return Err(format!(
            "the violation names operation {} of {}",
            violation.op,
            ops.len()
        ));
    };
    let parallel = t.get("do").and_then(toml::Value::as_str) == Some("parallel_token");
    let mut e = toml::Table::new();
    match violation.property {
        // The alternatives of a token step already fail on wrong claims.
        Property::Claims => {}
        Property::SingleUse if parallel => {
            e.insert("at_most_one_success".into(), toml::Value::Boolean(true));
        }
        // The granted scope stays within the consented one (RFC 6749 §3.3, §6), or no token.
        Property::ScopeEscalation => {
            let mut within = toml::Table::new();
            within.insert("token_issued".into(), toml::Value::Boolean(true));
            within.insert("scope_within".into(), s("${scope}"));
            t.remove("expect");
            t.insert(
                "expect_any".into(),
                toml::Value::Array(vec![
                    toml::Value::Table(refused()),
                    toml::Value::Table(within),
                ]),
            );
        }
        // OBO-RS-9: the endpoint of another actor refuses.
        Property::ResourceActor => {
            e.insert(
                "status".into(),
                toml::Value::Array(vec![toml::Value::Integer(403), toml::Value::Integer(401)]),
            );
        }
        // No code (authorize) or no token (token steps).
        _ => {
            e.insert("token_issued".into(), toml::Value::Boolean(false));
        }
    }
    if !e.is_empty() {
        t.remove("expect_any");
        t.insert("expect".into(), toml::Value::Table(e));
    }
    let mut case = case_of(id, ops, &tables)?;
    case.requirements = violation
        .property
        .requirements()
        .iter()
        .map(|r| r.to_string())
        .collect();
    case.title = format!("Fuzz counterexample: {}", violation.message);
    Ok(render(&case, &tables))
}

fn step_tables(ops: &[Op], style: Style) -> Result<Vec<toml::Table>, String> {
    let mut tables: Vec<toml::Table> = Vec::new();
    for actor in [Actor::A, Actor::B] {
        let mut t = step("actor_token");
        t.insert("actor".into(), s(actor.which()));
        t.insert("save".into(), s(&format!("{}0", actor.which())));
        tables.push(t);
    }
    let mut bound: BTreeMap<u32, Actor> = BTreeMap::new(); // code -> actor of its authorization
    let mut token_actor: BTreeMap<u32, Actor> = BTreeMap::new(); // tokens -> bound actor
    let mut redeem_step: BTreeMap<u32, usize> = BTreeMap::new();
    let mut disabled: BTreeSet<Actor> = BTreeSet::new();
    // The actor token a redemption with `with`'s token presents: one fetched while the actor
    // was enabled when the sequence has disabled it since (a still-valid token of a disabled
    // actor).
    let source = |disabled: &BTreeSet<Actor>, with: Actor| {
        if disabled.contains(&with) {
            format!("saved:{}0", with.which())
        } else {
            with.which().to_string()
        }
    };
    for op in ops {
        let index = tables.len();
        let t = match op {
            Op::Authorize {
                code,
                actor,
                deny,
                second_user,
            } => {
                bound.insert(*code, *actor);
                let mut t = step("authorize");
                t.insert("actor".into(), s(actor.which()));
                t.insert("consent".into(), s(if *deny { "deny" } else { "approve" }));
                if *second_user {
                    t.insert("user".into(), s("second"));
                }
                t.insert("save".into(), s(&format!("c{code}")));
                t.insert("expect".into(), toml::Value::Table(toml::Table::new()));
                t
            }
            Op::Redeem { code, with, tokens }
            | Op::Parallel {
                code, with, tokens, ..
            } => {
                let actor = bound
                    .get(code)
                    .copied()
                    .ok_or_else(|| format!("{op}: no authorization made c{code}"))?;
                token_actor.insert(*tokens, actor);
                let mut t = step(if matches!(op, Op::Parallel { .. }) {
                    "parallel_token"
                } else {
                    "token"
                });
                t.insert("code".into(), s(&format!("c{code}")));
                t.insert("actor_token".into(), s(&source(&disabled, *with)));
                t.insert("save".into(), s(&format!("t{tokens}")));
                if let Op::Parallel { count, .. } = op {
                    t.insert("count".into(), toml::Value::Integer(i64::from(*count)));
                    t.insert("expect_any".into(), issued_or_not(None));
                } else {
                    redeem_step.insert(*tokens, index);
                    t.insert(
                        "expect_any".into(),
                        issued_or_not(style.claims.then_some(actor)),
                    );
                }
                t
            }
            Op::Replay { tokens } => {
                let of = redeem_step
                    .get(tokens)
                    .copied()
                    .ok_or_else(|| format!("{op}: no redemption made t{tokens}"))?;
                let mut t = step("replay");
                t.insert("of".into(), toml::Value::Integer(of as i64));
                let actor = token_actor.get(tokens).copied();
                t.insert(
                    "expect_any".into(),
                    issued_or_not(actor.filter(|_| style.claims)),
                );
                t
            }
            Op::AdvanceClock { seconds } => {
                let mut t = step("advance_clock");
                t.insert("seconds".into(), toml::Value::Integer(*seconds));
                t
            }
            Op::Disable { actor } | Op::Enable { actor } => {
                let disable = matches!(op, Op::Disable { .. });
                if disable {
                    disabled.insert(*actor);
                } else {
                    disabled.remove(actor);
                }
                let mut t = step(if disable {
                    "disable_actor"
                } else {
                    "enable_actor"
                });
                t.insert("actor".into(), s(actor.which()));
                t
            }
            Op::RevokeConsent { actor } => {
                let mut t = step("revoke_consent");
                t.insert("actor".into(), s(actor.which()));
                t
            }
            Op::Refresh { tokens } => {
                let mut t = step("refresh");
                t.insert("tokens".into(), s(&format!("t{tokens}")));
                let actor = token_actor.get(tokens).copied();
                t.insert(
                    "expect_any".into(),
                    issued_or_not(actor.filter(|_| style.claims)),
                );
                t
            }
            Op::Resource { tokens, actor } => {
                let mut t = step("resource");
                t.insert("path".into(), s(&format!("actor:{}", actor.which())));
                t.insert("tokens".into(), s(&format!("t{tokens}")));
                t.insert("expect".into(), toml::Value::Table(toml::Table::new()));
                t
            }
            Op::CrossRedeem { code } | Op::WideRedeem { code } => {
                let actor = bound
                    .get(code)
                    .copied()
                    .ok_or_else(|| format!("{op}: no authorization made c{code}"))?;
                let mut t = step("token");
                t.insert("code".into(), s(&format!("c{code}")));
                t.insert("actor_token".into(), s(&source(&disabled, actor)));
                // Kept under a name no other operation reads.
                t.insert("save".into(), s(&format!("x{index}")));
                if matches!(op, Op::CrossRedeem { .. }) {
                    t.insert("client".into(), s("second"));
                    t.insert("expect_any".into(), issued_or_not(None));
                } else {
                    t.insert("params".into(), wider_scope());
                    t.insert(
                        "expect_any".into(),
                        issued_or_not(style.claims.then_some(actor)),
                    );
                }
                t
            }
            Op::CrossRefresh { tokens } | Op::WideRefresh { tokens } => {
                let mut t = step("refresh");
                t.insert("tokens".into(), s(&format!("t{tokens}")));
                t.insert("save".into(), s(&format!("x{index}")));
                let actor = token_actor.get(tokens).copied();
                if matches!(op, Op::CrossRefresh { .. }) {
                    t.insert("client".into(), s("second"));
                    t.insert("expect_any".into(), issued_or_not(None));
                } else {
                    t.insert("params".into(), wider_scope());
                    t.insert(
                        "expect_any".into(),
                        issued_or_not(actor.filter(|_| style.claims)),
                    );
                }
                t
            }
        };
        tables.push(t);
    }
    Ok(tables)
}

fn case_of(id: &str, ops: &[Op], tables: &[toml::Table]) -> Result<Case, String> {
    let steps = tables
        .iter()
        .map(|t| {
            toml::Value::Table(t.clone())
                .try_into::<Step>()
                .map_err(|e| format!("a generated step is not valid case language: {e}"))
        })
        .collect::<Result<Vec<Step>, String>>()?;
    Ok(Case {
        id: id.to_string(),
        title: "Model-based fuzz sequence".into(),
        description: ops.iter().map(|o| format!("- {o}\n")).collect(),
        requirements: REQUIREMENTS.iter().map(|r| r.to_string()).collect(),
        scenarios: Vec::new(),
        level: CaseLevel::Must,
        revisions: None,
        needs: Vec::new(),
        tags: vec!["fuzz".into()],
        exclusive: true,
        steps,
        path: Default::default(),
    })
}

fn step(kind: &str) -> toml::Table {
    let mut t = toml::Table::new();
    t.insert("do".into(), s(kind));
    t
}

fn s(v: &str) -> toml::Value {
    toml::Value::String(v.to_string())
}

fn wider_scope() -> toml::Value {
    let mut p = toml::Table::new();
    p.insert("scope".into(), s(WIDER_SCOPE));
    toml::Value::Table(p)
}

fn refused() -> toml::Table {
    let mut t = toml::Table::new();
    t.insert("token_issued".into(), toml::Value::Boolean(false));
    t
}

/// `expect_any`: no token, or a token (whose `act.sub` is `actor`, when given).
fn issued_or_not(actor: Option<Actor>) -> toml::Value {
    let refused = refused();
    let mut issued = toml::Table::new();
    issued.insert("token_issued".into(), toml::Value::Boolean(true));
    if let Some(a) = actor {
        let mut claims = toml::Table::new();
        // OBO-AT-5, OBO-TOKEN-12: act.sub is the actor bound to the code.
        claims.insert("act.sub".into(), s(&format!("${{actor.{}}}", a.which())));
        claims.insert("sub".into(), s("${user.sub}"));
        issued.insert("claims".into(), toml::Value::Table(claims));
    }
    toml::Value::Array(vec![
        toml::Value::Table(refused),
        toml::Value::Table(issued),
    ])
}

/// The case as a TOML file of the case language (replayable with `run`).
fn render(case: &Case, steps: &[toml::Table]) -> String {
    let mut top = toml::Table::new();
    top.insert("id".into(), s(&case.id));
    top.insert("title".into(), s(&case.title));
    top.insert("description".into(), s(&case.description));
    top.insert(
        "requirements".into(),
        toml::Value::Array(case.requirements.iter().map(|r| s(r)).collect()),
    );
    top.insert("level".into(), s("MUST"));
    top.insert("tags".into(), toml::Value::Array(vec![s("fuzz")]));
    top.insert("exclusive".into(), toml::Value::Boolean(true));
    top.insert(
        "step".into(),
        toml::Value::Array(steps.iter().cloned().map(toml::Value::Table).collect()),
    );
    toml::to_string(&top).unwrap_or_else(|e| format!("# cannot render the case: {e}\n"))
}
