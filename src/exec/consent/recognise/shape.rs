//! The built-in page shapes, for pages no rule fits: a login form (password or identifier-first)
//! and a consent page (approve-like and deny-like controls).

use scraper::{ElementRef, Html};

use crate::profile::PageRole;

use super::plan::{find_control, Press};
use super::{sel, PageView};

/// Words of controls that approve (lower case).
pub(super) const APPROVE_WORDS: &[&str] = &[
    "allow",
    "approve",
    "accept",
    "authorize",
    "authorise",
    "consent",
    "grant",
];

/// Words of controls that deny (lower case); checked before the approve words ("don't allow").
pub(super) const DENY_WORDS: &[&str] = &[
    "deny",
    "decline",
    "reject",
    "cancel",
    "refuse",
    "don't allow",
    "do not allow",
    "don’t allow",
    "no thanks",
];

pub(super) fn is_deny(label: &str) -> bool {
    let l = label.to_lowercase();
    DENY_WORDS.iter().any(|w| l.contains(w))
}

pub(super) fn is_approve(label: &str) -> bool {
    let l = label.to_lowercase();
    !is_deny(&l) && APPROVE_WORDS.iter().any(|w| l.contains(w))
}

/// The built-in shape of a page: login first (a password field wins over buttons), then consent.
pub fn shape(view: &PageView) -> Option<PageRole> {
    if login_form(view).is_some() {
        return Some(PageRole::Login);
    }
    let approve = approve_control(view).is_some();
    let deny = find_control(view, None, is_deny).is_some();
    (approve && deny).then_some(PageRole::Consent)
}

/// Words of a page asking for consent (lower case).
pub(super) const CONSENT_WORDS: &[&str] = &[
    "authorize",
    "authorise",
    "consent",
    "permission",
    "on your behalf",
    "access to your",
    "wants to",
];

/// The approve control of a consent page: an approve-like one; else, on a page that asks for
/// consent in its text, the one submit button that is not deny-like ("Continue", "Yes").
pub(super) fn approve_control(view: &PageView) -> Option<Press> {
    if let Some(p) = find_control(view, None, is_approve) {
        return Some(p);
    }
    let text = view.text.to_lowercase();
    if !CONSENT_WORDS.iter().any(|w| text.contains(w)) {
        return None;
    }
    let others: Vec<Press> = view
        .forms
        .iter()
        .enumerate()
        .flat_map(|(k, (_, f))| {
            f.buttons
                .iter()
                .enumerate()
                .filter(|(_, b)| !is_deny(&b.label))
                .map(move |(b, _)| Press::Form {
                    form: k,
                    button: Some(b),
                })
        })
        .collect();
    match others.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// A form to log in with: (index in `view.forms`, username field, password field).
pub(super) fn login_form(view: &PageView) -> Option<(usize, Option<String>, Option<String>)> {
    let doc = Html::parse_document(&view.html);
    let form_sel = sel("form")?;
    let input_sel = sel("input")?;
    let dom_forms: Vec<ElementRef> = doc.select(&form_sel).collect();
    let mut identifier_first = None;
    for (k, (dom, _)) in view.forms.iter().enumerate() {
        let el = dom_forms.get(*dom)?;
        let inputs: Vec<ElementRef> = el
            .select(&input_sel)
            .filter(|i| i.value().attr("name").is_some_and(|n| !n.is_empty()))
            .collect();
        let kind = |i: &ElementRef| {
            i.value()
                .attr("type")
                .unwrap_or("text")
                .to_ascii_lowercase()
        };
        let name = |i: &ElementRef| i.value().attr("name").map(str::to_string);
        let password = inputs.iter().find(|i| kind(i) == "password");
        let texts: Vec<&ElementRef> = inputs
            .iter()
            .filter(|i| matches!(kind(i).as_str(), "text" | "email" | "tel"))
            .collect();
        let user_like = |i: &ElementRef| {
            let v = i.value();
            let hay = format!(
                "{} {} {}",
                v.attr("name").unwrap_or(""),
                v.attr("id").unwrap_or(""),
                v.attr("autocomplete").unwrap_or("")
            )
            .to_lowercase();
            ["user", "email", "login", "identifier", "account"]
                .iter()
                .any(|w| hay.contains(w))
        };
        let preferred = texts
            .iter()
            .find(|i| user_like(i))
            .or(texts.first())
            .and_then(|i| name(i));
        if let Some(p) = password {
            return Some((k, preferred, name(p)));
        }
        if identifier_first.is_none() && texts.len() == 1 && user_like(texts[0]) {
            identifier_first = Some((k, preferred, None));
        }
    }
    identifier_first
}
