//! The accept loop: HTTP/1.1 connections with a limit on their number, a header-read timeout
//! (which hyper also applies while a kept-alive connection waits for its next request, so it is
//! the idle timeout too) and a whole-request timeout (body read and handling). When accepting
//! fails (the file limit reached: EMFILE, ENFILE) the loop backs off briefly and goes on.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};

/// Connection limits and timeouts (`Config::connections`; CLI `--max-connections`,
/// `--header-read-timeout`, `--request-timeout`).
#[derive(Clone, Debug)]
pub struct Connections {
    /// At most this many connections are served at once; `None`: 4,096, or fewer when the
    /// process's file limit is lower (that limit minus 64 descriptors kept for everything else).
    pub max_connections: Option<usize>,
    /// A connection that has not sent a complete request head within this time is closed,
    /// whether new or kept alive after a response.
    pub header_read_timeout: Duration,
    /// Reading the body and answering must end within this time, else 408.
    pub request_timeout: Duration,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            max_connections: None,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Descriptors left for the listener, logs, key files and the like.
const RESERVED_FDS: usize = 64;
/// Pause after a failed accept (typically EMFILE) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

impl Connections {
    /// The connection limit in force.
    pub fn limit(&self) -> usize {
        self.max_connections
            .unwrap_or_else(|| {
                let by_files = open_file_limit()
                    .map(|n| n.saturating_sub(RESERVED_FDS))
                    .unwrap_or(DEFAULT_MAX_CONNECTIONS);
                DEFAULT_MAX_CONNECTIONS.min(by_files)
            })
            .max(1)
    }
}

/// The soft limit on open files (`/proc/self/limits`; Linux), if readable.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serves `router` on `listener` until `shutdown` fires.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Connections,
    mut shutdown: oneshot::Receiver<()>,
) {
    let permits = Arc::new(Semaphore::new(limits.limit()));
    loop {
        // Wait for a free slot before accepting: over the limit, new connections queue in the
        // kernel's backlog instead of costing a descriptor each.
        let permit = tokio::select! {
            _ = &mut shutdown => return,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let stream = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accept failed, retrying in {ACCEPT_BACKOFF:?}: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(router.clone());
        let header_read_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            // Client resets and timeouts end connections routinely; nothing to report.
            let _ = conn.await;
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_limit_stays_below_the_file_limit() {
        let limit = Connections::default().limit();
        assert!((1..=DEFAULT_MAX_CONNECTIONS).contains(&limit));
        if let Some(files) = open_file_limit() {
            assert!(limit < files);
        }
        let fixed = Connections {
            max_connections: Some(3),
            ..Connections::default()
        };
        assert_eq!(fixed.limit(), 3);
    }
}
