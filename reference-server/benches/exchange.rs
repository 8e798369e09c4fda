//! Throughput and latency of full on-behalf-of exchanges, the server's own CPU per exchange, and
//! resident memory at rest.
//!
//! One exchange = GET /authorize (auto-consent, 302 with the code) + client_credentials actor
//! token + authorization_code token request with the actor token. The server runs in-process
//! on the same 2-core machine as the load generator, which therefore competes for CPU.
//!
//! `cargo bench -p obo-reference-server --bench exchange` (env: BENCH_SECS, BENCH_CONCURRENCY).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use obo_reference_server::{spawn, Config};
use sha2::{Digest, Sha256};

const VERIFIER: &str = "bench-verifier-0123456789-0123456789-0123456789";

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn one_exchange(c: &reqwest::Client, base: &str, challenge: &str) -> Result<(), String> {
    let r = c
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "obo-client"),
            ("redirect_uri", "https://client.example/cb"),
            ("scope", "files.read"),
            ("state", "s"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("requested_actor", "agent-a"),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("no redirect")?;
    let url = url::Url::parse(loc).map_err(|e| e.to_string())?;
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or("no code")?;
    let at: serde_json::Value = c
        .post(format!("{base}/token"))
        .basic_auth("agent-a", Some("agent-a-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let at = at["access_token"].as_str().ok_or("no actor token")?;
    let r = c
        .post(format!("{base}/token"))
        .basic_auth("obo-client", Some("obo-client-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", "https://client.example/cb"),
            ("actor_token", at),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != 200 {
        return Err(format!("token status {}", r.status()));
    }
    let _ = r.bytes().await;
    Ok(())
}

/// Runs `concurrency` loops for `secs` seconds; returns (count, errors, latencies).
async fn load(base: &str, secs: u64, concurrency: u64) -> (usize, usize, Vec<Duration>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency as usize)
        .build()
        .expect("client");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (c, b, ch, stop) = (
            client.clone(),
            base.to_string(),
            challenge.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0usize);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match one_exchange(&c, &b, &ch).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    (all.len(), errors, all)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// CPU time (user + system) of a process (`self` or a pid) so far, in seconds (clock ticks
/// assumed 100 Hz).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What the server alone costs, measured on the real binary in its own process.
struct Separate {
    rss_fresh_kib: u64,
    rss_after_kib: u64,
    exchanges: usize,
    /// CPU seconds the server process used during the load.
    server_cpu: Option<f64>,
}

/// Starts the real binary, reads VmRSS at rest, puts it under load for `secs` seconds (measuring
/// its CPU time), and reads VmRSS at rest again.
async fn separate_process(secs: u64, concurrency: u64) -> Option<Separate> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_obo-reference-server"))
        .args(["--port", "0", "--auto-consent", "alice"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let base = line.trim().to_string();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = child.id().to_string();
    let fresh = vm_rss_kib(child.id());
    let cpu0 = cpu_seconds(&pid);
    let (exchanges, _, _) = load(&base, secs, concurrency).await;
    let server_cpu = cpu0.zip(cpu_seconds(&pid)).map(|(a, b)| b - a);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = vm_rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    Some(Separate {
        rss_fresh_kib: fresh?,
        rss_after_kib: after?,
        exchanges,
        server_cpu,
    })
}

fn main() {
    let secs = env_num("BENCH_SECS", 10);
    let concurrency = env_num("BENCH_CONCURRENCY", 32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let h = spawn(Config {
            auto_consent: Some("alice".into()),
            ..Config::default()
        })
        .await
        .expect("spawn");
        let base = h.base_url();
        // Warm-up.
        load(&base, 1, concurrency).await;
        let cpu0 = cpu_seconds("self");
        let (n, errors, mut lat) = load(&base, secs, concurrency).await;
        let cpu = cpu0.zip(cpu_seconds("self")).map(|(a, b)| b - a);
        lat.sort();
        println!("exchanges: {n} in {secs} s, concurrency {concurrency}, errors {errors}");
        println!("throughput: {:.0} exchanges/s", n as f64 / secs as f64);
        println!(
            "latency per exchange: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&lat, 0.50).as_secs_f64() * 1e3,
            percentile(&lat, 0.99).as_secs_f64() * 1e3,
            percentile(&lat, 1.0).as_secs_f64() * 1e3
        );
        if let Some(cpu) = cpu.filter(|c| *c > 0.0) {
            println!(
                "cpu: {cpu:.2} s (server + load generator, one process) = {:.2} ms per exchange, {:.0} exchanges per CPU-second",
                cpu * 1e3 / n.max(1) as f64,
                n as f64 / cpu
            );
        }
        h.shutdown().await;
        let sep_secs = secs.min(5);
        match separate_process(sep_secs, concurrency).await {
            Some(m) => {
                println!(
                    "resident memory (separate process): {:.1} MiB at rest after start, {:.1} MiB at rest after {sep_secs} s of load",
                    m.rss_fresh_kib as f64 / 1024.0,
                    m.rss_after_kib as f64 / 1024.0
                );
                if let Some(cpu) = m.server_cpu.filter(|c| *c > 0.0) {
                    println!(
                        "server alone (separate process, {} exchanges in {sep_secs} s): cpu {cpu:.2} s = {:.3} ms per exchange, {:.0} exchanges per server CPU-second",
                        m.exchanges,
                        cpu * 1e3 / m.exchanges.max(1) as f64,
                        m.exchanges as f64 / cpu
                    );
                }
            }
            None => println!("separate process: could not measure"),
        }
    });
}
