//! Requirement × case coverage of the catalogue (`obo-conformance coverage`).
//!
//! API: [`compute`] turns a loaded [`Catalog`] into a [`Coverage`]; [`render_text`] is the
//! terminal matrix, [`render_markdown`] and [`render_json`] the files `coverage.md` and
//! `coverage.json` ([`write`] writes both). [`Coverage::gaps`] lists the MUST requirements that
//! have neither a case nor an `untestable` reason: the command exits non-zero when it is not
//! empty, so nothing the draft mandates is silently left untested.
//!
//! Everything comes from the catalogue as the harness loads it (`catalog::load`): the
//! requirement entries of cases/requirements.toml and the `requirements` / `scenarios` /
//! `revisions` of each case. No case file is parsed here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::{Catalog, Requirement};

/// The digest defines the adversarial scenarios ADV-1 to ADV-52.
pub const SCENARIO_COUNT: u32 = 52;

/// Scenarios no case can observe from outside, with the reason (shown instead of "uncovered").
const SCENARIOS_NOT_OBSERVABLE: &[(&str, &str)] = &[(
    "ADV-51",
    "mix-up is a client-side defence (OBO-INH-12); the suite drives a single authorization server",
)];

/// Requirement families in the digest's order (section 3.1 to 3.8).
const FAMILIES: &[(&str, &str)] = &[
    ("OBO-AUTHZ", "Authorization request (draft 4.1)"),
    ("OBO-CODE", "Authorization response (draft 4.1.3)"),
    ("OBO-TOKEN", "Token request (draft 4.2)"),
    ("OBO-TOKRESP", "Token response (draft 4.2.3)"),
    ("OBO-AT", "Access token contents (draft 4.3)"),
    ("OBO-RS", "Resource server (draft 4.4)"),
    ("OBO-SEC", "Security considerations (draft 5)"),
    ("OBO-INH", "Inherited from the RFCs"),
    ("OBO-CLIENT", "Client and agent (client conformance mode)"),
];

const REVISIONS: &[&str] = &["00", "01", "02"];

/// How a requirement is accounted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// At least one case cites it.
    Covered,
    /// No case, but requirements.toml says why no outside observer can test it.
    Untestable,
    /// Neither: a gap (fatal for MUST).
    Uncovered,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Covered => "covered",
            Status::Untestable => "untestable",
            Status::Uncovered => "UNCOVERED",
        }
    }
}

/// One row of the matrix: a requirement and the cases that cite it.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementRow {
    pub id: String,
    pub section: String,
    pub level: String,
    pub binds: Vec<String>,
    pub text: String,
    pub revisions: Vec<String>,
    pub status: Status,
    /// Case IDs citing the requirement, sorted.
    pub cases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untestable: Option<String>,
    /// Revisions the requirement exists in where no citing case applies (informational).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revisions_without_case: Vec<String>,
}

/// Counts for one level (MUST, SHOULD, MAY, DESCRIPTIVE).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LevelCount {
    pub total: usize,
    pub covered: usize,
    pub untestable: usize,
    pub uncovered: usize,
}

/// One adversarial scenario of the digest and the cases that exercise it.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRow {
    pub id: String,
    pub cases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_observable: Option<String>,
}

/// The whole coverage picture of one catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub case_count: usize,
    pub requirement_count: usize,
    /// Level → counts, in the order MUST, SHOULD, MAY, DESCRIPTIVE (others after).
    pub levels: BTreeMap<String, LevelCount>,
    pub requirements: Vec<RequirementRow>,
    pub scenarios: Vec<ScenarioRow>,
    /// MUST requirements with neither a case nor an untestable reason.
    pub gaps: Vec<String>,
    /// Requirements marked untestable that a case nevertheless cites (worth a second look).
    pub untestable_but_cited: Vec<String>,
}

impl Coverage {
    /// The MUST requirements left without a case or a reason; empty means the gate passes.
    pub fn gaps(&self) -> &[String] {
        &self.gaps
    }

    /// Counts for `level` (all zero when the catalogue has none).
    pub fn level(&self, level: &str) -> LevelCount {
        self.levels.get(level).cloned().unwrap_or_default()
    }
}

