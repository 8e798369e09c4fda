//! The `obo-conformance` command: arguments → library calls → terminal output and an exit code
//! from the one table in `obo_conformance::output::exit` (shown by `--help`).

mod args;
mod progress;
mod run;
mod term;
mod tools;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use obo_conformance::artefacts;
use obo_conformance::case::CaseLevel;
use obo_conformance::catalog::{self, Catalog};
use obo_conformance::output::exit;
use obo_conformance::profile;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // `--help` and `--version` are not errors; every other parse failure is usage.
            let code = if e.use_stderr() {
                exit::INVALID
            } else {
                exit::OK
            };
            return ExitCode::from(code as u8);
        }
    };
    // The embedded catalogue unless a folder is named: a `cases/` in the working directory is
    // somebody else's files until the user says otherwise.
    // An empty OBO_CASES_DIR (a CI template's unset variable) means "not set".
    let from_env = std::env::var_os("OBO_CASES_DIR")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from);
    let dir = match cli.cases_dir.clone().or(from_env) {
        Some(d) => catalog::Source::Dir(d),
        None => catalog::Source::Embedded,
    };
    let code = match cli.command {
        Command::Run(args) => match obo_conformance::exec::schedule::runtime() {
            Ok(rt) => rt.block_on(run::command(&dir, args, cli.color, cli.quiet)),
            Err(e) => {
                eprintln!("error: cannot start the async runtime: {e}");
                exit::HARNESS
            }
        },
        Command::List { cases } => cmd_list(&dir, &cases),
        Command::Explain { id } => cmd_explain(&dir, &id),
        Command::ValidateProfile { file } => cmd_validate(&file),
        Command::Coverage { out } => {
            load_catalog(&dir).map_or_else(|c| c, |cat| tools::coverage(&cat, &out))
        }
        Command::Fuzz(args) => tools::fuzz_command(&args),
        Command::Selfcheck(args) => {
            load_catalog(&dir).map_or_else(|c| c, |cat| tools::selfcheck(&cat, &args))
        }
        Command::Client(args) => load_catalog(&dir)
            .map_or_else(|c| c, |cat| obo_conformance::client::command(&cat, &args)),
        Command::Diff { before, after, md } => artefacts::diff_command(&before, &after, md),
        Command::Merge { shards, out } => artefacts::merge_command(&shards, &out),
        Command::Interop { reports, out } => artefacts::interop_command(&reports, &out),
        Command::Matrix { reports, out } => artefacts::matrix_command(&reports, &out),
        Command::Render {
            report,
            out,
            normalize,
            expectations,
        } => artefacts::render_command(&report, &out, normalize, expectations.as_deref()),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "obo-conformance", &mut std::io::stdout());
            exit::OK
        }
        Command::Man => cmd_man(),
        Command::Schema {
            what: args::SchemaKind::Profile,
        } => {
            let _ = std::io::stdout()
                .lock()
                .write_all(profile::json_schema().as_bytes());
            exit::OK
        }
    };
    ExitCode::from(code as u8)
}

/// The catalogue, or the exit code after printing why it cannot be loaded.
pub(crate) fn load_catalog(dir: &catalog::Source) -> Result<Catalog, i32> {
    dir.load().map_err(|e| {
        eprintln!("error: {e}");
        match e {
            catalog::CatalogError::Io(_) => exit::HARNESS,
            catalog::CatalogError::Invalid(_) => exit::INVALID,
        }
    })
}

fn cmd_list(dir: &catalog::Source, filters: &[String]) -> i32 {
    let catalog = match load_catalog(dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let cases = match obo_conformance::run::select(&catalog, filters) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID;
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
            CaseLevel::Must => "MUST",
            CaseLevel::Should => "SHOULD",
            CaseLevel::May => "MAY",
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
    exit::OK
}

fn cmd_explain(dir: &catalog::Source, id: &str) -> i32 {
    let catalog = match load_catalog(dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(case) = catalog.case(&id.to_uppercase()) else {
        eprintln!("error: no case {id:?} (see `obo-conformance list`)");
        return exit::INVALID;
    };
    let _ = write!(
        std::io::stdout().lock(),
        "{}",
        obo_conformance::explain::explain(case, &catalog)
    );
    exit::OK
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
            if let Some(adapter) = &p.control {
                let ops: Vec<&str> = profile::control::Operation::ALL
                    .into_iter()
                    .filter(|op| adapter.hook(*op).is_some())
                    .map(|op| op.name())
                    .collect();
                println!("control adapter: {}", ops.join(", "));
            }
            exit::OK
        }
        Err(profile::ProfileError::Problems { file, problems }) => {
            // One line per problem, as a compiler prints them: editors jump to each.
            for p in &problems {
                eprintln!("error: {file}:{p}");
            }
            eprintln!(
                "{file}: {} found; nothing was sent to the target",
                obo_report::plural(problems.len(), "problem")
            );
            exit::INVALID
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn cmd_man() -> i32 {
    let mut page = Vec::new();
    match clap_mangen::Man::new(Cli::command()).render(&mut page) {
        Ok(()) => {
            let _ = std::io::stdout().write_all(&page);
            exit::OK
        }
        Err(e) => {
            eprintln!("error: cannot render the man page: {e}");
            exit::HARNESS
        }
    }
}
