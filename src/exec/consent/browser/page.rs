//! Page driving: snapshots of the page, the walk from the authorization request through login and
//! consent pages to the redirect, and the presses on each page's form.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::page::NavigateParams;
use chromiumoxide::Page;
use url::Url;

use crate::exec::consent::form::{expand, framing_blocked};
use crate::exec::consent::recognise::{self, NoFit, PageView, Plan, Press};
use crate::exec::consent::{AuthzOutcome, Decision, Destination, MAX_HOPS};
use crate::profile::{FormPage, PageRole, Target};
use crate::session::{Request, Session};

use super::intercept::{error_document, export_cookies, import_cookies, intercept, Seen};
use super::{Options, POLL};

/// Reads the page: its URL, HTML (as rendered, after scripts) and a mark set by the driver
/// that disappears with the document.
pub(super) async fn snapshot(page: &Page) -> Option<(Url, String, Option<u64>)> {
    let probe = page
        .evaluate(
            "JSON.stringify({u: location.href, r: document.readyState, m: window.__oboMark ?? null, h: document.documentElement ? document.documentElement.outerHTML : ''})",
        )
        .await
        .ok()?
        .into_value::<String>()
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&probe).ok()?;
    if v.get("r")?.as_str()? != "complete" {
        return None;
    }
    let url = Url::parse(v.get("u")?.as_str()?).ok()?;
    let html = v.get("h")?.as_str()?.to_string();
    Some((url, html, v.get("m").and_then(|m| m.as_u64())))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn drive_page(
    session: &mut Session,
    target: &Target,
    page: &Page,
    initial: &Request,
    dest: &Destination<'_>,
    decision: Decision,
    pages: &[FormPage],
    opts: &Options,
) -> Result<AuthzOutcome, String> {
    let as_url = target.endpoints.authorization.clone();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let wake = Arc::new(tokio::sync::Notify::new());
    let listener = intercept(
        page.clone(),
        seen.clone(),
        wake.clone(),
        as_url.origin(),
        dest.registered.clone(),
        dest.sent.cloned(),
    )
    .await?;
    let result = async {
        import_cookies(session, page, &as_url).await?;
        start(page, initial).await?;
        let outcome = walk(target, page, &seen, &wake, decision, pages, opts).await;
        export_cookies(session, page, &as_url).await;
        outcome
    }
    .await;
    listener.abort();
    let exchanges = seen
        .lock()
        .map(|mut s| std::mem::take(&mut s.exchanges))
        .unwrap_or_default();
    for (request, response) in exchanges {
        session.record(&request, &Ok(response), Duration::ZERO);
    }
    result
}

