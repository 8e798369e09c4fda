//! The `obo-conformance` command: clap arguments → library calls.
//!
//! Exit codes: 0 no unexpected result; 1 the target failed a case; 2 harness errors, an
//! unreachable target, or no applicable case; 3 invalid profile or case files.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use obo_conformance::artefacts::{self, Expectations};
use obo_conformance::catalog::{self, Catalog};
use obo_conformance::profile::reference::{self, ReferenceOptions};
use obo_conformance::profile::{self, Target};
use obo_conformance::{report, run};

#[derive(Parser)]
#[command(
    name = "obo-conformance",
    version,
    about = "Conformance suite for OAuth 2.0 On-Behalf-Of user authorization for AI agents"
)]
struct Cli {
    /// Folder of the case catalogue (default: ./cases, else the one shipped with the sources).
    #[arg(long, global = true, value_name = "DIR")]
    cases_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run cases against a target; write report.json, .html, .md, junit.xml and report.sarif.
    Run(RunArgs),
    /// List the cases (ID, level, revisions, needs, title).
    List {
        /// Filter: ID, glob, tag:NAME, req:ID or a requirement ID (repeatable, comma-separated).
        #[arg(long)]
        cases: Vec<String>,
    },
    /// Explain one case: requirement text, steps, acceptable outcomes.
    Explain { id: String },
    /// Validate a profile file (fields, values) without contacting the target.
    ValidateProfile { file: PathBuf },
    /// Requirement × case matrix; writes coverage.md and coverage.json; exit 1 on a MUST gap.
    Coverage {
        /// Output folder for coverage.md and coverage.json.
        #[arg(long, value_name = "DIR", default_value = "reports/coverage")]
        out: PathBuf,
    },
    /// Model-based fuzzing: random operation sequences checked against the draft's rules;
    /// a counterexample is shrunk and reported; exit 1 on a counterexample.
    Fuzz(obo_conformance::fuzz::FuzzArgs),
    /// The suite checks itself: the catalogue against the clean reference server and once per
    /// fault switch; writes kill-matrix.md and kill-matrix.json; exit 1 on an uncaught fault.
    Selfcheck(obo_conformance::selfcheck::SelfcheckArgs),
    /// What changed between two runs' report.json, regressions first; exit 1 on a regression.
    Diff {
        before: PathBuf,
        after: PathBuf,
        /// Markdown (for a PR comment) instead of text.
        #[arg(long)]
        md: bool,
    },
    /// Runs side by side (one column per target and revision); Markdown when -o ends in .md.
    Matrix {
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        #[arg(short, long, value_name = "FILE", default_value = "matrix.html")]
        out: PathBuf,
    },
    /// The five artefacts again from a kept report.json (optionally normalised and judged).
    Render {
        report: PathBuf,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Zero timestamps, durations and ports; number the target's random values.
        #[arg(long)]
        normalize: bool,
        /// Judge the report against this known-failures file (exit code as for `run`).
        #[arg(long, value_name = "FILE")]
        expectations: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// A profile file, or a built-in profile: `reference` (default) or `reference-form`.
    #[arg(long, default_value = "reference")]
    target: String,
    /// Filter: ID, glob, tag:NAME, req:ID or a requirement ID (repeatable, comma-separated).
    #[arg(long)]
    cases: Vec<String>,
    /// Output folder (default: reports/runs/<UTC timestamp>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Cases in flight at once.
    #[arg(long, default_value_t = 8)]
    jobs: usize,
    /// Seed of all randomness (default: random, printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Accept only the preferred reading of each list of acceptable outcomes.
    #[arg(long)]
    strict: bool,
    /// Per-request timeout in seconds (overrides the profile's http.timeout_secs).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Exit 1 when a case warns.
    #[arg(long)]
    fail_on_warn: bool,
    /// Built-in targets only: start the reference server with this fault (repeatable;
    /// `obo-reference-server --list-faults` lists them).
    #[arg(long, value_name = "NAME")]
    fault: Vec<String>,
    /// Built-in targets only: latency added to every response, in ms (benchmarks).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,
    /// Built-in targets only: draft revision of the reference server (00, 01, 02).
    #[arg(long, value_name = "REV")]
    revision: Option<String>,
    /// Known-failures file: exit on unexpected results and stale entries (reports/README.md).
    #[arg(long, value_name = "FILE")]
    expectations: Option<PathBuf>,
    /// Write this run's results as the --expectations file instead of judging against it.
    #[arg(long, requires = "expectations")]
    update_expectations: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let dir = cli.cases_dir.clone().unwrap_or_else(catalog::default_dir);
    let code = match cli.command {
        Command::Run(args) => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(cmd_run(&dir, args)),
            Err(e) => {
                eprintln!("error: cannot start the async runtime: {e}");
                2
            }
        },
        Command::List { cases } => cmd_list(&dir, &cases),
        Command::Explain { id } => cmd_explain(&dir, &id),
        Command::ValidateProfile { file } => cmd_validate(&file),
        Command::Coverage { out } => load_catalog(&dir)
            .map_or_else(|c| c, |cat| obo_conformance::coverage::command(&cat, &out)),
        Command::Fuzz(args) => obo_conformance::fuzz::command(&args),
        Command::Selfcheck(args) => load_catalog(&dir).map_or_else(
            |c| c,
            |cat| obo_conformance::selfcheck::command(&cat, &args),
        ),
        Command::Diff { before, after, md } => artefacts::diff_command(&before, &after, md),
        Command::Matrix { reports, out } => artefacts::matrix_command(&reports, &out),
        Command::Render {
            report,
            out,
            normalize,
            expectations,
        } => artefacts::render_command(&report, &out, normalize, expectations.as_deref()),
    };
    ExitCode::from(code as u8)
}

