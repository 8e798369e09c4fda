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

mod intercept;
mod launch;
mod page;

pub use launch::{find_chromium, BrowserSlot};
use page::drive_page;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;

use super::{AuthzOutcome, Decision, Destination};
use crate::profile::{FormPage, Target};
use crate::session::{Request, Session};

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
