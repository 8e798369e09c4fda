//! An independent authorization server and resource server for
//! draft-oauth-ai-agents-on-behalf-of-user-02, shaped by named switches: quirks (conforming
//! variations) and defects (each breaks one requirement). It exists to judge the conformance
//! suite against a server it did not write; it shares no code with the reference server.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use obo_test_targets::{spawn, Options, Quirk};
//! let handle = spawn(Options { quirks: vec![Quirk::NoAzp], ..Default::default() }).await?;
//! println!("{}", handle.base_url);
//! handle.shutdown().await;
//! # Ok(()) }
//! ```

mod admin;
mod authorize;
mod http;
pub mod keys;
mod metadata;
pub mod registry;
mod resource;
mod state;
pub mod switches;
mod token;
mod tokens;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use registry::Registry;
pub use switches::{Defect, Quirk};

/// How the target behaves.
#[derive(Debug, Clone)]
pub struct Options {
    pub quirks: Vec<Quirk>,
    pub defects: Vec<Defect>,
    pub registry: Registry,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of every random value (keys, codes, tokens).
    pub seed: u64,
    /// Lifetime of actor tokens issued by client_credentials (default 300, short-ttls 10).
    pub actor_token_ttl_secs: Option<i64>,
    /// Lifetime of authorization codes (default 60, short-ttls 10).
    pub code_ttl_secs: Option<i64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            quirks: vec![],
            defects: vec![],
            registry: Registry::default(),
            port: 0,
            seed: 1,
            actor_token_ttl_secs: None,
            code_ttl_secs: None,
        }
    }
}

impl Options {
    pub fn quirk(&self, q: Quirk) -> bool {
        self.quirks.contains(&q)
    }

    pub fn defect(&self, d: Defect) -> bool {
        self.defects.contains(&d)
    }
}

/// A running target.
pub struct Handle {
    /// `http://127.0.0.1:PORT`, no trailing slash; also the issuer.
    pub base_url: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Handle {
    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        // Graceful, but a client holding a connection open cannot keep the target alive.
        let mut task = self.task;
        if tokio::time::timeout(std::time::Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Starts the target on 127.0.0.1 (`options.port`, 0 = any free port).
pub async fn spawn(options: Options) -> std::io::Result<Handle> {
    let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let app = Arc::new(state::App::new(options, base_url.clone()));
    let router = http::router(app);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Handle {
        base_url,
        stop,
        task,
    })
}
