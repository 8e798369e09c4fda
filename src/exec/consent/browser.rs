//! The `browser` driver: the page rules of the `form` driver ([`super::recognise`]) applied in a
//! real headless Chromium, for login and consent pages that are built by JavaScript.
//!
//! Crate choice: `chromiumoxide` speaks the DevTools protocol to Chromium directly, async on
//! tokio (the harness's runtime), and exposes the whole protocol: browser contexts (one cheap
//! incognito context per authorization instead of one browser per case) and the Fetch domain
//! (the navigation to the client's redirect_uri is paused and failed, never loaded). The
//! WebDriver crates (`fantoccini`, `thirtyfour`) need a `chromedriver` process beside Chromium,
//! pay one browser session per case, and cannot intercept a navigation; `thirtyfour` also needs
//! a newer Rust than the workspace's 1.85. `headless_chrome` has contexts and interception but a
//! blocking, thread-per-browser API that would have to be wrapped in `spawn_blocking`.
//!
//! Lifecycle: one Chromium per run, started on first use ([`BrowserSlot`], kept by the
//! [`Target`] and closed by [`Target::shutdown`]); one context per authorization, seeded with
//! the case's cookies for the AS and copying them back afterwards, so cookies stay per case.
//! Chromium is started headless with networking features off (the machine may have no network)
//! and a fresh `--user-data-dir`. When it fails, a PNG of the last page is written to the
//! screenshot directory ([`set_screenshot_dir`], default the system temp dir) and its path named
//! in the error.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chromiumoxide::cdp::browser_protocol::fetch::{
    self, ContinueRequestParams, EventRequestPaused, FailRequestParams, RequestPattern,
    RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::{
    CookieParam, ErrorReason, GetCookiesParams, ResourceType, SetCookiesParams,
};
use chromiumoxide::cdp::browser_protocol::page::{CaptureScreenshotFormat, NavigateParams};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures::StreamExt;
use reqwest::cookie::CookieStore;
use url::Url;

use super::form::{expand, framing_blocked};
use super::recognise::{self, NoFit, PageView, Plan, Press};
use super::{AuthzOutcome, Decision, Destination, MAX_HOPS};
use crate::profile::{FormPage, PageRole, Target};
use crate::session::{Request, Response, Session};

/// Flags Chromium is started with: headless, and every feature that would reach the network
/// by itself switched off (without them an offline machine sees a flood of refused connects).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--mute-audio",
];

/// Programs tried on PATH when the profile names none.
const CHROMIUM_NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// How often the driver looks at the page while it waits (a navigation wakes it sooner).
const POLL: Duration = Duration::from_millis(50);

/// Driver settings from the profile.
pub(super) struct Options {
    pub chromium: Option<PathBuf>,
    /// How long a page may take to show something recognisable.
    pub wait: Duration,
}

static SCREENSHOT_DIR: RwLock<Option<PathBuf>> = RwLock::new(None);

/// Where screenshots of failed pages go (the run's report directory, `screenshots/`).
pub fn set_screenshot_dir(dir: &Path) {
    if let Ok(mut d) = SCREENSHOT_DIR.write() {
        *d = Some(dir.to_path_buf());
    }
}

fn screenshot_dir() -> PathBuf {
    SCREENSHOT_DIR
        .read()
        .ok()
        .and_then(|d| d.clone())
        .unwrap_or_else(|| std::env::temp_dir().join("obo-conformance-screenshots"))
}

/// A running Chromium.
struct Running {
    browser: tokio::sync::Mutex<Option<Browser>>,
    handler: tokio::task::JoinHandle<()>,
    user_data_dir: PathBuf,
}

/// The run's browser, started on first use; `Err` (kept) when Chromium cannot be started, so
/// every case using the driver ends in `error` with the same reason.
#[derive(Default)]
pub struct BrowserSlot {
    state: tokio::sync::Mutex<Option<Result<Arc<Running>, String>>>,
}

impl std::fmt::Debug for BrowserSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrowserSlot")
    }
}

impl BrowserSlot {
    async fn get(&self, chromium: Option<&Path>) -> Result<Arc<Running>, String> {
        let mut state = self.state.lock().await;
        if state.is_none() {
            *state = Some(launch(chromium).await.map(Arc::new));
        }
        state
            .clone()
            .unwrap_or_else(|| Err("browser slot empty".into()))
    }

    /// Closes the browser (idempotent).
    pub async fn close(&self) {
        let taken = self.state.lock().await.take();
        if let Some(Ok(running)) = taken {
            if let Some(mut b) = running.browser.lock().await.take() {
                let _ = tokio::time::timeout(Duration::from_secs(5), b.close()).await;
                let _ = tokio::time::timeout(Duration::from_secs(5), b.wait()).await;
                let _ = b.kill().await;
            }
            running.handler.abort();
            let _ = std::fs::remove_dir_all(&running.user_data_dir);
        }
    }
}

/// The Chromium program: the profile's, `OBO_CHROMIUM`, or the first of [`CHROMIUM_NAMES`] on PATH.
pub fn find_chromium(configured: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = configured {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("consent.chromium {} does not exist", p.display()))
        };
    }
    if let Some(p) = std::env::var_os("OBO_CHROMIUM").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("OBO_CHROMIUM={} does not exist", p.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in CHROMIUM_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(format!(
        "the browser consent driver needs Chromium, and none of {} is on PATH (install the Debian package `chromium`, or set consent.chromium or OBO_CHROMIUM)",
        CHROMIUM_NAMES.join(", ")
    ))
}

