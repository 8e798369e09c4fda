//! The abstract model of what the draft allows, checked after each operation.
//!
//! The model is permissive wherever the draft is: a refused request is always allowed (a
//! target may refuse for reasons the model does not know). Only a success the model forbids,
//! or a failed claim check on an issued token, is a violation.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::observe::Observed;
use super::op::{Actor, Op};

/// RFC 6749 §4.1.2: a maximum code lifetime of 10 minutes is recommended; a code older than
/// that (on the target's clock) must never redeem (OBO-SEC-4).
pub const CODE_MAX_AGE: i64 = 600;

/// Which property a violation breaks (shrinking keeps the kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// A code or token without the user's consent for (user, client, actor).
    Consent,
    /// A token for a code bound to X redeemed with Y's actor token.
    ActorBinding,
    /// The issued token's claims (`act.sub`, `sub`) are not the bound chain.
    Claims,
    /// More than one token from one code.
    SingleUse,
    /// A code redeemed after its maximum lifetime.
    CodeExpiry,
    /// Something new issued for a disabled actor.
    DisabledActor,
    /// The resource accepted a token for another actor's endpoint.
    ResourceActor,
    /// A code or refresh token issued to one client was redeemed by another.
    CrossClient,
    /// A token request asking for more than the user consented to got it.
    ScopeEscalation,
}

impl Property {
    pub fn requirements(self) -> &'static [&'static str] {
        match self {
            Property::Consent => &["OBO-AUTHZ-15"],
            Property::ActorBinding => &["OBO-TOKEN-12"],
            Property::Claims => &["OBO-AT-5", "OBO-TOKEN-12"],
            Property::SingleUse => &["OBO-SEC-3"],
            Property::CodeExpiry => &["OBO-SEC-4"],
            Property::DisabledActor => &["OBO-TOKEN-10"],
            Property::ResourceActor => &["OBO-RS-9"],
            // RFC 6749 §4.1.3 (code) and §6 (refresh token): bound to the client it was issued to.
            Property::CrossClient => &["OBO-SEC-6", "OBO-INH-6"],
            // RFC 6749 §3.3 and §6: never more than the user granted; least privilege.
            Property::ScopeEscalation => &["OBO-INH-9", "OBO-INH-13"],
        }
    }
}

/// A success the model forbids, at operation `op` (index in the executed sequence).
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub op: usize,
    pub property: Property,
    pub message: String,
}

#[derive(Debug, Clone)]
struct Code {
    actor: Actor,
    issued_at: i64,
    consented: bool,
    tokens_issued: usize,
}

/// The state the draft's rules depend on.
#[derive(Debug, Default)]
pub struct Model {
    /// (second user?, actor) pairs the user consented to (primary client).
    consent: BTreeSet<(bool, Actor)>,
    codes: BTreeMap<u32, Code>,
    /// Token sets that exist (a success was observed) → bound actor.
    tokens: BTreeMap<u32, Actor>,
    /// Which (code, actor token) a redemption that saved `tokens` used (for replays).
    redemptions: BTreeMap<u32, (u32, Actor)>,
    disabled: BTreeSet<Actor>,
    clock: i64,
}

