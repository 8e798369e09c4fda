//! reports/schema/report.schema.json describes exactly what the model serialises: synthetic
//! reports, generated reports (proptest) and the checked-in example run validate; drifted
//! shapes do not.

mod common;

use std::path::{Path, PathBuf};

use obo_report::*;
use proptest::prelude::*;
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn validator() -> jsonschema::Validator {
    let path = repo_root().join("reports/schema/report.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        jsonschema::meta::is_valid(&schema),
        "the schema itself is valid 2020-12"
    );
    jsonschema::validator_for(&schema).unwrap()
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[test]
fn synthetic_reports_validate() {
    let v = validator();
    let mut r = common::synthetic();
    let value = serde_json::to_value(&r).unwrap();
    assert_eq!(errors(&v, &value), Vec::<String>::new());
    normalize(&mut r);
    assert!(v.is_valid(&serde_json::to_value(&r).unwrap()));
    assert!(v.is_valid(&serde_json::to_value(common::report(vec![])).unwrap()));
}

/// The example run kept in reports/example/ (a real run against the reference server) validates,
/// so the schema follows what the harness really writes.
#[test]
fn checked_in_example_runs_validate() {
    let v = validator();
    let dir = repo_root().join("reports/example");
    let mut validated = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path().join("report.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                errors(&v, &value),
                Vec::<String>::new(),
                "{}",
                path.display()
            );
            read_report(&path).unwrap();
            validated += 1;
        }
    }
    assert!(validated >= 1, "no example run in {}", dir.display());
}

#[test]
fn drifted_shapes_are_rejected() {
    let v = validator();
    let good = serde_json::to_value(common::synthetic()).unwrap();
    type Mutation = (&'static str, fn(&mut Value));
    let mutations: [Mutation; 7] = [
        ("unknown verdict", |r| {
            r["cases"][0]["verdict"] = "flaky".into()
        }),
        ("lower-case level", |r| {
            r["cases"][0]["level"] = "must".into()
        }),
        ("missing summary", |r| {
            r.as_object_mut().unwrap().remove("summary");
        }),
        ("unknown field", |r| r["target"]["secret"] = "x".into()),
        ("header as object", |r| {
            r["cases"][0]["transcript"][0]["request"]["headers"] = serde_json::json!({"a": "b"})
        }),
        ("other schema version", |r| r["schema_version"] = "2".into()),
        ("negative duration", |r| r["duration_ms"] = (-1).into()),
    ];
    for (what, mutate) in mutations {
        let mut bad = good.clone();
        mutate(&mut bad);
        assert!(!v.is_valid(&bad), "schema accepted: {what}");
    }
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![Just(Level::Must), Just(Level::Should), Just(Level::May)]
}

fn verdict() -> impl Strategy<Value = Verdict> {
    prop_oneof![
        Just(Verdict::Pass),
        Just(Verdict::Fail),
        Just(Verdict::Warn),
        Just(Verdict::Skip),
        Just(Verdict::Error)
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((text(), text()), 0..3)
}

fn exchange() -> impl Strategy<Value = Exchange> {
    let request = (text(), text(), headers(), prop::option::of(text())).prop_map(
        |(method, url, headers, body)| HttpRequest {
            method,
            url,
            headers,
            body,
        },
    );
    let response = prop::option::of(
        (
            any::<u16>(),
            headers(),
            prop::option::of(text()),
            any::<bool>(),
        )
            .prop_map(|(status, headers, body, truncated)| HttpResponse {
                status,
                headers,
                body,
                truncated,
            }),
    );
    (
        0usize..5,
        request,
        response,
        prop::option::of(text()),
        any::<u64>(),
    )
        .prop_map(|(step, request, response, error, duration_ms)| Exchange {
            step,
            request,
            response,
            error,
            duration_ms,
        })
}

fn check() -> impl Strategy<Value = Check> {
    (
        0usize..5,
        text(),
        text(),
        text(),
        any::<bool>(),
        level(),
        prop::collection::vec(text(), 0..2),
    )
        .prop_map(
            |(step, name, expected, actual, ok, level, requirements)| Check {
                step,
                name,
                expected,
                actual,
                ok,
                level,
                requirements,
            },
        )
}

fn case() -> impl Strategy<Value = CaseResult> {
    (
        (
            "[A-Z][A-Z0-9-]{0,10}",
            text(),
            verdict(),
            prop::collection::vec(text(), 0..3),
        ),
        (
            prop::collection::vec(text(), 0..2),
            level(),
            prop::collection::vec(text(), 0..3),
            text(),
        ),
        (
            prop::collection::vec(check(), 0..3),
            any::<u64>(),
            prop::collection::vec(exchange(), 0..3),
        ),
    )
        .prop_map(
            |(
                (id, title, verdict, requirements),
                (scenarios, level, tags, message),
                (checks, duration_ms, transcript),
            )| {
                CaseResult {
                    id,
                    title,
                    verdict,
                    requirements,
                    scenarios,
                    level,
                    tags,
                    message,
                    checks,
                    duration_ms,
                    transcript,
                    readings: vec![],
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever the harness puts in the model serialises to schema-valid JSON that reads back
    /// as the same report, and every renderer accepts it.
    #[test]
    fn any_report_validates_and_round_trips(
        cases in prop::collection::vec(case(), 0..4),
        seed in any::<u64>(),
        strict in any::<bool>(),
        revision in prop_oneof![Just("00"), Just("01"), Just("02")],
    ) {
        let mut r = common::report(cases);
        r.seed = seed;
        r.strict = strict;
        r.target.revision = revision.to_string();
        let json = render_json(&r).unwrap();
        let value: Value = serde_json::from_str(&json).unwrap();
        let v = validator();
        prop_assert_eq!(errors(&v, &value), Vec::<String>::new());
        let back: Report = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &r);
        render_html(&r).unwrap();
        render_sarif(&r).unwrap();
        prop_assert!(render_junit(&r).starts_with("<?xml"));
        prop_assert!(render_markdown(&r).starts_with("## obo-conformance"));
    }
}

/// A run's invocation, replay lines and a judgement (expected, unexpected, stale and expired
/// entries) validate too.
#[test]
fn judged_reports_with_replay_lines_validate() {
    let v = validator();
    let mut r = common::synthetic();
    r.invocation = Some(Invocation {
        target: "reference".into(),
        builtin: true,
        faults: vec!["skip-actor-binding".into()],
        revision: Some("01".into()),
        latency_ms: 5,
        timeout_secs: Some(3),
        allow_cross_origin: true,
        cases_dir: Some("cases".into()),
    });
    let file = r#"
[[expect]]
id = "TOKEN-ACTOR-MISMATCH"
verdict = "fail"
reason = "known"
link = "https://tracker.example/1"
[[expect]]
id = "AT-ACT-CLAIM"
verdict = "fail"
reason = "fixed since"
[[expect]]
id = "NO-SUCH-CASE"
verdict = "error"
reason = "gone"
[[expect]]
id = "CODE-EXPIRED"
verdict = "error"
reason = "old"
expires = 2020-01-01
"#;
    let b = baseline::Baseline::parse(file).unwrap();
    baseline::judge_report(&mut r, &b, time::macros::date!(2026 - 11 - 29), "exp.toml");
    fill_replay(&mut r);
    assert!(!r.replay.is_empty());
    let value = serde_json::to_value(&r).unwrap();
    assert_eq!(errors(&v, &value), Vec::<String>::new());
    let back: Report = serde_json::from_value(value).unwrap();
    assert_eq!(back, r);
}
