//! The operations of a fuzz sequence and their seeded generator.
//!
//! Operations name codes and token sets by stable ids (not positions), so that removing an
//! operation while shrinking leaves the others meaningful; an operation whose code or token set
//! no longer exists is dropped by [`normalize`].

use std::collections::BTreeSet;
use std::fmt;

use rand::RngExt;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

/// One of the profile's two genuine actors (`a`, `b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Actor {
    A,
    B,
}

impl Actor {
    /// The profile's name for the actor (`${actor.a}`).
    pub fn which(self) -> &'static str {
        match self {
            Actor::A => "a",
            Actor::B => "b",
        }
    }

    pub fn other(self) -> Actor {
        match self {
            Actor::A => Actor::B,
            Actor::B => Actor::A,
        }
    }
}

/// One operation against the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Authorization request for `actor`; the user approves or denies; the code is `code`.
    /// `second_user`: the profile's second user signs in (a user the fuzzer never approves
    /// anything for, so a deny is meaningful on a target whose stored consents cannot be reset).
    Authorize {
        code: u32,
        actor: Actor,
        deny: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        second_user: bool,
    },
    /// Redeems `code` with a genuine actor token of `with`; tokens saved as `tokens`.
    Redeem {
        code: u32,
        with: Actor,
        tokens: u32,
    },
    /// Sends the token request of the `Redeem` that saved `tokens` again, byte for byte.
    Replay {
        tokens: u32,
    },
    /// `count` identical redemptions of `code` at once.
    Parallel {
        code: u32,
        with: Actor,
        count: u8,
        tokens: u32,
    },
    /// Moves the target's clock (control API).
    AdvanceClock {
        seconds: i64,
    },
    Disable {
        actor: Actor,
    },
    Enable {
        actor: Actor,
    },
    /// Forgets the stored consent of (user, primary client, actor).
    RevokeConsent {
        actor: Actor,
    },
    /// refresh_token grant with the refresh token of `tokens`.
    Refresh {
        tokens: u32,
    },
    /// Calls the resource endpoint that requires actor `actor`, with the access token of `tokens`.
    Resource {
        tokens: u32,
        actor: Actor,
    },
    /// The profile's second client redeems `code` (issued to the primary client) with the bound
    /// actor's token (OBO-SEC-6, OBO-INH-6).
    CrossRedeem {
        code: u32,
    },
    /// Redeems `code` with the bound actor's token and a `scope` parameter asking for the
    /// consented scope plus the profile's extra scope (OBO-INH-9, OBO-INH-13).
    WideRedeem {
        code: u32,
    },
    /// The second client presents the refresh token of `tokens` (RFC 6749 §6: a refresh token is
    /// bound to its client; OBO-SEC-6, OBO-INH-6).
    CrossRefresh {
        tokens: u32,
    },
    /// refresh_token grant with the refresh token of `tokens` and a `scope` wider than the
    /// original grant (RFC 6749 §6; OBO-INH-9, OBO-INH-13).
    WideRefresh {
        tokens: u32,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Authorize {
                code,
                actor,
                deny,
                second_user,
            } => {
                write!(
                    f,
                    "authorize actor {} ({}{}) -> code c{code}",
                    actor.which(),
                    if *deny { "deny" } else { "approve" },
                    if *second_user { ", second user" } else { "" }
                )
            }
            Op::Redeem { code, with, tokens } => write!(
                f,
                "redeem c{code} with actor token of {} -> t{tokens}",
                with.which()
            ),
            Op::Replay { tokens } => write!(f, "replay the redemption that made t{tokens}"),
            Op::Parallel {
                code,
                with,
                count,
                tokens,
            } => {
                write!(
                    f,
                    "{count} parallel redemptions of c{code} with actor token of {} -> t{tokens}",
                    with.which()
                )
            }
            Op::AdvanceClock { seconds } => write!(f, "advance the clock {seconds} s"),
            Op::Disable { actor } => write!(f, "disable actor {}", actor.which()),
            Op::Enable { actor } => write!(f, "enable actor {}", actor.which()),
            Op::RevokeConsent { actor } => {
                write!(f, "revoke the consent for actor {}", actor.which())
            }
            Op::Refresh { tokens } => write!(f, "refresh t{tokens}"),
            Op::Resource { tokens, actor } => write!(
                f,
                "call the resource for actor {} with t{tokens}",
                actor.which()
            ),
            Op::CrossRedeem { code } => write!(f, "the second client redeems c{code}"),
            Op::WideRedeem { code } => write!(f, "redeem c{code} asking for a wider scope"),
            Op::CrossRefresh { tokens } => {
                write!(f, "the second client refreshes t{tokens}")
            }
            Op::WideRefresh { tokens } => write!(f, "refresh t{tokens} asking for a wider scope"),
        }
    }
}

