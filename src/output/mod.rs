//! What a run leaves behind: report.json and the other artefacts, the expectations gate, and the
//! terminal summary helpers.

pub mod artefacts;
pub mod exit;
pub mod report;
