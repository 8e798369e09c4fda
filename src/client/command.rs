//! The `client` command: its arguments, the reference agent client as the default client under
//! test, and the run from scenario selection to the written report and the exit code.

use std::path::PathBuf;
use std::time::Duration;

use crate::catalog::Catalog;

use super::driver::ClientUnderTest;
use super::{run_all, select, selfcheck, Options};

pub use crate::case::client_scenario as scenario;

/// `obo-conformance client` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ClientArgs {
    /// The client under test: a shell command line run once per scenario run, with the
    /// environment of the client contract (README, "Testing a client or agent").
    /// Default: the reference agent client built beside this binary.
    #[arg(long, value_name = "LINE", conflicts_with = "listen")]
    pub command: Option<String>,
    /// Print the URLs and environment of each scenario and wait for a client started by hand.
    #[arg(long)]
    pub listen: bool,
    /// Port of the suite's server (default: a free one; pick one for --listen).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Scenario IDs or globs (`CLIENT-*`), comma-separated or repeated; default: all.
    #[arg(long, value_name = "ID")]
    pub scenarios: Vec<String>,
    /// Output folder (default: reports/runs/<UTC timestamp>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seconds one run of the client may take (command mode) or the longest wait (listen mode).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Listen mode: seconds without a request after which a run is judged.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub idle: u64,
    /// The client's registered redirect_uri (added to the demo client `obo-client`).
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// Seed of the suite's own values (the forged state); default random, printed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Exit 1 when a scenario warns.
    #[arg(long)]
    pub fail_on_warn: bool,
    /// Run the scenarios against the reference agent client clean and once per fault switch
    /// (`--list-faults` of the command); exit 1 unless every fault is caught.
    #[arg(long, conflicts_with = "listen")]
    pub selfcheck: bool,
    /// Selfcheck: fault runs in flight at once.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
}

/// The reference agent client next to this executable (target/debug/obo-agent-client).
pub fn default_command() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    // Test binaries live one level deeper (target/debug/deps).
    [dir.to_path_buf(), dir.parent()?.to_path_buf()]
        .into_iter()
        .map(|d| d.join(format!("obo-agent-client{}", std::env::consts::EXE_SUFFIX)))
        .find(|p| p.exists())
        .map(|p| p.display().to_string())
}

/// `obo-conformance client`: returns the exit code (0 pass, 1 a scenario failed, 2 harness
/// trouble, 3 invalid scenario files).
pub fn command(catalog: &Catalog, args: &ClientArgs) -> i32 {
    let all = match scenario::load_dir(&scenario::dir_of(&catalog.dir), &catalog.requirements) {
        Ok(s) => s,
        Err(errors) => {
            eprintln!(
                "error: invalid client scenarios:\n  {}",
                errors.join("\n  ")
            );
            return 3;
        }
    };
    let scenarios = match select(&all, &args.scenarios) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let timeout = Duration::from_secs(args.timeout.clamp(1, 3600));
    let client = if args.listen {
        ClientUnderTest::Listen {
            idle: Duration::from_secs(args.idle.clamp(1, 600)),
            timeout,
        }
    } else {
        let Some(line) = args.command.clone().or_else(default_command) else {
            eprintln!("error: --command: no command given and no obo-agent-client beside this binary (cargo build -p obo-agent-client)");
            return 2;
        };
        ClientUnderTest::Command { line, timeout }
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    eprintln!("obo-conformance client: seed {seed} (replay with --seed {seed})");
    let opts = Options {
        client: client.clone(),
        port: args.port,
        redirect_uri: args.redirect_uri.clone(),
        seed,
        announce: args.listen,
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    if args.selfcheck {
        let ClientUnderTest::Command { line, .. } = &client else {
            return 2;
        };
        return rt.block_on(selfcheck::command(&scenarios, line, &opts, args.jobs));
    }
    // Only the program name: a vendor's command line may carry its own secrets.
    let describe = match &client {
        ClientUnderTest::Command { line, .. } => {
            let program = line.split_whitespace().next().unwrap_or_default();
            let more = if line.trim() != program { " …" } else { "" };
            format!("command: {program}{more}")
        }
        ClientUnderTest::Listen { .. } => "listen".to_string(),
    };
    let mut report = rt.block_on(run_all(&scenarios, catalog, &opts, &describe));
    // Failures first, each with the requirements its failed checks verify.
    let mut shown: Vec<_> = report.cases.iter().collect();
    shown.sort_by_key(|c| (c.verdict != obo_report::Verdict::Fail, c.id.clone()));
    for c in shown {
        let verdict = format!("{:?}", c.verdict).to_uppercase();
        let reqs = c.failed_requirements().join(", ");
        println!("{verdict:5} {} [{reqs}] {}", c.id, c.message);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(crate::report::default_out_dir);
    if let Err(e) = crate::artefacts::write_run(&mut report, &out) {
        eprintln!("error: cannot write the reports to {}: {e}", out.display());
        return 2;
    }
    println!("reports: {}", out.display());
    crate::report::exit_code(&report, args.fail_on_warn)
}