/// Builds the matrix from the loaded catalogue.
pub fn compute(catalog: &Catalog) -> Coverage {
    let mut citing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut scenario_cases: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Client scenarios (cases/client/, `obo-conformance client`) cover client-side requirements.
    let client = crate::client::scenario::citations(&catalog.dir);
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

fn family_of(id: &str) -> &str {
    id.rsplit_once('-').map_or(id, |(p, _)| p)
}

fn level_order(levels: &BTreeMap<String, LevelCount>) -> Vec<(&String, &LevelCount)> {
    const ORDER: &[&str] = &["MUST", "SHOULD", "MAY", "DESCRIPTIVE"];
    let mut v: Vec<_> = levels.iter().collect();
    v.sort_by_key(|(l, _)| {
        (
            ORDER.iter().position(|o| o == l).unwrap_or(ORDER.len()),
            l.to_string(),
        )
    });
    v
}

/// The terminal matrix: one line per requirement with its status and citing cases, then the
/// level summary and the gaps.
pub fn render_text(cov: &Coverage) -> String {
    let mut out = String::new();
    let width = cov
        .requirements
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(0);
    let mut family = "";
    for r in &cov.requirements {
        let f = family_of(&r.id);
        if f != family {
            family = f;
            let _ = writeln!(out, "\n{}", family_title(f));
        }
        let detail = match r.status {
            Status::Covered => r.cases.join(" "),
            Status::Untestable => format!(
                "({})",
                first_sentence(r.untestable.as_deref().unwrap_or_default())
            ),
            Status::Uncovered => "-".to_string(),
        };
        let _ = writeln!(
            out,
            "  {:width$}  {:11}  {:10}  {:3}  {}",
            r.id,
            r.level,
            r.status.label(),
            r.cases.len(),
            detail,
            width = width
        );
    }
    let _ = writeln!(
        out,
        "\n{} cases, {} requirements",
        cov.case_count, cov.requirement_count
    );
    for (level, c) in level_order(&cov.levels) {
        let _ = writeln!(
            out,
            "  {level:11}  {:3} total  {:3} covered  {:3} untestable  {:3} uncovered",
            c.total, c.covered, c.untestable, c.uncovered
        );
    }
    let observed = cov.scenarios.iter().filter(|s| !s.cases.is_empty()).count();
    let _ = writeln!(
        out,
        "  scenarios    {observed} of {} ADV scenarios exercised",
        cov.scenarios.len()
    );
    if cov.gaps.is_empty() {
        let _ = writeln!(
            out,
            "every MUST is covered by a case or justified as untestable"
        );
    } else {
        let _ = writeln!(
            out,
            "MUST requirements with neither a case nor a reason: {}",
            cov.gaps.join(", ")
        );
    }
    out
}

/// The reason's first sentence keeps the terminal matrix one line per requirement.
fn first_sentence(s: &str) -> &str {
    s.split_once(". ").map_or(s, |(first, _)| first)
}

fn family_title(prefix: &str) -> String {
    match FAMILIES.iter().find(|(f, _)| *f == prefix) {
        Some((f, title)) => format!("{f}-*  {title}"),
        None => format!("{prefix}-*"),
    }
}

/// `coverage.md`: summary, gaps, one table per requirement family, scenarios.
pub fn render_markdown(cov: &Coverage) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Coverage of the requirement catalogue\n");
    let _ = writeln!(
        out,
        "{} cases cite {} requirements of draft-oauth-ai-agents-on-behalf-of-user (-00..-02). \
         Generated by `obo-conformance coverage` from cases/.\n",
        cov.case_count, cov.requirement_count
    );
    let _ = writeln!(
        out,
        "| Level | Total | Covered | Untestable (with reason) | Uncovered |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for (level, c) in level_order(&cov.levels) {
        let _ = writeln!(
            out,
            "| {level} | {} | {} | {} | {} |",
            c.total, c.covered, c.untestable, c.uncovered
        );
    }
    let _ = writeln!(out);
    if cov.gaps.is_empty() {
        let _ = writeln!(
            out,
            "Every MUST requirement is covered by a case or justified as untestable.\n"
        );
    } else {
        let _ = writeln!(
            out,
            "**MUST requirements with neither a case nor a reason:** {}\n",
            cov.gaps.join(", ")
        );
    }
    let others: Vec<&RequirementRow> = cov
        .requirements
        .iter()
        .filter(|r| r.status == Status::Uncovered && r.level != "MUST")
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "Not yet covered (not MUST):");
        for r in others {
            let _ = writeln!(out, "- {} ({}): {}", r.id, r.level, md(&r.text));
        }
        let _ = writeln!(out);
    }

    let revision_gaps: Vec<String> = cov
        .requirements
        .iter()
        .filter(|r| !r.revisions_without_case.is_empty())
        .map(|r| format!("{} (-{})", r.id, r.revisions_without_case.join(", -")))
        .collect();
    if !revision_gaps.is_empty() {
        let _ = writeln!(
            out,
            "Covered, but by no case that applies to these revisions: {}\n",
            revision_gaps.join("; ")
        );
    }

    let mut family = "";
    for r in &cov.requirements {
        let f = family_of(&r.id);
        if f != family {
            family = f;
            let _ = writeln!(out, "\n## {}\n", family_title(f));
            let _ = writeln!(
                out,
                "| Requirement | Level | Binds | Revisions | Status | Cases |"
            );
            let _ = writeln!(out, "|---|---|---|---|---|---|");
        }
        let cases = match r.status {
            Status::Covered => r
                .cases
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            Status::Untestable => format!(
                "untestable: {}",
                md(r.untestable.as_deref().unwrap_or_default())
            ),
            Status::Uncovered => "—".to_string(),
        };
        let _ = writeln!(
            out,
            "| **{}** ({}) {} | {} | {} | {} | {} | {} |",
            r.id,
            md(&r.section),
            md(&r.text),
            r.level,
            r.binds.join(", "),
            r.revisions.join(", "),
            r.status.label(),
            cases
        );
    }

    let _ = writeln!(out, "\n## Adversarial scenarios (digest section 5)\n");
    let _ = writeln!(out, "| Scenario | Cases |");
    let _ = writeln!(out, "|---|---|");
    for s in &cov.scenarios {
        let cases = if !s.cases.is_empty() {
            s.cases
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        } else if let Some(why) = &s.not_observable {
            format!("not observable: {}", md(why))
        } else {
            "—".to_string()
        };
        let _ = writeln!(out, "| {} | {} |", s.id, cases);
    }
    out
}

