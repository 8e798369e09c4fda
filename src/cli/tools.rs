//! The tool subcommands over the library's tools: `coverage`, `fuzz`, `selfcheck`.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use obo_conformance::catalog::{self, Catalog};
use obo_conformance::fuzz::{
    fuzz, name, replay, script, script::Style, to_report, FuzzOptions, FuzzTarget, SavedSequence,
};
use obo_conformance::output::exit;
use obo_conformance::profile::{self, reference::ReferenceOptions};
use obo_conformance::{coverage, report, selfcheck};
use obo_report::RequirementInfo;

use crate::args::{FuzzArgs, SelfcheckArgs};

/// `obo-conformance coverage [--out DIR]`: prints the matrix, writes `coverage.md` and
/// `coverage.json` into `out_dir`, and returns the exit code: OK when every MUST has a case or a
/// reason, TARGET_FAILED when one has neither, HARNESS when the files cannot be written.
pub fn coverage(catalog: &Catalog, out_dir: &Path) -> i32 {
    let cov = coverage::compute(catalog);
    // A closed pipe (`coverage | head`) only cuts the listing short; the files are still
    // written and the exit code still reports the gate.
    let _ = std::io::stdout().write_all(coverage::render_text(&cov).as_bytes());
    match coverage::write(&cov, out_dir) {
        Ok((md, json)) => {
            let _ = writeln!(
                std::io::stdout(),
                "wrote {} and {}",
                md.display(),
                json.display()
            );
        }
        Err(e) => {
            eprintln!(
                "error: cannot write the coverage files to {}: {e}",
                out_dir.display()
            );
            return exit::HARNESS;
        }
    }
    if cov.gaps().is_empty() {
        exit::OK
    } else {
        exit::TARGET_FAILED
    }
}

/// `obo-conformance selfcheck`: OK when the clean run is clean and every fault is caught by a
/// relevant case, TARGET_FAILED otherwise, HARNESS when the results cannot be written, INVALID
/// on bad arguments.
pub fn selfcheck(catalog: &Catalog, args: &SelfcheckArgs) -> i32 {
    let opts = match selfcheck::parse_faults(&args.fault) {
        Ok(faults) => selfcheck::Options {
            seed: args.seed,
            jobs: args.jobs,
            case_jobs: args.case_jobs,
            faults,
        },
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID;
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::HARNESS;
        }
    };
    eprintln!(
        "selfcheck: {} cases, clean + {} faults, {} runs at a time, seed {}",
        catalog.cases.len(),
        opts.faults.len(),
        opts.jobs.max(1),
        opts.seed
    );
    let s = rt.block_on(selfcheck::run(catalog, &catalog.cases, &opts));
    print!("{}", selfcheck::render_text(&s));
    if let Err(e) = selfcheck::write(&s, &args.out) {
        eprintln!(
            "error: cannot write the kill matrix to {}: {e}",
            args.out.display()
        );
        return exit::HARNESS;
    }
    println!("kill matrix: {}", args.out.join("kill-matrix.md").display());
    if s.ok() {
        exit::OK
    } else {
        exit::TARGET_FAILED
    }
}

/// `obo-conformance fuzz`: OK without a counterexample, TARGET_FAILED with one, HARNESS when
/// every sequence was incomplete or nothing could be written, INVALID on bad arguments.
pub fn fuzz_command(args: &FuzzArgs) -> i32 {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => rt.block_on(command_async(args)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            exit::HARNESS
        }
    }
}

async fn open(args: &FuzzArgs) -> Result<FuzzTarget, i32> {
    if crate::run::is_builtin(&args.target) {
        let mut o = ReferenceOptions::for_name(&args.target).unwrap_or_default();
        o.faults = crate::run::parse_faults(&args.fault)?;
        return Ok(FuzzTarget::Reference(o));
    }
    if !args.fault.is_empty() {
        eprintln!("error: --fault applies to the built-in reference targets only");
        return Err(exit::INVALID);
    }
    let (p, text) = profile::load_file(Path::new(&args.target)).map_err(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })?;
    let t = profile::resolve(p, &text, None).await.map_err(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })?;
    Ok(FuzzTarget::Profile(Arc::new(t)))
}

async fn command_async(args: &FuzzArgs) -> i32 {
    let src = match open(args).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let code = run_command(args, &src).await;
    if let FuzzTarget::Profile(t) = &src {
        t.shutdown().await;
    }
    code
}

