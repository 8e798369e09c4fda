//! The selfcheck's result (kill-matrix.json) and its renderings: the kill matrix as terminal
//! text and as kill-matrix.md. The harness runs the selfcheck (`obo-conformance selfcheck`) and
//! fills a [`Selfcheck`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::Verdict;

/// One case's outcome, as the matrix shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaseNote {
    pub id: String,
    pub verdict: Verdict,
    pub message: String,
}

/// The run against the clean server.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CleanRun {
    /// Reference variants used and how many cases each ran.
    pub variants: Vec<(String, usize)>,
    pub passed: usize,
    /// Skipped cases with their reasons (allowed).
    pub skipped: Vec<CaseNote>,
    /// Cases that failed, warned or errored: each one is a selfcheck failure.
    pub problems: Vec<CaseNote>,
    /// The server could not be started or driven at all.
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// How well the catalogue catches one fault.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A case citing one of the fault's requirements failed or warned.
    Caught,
    /// Only cases citing other requirements noticed the fault.
    OnlyUnrelated,
    /// No case noticed the fault.
    Missed,
    /// The faulty server could not be started.
    NotRun,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Caught => "CAUGHT",
            Status::OnlyUnrelated => "UNRELATED",
            Status::Missed => "MISSED",
            Status::NotRun => "NOT RUN",
        }
    }
}

/// One row of the kill matrix.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRow {
    pub fault: String,
    pub description: String,
    /// Requirement IDs the fault breaks.
    pub requirements: Vec<String>,
    pub status: Status,
    /// Killers citing one of the fault's requirements.
    pub relevant: Vec<CaseNote>,
    /// Killers citing none of them.
    pub unrelated: Vec<CaseNote>,
    /// Cases that passed clean but errored under the fault (informative: not kills).
    pub errors: Vec<CaseNote>,
    /// Why the run did not happen (status `not_run`).
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl FaultRow {
    pub fn relevant_ids(&self) -> Vec<&str> {
        self.relevant.iter().map(|c| c.id.as_str()).collect()
    }
}

/// The whole selfcheck result (kill-matrix.json).
#[derive(Debug, Clone, Serialize)]
pub struct Selfcheck {
    pub seed: u64,
    pub cases: usize,
    pub clean: CleanRun,
    pub faults: Vec<FaultRow>,
    /// Adversarial cases that are no fault's relevant killer (informative): they guard
    /// behaviour that no fault switch breaks for the requirements they cite. Empty unless
    /// every fault was checked.
    pub unkilled_adversarial: Vec<String>,
    /// Adversarial cases that no fault makes fail or warn at all (informative).
    pub never_failed_adversarial: Vec<String>,
    /// Faults whose only relevant killer is one case: removing that case loses the fault.
    pub single_killer: BTreeMap<String, String>,
    /// Every fault switch of the server was run (the adversarial lists need all of them).
    #[serde(skip)]
    pub every_fault_checked: bool,
    /// The committed mutation score of the reference server's checks (informative: measured
    /// by scripts/mutants.sh, not on this run).
    pub mutation: Option<MutationScore>,
    pub duration_ms: u64,
}

impl Selfcheck {
    /// Every reason the selfcheck fails, one line each; empty when it passes.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.clean.error {
            out.push(format!("clean run: {e}"));
        }
        for p in &self.clean.problems {
            out.push(format!(
                "clean run: {} {}: {}",
                crate::verdict_name(p.verdict),
                p.id,
                p.message
            ));
        }
        for f in &self.faults {
            match f.status {
                Status::Caught => {}
                Status::OnlyUnrelated => out.push(format!(
                    "fault {} ({}) is caught only by unrelated cases: {}",
                    f.fault,
                    f.requirements.join(", "),
                    ids(&f.unrelated)
                )),
                Status::Missed => out.push(format!(
                    "fault {} ({}) is caught by no case",
                    f.fault,
                    f.requirements.join(", ")
                )),
                Status::NotRun => out.push(format!(
                    "fault {}: {}",
                    f.fault,
                    f.error.as_deref().unwrap_or("not run")
                )),
            }
        }
        out
    }

    pub fn ok(&self) -> bool {
        self.failures().is_empty()
    }

    pub fn fault(&self, name: &str) -> Option<&FaultRow> {
        self.faults.iter().find(|f| f.fault == name)
    }
}

