//! HTML form extraction for the `form` consent driver: a real HTML parser (`scraper`, html5ever),
//! never regular expressions, so login and consent pages of any target are read as a browser
//! reads them.
//!
//! API:
//! - [`Form`] `{ action: Url, method: String ("GET"|"POST"), fields: Vec<(name, value)>,
//!   hidden: Vec<name> (the fields from hidden inputs), buttons: Vec<Button> }` and [`Button`]
//!   `{ name: Option<String>, value, label, action: Option<Url> (formaction),
//!   method: Option<String> (formmethod) }`.
//!   Fields are what a browser would submit: hidden/text/password/... inputs, textareas, selected
//!   options, checked boxes and radios; disabled controls and nameless ones are left out.
//! - [`forms`]`(html, page_url)`: every form, action resolved against the page URL (missing or
//!   empty action = the page URL), method defaulting to GET. Controls outside the form that name
//!   it with `form="id"` are included.
//! - [`find_form`]`(html, page_url, css, button_text) -> Result<Form, FormError>`: the first form
//!   (document order) matching the CSS selector (a match inside a form selects that form) and/or
//!   having a submit button whose label or value contains `button_text`, case-insensitively.
//!   With neither, the page must hold exactly one form. Errors list the forms found (names of
//!   fields, never their values: they may hold CSRF tokens).
//! - [`Form::fill`], [`Form::remove`], [`Form::get`], [`Form::button`], and
//!   [`Form::try_submission`]`(button_text) -> Result<Submission, FormError>` where
//!   [`Submission`] = `(method, url, fields)`: includes the pressed button's name=value (and its
//!   `formaction`/`formmethod`); `None` presses the first submit button (a browser's implicit
//!   submission), if any; a text matching no button is an error.
//!   [`Form::submission`]`(button_text) -> Submission` is the same but, when the text matches no
//!   button, submits without pressing any (prefer `try_submission`).
//!   For GET the fields are also put in the URL's query (replacing the action's own query, as
//!   browsers do): send no body. For POST send `fields` form-urlencoded.

use scraper::{ElementRef, Html, Selector};
use url::Url;

/// A submit control: `<button type=submit>` or `<input type=submit|image>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    pub name: Option<String>,
    pub value: String,
    /// What the user sees: the button's text, or an input's value / alt.
    pub label: String,
    /// `formaction`, resolved against the page URL.
    pub action: Option<Url>,
    /// `formmethod`, upper-cased.
    pub method: Option<String>,
}

impl Button {
    fn matches(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        self.label.to_lowercase().contains(&text) || self.value.to_lowercase().contains(&text)
    }
}

/// What a submission sends: (method, URL, fields). See [`Form::submission`].
pub type Submission = (String, Url, Vec<(String, String)>);

/// A form as a browser would submit it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub action: Url,
    pub method: String,
    pub fields: Vec<(String, String)>,
    /// Names of the fields that come from `<input type=hidden>` (anti-CSRF tokens, transaction
    /// ids), in document order.
    pub hidden: Vec<String>,
    pub buttons: Vec<Button>,
}

/// Why no form (or button) could be chosen; the message says what the page held instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormError {
    #[error("invalid CSS selector `{0}`")]
    BadSelector(String),
    #[error("no form {wanted}; the page has {found}")]
    NotFound { wanted: String, found: String },
    #[error("several forms and nothing to choose between them; the page has {found}")]
    Ambiguous { found: String },
    #[error("no submit button matching `{text}` in the form; its buttons: {buttons}")]
    ButtonNotFound { text: String, buttons: String },
}

impl Form {
    /// Sets the first field named `name`, or adds it.
    pub fn fill(&mut self, name: &str, value: &str) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value.to_string(),
            None => self.fields.push((name.to_string(), value.to_string())),
        }
    }

    /// Removes every field named `name`.
    pub fn remove(&mut self, name: &str) {
        self.fields.retain(|(n, _)| n != name);
    }

    /// The first value of field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The submit button whose label or value contains `text` (case-insensitive).
    pub fn button(&self, text: &str) -> Option<&Button> {
        self.buttons.iter().find(|b| b.matches(text))
    }

    /// What pressing the button would send; when `button_text` matches no button, the form is
    /// submitted without a button's name=value. See [`Form::try_submission`].
    pub fn submission(&self, button_text: Option<&str>) -> Submission {
        match self.try_submission(button_text) {
            Ok(submission) => submission,
            Err(_) => self.submit_with(None),
        }
    }

    /// What pressing the button whose label or value contains `button_text` (or, with `None`,
    /// the first submit button) would send: (method, URL, fields).
    pub fn try_submission(&self, button_text: Option<&str>) -> Result<Submission, FormError> {
        let button = match button_text {
            Some(text) => Some(self.button(text).ok_or_else(|| FormError::ButtonNotFound {
                text: text.to_string(),
                buttons: describe_buttons(&self.buttons),
            })?),
            None => self.buttons.first(),
        };
        Ok(self.submit_with(button))
    }

    /// What pressing the `index`-th submit button (or, with `None`, no button) would send.
    pub fn submission_pressing(&self, index: Option<usize>) -> Submission {
        self.submit_with(index.and_then(|i| self.buttons.get(i)))
    }

    fn submit_with(&self, button: Option<&Button>) -> Submission {
        let mut fields = self.fields.clone();
        let mut method = self.method.clone();
        let mut url = self.action.clone();
        if let Some(button) = button {
            if let Some(name) = button.name.as_deref().filter(|n| !n.is_empty()) {
                fields.push((name.to_string(), button.value.clone()));
            }
            if let Some(m) = &button.method {
                method = m.clone();
            }
            if let Some(action) = &button.action {
                url = action.clone();
            }
        }
        if method == "GET" {
            url.set_query(None);
            if !fields.is_empty() {
                url.query_pairs_mut().extend_pairs(fields.iter());
            }
        }
        (method, url, fields)
    }

    /// One line for error messages: method, action, field names, button labels.
    pub fn summary(&self) -> String {
        let names: Vec<&str> = self.fields.iter().map(|(n, _)| n.as_str()).collect();
        format!(
            "{} {} fields [{}] buttons {}",
            self.method,
            self.action,
            names.join(", "),
            describe_buttons(&self.buttons)
        )
    }
}

