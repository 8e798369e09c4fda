//! Normalisation for byte-identical artefacts: two runs with one seed differ only in wall-clock
//! facts (when, how long, the server's `Date` header) and in the order parallel cases finished.

use crate::model::{Exchange, HttpResponse, Report};

/// What [`normalize`] writes in place of the start time.
pub const EPOCH: &str = "1970-01-01T00:00:00Z";

/// Response headers that carry the wall clock.
const CLOCK_HEADERS: [&str; 3] = ["date", "expires", "last-modified"];

/// Zeroes timestamps and durations, blanks clock headers, and sorts cases by ID.
pub fn normalize(report: &mut Report) {
    report.started_at = EPOCH.to_string();
    report.duration_ms = 0;
    report.cases.sort_by(|a, b| a.id.cmp(&b.id));
    for case in &mut report.cases {
        case.duration_ms = 0;
        case.transcript.iter_mut().for_each(normalize_exchange);
    }
}

fn normalize_exchange(exchange: &mut Exchange) {
    exchange.duration_ms = 0;
    if let Some(HttpResponse { headers, .. }) = &mut exchange.response {
        for (name, value) in headers.iter_mut() {
            if CLOCK_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                *value = "(normalised)".to_string();
            }
        }
    }
}
