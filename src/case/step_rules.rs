//! The rules of the case language that serde's types do not carry: which fields each step kind
//! takes, the value sets of string fields, the forgery vocabulary, expectation keys that apply
//! to one step kind only, and `${...}` variables. Problems read `field: what is wrong`.

use crate::case::forgery::{ForgeSpec, Forgery};
use crate::case::{Expect, Step, StepKind};
use crate::vars;

fn one_of(field: &str, value: &Option<String>, allowed: &[&str], out: &mut Vec<String>) {
    if let Some(v) = value {
        if !allowed.contains(&v.as_str()) {
            out.push(format!(
                "{field} = {v:?} is not one of {}",
                allowed.join(", ")
            ));
        }
    }
}

pub(crate) fn validate_step(step: &Step, index: usize, steps: &[Step]) -> Vec<String> {
    let mut out = Vec::new();
    let allowed = step.kind.allowed_fields();
    for f in step.set_fields() {
        if !allowed.contains(&f) {
            out.push(format!(
                "field `{f}` does not apply to `{}` (it takes: {})",
                step.kind.name(),
                allowed.join(", ")
            ));
        }
    }
    one_of(
        "client",
        &step.client,
        &["primary", "second", "public"],
        &mut out,
    );
    one_of("pkce", &step.pkce, &["S256", "plain", "none"], &mut out);
    one_of("user", &step.user, &["primary", "second"], &mut out);
    one_of(
        "expires",
        &step.expires,
        &["actor_token", "code", "access_token"],
        &mut out,
    );
    one_of("method", &step.method, &["GET", "POST"], &mut out);
    one_of(
        "consent",
        &step.consent,
        &["approve", "deny", "observe"],
        &mut out,
    );
    one_of(
        "auth",
        &step.auth,
        &["profile", "none", "wrong_secret", "wrong_secret_basic"],
        &mut out,
    );
    one_of(
        "url",
        &step.url.clone().filter(|u| !u.contains("://")),
        &["metadata", "jwks"],
        &mut out,
    );
    let actors: &[&str] = match step.kind {
        StepKind::Authorize => &["a", "b", "disabled", "none"],
        _ => &["a", "b", "disabled"],
    };
    one_of("actor", &step.actor, actors, &mut out);
    match step.kind {
        StepKind::Resource => {
            one_of(
                "token",
                &step.token,
                &["access", "none", "actor", "minted"],
                &mut out,
            );
            one_of(
                "path",
                &step.path,
                &["default", "write", "actor:a", "actor:b", "actor:disabled"],
                &mut out,
            );
            if let Some(Err(e)) = step.forge.as_deref().map(str::parse::<Forgery>) {
                out.push(format!("forge: {e}"));
            }
            if step.token.as_deref() == Some("minted") && step.mint.is_none() {
                out.push("token = \"minted\" needs a `mint` table".into());
            }
        }
        StepKind::Introspect => one_of(
            "token",
            &step.token,
            &["access", "refresh", "actor"],
            &mut out,
        ),
        // `saved:NAME` names an actor token kept by an `actor_token` step.
        StepKind::Revoke
            if step
                .token
                .as_deref()
                .and_then(|t| t.strip_prefix("saved:"))
                .is_none_or(str::is_empty) =>
        {
            one_of("token", &step.token, &["access", "refresh"], &mut out);
        }
        _ => {}
    }
    if matches!(step.kind, StepKind::Token | StepKind::ParallelToken) {
        if let Some(at) = &step.actor_token {
            let ok = [
                "a",
                "b",
                "disabled",
                "none",
                "user_access_token",
                "access_token_with_actor_sub",
                "garbage",
            ]
            .contains(&at.as_str())
                || at.strip_prefix("saved:").is_some_and(|n| !n.is_empty());
            if !ok {
                out.push(format!(
                    "actor_token = {at:?} is not one of a, b, disabled, none, user_access_token, access_token_with_actor_sub, garbage, saved:NAME"
                ));
            }
        }
        if let Some(Err(e)) = step.forge.as_deref().map(str::parse::<ForgeSpec>) {
            out.push(format!("forge: {e}"));
        }
    }
    if step.kind == StepKind::Replay {
        let target = step.of.unwrap_or_else(|| index.saturating_sub(1));
        let earlier_token = steps
            .get(..index)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .any(|(j, s)| j == target && matches!(s.kind, StepKind::Token | StepKind::Refresh));
        if step.of.is_some() && !earlier_token {
            out.push(format!("of = {target}: step index {target} (0-based) is not an earlier token or refresh step"));
        }
        if step.of.is_none()
            && !steps
                .get(..index)
                .unwrap_or_default()
                .iter()
                .any(|s| s.kind == StepKind::Token)
        {
            out.push("no earlier token step to replay".into());
        }
    }
    if step.kind == StepKind::Wait && step.seconds.is_some_and(|s| !(0..=10).contains(&s)) {
        out.push("seconds must be between 0 and 10 for `wait`".into());
    }
    if matches!(step.kind, StepKind::AdvanceClock | StepKind::Wait) && step.seconds.is_none() {
        out.push("`seconds` is required".into());
    }
    if matches!(step.kind, StepKind::DisableActor | StepKind::EnableActor) && step.actor.is_none() {
        out.push("`actor` is required".into());
    }
    if step.kind == StepKind::Get && step.url.is_none() {
        out.push("`url` is required".into());
    }
    if step.count.is_some_and(|c| !(2..=64).contains(&c)) {
        out.push("count must be between 2 and 64".into());
    }
    if step.expect.is_some() && step.expect_any.is_some() {
        out.push("use `expect` or `expect_any`, not both".into());
    }
    for e in step.expect.iter().chain(step.expect_any.iter().flatten()) {
        out.extend(validate_expect(step, e));
    }
    for (label, s) in crate::case::step_strings(step) {
        match vars::names_in(&s) {
            Ok(names) => {
                for n in names {
                    if !vars::CASE_VARIABLES.contains(&n.as_str()) {
                        out.push(format!(
                            "{label}: unknown variable ${{{n}}} (known: {})",
                            vars::CASE_VARIABLES.join(", ")
                        ));
                    }
                }
            }
            Err(e) => out.push(format!("{label}: {e}")),
        }
    }
    out
}

