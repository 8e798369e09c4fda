//! What a run leaves behind, and the report commands: the five artefacts of `run`, the CI gate of `--expectations`, `--update-expectations`, `diff` and
//! `matrix` (reports/README.md documents formats and exit codes).
//!
//! Every function that backs a command returns the command's exit code and prints its own
//! messages, so the command line only maps arguments.

use std::path::{Path, PathBuf};

use obo_report::baseline::{judge_report, Baseline, BaselineError, Evaluation};
use obo_report::{diff, matrix, Report, ReportError};

use crate::redact;

pub use super::exit::{HARNESS as EXIT_HARNESS, INVALID as EXIT_INVALID};

/// Every one-time credential ([`redact::ONE_TIME_PARAMS`]) left in clear in the report's
/// transcripts, in first-seen order: none in a report the harness wrote (each case's
/// [`redact::CaseRedactor`] hid them), so a check for tests and reviews.
pub fn dynamic_secrets(report: &Report) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for case in &report.cases {
        for ex in &case.transcript {
            let mut texts = vec![ex.request.url.as_str()];
            texts.extend(ex.request.body.as_deref());
            if let Some(resp) = &ex.response {
                texts.extend(resp.body.as_deref());
                texts.extend(resp.headers.iter().map(|(_, v)| v.as_str()));
            }
            for value in texts.into_iter().flat_map(redact::one_time_values) {
                if !value.starts_with('[') && !found.contains(&value) {
                    found.push(value);
                }
            }
        }
    }
    found
}

/// Records the replay line of every case that did not pass, then writes report.json,
/// report.html, report.md, junit.xml and report.sarif. Redaction is done: every case went
/// through its [`redact::CaseRedactor`] as it ended.
pub fn write_run(report: &mut Report, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    obo_report::fill_replay(report);
    obo_report::write_all(report, out)
}

/// What `run` does with an expectations file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectations {
    /// No file: the run's own exit code.
    None,
    /// Judge the run against the file (CI gate).
    Judge(PathBuf),
    /// Write the run's results as the file (keeping reasons, links and expiries that still hold).
    Update(PathBuf),
}

/// Loads the file before any case runs, so a malformed one stops the run (exit 3). For an
/// update, a missing file is fine (it is about to be created); a malformed one is not (its
/// reasons would be lost).
pub fn preload(exp: &Expectations) -> Result<Option<Baseline>, i32> {
    let (path, may_be_missing) = match exp {
        Expectations::None => return Ok(None),
        Expectations::Judge(p) => (p, false),
        Expectations::Update(p) => (p, true),
    };
    if may_be_missing && !path.exists() {
        return Ok(None);
    }
    Baseline::load(path).map(Some).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        EXIT_INVALID
    })
}

/// Judges the run against its expectations file before any artefact is written, and records
/// the judgement in the report, so that every artefact shows known failures as expected and
/// stale entries as stale. For an update, writes the file from this run first (then every
/// result is expected). None without a file; `Err(exit code)` when the file cannot be written.
pub fn judge(
    report: &mut Report,
    exp: &Expectations,
    loaded: Option<&Baseline>,
) -> Result<Option<Evaluation>, i32> {
    let today = time::OffsetDateTime::now_utc().date();
    let (path, fresh);
    let baseline = match exp {
        Expectations::None => return Ok(None),
        Expectations::Judge(p) => {
            path = p;
            loaded.cloned().unwrap_or_default()
        }
        Expectations::Update(p) => {
            path = p;
            fresh = Baseline::updated(report, loaded);
            if let Err(e) = write_baseline(&fresh, p) {
                eprintln!("error: {e}");
                return Err(EXIT_HARNESS);
            }
            println!(
                "expectations: wrote {} entries to {} (review the diff before committing it)",
                fresh.entries.len(),
                p.display()
            );
            fresh
        }
    };
    let file = path.display().to_string();
    Ok(Some(judge_report(report, &baseline, today, &file)))
}

/// The run's exit code under its expectations: prints the evaluation. `own` is the exit code
/// the run has without a file; `fail_on_warn` makes unlisted warnings fail the gate too.
pub fn gate(eval: Option<&Evaluation>, own: i32, fail_on_warn: bool) -> i32 {
    let Some(eval) = eval else { return own };
    print!("{}", eval.render_text());
    let code = eval.exit_code();
    if code == super::exit::OK && fail_on_warn && !eval.unlisted_warnings.is_empty() {
        super::exit::TARGET_FAILED
    } else {
        code
    }
}