async fn launch(configured: Option<&Path>) -> Result<Running, String> {
    static LAUNCHES: AtomicU64 = AtomicU64::new(0);
    let program = find_chromium(configured)?;
    let user_data_dir = std::env::temp_dir().join(format!(
        "obo-chromium-{}-{}",
        std::process::id(),
        LAUNCHES.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&user_data_dir);
    std::fs::create_dir_all(&user_data_dir)
        .map_err(|e| format!("cannot create {}: {e}", user_data_dir.display()))?;
    let config = BrowserConfig::builder()
        .chrome_executable(&program)
        .disable_default_args()
        // chromiumoxide writes the leading `--` itself.
        .args(CHROMIUM_FLAGS.iter().map(|f| f.trim_start_matches("--")))
        .user_data_dir(&user_data_dir)
        .launch_timeout(Duration::from_secs(30))
        .request_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("Chromium configuration: {e}"))?;
    let (browser, mut handler) = Browser::launch(config)
        .await
        .map_err(|e| format!("cannot start Chromium ({}): {e}", program.display()))?;
    let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
    Ok(Running {
        browser: tokio::sync::Mutex::new(Some(browser)),
        handler,
        user_data_dir,
    })
}

/// What the Fetch interception saw.
#[derive(Default)]
struct Seen {
    /// The navigation that left the AS (to the redirect_uri or elsewhere), stopped unloaded.
    redirect: Option<Url>,
    /// The last document response (status, headers, body).
    last: Option<Response>,
    /// Document exchanges, for the case's transcript.
    exchanges: Vec<(Request, Response)>,
}

/// The request of a paused document request, as the transcript records it.
fn request_of(ev: &EventRequestPaused, url: Url) -> Request {
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

/// One authorization in one fresh browser context.
pub(super) async fn drive(
    session: &mut Session,
    target: &Target,
    initial: &Request,
    dest: &Destination<'_>,
    decision: Decision,
    pages: &[FormPage],
    opts: &Options,
) -> Result<AuthzOutcome, String> {
    let running = target.browser.get(opts.chromium.as_deref()).await?;
    let guard = running.browser.lock().await;
    let Some(browser) = guard.as_ref() else {
        return Err("the browser was closed".into());
    };
    let context = browser
        .create_browser_context(CreateBrowserContextParams::default())
        .await
        .map_err(|e| format!("browser: cannot create a context: {e}"))?;
    let page = browser
        .new_page(
            CreateTargetParams::builder()
                .url("about:blank")
                .browser_context_id(context.clone())
                .build()
                .map_err(|e| format!("browser: {e}"))?,
        )
        .await;
    // Browser calls are concurrent; the lock is only to keep `close` from racing them.
    drop(guard);
    let page = match page {
        Ok(p) => p,
        Err(e) => return Err(format!("browser: cannot open a page: {e}")),
    };
    let result = drive_page(session, target, &page, initial, dest, decision, pages, opts).await;
    let result = match result {
        Ok(o) => Ok(o),
        Err(e) => Err(format!("{e}{}", screenshot(&page).await)),
    };
    let _ = page.close().await;
    if let Some(b) = running.browser.lock().await.as_ref() {
        let _ = b.dispose_browser_context(context).await;
    }
    result
}

/// Saves a PNG of the page; the text names where (empty when no picture could be taken).
async fn screenshot(page: &Page) -> String {
    static SHOTS: AtomicU64 = AtomicU64::new(0);
    let params = ScreenshotParams::builder()
        .format(CaptureScreenshotFormat::Png)
        .build();
    let Ok(Ok(png)) = tokio::time::timeout(Duration::from_secs(5), page.screenshot(params)).await
    else {
        return String::new();
    };
    let dir = screenshot_dir();
    let file = dir.join(format!(
        "consent-{}-{}.png",
        std::process::id(),
        SHOTS.fetch_add(1, Ordering::Relaxed)
    ));
    match std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&file, png)) {
        Ok(()) => format!(" (screenshot of the last page: {})", file.display()),
        Err(_) => String::new(),
    }
}

/// Pauses document navigations: one leaving the AS is recorded and failed; responses are
/// recorded (status, headers, body) and let through.
async fn intercept(
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
async fn import_cookies(session: &Session, page: &Page, url: &Url) -> Result<(), String> {
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
async fn export_cookies(session: &Session, page: &Page, url: &Url) {
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

/// Reads the page: its URL, HTML (as rendered, after scripts) and a mark set by the driver
/// that disappears with the document.
async fn snapshot(page: &Page) -> Option<(Url, String, Option<u64>)> {
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
async fn drive_page(
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
async fn start(page: &Page, initial: &Request) -> Result<(), String> {
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
async fn walk(
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
fn finished(
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

/// The current document is an error (not a 200 HTML page): the AS stopped the flow there.
fn error_document(seen: &Arc<Mutex<Seen>>, url: &Url) -> Option<Response> {
    let s = seen.lock().ok()?;
    let last = s.last.as_ref()?;
    let same = last.url.path() == url.path() && last.url.host_str() == url.host_str();
    (same && (last.status != 200 || !last.is_html())).then(|| last.clone())
}

/// Fills the plan's fields and presses its control in the page, as a user would (the page's
/// own scripts see the input and click events).
async fn press(page: &Page, view: &PageView, plan: &Plan) -> Result<(), String> {
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
