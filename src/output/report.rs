//! Output of a run: `report.json` (the obo-report model), its default folder and the exit code.

use std::path::{Path, PathBuf};

use obo_report::{CaseResult, Report, RequirementInfo, Summary, Verdict};

use crate::case::Case;
use crate::catalog::Catalog;

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

/// The report of a run that could not start because the target could not be reached: every
/// selected case in `error` with the cause, so CI still gets all five artefacts (an `error` is
/// the harness's failure to drive the target, never the target's fail).
pub fn unreachable(
    target: obo_report::Target,
    catalog: &Catalog,
    cases: &[Case],
    seed: u64,
    strict: bool,
    cause: &str,
) -> Report {
    let results: Vec<CaseResult> = cases
        .iter()
        .map(|case| CaseResult {
            id: case.id.clone(),
            title: case.title.clone(),
            verdict: Verdict::Error,
            requirements: case.requirements.clone(),
            scenarios: case.scenarios.clone(),
            level: case.level.into(),
            tags: case.tags.clone(),
            message: format!("not run: {cause}"),
            checks: vec![],
            duration_ms: 0,
            transcript: vec![],
            readings: Vec::new(),
        })
        .collect();
    let requirements = results
        .iter()
        .flat_map(|c| c.requirements.iter())
        .filter_map(|id| {
            let r = catalog.requirements.get(id)?;
            let info = RequirementInfo {
                section: r.section.clone(),
                level: r.level.clone(),
                text: r.text.clone(),
            };
            Some((id.clone(), info))
        })
        .collect();
    Report {
        schema_version: obo_report::SCHEMA_VERSION.to_string(),
        suite_version: env!("CARGO_PKG_VERSION").to_string(),
        target,
        seed,
        strict,
        started_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: 0,
        summary: Summary::of(&results),
        cases: results,
        requirements,
        diagnosis: Vec::new(),
        ambiguities: Default::default(),
        invocation: None,
        replay: Default::default(),
        expectations: None,
    }
}