fn describe_buttons(buttons: &[Button]) -> String {
    let labels: Vec<String> = buttons.iter().map(|b| format!("{:?}", b.label)).collect();
    format!("[{}]", labels.join(", "))
}

fn describe_forms(forms: &[Form]) -> String {
    if forms.is_empty() {
        return "no form at all".to_string();
    }
    let lines: Vec<String> = forms
        .iter()
        .enumerate()
        .map(|(i, f)| format!("form {}: {}", i + 1, f.summary()))
        .collect();
    format!("{} form(s): {}", forms.len(), lines.join("; "))
}

/// Every form of the page, in document order.
pub fn forms(html: &str, page_url: &Url) -> Vec<Form> {
    let document = Html::parse_document(html);
    parsed_forms(&document, page_url)
        .into_iter()
        .map(|(_, form)| form)
        .collect()
}

/// Every form of the page with its position among the document's `<form>` elements (forms
/// whose action is not a URL are left out, so the positions may skip).
pub fn forms_indexed(html: &str, page_url: &Url) -> Vec<(usize, Form)> {
    let document = Html::parse_document(html);
    let Ok(selector) = Selector::parse("form") else {
        return Vec::new();
    };
    document
        .select(&selector)
        .enumerate()
        .filter_map(|(i, el)| build_form(&document, el, page_url).map(|form| (i, form)))
        .collect()
}

/// Chooses one form by selector and/or button text (see the module documentation).
pub fn find_form(
    html: &str,
    page_url: &Url,
    css: Option<&str>,
    button_text: Option<&str>,
) -> Result<Form, FormError> {
    let document = Html::parse_document(html);
    let all = parsed_forms(&document, page_url);
    let mut candidates: Vec<&(ElementRef, Form)> = all.iter().collect();
    if let Some(css) = css {
        let selector = Selector::parse(css).map_err(|_| FormError::BadSelector(css.into()))?;
        let chosen: Vec<_> = document
            .select(&selector)
            .filter_map(|el| enclosing_form(el))
            .map(|form| form.id())
            .collect();
        candidates.retain(|(el, _)| chosen.contains(&el.id()));
    }
    if let Some(text) = button_text {
        candidates.retain(|(_, form)| form.button(text).is_some());
    }
    let found = || describe_forms(&all.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>());
    if css.is_none() && button_text.is_none() && candidates.len() > 1 {
        return Err(FormError::Ambiguous { found: found() });
    }
    match candidates.first() {
        Some((_, form)) => Ok(form.clone()),
        None => Err(FormError::NotFound {
            wanted: describe_wanted(css, button_text),
            found: found(),
        }),
    }
}

fn describe_wanted(css: Option<&str>, button_text: Option<&str>) -> String {
    match (css, button_text) {
        (Some(css), Some(text)) => format!("matching `{css}` with a button like {text:?}"),
        (Some(css), None) => format!("matching `{css}`"),
        (None, Some(text)) => format!("with a button like {text:?}"),
        (None, None) => "at all".to_string(),
    }
}

/// The element itself if it is a form, else its nearest form ancestor.
fn enclosing_form(el: ElementRef) -> Option<ElementRef> {
    if el.value().name() == "form" {
        return Some(el);
    }
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| a.value().name() == "form")
}

fn parsed_forms<'a>(document: &'a Html, page_url: &Url) -> Vec<(ElementRef<'a>, Form)> {
    let Ok(selector) = Selector::parse("form") else {
        return Vec::new();
    };
    document
        .select(&selector)
        .filter_map(|el| build_form(document, el, page_url).map(|form| (el, form)))
        .collect()
}

