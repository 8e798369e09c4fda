//! report.sarif: SARIF 2.1.0. One rule per case ID; a result per fail (level `error`) and warn
//! (level `warning`). Under an expectations file a known failure is level `note` with an
//! `external` suppression (the file, accepted, the entry's reason as justification) and no
//! `security-severity`, so that code scanning neither ranks it nor fails a check on it. Cases tagged `adversarial` are security findings: `security` in their tags
//! and a `security-severity` score so that code-scanning UIs rank them.

use serde_json::{json, Value};

use crate::model::{CaseResult, Level, Report, Verdict};
use crate::{case_path, replay_command, verdict_name, ReportError};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(report: &Report) -> Result<String, ReportError> {
    let rules: Vec<Value> = report.cases.iter().map(|c| rule(report, c)).collect();
    let results: Vec<Value> = report
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.verdict, Verdict::Fail | Verdict::Warn))
        .map(|(index, c)| result(report, index, c))
        .collect();
    let sarif = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "obo-conformance",
                "version": report.suite_version,
                "semanticVersion": report.suite_version,
                "rules": rules,
            }},
            "originalUriBaseIds": {"OBO_CONFORMANCE": {"description": {"text": "Root of the obo-conformance suite (its cases/ folder holds the case files)."}}},
            "automationDetails": {"id": format!("obo-conformance/{}/{}/", report.target.name, report.target.revision)},
            "invocations": [{
                // The run itself worked unless the harness could not drive some cases.
                "executionSuccessful": report.summary.errors == 0,
                "properties": {
                    "seed": report.seed,
                    "strict": report.strict,
                    "startTimeUtc": report.started_at,
                    "target": report.target.name,
                    "issuer": report.target.issuer,
                    "revision": report.target.revision,
                    "profileDigest": report.target.profile_digest,
                },
            }],
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&sarif)?;
    text.push('\n');
    Ok(text)
}

fn is_security(case: &CaseResult) -> bool {
    case.tags.iter().any(|t| t == "adversarial")
}

/// CVSS-like score GitHub code scanning buckets (>= 7 high, >= 4 medium): a broken MUST in an
/// adversarial case lets an attacker through; a SHOULD or MAY miss weakens a defence.
fn security_severity(case: &CaseResult) -> &'static str {
    severity_of(case.level)
}

fn severity_of(level: Level) -> &'static str {
    match level {
        Level::Must => "8.0",
        Level::Should => "5.0",
        Level::May => "3.0",
    }
}

fn default_level(case: &CaseResult) -> &'static str {
    match case.level {
        Level::Must => "error",
        Level::Should | Level::May => "warning",
    }
}

fn tags(case: &CaseResult) -> Vec<String> {
    let mut tags = Vec::new();
    if is_security(case) {
        tags.push("security".to_string());
    }
    for tag in &case.tags {
        // SARIF property bags require unique tags.
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    tags
}

fn properties(case: &CaseResult) -> Value {
    let mut props = json!({
        "tags": tags(case),
        "requirements": case.requirements,
        "scenarios": case.scenarios,
    });
    if is_security(case) {
        props["security-severity"] = json!(security_severity(case));
    }
    props
}

fn rule(report: &Report, case: &CaseResult) -> Value {
    let help: Vec<String> = case
        .requirements
        .iter()
        .map(|id| match report.requirements.get(id) {
            Some(r) => format!("{id} (§{}, {}): {}", r.section, r.level, r.text),
            None => id.clone(),
        })
        .collect();
    json!({
        "id": case.id,
        "shortDescription": {"text": case.title},
        "help": {"text": help.join("\n")},
        "defaultConfiguration": {"level": default_level(case)},
        "properties": properties(case),
    })
}

/// GitHub code scanning refuses a whole file when a result has no physical location, so each
/// result points at its case file in the suite (base `OBO_CONFORMANCE`, the suite's checkout),
/// with the case as logical location.
fn location(report: &Report, case: &CaseResult) -> Value {
    let uri = case_path(&case.id).unwrap_or_else(|| "cases/".to_string());
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri, "uriBaseId": "OBO_CONFORMANCE"},
            "region": {"startLine": 1},
        },
        "logicalLocations": [{
            "name": case.id,
            "fullyQualifiedName": format!("{}/{}", report.target.name, case.id),
            "kind": "module",
        }],
    })
}

fn result(report: &Report, index: usize, case: &CaseResult) -> Value {
    let known = report
        .expectations
        .as_ref()
        .filter(|j| j.is_expected(&case.id));
    let level = if known.is_some() {
        "note"
    } else if case.verdict == Verdict::Fail {
        "error"
    } else {
        "warning"
    };
    let failed: Vec<Value> = case
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| {
            json!({"step": c.step, "name": c.name, "expected": c.expected, "actual": c.actual,
                   "requirements": c.requirements})
        })
        .collect();
    let mut props = properties(case);
    props["verdict"] = json!(verdict_name(case.verdict));
    props["failedChecks"] = json!(failed);
    // A result is reported under the requirements of its failing checks, at their level.
    props["failedRequirements"] = json!(case.failed_requirements());
    if let (true, Some(level)) = (is_security(case), case.failed_level()) {
        props["security-severity"] = json!(severity_of(level));
    }
    props["replay"] = json!(replay_command(report, &case.id));
    let suppressions: Vec<Value> = known
        .map(|j| {
            props.as_object_mut().map(|p| p.remove("security-severity"));
            let reason = j.cases.get(&case.id).and_then(|e| e.reason.clone());
            vec![json!({
                "kind": "external",
                "status": "accepted",
                "justification": format!("expected {} (listed in {}): {}",
                    verdict_name(case.verdict), j.file, reason.unwrap_or_default()),
            })]
        })
        .unwrap_or_default();
    let mut result = json!({
        "ruleId": case.id,
        "ruleIndex": index,
        "level": level,
        "message": {"text": format!("{}: {}", case.title, case.message)},
        "locations": [location(report, case)],
        // Stable across runs: one finding per (target, case), so code scanning tracks it over time.
        "partialFingerprints": {"oboCase/v1": format!("{}:{}", report.target.name, case.id)},
        "properties": props,
    });
    if !suppressions.is_empty() {
        result["suppressions"] = json!(suppressions);
    }
    result
}
