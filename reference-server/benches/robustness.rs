//! Robustness under abusive load: the server's resident memory, its CPU per hostile request and
//! the latency of legitimate requests, each phase against a fresh server binary started as a
//! separate process on 127.0.0.1 (its memory and CPU are read from `/proc/PID`).
//!
//! Phases (all bounded in count and time; `ROBUST_PHASES=prompt,sessions,idle,params` picks):
//! - `prompt`: 16,000 maximal `GET /authorize` (an 8 KB query, most of it a `prompt` of 4,096
//!   words), auto-consent, concurrency 32: peak and final RSS.
//! - `sessions`: alice signs in through the login form, then 200,000 anonymous `GET /authorize`
//!   (each opens a session and a transaction), concurrency 64: peak RSS, and whether alice's
//!   session still knows her afterwards.
//! - `idle`: 2,000 TCP connections opened and left idle, then 200 legitimate exchanges
//!   (`/authorize` with auto-consent) one after another: p50/p99 latency and failures. Run twice:
//!   with the server's file limit raised to 4,096 (`ulimit -n 4096`, so that 2,000 connections
//!   fit) and with the common default of 1,024.
//! - `params`: 300 `POST /token` with a 64 KiB form body of ~6,500 distinct keys, each repeated:
//!   server CPU per request (against 300 small requests).
//!
//! `cargo bench --profile dev -p obo-reference-server --bench robustness`
//! (env: ROBUST_PHASES, ROBUST_PROMPT_N, ROBUST_SESSIONS_N, ROBUST_IDLE_N).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

const VERIFIER: &str = "bench-verifier-0123456789-0123456789-0123456789";

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The server binary in its own process, with its file limit set by the shell.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(nofile: u32, args: &[&str]) -> Server {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_obo-reference-server"))
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let mut line = String::new();
        let out = child.stdout.take().expect("stdout");
        BufReader::new(out).read_line(&mut line).expect("base url");
        Server {
            child,
            base: line.trim().to_string(),
        }
    }

    fn status_kib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    }

    /// (peak, current) resident memory in MiB.
    fn rss_mib(&self) -> (f64, f64) {
        (
            self.status_kib("VmHWM:") / 1024.0,
            self.status_kib("VmRSS:") / 1024.0,
        )
    }

    /// User + system CPU seconds so far (clock ticks of 10 ms).
    fn cpu_secs(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (tick(11) + tick(12)) / 100.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

fn authorize_query(extra: &[(&str, &str)]) -> String {
    let ch = challenge();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs([
        ("response_type", "code"),
        ("client_id", "obo-client"),
        ("redirect_uri", "https://client.example/cb"),
        ("scope", "files.read"),
        ("state", "s"),
        ("code_challenge", ch.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    q.extend_pairs(extra.iter().copied());
    q.finish()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Sends `n` GETs of `url` with `concurrency` workers; returns (status histogram, transport
/// errors, wall time).
async fn flood(url: String, n: usize, concurrency: usize) -> (Vec<(u16, usize)>, usize, Duration) {
    let c = client();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (c, url, next) = (c.clone(), url.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = std::collections::BTreeMap::<u16, usize>::new();
            let mut errors = 0;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                match c.get(&url).send().await {
                    Ok(r) => {
                        *hist.entry(r.status().as_u16()).or_default() += 1;
                        let _ = r.bytes().await;
                    }
                    Err(_) => errors += 1,
                }
            }
            (hist, errors)
        }));
    }
    let mut hist = std::collections::BTreeMap::<u16, usize>::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((h, e)) = t.await {
            for (k, v) in h {
                *hist.entry(k).or_default() += v;
            }
            errors += e;
        }
    }
    (hist.into_iter().collect(), errors, t0.elapsed())
}

async fn phase_prompt() {
    let n = env_num("ROBUST_PROMPT_N", 16_000);
    let s = Server::start(4096, &["--auto-consent", "alice"]);
    let prompt = vec!["a"; 4096].join(" ");
    let url = format!(
        "{}/authorize?{}",
        s.base,
        authorize_query(&[("prompt", &prompt[..8190])])
    );
    let (before, _) = s.rss_mib();
    let (hist, errors, took) = flood(url.clone(), n, 32).await;
    let (peak, now) = s.rss_mib();
    println!(
        "prompt: {n} GET /authorize of {} bytes in {:.1} s; statuses {hist:?}, transport errors {errors}",
        url.len(),
        took.as_secs_f64()
    );
    println!("prompt: server RSS {before:.1} MiB at start, peak {peak:.1} MiB, {now:.1} MiB after");
}

/// Signs alice in through the form and returns her session cookie.
async fn sign_in(base: &str) -> Option<String> {
    let c = client();
    let r = c
        .get(format!("{base}/authorize?{}", authorize_query(&[])))
        .send()
        .await
        .ok()?;
    let cookie = |r: &reqwest::Response| {
        r.headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(String::from)
    };
    let session = cookie(&r)?;
    let login = r.headers().get("location")?.to_str().ok()?.to_string();
    let tx = login.split("tx=").nth(1)?.to_string();
    let page = c
        .get(format!("{base}{login}"))
        .header("cookie", &session)
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)?
        .split('"')
        .next()?
        .to_string();
    let r = c
        .post(format!("{base}/login"))
        .header("cookie", &session)
        .form(&[
            ("username", "alice"),
            ("password", "alice-password"),
            ("csrf", csrf.as_str()),
            ("tx", tx.as_str()),
        ])
        .send()
        .await
        .ok()?;
    cookie(&r)
}

