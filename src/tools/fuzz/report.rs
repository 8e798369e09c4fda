//! The fuzz result as a report (one synthetic case) and the saved sequence for `--replay`.

use obo_report::{CaseResult, Check, Level, Report, RequirementInfo, Summary, Verdict};
use serde::{Deserialize, Serialize};

use super::op::Op;
use super::{model, script, Counterexample, FuzzOutcome, CASE_ID};

pub fn name(p: model::Property) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The sequence file written next to report.json; `--replay` runs it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedSequence {
    pub seed: u64,
    pub ops: Vec<Op>,
}

/// The fuzz result as a report of one case: `fail` with the minimal counterexample, or `pass`.
pub fn to_report(
    outcome: &FuzzOutcome,
    target: &obo_report::Target,
    requirements: &std::collections::BTreeMap<String, RequirementInfo>,
) -> Report {
    let reqs: Vec<String> = script::REQUIREMENTS.iter().map(|s| s.to_string()).collect();
    let case = match &outcome.counterexample {
        Some(cx) => counterexample_case(outcome, cx),
        None => CaseResult {
            id: CASE_ID.into(),
            title: "Model-based fuzzing: no success the draft forbids".into(),
            verdict: if outcome.sequences > outcome.incomplete {
                Verdict::Pass
            } else {
                Verdict::Error
            },
            requirements: reqs.clone(),
            scenarios: vec![],
            level: Level::Must,
            tags: vec!["fuzz".into()],
            message: format!(
                "seed {}: {} sequences ({} operations, {} incomplete) held to the model",
                outcome.seed, outcome.sequences, outcome.operations, outcome.incomplete
            ),
            checks: vec![],
            duration_ms: outcome.took.as_millis() as u64,
            transcript: vec![],
            readings: vec![],
        },
    };
    let cases = vec![case];
    Report {
        schema_version: obo_report::SCHEMA_VERSION.to_string(),
        suite_version: env!("CARGO_PKG_VERSION").to_string(),
        target: target.clone(),
        seed: outcome.seed,
        strict: false,
        started_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: outcome.took.as_millis() as u64,
        summary: Summary::of(&cases),
        cases,
        requirements: requirements
            .iter()
            .filter(|(k, _)| reqs.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ambiguities: Default::default(),
        invocation: None,
        replay: Default::default(),
        expectations: None,
        diagnosis: Vec::new(),
    }
}

fn counterexample_case(outcome: &FuzzOutcome, cx: &Counterexample) -> CaseResult {
    let v = &cx.violation;
    let steps: Vec<String> = cx
        .minimal
        .ops
        .iter()
        .enumerate()
        .map(|(i, o)| format!("{}. {o}", i + 1))
        .collect();
    let mut checks = vec![Check {
        step: v.op + 2,
        name: format!("model: {}", name(v.property)),
        expected: "no success the draft forbids".into(),
        actual: v.message.clone(),
        ok: false,
        level: Level::Must,
        requirements: v
            .property
            .requirements()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }];
    checks.extend(cx.minimal.executed.checks.iter().filter(|c| !c.ok).cloned());
    CaseResult {
        id: CASE_ID.into(),
        title: format!("Model-based fuzzing: counterexample ({})", name(v.property)),
        verdict: Verdict::Fail,
        requirements: v
            .property
            .requirements()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        scenarios: vec![],
        level: Level::Must,
        tags: vec!["fuzz".into()],
        message: format!(
            "seed {}, sequence {}: {} operations shrunk to {} ({} runs): {} | {}",
            cx.seed,
            cx.iteration,
            cx.original.len(),
            cx.minimal.ops.len(),
            cx.shrink_runs,
            steps.join("; "),
            v.message
        ),
        checks,
        duration_ms: outcome.took.as_millis() as u64,
        transcript: cx.minimal.executed.transcript.clone(),
        readings: vec![],
    }
}
