//! The committed mutation score of the reference server's checks (reports/mutation/summary.json,
//! written by scripts/mutants.sh), embedded at build time. The fault switches are proven caught
//! on every selfcheck; mutation testing takes hours on two cores, so the selfcheck shows the score
//! as last measured and committed, with its date and command.

use obo_report::selfcheck::MutationScore;

const SUMMARY: &str = include_str!("../../../reports/mutation/summary.json");

/// The committed score, or none when the embedded summary cannot be read.
pub fn committed() -> Option<MutationScore> {
    serde_json::from_str(SUMMARY).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_summary_is_readable_and_consistent() {
        let m = committed().expect("reports/mutation/summary.json parses");
        assert!(m.caught + m.missed + m.timeout + m.unviable <= m.mutants);
        let line = m.line();
        assert!(line.contains("scripts/mutants.sh"), "{line}");
    }
}
