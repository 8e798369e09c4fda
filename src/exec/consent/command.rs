//! The `command` driver: runs a vendor program with the authorization URL; it prints the final
//! redirect URL on stdout (its last non-empty line). Arguments `{url}`, `{decision}` and
//! `{redirect_uri}` are replaced; the same values are in the environment as
//! `OBO_AUTHORIZATION_URL`, `OBO_DECISION` (approve, deny, observe) and `OBO_REDIRECT_URI`.
//! With `observe`, the program prints `CONSENT_PROMPT` when a consent page appeared instead of
//! approving it.

use std::time::Duration;

use url::Url;

use super::{AuthzOutcome, Decision, Destination};
use crate::session::Request;

const DEFAULT_TIMEOUT: u64 = 120;

pub(super) async fn drive(
    initial: &Request,
    dest: &Destination<'_>,
    decision: Decision,
    command: &[String],
    timeout_secs: Option<u64>,
) -> Result<AuthzOutcome, String> {
    if initial.method != "GET" {
        return Err("the command consent driver takes GET authorization requests only".into());
    }
    let redirect_uri = dest.sent.unwrap_or(dest.registered).to_string();
    let url = initial.url.to_string();
    let fill = |a: &String| {
        a.replace("{url}", &url)
            .replace("{decision}", decision.name())
            .replace("{redirect_uri}", &redirect_uri)
    };
    let Some((program, args)) = command.split_first() else {
        return Err("consent command is empty".into());
    };
    let mut cmd = tokio::process::Command::new(fill(program));
    cmd.args(args.iter().map(fill))
        .env("OBO_AUTHORIZATION_URL", &url)
        .env("OBO_DECISION", decision.name())
        .env("OBO_REDIRECT_URI", &redirect_uri)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let timeout = Duration::from_secs(timeout_secs.unwrap_or(DEFAULT_TIMEOUT));
    let out = run(cmd, timeout, program).await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("");
    let mut outcome = AuthzOutcome::default();
    if decision == Decision::Observe && last == "CONSENT_PROMPT" {
        outcome.consent_prompt = Some(true);
        return Ok(outcome);
    }
    let redirect = Url::parse(last).map_err(|_| {
        format!(
            "consent command {program:?} printed no redirect URL (last line {:?})",
            crate::util::clip(last, 200)
        )
    })?;
    if decision == Decision::Observe {
        outcome.consent_prompt = Some(false);
    }
    outcome.redirect = Some(redirect);
    Ok(outcome)
}

/// Runs a program with a timeout; a non-zero exit is an error quoting the end of stderr.
pub(crate) async fn run(
    mut cmd: tokio::process::Command,
    timeout: Duration,
    program: &str,
) -> Result<std::process::Output, String> {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program:?}: {e}"))?;
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return Err(format!("{program:?} failed: {e}")),
        Err(_) => {
            return Err(format!(
                "{program:?} did not finish within {} s",
                timeout.as_secs()
            ))
        }
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{program:?} exited with {}: {}",
            out.status,
            crate::util::clip(&tail.join(" / "), 300)
        ));
    }
    Ok(out)
}
