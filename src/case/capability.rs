//! Capabilities a target declares and cases need (cases/README.md, "Capabilities"): the
//! declared names, what a case's steps imply, and whether a case needs the target alone.

use std::collections::BTreeSet;

use crate::case::step::{Action, Parallel};
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
        for s in &self.steps {
            n.extend(implied_by(&s.action).into_iter().map(str::to_string));
            let page_checks = s.expectations().any(|e| {
                e.consent_prompt.is_some()
                    || e.consent_page_contains.is_some()
                    || e.consent_page_framing_blocked.is_some()
            });
            if page_checks {
                n.insert("interactive_consent".into());
            }
        }
        n
    }

    /// True when the case changes server-wide state and must run alone. Besides the clock and
    /// actor steps, cases that depend on the stored consent of the (user, client, actor) triple
    /// (`revoke_consent`, consent `deny`, `observe` or a forged consent post) run alone too: a parallel case approving
    /// the same triple would otherwise change what they observe.
    pub fn is_exclusive(&self) -> bool {
        self.exclusive
            || self.steps.iter().any(|s| match &s.action {
                Action::RevokeConsent(_) => true,
                Action::Authorize(a) => a.consent.is_some_and(Consent::depends_on_stored_consent),
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

/// The capabilities one step implies by its kind and the clients, users and actors it names.
fn implied_by(action: &Action) -> Vec<&'static str> {
    let mut n = Vec::new();
    match action {
        // A clock operation, or a real-time wait the profile allows.
        Action::AdvanceClock(_) => n.push("clock"),
        Action::DisableActor(a) | Action::EnableActor(a) => {
            n.push("control_api");
            n.extend(actor_need(Some(a.actor)));
        }
        Action::RevokeConsent(r) => {
            n.push("control_api");
            n.extend(client_need(r.client));
            n.extend(actor_need(r.actor));
        }
        Action::Introspect(r) => {
            n.push("introspection");
            n.extend(client_need(r.client));
        }
        Action::Revoke(r) => {
            n.push("revocation");
            n.extend(actor_need(r.actor));
            n.extend(client_need(r.client));
        }
        Action::Refresh(r) | Action::ParallelRefresh(Parallel { request: r, .. }) => {
            n.push("refresh_tokens");
            n.extend(client_need(r.client));
        }
        Action::Resource(r) => {
            n.push("resource_server");
            if r.token == Some(ResourceToken::Minted) {
                n.push("control_mint");
            }
        }
        Action::Authorize(a) => {
            n.extend(client_need(a.client));
            n.extend(actor_need(a.actor.and_then(RequestedActor::actor)));
            if a.user == Some(UserName::Second) {
                n.push("second_user");
            }
            if a.consent.is_some_and(Consent::needs_interactive_driver) {
                n.push("interactive_consent");
            }
        }
        Action::Token(r) | Action::ParallelToken(Parallel { request: r, .. }) => {
            n.extend(client_need(r.client));
            match r.actor_token {
                Some(ActorTokenChoice::AccessTokenWithActorSub) => n.push("control_mint"),
                Some(ActorTokenChoice::Actor(a)) => n.extend(actor_need(Some(a))),
                _ => {}
            }
        }
        Action::ActorToken(a) => n.extend(actor_need(a.actor)),
        Action::Replay(_) | Action::Wait(_) | Action::Get(_) => {}
    }
    n
}

fn client_need(client: Option<ClientName>) -> Option<&'static str> {
    match client? {
        ClientName::Second => Some("second_client"),
        ClientName::Public => Some("public_client"),
        ClientName::Primary => None,
    }
}

fn actor_need(actor: Option<ActorName>) -> Option<&'static str> {
    (actor? == ActorName::Disabled).then_some("disabled_actor")
}
