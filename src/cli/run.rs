//! `obo-conformance run`: open the target, run the selected cases with progress, write the five
//! artefacts, print the summary, and judge the result (exit code).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use obo_conformance::artefacts::{self, Expectations};
use obo_conformance::output::exit;
use obo_conformance::profile::reference::{self, ReferenceOptions};
use obo_conformance::profile::{self, HttpOverrides, ProfileError, Target};
use obo_conformance::{report, run};
use obo_reference_server::fault::Fault;

use crate::args::{ColorChoice, Format, RunArgs};
use crate::progress::Reporter;
use crate::term;

/// The faults named on the command line; an unknown name is invalid input.
pub fn parse_faults(names: &[String]) -> Result<Vec<Fault>, i32> {
    names
        .iter()
        .map(|name| {
            Fault::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                eprintln!(
                    "error: unknown fault {name:?} (known: {})",
                    known.join(", ")
                );
                exit::INVALID
            })
        })
        .collect()
}

/// Whether `--target` names a built-in profile (a file of that name takes precedence).
pub fn is_builtin(target: &str) -> bool {
    reference::BUILTIN.contains(&target) && !Path::new(target).exists()
}

/// Why the target could not be opened: the exit code, and for an unreachable target what the
/// reports say about it.
struct NotOpened {
    code: i32,
    unreachable: Option<(obo_report::Target, String)>,
}

async fn open_target(args: &RunArgs) -> Result<Target, NotOpened> {
    let invalid = |code| NotOpened {
        code,
        unreachable: None,
    };
    let overrides = HttpOverrides {
        timeout_secs: args.timeout,
        allow_cross_origin: args.allow_cross_origin,
    };
    let (result, described) = if is_builtin(&args.target) {
        let mut opts = ReferenceOptions::for_name(&args.target).unwrap_or_default();
        opts.faults = parse_faults(&args.fault).map_err(invalid)?;
        opts.latency = Duration::from_millis(args.latency_ms);
        opts.revision = args.revision.clone();
        let described = obo_report::Target {
            name: args.target.clone(),
            issuer: String::new(),
            revision: opts.revision.clone().unwrap_or_else(|| "02".into()),
            profile_digest: String::new(),
            capabilities: vec![],
        };
        (reference::reference_with(opts, &overrides).await, described)
    } else {
        if !args.fault.is_empty() || args.latency_ms > 0 || args.revision.is_some() {
            eprintln!("error: --fault, --latency-ms and --revision apply to the built-in reference targets only");
            return Err(invalid(exit::INVALID));
        }
        let (mut p, text) = profile::load_file(Path::new(&args.target)).map_err(|e| {
            eprintln!("error: {e}");
            invalid(e.exit_code())
        })?;
        overrides.apply(&mut p.http);
        let described = obo_report::Target {
            name: p.name.clone(),
            issuer: p.issuer.clone().unwrap_or_default(),
            revision: p.revision.clone(),
            profile_digest: profile::digest(&text),
            capabilities: p.capabilities.clone(),
        };
        (profile::resolve(p, &text, None).await, described)
    };
    result.map_err(|e| {
        eprintln!("error: {e}");
        NotOpened {
            code: e.exit_code(),
            unreachable: matches!(e, ProfileError::Unreachable(_))
                .then(|| (described, e.to_string())),
        }
    })
}

/// What the report records of this invocation, for its replay lines: the target as given
/// (a path stays a path), the built-in target's faults and options, the catalogue folder.
fn invocation(args: &RunArgs, dir: &obo_conformance::catalog::Source) -> obo_report::Invocation {
    obo_report::Invocation {
        target: args.target.clone(),
        builtin: is_builtin(&args.target),
        faults: args.fault.clone(),
        revision: args.revision.clone(),
        latency_ms: args.latency_ms,
        timeout_secs: args.timeout,
        allow_cross_origin: args.allow_cross_origin,
        cases_dir: match dir {
            obo_conformance::catalog::Source::Dir(d) => Some(d.display().to_string()),
            obo_conformance::catalog::Source::Embedded => None,
        },
    }
}