/// Escapes the characters that would break a Markdown table cell.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `obo-conformance coverage [--out DIR]`: prints the matrix, writes `coverage.md` and
/// `coverage.json` into `out_dir`, and returns the exit code: 0 when every MUST has a case or
/// a reason, 1 when one has neither, 2 when the files cannot be written.
pub fn command(catalog: &Catalog, out_dir: &Path) -> i32 {
    let cov = compute(catalog);
    // A closed pipe (`coverage | head`) only cuts the listing short; the files are still
    // written and the exit code still reports the gate.
    let _ = std::io::stdout().write_all(render_text(&cov).as_bytes());
    match write(&cov, out_dir) {
        Ok((md, json)) => {
            let _ = writeln!(
                std::io::stdout(),
                "wrote {} and {}",
                md.display(),
                json.display()
            );
        }
        Err(e) => {
            eprintln!(
                "error: cannot write the coverage files to {}: {e}",
                out_dir.display()
            );
            return 2;
        }
    }
    if cov.gaps().is_empty() {
        0
    } else {
        1
    }
}

/// `coverage.json`: the [`Coverage`] value as pretty JSON.
pub fn render_json(cov: &Coverage) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(cov)
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
mod tests {
    use super::*;
    use crate::catalog;

    fn real_catalog() -> Catalog {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
        match catalog::load(&dir) {
            Ok(c) => c,
            Err(e) => panic!("the shipped catalogue must load: {e}"),
        }
    }

