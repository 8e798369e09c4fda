//! Stand-in for [`reference`](self) in a build without the `reference` feature: no in-process
//! reference server exists, so a [`Target`](super::Target) never holds one.

/// Uninhabited: without the `reference` feature no server can be started.
pub enum ServerGuard {}

impl ServerGuard {
    pub async fn shutdown(&self) {
        match *self {}
    }
}
