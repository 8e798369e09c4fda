//! Page recognition shared by the `form` and `browser` drivers: which page rule, or else which
//! built-in shape, fits the page the authorization server shows, and what to press there.
//!
//! Built-in shapes (used for pages no rule fits):
//! - login: a form with a password field (the username goes in its first text/email field), or
//!   an identifier-first form (one text/email field named like a user name, no password);
//! - consent: an approve-like submit control (allow, approve, accept, authorize, consent, grant;
//!   or, on a page whose text asks for consent, its one other submit button, "Continue") and a
//!   deny-like control (deny, decline, reject, cancel, "don't allow"), the latter a button of the
//!   same or another form, or a link.

use globset::Glob;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::Decision;
use crate::html_form::{self, Form};
use crate::profile::{FormPage, PageRole};

/// Words of controls that approve (lower case).
const APPROVE_WORDS: &[&str] = &[
    "allow",
    "approve",
    "accept",
    "authorize",
    "authorise",
    "consent",
    "grant",
];
/// Words of controls that deny (lower case); checked before the approve words ("don't allow").
const DENY_WORDS: &[&str] = &[
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

/// A link of the page (`<a href>`).
#[derive(Debug, Clone)]
pub struct Link {
    pub text: String,
    pub href: Url,
    /// Position among the document's `a[href]` elements.
    pub dom_index: usize,
}

/// What the drivers know of a page: parsed once, `Send` (no parser state kept).
#[derive(Debug, Clone)]
pub struct PageView {
    pub url: Url,
    pub html: String,
    pub title: Option<String>,
    /// Forms with their position among the document's `<form>` elements.
    pub forms: Vec<(usize, Form)>,
    pub links: Vec<Link>,
    /// Visible text, whitespace collapsed.
    pub text: String,
    /// `<script>` elements, and the `src` of external ones.
    pub scripts: usize,
    pub script_src: Vec<String>,
    /// Text of a `<noscript>` element.
    pub noscript: Option<String>,
}

fn sel(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl PageView {
    pub fn parse(html: &str, url: &Url) -> PageView {
        let doc = Html::parse_document(html);
        let title = sel("title")
            .and_then(|s| {
                doc.select(&s)
                    .next()
                    .map(|t| collapse(&t.text().collect::<String>()))
            })
            .filter(|t| !t.is_empty());
        let links = sel("a[href]")
            .map(|s| {
                doc.select(&s)
                    .enumerate()
                    .filter_map(|(i, a)| {
                        let href = url.join(a.value().attr("href")?.trim()).ok()?;
                        matches!(href.scheme(), "http" | "https").then(|| Link {
                            text: collapse(&a.text().collect::<String>()),
                            href,
                            dom_index: i,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (scripts, script_src) = sel("script")
            .map(|s| {
                let all: Vec<ElementRef> = doc.select(&s).collect();
                let src = all
                    .iter()
                    .filter_map(|e| e.value().attr("src").map(str::to_string))
                    .collect();
                (all.len(), src)
            })
            .unwrap_or_default();
        let noscript = sel("noscript").and_then(|s| {
            doc.select(&s).next().map(|e| {
                // html5ever keeps <noscript> content as raw text when scripting is on.
                let raw = collapse(&e.text().collect::<String>());
                let stripped = Html::parse_fragment(&raw);
                collapse(&stripped.root_element().text().collect::<String>())
            })
        });
        PageView {
            url: url.clone(),
            html: html.to_string(),
            title,
            forms: html_form::forms_indexed(html, url),
            links,
            text: super::form::page_text(html),
            scripts,
            script_src,
            noscript,
        }
    }

    /// The page holds an element matching `css`.
    fn has(&self, css: &str) -> bool {
        let Some(s) = sel(css) else { return false };
        Html::parse_document(&self.html).select(&s).next().is_some()
    }

    /// No form to fill, but scripts or a `<noscript>`: the page is built by JavaScript.
    pub fn needs_javascript(&self) -> bool {
        self.forms.is_empty() && (self.scripts > 0 || self.noscript.is_some())
    }

    /// One paragraph for messages: URL, title, forms and controls seen, and the JavaScript hint.
    pub fn describe(&self) -> String {
        let mut out = format!("{}", self.url);
        if let Some(t) = &self.title {
            out.push_str(&format!(" titled {t:?}"));
        }
        if self.forms.is_empty() {
            out.push_str(", no form");
        } else {
            let forms: Vec<String> = self
                .forms
                .iter()
                .enumerate()
                .map(|(i, (_, f))| format!("form {}: {}", i + 1, f.summary()))
                .collect();
            out.push_str(&format!(", {}", forms.join("; ")));
        }
        if !self.links.is_empty() {
            let links: Vec<String> = self
                .links
                .iter()
                .take(8)
                .map(|l| format!("{:?}", crate::util::clip(&l.text, 40)))
                .collect();
            out.push_str(&format!(", links [{}]", links.join(", ")));
        }
        if self.needs_javascript() {
            let mut signs = vec!["no form".to_string()];
            if self.scripts > 0 {
                let src = self
                    .script_src
                    .first()
                    .map(|s| format!(", bundle {}", crate::util::clip(s, 80)))
                    .unwrap_or_default();
                signs.push(format!("{} script(s){src}", self.scripts));
            }
            if let Some(n) = &self.noscript {
                signs.push(format!("<noscript> {:?}", crate::util::clip(n, 120)));
            }
            out.push_str(&format!(
                "; it looks like it needs JavaScript ({}): the `browser` consent driver runs it",
                signs.join(", ")
            ));
        }
        out
    }
}

/// Which rule (or shape) fits a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    pub role: PageRole,
    /// Index of the `[[consent.page]]` rule; `None` for a built-in shape.
    pub rule: Option<usize>,
}

impl Fit {
    pub fn name(&self) -> String {
        let role = match self.role {
            PageRole::Login => "login",
            PageRole::Consent => "consent",
            PageRole::Other => "other",
        };
        match self.rule {
            Some(i) => format!("{role} page (consent.page[{i}])"),
            None => format!("{role} page (recognised by its shape)"),
        }
    }
}

/// Why no rule could be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoFit {
    /// Nothing fits: neither a rule nor a built-in shape.
    Unrecognised,
    /// Two rules fit the same page.
    Ambiguous(usize, usize),
}

fn url_fits(glob: &str, url: &Url) -> bool {
    let mut bare = url.clone();
    bare.set_query(None);
    bare.set_fragment(None);
    if let Ok(g) = Glob::new(glob) {
        if g.compile_matcher().is_match(bare.as_str()) {
            return true;
        }
    }
    !glob.contains('*') && url.path().contains(glob)
}

fn rule_fits(rule: &FormPage, view: &PageView) -> bool {
    let explicit = rule.url_match.is_some() || rule.selector.is_some() || rule.text.is_some();
    if !explicit {
        return shape(view) == Some(rule.role);
    }
    rule.url_match
        .as_deref()
        .is_none_or(|m| url_fits(m, &view.url))
        && rule.selector.as_deref().is_none_or(|s| view.has(s))
        && rule
            .text
            .as_deref()
            .is_none_or(|t| view.text.to_lowercase().contains(&t.trim().to_lowercase()))
}

/// The rule that fits the page, else its built-in shape.
pub fn recognise(view: &PageView, rules: &[FormPage]) -> Result<Fit, NoFit> {
    let fitting: Vec<usize> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| rule_fits(r, view))
        .map(|(i, _)| i)
        .collect();
    match fitting.as_slice() {
        [i] => Ok(Fit {
            role: rules[*i].role,
            rule: Some(*i),
        }),
        [i, j, ..] => Err(NoFit::Ambiguous(*i, *j)),
        [] => shape(view)
            .map(|role| Fit { role, rule: None })
            .ok_or(NoFit::Unrecognised),
    }
}

fn is_deny(label: &str) -> bool {
    let l = label.to_lowercase();
    DENY_WORDS.iter().any(|w| l.contains(w))
}

fn is_approve(label: &str) -> bool {
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
const CONSENT_WORDS: &[&str] = &[
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
fn approve_control(view: &PageView) -> Option<Press> {
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
fn login_form(view: &PageView) -> Option<(usize, Option<String>, Option<String>)> {
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

/// A control to press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    /// Submit `view.forms[form]`, pressing its `button`-th submit button (none: implicit).
    Form { form: usize, button: Option<usize> },
    /// Follow `view.links[link]`.
    Link { link: usize },
}

/// The first control (submit button of the forms `scope` allows, else a link) whose label fits.
fn find_control(
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
fn forms_matching(view: &PageView, css: &str) -> Vec<usize> {
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

fn label_of(view: &PageView, press: &Press) -> String {
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
            let text = match decision {
                Decision::Observe => return Ok(None),
                Decision::Approve => rule.and_then(|r| r.approve.as_deref()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn rules(toml_text: &str) -> Vec<FormPage> {
        #[derive(serde::Deserialize)]
        struct R {
            page: Vec<FormPage>,
        }
        toml::from_str::<R>(toml_text).unwrap().page
    }

    const LOGIN: &str = r#"<html><head><title>Sign in</title></head><body>
        <form method="post" action="/interaction/abc/login">
        <input type="hidden" name="csrf" value="t"><input name="login" autocomplete="username">
        <input name="pw" type="password"><button>Sign in</button></form></body></html>"#;
    const CONSENT: &str = r#"<html><head><title>Authorize</title></head><body>
        <p>Let agent-a act for you?</p>
        <form method="post" action="/interaction/abc/confirm"><input type="hidden" name="csrf" value="t">
        <button type="submit">Allow</button></form>
        <a href="/interaction/abc/abort">Cancel</a></body></html>"#;
    const TWO_FORMS: &str = r#"<html><body>
        <form method="post" action="/approve"><button>Approve</button></form>
        <form method="post" action="/deny"><input type="hidden" name="x" value="1"><button>Deny</button></form>
        </body></html>"#;
    const SPA: &str = r#"<html><head><script src="/static/app.3f2a.js"></script></head>
        <body><div id="root"></div><noscript>You need to enable JavaScript to run this app.</noscript></body></html>"#;

    #[test]
    fn shapes_without_rules() {
        let u = url("https://as.example/interaction/abc");
        let login = PageView::parse(LOGIN, &u);
        assert_eq!(recognise(&login, &[]).unwrap().role, PageRole::Login);
        let consent = PageView::parse(CONSENT, &u);
        assert_eq!(recognise(&consent, &[]).unwrap().role, PageRole::Consent);
        let spa = PageView::parse(SPA, &u);
        assert_eq!(recognise(&spa, &[]), Err(NoFit::Unrecognised));
        assert!(spa.needs_javascript());
        let d = spa.describe();
        assert!(
            d.contains("JavaScript")
                && d.contains("app.3f2a.js")
                && d.contains("enable JavaScript"),
            "{d}"
        );
        assert!(!login.needs_javascript());
    }

    #[test]
    fn login_plan_fills_username_and_password() {
        let u = url("https://as.example/interaction/abc");
        let view = PageView::parse(LOGIN, &u);
        let fit = recognise(&view, &[]).unwrap();
        let expand = |v: &str| Ok(v.replace("${user.password}", "secret"));
        let plan = plan(&view, &fit, &[], Decision::Approve, "alice", &expand)
            .unwrap()
            .unwrap();
        assert_eq!(
            plan.press,
            Press::Form {
                form: 0,
                button: Some(0)
            }
        );
        assert_eq!(
            plan.fills,
            vec![
                ("login".into(), "alice".into()),
                ("pw".into(), "secret".into())
            ]
        );
    }

    #[test]
    fn deny_as_link_and_as_second_form() {
        let u = url("https://as.example/x");
        let none = |_: &str| Ok(String::new());
        let view = PageView::parse(CONSENT, &u);
        let fit = recognise(&view, &[]).unwrap();
        let deny = plan(&view, &fit, &[], Decision::Deny, "a", &none)
            .unwrap()
            .unwrap();
        assert_eq!(deny.press, Press::Link { link: 0 });
        let view = PageView::parse(TWO_FORMS, &u);
        let r = rules("[[page]]\ntext = \"approve\"\nrole = \"consent\"\napprove = \"Approve\"\ndeny = \"Deny\"\n");
        let fit = recognise(&view, &r).unwrap();
        assert_eq!(fit.rule, Some(0));
        let deny = plan(&view, &fit, &r, Decision::Deny, "a", &none)
            .unwrap()
            .unwrap();
        assert_eq!(
            deny.press,
            Press::Form {
                form: 1,
                button: Some(0)
            }
        );
        let approve = plan(&view, &fit, &r, Decision::Approve, "a", &none)
            .unwrap()
            .unwrap();
        assert_eq!(
            approve.press,
            Press::Form {
                form: 0,
                button: Some(0)
            }
        );
        assert_eq!(
            plan(&view, &fit, &r, Decision::Observe, "a", &none).unwrap(),
            None
        );
    }

    #[test]
    fn rules_on_one_url_told_apart_by_content() {
        let r = rules(
            "[[page]]\nmatch = \"*/interaction/*\"\nselector = \"input[type=password]\"\nrole = \"login\"\n\
             [[page]]\nmatch = \"*/interaction/*\"\ntext = \"act for you\"\nrole = \"consent\"\napprove = \"Allow\"\ndeny = \"Cancel\"\n",
        );
        let u = url("https://as.example/interaction/abc");
        let login = recognise(&PageView::parse(LOGIN, &u), &r).unwrap();
        assert_eq!((login.role, login.rule), (PageRole::Login, Some(0)));
        let consent = recognise(&PageView::parse(CONSENT, &u), &r).unwrap();
        assert_eq!((consent.role, consent.rule), (PageRole::Consent, Some(1)));
        // Two rules that both fit one page are refused at run time too.
        let both = rules("[[page]]\nmatch = \"*/interaction/*\"\nrole = \"login\"\n[[page]]\ntext = \"sign in\"\nrole = \"other\"\n");
        assert_eq!(
            recognise(&PageView::parse(LOGIN, &u), &both),
            Err(NoFit::Ambiguous(0, 1))
        );
    }
}
