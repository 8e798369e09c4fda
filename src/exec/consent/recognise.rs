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

mod plan;
mod shape;

pub use plan::{plan, Plan, Press};
pub use shape::shape;

use globset::Glob;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::html_form::{self, Form};
use crate::profile::{FormPage, PageRole};

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

#[cfg(test)]
mod tests;
