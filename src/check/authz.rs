//! Checks on an authorization response (`redirect`, `state_echo`, `consent_prompt`, consent
//! page text and framing).

use super::{CheckContext, Observation};
use crate::case::Expect;
use obo_report::Check;

/// The authorization response: a code or an error redirect with the state echoed
/// (OBO-AUTHZ-9, OBO-AUTHZ-10, OBO-AUTHZ-15, OBO-AUTHZ-16), the consent prompt and what the
/// consent page shows (OBO-AUTHZ-11, OBO-AUTHZ-12, OBO-AUTHZ-13, OBO-AUTHZ-14, OBO-SEC-9) and
/// framing (OBO-INH-15), under the case's requirement IDs.
pub(super) fn authz_checks(
    obs: &Observation,
    e: &Expect,
    cx: &CheckContext<'_>,
    out: &mut Vec<Check>,
) {
    let Some(a) = &obs.authz else {
        return;
    };
    if let Some(want) = &e.redirect {
        let ok = match want.as_str() {
            "code" => a.to_redirect_uri && a.code.is_some(),
            "error" => a.to_redirect_uri && a.error.is_some(),
            _ => !a.to_redirect_uri,
        };
        let exp = match want.as_str() {
            "code" => "redirect to redirect_uri with a code",
            "error" => "redirect to redirect_uri with an error",
            _ => "no redirect to the redirect_uri",
        };
        out.push(cx.check("redirect", exp, a.describe.clone(), ok));
    }
    if let Some(want) = e.state_echo {
        let ok = a.to_redirect_uri && a.state.is_some() && a.state == a.sent_state;
        out.push(cx.check(
            "state echo",
            format!("state echoed byte for byte: {want}"),
            format!(
                "sent {}, got {}",
                a.sent_state.as_deref().unwrap_or("(none)"),
                a.state.as_deref().unwrap_or("(none)")
            ),
            ok == want,
        ));
    }
    if let (Some(want), Some(seen)) = (e.consent_prompt, obs.consent_prompt) {
        let ok = seen == want;
        let actual = if seen {
            "a consent page was shown"
        } else {
            "a code came back without a consent page"
        };
        out.push(cx.check(
            "consent prompt",
            if want {
                "a consent page is shown"
            } else {
                "no consent page (silent approval)"
            },
            actual,
            ok,
        ));
    }
    if let Some(want) = e
        .consent_page_framing_blocked
        .filter(|_| !obs.framing.is_empty())
    {
        let open: Vec<&str> = obs
            .framing
            .iter()
            .filter(|(_, b)| !b)
            .map(|(u, _)| u.as_str())
            .collect();
        let (ok, actual) = if open.is_empty() {
            (
                want,
                format!("{} page(s) forbid framing", obs.framing.len()),
            )
        } else {
            (!want, format!("framing allowed on {}", open.join(", ")))
        };
        out.push(cx.check(
            "consent page framing blocked",
            format!("X-Frame-Options DENY/SAMEORIGIN or CSP frame-ancestors: {want}"),
            actual,
            ok,
        ));
    }
    for s in e.consent_page_contains.iter().flatten() {
        let (ok, actual) = match &obs.consent_page_text {
            Some(t) => (
                t.contains(s.as_str()),
                if t.contains(s.as_str()) {
                    "present".to_string()
                } else {
                    format!("absent from: {}", crate::util::clip(t, 300))
                },
            ),
            // A code came back without any consent page: the target showed nothing.
            None if obs.consent_prompt == Some(false) => {
                (false, "no consent page was shown".to_string())
            }
            None => continue,
        };
        out.push(cx.check(format!("consent page shows {s:?}"), "present", actual, ok));
    }
}

/// Authorization facts only an interactive driver sees; when it saw nothing, the fact is unobserved.
pub(super) fn authz_unobserved(obs: &Observation, e: &Expect, unobserved: &mut Vec<String>) {
    let Some(a) = &obs.authz else {
        return;
    };
    if e.consent_prompt.is_some() && obs.consent_prompt.is_none() {
        unobserved.push(format!(
            "consent prompt: the consent driver could not observe it ({})",
            a.describe
        ));
    }
    if e.consent_page_framing_blocked.is_some() && obs.framing.is_empty() {
        unobserved.push("consent page framing: no login or consent page was seen".into());
    }
    if e.consent_page_contains.is_some()
        && obs.consent_page_text.is_none()
        && obs.consent_prompt != Some(false)
    {
        unobserved.push("consent page text: no consent page was seen".into());
    }
}
