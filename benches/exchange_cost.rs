//! Process CPU time per HTTP exchange: the harness against the reference server's own, side by
//! side, over the same window.
//!
//! The reference server runs as a separate process (its binary, `--auto-consent alice
//! --control-api`), the harness runs the whole catalogue against it `BENCH_RUNS` times (default
//! 3) through the library with `BENCH_JOBS` cases in flight (default 8). CPU time is
//! utime+stime of each process from /proc/<pid>/stat (the machine is shared: wall time says
//! little); exchanges are counted from the transcripts of the reports.
//!
//! ```text
//! cargo build -p obo-reference-server
//! cargo bench --profile dev --bench exchange_cost
//! ```
//!
//! The server binary is looked up beside the bench's profile directory (target/debug/ for
//! `--profile dev`); `OBO_SERVER_BIN` overrides it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use obo_conformance::catalog;
use obo_conformance::profile;
use obo_conformance::run::{run_catalog, runtime, select, RunOptions};

const TEMPLATE: &str = include_str!("../src/target/reference-auto.toml");

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// utime and stime of a process, in seconds.
fn cpu_seconds(pid: &str) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let hz = clock_ticks();
    (ticks(14) / hz, ticks(15) / hz)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("OBO_SERVER_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/exchange_cost-HASH -> target/<profile>/obo-reference-server
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    dir.join("obo-reference-server")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let runs = env_num("BENCH_RUNS", 3);
    let jobs = env_num("BENCH_JOBS", 8);
    let bin = server_bin();
    let mut child = match Command::new(&bin)
        .args(["--port", "0", "--auto-consent", "alice", "--control-api"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "cannot start {} ({e}); run `cargo build -p obo-reference-server` first or set OBO_SERVER_BIN",
                bin.display()
            );
            std::process::exit(2);
        }
    };
    let mut base = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut base);
    }
    let server = Server(child);
    let base = base.trim().to_string();
    let server_pid = server.0.id().to_string();

    // The runtime `obo-conformance run` uses.
    let rt = runtime().expect("tokio runtime");
    let text = TEMPLATE
        .replace("@REVISION@", "02")
        .replace("@BASE@", &base);
    let parsed = profile::parse(&text, "reference (process)", Path::new("."))
        .unwrap_or_else(|e| panic!("{e}"));
    let target = Arc::new(
        rt.block_on(profile::resolve(parsed, &text, None))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let cat = catalog::load(&catalog::default_dir()).unwrap_or_else(|e| panic!("{e}"));
    let cases = select(&cat, &[]).unwrap_or_else(|e| panic!("{e}"));

    let (own0, srv0) = (cpu_seconds("self"), cpu_seconds(&server_pid));
    let mut exchanges = 0usize;
    let mut errors = 0usize;
    for seed in 0..runs {
        let opts = RunOptions {
            seed: seed as u64,
            jobs,
            ..Default::default()
        };
        let report = rt.block_on(run_catalog(target.clone(), &cat, &cases, &opts));
        exchanges += report
            .cases
            .iter()
            .map(|c| c.transcript.len())
            .sum::<usize>();
        errors += report
            .cases
            .iter()
            .filter(|c| c.verdict == obo_report::Verdict::Error)
            .count();
    }
    let ((own_u1, own_s1), (srv_u1, srv_s1)) = (cpu_seconds("self"), cpu_seconds(&server_pid));
    let (own_u, own_s) = (own_u1 - own0.0, own_s1 - own0.1);
    let (srv_u, srv_s) = (srv_u1 - srv0.0, srv_s1 - srv0.1);
    let (own, srv) = (own_u + own_s, srv_u + srv_s);
    let per = |s: f64| s * 1000.0 / exchanges.max(1) as f64;
    println!(
        "runs {runs} x {} cases, jobs {jobs}: {exchanges} exchanges, {errors} case errors",
        cases.len()
    );
    println!(
        "harness {:.3} ms CPU/exchange ({own:.2} s), server {:.3} ms CPU/exchange ({srv:.2} s), ratio {:.2}",
        per(own),
        per(srv),
        own / srv.max(f64::EPSILON)
    );
    println!(
        "  harness user {own_u:.2} s + system {own_s:.2} s; server user {srv_u:.2} s + system {srv_s:.2} s"
    );
    drop(server);
}
