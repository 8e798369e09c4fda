//! The committed mutation score of the reference server's checks (reports/mutation/summary.json,
//! written by scripts/mutants.sh), embedded at build time. The fault switches are proven caught
//! on every selfcheck; mutation testing takes hours on two cores, so the selfcheck shows the score
//! as last measured and committed, with its date and command.

use serde::{Deserialize, Serialize};

const SUMMARY: &str = include_str!("../../../reports/mutation/summary.json");

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
    /// The committed score, or none when the embedded summary cannot be read.
    pub fn committed() -> Option<MutationScore> {
        serde_json::from_str(SUMMARY).ok()
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_summary_is_readable_and_consistent() {
        let m = MutationScore::committed().expect("reports/mutation/summary.json parses");
        assert!(m.caught + m.missed + m.timeout + m.unviable <= m.mutants);
        let line = m.line();
        assert!(line.contains("scripts/mutants.sh"), "{line}");
    }
}
