//! The DevTools side of one authorization: requests paused by the Fetch domain (the navigation to
//! the redirect_uri is failed, never loaded, and recorded in the case's transcript), and the
//! case's cookies copied into the browser context and back.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use chromiumoxide::cdp::browser_protocol::fetch::{
    self, ContinueRequestParams, EventRequestPaused, FailRequestParams, RequestPattern,
    RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::{
    CookieParam, ErrorReason, GetCookiesParams, ResourceType, SetCookiesParams,
};
use chromiumoxide::Page;
use futures::StreamExt;
use reqwest::cookie::CookieStore;
use url::Url;

use crate::exec::consent::Destination;
use crate::session::{Request, Response, Session};

/// What the Fetch interception saw.
#[derive(Default)]
pub(super) struct Seen {
    /// The navigation that left the AS (to the redirect_uri or elsewhere), stopped unloaded.
    pub(super) redirect: Option<Url>,
    /// The last document response (status, headers, body).
    pub(super) last: Option<Response>,
    /// Document exchanges, for the case's transcript.
    pub(super) exchanges: Vec<(Request, Response)>,
}

/// The request of a paused document request, as the transcript records it.
pub(super) fn request_of(ev: &EventRequestPaused, url: Url) -> Request {
    let headers: Vec<(String, String)> = ev
        .request
        .headers
        .inner()
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let body: Option<String> = ev.request.post_data_entries.as_ref().map(|entries| {
        entries
            .iter()
            .filter_map(|e| e.bytes.as_ref())
            .filter_map(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(AsRef::<str>::as_ref(b))
                    .ok()
            })
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    });
    let content_type = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.clone());
    Request {
        method: ev.request.method.clone(),
        url,
        headers,
        body,
        content_type,
    }
}

/// Pauses document navigations: one leaving the AS is recorded and failed; responses are
/// recorded (status, headers, body) and let through.
pub(super) async fn intercept(
    page: Page,
    seen: Arc<Mutex<Seen>>,
    wake: Arc<tokio::sync::Notify>,
    as_origin: url::Origin,
    registered: Url,
    sent: Option<Url>,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let mut events = page
        .event_listener::<EventRequestPaused>()
        .await
        .map_err(|e| format!("browser: cannot listen for requests: {e}"))?;
    let pattern = |stage| {
        RequestPattern::builder()
            .url_pattern("*")
            .resource_type(ResourceType::Document)
            .request_stage(stage)
            .build()
    };
    page.execute(
        fetch::EnableParams::builder()
            .pattern(pattern(RequestStage::Request))
            .pattern(pattern(RequestStage::Response))
            .build(),
    )
    .await
    .map_err(|e| format!("browser: cannot intercept navigations: {e}"))?;
    Ok(tokio::spawn(async move {
        // Only the redirect detection of `Destination` is used here; nobody signs in.
        let nobody = crate::profile::User {
            username: String::new(),
            password: None,
            sub: String::new(),
            second: None,
        };
        let dest = Destination {
            sent: sent.as_ref(),
            registered: &registered,
            user: &nobody,
        };
        while let Some(ev) = events.next().await {
            let id = ev.request_id.clone();
            let url = Url::parse(&ev.request.url).ok();
            let response_stage =
                ev.response_status_code.is_some() || ev.response_error_reason.is_some();
            if !response_stage {
                let current = seen
                    .lock()
                    .ok()
                    .and_then(|s| s.last.as_ref().map(|r| r.url.origin()));
                let leaves = url.as_ref().is_some_and(|u| {
                    dest.reached(u) || (u.origin() != as_origin && Some(u.origin()) != current)
                });
                if leaves {
                    if let Ok(mut s) = seen.lock() {
                        s.redirect = url;
                    }
                    let _ = page
                        .execute(FailRequestParams::new(id, ErrorReason::Aborted))
                        .await;
                    wake.notify_waiters();
                    continue;
                }
                let _ = page.execute(ContinueRequestParams::new(id)).await;
                continue;
            }
            let status = ev.response_status_code.unwrap_or(0) as u16;
            let headers: Vec<(String, String)> = ev
                .response_headers
                .iter()
                .flatten()
                .map(|h| (h.name.to_ascii_lowercase(), h.value.clone()))
                .collect();
            let body = if (300..400).contains(&status) {
                String::new()
            } else {
                match page
                    .execute(fetch::GetResponseBodyParams::new(id.clone()))
                    .await
                {
                    Ok(r) if r.result.base64_encoded => base64::engine::general_purpose::STANDARD
                        .decode(&r.result.body)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default(),
                    Ok(r) => r.result.body.clone(),
                    Err(_) => String::new(),
                }
            };
            if let (Some(url), Ok(mut s)) = (url, seen.lock()) {
                let response = Response {
                    url: url.clone(),
                    status,
                    headers,
                    body,
                    truncated: false,
                };
                s.exchanges.push((request_of(&ev, url), response.clone()));
                s.last = Some(response);
            }
            let _ = page.execute(ContinueRequestParams::new(id)).await;
            wake.notify_waiters();
        }
    }))
}

/// Copies the case's cookies for the AS into the context.
pub(super) async fn import_cookies(
    session: &Session,
    page: &Page,
    url: &Url,
) -> Result<(), String> {
    let Some(header) = session.cookie_jar().cookies(url) else {
        return Ok(());
    };
    let header = header.to_str().unwrap_or_default().to_string();
    let cookies: Vec<CookieParam> = header
        .split(';')
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            CookieParam::builder()
                .name(name)
                .value(value)
                .url(url.origin().ascii_serialization())
                .build()
                .ok()
        })
        .collect();
    if cookies.is_empty() {
        return Ok(());
    }
    page.execute(SetCookiesParams::new(cookies))
        .await
        .map(|_| ())
        .map_err(|e| format!("browser: cannot set cookies: {e}"))
}

/// Copies the context's cookies for the AS back into the case's jar.
pub(super) async fn export_cookies(session: &Session, page: &Page, url: &Url) {
    let params = GetCookiesParams::builder()
        .urls(vec![url.origin().ascii_serialization()])
        .build();
    if let Ok(r) = page.execute(params).await {
        let jar = session.cookie_jar();
        for c in &r.result.cookies {
            jar.add_cookie_str(&format!("{}={}; Path={}", c.name, c.value, c.path), url);
        }
    }
}

/// The current document is an error (not a 200 HTML page): the AS stopped the flow there.
pub(super) fn error_document(seen: &Arc<Mutex<Seen>>, url: &Url) -> Option<Response> {
    let s = seen.lock().ok()?;
    let last = s.last.as_ref()?;
    let same = last.url.path() == url.path() && last.url.host_str() == url.host_str();
    (same && (last.status != 200 || !last.is_html())).then(|| last.clone())
}
