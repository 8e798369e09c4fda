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
pub mod verdict;

use authz::authz_checks;
use claims::claim_checks;

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

/// The reading a target chose among the alternatives of an `expect_any` (index `chosen` of
/// `labels`, the first being the recommended one), for the step annotated with ambiguity `amb`.
pub fn reading_of_alternatives(
    amb: &str,
    step: usize,
    obs: &Observation,
    chosen: Option<usize>,
    labels: Vec<String>,
) -> obo_report::Reading {
    let outcome = match chosen.and_then(|k| labels.get(k)) {
        Some(l) => l.clone(),
        None => format!("none accepted ({})", obs.summary()),
    };
    obo_report::Reading {
        ambiguity: amb.to_string(),
        step,
        chosen,
        outcome,
        alternatives: labels,
    }
}

/// The reading a target chose within one expectation's list of acceptable values: the
/// `error` codes if listed (AMB-14: `invalid_grant` or `invalid_request`), else the `status`
/// codes. A table with neither list has one reading (its label), chosen when its checks
/// `held` (AMB-26: the code is burnt, or not). Under `--strict` only the first value is accepted.
pub fn reading_of_list(
    amb: &str,
    step: usize,
    obs: &Observation,
    e: &Expect,
    strict: bool,
    held: bool,
) -> obo_report::Reading {
    let (mut alternatives, observed): (Vec<String>, Option<String>) = match (&e.error, &e.status) {
        (Some(codes), _) => (codes.to_vec(), obs.error_code.clone()),
        (None, Some(statuses)) => (
            statuses.to_vec().iter().map(u16::to_string).collect(),
            obs.status.map(|s| s.to_string()),
        ),
        (None, None) => (vec![e.outcome_label()], None),
    };
    if strict {
        alternatives.truncate(1);
    }
    let chosen = match observed {
        Some(o) => alternatives.iter().position(|a| *a == o),
        None if e.error.is_none() && e.status.is_none() => held.then_some(0),
        None => None,
    };
    let outcome = match chosen {
        Some(k) => alternatives[k].clone(),
        None => format!("none accepted ({})", obs.summary()),
    };
    obo_report::Reading {
        ambiguity: amb.to_string(),
        step,
        chosen,
        outcome,
        alternatives,
    }
}

/// Looks up a dotted path (`act.sub`, `keys.0.kid`) in a JSON value.
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = value;
    for seg in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Converts a case-file value to JSON.
pub fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Equality for expectations: numbers by value; `token_type` case-insensitively.
fn same(path: &str, expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) if path.ends_with("token_type") => {
            a.eq_ignore_ascii_case(b)
        }
        _ => expected == actual,
    }
}

