//! The `manual` driver: prints the authorization URL for a person to open, and listens on the
//! loopback redirect_uri for the browser's redirect, with a timeout.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use super::{AuthzOutcome, Decision, Destination};
use crate::session::Request;

const DEFAULT_TIMEOUT: u64 = 300;

pub(super) async fn drive(
    initial: &Request,
    dest: &Destination<'_>,
    decision: Decision,
    timeout_secs: Option<u64>,
) -> Result<AuthzOutcome, String> {
    if initial.method != "GET" {
        return Err("the manual consent driver takes GET authorization requests only".into());
    }
    let redirect_uri = dest.registered;
    let host = redirect_uri.host_str().unwrap_or("127.0.0.1");
    let port = redirect_uri
        .port()
        .ok_or("manual driver: the redirect_uri has no port")?;
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .map_err(|e| format!("manual driver: cannot listen on {host}:{port}: {e}"))?;
    let what = match decision {
        // A forged post is the form driver's alone (`consent::drive` never hands it here).
        Decision::Approve | Decision::Forge(_) => "log in and APPROVE",
        Decision::Deny => "log in and DENY",
        Decision::Observe => "log in, then approve if a consent page appears",
    };
    eprintln!(
        "\n[manual consent] Open this URL in a browser, {what}:\n  {}\n",
        initial.url
    );
    let timeout = Duration::from_secs(timeout_secs.unwrap_or(DEFAULT_TIMEOUT));
    let accept = tokio::time::timeout(timeout, listener.accept()).await;
    let (mut stream, _) = match accept {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("manual driver: accept on {host}:{port} failed: {e}")),
        Err(_) => {
            return Err(format!(
                "manual driver: no redirect to {redirect_uri} within {} s (was the URL opened and the consent completed?)",
                timeout.as_secs()
            ))
        }
    };
    let mut buf = vec![0u8; 8192];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .map_err(|_| "manual driver: the browser connected but sent nothing".to_string())?
        .map_err(|e| format!("manual driver: reading the redirect: {e}"))?;
    let head = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
    let target = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/");
    let body = "obo-conformance received the redirect; you can close this window.\n";
    let reply = format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
    let _ = stream.write_all(reply.as_bytes()).await;
    let redirect = redirect_uri
        .join(target)
        .map_err(|e| format!("manual driver: bad request target {target:?}: {e}"))?;
    let _: &Url = &redirect;
    let mut outcome = AuthzOutcome {
        redirect: Some(redirect),
        status: Some(302),
        ..Default::default()
    };
    if decision == Decision::Observe {
        // A person cannot be asked reliably; leave the prompt unobserved.
        outcome.consent_prompt = None;
    }
    Ok(outcome)
}