/// What the target supports, which decides the operations generated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Abilities {
    /// The control adapter moves the target's clock.
    pub clock: bool,
    /// The control adapter disables and enables actors (both: an actor left disabled would
    /// spoil the sequences after).
    pub disable: bool,
    /// The control adapter forgets stored consents.
    pub revoke_consent: bool,
    /// The consent driver can deny.
    pub deny: bool,
    /// Denials are made by the profile's second user, in sequences of their own: without a
    /// reset, stored consents of the primary user from earlier sequences (or runs) are
    /// unknown, and only a user the fuzzer never approves for makes a deny observable.
    pub deny_as_second_user: bool,
    pub refresh: bool,
    /// A resource endpoint per actor (`resource.actor_url`).
    pub actor_resource: bool,
    /// A second confidential client (`[client.second]`): cross-client redemption.
    pub second_client: bool,
    /// A scope the user did not consent to (`[scope] extra`): scope escalation.
    pub wider_scope: bool,
}

/// Clock steps around the interesting boundaries (60 s code TTL of many servers, 300 s actor
/// token lifetime, 600 s: RFC 6749's recommended maximum code lifetime).
const CLOCK_STEPS: &[i64] = &[5, 30, 59, 61, 120, 400, 700];

/// Range of the generator's roll: 0..100 for the original operations, 100.. for cross-client
/// and scope escalation (appended, so the original operations keep their odds relative to each
/// other).
const ROLLS: u32 = 120;

/// A random sequence of `len` operations.
///
/// Refresh and resource operations need a token set that exists; the harness cannot act on a
/// redemption that was refused, so they are drawn from redemptions that a conforming target
/// would accept (right actor, fresh code, enabled actors, young code): the generator's
/// prediction, which the model does not rely on.
pub fn generate(rng: &mut ChaCha20Rng, len: usize, ab: Abilities) -> Vec<Op> {
    if ab.deny && ab.deny_as_second_user && rng.random_bool(DENIAL_SEQUENCES) {
        return denials(rng, len);
    }
    let mut g = Gen {
        ab: Abilities {
            deny: ab.deny && !ab.deny_as_second_user,
            ..ab
        },
        ..Default::default()
    };
    while g.ops.len() < len {
        let roll = rng.random_range(0..ROLLS);
        if let Some(op) = g.pick(rng, roll) {
            g.apply(&op);
            g.ops.push(op);
        }
    }
    g.ops
}

/// Share of the sequences made of the second user's denials only (when denials need it).
const DENIAL_SEQUENCES: f64 = 0.15;

/// Up to three authorizations that the second user denies, and nothing else. The user's
/// sign-in lasts for the whole sequence (one cookie jar per case), so the second user's
/// denials never share a sequence with the primary user's authorizations: either user's
/// session would otherwise be reused for the other.
fn denials(rng: &mut ChaCha20Rng, len: usize) -> Vec<Op> {
    (0..len.clamp(1, 3))
        .map(|i| Op::Authorize {
            code: i as u32,
            actor: pick_actor(rng),
            deny: true,
            second_user: true,
        })
        .collect()
}

/// The generator's view of the sequence so far.
#[derive(Default)]
struct Gen {
    ab: Abilities,
    ops: Vec<Op>,
    /// Approved codes: (code, actor, clock at issue, redeemed already).
    codes: Vec<(u32, Actor, i64, bool)>,
    redeems: Vec<u32>,
    /// Token sets a conforming target would have issued.
    likely: Vec<u32>,
    disabled: BTreeSet<Actor>,
    clock: i64,
    next_code: u32,
    next_tokens: u32,
}

impl Gen {
    fn pick(&mut self, rng: &mut ChaCha20Rng, roll: u32) -> Option<Op> {
        let ab = self.ab;
        let codes: Vec<u32> = self.codes.iter().map(|c| c.0).collect();
        Some(match roll {
            // Without a code, most operations have nothing to act on: authorize first.
            _ if codes.is_empty() || roll < 24 => {
                let code = self.next_code;
                self.next_code += 1;
                Op::Authorize {
                    code,
                    actor: pick_actor(rng),
                    deny: ab.deny && rng.random_bool(0.25),
                    second_user: false,
                }
            }
            24..=49 | 58..=65 => {
                let code = pick_recent(rng, &codes);
                let bound = self
                    .codes
                    .iter()
                    .find(|c| c.0 == code)
                    .map(|c| c.1)
                    .unwrap_or(Actor::A);
                // Mostly the bound actor: sequences should get tokens to act on.
                let with = if rng.random_bool(0.7) {
                    bound
                } else {
                    bound.other()
                };
                let tokens = self.next_tokens;
                self.next_tokens += 1;
                if roll >= 58 {
                    Op::Parallel {
                        code,
                        with,
                        count: rng.random_range(2..=8),
                        tokens,
                    }
                } else {
                    Op::Redeem { code, with, tokens }
                }
            }
            50..=57 if !self.redeems.is_empty() => Op::Replay {
                tokens: pick_recent(rng, &self.redeems),
            },
            66..=72 if ab.clock => {
                let i = rng.random_range(0..CLOCK_STEPS.len());
                Op::AdvanceClock {
                    seconds: CLOCK_STEPS.get(i).copied().unwrap_or(61),
                }
            }
            73..=79 if ab.disable => {
                let actor = pick_actor(rng);
                if self.disabled.contains(&actor) || rng.random_bool(0.3) {
                    Op::Enable { actor }
                } else {
                    Op::Disable { actor }
                }
            }
            80..=83 if ab.revoke_consent => Op::RevokeConsent {
                actor: pick_actor(rng),
            },
            84..=91 if ab.refresh && !self.likely.is_empty() => Op::Refresh {
                tokens: pick_recent(rng, &self.likely),
            },
            92..=99 if ab.actor_resource && !self.likely.is_empty() => Op::Resource {
                tokens: pick_recent(rng, &self.likely),
                actor: pick_actor(rng),
            },
            100..=103 if ab.second_client => Op::CrossRedeem {
                code: pick_recent(rng, &codes),
            },
            104..=107 if ab.wider_scope => Op::WideRedeem {
                code: pick_recent(rng, &codes),
            },
            108..=113 if ab.second_client && ab.refresh && !self.likely.is_empty() => {
                Op::CrossRefresh {
                    tokens: pick_recent(rng, &self.likely),
                }
            }
            114..=119 if ab.wider_scope && ab.refresh && !self.likely.is_empty() => {
                Op::WideRefresh {
                    tokens: pick_recent(rng, &self.likely),
                }
            }
            _ => return None,
        })
    }