    /// The gate of issue 4 on the real catalogue: every MUST has a case or a reason, every
    /// requirement of the digest is listed, and the outputs name every requirement.
    #[test]
    fn shipped_catalogue_covers_every_must() {
        let cat = real_catalog();
        let cov = compute(&cat);
        assert!(cov.gaps().is_empty(), "MUST gaps: {:?}", cov.gaps());
        let must = cov.level("MUST");
        assert!(
            must.total >= 40,
            "digest has 46 keyworded MUSTs plus inherited ones: {must:?}"
        );
        assert_eq!(must.uncovered, 0);
        assert_eq!(must.total, must.covered + must.untestable);
        for family in [
            "OBO-AUTHZ",
            "OBO-CODE",
            "OBO-TOKEN",
            "OBO-TOKRESP",
            "OBO-AT",
            "OBO-RS",
            "OBO-SEC",
            "OBO-INH",
        ] {
            assert!(
                cov.requirements.iter().any(|r| family_of(&r.id) == family),
                "no requirement of {family}"
            );
        }
        let md = render_markdown(&cov);
        let text = render_text(&cov);
        let client: Vec<String> = crate::client::scenario::citations(&cat.dir)
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        assert!(!client.is_empty(), "the client scenarios count as coverage");
        for r in &cov.requirements {
            assert!(
                md.contains(&format!("**{}**", r.id)),
                "{} missing from coverage.md",
                r.id
            );
            assert!(text.contains(&r.id), "{} missing from the matrix", r.id);
            if r.status == Status::Covered {
                assert!(r
                    .cases
                    .iter()
                    .all(|c| cat.case(c).is_some() || client.contains(c)));
            }
        }
        // The key adversarial scenarios named by issue 4 are all exercised.
        for adv in [
            "ADV-1", "ADV-2", "ADV-3", "ADV-10", "ADV-11", "ADV-16", "ADV-17", "ADV-19", "ADV-32",
            "ADV-38",
        ] {
            let row = cov.scenarios.iter().find(|s| s.id == adv);
            assert!(
                row.is_some_and(|s| !s.cases.is_empty()),
                "{adv} has no case"
            );
        }
    }

    #[test]
    fn json_carries_counts_and_cases() {
        let cov = compute(&real_catalog());
        let json = match render_json(&cov) {
            Ok(j) => j,
            Err(e) => panic!("serialise: {e}"),
        };
        let v: serde_json::Value = match serde_json::from_str(&json) {
            Ok(v) => v,
            Err(e) => panic!("parse back: {e}"),
        };
        assert_eq!(
            v["requirement_count"],
            serde_json::json!(cov.requirement_count)
        );
        assert_eq!(v["levels"]["MUST"]["uncovered"], serde_json::json!(0));
        let row = v["requirements"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["id"] == "OBO-TOKEN-12"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(row["status"], "covered");
        assert!(row["cases"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x == "TOKEN-ACTOR-MISMATCH")));
    }

    /// A MUST without case or reason is a gap; a SHOULD without one is not; a reason counts.
    #[test]
    fn gaps_are_must_requirements_without_case_or_reason() {
        let mut cat = real_catalog();
        let req = |id: &str, level: &str, untestable: Option<&str>| catalog::Requirement {
            id: id.into(),
            section: "x".into(),
            level: level.into(),
            binds: vec!["AS".into()],
            text: "synthetic".into(),
            reading: None,
            revisions: None,
            untestable: untestable.map(String::from),
        };
        for r in [
            req("OBO-X-1", "MUST", None),
            req("OBO-X-2", "SHOULD", None),
            req("OBO-X-3", "MUST", Some("deployment-only")),
        ] {
            cat.requirements.insert(r.id.clone(), r);
        }
        let cov = compute(&cat);
        assert_eq!(cov.gaps(), ["OBO-X-1".to_string()]);
        let x3 = cov
            .requirements
            .iter()
            .find(|r| r.id == "OBO-X-3")
            .map(|r| r.status);
        assert_eq!(x3, Some(Status::Untestable));
        assert!(render_text(&cov).contains("OBO-X-1"));
        // Citing the MUST from a case closes the gap.
        if let Some(case) = cat.cases.first_mut() {
            case.requirements.push("OBO-X-1".into());
        }
        assert!(compute(&cat).gaps().is_empty());
    }

    #[test]
    fn ids_sort_in_digest_order() {
        let mut ids = vec![
            "OBO-INH-2",
            "OBO-AUTHZ-10",
            "OBO-AUTHZ-2",
            "OBO-TOKEN-1",
            "ADV-10",
            "ADV-9",
        ];
        ids.sort_by_key(|id| sort_key(id));
        assert_eq!(
            ids,
            [
                "OBO-AUTHZ-2",
                "OBO-AUTHZ-10",
                "OBO-TOKEN-1",
                "OBO-INH-2",
                "ADV-9",
                "ADV-10"
            ]
        );
    }
}