impl Model {
    /// Applies operation `i` with what was observed; returns the violations it shows.
    pub fn step(&mut self, i: usize, op: &Op, obs: &Observed) -> Vec<Violation> {
        let mut v = Vec::new();
        let mut flag = |property: Property, message: String| {
            v.push(Violation {
                op: i,
                property,
                message,
            })
        };
        // The claim checks that failed (the "no token" alternative failing too is implied).
        let claims: Vec<String> = obs
            .failed
            .iter()
            .filter(|c| !c.name.ends_with("token issued"))
            .map(|c| format!("{} expected {}, observed {}", c.name, c.expected, c.actual))
            .collect();
        if !claims.is_empty() {
            flag(Property::Claims, format!("{op}: {}", claims.join("; ")));
        } else if !obs.failed.is_empty() {
            let all: Vec<String> = obs
                .failed
                .iter()
                .map(|c| format!("{} expected {}, observed {}", c.name, c.expected, c.actual))
                .collect();
            flag(Property::Claims, format!("{op}: {}", all.join("; ")));
        }
        match op {
            Op::Authorize {
                code,
                actor,
                deny,
                second_user,
            } => {
                let had_consent = self.consent.contains(&(*second_user, *actor));
                if *deny && obs.code && !had_consent {
                    flag(Property::Consent, format!("{op}: the user denied and had no stored consent for {}, yet a code came back", actor.which()));
                }
                if !*deny {
                    self.consent.insert((*second_user, *actor));
                }
                if obs.code {
                    let consented = !*deny || had_consent;
                    self.codes.insert(
                        *code,
                        Code {
                            actor: *actor,
                            issued_at: self.clock,
                            consented,
                            tokens_issued: 0,
                        },
                    );
                }
            }
            Op::Redeem { code, with, tokens }
            | Op::Parallel {
                code, with, tokens, ..
            } => {
                if matches!(op, Op::Redeem { .. }) {
                    self.redemptions.insert(*tokens, (*code, *with));
                }
                self.redeem(op, *code, *with, Some(*tokens), obs.wins, &mut flag);
            }
            Op::Replay { tokens } => {
                if let Some((code, with)) = self.redemptions.get(tokens).copied() {
                    self.redeem(op, code, with, Some(*tokens), obs.wins, &mut flag);
                }
            }
            Op::CrossRedeem { code } | Op::WideRedeem { code } => {
                // The bound actor's token is presented: only the client (or the scope) is wrong.
                let with = self.codes.get(code).map_or(Actor::A, |c| c.actor);
                self.redeem(op, *code, with, None, obs.wins, &mut flag);
                if obs.wins > 0 && matches!(op, Op::CrossRedeem { .. }) {
                    flag(
                        Property::CrossClient,
                        format!("{op}: c{code} was issued to the primary client, yet the second client got a token for it"),
                    );
                }
                if obs.wins > 0 && obs.escalated {
                    flag(
                        Property::ScopeEscalation,
                        format!(
                            "{op}: the response grants {}, beyond the consented scope",
                            obs.scope.as_deref().unwrap_or("?")
                        ),
                    );
                }
            }
            Op::CrossRefresh { tokens } | Op::WideRefresh { tokens } => {
                if let Some(actor) = self.tokens.get(tokens).copied() {
                    self.refreshed(op, actor, obs.wins, &mut flag);
                    if obs.wins > 0 && matches!(op, Op::CrossRefresh { .. }) {
                        flag(
                            Property::CrossClient,
                            format!("{op}: the refresh token of t{tokens} was issued to the primary client, yet the second client refreshed it"),
                        );
                    }
                    if obs.wins > 0 && obs.escalated {
                        flag(
                            Property::ScopeEscalation,
                            format!(
                                "{op}: the refresh grants {}, beyond the original grant",
                                obs.scope.as_deref().unwrap_or("?")
                            ),
                        );
                    }
                }
            }
            Op::AdvanceClock { seconds } => self.clock += seconds,
            Op::Disable { actor } => {
                self.disabled.insert(*actor);
            }
            Op::Enable { actor } => {
                self.disabled.remove(actor);
            }
            Op::RevokeConsent { actor } => {
                self.consent.remove(&(false, *actor));
            }
            Op::Refresh { tokens } => {
                if let Some(actor) = self.tokens.get(tokens).copied() {
                    self.refreshed(op, actor, obs.wins, &mut flag);
                }
            }
            Op::Resource { tokens, actor } => {
                if let Some(bound) = self.tokens.get(tokens).copied() {
                    // OBO-RS-9: the endpoint of actor Y requires act.sub = Y.
                    if obs.ok && bound != *actor {
                        flag(Property::ResourceActor, format!("{op}: the resource for actor {} accepted a token bound to actor {}", actor.which(), bound.which()));
                    }
                }
            }
        }
        v
    }

    /// A refresh of a token set bound to `actor` that issued `wins` tokens.
    fn refreshed(
        &self,
        op: &Op,
        actor: Actor,
        wins: usize,
        flag: &mut impl FnMut(Property, String),
    ) {
        // OBO-TOKEN-10 (AMB-29): a disabled actor gets nothing new, refreshes included.
        if wins > 0 && self.disabled.contains(&actor) {
            flag(
                Property::DisabledActor,
                format!(
                    "{op}: a refresh succeeded for actor {}, which is disabled",
                    actor.which()
                ),
            );
        }
    }

    /// A redemption of `code` with `with`'s actor token that issued `wins` tokens, saved as
    /// `tokens` when the sequence keeps them.
    fn redeem(
        &mut self,
        op: &Op,
        code: u32,
        with: Actor,
        tokens: Option<u32>,
        wins: usize,
        flag: &mut impl FnMut(Property, String),
    ) {
        if wins == 0 {
            return;
        }
        let Some(c) = self.codes.get(&code).cloned() else {
            // The code never came back; a token for it is a token without consent.
            flag(
                Property::Consent,
                format!("{op}: a token was issued for a code the authorization never returned"),
            );
            return;
        };
        if !c.consented {
            flag(
                Property::Consent,
                format!("{op}: a token was issued for a code issued without consent"),
            );
        }
        // OBO-TOKEN-12: the actor token's sub must be the actor bound to the code.
        if with != c.actor {
            flag(
                Property::ActorBinding,
                format!(
                    "{op}: c{code} is bound to actor {}, yet actor {}'s token redeemed it",
                    c.actor.which(),
                    with.which()
                ),
            );
        }
        // OBO-SEC-3: at most one token per code, over all its redemptions.
        if c.tokens_issued + wins > 1 {
            flag(
                Property::SingleUse,
                format!(
                    "{op}: c{code} gave {} token(s) here after {} before",
                    wins, c.tokens_issued
                ),
            );
        }
        let age = self.clock - c.issued_at;
        if age >= CODE_MAX_AGE {
            flag(
                Property::CodeExpiry,
                format!("{op}: c{code} redeemed {age} s (target clock) after it was issued"),
            );
        }
        // A disabled actor gets nothing new (OBO-TOKEN-10, AMB-29).
        for a in [c.actor, with] {
            if self.disabled.contains(&a) {
                flag(
                    Property::DisabledActor,
                    format!(
                        "{op}: a token was issued while actor {} is disabled",
                        a.which()
                    ),
                );
            }
        }
        if let Some(c) = self.codes.get_mut(&code) {
            c.tokens_issued += wins;
        }
        if let Some(t) = tokens {
            self.tokens.insert(t, c.actor);
        }
    }
}

/// Runs the model over a sequence's observations; the violations in order.
pub fn check(ops: &[Op], observed: &[Option<Observed>]) -> Vec<Violation> {
    let mut model = Model::default();
    let mut out = Vec::new();
    for (i, (op, obs)) in ops.iter().zip(observed).enumerate() {
        match obs {
            Some(o) => out.extend(model.step(i, op, o)),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests;
