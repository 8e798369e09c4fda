//! `obo-conformance explain ID`: a case in words: the requirements it checks (our paraphrase
//! and adopted reading), its steps, and the outcomes it accepts (the first is preferred).

use std::fmt::Write as _;

use crate::case::step::FieldValue;
use crate::case::{Case, CaseLevel, Expect, Step};
use crate::catalog::Catalog;

fn level(l: CaseLevel) -> &'static str {
    match l {
        CaseLevel::Must => "MUST",
        CaseLevel::Should => "SHOULD",
        CaseLevel::May => "MAY",
    }
}

/// The explanation text of one case.
pub fn explain(case: &Case, catalog: &Catalog) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} — {}", case.id, case.title);
    let _ = writeln!(
        s,
        "level {} · revisions {} · file {}",
        level(case.level),
        case.revisions
            .clone()
            .map(|r| r.join(", "))
            .unwrap_or_else(|| "00, 01, 02".into()),
        case.path.display()
    );
    let needs: Vec<String> = case.effective_needs().into_iter().collect();
    if !needs.is_empty() {
        let _ = writeln!(s, "needs: {}", needs.join(", "));
    }
    if !case.tags.is_empty() {
        let _ = writeln!(s, "tags: {}", case.tags.join(", "));
    }
    if case.is_exclusive() {
        let _ = writeln!(s, "runs alone (changes server-wide state)");
    }
    let _ = writeln!(s, "\n{}", case.description.trim());
    let _ = writeln!(s, "\nRequirements:");
    for id in &case.requirements {
        match catalog.requirements.get(id) {
            Some(r) => {
                let _ = writeln!(s, "  {id} (§{}, {}): {}", r.section, r.level, r.text.trim());
                if let Some(reading) = &r.reading {
                    let _ = writeln!(s, "      reading: {}", reading.trim());
                }
            }
            None => {
                let _ = writeln!(s, "  {id}");
            }
        }
    }
    if !case.scenarios.is_empty() {
        let _ = writeln!(s, "Scenarios: {}", case.scenarios.join(", "));
    }
    let _ = writeln!(s, "\nSteps:");
    for (i, step) in case.steps.iter().enumerate() {
        let _ = writeln!(s, "  [{i}] {}{}", step.action.name(), fields(step));
        if let Some(e) = &step.expect {
            let _ = writeln!(s, "      expect: {}", expect(e));
        }
        if let Some(alts) = &step.expect_any {
            for (k, e) in alts.iter().enumerate() {
                let pref = if k == 0 { " (preferred)" } else { "" };
                let _ = writeln!(s, "      outcome {}{pref}: {}", k + 1, expect(e));
            }
        }
        if !step.is_check() {
            let _ = writeln!(
                s,
                "      set-up: the case is an error if this step cannot be completed"
            );
        }
    }
    s
}

fn fields(step: &Step) -> String {
    let parts: Vec<String> = step
        .action
        .fields()
        .into_iter()
        .map(|(name, v)| match v {
            FieldValue::Text(t) => format!("{name} = {}", show(&t)),
            FieldValue::Number(n) => format!("{name} = {n}"),
            FieldValue::Table(t) => {
                let kv: Vec<String> = t.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{name} {{ {} }}", kv.join(", "))
            }
            FieldValue::List(l) => format!("{name} [{}]", l.join(", ")),
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
    }
}

fn show(v: &impl std::fmt::Debug) -> String {
    format!("{v:?}")
}

fn expect(e: &Expect) -> String {
    let mut p = Vec::new();
    if let Some(s) = &e.status {
        p.push(format!(
            "status {}",
            s.to_vec()
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    if let Some(err) = &e.error {
        p.push(format!(
            "error {} (first preferred)",
            err.to_vec().join(" | ")
        ));
    }
    if let Some(t) = e.token_issued {
        p.push(if t {
            "a token/code is issued".into()
        } else {
            "no token/code is issued".into()
        });
    }
    if e.no_store == Some(true) {
        p.push("Cache-Control: no-store".into());
    }
    macro_rules! table {
        ($($name:ident),*) => { $( if let Some(t) = &e.$name { for (k, v) in t { p.push(format!("{} {k} = {v}", stringify!($name))); } } )* };
    }
    table!(json, json_contains, json_if_present, claims);
    for (k, v) in e.header.iter().flatten() {
        p.push(format!("header {k} lists {v}"));
    }
    for (k, v) in e.claim_types.iter().flatten() {
        p.push(format!("claim {k} is a {v}"));
    }
    for k in e.json_has.iter().flatten() {
        p.push(format!("json has {k}"));
    }
    for k in e.claims_absent.iter().flatten() {
        p.push(format!("claim {k} absent"));
    }
    if let Some(c) = &e.client_claim {
        p.push(format!("azp or client_id = {c}"));
    }
    if e.act_differs_from_sub == Some(true) {
        p.push("act.sub differs from sub".into());
    }
    if let Some(s) = &e.scope_within {
        p.push(format!("scope within {s:?}"));
    }
    if let Some(r) = &e.redirect {
        p.push(format!("redirect: {r}"));
    }
    if let Some(b) = e.state_echo {
        p.push(format!("state echoed: {b}"));
    }
    if let Some(b) = e.consent_prompt {
        p.push(format!("consent page shown: {b}"));
    }
    if let Some(b) = e.consent_page_framing_blocked {
        p.push(format!("login/consent pages forbid framing: {b}"));
    }
    for t in e.consent_page_contains.iter().flatten() {
        p.push(format!("consent page shows {t:?}"));
    }
    if let Some(b) = e.at_most_one_success {
        p.push(format!("at most one success: {b}"));
    }
    if let Some(b) = e.www_authenticate {
        p.push(format!("WWW-Authenticate Bearer: {b}"));
    }
    if let Some(b) = e.active {
        p.push(format!("active = {b}"));
    }
    if let Some(l) = e.level {
        p.push(format!("(counts at {})", level(l)));
    }
    p.join("; ")
}
