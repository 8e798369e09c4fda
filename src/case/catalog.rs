//! Loads the catalogue: cases/**/*.toml and cases/requirements.toml, and validates it.
//!
//! Every problem is reported with the file and the field (exit 3): unknown or duplicated IDs,
//! requirement IDs missing from requirements.toml, unknown variables, fields a step kind does
//! not take, values outside the case language.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::case::capability;
use crate::case::requirements::parse_requirements;
pub use crate::case::requirements::{level_lint, Ambiguity, Requirement};
use crate::case::step_rules::validate_step;
use crate::case::{Case, Step};

/// The loaded, validated catalogue. Cases are sorted by ID.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub dir: PathBuf,
    pub cases: Vec<Case>,
    pub requirements: BTreeMap<String, Requirement>,
    /// The ambiguities a step may name in `reading`.
    pub ambiguities: BTreeMap<String, Ambiguity>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read the catalogue: {0}")]
    Io(String),
    #[error("invalid case files:\n  {}", .0.join("\n  "))]
    Invalid(Vec<String>),
}

impl Catalog {
    pub fn case(&self, id: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.id == id)
    }
}

/// The catalogue the harness was built with (cases/ at build time, embedded by build.rs).
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));
}

/// Where a catalogue comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The catalogue embedded at build time: the binary needs no files beside it.
    Embedded,
    /// A folder holding requirements.toml and the case files (`--cases-dir`, `OBO_CASES_DIR`).
    Dir(PathBuf),
}

impl Source {
    pub fn load(&self) -> Result<Catalog, CatalogError> {
        match self {
            Source::Embedded => load_embedded(),
            Source::Dir(dir) => load(dir),
        }
    }
}

/// The cases folder of the source tree this crate was built from (tests and tools that work on
/// the sources; the binary uses [`Source::Embedded`] unless told otherwise).
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// The embedded catalogue; its case paths read `cases/...` as in the source tree.
pub fn load_embedded() -> Result<Catalog, CatalogError> {
    let dir = PathBuf::from("cases");
    let files = embedded::FILES
        .iter()
        .map(|(rel, text)| (dir.join(rel), (*text).to_string()))
        .collect();
    from_texts(&dir, files)
}

/// Loads and validates every case under `dir` and `dir/requirements.toml`.
pub fn load(dir: &Path) -> Result<Catalog, CatalogError> {
    let requirements = dir.join("requirements.toml");
    std::fs::metadata(&requirements)
        .map_err(|e| CatalogError::Io(format!("{}: {e}", requirements.display())))?;
    let mut paths = Vec::new();
    collect_toml(dir, &mut paths)
        .map_err(|e| CatalogError::Io(format!("{}: {e}", dir.display())))?;
    let mut files = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CatalogError::Io(format!("{}: {e}", path.display())))?;
        files.push((path, text));
    }
    from_texts(dir, files)
}

/// Validates a catalogue given as (path, text) pairs; `dir/requirements.toml` is the
/// requirement catalogue, every other file a case.
fn from_texts(dir: &Path, mut files: Vec<(PathBuf, String)>) -> Result<Catalog, CatalogError> {
    let mut errors = Vec::new();
    files.sort();
    let req_path = dir.join("requirements.toml");
    let Some(at) = files.iter().position(|(p, _)| *p == req_path) else {
        return Err(CatalogError::Io(format!(
            "{}: no such file",
            req_path.display()
        )));
    };
    let (_, req_text) = files.remove(at);
    let (requirements, ambiguities) = parse_requirements(&req_path, &req_text, &mut errors);
    let mut cases = Vec::new();
    let client_dir = crate::case::client_scenario::dir_of(dir);
    for (path, text) in files {
        // cases/client/ holds client scenarios, a language of their own (case/client_scenario.rs).
        if path.starts_with(&client_dir) {
            continue;
        }
        match parse_case(&text, &path) {
            Ok(case) => cases.push(case),
            Err(e) => errors.push(e),
        }
    }
    let mut seen = BTreeSet::new();
    for case in &cases {
        if !seen.insert(case.id.clone()) {
            errors.push(format!(
                "{}: id {:?} is used by another case",
                case.path.display(),
                case.id
            ));
        }
        validate_case(case, &requirements, &mut errors);
        validate_readings(case, &ambiguities, &mut errors);
    }
    if !errors.is_empty() {
        return Err(CatalogError::Invalid(errors));
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Catalog {
        dir: dir.to_path_buf(),
        cases,
        requirements,
        ambiguities,
    })
}

