//! Reference authorization server and demo resource server for
//! draft-oauth-ai-agents-on-behalf-of-user (-00 to -02), with fault switches.
//!
//! ```no_run
//! # async fn demo() -> Result<(), obo_reference_server::SpawnError> {
//! use obo_reference_server::{spawn, Config};
//! let handle = spawn(Config { auto_consent: Some("alice".into()), ..Config::default() }).await?;
//! println!("{}", handle.base_url());
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The HTTP surface, demo registry and test-control API are specified in docs/contracts.md §1.

pub mod clock;
pub mod config;
pub mod connections;
pub mod fault;
pub mod http;
pub mod keys;
pub mod params;
pub mod store;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

pub use config::{Config, ConsentUi, Revision};
pub use fault::Fault;

/// A running server.
#[derive(Debug)]
pub struct Handle {
    base_url: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Handle {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// Stops accepting and waits for the accept loop to end (connections being served finish
    /// on their own).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("cannot bind 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("key generation failed: {0}")]
    Keys(String),
}

/// Starts the server on 127.0.0.1 (an ephemeral port unless `config.port` is set) and returns
/// once it accepts connections.
pub async fn spawn(config: Config) -> Result<Handle, SpawnError> {
    config
        .registry
        .validate()
        .map_err(|e| SpawnError::Config(e.to_string()))?;
    if let Some(user) = &config.auto_consent {
        if config.registry.user(user).is_none() {
            return Err(SpawnError::Config(format!(
                "auto-consent user `{user}` is not in the registry"
            )));
        }
    }
    let port = config.port.unwrap_or(0);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|source| SpawnError::Bind { port, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| SpawnError::Bind { port, source })?;
    let base_url = format!("http://127.0.0.1:{}", addr.port());
    let limits = config.connections.clone();
    let app = Arc::new(http::App::new(config, base_url.clone()).map_err(SpawnError::Keys)?);
    let router = http::router(app);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(connections::serve(listener, router, limits, rx));
    Ok(Handle {
        base_url,
        shutdown: tx,
        task,
    })
}
