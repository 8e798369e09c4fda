//! Expectations → checks. Each check compares one observed fact of a step's response with
//! what the case accepts, and carries the level it counts at and the requirement IDs it
//! verifies: by default the case's (or the expectation's `requirements`/`level` override), the
//! cache-header checks their own ([`CACHE_HEADERS`]). Checks are computed from observations
//! only; a fact the harness could not observe is reported as [`Checks::unobserved`], never as a
//! failed check (the verdict rules in [`verdict`] turn it into an `error`).

mod authz;
pub mod challenge;
mod claims;
pub mod diagnosis;
mod readings;
mod response;
mod values;
pub mod verdict;

use authz::{authz_checks, authz_unobserved};
use claims::claim_checks;
pub use readings::{reading_of_alternatives, reading_of_list};
use response::{cache_checks, error_with_success_status, header_checks, json_checks, typ_check};
use values::show;
pub use values::{lookup, toml_to_json};

use serde_json::Value;

use crate::case::Expect;
use obo_report::{Check, Level};

/// RFC 6749 §5.1: a response that carries tokens has `Cache-Control: no-store` (MUST) and
/// `Pragma: no-cache` (SHOULD here: HTTP/1.0 caches, obsolete since RFC 9111). §5.2 error
/// responses carry no token and are not held to it.
pub const CACHE_HEADERS: &str = "OBO-INH-7";

/// RFC 6749 §5.2: a token error is answered with 400 (401 for `invalid_client`) and a JSON
/// `error`. A 2xx answer carrying an error body and no token breaks this requirement, not the
/// security requirement of the refusal itself (which the `token_issued` check carries).
pub const ERROR_FORMAT: &str = "OBO-INH-8";

/// The checks of one expectation set, and the facts it needed that the harness could not observe.
#[derive(Debug, Default)]
pub struct Checks {
    pub checks: Vec<Check>,
    /// "consent prompt: the consent driver could not observe it (...)".
    pub unobserved: Vec<String>,
}

/// How an authorization ended, as far as checks are concerned.
#[derive(Debug, Clone, Default)]
pub struct AuthzView {
    /// Redirected to the redirect_uri sent in the request.
    pub to_redirect_uri: bool,
    pub code: Option<String>,
    pub error: Option<String>,
    pub state: Option<String>,
    pub sent_state: Option<String>,
    pub describe: String,
    /// The consent driver stopped at a page it could not get through (harness situation):
    /// where and why.
    pub driver_stuck: Option<String>,
    /// The driver had recognised a login or consent page before it stopped: the AS had
    /// accepted the request into its interaction, so nothing it would do next was observed.
    pub in_interaction: bool,
}

/// What one step observed.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub json: Option<Value>,
    /// The error code of the response (JSON body, WWW-Authenticate, or redirect).
    pub error_code: Option<String>,
    pub token_issued: bool,
    /// The issued access token's JOSE header, when it is a JWT.
    pub token_header: Option<Value>,
    /// Claims of the issued access token: `Err` says why they could not be read.
    pub claims: Option<Result<Value, String>>,
    pub authz: Option<AuthzView>,
    pub consent_prompt: Option<bool>,
    pub consent_page_text: Option<String>,
    /// Login/consent pages seen and whether each forbids framing.
    pub framing: Vec<(String, bool)>,
    /// (successes, total) of a `parallel_token` step.
    pub parallel: Option<(usize, usize)>,
    /// The response came from the token endpoint (RFC 6749 §5.2 governs its errors).
    pub token_endpoint: bool,
}

impl Observation {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn summary(&self) -> String {
        if let Some(a) = &self.authz {
            return a.describe.clone();
        }
        match (self.status, &self.error_code) {
            (Some(s), Some(e)) => format!("status {s}, error {e}"),
            (Some(s), None) => format!("status {s}"),
            (None, Some(e)) => format!("error {e}"),
            (None, None) => "no response".into(),
        }
    }
}