/// `Cache-Control: "no-cache"`, or "Cache-Control header absent".
fn show_header(name: &str, v: Option<&str>) -> String {
    match v {
        Some(v) => format!("{name}: {v:?}"),
        None => format!("{name} header absent"),
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => crate::util::clip(&v.to_string(), 200),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn scope_set(s: &str) -> std::collections::BTreeSet<&str> {
    s.split_whitespace().collect()
}

/// The checks of one expectation set against one observation. Strings in `e` are already
/// expanded (variables substituted).
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

/// "status 200 with an error body (`invalid_grant`): errors must use 400" when a token
/// endpoint refused (no token, an `error` member) but with a success status where the case
/// expected an error status.
fn error_with_success_status(obs: &Observation, accepted: &[u16]) -> Option<String> {
    let status = obs.status?;
    let code = obs.error_code.as_ref()?;
    let wants_error = !accepted.is_empty() && accepted.iter().all(|s| *s >= 400);
    (obs.token_endpoint && !obs.token_issued && wants_error && (200..300).contains(&status)).then(
        || {
            format!(
                "status {status} with an error body (`{code}`): errors must use {}",
                accepted[0]
            )
        },
    )
}

/// RFC 9068 §2.1: the access token's header `typ` is `at+jwt`; RFC 7515 §4.1.9 lets the
/// `application/` prefix be written or left out, and media types compare case-insensitively.
fn typ_check(obs: &Observation, want: &str, cx: &CheckContext<'_>) -> Check {
    let norm = |s: &str| {
        let l = s.to_ascii_lowercase();
        l.strip_prefix("application/")
            .map(str::to_string)
            .unwrap_or(l)
    };
    let (ok, actual) = match &obs.token_header {
        Some(h) => {
            let typ = h.get("typ").and_then(Value::as_str);
            (
                typ.is_some_and(|t| norm(t) == norm(want)),
                show_header("typ", typ),
            )
        }
        None if obs.token_issued => (false, "the access token is not a JWT".into()),
        None => (false, format!("no access token ({})", obs.summary())),
    };
    cx.check("access token typ", format!("typ: {want:?}"), actual, ok)
}

/// RFC 6749 §5.1 cache headers, judged only on responses that carry a token ([`CACHE_HEADERS`]).
fn cache_checks(obs: &Observation, want: bool, cx: &CheckContext<'_>, out: &mut Vec<Check>) {
    if !obs.token_issued {
        // §5.2 error responses carry no token: no cache header is required of them.
        return;
    }
    let cc = obs.header("cache-control");
    let has = cc.is_some_and(|cc| {
        cc.to_ascii_lowercase()
            .split(',')
            .any(|d| d.trim() == "no-store")
    });
    out.push(cx.check_of(
        CACHE_HEADERS,
        Level::Must,
        "no-store",
        format!("Cache-Control no-store: {want}"),
        show_header("Cache-Control", cc),
        has == want,
    ));
    if want {
        let pragma = obs.header("pragma");
        let ok = pragma.is_some_and(|p| p.to_ascii_lowercase().contains("no-cache"));
        out.push(cx.check_of(
            CACHE_HEADERS,
            Level::Should,
            "pragma no-cache",
            "Pragma: no-cache".into(),
            show_header("Pragma", pragma),
            ok,
        ));
    }
}

/// Authorization facts only an interactive driver sees; when it saw nothing, the fact is unobserved.
fn authz_unobserved(obs: &Observation, e: &Expect, unobserved: &mut Vec<String>) {
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

fn json_checks(obs: &Observation, e: &Expect, cx: &CheckContext<'_>, out: &mut Vec<Check>) {
    let empty = Value::Null;
    let body = obs.json.as_ref().unwrap_or(&empty);
    for (path, want) in e.json.iter().flatten() {
        let want = toml_to_json(want);
        let got = lookup(body, path);
        let ok = got.is_some_and(|g| same(path, &want, g));
        out.push(cx.check(format!("json {path}"), show(Some(&want)), show(got), ok));
    }
    for path in e.json_has.iter().flatten() {
        let got = lookup(body, path);
        out.push(cx.check(
            format!("json has {path}"),
            "present",
            if got.is_some() { "present" } else { "absent" },
            got.is_some(),
        ));
    }
    for (path, want) in e.json_contains.iter().flatten() {
        let want = toml_to_json(want);
        let got = lookup(body, path);
        let ok = got
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| same(path, &want, x)));
        out.push(cx.check(
            format!("json {path} contains"),
            show(Some(&want)),
            show(got),
            ok,
        ));
    }
    if let Some(within) = &e.scope_within {
        let allowed = scope_set(within);
        if let Some(s) = body.get("scope").and_then(Value::as_str) {
            let ok = scope_set(s).is_subset(&allowed);
            out.push(cx.check("response scope within", within.clone(), s.to_string(), ok));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stuck(in_interaction: bool) -> Observation {
        Observation {
            status: Some(200),
            authz: Some(AuthzView {
                describe: "stopped at https://as.test/interaction/x: the Login page came back"
                    .into(),
                driver_stuck: Some("stopped at https://as.test/interaction/x".into()),
                in_interaction,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn ctx() -> CheckContext<'static> {
        CheckContext {
            step: 0,
            level: Level::Must,
            requirements: &[],
            strict: false,
        }
    }

    /// A driver stuck inside the login/consent interaction observed no answer of the AS: a
    /// refusal expectation (`redirect = "none"`, `token_issued = false`) is unobserved, never
    /// held (no pass on the driver's trouble). Stuck on a first page no rule matches, the AS
    /// may have answered with an error page: a refusal expectation is judged.
    #[test]
    fn stuck_driver_observes_no_answer() {
        let refusal = Expect {
            redirect: Some("none".into()),
            token_issued: Some(false),
            ..Default::default()
        };
        let code = Expect {
            redirect: Some("code".into()),
            ..Default::default()
        };
        let pages_only = Expect {
            consent_page_framing_blocked: Some(true),
            ..Default::default()
        };
        #[rustfmt::skip]
        let table: Vec<(bool, &Expect, bool)> = vec![
            // in interaction  expectation   unobserved
            (true,             &refusal,     true),
            (true,             &code,        true),
            (false,            &code,        true),
            (false,            &refusal,     false),
        ];
        for (i, (inside, e, want)) in table.into_iter().enumerate() {
            let c = checks_of(&stuck(inside), e, &ctx());
            assert_eq!(!c.unobserved.is_empty(), want, "row {i}: {c:?}");
            if want {
                assert!(
                    c.checks.is_empty(),
                    "row {i}: no check on an unobserved answer"
                );
            }
        }
        // A refusal answered with 200 and an error body fails the error-format requirement
        // only; the refusal itself (no token) holds under the case's requirements.
        let refused_200 = Observation {
            status: Some(200),
            error_code: Some("invalid_grant".into()),
            token_endpoint: true,
            ..Default::default()
        };
        let refusal_400 = Expect {
            status: Some(crate::case::OneOrMany::One(400)),
            token_issued: Some(false),
            ..Default::default()
        };
        let reqs = vec!["OBO-TOKEN-10".to_string()];
        let c = checks_of(
            &refused_200,
            &refusal_400,
            &CheckContext {
                requirements: &reqs,
                ..ctx()
            },
        );
        let failed: Vec<_> = c.checks.iter().filter(|k| !k.ok).collect();
        assert_eq!(failed.len(), 1, "{c:?}");
        assert_eq!(failed[0].requirements, vec![ERROR_FORMAT.to_string()]);
        assert_eq!(
            failed[0].actual,
            "status 200 with an error body (`invalid_grant`): errors must use 400"
        );
        // Facts about the pages themselves were observed even though the driver stopped.
        let mut seen = stuck(true);
        seen.framing = vec![("https://as.test/interaction/x".into(), true)];
        let c = checks_of(&seen, &pages_only, &ctx());
        assert!(c.unobserved.is_empty(), "{c:?}");
    }
}
