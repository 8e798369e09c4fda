//! The `form` driver's page step: recognise the page (a `[[consent.page]]` rule or a built-in
//! shape, [`super::recognise`]), fill and submit over HTTP.

use super::forgery::{self, Forging, Stage};
use super::recognise::{self, NoFit, PageView, Plan, Press};
use super::{AuthzOutcome, Decision};
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
pub(super) fn framing_blocked(resp: &Response) -> bool {
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

pub(super) fn expand(target: &Target, user: &User, value: &str) -> Result<String, String> {
    crate::vars::substitute(value, |name| match name {
        "user.username" => Some(user.username.clone()),
        "user.password" => user.password.clone(),
        other => target.variable(other),
    })
    .map_err(|n| format!("consent driver: unknown variable ${{{n}}} in a fill value"))
}

/// What a driver does with a page no rule or shape fits: an error when the page looks like one
/// the driver should have handled (forms, or JavaScript that builds them), a stop otherwise (an
/// error page of the AS, which checks may observe).
pub(super) fn unrecognised(
    view: &PageView,
    status: u16,
    outcome: &mut AuthzOutcome,
) -> Result<Next, String> {
    let msg = format!(
        "stopped at a page (status {status}) that fits no [[consent.page]] rule and looks neither like a login page nor like a consent page: {}",
        view.describe()
    );
    if view.forms.is_empty() && !view.needs_javascript() {
        outcome.stopped = Some(msg);
        return Ok(Next::Stop);
    }
    Err(msg)
}

/// Decides what to do with an HTML page (status 200) the AS showed; with `forging`, the page
/// may be the AS's answer to a forged post ([`forgery`]), and the form to forge is posted so.
#[allow(clippy::too_many_arguments)]
pub(super) fn next(
    target: &Target,
    user: &User,
    pages: &[FormPage],
    resp: &Response,
    decision: Decision,
    outcome: &mut AuthzOutcome,
    submitted: &mut Vec<String>,
    mut forging: Option<&mut Forging>,
) -> Result<Next, String> {
    let view = PageView::parse(&resp.body, &resp.url);
    let recognised = recognise::recognise(&view, pages);
    if let Some(f) = forging.as_deref_mut().filter(|f| f.stage == Stage::Sent) {
        // The page that answers the forged post: the form again or an error page is a refusal.
        let answer = match &recognised {
            Ok(fit) => Some(Some(fit.role)),
            Err(NoFit::Unrecognised) if view.forms.is_empty() && !view.needs_javascript() => {
                Some(None)
            }
            Err(_) => None,
        };
        if let Some(role) = answer {
            if f.answered_with_page(role, resp.status, &resp.url, outcome) {
                return Ok(Next::Stop);
            }
        }
    }
    let fit = match recognised {
        Ok(f) => f,
        Err(NoFit::Ambiguous(i, j)) => {
            return Err(format!(
                "the page {} fits both consent.page[{i}] and consent.page[{j}]: add a `selector` or `text` that tells them apart",
                resp.url
            ))
        }
        Err(NoFit::Unrecognised) => return unrecognised(&view, resp.status, outcome),
    };
    let mut bare = resp.url.clone();
    bare.set_query(None);
    let key = format!("{:?} {}", fit.role, bare);
    if submitted.iter().filter(|k| **k == key).count() >= 2 {
        outcome.stopped = Some(format!(
            "stopped at {}: the {} came back after being submitted twice (wrong credentials or a rejected form?)",
            resp.url,
            fit.name()
        ));
        return Ok(Next::Stop);
    }
    submitted.push(key);
    if matches!(fit.role, PageRole::Login | PageRole::Consent) {
        outcome
            .framing
            .push((bare.to_string(), framing_blocked(resp)));
    }
    if fit.role == PageRole::Consent {
        outcome.consent_prompt = Some(true);
        outcome.consent_page_text = Some(view.text.clone());
    }
    let expand = |v: &str| expand(target, user, v);
    let username = user.username.clone();
    let Some(plan) = recognise::plan(&view, &fit, pages, decision, &username, &expand)? else {
        return Ok(Next::Stop);
    };
    let forge_here = forging.filter(|f| f.stage == Stage::Pending && f.forgery.role() == fit.role);
    let declared = forgery::declared_field(target);
    match request_for(&view, &plan, forge_here.as_deref(), declared) {
        Ok((req, secrets)) => {
            if let Some(f) = forge_here {
                f.stage = Stage::Sent;
            }
            outcome.secrets.extend(secrets);
            Ok(Next::Submit(req))
        }
        Err(why) => {
            outcome.not_applicable = Some(why);
            Ok(Next::Stop)
        }
    }
}

/// The HTTP request pressing the plan's control sends, with the form's anti-CSRF value
/// removed or wrong when `forging`, and the anti-CSRF values it sent, withheld or forged
/// (secrets); `Err` when that form cannot be forged (no anti-CSRF field, or the control is a
/// link). `declared` is the profile's `csrf_field`.
fn request_for(
    view: &PageView,
    plan: &Plan,
    forging: Option<&Forging>,
    declared: Option<&str>,
) -> Result<(Request, Vec<String>), String> {
    match plan.press {
        Press::Link { link } => match forging {
            Some(f) => Err(format!(
                "{} cannot be made: the control pressed there is a link ({}), not a form",
                f.forgery.what(),
                plan.label
            )),
            None => Ok((Request::get(view.links[link].href.clone()), Vec::new())),
        },
        Press::Form { form, button } => {
            let mut f = view.forms[form].1.clone();
            for (name, value) in &plan.fills {
                f.fill(name, value);
            }
            let secrets = match forging {
                Some(g) => forgery::tamper(&mut f, g.forgery, declared)?,
                // Anti-CSRF values are secrets (reports never show them) whatever the field's
                // name: the redaction rules know only the commonest names.
                None => forgery::csrf_values(&f, declared),
            };
            let (method, action, fields) = f.submission_pressing(button);
            // For GET the submission URL already carries the fields as its query.
            let req = if method.eq_ignore_ascii_case("POST") {
                Request::post_form(action, &fields)
            } else {
                Request::get(action)
            };
            Ok((req, secrets))
        }
    }
}
