//! What to press on a recognised page: the control of the rule or shape for the decision, the
//! login form's fields, and the label the transcript shows.

use scraper::{ElementRef, Html};

use crate::exec::consent::Decision;
use crate::profile::{FormPage, PageRole};

use super::shape::{approve_control, is_deny, login_form};
use super::{sel, Fit, PageView};

/// A control to press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    /// Submit `view.forms[form]`, pressing its `button`-th submit button (none: implicit).
    Form { form: usize, button: Option<usize> },
    /// Follow `view.links[link]`.
    Link { link: usize },
}

/// The first control (submit button of the forms `scope` allows, else a link) whose label fits.
pub(super) fn find_control(
    view: &PageView,
    scope: Option<&[usize]>,
    fits: impl Fn(&str) -> bool,
) -> Option<Press> {
    for (k, (_, form)) in view.forms.iter().enumerate() {
        if scope.is_some_and(|s| !s.contains(&k)) {
            continue;
        }
        if let Some(b) = form
            .buttons
            .iter()
            .position(|b| fits(&b.label) || (!b.value.is_empty() && fits(&b.value)))
        {
            return Some(Press::Form {
                form: k,
                button: Some(b),
            });
        }
    }
    view.links
        .iter()
        .position(|l| fits(&l.text))
        .map(|link| Press::Link { link })
}

/// What to do on a recognised page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub press: Press,
    /// Field name → value (variables already expanded).
    pub fills: Vec<(String, String)>,
    /// What is pressed, for messages.
    pub label: String,
}

/// Indices (in `view.forms`) of the forms the rule's `form` selector picks.
pub(super) fn forms_matching(view: &PageView, css: &str) -> Vec<usize> {
    let Some(s) = sel(css) else { return vec![] };
    let doc = Html::parse_document(&view.html);
    let Some(form_sel) = sel("form") else {
        return vec![];
    };
    let dom_forms: Vec<_> = doc.select(&form_sel).map(|f| f.id()).collect();
    let picked: Vec<usize> = doc
        .select(&s)
        .filter_map(|el| {
            std::iter::once(el)
                .chain(el.ancestors().filter_map(ElementRef::wrap))
                .find(|a| a.value().name() == "form")
        })
        .filter_map(|f| dom_forms.iter().position(|id| *id == f.id()))
        .collect();
    view.forms
        .iter()
        .enumerate()
        .filter(|(_, (dom, _))| picked.contains(dom))
        .map(|(k, _)| k)
        .collect()
}

pub(super) fn label_of(view: &PageView, press: &Press) -> String {
    match press {
        Press::Form { form, button } => {
            match button.and_then(|b| view.forms[*form].1.buttons.get(b)) {
                Some(b) => format!("button {:?}", b.label),
                None => format!("form {} (implicit submission)", form + 1),
            }
        }
        Press::Link { link } => format!("link {:?}", view.links[*link].text),
    }
}

/// What to press and fill on a page `fit` recognised; `Ok(None)` when the decision is to stop
/// (observe at a consent page). `expand` resolves `${...}` in fill values.
pub fn plan(
    view: &PageView,
    fit: &Fit,
    rules: &[FormPage],
    decision: Decision,
    username: &str,
    expand: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Option<Plan>, String> {
    let rule = fit.rule.map(|i| &rules[i]);
    let scope = rule
        .and_then(|r| r.form.as_deref())
        .map(|css| forms_matching(view, css));
    let missing = |what: String| {
        format!(
            "the {} has no {what}; the page: {}",
            fit.name(),
            view.describe()
        )
    };
    let mut fills = Vec::new();
    if let Some(r) = rule {
        for (name, value) in &r.fill {
            fills.push((name.clone(), expand(value)?));
        }
    }
    let press = match fit.role {
        PageRole::Consent => {
            let decision = decision.at_consent();
            let text = match decision {
                Decision::Observe => return Ok(None),
                Decision::Approve | Decision::Forge(_) => rule.and_then(|r| r.approve.as_deref()),
                Decision::Deny => rule.and_then(|r| r.deny.as_deref()),
            };
            let found = match text {
                Some(t) => {
                    let t = t.to_lowercase();
                    find_control(view, scope.as_deref(), |l| l.to_lowercase().contains(&t))
                }
                None if decision == Decision::Deny => find_control(view, None, is_deny),
                None => approve_control(view),
            };
            found.ok_or_else(|| {
                missing(format!(
                    "{} control{}",
                    decision.name(),
                    text.map(|t| format!(" like {t:?}")).unwrap_or_default()
                ))
            })?
        }
        PageRole::Login | PageRole::Other => {
            let button_text = rule.and_then(|r| r.button.as_deref());
            let by_shape = if rule.is_none_or(|r| r.fill.is_empty() && r.form.is_none()) {
                login_form(view)
            } else {
                None
            };
            let form = match (&scope, button_text, &by_shape) {
                (Some(s), _, _) if !s.is_empty() => s[0],
                (Some(_), _, _) => return Err(missing("form matching its `form` selector".into())),
                (None, Some(t), _) => {
                    match find_control(view, None, |l| l.to_lowercase().contains(&t.to_lowercase()))
                    {
                        Some(Press::Form { form, .. }) => form,
                        Some(link @ Press::Link { .. }) => {
                            let label = label_of(view, &link);
                            return Ok(Some(Plan {
                                press: link,
                                fills: vec![],
                                label,
                            }));
                        }
                        None => return Err(missing(format!("control like {t:?}"))),
                    }
                }
                (None, None, Some((k, _, _))) => *k,
                (None, None, None) if view.forms.len() == 1 => 0,
                (None, None, None) => {
                    return Err(missing(
                        "single form to submit (give `form` or `button`)".into(),
                    ))
                }
            };
            if fit.role == PageRole::Login && fills.is_empty() {
                if let Some((k, user, pass)) = &by_shape {
                    if *k == form {
                        if let Some(u) = user {
                            fills.push((u.clone(), username.to_string()));
                        }
                        if let Some(p) = pass {
                            fills.push((p.clone(), expand("${user.password}")?));
                        }
                    }
                }
            }
            let buttons = &view.forms[form].1.buttons;
            let button = match button_text {
                Some(t) => Some(
                    buttons
                        .iter()
                        .position(|b| {
                            let t = t.to_lowercase();
                            b.label.to_lowercase().contains(&t)
                                || b.value.to_lowercase().contains(&t)
                        })
                        .ok_or_else(|| missing(format!("submit button like {t:?}")))?,
                ),
                None => (!buttons.is_empty()).then_some(0),
            };
            Press::Form { form, button }
        }
    };
    let label = label_of(view, &press);
    Ok(Some(Plan {
        press,
        fills,
        label,
    }))
}
