//! The `form` driver's page step: find the `[[consent.page]]` for the page, fill and submit.

use globset::Glob;
use url::Url;

use super::{AuthzOutcome, Decision};
use crate::html_form;
use crate::profile::{FormPage, PageRole, Target, User};
use crate::session::{Request, Response};

pub(super) enum Next {
    Submit(Request),
    Stop,
}

/// The page's `<title>`, for messages.
pub(super) fn title(html: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("title").ok()?;
    let t: String = doc.select(&sel).next()?.text().collect();
    let t = t.trim().to_string();
    (!t.is_empty()).then_some(t)
}

/// Visible text of a page, whitespace collapsed (for `consent_page_contains`).
pub(super) fn page_text(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let mut words = Vec::new();
    let skip = scraper::Selector::parse("script, style").ok();
    let hidden: Vec<_> = skip
        .map(|s| doc.select(&s).map(|e| e.id()).collect())
        .unwrap_or_default();
    for node in doc.root_element().descendants() {
        if let Some(t) = node.value().as_text() {
            let inside_hidden = node.ancestors().any(|a| hidden.contains(&a.id()));
            if !inside_hidden {
                words.extend(t.split_whitespace().map(str::to_string));
            }
        }
    }
    // Button labels and values are part of what the user sees.
    if let Ok(sel) = scraper::Selector::parse("input[type=submit], button") {
        for e in doc.select(&sel) {
            if let Some(v) = e.value().attr("value") {
                words.push(v.to_string());
            }
        }
    }
    words.join(" ")
}

/// The page forbids being framed: `X-Frame-Options: DENY|SAMEORIGIN` or a CSP with
/// `frame-ancestors` (clickjacking of the consent page, ADV-50).
fn framing_blocked(resp: &Response) -> bool {
    let xfo = resp.headers_named("x-frame-options").iter().any(|v| {
        let v = v.trim().to_ascii_lowercase();
        v == "deny" || v == "sameorigin"
    });
    let csp = resp
        .headers_named("content-security-policy")
        .iter()
        .any(|v| v.to_ascii_lowercase().contains("frame-ancestors"));
    xfo || csp
}

fn matches(page: &FormPage, url: &Url) -> bool {
    let mut bare = url.clone();
    bare.set_query(None);
    bare.set_fragment(None);
    if let Ok(g) = Glob::new(&page.url_match) {
        if g.compile_matcher().is_match(bare.as_str()) {
            return true;
        }
    }
    !page.url_match.contains('*') && url.path().contains(&page.url_match)
}

fn expand(target: &Target, user: &User, value: &str) -> Result<String, String> {
    crate::vars::substitute(value, |name| match name {
        "user.username" => Some(user.username.clone()),
        "user.password" => user.password.clone(),
        other => target.variable(other),
    })
    .map_err(|n| format!("form driver: unknown variable ${{{n}}} in a fill value"))
}

/// Decides what to do with an HTML page (status 200) the AS showed.
pub(super) fn next(
    target: &Target,
    user: &User,
    pages: &[FormPage],
    resp: &Response,
    decision: Decision,
    outcome: &mut AuthzOutcome,
    submitted: &mut Vec<String>,
) -> Result<Next, String> {
    let Some(page) = pages.iter().find(|p| matches(p, &resp.url)) else {
        let found = html_form::forms(&resp.body, &resp.url).len();
        outcome.stopped = Some(format!(
            "stopped at {}: status 200, a page{} with {found} form(s) that no [[consent.page]] matches",
            resp.url,
            title(&resp.body).map(|t| format!(" titled {t:?}")).unwrap_or_default()
        ));
        return Ok(Next::Stop);
    };
    let mut bare = resp.url.clone();
    bare.set_query(None);
    let key = format!("{:?} {}", page.role, bare);
    if submitted.iter().filter(|k| **k == key).count() >= 2 {
        outcome.stopped = Some(format!(
            "stopped at {}: the {:?} page came back after being submitted twice (wrong credentials or a rejected form?)",
            resp.url, page.role
        ));
        return Ok(Next::Stop);
    }
    submitted.push(key);
    if matches!(page.role, PageRole::Login | PageRole::Consent) {
        outcome
            .framing
            .push((bare.to_string(), framing_blocked(resp)));
    }
    let button = match page.role {
        PageRole::Consent => {
            outcome.consent_prompt = Some(true);
            outcome.consent_page_text = Some(page_text(&resp.body));
            match decision {
                Decision::Observe => return Ok(Next::Stop),
                Decision::Approve => page.approve.clone(),
                Decision::Deny => page.deny.clone(),
            }
        }
        PageRole::Login | PageRole::Other => page.button.clone(),
    };
    let mut form = match html_form::find_form(
        &resp.body,
        &resp.url,
        page.form.as_deref(),
        button.as_deref(),
    ) {
        Ok(f) => f,
        Err(e) => {
            outcome.stopped = Some(format!(
                "stopped at {}: status 200, form not found: {e}",
                resp.url
            ));
            return Ok(Next::Stop);
        }
    };
    for (name, value) in &page.fill {
        form.fill(name, &expand(target, user, value)?);
    }
    let (method, action, fields) = match form.try_submission(button.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            outcome.stopped = Some(format!("stopped at {}: status 200, {e}", resp.url));
            return Ok(Next::Stop);
        }
    };
    // For GET the submission URL already carries the fields as its query.
    Ok(Next::Submit(if method.eq_ignore_ascii_case("POST") {
        Request::post_form(action, &fields)
    } else {
        Request::get(action)
    }))
}
