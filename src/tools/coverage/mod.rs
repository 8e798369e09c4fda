//! Requirement × case coverage of the catalogue (`obo-conformance coverage`).
//!
//! API: [`compute`] turns a loaded [`Catalog`] into a [`Coverage`] (the model and its renderings
//! live in `obo_report::coverage`: [`render_text`] is the terminal matrix, [`render_markdown`]
//! and [`render_json`] the files `coverage.md` and `coverage.json`; [`write`] writes both). [`Coverage::gaps`] lists the MUST requirements that
//! have neither a case nor an `untestable` reason: `obo-conformance coverage` exits non-zero when it is not
//! empty, so nothing the draft mandates is silently left untested.
//!
//! Everything comes from the catalogue as the harness loads it (`catalog::load`): the
//! requirement entries of cases/requirements.toml and the `requirements` / `scenarios` /
//! `revisions` of each case. No case file is parsed here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use obo_report::coverage::FAMILIES;
pub use obo_report::coverage::{
    render_json, render_markdown, render_text, Coverage, LevelCount, RequirementRow, ScenarioRow,
    Status,
};

use crate::catalog::{Catalog, Requirement};

/// The digest defines the adversarial scenarios ADV-1 to ADV-52.
pub const SCENARIO_COUNT: u32 = 52;

/// Scenarios no case can observe from outside, with the reason (shown instead of "uncovered").
const SCENARIOS_NOT_OBSERVABLE: &[(&str, &str)] = &[(
    "ADV-51",
    "mix-up is a client-side defence (OBO-INH-12); the suite drives a single authorization server",
)];

const REVISIONS: &[&str] = &["00", "01", "02"];

/// Builds the matrix from the loaded catalogue.
pub fn compute(catalog: &Catalog) -> Coverage {
    let mut citing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut scenario_cases: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Client scenarios (cases/client/, `obo-conformance client`) cover client-side requirements.
    let client = crate::case::client_scenario::citations(&catalog.dir);
    for (id, reqs, advs) in &client {
        for r in reqs {
            citing.entry(r.clone()).or_default().insert(id.clone());
        }
        for s in advs {
            scenario_cases
                .entry(s.clone())
                .or_default()
                .insert(id.clone());
        }
    }
    for case in &catalog.cases {
        for r in &case.requirements {
            citing.entry(r.clone()).or_default().insert(case.id.clone());
        }
        for s in &case.scenarios {
            scenario_cases
                .entry(s.clone())
                .or_default()
                .insert(case.id.clone());
        }
    }

    let mut reqs: Vec<&Requirement> = catalog.requirements.values().collect();
    reqs.sort_by_key(|r| sort_key(&r.id));

    let mut rows = Vec::with_capacity(reqs.len());
    let mut levels: BTreeMap<String, LevelCount> = BTreeMap::new();
    let mut gaps = Vec::new();
    let mut untestable_but_cited = Vec::new();
    for r in reqs {
        let cases: Vec<String> = citing
            .get(r.id.as_str())
            .map(|s| s.iter().map(|c| c.to_string()).collect())
            .unwrap_or_default();
        let status = match (cases.is_empty(), &r.untestable) {
            (false, _) => Status::Covered,
            (true, Some(_)) => Status::Untestable,
            (true, None) => Status::Uncovered,
        };
        if !cases.is_empty() && r.untestable.is_some() {
            untestable_but_cited.push(r.id.clone());
        }
        // Only a MUST without case or reason is a gap; SHOULD/MAY gaps are shown, not fatal.
        if status == Status::Uncovered && r.level == "MUST" {
            gaps.push(r.id.clone());
        }
        let count = levels.entry(r.level.clone()).or_default();
        count.total += 1;
        match status {
            Status::Covered => count.covered += 1,
            Status::Untestable => count.untestable += 1,
            Status::Uncovered => count.uncovered += 1,
        }
        let revisions = r
            .revisions
            .clone()
            .unwrap_or_else(|| REVISIONS.iter().map(|s| s.to_string()).collect());
        let revisions_without_case = if cases.is_empty() {
            Vec::new()
        } else {
            revisions
                .iter()
                .filter(|rev| {
                    // Client scenarios run against the -02 reference server.
                    let by_client =
                        rev.as_str() == "02" && client.iter().any(|(id, _, _)| cases.contains(id));
                    let by_case = catalog
                        .cases
                        .iter()
                        .any(|c| cases.contains(&c.id) && c.applies_to(rev));
                    !(by_case || by_client)
                })
                .cloned()
                .collect()
        };
        rows.push(RequirementRow {
            id: r.id.clone(),
            section: r.section.clone(),
            level: r.level.clone(),
            binds: r.binds.clone(),
            text: r.text.clone(),
            revisions,
            status,
            cases,
            untestable: if status == Status::Untestable {
                r.untestable.clone()
            } else {
                None
            },
            revisions_without_case,
        });
    }

    let scenarios = scenario_rows(scenario_cases);
    Coverage {
        case_count: catalog.cases.len(),
        requirement_count: rows.len(),
        levels,
        requirements: rows,
        scenarios,
        gaps,
        untestable_but_cited,
    }
}

/// ADV-1..ADV-52 plus any other ADV ID a case cites.
fn scenario_rows(mut cited: BTreeMap<String, BTreeSet<String>>) -> Vec<ScenarioRow> {
    let mut ids: Vec<String> = (1..=SCENARIO_COUNT).map(|n| format!("ADV-{n}")).collect();
    for id in cited.keys() {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids.sort_by_key(|id| sort_key(id));
    ids.into_iter()
        .map(|id| {
            let cases: Vec<String> = cited
                .remove(&id)
                .map(|s| s.into_iter().collect())
                .unwrap_or_default();
            let not_observable = if cases.is_empty() {
                SCENARIOS_NOT_OBSERVABLE
                    .iter()
                    .find(|(s, _)| *s == id)
                    .map(|(_, why)| why.to_string())
            } else {
                None
            };
            ScenarioRow {
                id,
                cases,
                not_observable,
            }
        })
        .collect()
}

/// Digest order: family position, then the number (OBO-AUTHZ-2 before OBO-AUTHZ-10).
fn sort_key(id: &str) -> (usize, String, u64) {
    let (prefix, num) = match id.rsplit_once('-') {
        Some((p, n)) => (p, n.parse::<u64>().unwrap_or(u64::MAX)),
        None => (id, u64::MAX),
    };
    let family = FAMILIES
        .iter()
        .position(|(f, _)| *f == prefix)
        .unwrap_or(FAMILIES.len());
    (family, prefix.to_string(), num)
}

/// Writes `coverage.md` and `coverage.json` into `dir` (created if needed); returns both paths.
pub fn write(cov: &Coverage, dir: &Path) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let md_path = dir.join("coverage.md");
    let json_path = dir.join("coverage.json");
    std::fs::write(&md_path, render_markdown(cov))?;
    let json = render_json(cov).map_err(std::io::Error::other)?;
    std::fs::write(&json_path, json + "\n")?;
    Ok((md_path, json_path))
}
#[cfg(test)]
mod tests;
