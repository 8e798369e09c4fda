//! The requirement × case coverage of a catalogue (`obo-conformance coverage`): the model the
//! harness computes from its catalogue, and its renderings (terminal text, coverage.md,
//! coverage.json).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// Requirement families in the digest's order (section 3.1 to 3.8).
pub const FAMILIES: &[(&str, &str)] = &[
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
    pub fn label(self) -> &'static str {
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

/// The family prefix of a requirement ID (`OBO-AUTHZ` of `OBO-AUTHZ-3`).
pub fn family_of(id: &str) -> &str {
    id.rsplit_once('-').map_or(id, |(p, _)| p)
}

/// The levels in the order MUST, SHOULD, MAY, DESCRIPTIVE, others after.
pub fn level_order(levels: &BTreeMap<String, LevelCount>) -> Vec<(&String, &LevelCount)> {
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

/// `coverage.json`: the [`Coverage`] value as pretty JSON.
pub fn render_json(cov: &Coverage) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(cov)
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
