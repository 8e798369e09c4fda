//! The steps that change the target's server-wide state through its control adapter: the
//! clock (or a real-time wait in its place), actors disabled and enabled, stored consents
//! revoked, and the restore after the case. A case with any of them runs alone
//! (`Case::is_exclusive`).

use std::time::Duration;

use super::context::TargetContext;
use super::control::{Call, ControlClient};
use super::stop::{Flow, Stop};
use crate::case::step::RevokeConsentStep;
use crate::case::vocabulary::{ActorName, ClientName, Lifetime};
use crate::profile::control::Operation;

impl TargetContext<'_> {
    /// `advance_clock`: the control operation, else a real-time wait for `expires`.
    pub(crate) async fn advance_clock(&mut self, seconds: i64, expires: Option<Lifetime>) -> Flow {
        let can_move =
            ControlClient::of(self.target).is_some_and(|c| c.available(Operation::AdvanceClock));
        if can_move {
            self.control(Call::AdvanceClock { seconds })
                .await
                .map(|_| ())
        } else {
            self.wait_out(expires).await
        }
    }

    /// Without a clock operation: waits out the lifetime of `expires` in real time, when the
    /// profile gives it and allows the wait (`[time]`); otherwise skips saying why.
    async fn wait_out(&mut self, expires: Option<Lifetime>) -> Flow {
        let time = &self.target.profile.time;
        let what = expires.ok_or_else(|| {
            Stop::Skip(
                "the target has no advance_clock operation and the step names nothing to wait out"
                    .into(),
            )
        })?;
        let wait = time.wait_for(what.name()).ok_or_else(|| {
            Stop::Skip(format!(
                "the target has no advance_clock operation and the profile gives no [time] {what}_ttl_secs"
            ))
        })?;
        if wait > time.max_wait_secs {
            return Err(Stop::Skip(format!(
                "the target has no advance_clock operation; outliving the {what} needs a {wait} s wait, the profile allows max_wait_secs = {}",
                time.max_wait_secs
            )));
        }
        tracing::info!("waiting {wait} s in real time for the {what} to expire");
        tokio::time::sleep(Duration::from_secs(wait)).await;
        self.waited_secs += wait;
        Ok(())
    }

    /// `disable_actor`/`enable_actor`; a disabled actor is enabled again after the case.
    pub(crate) async fn set_actor_enabled(&mut self, which: ActorName, enabled: bool) -> Flow {
        let id = self.actor_id(which)?;
        if enabled {
            self.control(Call::EnableActor { actor: id.clone() })
                .await?;
            self.disabled.retain(|a| *a != id);
        } else {
            self.control(Call::DisableActor { actor: id.clone() })
                .await?;
            self.disabled.push(id);
        }
        Ok(())
    }

    /// `revoke_consent`: the stored consent of (primary user, client, actor) withdrawn.
    pub(crate) async fn revoke_consent(&mut self, r: &RevokeConsentStep) -> Flow {
        let actor = self.actor_id(r.actor.unwrap_or(ActorName::A))?;
        let client_id = self
            .client(r.client.unwrap_or(ClientName::Primary))?
            .id
            .clone();
        let user = self.target.profile.user.username.clone();
        self.control(Call::RevokeConsent {
            user,
            client_id,
            actor,
        })
        .await
        .map(|_| ())
    }

    /// Undoes the case's server-wide changes (disabled actors), outside the transcript.
    pub(crate) async fn restore(&mut self) {
        let Some(control) = ControlClient::of(self.target) else {
            return;
        };
        for actor in std::mem::take(&mut self.disabled) {
            let _ = control.call(&Call::EnableActor { actor }).await;
        }
    }
}
