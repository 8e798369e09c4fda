//! What leaves the harness: redaction of secrets before anything is written, report.json and the
//! other artefacts, the expectations gate, the exit-code table.

pub mod artefacts;
pub mod exit;
pub mod redact;
pub mod report;
