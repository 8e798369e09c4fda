//! The one redaction point of a case: everything a case records (every string of its
//! transcript) and everything it says about the target (its ending, its checks' expected and
//! actual values) goes through one [`CaseRedactor`] when the case ends.
//!
//! Two passes, since a one-time credential may be met after the exchanges that carry it: the
//! first applies the run's rules and secrets to every recorded string and notes the one-time
//! credentials the field rule blanked; the second replaces those (and the ones the case kept)
//! wherever else they appear, once all are known.

use std::borrow::Cow;
use std::sync::Arc;

use super::Redactor;

/// The run's [`Redactor`] (the profile's secrets and the structural rules, its automaton built
/// once per run) and the case's own one-time credentials (refresh tokens, PKCE verifiers: a
/// handful, searched with a few finders built once per case).
#[derive(Debug, Clone)]
pub struct CaseRedactor {
    run: Arc<Redactor>,
    own: Redactor,
    /// The one-time credentials added so far, as met (each is added once, in every encoding).
    met: Vec<String>,
}

impl CaseRedactor {
    pub fn new(run: Arc<Redactor>) -> CaseRedactor {
        CaseRedactor {
            run,
            own: Redactor::default(),
            met: Vec::new(),
        }
    }

    /// A one-time credential of the case (a verifier it drew, a refresh token it kept).
    pub fn add_secret(&mut self, secret: &str) {
        if !secret.is_empty() && !self.met.iter().any(|m| m == secret) {
            self.met.push(secret.to_string());
            self.own.add_secret(secret);
        }
    }

    /// First pass over a recorded string: the run's rules and secrets. The one-time
    /// credentials the field rule blanked become the case's own. `text` is given back when no
    /// rule changed it.
    pub fn redact_run(&mut self, text: String) -> String {
        let mut noted = Vec::new();
        let changed = owned(self.run.redact_noting_cow(&text, &mut noted));
        noted.iter().for_each(|v| self.add_secret(v));
        changed.unwrap_or(text)
    }

    /// First pass over a recorded header value ([`Redactor::redact_header`]).
    pub fn redact_run_header(&mut self, name: &str, value: String) -> String {
        let mut noted = Vec::new();
        let changed = owned(self.run.redact_header_noting_cow(name, &value, &mut noted));
        noted.iter().for_each(|v| self.add_secret(v));
        changed.unwrap_or(value)
    }

    /// Second pass, once every one-time credential of the case is known: each one, in every
    /// encoding, wherever it appears.
    pub fn redact_own(&self, text: String) -> String {
        if !self.own.mentions_secret(&text) {
            return text;
        }
        self.own.redact_needles(&text).into_owned()
    }

    /// A text the harness wrote about the target (a message, a check's expected or actual
    /// value): one that quotes a one-time credential of the case is redacted whole (rules and
    /// those credentials); any other is left as written.
    pub fn redact_quoted(&self, text: &mut String) {
        if self.own.mentions_secret(text) {
            *text = self.own.redact(text);
        }
    }
}

/// The rewritten text, if a rule rewrote it.
fn owned(text: Cow<'_, str>) -> Option<String> {
    match text {
        Cow::Owned(changed) => Some(changed),
        Cow::Borrowed(_) => None,
    }
}
