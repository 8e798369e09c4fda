//! Output of a run: `report.json` (the obo-report model) and the terminal summary.

use std::io::Write;
use std::path::{Path, PathBuf};

use obo_report::{Report, Verdict};

/// Writes `DIR/report.json` (creating DIR) and returns its path.
pub fn write_json(report: &Report, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("report.json");
    let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(&path, text + "\n")?;
    Ok(path)
}

/// The default output folder: reports/runs/<UTC timestamp>.
pub fn default_out_dir() -> PathBuf {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let stamp = now.format(&fmt).unwrap_or_else(|_| "run".into());
    PathBuf::from("reports").join("runs").join(stamp)
}

/// Whether to colour terminal output: a terminal, and NO_COLOR unset.
pub fn use_color(stream_is_tty: bool) -> bool {
    stream_is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn verdict_label(v: Verdict, color: bool) -> String {
    let (text, code) = match v {
        Verdict::Pass => ("PASS", "32"),
        Verdict::Fail => ("FAIL", "31"),
        Verdict::Warn => ("WARN", "33"),
        Verdict::Skip => ("SKIP", "90"),
        Verdict::Error => ("ERROR", "35"),
    };
    if color {
        format!("\x1b[{code}m{text:<5}\x1b[0m")
    } else {
        format!("{text:<5}")
    }
}

/// The terminal summary: every case that did not pass, then the totals.
pub fn print_summary(out: &mut impl Write, report: &Report, color: bool) -> std::io::Result<()> {
    for c in &report.cases {
        if c.verdict != Verdict::Pass {
            writeln!(
                out,
                "{} {:<44} {}",
                verdict_label(c.verdict, color),
                c.id,
                c.message
            )?;
        }
    }
    let s = &report.summary;
    writeln!(
        out,
        "{} cases against {} (-{}), seed {}: {} passed, {} failed, {} warned, {} skipped, {} errors in {:.2} s",
        report.cases.len(),
        report.target.name,
        report.target.revision,
        report.seed,
        s.passed,
        s.failed,
        s.warned,
        s.skipped,
        s.errors,
        report.duration_ms as f64 / 1000.0
    )
}

/// Exit code of `run` (README "Exit codes"): 1 when the target failed a case (or warned under
/// `--fail-on-warn`), 2 on harness errors or when no case applied, else 0.
pub fn exit_code(report: &Report, fail_on_warn: bool) -> i32 {
    let s = &report.summary;
    if s.failed > 0 {
        1
    } else if s.errors > 0 || s.passed + s.warned == 0 {
        2
    } else if fail_on_warn && s.warned > 0 {
        1
    } else {
        0
    }
}
