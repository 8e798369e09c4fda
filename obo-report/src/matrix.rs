//! Interop matrix: implementations x cases, one column per target and draft revision, for spec
//! authors comparing implementations (`obo-conformance matrix A.json B.json -o matrix.html`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use minijinja::Environment;
use serde::Serialize;

use crate::markdown::inline;
use crate::model::{Report, Summary, Verdict};
use crate::{verdict_name, ReportError};

const TEMPLATE: &str = include_str!("../templates/matrix.html");

#[derive(Debug, Serialize)]
struct Column {
    label: String,
    issuer: String,
    suite_version: String,
    summary: Summary,
}

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    title: String,
    requirements: Vec<String>,
    /// One per column; None when that run did not contain the case.
    cells: Vec<Option<Cell>>,
    /// Applicable results disagree (some pass, some fail or warn): worth a look by spec authors.
    divergent: bool,
}

#[derive(Debug, Serialize)]
struct Cell {
    verdict: &'static str,
    message: String,
}

#[derive(Debug, Serialize)]
struct Matrix {
    columns: Vec<Column>,
    rows: Vec<Row>,
    divergent: usize,
}

/// One label per report: "name -revision", told apart by the profile digest, then by position
/// when the same target and revision appear twice.
pub fn column_labels(reports: &[Report]) -> Vec<String> {
    let mut labels: Vec<String> = reports
        .iter()
        .map(|r| format!("{} -{}", r.target.name, r.target.revision))
        .collect();
    // The same target and revision twice (another build, another fault) still needs two
    // columns a reader can tell apart: first by the profile digest, then by position.
    disambiguate(&mut labels, |i, label| {
        let digest = &reports[i].target.profile_digest;
        let short = digest.get(..8).unwrap_or(digest);
        if !short.is_empty() {
            label.push_str(&format!(" @{short}"));
        }
    });
    let mut nth = 0;
    disambiguate(&mut labels, |_, label| {
        nth += 1;
        label.push_str(&format!(" ({nth})"));
    });
    labels
}

fn build(reports: &[Report]) -> Matrix {
    let labels = column_labels(reports);
    let columns = reports
        .iter()
        .zip(labels)
        .map(|(r, label)| Column {
            label,
            issuer: r.target.issuer.clone(),
            suite_version: r.suite_version.clone(),
            summary: Summary::of(&r.cases),
        })
        .collect();
    let ids: BTreeSet<&str> = reports
        .iter()
        .flat_map(|r| r.cases.iter().map(|c| c.id.as_str()))
        .collect();
    let rows: Vec<Row> = ids.into_iter().map(|id| row(reports, id)).collect();
    Matrix {
        columns,
        divergent: rows.iter().filter(|r| r.divergent).count(),
        rows,
    }
}

/// Applies `extend` to every label that occurs more than once.
fn disambiguate(labels: &mut [String], mut extend: impl FnMut(usize, &mut String)) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for l in labels.iter() {
        *counts.entry(l.clone()).or_insert(0) += 1;
    }
    for (i, label) in labels.iter_mut().enumerate() {
        if counts.get(label.as_str()).copied().unwrap_or(0) > 1 {
            extend(i, label);
        }
    }
}

fn row(reports: &[Report], id: &str) -> Row {
    let found: Vec<_> = reports
        .iter()
        .map(|r| r.cases.iter().find(|c| c.id == id))
        .collect();
    let first = found.iter().flatten().next();
    let verdicts: BTreeSet<Verdict> = found
        .iter()
        .flatten()
        .map(|c| c.verdict)
        .filter(|v| matches!(v, Verdict::Pass | Verdict::Fail | Verdict::Warn))
        .collect();
    Row {
        id: id.to_string(),
        title: first.map(|c| c.title.clone()).unwrap_or_default(),
        requirements: first.map(|c| c.requirements.clone()).unwrap_or_default(),
        cells: found
            .iter()
            .map(|c| {
                c.map(|c| Cell {
                    verdict: verdict_name(c.verdict),
                    message: c.message.clone(),
                })
            })
            .collect(),
        divergent: verdicts.len() > 1,
    }
}

/// Self-contained HTML matrix (inline CSS and JS), cells coloured by verdict.
pub fn render_html(reports: &[Report]) -> Result<String, ReportError> {
    let mut env = Environment::new();
    let err = |source| ReportError::Template {
        what: "matrix.html",
        source,
    };
    env.add_template("matrix.html", TEMPLATE).map_err(err)?;
    let template = env.get_template("matrix.html").map_err(err)?;
    template
        .render(minijinja::context! { m => build(reports), style => crate::html::STYLE })
        .map_err(err)
}

/// Markdown matrix: one row per case, one column per run, a verdict word per cell.
pub fn render_md(reports: &[Report]) -> String {
    let m = build(reports);
    let mut md = String::from("## obo-conformance interop matrix\n\n");
    let _ = writeln!(
        md,
        "{} runs, {} cases, {} where applicable results disagree (⚡).\n",
        m.columns.len(),
        m.rows.len(),
        m.divergent
    );
    md.push_str("| case |");
    for c in &m.columns {
        let _ = write!(md, " {} |", inline(&c.label));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(m.columns.len()));
    md.push('\n');
    md.push_str("| **passed / failed / warned / skipped / errors** |");
    for c in &m.columns {
        let s = &c.summary;
        let _ = write!(
            md,
            " {} / {} / {} / {} / {} |",
            s.passed, s.failed, s.warned, s.skipped, s.errors
        );
    }
    md.push('\n');
    for row in &m.rows {
        let _ = write!(
            md,
            "| {}{} |",
            if row.divergent { "⚡ " } else { "" },
            inline(&row.id)
        );
        for cell in &row.cells {
            let text = cell.as_ref().map_or("—", |c| symbol(c.verdict));
            let _ = write!(md, " {text} |");
        }
        md.push('\n');
    }
    md
}

fn symbol(verdict: &str) -> &'static str {
    match verdict {
        "pass" => "✅ pass",
        "fail" => "❌ fail",
        "warn" => "⚠️ warn",
        "skip" => "➖ skip",
        _ => "💥 error",
    }
}