/// A step's `reading` names a known ambiguity, and one only: the accepted outcomes of a step
/// are the readings of a single question.
fn validate_readings(
    case: &Case,
    ambiguities: &BTreeMap<String, Ambiguity>,
    errors: &mut Vec<String>,
) {
    for (i, step) in case.steps.iter().enumerate() {
        let named: BTreeSet<&str> = step
            .expectations()
            .filter_map(|e| e.reading.as_deref())
            .collect();
        let at = format!(
            "{}: step[{i}] ({}): expect.reading",
            case.path.display(),
            step.action.name()
        );
        if named.len() > 1 {
            errors.push(format!(
                "{at}: one ambiguity per step, found {}",
                named.into_iter().collect::<Vec<_>>().join(", ")
            ));
            continue;
        }
        for a in named {
            if !ambiguities.contains_key(a) {
                errors.push(format!(
                    "{at}: {a} is not an [[ambiguity]] of requirements.toml"
                ));
            }
        }
    }
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().and_then(|e| e.to_str()) == Some("toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses one case file (no catalogue-wide validation).
pub fn parse_case_file(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_case(&text, path)
}

pub fn parse_case(text: &str, path: &Path) -> Result<Case, String> {
    let mut case: Case = toml::from_str(text).map_err(|e| {
        // serde names the field but not which step it is in; the steps are read one by one
        // again to say so, each refusal with its line and index.
        let problems = step_errors(text);
        let problems = if problems.is_empty() {
            vec![crate::profile::toml_error(text, &e)]
        } else {
            problems
        };
        let file = path.display();
        problems
            .iter()
            .map(|p| format!("{file}: {p}"))
            .collect::<Vec<_>>()
            .join("\n  ")
    })?;
    case.path = path.to_path_buf();
    Ok(case)
}

/// Every step of a case file that is not a valid step: "line N: step[i] (kind): problem".
fn step_errors(text: &str) -> Vec<String> {
    let Ok(mut doc) = toml::from_str::<toml::Table>(text) else {
        return Vec::new();
    };
    let Some(toml::Value::Array(steps)) = doc.remove("step") else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    // Case files write steps as `[[step]]` tables: the i-th header is the i-th step, and its
    // lines run to the next header.
    let headers: Vec<usize> = (0..lines.len())
        .filter(|&n| lines[n].trim() == "[[step]]")
        .collect();
    let mut out = Vec::new();
    for (i, step) in steps.into_iter().enumerate() {
        let problem = match step {
            toml::Value::Table(t) => match Step::try_from(t) {
                Ok(_) => continue,
                Err(e) => format!("step[{i}] ({}): {}", e.kind, e.problem),
            },
            other => format!("step[{i}]: {other} is not a table"),
        };
        let line = headers.get(i).map(|&start| {
            let end = headers.get(i + 1).copied().unwrap_or(lines.len());
            field_line(&lines, start, end, &problem).unwrap_or(start) + 1
        });
        match line {
            Some(n) => out.push(format!("line {n}: {problem}")),
            None => out.push(problem),
        }
    }
    out
}

/// The line (0-based) among `lines[start..end]` whose key the problem names: serde quotes the
/// field first (`unknown field `statuss`, expected one of ...`), a vocabulary names it after
/// "unknown" (`unknown pkce `S512` (known: ...)`).
fn field_line(lines: &[&str], start: usize, end: usize, problem: &str) -> Option<usize> {
    let first_quoted = problem.split('`').nth(1);
    let after_unknown = problem
        .split_once("unknown ")
        .and_then(|(_, rest)| rest.split_whitespace().next());
    let named: Vec<&str> = first_quoted.into_iter().chain(after_unknown).collect();
    (start..end.min(lines.len())).find(|&n| {
        lines[n]
            .split_once('=')
            .is_some_and(|(key, _)| named.contains(&key.trim()))
    })
}

pub(super) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

const REVISIONS: &[&str] = &["00", "01", "02"];
/// Checks one case against the language; pushes "file: field: problem" lines.
pub fn validate_case(case: &Case, reqs: &BTreeMap<String, Requirement>, errors: &mut Vec<String>) {
    let file = case.path.display().to_string();
    let mut err = |field: &str, msg: String| errors.push(format!("{file}: {field}: {msg}"));
    if !valid_id(&case.id) {
        err("id", format!("{:?} is not [A-Z0-9-]+", case.id));
    }
    if let Some(stem) = case.path.file_stem().and_then(|s| s.to_str()) {
        if stem != case.id.to_lowercase() {
            err(
                "id",
                format!(
                    "{:?} does not match the file name (expected {}.toml)",
                    case.id,
                    case.id.to_lowercase()
                ),
            );
        }
    }
    if case.title.trim().is_empty() {
        err("title", "is empty".into());
    }
    if case.requirements.is_empty() {
        err(
            "requirements",
            "at least one requirement ID is needed".into(),
        );
    }
    for r in &case.requirements {
        if !reqs.contains_key(r) {
            err("requirements", format!("{r} is not in requirements.toml"));
        }
    }
    for s in &case.scenarios {
        if !s.starts_with("ADV-")
            || s[4..].is_empty()
            || !s[4..].chars().all(|c| c.is_ascii_digit())
        {
            err("scenarios", format!("{s:?} is not an ADV-<n> ID"));
        }
    }
    for r in case.revisions.iter().flatten() {
        if !REVISIONS.contains(&r.as_str()) {
            err("revisions", format!("{r:?} is not one of 00, 01, 02"));
        }
    }
    for n in &case.needs {
        if !capability::is_known(n) {
            err(
                "needs",
                format!(
                    "unknown capability {n:?} (known: {})",
                    capability::ALL.join(", ")
                ),
            );
        }
    }
    if case.steps.is_empty() {
        err("step", "a case needs at least one step".into());
    }
    for (i, step) in case.steps.iter().enumerate() {
        let label = format!("step[{i}] ({})", step.action.name());
        for problem in validate_step(step, i, &case.steps) {
            err(&label, problem);
        }
        for e in step.expectations() {
            for r in e.requirements.iter().flatten() {
                if !reqs.contains_key(r) {
                    err(
                        &format!("{label}: expect.requirements"),
                        format!("{r} is not in requirements.toml"),
                    );
                }
            }
        }
    }
}