/// A form, or `None` when its action is not a URL (a browser would not submit it either).
fn build_form(document: &Html, form: ElementRef, page_url: &Url) -> Option<Form> {
    let action = resolve(page_url, form.value().attr("action"))?;
    let method = normalise_method(form.value().attr("method")).unwrap_or_else(|| "GET".into());
    let mut result = Form {
        action,
        method,
        fields: Vec::new(),
        hidden: Vec::new(),
        buttons: Vec::new(),
    };
    for control in controls_of(document, form) {
        add_control(&mut result, control, page_url);
    }
    Some(result)
}

/// The form's controls in document order: its descendants (unless they name another form with
/// `form=`), plus controls elsewhere whose `form` attribute names this form's id.
fn controls_of<'a>(document: &'a Html, form: ElementRef<'a>) -> Vec<ElementRef<'a>> {
    let form_id = form.value().id();
    let mut controls = Vec::new();
    let Ok(selector) = Selector::parse("input, button, select, textarea") else {
        return controls;
    };
    for el in document.select(&selector) {
        let owner = match el.value().attr("form") {
            Some(owner_id) => Some(owner_id) == form_id,
            None => enclosing_form(el).is_some_and(|f| f.id() == form.id()),
        };
        if owner {
            controls.push(el);
        }
    }
    controls
}

fn add_control(form: &mut Form, el: ElementRef, page_url: &Url) {
    let attr = |name: &str| el.value().attr(name);
    if attr("disabled").is_some() {
        return;
    }
    let name = attr("name").filter(|n| !n.is_empty()).map(str::to_string);
    match el.value().name() {
        "input" => {
            let kind = attr("type").unwrap_or("text").to_ascii_lowercase();
            match kind.as_str() {
                "submit" | "image" => {
                    let value = attr("value").unwrap_or_default().to_string();
                    let label = match kind.as_str() {
                        "image" => attr("alt").unwrap_or_default().to_string(),
                        _ if value.is_empty() => "Submit".to_string(),
                        _ => value.clone(),
                    };
                    form.buttons.push(button(el, name, value, label, page_url));
                }
                "button" | "reset" | "file" => {}
                "checkbox" | "radio" => {
                    if let (Some(name), Some(_)) = (name, attr("checked")) {
                        let value = attr("value").unwrap_or("on").to_string();
                        form.fields.push((name, value));
                    }
                }
                _ => {
                    if let Some(name) = name {
                        if kind == "hidden" {
                            form.hidden.push(name.clone());
                        }
                        form.fields
                            .push((name, attr("value").unwrap_or_default().to_string()));
                    }
                }
            }
        }
        "button" => {
            let kind = attr("type").unwrap_or("submit").to_ascii_lowercase();
            if kind == "submit" {
                let value = attr("value").unwrap_or_default().to_string();
                let label = collapse_whitespace(&el.text().collect::<String>());
                form.buttons.push(button(el, name, value, label, page_url));
            }
        }
        "textarea" => {
            if let Some(name) = name {
                let text: String = el.text().collect();
                // HTML drops one newline right after <textarea>.
                let text = text.strip_prefix('\n').unwrap_or(&text).to_string();
                form.fields.push((name, text));
            }
        }
        "select" => {
            if let Some(name) = name {
                for value in selected_options(el) {
                    form.fields.push((name.clone(), value));
                }
            }
        }
        _ => {}
    }
}

fn button(
    el: ElementRef,
    name: Option<String>,
    value: String,
    label: String,
    page_url: &Url,
) -> Button {
    Button {
        name,
        value,
        label,
        action: el
            .value()
            .attr("formaction")
            .and_then(|a| resolve(page_url, Some(a))),
        method: normalise_method(el.value().attr("formmethod")),
    }
}

/// Selected options of a `<select>`: for a single select the last `selected` one, or else the
/// first enabled option; for `multiple`, every selected one.
fn selected_options(select: ElementRef) -> Vec<String> {
    let options: Vec<ElementRef> = select
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|o| o.value().name() == "option" && o.value().attr("disabled").is_none())
        .collect();
    let value_of = |o: &ElementRef| match o.value().attr("value") {
        Some(v) => v.to_string(),
        None => collapse_whitespace(&o.text().collect::<String>()),
    };
    let selected: Vec<String> = options
        .iter()
        .filter(|o| o.value().attr("selected").is_some())
        .map(value_of)
        .collect();
    if select.value().attr("multiple").is_some() {
        return selected;
    }
    match selected.last() {
        Some(last) => vec![last.clone()],
        None => options.first().map(value_of).into_iter().collect(),
    }
}

fn resolve(page_url: &Url, action: Option<&str>) -> Option<Url> {
    match action.map(str::trim).filter(|a| !a.is_empty()) {
        Some(action) => page_url.join(action).ok(),
        None => Some(page_url.clone()),
    }
}

fn normalise_method(method: Option<&str>) -> Option<String> {
    match method?.trim().to_ascii_lowercase().as_str() {
        "post" => Some("POST".into()),
        "get" => Some("GET".into()),
        // `dialog` and unknown values submit nothing over HTTP; treat as the default.
        _ => None,
    }
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