/// Context for turning one step's expectations into checks.
pub struct CheckContext<'a> {
    pub step: usize,
    pub level: Level,
    pub requirements: &'a [String],
    pub strict: bool,
}

impl CheckContext<'_> {
    /// A check verifying `requirement` at `level` instead of the context's.
    fn check_of(
        &self,
        requirement: &str,
        level: Level,
        name: &str,
        expected: String,
        actual: String,
        ok: bool,
    ) -> Check {
        let mut c = self.check(name, expected, actual, ok);
        c.requirements = vec![requirement.to_string()];
        c.level = level;
        c
    }

    fn check(
        &self,
        name: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
        ok: bool,
    ) -> Check {
        Check {
            step: self.step,
            name: name.into(),
            expected: expected.into(),
            // Long observations (URLs with oversized parameters) are cut for readability.
            actual: crate::util::clip(&actual.into(), 1000),
            ok,
            level: self.level,
            requirements: self.requirements.to_vec(),
        }
    }
}

/// The checks of one expectation set against one observation. Strings in `e` are already
/// expanded (variables substituted).
///
/// These checks report under the case's requirement IDs (or the expectation's override), so
/// one check serves every requirement a case verifies with it: `status`, `error` and
/// `token_issued` judge the token endpoint's refusals and grants (OBO-TOKEN-9, OBO-TOKEN-10,
/// OBO-TOKEN-11, OBO-TOKEN-12, OBO-TOKEN-13, OBO-TOKEN-14; the code bindings OBO-SEC-2,
/// OBO-SEC-3, OBO-SEC-4, OBO-SEC-5, OBO-SEC-6, OBO-SEC-7, OBO-SEC-8), the authorization
/// endpoint's (OBO-AUTHZ-9, OBO-AUTHZ-10, OBO-AUTHZ-15, OBO-AUTHZ-16) and the resource
/// server's (OBO-RS-1 to OBO-RS-10: OBO-RS-1, OBO-RS-2, OBO-RS-3, OBO-RS-4, OBO-RS-5, OBO-RS-6,
/// OBO-RS-7, OBO-RS-8, OBO-RS-9, OBO-RS-10); `at_most_one_success` and `active` judge single
/// use and revocation (OBO-SEC-3, OBO-SEC-10); `www_authenticate` judges the challenge's
/// presence (OBO-RS-10, OBO-RS-11). The checks with their own requirement are in
/// `response` (OBO-INH-7, OBO-INH-8), `claims` (OBO-AT-*), `authz` (OBO-AUTHZ-*) and
/// `challenge` (OBO-RS-12).
pub fn checks_of(obs: &Observation, e: &Expect, ctx: &CheckContext<'_>) -> Checks {
    let level = e.level.map(Level::from).unwrap_or(ctx.level);
    let cx = CheckContext {
        step: ctx.step,
        level,
        requirements: e.requirements.as_deref().unwrap_or(ctx.requirements),
        strict: ctx.strict,
    };
    let mut out = Vec::new();
    let mut unobserved = Vec::new();
    let narrow = |v: Vec<String>| {
        if ctx.strict {
            v.into_iter().take(1).collect()
        } else {
            v
        }
    };
    // A driver that could not get through a page observed nothing about what the AS does next:
    // expectations of a code, an error redirect or a state echo cannot be judged.
    if let Some((stuck, in_interaction)) = obs
        .authz
        .as_ref()
        .and_then(|a| a.driver_stuck.as_ref().map(|s| (s, a.in_interaction)))
    {
        // Stuck inside the login/consent interaction: even "no code" or "no redirect" would be
        // the driver's doing, not the AS's answer (a refusal must come from the AS itself).
        let judges_the_answer = e.redirect.is_some()
            || e.token_issued.is_some()
            || e.state_echo.is_some()
            || e.error.is_some()
            || e.status.is_some();
        let needs_redirect = (in_interaction && judges_the_answer)
            || e.token_issued == Some(true)
            || e.redirect
                .as_deref()
                .is_some_and(|r| r == "code" || r == "error")
            || e.state_echo.is_some();
        if needs_redirect {
            unobserved.push(format!(
                "the consent driver could not reach the redirect: {stuck}"
            ));
            return Checks {
                checks: out,
                unobserved,
            };
        }
    }

    if let Some(s) = &e.status {
        let mut acc = s.to_vec();
        if ctx.strict {
            acc.truncate(1);
        }
        let actual = obs.status.map_or("no response".into(), |s| s.to_string());
        let ok = obs.status.is_some_and(|s| acc.contains(&s));
        let exp = acc
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        match error_with_success_status(obs, &acc) {
            Some(why) if !ok => {
                out.push(cx.check_of(ERROR_FORMAT, Level::Must, "status", exp, why, false))
            }
            _ => out.push(cx.check("status", exp, actual, ok)),
        }
    }
    if let Some(err) = &e.error {
        let acc = narrow(err.to_vec());
        let ok = obs.error_code.as_ref().is_some_and(|c| acc.contains(c));
        let actual = obs
            .error_code
            .clone()
            .unwrap_or_else(|| format!("no error code ({})", obs.summary()));
        out.push(cx.check("error", acc.join(" or "), actual, ok));
    }
    if let Some(t) = e.token_issued {
        let (what, actual) = match &obs.authz {
            Some(a) => (
                "a code",
                if a.code.is_some() && a.to_redirect_uri {
                    "a code came back".into()
                } else {
                    a.describe.clone()
                },
            ),
            None => (
                "a token",
                if obs.token_issued {
                    "a token was issued".to_string()
                } else {
                    format!("no token ({})", obs.summary())
                },
            ),
        };
        let issued = match &obs.authz {
            Some(a) => a.code.is_some() && a.to_redirect_uri,
            None => obs.token_issued,
        };
        let exp = if t {
            format!("{what} is issued")
        } else {
            format!("no {}", what.trim_start_matches("a "))
        };
        out.push(cx.check("token issued", exp, actual, issued == t));
    }
    if let Some(want) = e.no_store {
        cache_checks(obs, want, &cx, &mut out);
    }
    json_checks(obs, e, &cx, &mut out);
    header_checks(obs, e, &cx, &mut out);
    claim_checks(obs, e, &cx, &mut out);
    authz_checks(obs, e, &cx, &mut out);
    if let Some(want) = e.at_most_one_success {
        let (ok_n, total) = obs.parallel.unwrap_or((0, 0));
        out.push(cx.check(
            "at most one success",
            format!("at most one of {total} redemptions succeeds: {want}"),
            format!("{ok_n} of {total} succeeded"),
            (ok_n <= 1) == want,
        ));
    }
    if let Some(want) = e.www_authenticate {
        let h = obs.header("www-authenticate");
        let has = h.is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("bearer"));
        out.push(cx.check(
            "WWW-Authenticate",
            format!("Bearer challenge present: {want}"),
            show(h.map(|s| Value::String(s.into())).as_ref()),
            has == want,
        ));
    }
    if let Some(c) = &e.challenge {
        challenge::checks(obs, c, &cx, &mut out);
    }
    if let Some(want) = &e.access_token_typ {
        out.push(typ_check(obs, want, &cx));
    }
    if let Some(want) = e.active {
        let got = obs.json.as_ref().and_then(|j| j.get("active")).cloned();
        let ok = got.as_ref().and_then(Value::as_bool) == Some(want);
        out.push(cx.check("active", want.to_string(), show(got.as_ref()), ok));
    }
    authz_unobserved(obs, e, &mut unobserved);
    Checks {
        checks: out,
        unobserved,
    }
}

#[cfg(test)]
mod tests;
