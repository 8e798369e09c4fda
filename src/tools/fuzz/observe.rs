//! What each operation of a sequence observed, read from the transcript of its steps.

use obo_report::{Check, Exchange};
use url::Url;

use super::script::PRELUDE;
use crate::exec::Executed;
use crate::verdict::Ending;

/// What one operation's step observed.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// `authorize`: a code came back.
    pub code: bool,
    /// Token steps: responses that carried an access token.
    pub wins: usize,
    /// `resource`: the resource answered 2xx.
    pub ok: bool,
    /// Token steps: the `scope` member of the first response that carried a token.
    pub scope: Option<String>,
    /// That scope names a scope the user never consented to (`[scope] extra`). A response
    /// without `scope` shows nothing (RFC 6749 §5.1 lets a server leave it out).
    pub escalated: bool,
    /// The harness's checks of this step that did not hold (`act.sub`, `sub`).
    pub failed: Vec<Check>,
}

/// Per operation, what was observed (None: the step did not complete), and a note on how the
/// case ended when it did not complete.
/// `extra`: the scopes the user never consented to.
pub fn observe(
    executed: &Executed,
    ops: usize,
    extra: &[String],
) -> (Vec<Option<Observed>>, Option<String>) {
    let complete = match &executed.ending {
        Ending::Completed => PRELUDE + ops,
        Ending::Skipped(_) => 0,
        Ending::Errored(msg) => errored_step(msg).unwrap_or(0),
    };
    let note = match &executed.ending {
        Ending::Completed => None,
        Ending::Skipped(why) => Some(format!("skipped: {why}")),
        Ending::Errored(why) => Some(format!("stopped early: {why}")),
    };
    let obs = (0..ops)
        .map(|i| {
            let stepno = PRELUDE + i;
            (stepno < complete).then(|| observe_step(executed, stepno, extra))
        })
        .collect();
    (obs, note)
}

/// The step index of an `Errored` ending ("step[3] (token): ...").
fn errored_step(msg: &str) -> Option<usize> {
    let rest = msg.strip_prefix("step[")?;
    rest.split(']').next()?.parse().ok()
}

fn observe_step(executed: &Executed, stepno: usize, extra: &[String]) -> Observed {
    let exchanges: Vec<&Exchange> = executed
        .transcript
        .iter()
        .filter(|e| e.step == stepno)
        .collect();
    let scope = exchanges
        .iter()
        .filter(|e| issued_token(e))
        .find_map(|e| granted_scope(e));
    let escalated = scope
        .as_deref()
        .is_some_and(|g| g.split_whitespace().any(|s| extra.iter().any(|x| x == s)));
    Observed {
        scope,
        escalated,
        code: exchanges.iter().any(|e| carries_code(e)),
        wins: exchanges.iter().filter(|e| issued_token(e)).count(),
        ok: exchanges.iter().any(|e| {
            e.response
                .as_ref()
                .is_some_and(|r| (200..300).contains(&r.status))
        }),
        failed: executed
            .checks
            .iter()
            .filter(|c| c.step == stepno && !c.ok)
            .cloned()
            .collect(),
    }
}

/// The `scope` member of a token response (the transcript keeps 4 KiB of the body, tokens
/// redacted; `scope` is read from the JSON, or from its text when the body was cut).
fn granted_scope(e: &Exchange) -> Option<String> {
    let text = e.response.as_ref()?.body.as_deref()?;
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(j) => j.get("scope").and_then(|v| v.as_str()).map(str::to_string),
        Err(_) => {
            let rest = &text[text.find("\"scope\"")? + 7..];
            let rest = rest.trim_start().strip_prefix(':')?.trim_start();
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        }
    }
}

/// A redirect whose Location has a `code` parameter.
fn carries_code(e: &Exchange) -> bool {
    let Some(resp) = &e.response else {
        return false;
    };
    let Some(loc) = resp
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v)
    else {
        return false;
    };
    let Ok(base) = Url::parse(&e.request.url) else {
        return false;
    };
    base.join(loc)
        .is_ok_and(|u| u.query_pairs().any(|(k, _)| k == "code"))
}

/// A token-endpoint response with an access token, other than the actor's own
/// client_credentials request (which a token step may make to get its actor token).
fn issued_token(e: &Exchange) -> bool {
    let body = e.request.body.as_deref().unwrap_or("");
    if body.contains("grant_type=client_credentials") || !body.contains("grant_type=") {
        return false;
    }
    let Some(resp) = &e.response else {
        return false;
    };
    if !(200..300).contains(&resp.status) {
        return false;
    }
    let text = resp.body.as_deref().unwrap_or("");
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(j) => j.get("access_token").is_some(),
        // The transcript keeps only the first KiB of a body: fall back on the member name.
        Err(_) => text.contains("\"access_token\""),
    }
}
