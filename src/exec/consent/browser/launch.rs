//! Finding and starting Chromium: one per run, kept in a [`BrowserSlot`], with the flags that keep
//! a headless browser off the network.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chromiumoxide::{Browser, BrowserConfig};
use futures::StreamExt;

/// Flags Chromium is started with: headless, and every feature that would reach the network
/// by itself switched off (without them an offline machine sees a flood of refused connects).
pub(super) const CHROMIUM_FLAGS: &[&str] = &[
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
pub(super) const CHROMIUM_NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// A running Chromium.
pub(super) struct Running {
    pub(super) browser: tokio::sync::Mutex<Option<Browser>>,
    pub(super) handler: tokio::task::JoinHandle<()>,
    pub(super) user_data_dir: PathBuf,
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
    pub(super) async fn get(&self, chromium: Option<&Path>) -> Result<Arc<Running>, String> {
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

pub(super) async fn launch(configured: Option<&Path>) -> Result<Running, String> {
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
