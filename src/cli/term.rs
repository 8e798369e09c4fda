//! Terminal output: colour choice, verdict labels and the end-of-run summary.

use std::io::Write;
use std::path::Path;

use obo_report::{CaseResult, Report, Verdict};

use crate::args::ColorChoice;

/// Whether to colour a stream. `auto`: a terminal, unless NO_COLOR is set (no-color.org); any
/// CLICOLOR_FORCE other than `0` forces colour even when piped (bixense.com/clicolors).
pub fn use_color(choice: ColorChoice, stream_is_tty: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE") => {
            std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v != "0")
        }
        ColorChoice::Auto => stream_is_tty,
    }
}

/// A verdict as a fixed-width word, coloured when asked.
pub fn verdict_label(v: Verdict, color: bool) -> String {
    let (text, code) = match v {
        Verdict::Pass => ("PASS", "32"),
        Verdict::Fail => ("FAIL", "31"),
        Verdict::Warn => ("WARN", "33"),
        Verdict::Skip => ("SKIP", "90"),
        Verdict::Error => ("ERROR", "35"),
    };
    if color {
        format!("\x1b[{code}m{text:<5}\x1b[0m")
    } else {
        format!("{text:<5}")
    }
}

/// A case's label: its verdict, or `XFAIL`/`XERR` (blue) for a fail or error the expectations
/// file lists.
pub fn result_label(v: Verdict, known: bool, color: bool) -> String {
    let text = match v {
        Verdict::Fail if known => "XFAIL",
        Verdict::Error if known => "XERR",
        _ => return verdict_label(v, color),
    };
    if color {
        format!("\x1b[34m{text:<5}\x1b[0m")
    } else {
        format!("{text:<5}")
    }
}

/// The order in which the summary lists cases: what needs action first, known failures after
/// the warnings.
fn rank(v: Verdict, known: bool) -> u8 {
    match v {
        _ if known => 3,
        Verdict::Fail => 0,
        Verdict::Error => 1,
        Verdict::Warn => 2,
        Verdict::Skip => 4,
        Verdict::Pass => 5,
    }
}

/// One case line: label, ID, the requirements it is reported under (those of its failed
/// checks; the case's own when none failed), and why.
pub fn case_line(c: &CaseResult, known: bool, color: bool) -> String {
    format!(
        "{} {:<44} [{}] {}",
        result_label(c.verdict, known, color),
        c.id,
        c.failed_requirements().join(", "),
        c.message
    )
}

/// The terminal summary: failures first, each with the command that runs it again (then
/// errors, warnings, known failures, skips; skips only when not `quiet`), with their
/// requirement IDs; then the totals, the overall status and where report.html is.
pub fn print_summary(
    out: &mut impl Write,
    report: &Report,
    html: Option<&Path>,
    color: bool,
    quiet: bool,
) -> std::io::Result<()> {
    let known = |c: &CaseResult| {
        matches!(c.verdict, Verdict::Fail | Verdict::Error)
            && report
                .expectations
                .as_ref()
                .is_some_and(|j| j.is_expected(&c.id))
    };
    let mut shown: Vec<&CaseResult> = report
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Pass && !(quiet && c.verdict == Verdict::Skip))
        .collect();
    shown.sort_by_key(|c| rank(c.verdict, known(c)));
    for c in shown {
        writeln!(out, "{}", case_line(c, known(c), color))?;
        if matches!(c.verdict, Verdict::Fail | Verdict::Error) && !known(c) {
            writeln!(
                out,
                "      replay: {}",
                obo_report::replay_command(report, &c.id)
            )?;
        }
    }
    let s = &report.summary;
    writeln!(
        out,
        "{} cases against {} (-{}), seed {}: {} passed, {} failed, {} warned, {} skipped, {} errors in {:.2} s",
        report.cases.len(),
        report.target.name,
        report.target.revision,
        report.seed,
        s.passed,
        s.failed,
        s.warned,
        s.skipped,
        s.errors,
        report.duration_ms as f64 / 1000.0
    )?;
    writeln!(out, "result: {}", obo_report::run_status(report).phrase())?;
    if let Some(html) = html {
        writeln!(out, "report: {}", html.display())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_and_never_ignore_the_stream() {
        assert!(use_color(ColorChoice::Always, false));
        assert!(!use_color(ColorChoice::Never, true));
    }

    #[test]
    fn labels_are_plain_without_colour() {
        assert_eq!(verdict_label(Verdict::Fail, false), "FAIL ");
        assert!(verdict_label(Verdict::Fail, true).starts_with("\x1b[31m"));
    }
}
