//! The requirement catalogue (cases/requirements.toml): requirements with their level and
//! section per revision, the ambiguities of the draft a step's outcomes may be readings of,
//! and the level lint between cases and the requirements they cite.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::catalog::{valid_id, Catalog};
use super::CaseLevel;

/// One entry of cases/requirements.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: String,
    pub section: String,
    pub level: String,
    #[serde(default)]
    pub binds: Vec<String>,
    pub text: String,
    #[serde(default)]
    pub reading: Option<String>,
    #[serde(default)]
    pub revisions: Option<Vec<String>>,
    #[serde(default)]
    pub untestable: Option<String>,
    /// Section numbers of other revisions where they differ from `section` (`{ "00" = "7" }`):
    /// -00 numbered its sections differently, and a -00 run cites the -00 text.
    #[serde(default)]
    pub sections: BTreeMap<String, String>,
}

impl Requirement {
    /// The section to cite for a run against `revision`.
    pub fn section_for(&self, revision: &str) -> &str {
        self.sections
            .get(revision)
            .map_or(self.section.as_str(), String::as_str)
    }
}

/// One `[[ambiguity]]` of cases/requirements.toml: a question the draft leaves open (digest
/// section 7) and the reading the suite recommends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ambiguity {
    pub id: String,
    pub question: String,
    pub recommended: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementsFile {
    #[serde(default)]
    requirement: Vec<Requirement>,
    #[serde(default)]
    ambiguity: Vec<Ambiguity>,
}

pub(super) type Catalogues = (BTreeMap<String, Requirement>, BTreeMap<String, Ambiguity>);

pub(super) fn parse_requirements(path: &Path, text: &str, errors: &mut Vec<String>) -> Catalogues {
    let file: RequirementsFile = match toml::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            errors.push(format!(
                "{}: {}",
                path.display(),
                crate::profile::toml_error(text, &e)
            ));
            return (BTreeMap::new(), BTreeMap::new());
        }
    };
    let mut map = BTreeMap::new();
    for r in file.requirement {
        if !valid_id(&r.id) {
            errors.push(format!(
                "{}: requirement id {:?} is not [A-Z0-9-]+",
                path.display(),
                r.id
            ));
        }
        for rev in r.sections.keys() {
            if !["00", "01", "02"].contains(&rev.as_str()) {
                errors.push(format!(
                    "{}: requirement {}: sections.{rev} is not one of 00, 01, 02",
                    path.display(),
                    r.id
                ));
            }
        }
        if map.insert(r.id.clone(), r.clone()).is_some() {
            errors.push(format!(
                "{}: requirement {} is listed twice",
                path.display(),
                r.id
            ));
        }
    }
    let mut ambiguities = BTreeMap::new();
    for a in file.ambiguity {
        let well_formed =
            a.id.strip_prefix("AMB-")
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if !well_formed {
            errors.push(format!(
                "{}: ambiguity id {:?} is not AMB-<n>",
                path.display(),
                a.id
            ));
        }
        if ambiguities.insert(a.id.clone(), a.clone()).is_some() {
            errors.push(format!(
                "{}: ambiguity {} is listed twice",
                path.display(),
                a.id
            ));
        }
    }
    (map, ambiguities)
}

/// Strength of a requirement or case level: MUST 3, SHOULD 2, MAY 1, anything else
/// (DESCRIPTIVE) 0.
fn strength(level: &str) -> u8 {
    match level {
        "MUST" => 3,
        "SHOULD" => 2,
        "MAY" => 1,
        _ => 0,
    }
}

fn case_level_name(l: CaseLevel) -> &'static str {
    match l {
        CaseLevel::Must => "MUST",
        CaseLevel::Should => "SHOULD",
        CaseLevel::May => "MAY",
    }
}

/// The catalogue lint: no check counts at a level stronger than the strongest requirement it
/// cites (a MUST check citing only a MAY is severity inflation). Checks cite their expectation's
/// `requirements`, else the case's, at the expectation's `level`, else the case's. The
/// cache-header checks cite their own requirement and are not linted here.
pub fn level_lint(catalog: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    for case in &catalog.cases {
        let mut tables: Vec<(String, Option<CaseLevel>, &[String])> =
            vec![("level".into(), None, &case.requirements)];
        for (i, step) in case.steps.iter().enumerate() {
            for e in step.expectations() {
                if e.level.is_some() || e.requirements.is_some() {
                    let reqs = e.requirements.as_deref().unwrap_or(&case.requirements);
                    tables.push((format!("step[{i}].expect"), e.level, reqs));
                }
            }
        }
        for (field, level, reqs) in tables {
            let level = case_level_name(level.unwrap_or(case.level));
            let strongest = reqs
                .iter()
                .filter_map(|r| catalog.requirements.get(r))
                .map(|r| r.level.as_str())
                .max_by_key(|l| strength(l))
                .unwrap_or("none");
            if strength(level) > strength(strongest) {
                out.push(format!(
                    "{}: {field}: {level} exceeds the strongest cited requirement level ({strongest}: {})",
                    case.path.display(),
                    reqs.join(", ")
                ));
            }
        }
    }
    out
}
