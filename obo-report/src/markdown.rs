//! report.md: a short summary for a CI step summary (GitHub `$GITHUB_STEP_SUMMARY`).

use std::fmt::Write;

use crate::model::{CaseResult, Report, Verdict};
use crate::warnings;

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
    let _ = writeln!(md, "| pass | fail | warn | skip | error |");
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        md,
        "| {} | {} | {} | {} | {} |\n",
        s.passed, s.failed, s.warned, s.skipped, s.errors
    );
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
        list(&mut md, report, verdict, heading);
    }
    md
}

fn headline(report: &Report) -> &'static str {
    let s = &report.summary;
    if s.failed > 0 {
        "— ❌ failed"
    } else if s.errors > 0 || s.passed + s.warned == 0 {
        "— ⚠️ incomplete"
    } else if s.warned > 0 {
        "— ✅ passed with warnings"
    } else {
        "— ✅ passed"
    }
}

fn list(md: &mut String, report: &Report, verdict: Verdict, heading: &str) {
    let cases: Vec<&CaseResult> = report
        .cases
        .iter()
        .filter(|c| c.verdict == verdict)
        .collect();
    if cases.is_empty() {
        return;
    }
    let _ = writeln!(md, "### {heading}: {}\n", cases.len());
    for case in cases.iter().take(LIST_LIMIT) {
        // Failed and warned cases are listed under their failing checks' requirements.
        let reqs = case.failed_requirements();
        let reqs = if reqs.is_empty() {
            String::new()
        } else {
            format!(" ({})", inline(&reqs.join(", ")))
        };
        let _ = writeln!(
            md,
            "- **{}**{reqs}: {}",
            inline(&case.id),
            inline(first_line(&case.message))
        );
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
