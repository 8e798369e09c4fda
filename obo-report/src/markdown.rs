//! report.md: a short summary for a CI step summary (GitHub `$GITHUB_STEP_SUMMARY`).

use std::fmt::Write;

use crate::model::{CaseResult, Report, Verdict};
use crate::{replay_command, run_status, warnings, Status};

/// Cases listed per verdict before the list is cut (the HTML report has them all).
const LIST_LIMIT: usize = 50;

pub fn render(report: &Report) -> String {
    let mut md = String::new();
    let s = &report.summary;
    let t = &report.target;
    let _ = writeln!(
        md,
        "## obo-conformance: {} (draft -{}) {}\n",
        inline(&t.name),
        inline(&t.revision),
        headline(report)
    );
    let _ = writeln!(
        md,
        "Target `{}` · suite {} · seed {}{}\n",
        code_span(&t.issuer),
        inline(&report.suite_version),
        report.seed,
        if report.strict { " · strict" } else { "" }
    );
    match &report.expectations {
        Some(j) => {
            // Known failures have a column of their own: the fail column counts the ones that
            // turn CI red.
            let known = report
                .cases
                .iter()
                .filter(|c| c.verdict == Verdict::Fail && j.is_expected(&c.id))
                .count();
            let _ = writeln!(md, "| pass | fail | expected fail | warn | skip | error |");
            let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|");
            let _ = writeln!(
                md,
                "| {} | {} | {known} | {} | {} | {} |\n",
                s.passed,
                s.failed as usize - known,
                s.warned,
                s.skipped,
                s.errors
            );
        }
        None => {
            let _ = writeln!(md, "| pass | fail | warn | skip | error |");
            let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |\n",
                s.passed, s.failed, s.warned, s.skipped, s.errors
            );
        }
    }
    if !report.diagnosis.is_empty() {
        let _ = writeln!(md, "**Diagnosis of the target**\n");
        for f in &report.diagnosis {
            let _ = writeln!(md, "- {}", inline(&f.message));
        }
        md.push('\n');
    }
    let warnings = warnings::vacuous(report);
    if !warnings.is_empty() {
        let _ = writeln!(md, "> [!WARNING]");
        for w in &warnings {
            let _ = writeln!(md, "> - {}", inline(&w.message));
        }
        md.push('\n');
    }
    for (verdict, heading) in [
        (Verdict::Fail, "Failures (MUST)"),
        (
            Verdict::Error,
            "Harness errors (untested, not the target's fault)",
        ),
        (Verdict::Warn, "Warnings (SHOULD / MAY)"),
    ] {
        let cases: Vec<&CaseResult> = report
            .cases
            .iter()
            .filter(|c| c.verdict == verdict && !report.is_known_failure(c))
            .collect();
        list(&mut md, &cases, heading, |case| {
            // Failed and warned cases are listed under their failing checks' requirements.
            let reqs = case.failed_requirements();
            let reqs = if reqs.is_empty() {
                String::new()
            } else {
                format!(" ({})", inline(&reqs.join(", ")))
            };
            // The command that runs the case again, pasted as is (a code span keeps it literal).
            format!(
                "**{}**{reqs}: {}<br>`{}`",
                inline(&case.id),
                inline(first_line(&case.message)),
                code_span(&replay_command(report, &case.id))
            )
        });
    }
    expectations(&mut md, report);
    md
}

/// Known failures (with the entry's reason) and stale entries, under an expectations file.
fn expectations(md: &mut String, report: &Report) {
    let Some(j) = &report.expectations else {
        return;
    };
    let known: Vec<&CaseResult> = report
        .cases
        .iter()
        .filter(|c| report.is_known_failure(c))
        .collect();
    let heading = format!(
        "Expected failures (known, listed in `{}`)",
        code_span(&j.file)
    );
    list(md, &known, &heading, |case| {
        let entry = j.cases.get(&case.id);
        let reason = entry.and_then(|e| e.reason.as_deref()).unwrap_or("");
        let link = entry
            .and_then(|e| e.link.as_deref())
            .map(|l| format!(" (`{}`)", code_span(l)))
            .unwrap_or_default();
        format!(
            "{} **{}**: {}{link}",
            crate::verdict_name(case.verdict),
            inline(&case.id),
            inline(first_line(reason))
        )
    });
    if !j.stale.is_empty() {
        let _ = writeln!(
            md,
            "### Stale expectations: {} (the gate fails until the file is updated)\n",
            j.stale.len()
        );
        for s in &j.stale {
            let _ = writeln!(
                md,
                "- **{}**: {} (entry reason: {})",
                inline(&s.id),
                inline(&s.why()),
                inline(first_line(&s.reason))
            );
        }
        md.push('\n');
    }
}

fn headline(report: &Report) -> String {
    let status = run_status(report);
    let icon = match status.status {
        Status::Fail => "❌",
        Status::Error => "⚠️",
        Status::Warn | Status::Pass => "✅",
    };
    format!("— {icon} {}", status.phrase())
}

fn list(
    md: &mut String,
    cases: &[&CaseResult],
    heading: &str,
    line: impl Fn(&CaseResult) -> String,
) {
    if cases.is_empty() {
        return;
    }
    let _ = writeln!(md, "### {heading}: {}\n", cases.len());
    for case in cases.iter().take(LIST_LIMIT) {
        let _ = writeln!(md, "- {}", line(case));
    }
    if cases.len() > LIST_LIMIT {
        let _ = writeln!(
            md,
            "- … and {} more (see report.html)",
            cases.len() - LIST_LIMIT
        );
    }
    md.push('\n');
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Text from the run (messages come from target responses) as inert Markdown on one line:
/// markup characters are backslash-escaped and HTML tags cannot open.
pub(crate) fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Text for inside a code span: backticks cannot close it, pipes cannot split a table cell.
pub(crate) fn code_span(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '`' => '\'',
            '|' => '¦',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_neutralises_markdown_and_html() {
        assert_eq!(
            inline("<img src=x> *b* [l](u) a|b\nc"),
            "&lt;img src=x&gt; \\*b\\* \\[l\\](u) a\\|b c"
        );
        assert_eq!(code_span("a`b|c"), "a'b¦c");
    }
}
