//! What changed between two runs (`obo-conformance diff A.json B.json`), regressions first.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::markdown::inline;
use crate::model::{CaseResult, Report, Verdict};
use crate::verdict_name;

/// One case present in both runs whose verdict or message changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub id: String,
    pub title: String,
    pub before: Verdict,
    pub after: Verdict,
    /// The later run's message (the earlier one's when the case was removed).
    pub message: String,
}

/// A case in only one of the runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Presence {
    pub id: String,
    pub title: String,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diff {
    /// Worse than before: into fail; pass/skip into warn; anything into error.
    pub regressions: Vec<Change>,
    /// Better than before: fail/warn/error into pass; fail into warn.
    pub improvements: Vec<Change>,
    /// Neither: into or out of skip, error into fail is a regression, ...; and same verdict
    /// with another message (a case failing for a new reason).
    pub other: Vec<Change>,
    pub added: Vec<Presence>,
    pub removed: Vec<Presence>,
    /// Facts that make the comparison less meaningful (other target, revision, seed, strictness).
    pub notes: Vec<String>,
}

enum Kind {
    Regression,
    Improvement,
    Other,
}

fn classify(before: Verdict, after: Verdict) -> Kind {
    use Verdict::*;
    match (before, after) {
        (b, a) if b == a => Kind::Other,
        (_, Fail) | (_, Error) | (Pass | Skip, Warn) => Kind::Regression,
        (Fail | Warn | Error, Pass) | (Fail, Warn) => Kind::Improvement,
        _ => Kind::Other,
    }
}

/// Compares run `a` (before) with run `b` (after).
pub fn diff(a: &Report, b: &Report) -> Diff {
    let before: BTreeMap<&str, &CaseResult> = a.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let after: BTreeMap<&str, &CaseResult> = b.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut d = Diff {
        notes: notes(a, b),
        ..Diff::default()
    };
    for (id, old) in &before {
        let Some(new) = after.get(id) else {
            d.removed.push(presence(old));
            continue;
        };
        if old.verdict == new.verdict && old.message == new.message {
            continue;
        }
        let change = Change {
            id: id.to_string(),
            title: new.title.clone(),
            before: old.verdict,
            after: new.verdict,
            message: new.message.clone(),
        };
        match classify(old.verdict, new.verdict) {
            Kind::Regression => d.regressions.push(change),
            Kind::Improvement => d.improvements.push(change),
            Kind::Other => d.other.push(change),
        }
    }
    d.added = after
        .iter()
        .filter(|(id, _)| !before.contains_key(*id))
        .map(|(_, c)| presence(c))
        .collect();
    d
}

fn presence(c: &CaseResult) -> Presence {
    Presence {
        id: c.id.clone(),
        title: c.title.clone(),
        verdict: c.verdict,
    }
}

fn notes(a: &Report, b: &Report) -> Vec<String> {
    let mut notes = Vec::new();
    let (ta, tb) = (&a.target, &b.target);
    // Not the issuer: the built-in reference server listens on a fresh port every run.
    if ta.name != tb.name {
        notes.push(format!(
            "different targets: {} ({}) vs {} ({})",
            ta.name, ta.issuer, tb.name, tb.issuer
        ));
    }
    if ta.revision != tb.revision {
        notes.push(format!(
            "different draft revisions: -{} vs -{}",
            ta.revision, tb.revision
        ));
    }
    if ta.profile_digest != tb.profile_digest && ta.name == tb.name {
        notes.push("the profile changed between the runs".to_string());
    }
    if a.strict != b.strict {
        notes.push(format!("strict mode differs: {} vs {}", a.strict, b.strict));
    }
    if a.suite_version != b.suite_version {
        notes.push(format!(
            "suite versions differ: {} vs {}",
            a.suite_version, b.suite_version
        ));
    }
    notes
}

impl Diff {
    pub fn has_regression(&self) -> bool {
        !self.regressions.is_empty()
    }

    /// 1 on a regression, else 0.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.has_regression())
    }

    pub fn is_empty(&self) -> bool {
        self.regressions.is_empty()
            && self.improvements.is_empty()
            && self.other.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
    }

    /// Plain text for a terminal.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        for (label, changes) in [
            ("REGRESSION", &self.regressions),
            ("improved", &self.improvements),
            ("changed", &self.other),
        ] {
            for c in changes {
                let _ = writeln!(
                    out,
                    "{label} {}: {} -> {}: {}",
                    c.id,
                    verdict_name(c.before),
                    verdict_name(c.after),
                    c.message
                );
            }
        }
        for p in &self.added {
            let _ = writeln!(out, "new {}: {}", p.id, verdict_name(p.verdict));
        }
        for p in &self.removed {
            let _ = writeln!(out, "removed {} (was {})", p.id, verdict_name(p.verdict));
        }
        let _ = writeln!(
            out,
            "{} regressions, {} improvements, {} other changes, {} new, {} removed",
            self.regressions.len(),
            self.improvements.len(),
            self.other.len(),
            self.added.len(),
            self.removed.len()
        );
        out
    }

    /// Markdown for a pull-request comment or step summary.
    pub fn render_md(&self) -> String {
        let mut md = String::from("## obo-conformance diff\n\n");
        for n in &self.notes {
            let _ = writeln!(md, "> note: {}", inline(n));
        }
        if !self.notes.is_empty() {
            md.push('\n');
        }
        if self.is_empty() {
            md.push_str("No change between the runs.\n");
            return md;
        }
        for (heading, changes) in [
            ("❌ Regressions", &self.regressions),
            ("✅ Improvements", &self.improvements),
            ("Other changes", &self.other),
        ] {
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(md, "### {heading}: {}\n", changes.len());
            md.push_str("| case | before | after | message |\n|---|---|---|---|\n");
            for c in changes {
                let _ = writeln!(
                    md,
                    "| **{}** | {} | {} | {} |",
                    inline(&c.id),
                    verdict_name(c.before),
                    verdict_name(c.after),
                    inline(&c.message)
                );
            }
            md.push('\n');
        }
        for (heading, list) in [("New cases", &self.added), ("Removed cases", &self.removed)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(md, "### {heading}: {}\n", list.len());
            for p in list {
                let _ = writeln!(
                    md,
                    "- **{}** ({}): {}",
                    inline(&p.id),
                    verdict_name(p.verdict),
                    inline(&p.title)
                );
            }
            md.push('\n');
        }
        md
    }
}