fn validate_expect(step: &Step, e: &Expect) -> Vec<String> {
    let mut out = Vec::new();
    one_of(
        "expect.redirect",
        &e.redirect,
        &["code", "error", "none"],
        &mut out,
    );
    if let Some(types) = &e.claim_types {
        for (k, t) in types {
            if !["object", "string", "array", "number", "boolean"].contains(&t.as_str()) {
                out.push(format!(
                    "expect.claim_types.{k} = {t:?} is not one of object, string, array, number"
                ));
            }
        }
    }
    let authorize_only = [
        ("redirect", e.redirect.is_some()),
        ("state_echo", e.state_echo.is_some()),
        ("consent_prompt", e.consent_prompt.is_some()),
    ];
    for (name, set) in authorize_only {
        if set && step.kind != StepKind::Authorize {
            out.push(format!("expect.{name} applies to `authorize` steps only"));
        }
    }
    if e.consent_prompt.is_some() && step.consent.as_deref() != Some("observe") {
        out.push("expect.consent_prompt needs consent = \"observe\"".into());
    }
    if e.consent_page_framing_blocked.is_some() && step.kind != StepKind::Authorize {
        out.push("expect.consent_page_framing_blocked applies to `authorize` steps only".into());
    }
    if e.consent_page_contains.is_some() && step.kind != StepKind::Authorize {
        out.push("expect.consent_page_contains applies to `authorize` steps only".into());
    }
    if e.at_most_one_success.is_some() && step.kind != StepKind::ParallelToken {
        out.push("expect.at_most_one_success applies to `parallel_token` steps only".into());
    }
    if e.active.is_some() && step.kind != StepKind::Introspect {
        out.push("expect.active applies to `introspect` steps only".into());
    }
    if let Some(s) = &e.status {
        for code in s.to_vec() {
            if !(100..=599).contains(&code) {
                out.push(format!("expect.status {code} is not an HTTP status"));
            }
        }
    }
    out
}
