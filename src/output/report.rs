//! Output of a run: `report.json` (the obo-report model), its default folder and the exit code.

use std::path::{Path, PathBuf};

use obo_report::Report;

use super::exit;

/// Writes `DIR/report.json` alone (creating DIR) and returns its path; the text is
/// [`obo_report::render_json`]'s, the one serialiser of the report model.
pub fn write_json(report: &Report, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("report.json");
    let text = obo_report::render_json(report).map_err(std::io::Error::other)?;
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The default output folder: reports/runs/<UTC timestamp>.
pub fn default_out_dir() -> PathBuf {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let stamp = now.format(&fmt).unwrap_or_else(|_| "run".into());
    PathBuf::from("reports").join("runs").join(stamp)
}

/// Exit code of `run` (README "Exit codes"): 1 when the target failed a case (or warned under
/// `--fail-on-warn`), 2 on harness errors or when no case applied, else 0.
pub fn exit_code(report: &Report, fail_on_warn: bool) -> i32 {
    let s = &report.summary;
    if s.failed > 0 {
        exit::TARGET_FAILED
    } else if s.errors > 0 || s.passed + s.warned == 0 {
        exit::HARNESS
    } else if fail_on_warn && s.warned > 0 {
        exit::TARGET_FAILED
    } else {
        exit::OK
    }
}
