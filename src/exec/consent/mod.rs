//! Consent drivers: take an authorization request to the redirect back to redirect_uri.
//!
//! - `auto`: the authorization endpoint (possibly after redirects inside the AS) redirects back
//!   with a code; cookies kept by the session.
//! - `form`: page rules (`[[consent.page]]`, matched on URL and/or content) and built-in shapes
//!   ([`recognise`]): fill and submit forms found with a real HTML parser, in the session's
//!   cookie jar.
//! - `browser`: the same rules in headless Chromium, for pages built by JavaScript.
//! - `command`: a program given the authorization URL prints the final redirect URL.
//! - `manual`: prints the URL and listens on the loopback redirect_uri, with a timeout.
//!
//! Every driver detects the final redirect itself (no callback server except `manual`) and,
//! when it cannot get there, says where it stopped ("stopped at URL, status, ...").

mod browser;
mod command;
pub mod forgery;
mod form;
pub mod html_form;
mod manual;
pub mod recognise;

pub use browser::{find_chromium, set_screenshot_dir, BrowserSlot};
pub(crate) use command::run as run_program;
pub use forgery::{ForgedForm, Forgery, Tamper};

use url::Url;

use crate::case::vocabulary::Consent as CaseConsent;
use crate::profile::{Consent, Target};
use crate::session::{Request, Response, Session};

/// What the user does at the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
    /// Drive the login only, then report whether a consent page appeared.
    Observe,
    /// Post the login or consent form with its anti-CSRF value removed or wrong, otherwise
    /// approve (RFC 6749 §10.12, OBO-INH-28; [`forgery`]).
    Forge(Forgery),
}

impl Decision {
    /// The decision a case's `consent` asks for.
    pub fn of(consent: CaseConsent) -> Decision {
        let forge = |form, tamper| Decision::Forge(Forgery { form, tamper });
        match consent {
            CaseConsent::Approve => Decision::Approve,
            CaseConsent::Deny => Decision::Deny,
            CaseConsent::Observe => Decision::Observe,
            CaseConsent::LoginWithoutCsrf => forge(ForgedForm::Login, Tamper::Remove),
            CaseConsent::LoginWithWrongCsrf => forge(ForgedForm::Login, Tamper::Alter),
            CaseConsent::ApproveWithoutCsrf => forge(ForgedForm::Consent, Tamper::Remove),
            CaseConsent::ApproveWithWrongCsrf => forge(ForgedForm::Consent, Tamper::Alter),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
            Decision::Observe => "observe",
            Decision::Forge(f) => f.name(),
        }
    }

    /// What is pressed on the consent page: a forgery approves (with its post forged when the
    /// consent form is the one forged).
    pub fn at_consent(self) -> Decision {
        match self {
            Decision::Forge(_) => Decision::Approve,
            other => other,
        }
    }
}

/// What the driver observed.
#[derive(Debug, Clone, Default)]
pub struct AuthzOutcome {
    /// The redirect that left the AS (to redirect_uri, or elsewhere), if any.
    pub redirect: Option<Url>,
    /// Status of the last response seen (the redirect itself, or the page it stopped at).
    pub status: Option<u16>,
    /// The last response seen (for JSON `error` bodies of error pages).
    pub last: Option<Response>,
    /// `Some(true)` when a consent page was shown; `Some(false)` when a code came back without one.
    pub consent_prompt: Option<bool>,
    /// Text of the consent page, when one was seen.
    pub consent_page_text: Option<String>,
    /// Login/consent pages shown (URL), and whether each forbids framing.
    pub framing: Vec<(String, bool)>,
    /// A remark for messages (e.g. the user was to deny but no consent page appeared).
    pub note: Option<String>,
    /// Where and why the driver stopped, when no redirect left the AS.
    pub stopped: Option<String>,
    /// How the AS refused a forged login or consent post ([`forgery`]): an answer observed,
    /// not a stop of the driver.
    pub refusal: Option<String>,
    /// Why the case cannot be judged with this target (its driver cannot forge a post, or its
    /// form has no anti-CSRF field): the case skips with it.
    pub not_applicable: Option<String>,
    /// Values the driver sent or withheld that reports must not show (anti-CSRF values).
    pub secrets: Vec<String>,
}