pub async fn command(
    dir: &obo_conformance::catalog::Source,
    args: RunArgs,
    color: ColorChoice,
    quiet: bool,
) -> i32 {
    let catalog = match crate::load_catalog(dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let cases = match run::select(&catalog, &args.cases) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID;
        }
    };
    let cases = match args.shard {
        Some(shard) => run::shard_of(&cases, shard),
        None => cases,
    };
    let expectations = match (&args.expectations, args.update_expectations) {
        (Some(p), true) => Expectations::Update(p.clone()),
        (Some(p), false) => Expectations::Judge(p.clone()),
        (None, _) => Expectations::None,
    };
    let baseline = match artefacts::preload(&expectations) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    if !quiet {
        eprintln!(
            "obo-conformance {}: seed {seed} (replay with --seed {seed})",
            env!("CARGO_PKG_VERSION")
        );
    }
    let target = match open_target(&args).await {
        Ok(t) => Arc::new(t),
        Err(NotOpened {
            code,
            unreachable: None,
        }) => return code,
        Err(NotOpened {
            code,
            unreachable: Some((described, cause)),
        }) => {
            // CI still gets every artefact: each case in `error` with the cause.
            let mut rep =
                report::unreachable(described, &catalog, &cases, seed, args.strict, &cause);
            rep.invocation = Some(invocation(&args, dir));
            let eval = match artefacts::judge(&mut rep, &expectations, baseline.as_ref()) {
                Ok(e) => e,
                Err(code) => return code,
            };
            let out = args.out.clone().unwrap_or_else(report::default_out_dir);
            if let Err(e) = artefacts::write_run(&mut rep, &out) {
                eprintln!("error: cannot write the reports to {}: {e}", out.display());
            } else if !quiet {
                eprintln!(
                    "reports (every case in error): {}",
                    out.join("report.html").display()
                );
            }
            // The gate's account of the errors, but the code of an unreachable target.
            artefacts::gate(eval.as_ref(), code, args.fail_on_warn);
            return code;
        }
    };
    let stderr_tty = std::io::stderr().is_terminal();
    // Progress lines mark known failures already; the run is judged as a whole afterwards.
    let known: crate::progress::Known = match &baseline {
        Some(b) if matches!(expectations, Expectations::Judge(_)) => {
            let (b, today) = (b.clone(), time::OffsetDateTime::now_utc().date());
            let described = obo_report::Target {
                name: target.profile.name.clone(),
                issuer: String::new(),
                revision: target.profile.revision.clone(),
                profile_digest: String::new(),
                capabilities: vec![],
            };
            Some(Arc::new(move |r: &obo_report::CaseResult| {
                b.expects(&described, &r.id, r.verdict, today)
            }))
        }
        _ => None,
    };
    let reporter = Reporter::new(
        known,
        cases.len(),
        args.format,
        quiet,
        stderr_tty,
        term::use_color(color, stderr_tty),
    );
    let opts = run::RunOptions {
        seed,
        jobs: args.jobs,
        strict: args.strict,
        case_timeout: None,
        progress: reporter.callback.clone(),
    };
    let out = args.out.clone().unwrap_or_else(report::default_out_dir);
    // The browser consent driver saves a picture of the page it failed on beside the reports.
    obo_conformance::consent::set_screenshot_dir(&out.join("screenshots"));
    let mut rep = run::run_catalog(target.clone(), &catalog, &cases, &opts).await;
    target.shutdown().await;
    reporter.finish();
    rep.invocation = Some(invocation(&args, dir));
    let eval = match artefacts::judge(&mut rep, &expectations, baseline.as_ref()) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let written = artefacts::write_run(&mut rep, &out);
    let html = out.join("report.html");
    let html = written.as_ref().ok().map(|_| html.as_path());
    let shown = match args.format {
        // JSON lines own standard output; the human summary goes to standard error.
        Format::Json => {
            let line = serde_json::json!({
                "summary": rep.summary,
                "result": obo_report::run_status(&rep).phrase(),
                "seed": rep.seed,
                "reports": html.map(|_| out.display().to_string()),
            });
            let _ = writeln!(std::io::stdout().lock(), "{line}");
            (!quiet).then(|| {
                let tty = std::io::stderr().is_terminal();
                let c = term::use_color(color, tty);
                term::print_summary(&mut std::io::stderr().lock(), &rep, html, c, quiet)
            })
        }
        Format::Human => {
            let c = term::use_color(color, std::io::stdout().is_terminal());
            Some(term::print_summary(
                &mut std::io::stdout().lock(),
                &rep,
                html,
                c,
                quiet,
            ))
        }
    };
    // A closed pipe cuts the summary short; the reports and the exit code still stand.
    drop(shown);
    if let Err(e) = written {
        eprintln!("error: cannot write the reports to {}: {e}", out.display());
        return exit::HARNESS;
    }
    let own = report::exit_code(&rep, args.fail_on_warn);
    artefacts::gate(eval.as_ref(), own, args.fail_on_warn)
}
