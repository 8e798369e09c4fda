//! Progress of a run, as each case finishes: a live bar on a terminal, one line per case when
//! standard error is piped (CI logs), JSON lines on standard output with `--format json`.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use obo_conformance::run::Progress;
use obo_report::{CaseResult, Verdict};

use crate::args::Format;
use crate::term::{case_line, result_label};

/// Whether a finished case's result is a known failure (listed in the expectations file).
pub type Known = Option<Arc<dyn Fn(&CaseResult) -> bool + Send + Sync>>;

/// What to show while cases run.
pub struct Reporter {
    pub callback: Option<Progress>,
    bar: Option<ProgressBar>,
}

impl Reporter {
    pub fn new(
        known: Known,
        total: usize,
        format: Format,
        quiet: bool,
        stderr_tty: bool,
        color: bool,
    ) -> Self {
        let is_known = move |r: &CaseResult| known.as_ref().is_some_and(|k| k(r));
        if format == Format::Json {
            let cb: Progress = Arc::new(move |r: &CaseResult| {
                let _ = writeln!(std::io::stdout().lock(), "{}", json_line(r, is_known(r)));
            });
            return Reporter {
                callback: Some(cb),
                bar: None,
            };
        }
        if quiet {
            return Reporter {
                callback: None,
                bar: None,
            };
        }
        if stderr_tty {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
            {
                bar.set_style(style);
            }
            let b = bar.clone();
            let cb: Progress = Arc::new(move |r: &CaseResult| {
                // Failures stay on screen above the bar; the rest only advance it.
                if matches!(r.verdict, Verdict::Fail | Verdict::Error) {
                    b.println(case_line(r, is_known(r), color));
                }
                b.set_message(r.id.clone());
                b.inc(1);
            });
            return Reporter {
                callback: Some(cb),
                bar: Some(bar),
            };
        }
        let done = Arc::new(AtomicUsize::new(0));
        let cb: Progress = Arc::new(move |r: &CaseResult| {
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            let _ = writeln!(
                std::io::stderr().lock(),
                "[{n:>3}/{total}] {} {}",
                result_label(r.verdict, is_known(r), color),
                r.id
            );
        });
        Reporter {
            callback: Some(cb),
            bar: None,
        }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One case result for other tools: no transcript, no checks (report.json has them);
/// `expected` when the expectations file lists the fail or error.
pub fn json_line(r: &CaseResult, known: bool) -> serde_json::Value {
    let mut line = serde_json::json!({
        "id": r.id,
        "verdict": r.verdict,
        "level": r.level,
        "requirements": r.requirements,
        "message": r.message,
        "duration_ms": r.duration_ms,
    });
    if known {
        line["expected"] = serde_json::json!(true);
    }
    line
}
