//! Running the client under test: a vendor command once per run (environment of the client
//! contract, a timeout, its process group killed on expiry), or a client the vendor starts by
//! hand against the printed URLs (`--listen`, judged once the traffic goes quiet).

use std::time::{Duration, Instant};

use super::proxy::Proxy;

/// How the client under test is started.
#[derive(Debug, Clone)]
pub enum ClientUnderTest {
    /// A shell command line, run with `sh -c` once per run of a scenario.
    Command { line: String, timeout: Duration },
    /// Started by the vendor: wait until `idle` passes without a request (after the first one),
    /// or `timeout`.
    Listen { idle: Duration, timeout: Duration },
}

/// How one run of the client ended (informative only: verdicts come from the traffic).
#[derive(Debug, Clone)]
pub enum RunEnd {
    Exited(Option<i32>),
    TimedOut,
    NotStarted(String),
    Quiet,
}

impl RunEnd {
    pub fn describe(&self) -> String {
        match self {
            RunEnd::Exited(Some(c)) => format!("client exit {c}"),
            RunEnd::Exited(None) => "client killed by a signal".into(),
            RunEnd::TimedOut => "client timed out and was killed".into(),
            RunEnd::NotStarted(e) => format!("client did not start: {e}"),
            RunEnd::Quiet => "traffic went quiet".into(),
        }
    }
}

/// Runs the client once with `env`, waiting for it as the mode says.
pub async fn run_once(cut: &ClientUnderTest, env: &[(String, String)], proxy: &Proxy) -> RunEnd {
    match cut {
        ClientUnderTest::Command { line, timeout } => run_command(line, env, *timeout).await,
        ClientUnderTest::Listen { idle, timeout } => wait_quiet(proxy, *idle, *timeout).await,
    }
}

async fn run_command(line: &str, env: &[(String, String)], timeout: Duration) -> RunEnd {
    let mut cmd = tokio::process::Command::new("sh");
    // Variables cargo set for the suite itself (`cargo run -- client`: CARGO_PKG_*,
    // CARGO_MANIFEST_*, ...) are not the client's: a client command that is itself `cargo run`
    // would see changed build fingerprints and rebuild the tree on every run.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_TARGET_DIR" {
            cmd.env_remove(k.as_ref());
        }
    }
    cmd.arg("-c")
        .arg(line)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so a timeout also stops what the shell started (cargo run, ...).
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return RunEnd::NotStarted(e.to_string()),
    };
    let pid = child.id();
    // Stderr is drained so a chatty client cannot block on a full pipe; it is not kept (it may
    // print secrets).
    let stderr = child.stderr.take();
    let drain = tokio::spawn(async move {
        if let Some(mut s) = stderr {
            let _ = tokio::io::copy(&mut s, &mut tokio::io::sink()).await;
        }
    });
    let end = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => RunEnd::Exited(status.code()),
        Ok(Err(e)) => RunEnd::NotStarted(e.to_string()),
        Err(_) => {
            kill_group(pid);
            let _ = child.kill().await;
            RunEnd::TimedOut
        }
    };
    drain.abort();
    end
}

fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(std::process::Stdio::null())
            .status();
    }
    #[cfg(not(unix))]
    let _ = pid;
}

async fn wait_quiet(proxy: &Proxy, idle: Duration, timeout: Duration) -> RunEnd {
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if proxy.request_count() > 0 && proxy.idle_for() >= idle {
            return RunEnd::Quiet;
        }
        if started.elapsed() >= timeout {
            return RunEnd::TimedOut;
        }
    }
}
