//! Checks of a response as a whole: an error answered with a success status (RFC 6749 §5.2,
//! [`super::ERROR_FORMAT`]), the access token's `typ` (RFC 9068 §2.1), the cache headers of a
//! token response (RFC 6749 §5.1, [`super::CACHE_HEADERS`]) and the members of its JSON body.

use obo_report::{Check, Level};
use serde_json::Value;

use crate::case::Expect;

use super::values::{lookup, same, scope_set, show, show_header, toml_to_json};
use super::{CheckContext, Observation, CACHE_HEADERS};

/// "status 200 with an error body (`invalid_grant`): errors must use 400" when a token
/// endpoint refused (no token, an `error` member) but with a success status where the case
/// expected an error status.
pub(super) fn error_with_success_status(obs: &Observation, accepted: &[u16]) -> Option<String> {
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

/// RFC 9068 §2.1 (OBO-AT-1, OBO-INH-18): the access token's header `typ` is `at+jwt`; RFC 7515 §4.1.9 lets the
/// `application/` prefix be written or left out, and media types compare case-insensitively.
pub(super) fn typ_check(obs: &Observation, want: &str, cx: &CheckContext<'_>) -> Check {
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
pub(super) fn cache_checks(
    obs: &Observation,
    want: bool,
    cx: &CheckContext<'_>,
    out: &mut Vec<Check>,
) {
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

/// Members of a JSON response body (`json`, `json_has`, `json_contains`, `scope_within`): the
/// token response's members and error bodies (OBO-TOKEN-13, OBO-TOKEN-14, OBO-TOKRESP-1,
/// OBO-TOKRESP-2, OBO-TOKRESP-3, OBO-INH-8), under the case's requirement IDs.
pub(super) fn json_checks(
    obs: &Observation,
    e: &Expect,
    cx: &CheckContext<'_>,
    out: &mut Vec<Check>,
) {
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
    for (path, want) in e.json_if_present.iter().flatten() {
        let want = toml_to_json(want);
        // An OPTIONAL member the response leaves out holds (RFC 7662 §2.2 `token_type`).
        let got = lookup(body, path);
        let ok = got.is_none_or(|g| same(path, &want, g));
        out.push(cx.check(
            format!("json {path} when present"),
            format!("{} or absent", show(Some(&want))),
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

/// `header = { allow = "POST" }`: every comma-separated token listed is among the values of
/// that response header (all its field lines; names case-insensitive, tokens compared exactly:
/// method names are case-sensitive, RFC 9110 §9.1). RFC 9110 §15.5.6: a 405 carries `Allow`.
pub(super) fn header_checks(
    obs: &Observation,
    e: &Expect,
    cx: &CheckContext<'_>,
    out: &mut Vec<Check>,
) {
    for (name, want) in e.header.iter().flatten() {
        let lines: Vec<&str> = obs
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        let present: Vec<&str> = lines
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let ok = want
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .all(|t| present.contains(&t));
        let joined = lines.join(", ");
        out.push(cx.check(
            format!("header {name}"),
            format!("{name} lists {want}"),
            show_header(name, (!lines.is_empty()).then_some(joined.as_str())),
            ok,
        ));
    }
}