pub fn ids(notes: &[CaseNote]) -> String {
    if notes.is_empty() {
        return "-".into();
    }
    notes
        .iter()
        .map(|n| n.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The headline of a mutation run (the fields of summary.json the selfcheck shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationScore {
    /// caught / (caught + missed + timeouts), in percent; none when no mutant was viable.
    pub score_percent: Option<f64>,
    pub mutants: u64,
    pub caught: u64,
    pub missed: u64,
    pub timeout: u64,
    pub unviable: u64,
    /// Listed in .cargo/mutants.toml with a reason (equivalent or not observable).
    pub excluded: u64,
    /// Some files of the scope had no outcome.
    pub partial: bool,
    /// When the run ended (UTC, RFC 3339).
    pub run_end: Option<String>,
    pub command: String,
}

impl MutationScore {
    /// One line: score, counts, date and command.
    pub fn line(&self) -> String {
        let score = self
            .score_percent
            .map_or_else(|| "-".to_string(), |s| format!("{s:.1}%"));
        let date = self
            .run_end
            .as_deref()
            .and_then(|d| d.get(..10))
            .unwrap_or("?");
        format!(
            "{score} of {} viable mutants caught ({} missed, {} timeouts, {} unviable, {} excluded with a reason){}; measured {date} by `{}`",
            self.caught + self.missed + self.timeout,
            self.missed,
            self.timeout,
            self.unviable,
            self.excluded,
            if self.partial { ", partial run" } else { "" },
            self.command
        )
    }
}

/// The terminal output: one line per fault with its relevant killers, then the verdict.
pub fn render_text(s: &Selfcheck) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "clean run: {} passed, {} skipped, {} problems ({:.1} s)",
        s.clean.passed,
        s.clean.skipped.len(),
        s.clean.problems.len(),
        s.clean.duration_ms as f64 / 1000.0
    );
    if !s.clean.variants.is_empty() {
        let v: Vec<String> = s
            .clean
            .variants
            .iter()
            .map(|(name, n)| format!("{name}: {n}"))
            .collect();
        let _ = writeln!(out, "  cases per server variant: {}", v.join(", "));
    }
    if let Some(e) = &s.clean.error {
        let _ = writeln!(out, "  error: {e}");
    }
    for p in &s.clean.problems {
        let _ = writeln!(
            out,
            "  {:<5} {:<44} {}",
            crate::verdict_name(p.verdict).to_uppercase(),
            p.id,
            p.message
        );
    }
    let _ = writeln!(out, "\nkill matrix (fault: relevant killers, +unrelated):");
    for f in &s.faults {
        let detail = match f.status {
            Status::NotRun => f.error.clone().unwrap_or_default(),
            Status::Missed => "no case failed".into(),
            Status::OnlyUnrelated => format!("only unrelated: {}", ids(&f.unrelated)),
            Status::Caught if f.unrelated.is_empty() => ids(&f.relevant),
            Status::Caught => format!("{} (+{} unrelated)", ids(&f.relevant), f.unrelated.len()),
        };
        let _ = writeln!(out, "{:<9} {:<32} {}", f.status.label(), f.fault, detail);
    }
    if !s.unkilled_adversarial.is_empty() {
        let _ = writeln!(
            out,
            "\nadversarial cases that are no fault's relevant killer ({}, informative): {}",
            s.unkilled_adversarial.len(),
            s.unkilled_adversarial.join(", ")
        );
    }
    if let Some(m) = &s.mutation {
        let _ = writeln!(
            out,
            "\nmutation score (committed, informative): {}",
            m.line()
        );
    }
    let caught = s
        .faults
        .iter()
        .filter(|f| f.status == Status::Caught)
        .count();
    let failures = s.failures();
    let _ = writeln!(
        out,
        "\nselfcheck {}: {} cases, {}/{} faults caught by a relevant case, {} caught by one case only, seed {}, {:.1} s",
        if failures.is_empty() { "passed" } else { "FAILED" },
        s.cases,
        caught,
        s.faults.len(),
        s.single_killer.len(),
        s.seed,
        s.duration_ms as f64 / 1000.0
    );
    for f in &failures {
        let _ = writeln!(out, "  - {f}");
    }
    out
}

fn list_or_none(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".into()
    } else {
        ids.join(", ")
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// kill-matrix.md.
pub fn render_markdown(s: &Selfcheck) -> String {
    let mut out = String::new();
    let failures = s.failures();
    let _ = writeln!(out, "# Selfcheck: kill matrix\n");
    let _ = writeln!(
        out,
        "**{}** — {} cases, seed {}, {} faults checked, {:.1} s.\n",
        if failures.is_empty() {
            "passed"
        } else {
            "FAILED"
        },
        s.cases,
        s.seed,
        s.faults.len(),
        s.duration_ms as f64 / 1000.0
    );
    for f in &failures {
        let _ = writeln!(out, "- {}", md_cell(f));
    }
    if !failures.is_empty() {
        out.push('\n');
    }
    if let Some(m) = &s.mutation {
        let _ = writeln!(
            out,
            "Mutation score of the reference server's checks (committed, reports/mutation/summary.md; informative): {}.\n",
            md_cell(&m.line())
        );
    }
    let _ = writeln!(out, "## Clean run\n");
    let _ = writeln!(
        out,
        "{} passed, {} skipped, {} problems.\n",
        s.clean.passed,
        s.clean.skipped.len(),
        s.clean.problems.len()
    );
    if !s.clean.variants.is_empty() {
        let _ = writeln!(
            out,
            "Each case runs under the first reference variant where it applies:\n"
        );
        for (name, n) in &s.clean.variants {
            let _ = writeln!(out, "- {name}: {n} cases");
        }
        out.push('\n');
    }
    for p in &s.clean.problems {
        let _ = writeln!(
            out,
            "- **{}** {}: {}",
            crate::verdict_name(p.verdict),
            p.id,
            md_cell(&p.message)
        );
    }
    if !s.clean.problems.is_empty() {
        out.push('\n');
    }
    if !s.clean.skipped.is_empty() {
        let _ = writeln!(out, "| skipped case | reason |\n|---|---|");
        for n in &s.clean.skipped {
            let _ = writeln!(out, "| {} | {} |", n.id, md_cell(&n.message));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Faults\n");
    let _ = writeln!(out, "A fault is caught when a case citing one of the requirements it breaks fails or warns against it.\n");
    let _ = writeln!(
        out,
        "| fault | breaks | status | relevant killers | unrelated killers |\n|---|---|---|---|---|"
    );
    for f in &s.faults {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            f.fault,
            f.requirements.join(", "),
            f.status.label(),
            ids(&f.relevant),
            ids(&f.unrelated)
        );
    }
    if !s.single_killer.is_empty() {
        let _ = writeln!(out, "\n## Faults caught by one case only\n");
        let _ = writeln!(out, "Removing that case would leave the fault uncaught.\n");
        let _ = writeln!(out, "| fault | only relevant killer |\n|---|---|");
        for (fault, case) in &s.single_killer {
            let _ = writeln!(out, "| `{fault}` | {case} |");
        }
    }
    let _ = writeln!(out, "\n## Adversarial cases no fault kills\n");
    if !s.every_fault_checked {
        let _ = writeln!(out, "Listed only when every fault is checked.");
        return errored_section(s, out);
    }
    let _ = writeln!(
        out,
        "Informative: these guard behaviour that no fault switch breaks (for the requirements they cite) yet.\n"
    );
    let _ = writeln!(
        out,
        "Not a relevant killer of any fault: {}.\n",
        list_or_none(&s.unkilled_adversarial)
    );
    let _ = writeln!(
        out,
        "Never failed or warned under any fault: {}.",
        list_or_none(&s.never_failed_adversarial)
    );
    errored_section(s, out)
}

/// The cases that errored under a fault (informative), appended to `out`.
fn errored_section(s: &Selfcheck, mut out: String) -> String {
    let errored: Vec<&FaultRow> = s.faults.iter().filter(|f| !f.errors.is_empty()).collect();
    if !errored.is_empty() {
        let _ = writeln!(out, "\n## Cases that errored under a fault\n");
        let _ = writeln!(
            out,
            "Not kills: the harness could not drive the faulty server to a check.\n"
        );
        let _ = writeln!(out, "| fault | case | message |\n|---|---|---|");
        for f in errored {
            for n in &f.errors {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    f.fault,
                    n.id,
                    md_cell(&n.message)
                );
            }
        }
    }
    out
}
