//! What leaves the harness: redaction of secrets before anything is written.

pub mod redact;