fn load_catalog(dir: &Path) -> Result<Catalog, i32> {
    catalog::load(dir).map_err(|e| {
        eprintln!("error: {e}");
        match e {
            catalog::CatalogError::Io(_) => 2,
            catalog::CatalogError::Invalid(_) => 3,
        }
    })
}

async fn open_target(args: &RunArgs) -> Result<Target, i32> {
    let builtin =
        reference::BUILTIN.contains(&args.target.as_str()) && !Path::new(&args.target).exists();
    let result = if builtin {
        let mut opts = ReferenceOptions::for_name(&args.target).unwrap_or_default();
        for name in &args.fault {
            match obo_reference_server::fault::Fault::from_name(name) {
                Some(f) => opts.faults.push(f),
                None => {
                    let known: Vec<&str> = obo_reference_server::fault::Fault::ALL
                        .iter()
                        .map(|f| f.name())
                        .collect();
                    eprintln!(
                        "error: unknown fault {name:?} (known: {})",
                        known.join(", ")
                    );
                    return Err(3);
                }
            }
        }
        opts.latency = Duration::from_millis(args.latency_ms);
        opts.revision = args.revision.clone();
        reference::reference(opts).await
    } else {
        if !args.fault.is_empty() || args.latency_ms > 0 || args.revision.is_some() {
            eprintln!("error: --fault, --latency-ms and --revision apply to the built-in reference targets only");
            return Err(3);
        }
        match profile::load_file(Path::new(&args.target)) {
            Ok((p, text)) => profile::resolve(p, &text, None).await,
            Err(e) => Err(e),
        }
    };
    let mut target = result.map_err(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })?;
    if let Some(t) = args.timeout {
        target.profile.http.timeout_secs = t.clamp(1, 600);
    }
    Ok(target)
}

async fn cmd_run(dir: &Path, args: RunArgs) -> i32 {
    let catalog = match load_catalog(dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let cases = match run::select(&catalog, &args.cases) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
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
    eprintln!(
        "obo-conformance {}: seed {seed} (replay with --seed {seed})",
        env!("CARGO_PKG_VERSION")
    );
    let target = match open_target(&args).await {
        Ok(t) => Arc::new(t),
        Err(code) => return code,
    };
    let tty = std::io::stderr().is_terminal();
    let color = report::use_color(tty);
    let total = cases.len();
    let progress: Option<run::Progress> = tty.then(|| {
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let p: run::Progress = Arc::new(move |r: &obo_report::CaseResult| {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            eprintln!(
                "[{n:>3}/{total}] {} {}",
                report::verdict_label(r.verdict, color),
                r.id
            );
        });
        p
    });
    let opts = run::RunOptions {
        seed,
        jobs: args.jobs,
        strict: args.strict,
        case_timeout: None,
        progress,
    };
    let out = args.out.clone().unwrap_or_else(report::default_out_dir);
    // The browser consent driver saves a picture of the page it failed on beside the reports.
    obo_conformance::consent::set_screenshot_dir(&out.join("screenshots"));
    let mut rep = run::run_catalog(target.clone(), &catalog, &cases, &opts).await;
    target.shutdown().await;
    let stdout_color = report::use_color(std::io::stdout().is_terminal());
    let _ = report::print_summary(&mut std::io::stdout(), &rep, stdout_color);
    match artefacts::write_run(&mut rep, &out) {
        Ok(_) => {
            let _ = writeln!(std::io::stdout(), "reports: {}", out.display());
        }
        Err(e) => {
            eprintln!("error: cannot write the reports to {}: {e}", out.display());
            return 2;
        }
    }
    let own = report::exit_code(&rep, args.fail_on_warn);
    let warn = args.fail_on_warn;
    artefacts::gate(&rep, &expectations, baseline.as_ref(), own, warn)
}

fn cmd_list(dir: &Path, filters: &[String]) -> i32 {
    let catalog = match load_catalog(dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let cases = match run::select(&catalog, filters) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // Written through one handle whose errors are ignored: `list | head` must not panic.
    let mut out = std::io::stdout().lock();
    for c in &cases {
        let revs = c
            .revisions
            .clone()
            .map(|r| r.join(","))
            .unwrap_or_else(|| "all".into());
        let needs: Vec<String> = c.effective_needs().into_iter().collect();
        let level = match c.level {
            obo_conformance::case::CaseLevel::Must => "MUST",
            obo_conformance::case::CaseLevel::Should => "SHOULD",
            obo_conformance::case::CaseLevel::May => "MAY",
        };
        let needs = if needs.is_empty() {
            "-".into()
        } else {
            needs.join(",")
        };
        let _ = writeln!(out, "{:<44} {:<6} rev {:<8} {}", c.id, level, revs, c.title);
        let _ = writeln!(
            out,
            "{:<44} requirements {} · needs {needs}",
            "",
            c.requirements.join(", ")
        );
    }
    let _ = writeln!(out, "{} cases", cases.len());
    0
}

fn cmd_explain(dir: &Path, id: &str) -> i32 {
    let catalog = match load_catalog(dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(case) = catalog.case(&id.to_uppercase()) else {
        eprintln!("error: no case {id:?} (see `obo-conformance list`)");
        return 2;
    };
    let _ = write!(
        std::io::stdout().lock(),
        "{}",
        obo_conformance::explain::explain(case, &catalog)
    );
    0
}

fn cmd_validate(file: &Path) -> i32 {
    match profile::load_file(file) {
        Ok((p, _)) => {
            println!(
                "{}: valid profile {:?} (revision {}, capabilities: {})",
                file.display(),
                p.name,
                p.revision,
                p.capabilities.join(", ")
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