impl AuthzOutcome {
    /// A query parameter of the final redirect (`code`, `state`, `error`).
    pub fn param(&self, name: &str) -> Option<String> {
        let r = self.redirect.as_ref()?;
        let mut q = r.query_pairs().chain(
            r.fragment()
                .map(|f| url::form_urlencoded::parse(f.as_bytes()))
                .into_iter()
                .flatten(),
        );
        q.find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    /// One line for messages: where the authorization ended.
    pub fn describe(&self) -> String {
        if let Some(s) = self.stopped.as_ref().or(self.refusal.as_ref()) {
            return s.clone();
        }
        let note = self
            .note
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        match &self.redirect {
            Some(r) => {
                let mut u = r.clone();
                u.set_query(None);
                let keys: Vec<String> = r
                    .query_pairs()
                    .map(|(k, v)| {
                        if k == "error" {
                            format!("error={v}")
                        } else {
                            k.into_owned()
                        }
                    })
                    .collect();
                format!("redirected to {u} with [{}]{note}", keys.join(", "))
            }
            None => "no redirect".into(),
        }
    }
}

/// True when `loc` is the redirect_uri (scheme, host, port and path; query ignored).
pub fn is_redirect_uri(loc: &Url, redirect_uri: &Url) -> bool {
    loc.scheme() == redirect_uri.scheme()
        && loc.host_str() == redirect_uri.host_str()
        && loc.port_or_known_default() == redirect_uri.port_or_known_default()
        && loc.path() == redirect_uri.path()
}

/// Where the driver must stop: the redirect_uri sent and the client's registered one.
pub struct Destination<'a> {
    pub sent: Option<&'a Url>,
    pub registered: &'a Url,
    /// The user who signs in on the login page.
    pub user: &'a crate::profile::User,
}

impl Destination<'_> {
    fn reached(&self, loc: &Url) -> bool {
        is_redirect_uri(loc, self.registered) || self.sent.is_some_and(|s| is_redirect_uri(loc, s))
    }
}

/// Drives `initial` (the authorization request) to its end with the target's driver.
/// `Err` is a harness problem (driver failure, timeout) with what was seen.
pub async fn drive(
    session: &mut Session,
    target: &Target,
    initial: &Request,
    dest: &Destination<'_>,
    decision: Decision,
) -> Result<AuthzOutcome, String> {
    if let Decision::Forge(forgery) = decision {
        return forge(session, target, initial, dest, forgery).await;
    }
    match &target.profile.consent {
        Consent::Auto {} => {
            follow(session, target, initial.clone(), dest, decision, None, None).await
        }
        Consent::Form { pages, .. } => {
            follow(
                session,
                target,
                initial.clone(),
                dest,
                decision,
                Some(pages),
                None,
            )
            .await
        }
        Consent::Browser {
            pages,
            chromium,
            wait_secs,
        } => {
            let opts = browser::Options {
                chromium: chromium.clone(),
                wait: std::time::Duration::from_secs(wait_secs.unwrap_or(10)),
            };
            browser::drive(session, target, initial, dest, decision, pages, &opts).await
        }
        Consent::Command {
            command,
            timeout_secs,
        } => command::drive(initial, dest, decision, command, *timeout_secs).await,
        Consent::Manual { timeout_secs } => {
            manual::drive(initial, dest, decision, *timeout_secs).await
        }
    }
}

/// Drives an authorization whose login or consent form is posted forged: the `form` driver
/// only, since the others cannot change what a browser, a program or a person posts.
async fn forge(
    session: &mut Session,
    target: &Target,
    initial: &Request,
    dest: &Destination<'_>,
    forgery: Forgery,
) -> Result<AuthzOutcome, String> {
    let Consent::Form { pages, .. } = &target.profile.consent else {
        let driver = match &target.profile.consent {
            Consent::Auto {} => "auto (no login or consent form is shown)",
            Consent::Browser { .. } => "browser",
            Consent::Command { .. } => "command",
            Consent::Manual { .. } => "manual",
            Consent::Form { .. } => "form",
        };
        return Ok(AuthzOutcome {
            not_applicable: Some(format!(
                "{} needs the form consent driver, which can change what it posts; this target's is {driver}",
                forgery.what()
            )),
            ..AuthzOutcome::default()
        });
    };
    let mut forging = forgery::Forging::new(forgery);
    let decision = Decision::Forge(forgery);
    let mut outcome = follow(
        session,
        target,
        initial.clone(),
        dest,
        decision,
        Some(pages),
        Some(&mut forging),
    )
    .await?;
    forging.conclude(&mut outcome)?;
    Ok(outcome)
}

