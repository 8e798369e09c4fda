//! Capabilities a target declares and cases need (cases/README.md, "Capabilities"): the
//! declared names, what a case's steps imply, and whether a case needs the target alone.

use std::collections::BTreeSet;

use crate::case::step::{Action, ParallelTokenStep, ResourceStep};
use crate::case::vocabulary::{
    ActorName, ActorTokenChoice, ClientName, Consent, RequestedActor, ResourceToken, UserName,
};
use crate::case::Case;

/// Every capability name of the case language.
pub const ALL: &[&str] = &[
    "jwt_access_tokens",
    "introspection",
    "revocation",
    "refresh_tokens",
    "control_api",
    "clock",
    "control_mint",
    "resource_server",
    "second_client",
    "second_user",
    "public_client",
    "disabled_actor",
    "interactive_consent",
    "resource_indicators",
];

pub fn is_known(name: &str) -> bool {
    ALL.contains(&name)
}

impl Case {
    /// Capabilities the case needs: the declared ones plus those its steps imply.
    pub fn effective_needs(&self) -> BTreeSet<String> {
        let mut n: BTreeSet<String> = self.needs.iter().cloned().collect();
        let mut add = |c: &str| {
            n.insert(c.to_string());
        };
        for s in &self.steps {
            let (client, actor, actor_token, user, consent) = match &s.action {
                // A clock operation, or a real-time wait the profile allows.
                Action::AdvanceClock(_) => {
                    add("clock");
                    Default::default()
                }
                Action::DisableActor(a) | Action::EnableActor(a) => {
                    add("control_api");
                    (None, Some(a.actor), None, None, None)
                }
                Action::RevokeConsent(r) => {
                    add("control_api");
                    (r.client, r.actor, None, None, None)
                }
                Action::Introspect(_) => {
                    add("introspection");
                    Default::default()
                }
                Action::Revoke(r) => {
                    add("revocation");
                    (None, r.actor, None, None, None)
                }
                Action::Refresh(r) => {
                    add("refresh_tokens");
                    (r.client, None, None, None, None)
                }
                Action::Resource(r) => {
                    add("resource_server");
                    if matches!(
                        r,
                        ResourceStep {
                            token: Some(ResourceToken::Minted),
                            ..
                        }
                    ) {
                        add("control_mint");
                    }
                    Default::default()
                }
                Action::Authorize(a) => (
                    a.client,
                    a.actor.and_then(RequestedActor::actor),
                    None,
                    a.user,
                    a.consent,
                ),
                Action::Token(r) | Action::ParallelToken(ParallelTokenStep { request: r, .. }) => {
                    (r.client, None, r.actor_token.as_ref(), None, None)
                }
                Action::ActorToken(a) => (None, a.actor, None, None, None),
                Action::Replay(_) | Action::Wait(_) | Action::Get(_) => Default::default(),
            };
            if actor_token == Some(&ActorTokenChoice::AccessTokenWithActorSub) {
                add("control_mint");
            }
            if user == Some(UserName::Second) {
                add("second_user");
            }
            match client {
                Some(ClientName::Second) => add("second_client"),
                Some(ClientName::Public) => add("public_client"),
                _ => {}
            }
            if actor == Some(ActorName::Disabled)
                || actor_token == Some(&ActorTokenChoice::Actor(ActorName::Disabled))
            {
                add("disabled_actor");
            }
            let page_checks = s.expectations().any(|e| {
                e.consent_prompt.is_some()
                    || e.consent_page_contains.is_some()
                    || e.consent_page_framing_blocked.is_some()
            });
            if matches!(consent, Some(Consent::Deny | Consent::Observe)) || page_checks {
                add("interactive_consent");
            }
        }
        n
    }

    /// True when the case changes server-wide state and must run alone. Besides the clock and
    /// actor steps, cases that depend on the stored consent of the (user, client, actor) triple
    /// (`revoke_consent`, consent `deny` or `observe`) run alone too: a parallel case approving
    /// the same triple would otherwise change what they observe.
    pub fn is_exclusive(&self) -> bool {
        self.exclusive
            || self.steps.iter().any(|s| match &s.action {
                Action::RevokeConsent(_) => true,
                Action::Authorize(a) => matches!(a.consent, Some(Consent::Deny | Consent::Observe)),
                other => other.is_exclusive(),
            })
    }

    /// Whether the case applies to a draft revision ("00", "01", "02").
    pub fn applies_to(&self, revision: &str) -> bool {
        self.revisions
            .as_ref()
            .is_none_or(|r| r.iter().any(|x| x == revision))
    }
}