/// Opens the authorization request: a navigation (GET) or a form the page posts (POST).
pub(super) async fn start(page: &Page, initial: &Request) -> Result<(), String> {
    if initial.method == "GET" {
        // Not awaited: the navigation may be stopped by the interception.
        let page = page.clone();
        let url = initial.url.to_string();
        tokio::spawn(async move {
            let _ = page.execute(NavigateParams::new(url)).await;
        });
        return Ok(());
    }
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(initial.body.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let script = format!(
        "(() => {{ const f = document.createElement('form'); f.method = 'post'; f.action = {action}; \
         for (const [n, v] of {pairs}) {{ const i = document.createElement('input'); i.type = 'hidden'; i.name = n; i.value = v; f.appendChild(i); }} \
         document.body.appendChild(f); f.submit(); return true; }})()",
        action = serde_json::to_string(initial.url.as_str()).unwrap_or_default(),
        pairs = serde_json::to_string(&pairs).unwrap_or_default(),
    );
    page.evaluate(script)
        .await
        .map(|_| ())
        .map_err(|e| format!("browser: cannot post the authorization request: {e}"))
}

/// The page loop: wait for something recognisable, act, until the navigation leaves the AS.
pub(super) async fn walk(
    target: &Target,
    page: &Page,
    seen: &Arc<Mutex<Seen>>,
    wake: &tokio::sync::Notify,
    decision: Decision,
    pages: &[FormPage],
    opts: &Options,
) -> Result<AuthzOutcome, String> {
    let mut outcome = AuthzOutcome::default();
    let mut submitted: Vec<String> = Vec::new();
    // The document (mark) and content the last action was taken on.
    let mut acted_on: Option<(u64, String)> = None;
    for hop in 0..MAX_HOPS as u64 {
        let started = Instant::now();
        let mut last_view: Option<PageView> = None;
        let (view, fit) = loop {
            if let Some(done) = finished(seen, &mut outcome, decision) {
                return Ok(done);
            }
            // A page busy navigating may not answer: look again on the next round.
            let snap = tokio::time::timeout(Duration::from_secs(2), snapshot(page))
                .await
                .ok()
                .flatten();
            if let Some((url, html, mark)) = snap {
                let same_page = match (&acted_on, mark) {
                    (Some((m, before)), Some(now)) => *m == now && *before == html,
                    _ => false,
                };
                if mark.is_none() {
                    let _ = page.evaluate(format!("window.__oboMark = {hop}")).await;
                }
                if !same_page {
                    if let Some(stop) = error_document(seen, &url) {
                        outcome.status = Some(stop.status);
                        outcome.stopped = Some(format!(
                            "stopped at {}: status {}{}",
                            stop.url,
                            stop.status,
                            stop.json()
                                .and_then(|j| j
                                    .get("error")
                                    .and_then(|e| e.as_str())
                                    .map(str::to_string))
                                .map(|e| format!(", error={e}"))
                                .unwrap_or_default()
                        ));
                        outcome.last = Some(stop);
                        return Ok(outcome);
                    }
                    let view = PageView::parse(&html, &url);
                    match recognise::recognise(&view, pages) {
                        Ok(fit) => break (view, fit),
                        Err(NoFit::Ambiguous(i, j)) => {
                            return Err(format!(
                                "the page {url} fits both consent.page[{i}] and consent.page[{j}]: add a `selector` or `text` that tells them apart"
                            ))
                        }
                        Err(NoFit::Unrecognised) => last_view = Some(view),
                    }
                }
            }
            if started.elapsed() > opts.wait {
                return Err(match (last_view, &acted_on) {
                    (Some(v), _) => format!(
                        "waited {} s for a page that fits a [[consent.page]] rule or looks like a login or consent page; the browser shows {}",
                        opts.wait.as_secs(),
                        v.describe()
                    ),
                    (None, Some(_)) => format!(
                        "after the last press nothing happened within {} s (no new page, no redirect)",
                        opts.wait.as_secs()
                    ),
                    (None, None) => format!(
                        "no page loaded within {} s",
                        opts.wait.as_secs()
                    ),
                });
            }
            // Woken early by a document response or the final redirect.
            let _ = tokio::time::timeout(POLL, wake.notified()).await;
        };
        let mut bare = view.url.clone();
        bare.set_query(None);
        let key = format!("{:?} {}", fit.role, bare);
        if submitted.iter().filter(|k| **k == key).count() >= 2 {
            outcome.stopped = Some(format!(
                "stopped at {}: the {} came back after being submitted twice (wrong credentials or a rejected form?)",
                view.url,
                fit.name()
            ));
            return Ok(outcome);
        }
        submitted.push(key);
        let current = seen.lock().ok().and_then(|s| s.last.clone());
        if matches!(fit.role, PageRole::Login | PageRole::Consent) {
            let blocked = current
                .as_ref()
                .filter(|r| r.url.path() == view.url.path())
                .is_some_and(framing_blocked);
            outcome.framing.push((bare.to_string(), blocked));
        }
        outcome.status = current.as_ref().map(|r| r.status);
        if fit.role == PageRole::Consent {
            outcome.consent_prompt = Some(true);
            outcome.consent_page_text = Some(view.text.clone());
        }
        // The browser signs in the profile's primary user.
        let expand = |v: &str| expand(target, &target.profile.user, v);
        let username = target.profile.user.username.clone();
        let Some(plan) = recognise::plan(&view, &fit, pages, decision, &username, &expand)? else {
            outcome.last = current;
            return Ok(outcome);
        };
        let mark = hop;
        let _ = page.evaluate(format!("window.__oboMark = {mark}")).await;
        acted_on = Some((mark, view.html.clone()));
        press(page, &view, &plan).await?;
    }
    Err(format!(
        "authorization: more than {MAX_HOPS} pages without reaching the redirect_uri"
    ))
}

/// The navigation left the AS: the outcome, with the redirect and the response that sent it.
pub(super) fn finished(
    seen: &Arc<Mutex<Seen>>,
    outcome: &mut AuthzOutcome,
    decision: Decision,
) -> Option<AuthzOutcome> {
    let s = seen.lock().ok()?;
    let redirect = s.redirect.clone()?;
    let mut done = outcome.clone();
    if decision == Decision::Observe && done.consent_prompt.is_none() {
        done.consent_prompt = Some(false);
    }
    if decision == Decision::Deny && done.consent_prompt.is_none() {
        done.note = Some(
            "no consent page appeared, so there was nothing to deny: a stored consent?".into(),
        );
    }
    // The response that redirected, when it was an HTTP redirect; else the page that navigated.
    let last = s.last.clone();
    done.status = last.as_ref().map(|r| r.status).or(Some(302));
    done.last = last;
    done.redirect = Some(redirect);
    Some(done)
}

/// Fills the plan's fields and presses its control in the page, as a user would (the page's
/// own scripts see the input and click events).
pub(super) async fn press(page: &Page, view: &PageView, plan: &Plan) -> Result<(), String> {
    let fills = serde_json::to_string(&plan.fills).unwrap_or_else(|_| "[]".into());
    let script = match plan.press {
        Press::Link { link } => format!(
            "(() => {{ const a = document.querySelectorAll('a[href]')[{}]; if (!a) return false; a.click(); return true; }})()",
            view.links[link].dom_index
        ),
        Press::Form { form, button } => format!(
            r#"(() => {{
  const f = document.querySelectorAll('form')[{dom}];
  if (!f) return false;
  const setter = (el, v) => {{
    const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype
      : el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
    const d = Object.getOwnPropertyDescriptor(proto, 'value');
    if (d && d.set) d.set.call(el, v); else el.value = v;
    el.dispatchEvent(new Event('input', {{bubbles: true}}));
    el.dispatchEvent(new Event('change', {{bubbles: true}}));
  }};
  for (const [name, value] of {fills}) {{
    let el = Array.from(document.querySelectorAll('input, textarea, select')).find(e => e.form === f && e.name === name);
    if (!el) {{ el = document.createElement('input'); el.type = 'hidden'; el.name = name; f.appendChild(el); }}
    el.focus && el.focus();
    setter(el, value);
  }}
  const buttons = Array.from(document.querySelectorAll('button, input')).filter(e => e.form === f && !e.hasAttribute('disabled') &&
    (e.tagName === 'BUTTON' ? (e.getAttribute('type') || 'submit').toLowerCase() === 'submit' : ['submit', 'image'].includes((e.getAttribute('type') || '').toLowerCase())));
  const b = {button} === null ? null : buttons[{button}];
  if (b) b.click(); else if (f.requestSubmit) f.requestSubmit(); else f.submit();
  return true;
}})()"#,
            dom = view.forms[form].0,
            button = button.map_or("null".to_string(), |b| b.to_string()),
        ),
    };
    let pressed = tokio::time::timeout(Duration::from_secs(10), page.evaluate(script)).await;
    let Ok(pressed) = pressed else {
        return Err(format!(
            "pressing the {} on {} did not return within 10 s",
            plan.label, view.url
        ));
    };
    match pressed {
        Ok(r) if r.value().and_then(|v| v.as_bool()) == Some(false) => Err(format!(
            "the {} to press is no longer on the page {}",
            plan.label, view.url
        )),
        // A navigation may destroy the context before the answer: the press happened.
        _ => Ok(()),
    }
}
