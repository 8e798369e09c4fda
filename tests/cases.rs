//! One trial per case of cases/ against the in-process reference server (built-in `reference`
//! profile: auto-consent, control API), so `cargo test --test cases` prints one line per case
//! and `cargo test --test cases -- TOKEN-` filters by case ID (issue 6, item 2).
//!
//! All trials share one server. A case that skips there is retried on the next server variant
//! of the selfcheck (`selfcheck::VARIANTS`: real consent pages, then -00, -01), each started on
//! first use and shared too, so consent-page and -00 cases run as well. A trial fails when the
//! verdict is fail, warn or error, and is ignored, with the reason, when the case skips on every
//! variant. Cases that change server-wide state (`Case::is_exclusive`) hold the write side of a
//! lock while every other case holds the read side, so they never overlap; each runs through
//! `run::run_catalog`, which resets the server after an exclusive case.
//!
//! `OBO_SEED` sets the seed (default 1). `OBO_TARGET=reference` or `reference-form` pins one
//! built-in profile (no retry on other variants). `OBO_FAULT=NAME[,NAME]` turns fault switches
//! on, to watch a case catch its fault
//! (`OBO_FAULT=skip-actor-binding cargo test --test cases -- TOKEN-ACTOR` must fail).

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock, RwLock};

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use obo_conformance::case::Case;
use obo_conformance::catalog::{self, Catalog};
use obo_conformance::profile::reference::{reference, ReferenceOptions};
use obo_conformance::profile::Target;
use obo_conformance::run::{self, RunOptions};
use obo_conformance::selfcheck::VARIANTS;
use obo_reference_server::fault::Fault;
use obo_report::{CaseResult, Verdict};

/// One server the trials may use, started on first use.
struct Server {
    name: String,
    options: ReferenceOptions,
    started: OnceLock<Result<Arc<Target>, String>>,
}

/// What every trial shares.
struct Shared {
    runtime: tokio::runtime::Runtime,
    /// Tried in order while the case skips.
    servers: Vec<Server>,
    catalog: Catalog,
    opts: RunOptions,
    /// Read: an ordinary case; write: a case that changes server-wide state.
    exclusive: RwLock<()>,
}

impl Shared {
    fn target(&self, server: &Server) -> Result<Arc<Target>, String> {
        server
            .started
            .get_or_init(|| {
                self.runtime
                    .block_on(reference(server.options.clone()))
                    .map(Arc::new)
                    .map_err(|e| {
                        format!("{}: the reference server did not start: {e}", server.name)
                    })
            })
            .clone()
    }

    fn shutdown(&self) {
        for s in &self.servers {
            if let Some(Ok(t)) = s.started.get() {
                self.runtime.block_on(t.shutdown());
            }
        }
    }
}

fn seed() -> u64 {
    std::env::var("OBO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// Fault switches named by `OBO_FAULT` (comma-separated).
fn faults() -> Result<Vec<Fault>, String> {
    let names = std::env::var("OBO_FAULT").unwrap_or_default();
    names
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| Fault::from_name(n).ok_or_else(|| format!("OBO_FAULT: unknown fault {n:?}")))
        .collect()
}

/// The servers to try: the pinned `OBO_TARGET`, else every selfcheck variant.
fn servers(faults: Vec<Fault>) -> Result<Vec<Server>, String> {
    let server = |name: String, options: ReferenceOptions| Server {
        name,
        options,
        started: OnceLock::new(),
    };
    match std::env::var("OBO_TARGET") {
        Ok(name) => {
            let mut options = ReferenceOptions::for_name(&name).ok_or_else(|| {
                format!("OBO_TARGET={name:?} is not a built-in reference profile")
            })?;
            options.faults = faults;
            Ok(vec![server(name, options)])
        }
        Err(_) => Ok(VARIANTS
            .iter()
            .map(|v| server(v.name.to_string(), v.options(faults.clone())))
            .collect()),
    }
}

/// Runs one case against one target; an exclusive one alone, then the runner's reset.
fn run_on(shared: &Shared, target: Arc<Target>, case: &Case) -> Result<CaseResult, String> {
    let _guard = if case.is_exclusive() {
        (
            None,
            Some(shared.exclusive.write().unwrap_or_else(|p| p.into_inner())),
        )
    } else {
        (
            Some(shared.exclusive.read().unwrap_or_else(|p| p.into_inner())),
            None,
        )
    };
    let report = shared.runtime.block_on(run::run_catalog(
        target,
        &shared.catalog,
        std::slice::from_ref(case),
        &shared.opts,
    ));
    report
        .cases
        .into_iter()
        .next()
        .ok_or_else(|| "the runner returned no result".to_string())
}

/// Runs a case on the first server where it does not skip.
fn run_case(shared: &Shared, case: &Case) -> Result<CaseResult, String> {
    let mut last = Err("no server to run on".to_string());
    for server in &shared.servers {
        let result = run_on(shared, shared.target(server)?, case)?;
        let skipped = result.verdict == Verdict::Skip;
        last = Ok(result);
        if !skipped {
            break;
        }
    }
    last
}

/// The trial's outcome for a case result.
fn outcome(result: Result<CaseResult, String>) -> Result<Completion, Failed> {
    let r = result?;
    match r.verdict {
        Verdict::Pass => Ok(Completion::Completed),
        Verdict::Skip => Ok(Completion::ignored_with(r.message)),
        Verdict::Fail | Verdict::Warn | Verdict::Error => {
            let mut msg = format!("{:?}: {}", r.verdict, r.message);
            for c in r.checks.iter().filter(|c| !c.ok) {
                msg.push_str(&format!(
                    "\n  step[{}] {}: expected {}, got {}",
                    c.step, c.name, c.expected, c.actual
                ));
            }
            Err(msg.into())
        }
    }
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let catalog = match catalog::load(&dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.list {
        let trials = catalog
            .cases
            .iter()
            .map(|c| Trial::test(c.id.clone(), || Ok(())))
            .collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }
    let servers = match faults().and_then(servers) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = RunOptions {
        seed: seed(),
        ..Default::default()
    };
    let cases = catalog.cases.clone();
    let shared = Arc::new(Shared {
        runtime,
        servers,
        catalog,
        opts,
        exclusive: RwLock::new(()),
    });
    let trials = cases
        .into_iter()
        .map(|case| {
            let shared = shared.clone();
            Trial::ignorable_test(case.id.clone(), move || outcome(run_case(&shared, &case)))
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    shared.shutdown();
    conclusion.exit_code()
}
