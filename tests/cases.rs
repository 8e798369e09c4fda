//! One trial per case of cases/ against one shared in-process reference server (built-in
//! `reference` profile: auto-consent, control API), so `cargo test --test cases` prints one line
//! per case and `cargo test --test cases -- TOKEN-` filters by case ID (issue 6, item 2).
//!
//! A trial fails when the case's verdict is fail, warn or error, and is ignored, with the reason,
//! when the case is skipped. Cases that change server-wide state (`Case::is_exclusive`) hold
//! the write side of a lock while every other case holds the read side, so they never overlap;
//! each runs through `run::run_catalog`, which resets the server after an exclusive case.
//!
//! `OBO_SEED` sets the seed (default 1); `OBO_TARGET=reference-form` runs the trials against
//! the server with real login and consent pages instead (the consent-page cases then run);
//! `OBO_FAULT=NAME[,NAME]` turns fault switches on, to watch a case catch its fault
//! (`OBO_FAULT=skip-actor-binding cargo test --test cases -- TOKEN-ACTOR` must fail).

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use obo_conformance::case::Case;
use obo_conformance::catalog::{self, Catalog};
use obo_conformance::profile::reference::{reference, ReferenceOptions};
use obo_conformance::profile::Target;
use obo_conformance::run::{self, RunOptions};
use obo_reference_server::fault::Fault;
use obo_report::{CaseResult, Verdict};

/// What every trial shares.
struct Shared {
    runtime: tokio::runtime::Runtime,
    target: Arc<Target>,
    catalog: Catalog,
    opts: RunOptions,
    /// Read: an ordinary case; write: a case that changes server-wide state.
    exclusive: RwLock<()>,
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

/// Runs one case; an exclusive one alone, followed by the runner's control-API reset.
fn run_one(shared: &Shared, case: &Case) -> Option<CaseResult> {
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
        shared.target.clone(),
        &shared.catalog,
        std::slice::from_ref(case),
        &shared.opts,
    ));
    report.cases.into_iter().next()
}

/// The trial's outcome for a case result.
fn outcome(result: Option<CaseResult>) -> Result<Completion, Failed> {
    let Some(r) = result else {
        return Err("the runner returned no result".into());
    };
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
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let name = std::env::var("OBO_TARGET").unwrap_or_else(|_| "reference".into());
    let Some(mut ref_opts) = ReferenceOptions::for_name(&name) else {
        eprintln!("error: OBO_TARGET={name:?} is not a built-in reference profile");
        return ExitCode::FAILURE;
    };
    match faults() {
        Ok(f) => ref_opts.faults = f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let target = match runtime.block_on(reference(ref_opts)) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            eprintln!("error: the reference server did not start: {e}");
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
        target,
        catalog,
        opts,
        exclusive: RwLock::new(()),
    });
    let trials = cases
        .into_iter()
        .map(|case| {
            let shared = shared.clone();
            Trial::ignorable_test(case.id.clone(), move || outcome(run_one(&shared, &case)))
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    shared.runtime.block_on(shared.target.shutdown());
    conclusion.exit_code()
}