/// Most pages and redirects one authorization may take before the driver gives up.
const MAX_HOPS: usize = 20;

/// The HTTP loop of the `auto` and `form` drivers.
async fn follow(
    session: &mut Session,
    target: &Target,
    initial: Request,
    dest: &Destination<'_>,
    decision: Decision,
    pages: Option<&Vec<crate::profile::FormPage>>,
    mut forging: Option<&mut forgery::Forging>,
) -> Result<AuthzOutcome, String> {
    let as_origin = target.endpoints.authorization.origin();
    let mut outcome = AuthzOutcome::default();
    let mut req = initial;
    let mut submitted: Vec<String> = Vec::new();
    for _ in 0..MAX_HOPS {
        let resp = session
            .send(&req)
            .await
            .map_err(|e| format!("authorization: {e}"))?;
        outcome.status = Some(resp.status);
        if resp.is_redirect() {
            let Some(loc) = resp.location() else {
                outcome.stopped = Some(format!(
                    "stopped at {}: status {} with an unusable Location",
                    resp.url, resp.status
                ));
                outcome.last = Some(resp);
                return Ok(outcome);
            };
            if dest.reached(&loc)
                || (loc.origin() != as_origin && loc.origin() != resp.url.origin())
            {
                // Left the AS: the final redirect (to redirect_uri, or somewhere the AS must not send us).
                if decision == Decision::Observe && outcome.consent_prompt.is_none() {
                    outcome.consent_prompt = Some(false);
                }
                if decision == Decision::Deny && outcome.consent_prompt.is_none() {
                    outcome.note = Some(
                        "no consent page appeared, so there was nothing to deny: a stored consent?"
                            .into(),
                    );
                }
                outcome.redirect = Some(loc);
                outcome.last = Some(resp);
                if let Some(f) = forging.as_deref() {
                    f.note_redirect(&mut outcome);
                }
                return Ok(outcome);
            }
            req = Request::get(loc);
            continue;
        }
        let html = resp.status == 200 && resp.is_html();
        match (pages, html) {
            (Some(pages), true) => {
                match form::next(
                    target,
                    dest.user,
                    pages,
                    &resp,
                    decision,
                    &mut outcome,
                    &mut submitted,
                    forging.as_deref_mut(),
                )? {
                    form::Next::Submit(r) => {
                        req = r;
                        continue;
                    }
                    form::Next::Stop => {
                        outcome.last = Some(resp);
                        return Ok(outcome);
                    }
                }
            }
            (None, true) => {
                outcome.stopped = Some(format!(
                    "stopped at {}: status 200, an HTML page{} that the auto driver cannot fill (use the form driver)",
                    resp.url,
                    form::title(&resp.body).map(|t| format!(" titled {t:?}")).unwrap_or_default()
                ));
            }
            _ => {
                let err = resp
                    .json()
                    .and_then(|j| j.get("error").and_then(|e| e.as_str()).map(str::to_string));
                if let Some(f) = forging
                    .as_deref()
                    .filter(|f| f.stage == forgery::Stage::Sent)
                {
                    f.answered_with_status(resp.status, &resp.url, err.as_deref(), &mut outcome);
                    outcome.last = Some(resp);
                    return Ok(outcome);
                }
                outcome.stopped = Some(format!(
                    "stopped at {}: status {}{}",
                    resp.url,
                    resp.status,
                    err.map(|e| format!(", error={e}")).unwrap_or_default()
                ));
            }
        }
        outcome.last = Some(resp);
        return Ok(outcome);
    }
    Err(format!(
        "authorization: more than {MAX_HOPS} redirects and pages without reaching the redirect_uri"
    ))
}
