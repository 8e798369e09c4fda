//! The ambiguity report for spec authors and interop events (`obo-conformance interop`): per
//! ambiguity of the draft (AMB-*), the question, the suite's recommended reading and the reading
//! each implementation chose, flagging where implementations disagree and where every one
//! deviates from the recommendation (a hint that the text is unclear); then the per-requirement
//! matrix, one column per target and revision. Built from report.json files alone.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::escape::xml_text;
use crate::matrix::column_labels;
use crate::model::{AmbiguityInfo, Report, Verdict};

/// What the implementations did at one annotated step of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReadings {
    pub case: String,
    pub alternatives: Vec<String>,
    /// One per report (column): the outcome and whether it is the recommended reading; `None`
    /// when that run has no reading there (case skipped or not run).
    pub chosen: Vec<Option<(String, bool)>>,
}

impl CaseReadings {
    fn observed(&self) -> impl Iterator<Item = &(String, bool)> {
        self.chosen.iter().flatten()
    }

    /// Two implementations chose different outcomes.
    pub fn disagree(&self) -> bool {
        let set: BTreeSet<&str> = self.observed().map(|(o, _)| o.as_str()).collect();
        set.len() > 1
    }

    /// Every implementation with a reading here deviates from the recommended one.
    pub fn all_deviate(&self) -> bool {
        self.observed().next().is_some() && self.observed().all(|(_, rec)| !rec)
    }
}

/// One ambiguity across the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmbiguityRow {
    pub id: String,
    pub info: Option<AmbiguityInfo>,
    pub cases: Vec<CaseReadings>,
}

impl AmbiguityRow {
    pub fn disagree(&self) -> bool {
        self.cases.iter().any(CaseReadings::disagree)
    }
    pub fn all_deviate(&self) -> bool {
        self.cases.iter().any(CaseReadings::all_deviate)
    }
}

/// The ambiguity report: columns (target name and revision) and one row per ambiguity any
/// report recorded a reading for, in ID order (AMB-2 before AMB-10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interop {
    pub columns: Vec<String>,
    pub ambiguities: Vec<AmbiguityRow>,
    /// Requirement ID -> worst verdict per column (`None`: no case of that run cites it).
    pub requirements: Vec<(String, Vec<Option<Verdict>>)>,
}

fn amb_number(id: &str) -> u32 {
    id.trim_start_matches("AMB-").parse().unwrap_or(u32::MAX)
}

/// Worst first: fail, error, warn, pass, skip.
fn severity(v: Verdict) -> u8 {
    match v {
        Verdict::Fail => 4,
        Verdict::Error => 3,
        Verdict::Warn => 2,
        Verdict::Pass => 1,
        Verdict::Skip => 0,
    }
}

pub fn build(reports: &[Report]) -> Interop {
    let columns = column_labels(reports);
    let mut infos: BTreeMap<String, AmbiguityInfo> = BTreeMap::new();
    // (AMB, case, step) -> alternatives, and per column the outcome chosen.
    type Key = (String, String, usize);
    let mut seen: BTreeMap<Key, CaseReadings> = BTreeMap::new();
    for (col, r) in reports.iter().enumerate() {
        infos.extend(r.ambiguities.clone());
        for c in &r.cases {
            for reading in &c.readings {
                let key = (reading.ambiguity.clone(), c.id.clone(), reading.step);
                let entry = seen.entry(key).or_insert_with(|| CaseReadings {
                    case: c.id.clone(),
                    alternatives: reading.alternatives.clone(),
                    chosen: vec![None; reports.len()],
                });
                if reading.alternatives.len() > entry.alternatives.len() {
                    // A --strict run lists only the recommended one.
                    entry.alternatives = reading.alternatives.clone();
                }
                entry.chosen[col] = Some((reading.outcome.clone(), reading.is_recommended()));
            }
        }
    }
    let mut rows: BTreeMap<String, AmbiguityRow> = BTreeMap::new();
    for ((amb, _, _), cr) in seen {
        rows.entry(amb.clone())
            .or_insert_with(|| AmbiguityRow {
                id: amb.clone(),
                info: infos.get(&amb).cloned(),
                cases: vec![],
            })
            .cases
            .push(cr);
    }
    let mut ambiguities: Vec<AmbiguityRow> = rows.into_values().collect();
    ambiguities.sort_by_key(|a| (amb_number(&a.id), a.id.clone()));

    let mut reqs: BTreeMap<String, Vec<Option<Verdict>>> = BTreeMap::new();
    for (col, r) in reports.iter().enumerate() {
        for c in &r.cases {
            for id in &c.requirements {
                let cells = reqs
                    .entry(id.clone())
                    .or_insert_with(|| vec![None; reports.len()]);
                let worse = cells[col].is_none_or(|v| severity(c.verdict) > severity(v));
                if worse {
                    cells[col] = Some(c.verdict);
                }
            }
        }
    }
    Interop {
        columns,
        ambiguities,
        requirements: reqs.into_iter().collect(),
    }
}

