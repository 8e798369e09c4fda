//! Readings: which of the alternatives an ambiguity allows (AMB-*) the target chose, from one
//! step's observation.

use crate::case::Expect;

use super::Observation;

/// The reading a target chose among the alternatives of an `expect_any` (index `chosen` of
/// `labels`, the first being the recommended one), for the step annotated with ambiguity `amb`.
pub fn reading_of_alternatives(
    amb: &str,
    step: usize,
    obs: &Observation,
    chosen: Option<usize>,
    labels: Vec<String>,
) -> obo_report::Reading {
    let outcome = match chosen.and_then(|k| labels.get(k)) {
        Some(l) => l.clone(),
        None => format!("none accepted ({})", obs.summary()),
    };
    obo_report::Reading {
        ambiguity: amb.to_string(),
        step,
        chosen,
        outcome,
        alternatives: labels,
    }
}

/// The reading a target chose within one expectation's list of acceptable values: the
/// `error` codes if listed (AMB-14: `invalid_grant` or `invalid_request`), else the `status`
/// codes. A table with neither list has one reading (its label), chosen when its checks
/// `held` (AMB-26: the code is burnt, or not). Under `--strict` only the first value is accepted.
pub fn reading_of_list(
    amb: &str,
    step: usize,
    obs: &Observation,
    e: &Expect,
    strict: bool,
    held: bool,
) -> obo_report::Reading {
    let (mut alternatives, observed): (Vec<String>, Option<String>) = match (&e.error, &e.status) {
        (Some(codes), _) => (codes.to_vec(), obs.error_code.clone()),
        (None, Some(statuses)) => (
            statuses.to_vec().iter().map(u16::to_string).collect(),
            obs.status.map(|s| s.to_string()),
        ),
        (None, None) => (vec![e.outcome_label()], None),
    };
    if strict {
        alternatives.truncate(1);
    }
    let chosen = match observed {
        Some(o) => alternatives.iter().position(|a| *a == o),
        None if e.error.is_none() && e.status.is_none() => held.then_some(0),
        None => None,
    };
    let outcome = match chosen {
        Some(k) => alternatives[k].clone(),
        None => format!("none accepted ({})", obs.summary()),
    };
    obo_report::Reading {
        ambiguity: amb.to_string(),
        step,
        chosen,
        outcome,
        alternatives,
    }
}
