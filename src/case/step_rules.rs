//! The rules of the case language that the step types do not carry: value ranges, rules
//! across fields and steps, expectation keys that apply to one step kind only, and `${...}`
//! variables. Which fields a kind takes and the value sets of its fields are the types of
//! `case/step.rs`. Problems read `field: what is wrong`.

use crate::case::step::{Action, ResourceStep};
use crate::case::vocabulary::{Consent, ResourceToken};
use crate::case::{Expect, Step};
use crate::vars;

pub(crate) fn validate_step(step: &Step, index: usize, steps: &[Step]) -> Vec<String> {
    let mut out = Vec::new();
    match &step.action {
        Action::Resource(ResourceStep {
            token: Some(ResourceToken::Minted),
            mint: None,
            ..
        }) => out.push("token = \"minted\" needs a `mint` table".into()),
        Action::Replay(r) => out.extend(replay_problem(r.of, index, steps)),
        Action::Wait(w) if !(0..=10).contains(&w.seconds) => {
            out.push("seconds must be between 0 and 10 for `wait`".into())
        }
        Action::ParallelToken(p) if p.count.is_some_and(|c| !(2..=64).contains(&c)) => {
            out.push("count must be between 2 and 64".into())
        }
        Action::ParallelRefresh(p) if p.count.is_some_and(|c| !(2..=64).contains(&c)) => {
            out.push("count must be between 2 and 64".into())
        }
        _ => {}
    }
    if step.expect.is_some() && step.expect_any.is_some() {
        out.push("use `expect` or `expect_any`, not both".into());
    }
    for e in step.expectations() {
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

/// `replay` sends an earlier token or refresh step's request again.
fn replay_problem(of: Option<usize>, index: usize, steps: &[Step]) -> Option<String> {
    let earlier = steps.get(..index).unwrap_or_default();
    match of {
        Some(target) => {
            let replayable = earlier
                .get(target)
                .is_some_and(|s| matches!(s.action, Action::Token(_) | Action::Refresh(_)));
            (!replayable).then(|| {
                format!("of = {target}: step index {target} (0-based) is not an earlier token or refresh step")
            })
        }
        None => (!earlier.iter().any(|s| matches!(s.action, Action::Token(_))))
            .then(|| "no earlier token step to replay".into()),
    }
}

fn validate_expect(step: &Step, e: &Expect) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(r) = &e.redirect {
        if !["code", "error", "none"].contains(&r.as_str()) {
            out.push(format!(
                "expect.redirect = {r:?} is not one of code, error, none"
            ));
        }
    }
    if let Some(types) = &e.claim_types {
        for (k, t) in types {
            if !["object", "string", "array", "number", "boolean"].contains(&t.as_str()) {
                out.push(format!(
                    "expect.claim_types.{k} = {t:?} is not one of object, string, array, number"
                ));
            }
        }
    }
    let authorize = match &step.action {
        Action::Authorize(a) => Some(a),
        _ => None,
    };
    let authorize_only = [
        ("redirect", e.redirect.is_some()),
        ("state_echo", e.state_echo.is_some()),
        ("consent_prompt", e.consent_prompt.is_some()),
    ];
    for (name, set) in authorize_only {
        if set && authorize.is_none() {
            out.push(format!("expect.{name} applies to `authorize` steps only"));
        }
    }
    if e.consent_prompt.is_some() && authorize.and_then(|a| a.consent) != Some(Consent::Observe) {
        out.push("expect.consent_prompt needs consent = \"observe\"".into());
    }
    if e.consent_page_framing_blocked.is_some() && authorize.is_none() {
        out.push("expect.consent_page_framing_blocked applies to `authorize` steps only".into());
    }
    if e.consent_page_contains.is_some() && authorize.is_none() {
        out.push("expect.consent_page_contains applies to `authorize` steps only".into());
    }
    if e.at_most_one_success.is_some()
        && !matches!(
            step.action,
            Action::ParallelToken(_) | Action::ParallelRefresh(_)
        )
    {
        out.push(
            "expect.at_most_one_success applies to `parallel_token` and `parallel_refresh` steps only"
                .into(),
        );
    }
    if e.active.is_some() && !matches!(step.action, Action::Introspect(_)) {
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