fn write_baseline(b: &Baseline, path: &Path) -> Result<(), String> {
    let text = b.to_toml().map_err(|e: BaselineError| e.to_string())?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<Report>, i32> {
    paths
        .iter()
        .map(|p| {
            obo_report::read_report(p).map_err(|e| {
                eprintln!("error: {e}");
                EXIT_INVALID
            })
        })
        .collect()
}

/// `obo-conformance merge SHARD... --out DIR`: the shard reports of one run (folders holding a
/// report.json, as `run --shard K/N --out DIR` leaves them, other files such as `exit-code`
/// ignored; or report.json files) joined into one run's five artefacts. Exit code: that of the
/// merged run (0 or 1); 3 when an input is unreadable or the shards do not fit together.
pub fn merge_command(inputs: &[PathBuf], out: &Path) -> i32 {
    let paths: Vec<PathBuf> = inputs
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.join("report.json")
            } else {
                p.clone()
            }
        })
        .collect();
    let reports = match read_all(&paths) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut merged = match obo_report::merge(reports) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    match write_run(&mut merged, out) {
        Ok(_) => {
            let s = &merged.summary;
            println!(
                "merged {} shards: {} cases ({} passed, {} failed, {} warned, {} skipped, {} errors) into {}",
                paths.len(),
                merged.cases.len(),
                s.passed,
                s.failed,
                s.warned,
                s.skipped,
                s.errors,
                out.display()
            );
            super::report::exit_code(&merged, false)
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_HARNESS
        }
    }
}

/// `obo-conformance interop REPORT... --out DIR`: the ambiguity report (readings chosen per
/// AMB-*, divergences flagged) and the per-requirement matrix over runs of several
/// implementations and revisions, as `interop.md` (plain Markdown) and `interop.html`.
pub fn interop_command(inputs: &[PathBuf], out: &Path) -> i32 {
    let reports = match read_all(inputs) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let model = obo_report::interop::build(&reports);
    let write = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::create_dir_all(out)
            .and_then(|_| std::fs::write(&path, text))
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let written = write("interop.md", obo_report::interop::render_md(&model))
        .and_then(|_| write("interop.html", obo_report::interop::render_html(&model)));
    match written {
        Ok(()) => {
            let flagged = model
                .ambiguities
                .iter()
                .filter(|a| a.disagree() || a.all_deviate())
                .count();
            println!(
                "interop: {} runs, {} ambiguities ({flagged} flagged): {}",
                reports.len(),
                model.ambiguities.len(),
                out.join("interop.md").display()
            );
            super::exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_HARNESS
        }
    }
}

/// `obo-conformance diff A.json B.json [--md]`: changes from A to B, regressions first; exit 1
/// on a regression, 3 when a file is not a readable report.
pub fn diff_command(before: &Path, after: &Path, markdown: bool) -> i32 {
    let reports = match read_all(&[before.to_path_buf(), after.to_path_buf()]) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let [a, b] = reports.as_slice() else {
        return EXIT_INVALID;
    };
    let d = diff::diff(a, b);
    print!(
        "{}",
        if markdown {
            d.render_md()
        } else {
            d.render_text()
        }
    );
    d.exit_code()
}

/// `obo-conformance matrix A.json B.json ... -o matrix.html|matrix.md`: one column per run.
pub fn matrix_command(inputs: &[PathBuf], out: &Path) -> i32 {
    let reports = match read_all(inputs) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let markdown = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"));
    let text = if markdown {
        Ok(matrix::render_md(&reports))
    } else {
        matrix::render_html(&reports)
    };
    let written = text.and_then(|t| {
        std::fs::write(out, t).map_err(|source| ReportError::Write {
            path: out.to_path_buf(),
            source,
        })
    });
    match written {
        Ok(()) => {
            println!("matrix: {} ({} runs)", out.display(), reports.len());
            super::exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_HARNESS
        }
    }
}

/// `obo-conformance render REPORT.json --out DIR [--normalize] [--expectations FILE]`: the five
/// artefacts again from a kept report.json (normalised for comparison or for the example kept in
/// git), judged against an expectations file when one is given.
pub fn render_command(
    input: &Path,
    out: &Path,
    normalize: bool,
    expectations: Option<&Path>,
) -> i32 {
    let exp = expectations.map_or(Expectations::None, |p| Expectations::Judge(p.to_path_buf()));
    let baseline = match preload(&exp) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let mut report = match read_all(&[input.to_path_buf()]).map(|mut r| r.pop()) {
        Ok(Some(r)) => r,
        Ok(None) => return EXIT_INVALID,
        Err(code) => return code,
    };
    if normalize {
        obo_report::normalize(&mut report);
    }
    let eval = match judge(&mut report, &exp, baseline.as_ref()) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if let Err(e) = write_run(&mut report, out) {
        eprintln!("error: {e}");
        return EXIT_HARNESS;
    }
    println!("reports: {}", out.display());
    gate(eval.as_ref(), 0, false)
}
