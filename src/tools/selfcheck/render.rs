//! The kill matrix as terminal text and as kill-matrix.md.

use std::fmt::Write as _;

use obo_reference_server::fault::Fault;

use super::{ids, verdict_word, FaultRow, Selfcheck, Status};

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
            verdict_word(p.verdict).to_uppercase(),
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
            verdict_word(p.verdict),
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
    if s.faults.len() < Fault::ALL.len() {
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