    fn apply(&mut self, op: &Op) {
        match op {
            // A disabled actor gets no code either (the reference refuses the request).
            Op::Authorize {
                code,
                actor,
                deny: false,
                ..
            } if !self.disabled.contains(actor) => {
                self.codes.push((*code, *actor, self.clock, false))
            }
            // A conforming target may consume the code whatever the outcome.
            Op::CrossRedeem { code } | Op::WideRedeem { code } => {
                if let Some(c) = self.codes.iter_mut().find(|c| c.0 == *code) {
                    c.3 = true;
                }
            }
            Op::Redeem { code, with, tokens }
            | Op::Parallel {
                code, with, tokens, ..
            } => {
                if matches!(op, Op::Redeem { .. }) {
                    self.redeems.push(*tokens);
                }
                let clock = self.clock;
                let enabled = !self.disabled.contains(with);
                if let Some(c) = self.codes.iter_mut().find(|c| c.0 == *code) {
                    if c.1 == *with && !c.3 && clock - c.2 < 60 && enabled {
                        self.likely.push(*tokens);
                    }
                    c.3 = true;
                }
            }
            Op::AdvanceClock { seconds } => self.clock += seconds,
            Op::Disable { actor } => {
                self.disabled.insert(*actor);
            }
            Op::Enable { actor } => {
                self.disabled.remove(actor);
            }
            _ => {}
        }
    }
}

fn pick_actor(rng: &mut ChaCha20Rng) -> Actor {
    if rng.random_bool(0.5) {
        Actor::A
    } else {
        Actor::B
    }
}

/// An element of `v`, the recent ones twice as likely (sequences act on fresh state more).
fn pick_recent(rng: &mut ChaCha20Rng, v: &[u32]) -> u32 {
    let n = v.len();
    let i = if n > 1 && rng.random_bool(0.5) {
        n - 1 - rng.random_range(0..n.min(2))
    } else {
        rng.random_range(0..n.max(1))
    };
    v.get(i).copied().unwrap_or(0)
}

/// Drops operations whose code or token set no longer exists (after shrinking), and
/// redemptions of denied authorizations (they have no code to redeem).
pub fn normalize(ops: &[Op]) -> Vec<Op> {
    let mut codes: BTreeSet<u32> = BTreeSet::new();
    let mut redeemed: BTreeSet<u32> = BTreeSet::new();
    let mut tokens: BTreeSet<u32> = BTreeSet::new();
    let mut out = Vec::new();
    for op in ops {
        let keep = match op {
            Op::Authorize { code, deny, .. } => {
                if !deny {
                    codes.insert(*code);
                }
                true
            }
            Op::Redeem {
                code, tokens: t, ..
            } => {
                let ok = codes.contains(code);
                if ok {
                    redeemed.insert(*t);
                    tokens.insert(*t);
                }
                ok
            }
            Op::Parallel {
                code, tokens: t, ..
            } => {
                let ok = codes.contains(code);
                if ok {
                    tokens.insert(*t);
                }
                ok
            }
            Op::Replay { tokens: t } => redeemed.contains(t),
            Op::CrossRedeem { code } | Op::WideRedeem { code } => codes.contains(code),
            Op::Refresh { tokens: t }
            | Op::Resource { tokens: t, .. }
            | Op::CrossRefresh { tokens: t }
            | Op::WideRefresh { tokens: t } => tokens.contains(t),
            _ => true,
        };
        if keep {
            out.push(op.clone());
        }
    }
    out
}