fn verdict_word(v: Option<Verdict>) -> &'static str {
    v.map_or("-", crate::verdict_name)
}

/// Markdown cells hold no pipes or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn flags(disagree: bool, deviate: bool) -> String {
    let mut f = Vec::new();
    if disagree {
        f.push("implementations disagree");
    }
    if deviate {
        f.push("every implementation deviates from the recommended reading");
    }
    f.join("; ")
}

/// Plain Markdown (tables and text only) a spec author can paste into a mailing-list post.
pub fn render_md(i: &Interop) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Ambiguity report\n");
    let _ = writeln!(
        out,
        "Implementations: {}.\n",
        i.columns
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let flagged = i
        .ambiguities
        .iter()
        .filter(|a| a.disagree() || a.all_deviate())
        .count();
    let _ = writeln!(
        out,
        "{} ambiguities exercised, {flagged} flagged.\n",
        i.ambiguities.len()
    );
    for a in &i.ambiguities {
        let _ = writeln!(out, "## {}\n", a.id);
        if let Some(info) = &a.info {
            let _ = writeln!(out, "Question: {}\n", info.question);
            let _ = writeln!(out, "Recommended reading: {}\n", info.recommended);
        }
        let f = flags(a.disagree(), a.all_deviate());
        if !f.is_empty() {
            let _ = writeln!(out, "**Flag: {f}.**\n");
        }
        let _ = writeln!(
            out,
            "| case | {} |",
            i.columns
                .iter()
                .map(|c| cell(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(out, "|---|{}", "---|".repeat(i.columns.len()));
        for cr in &a.cases {
            let cells: Vec<String> = cr
                .chosen
                .iter()
                .map(|c| match c {
                    Some((o, true)) => format!("{} (recommended)", cell(o)),
                    Some((o, false)) => cell(o),
                    None => "-".into(),
                })
                .collect();
            let _ = writeln!(out, "| {} | {} |", cr.case, cells.join(" | "));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "## Requirements\n");
    let _ = writeln!(out, "Worst verdict of the cases citing each requirement.\n");
    let _ = writeln!(
        out,
        "| requirement | {} |",
        i.columns
            .iter()
            .map(|c| cell(c))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|---|{}", "---|".repeat(i.columns.len()));
    for (id, cells) in &i.requirements {
        let cells: Vec<&str> = cells.iter().map(|v| verdict_word(*v)).collect();
        let _ = writeln!(out, "| {id} | {} |", cells.join(" | "));
    }
    out
}

/// A standalone HTML page with the same content.
pub fn render_html(i: &Interop) -> String {
    let e = xml_text;
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Ambiguity report</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.flag{color:#a00;font-weight:bold}.rec{color:#070}</style></head><body>\n<h1>Ambiguity report</h1>\n",
    );
    let head: String = i
        .columns
        .iter()
        .map(|c| format!("<th>{}</th>", e(c)))
        .collect();
    for a in &i.ambiguities {
        let _ = writeln!(out, "<h2 id=\"{0}\">{0}</h2>", e(&a.id));
        if let Some(info) = &a.info {
            let _ = writeln!(out, "<p><b>Question:</b> {}</p>", e(&info.question));
            let _ = writeln!(
                out,
                "<p><b>Recommended reading:</b> {}</p>",
                e(&info.recommended)
            );
        }
        let f = flags(a.disagree(), a.all_deviate());
        if !f.is_empty() {
            let _ = writeln!(out, "<p class=\"flag\">Flag: {}.</p>", e(&f));
        }
        let _ = writeln!(out, "<table><tr><th>case</th>{head}</tr>");
        for cr in &a.cases {
            let cells: String = cr
                .chosen
                .iter()
                .map(|c| match c {
                    Some((o, true)) => format!("<td class=\"rec\">{} (recommended)</td>", e(o)),
                    Some((o, false)) => format!("<td>{}</td>", e(o)),
                    None => "<td>-</td>".into(),
                })
                .collect();
            let _ = writeln!(out, "<tr><td>{}</td>{cells}</tr>", e(&cr.case));
        }
        let _ = writeln!(out, "</table>");
    }
    let _ = writeln!(
        out,
        "<h2>Requirements</h2>\n<table><tr><th>requirement</th>{head}</tr>"
    );
    for (id, cells) in &i.requirements {
        let cells: String = cells
            .iter()
            .map(|v| format!("<td>{}</td>", verdict_word(*v)))
            .collect();
        let _ = writeln!(out, "<tr><td>{}</td>{cells}</tr>", e(id));
    }
    out.push_str("</table>\n</body></html>\n");
    out
}