async fn run_command(args: &FuzzArgs, src: &FuzzTarget) -> i32 {
    let out = args.out.clone().unwrap_or_else(report::default_out_dir);
    let seed = args.seed.unwrap_or_else(rand::random);
    let opts = FuzzOptions {
        seed,
        iterations: args.iterations,
        length: args.length.max(1),
        shrink_runs: args.shrink_runs,
        ..Default::default()
    };
    let replay_line = |iterations: usize| {
        let faults: String = args.fault.iter().map(|f| format!(" --fault {f}")).collect();
        format!("obo-conformance fuzz --target {}{faults} --seed {seed} --iterations {iterations} --length {}", args.target, opts.length)
    };
    let outcome = if let Some(file) = &args.replay {
        match replay(src, file).await {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::HARNESS;
            }
        }
    } else {
        eprintln!(
            "obo-conformance fuzz: seed {seed}, {} sequences of {} operations",
            opts.iterations, opts.length
        );
        match fuzz(src, &opts, |m| eprintln!("{m}; shrinking...")).await {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::HARNESS;
            }
        }
    };
    let probe = match src.fresh().await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::HARNESS;
        }
    };
    let target_info = obo_report::Target {
        name: probe.profile.name.clone(),
        issuer: probe.issuer.clone(),
        revision: probe.profile.revision.clone(),
        profile_digest: probe.digest.clone(),
        capabilities: probe.capabilities.iter().cloned().collect(),
    };
    src.release(&probe).await;
    let requirements = catalog::load_embedded()
        .map(|c| {
            c.requirements
                .iter()
                .map(|(k, r)| {
                    (
                        k.clone(),
                        RequirementInfo {
                            section: r.section_for(&probe.profile.revision).to_string(),
                            level: r.level.clone(),
                            text: r.text.clone(),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let rep = to_report(&outcome, &target_info, &requirements);
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return exit::HARNESS;
    }
    for l in &outcome.left_out {
        eprintln!("left out: {l}");
    }
    for n in &outcome.incomplete_notes {
        eprintln!("incomplete: {n}");
    }
    match &outcome.counterexample {
        Some(cx) => {
            println!(
                "COUNTEREXAMPLE ({}), seed {}, sequence {}:",
                name(cx.violation.property),
                cx.seed,
                cx.iteration
            );
            for (i, o) in cx.minimal.ops.iter().enumerate() {
                println!("  {}. {o}", i + 1);
            }
            println!(
                "violation: {} [{}]",
                cx.violation.message,
                cx.violation.property.requirements().join(", ")
            );
            println!(
                "shrunk from {} to {} operations in {} runs",
                cx.original.len(),
                cx.minimal.ops.len(),
                cx.shrink_runs
            );
            let saved = SavedSequence {
                seed: cx.seed,
                ops: cx.minimal.ops.clone(),
            };
            let json = out.join("counterexample.json");
            let written = serde_json::to_string_pretty(&saved)
                .map_err(|e| e.to_string())
                .and_then(|s| std::fs::write(&json, s).map_err(|e| e.to_string()));
            let style = Style {
                claims: target_info
                    .capabilities
                    .iter()
                    .any(|c| c == "jwt_access_tokens" || c == "introspection"),
            };
            let toml = script::counterexample_toml(
                "FUZZ-COUNTEREXAMPLE",
                &cx.minimal.ops,
                style,
                &cx.violation,
            )
            .unwrap_or_else(|e| format!("# {e}\n{}", cx.minimal.case_toml));
            let _ = std::fs::write(out.join("counterexample.toml"), toml);
            match written {
                Ok(()) => println!(
                    "replay: obo-conformance fuzz --target {} --replay {}",
                    args.target,
                    json.display()
                ),
                Err(e) => eprintln!("error: cannot write {}: {e}", json.display()),
            }
            if args.replay.is_none() {
                println!("or: {}", replay_line(cx.iteration + 1));
            }
        }
        None => println!(
            "no counterexample: {} sequences, {} operations, {} incomplete, {:.1} s",
            outcome.sequences,
            outcome.operations,
            outcome.incomplete,
            outcome.took.as_secs_f64()
        ),
    }
    match report::write_json(&rep, &out) {
        Ok(p) => println!("report: {}", p.display()),
        Err(e) => {
            eprintln!("error: cannot write the report to {}: {e}", out.display());
            return exit::HARNESS;
        }
    }
    if outcome.counterexample.is_some() {
        exit::TARGET_FAILED
    } else if outcome.sequences > 0 && outcome.incomplete == outcome.sequences {
        exit::HARNESS
    } else {
        exit::OK
    }
}