/// Where `/authorize` sends this session: `/consent` when it is signed in, `/login` when not.
async fn next_page(base: &str, session: &str) -> String {
    let r = client()
        .get(format!("{base}/authorize?{}", authorize_query(&[])))
        .header("cookie", session)
        .send()
        .await;
    match r {
        Ok(r) => r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| l.split('?').next().unwrap_or(l).to_string())
            .unwrap_or_else(|| format!("status {}", r.status())),
        Err(e) => format!("transport error: {e}"),
    }
}

async fn phase_sessions() {
    let n = env_num("ROBUST_SESSIONS_N", 200_000);
    let s = Server::start(4096, &[]);
    let Some(alice) = sign_in(&s.base).await else {
        println!("sessions: could not sign alice in");
        return;
    };
    let before = next_page(&s.base, &alice).await;
    let url = format!("{}/authorize?{}", s.base, authorize_query(&[]));
    let (hist, errors, took) = flood(url, n, 64).await;
    let (peak, now) = s.rss_mib();
    let after = next_page(&s.base, &alice).await;
    println!(
        "sessions: {n} anonymous GET /authorize in {:.1} s; statuses {hist:?}, transport errors {errors}",
        took.as_secs_f64()
    );
    println!("sessions: server RSS peak {peak:.1} MiB, {now:.1} MiB after");
    println!("sessions: signed-in alice is sent to {before} before the flood, to {after} after it");
}

async fn phase_idle(nofile: u32) {
    let idle_n = env_num("ROBUST_IDLE_N", 2_000);
    let s = Server::start(nofile, &["--auto-consent", "alice"]);
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    let mut refused = 0;
    // Past the server's accept capacity connects time out; stop trying after a few in a row.
    let mut in_a_row = 0;
    while idle.len() + refused < idle_n && in_a_row < 5 {
        match tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(&addr),
        )
        .await
        {
            Ok(Ok(conn)) => {
                idle.push(conn);
                in_a_row = 0;
            }
            _ => {
                refused += 1;
                in_a_row += 1;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let url = format!("{}/authorize?{}", s.base, authorize_query(&[]));
    let (mut lat, mut failed) = (Vec::new(), 0);
    // 200 requests, or fewer when the first ones all fail (each failure waits out the timeout).
    for i in 0..200 {
        if i == 10 && lat.is_empty() {
            break;
        }
        // A fresh client per request: a new connection each time, as a new user would open.
        let c = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        let t = Instant::now();
        match c.get(&url).send().await {
            Ok(r) if r.status() == 302 => lat.push(t.elapsed()),
            _ => failed += 1,
        }
    }
    lat.sort();
    let (peak, _) = s.rss_mib();
    println!(
        "idle (server ulimit -n {nofile}): {} idle connections open ({refused} not established); {} legitimate requests: {} served, {failed} failed (2 s timeout); p50 {:.1} ms, p99 {:.1} ms; server RSS peak {peak:.1} MiB",
        idle.len(),
        lat.len() + failed,
        lat.len(),
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
    );
    drop(idle);
}

/// Posts `body` to `url` 300 times; returns (server CPU ms per request, wall ms per request,
/// statuses seen).
async fn timed(
    s: &Server,
    c: &reqwest::Client,
    url: &str,
    body: String,
) -> (f64, f64, std::collections::BTreeSet<u16>) {
    let cpu0 = s.cpu_secs();
    let t0 = Instant::now();
    let mut statuses = std::collections::BTreeSet::new();
    for _ in 0..300 {
        if let Ok(r) = c
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
        {
            statuses.insert(r.status().as_u16());
            let _ = r.bytes().await;
        }
    }
    (
        (s.cpu_secs() - cpu0) / 300.0 * 1e3,
        t0.elapsed().as_secs_f64() / 300.0 * 1e3,
        statuses,
    )
}

async fn phase_params() {
    let s = Server::start(4096, &[]);
    // ~6,500 distinct three-letter keys, each sent twice: 10 bytes per key, just under 64 KiB.
    let mut body = String::new();
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    'outer: for a in letters {
        for b in letters {
            for c in letters {
                let k = format!("{}{}{}", *a as char, *b as char, *c as char);
                if body.len() + 2 * k.len() + 4 > 64 * 1024 - 64 {
                    break 'outer;
                }
                body.push_str(&format!("{k}=&{k}=&"));
            }
        }
    }
    let keys = body.matches('&').count() / 2;
    let c = client();
    let url = format!("{}/token", s.base);
    let (small_cpu, small_wall, small_st) =
        timed(&s, &c, &url, "grant_type=client_credentials".into()).await;
    let (big_cpu, big_wall, big_st) = timed(&s, &c, &url, body.clone()).await;
    println!(
        "params: {} byte body, {keys} distinct keys each twice: server CPU {big_cpu:.2} ms per request (wall {big_wall:.2} ms, statuses {big_st:?}); a small body: {small_cpu:.2} ms (wall {small_wall:.2} ms, statuses {small_st:?})",
        body.len()
    );
}

#[tokio::main]
async fn main() {
    let phases =
        std::env::var("ROBUST_PHASES").unwrap_or_else(|_| "prompt,sessions,idle,params".into());
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    if let Some(l) = limits.lines().find(|l| l.starts_with("Max open files")) {
        println!(
            "load generator: {}",
            l.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    for phase in phases.split(',') {
        match phase.trim() {
            "prompt" => phase_prompt().await,
            "sessions" => phase_sessions().await,
            "idle" => {
                phase_idle(4096).await;
                phase_idle(1024).await;
            }
            "params" => phase_params().await,
            other => println!("unknown phase `{other}`"),
        }
    }
}
