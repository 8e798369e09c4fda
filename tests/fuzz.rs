//! Model-based fuzzing against the in-process reference server: the clean server shows no
//! counterexample in a small budget; a server with a fault that breaks a modelled property
//! yields one, shrunk to a short sequence that still shows it.

use obo_conformance::fuzz::model::Property;
use obo_conformance::fuzz::op::Op;
use obo_conformance::fuzz::{self, FuzzOptions, FuzzTarget};
use obo_conformance::profile::reference::ReferenceOptions;
use obo_reference_server::fault::Fault;

fn reference(faults: Vec<Fault>) -> FuzzTarget {
    FuzzTarget::Reference(ReferenceOptions {
        faults,
        ..Default::default()
    })
}

async fn fuzz_with(faults: Vec<Fault>, seed: u64, iterations: usize) -> fuzz::FuzzOutcome {
    let opts = FuzzOptions {
        seed,
        iterations,
        length: 10,
        ..Default::default()
    };
    match fuzz::fuzz(&reference(faults), &opts, |_| {}).await {
        Ok(o) => o,
        Err(e) => panic!("fuzzing could not run: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_server_shows_no_counterexample() {
    let out = fuzz_with(vec![], 7, 12).await;
    if let Some(cx) = &out.counterexample {
        panic!(
            "counterexample on the clean server: {:?}\n{}",
            cx.violation, cx.minimal.case_toml
        );
    }
    assert_eq!(out.sequences, 12);
    // The sequences did real work: most ran to their end.
    assert!(
        out.incomplete * 2 < out.sequences,
        "{} of {} sequences incomplete",
        out.incomplete,
        out.sequences
    );
}

fn assert_found(out: &fuzz::FuzzOutcome, property: Property, max_len: usize) -> &[Op] {
    let Some(cx) = &out.counterexample else {
        panic!("no counterexample in {} sequences", out.sequences);
    };
    assert_eq!(cx.violation.property, property, "{:?}", cx.violation);
    assert!(
        cx.minimal.ops.len() <= max_len,
        "not shrunk: {:#?}",
        cx.minimal.ops
    );
    assert!(cx.minimal.ops.len() <= cx.original.len());
    // The minimal sequence was re-run and still shows the violation.
    assert!(cx.minimal.violations.iter().any(|v| v.property == property));
    &cx.minimal.ops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_actor_binding_is_found_and_shrunk() {
    let out = fuzz_with(vec![Fault::SkipActorBinding], 1, 40).await;
    let ops = assert_found(&out, Property::ActorBinding, 2);
    assert!(matches!(ops.first(), Some(Op::Authorize { .. })), "{ops:?}");
    match (ops.first(), ops.get(1)) {
        (
            Some(Op::Authorize { actor, .. }),
            Some(Op::Redeem { with, .. } | Op::Parallel { with, .. }),
        ) => assert_ne!(actor, with),
        _ => panic!("unexpected minimal sequence {ops:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_atomic_redemption_is_found_and_shrunk() {
    let out = fuzz_with(vec![Fault::NonAtomicRedemption], 3, 40).await;
    let ops = assert_found(&out, Property::SingleUse, 2);
    assert!(
        ops.iter().any(|o| matches!(o, Op::Parallel { .. })),
        "{ops:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_counterexample_replays() {
    let out = fuzz_with(vec![Fault::SkipActorBinding], 1, 40).await;
    let Some(cx) = &out.counterexample else {
        panic!("no counterexample")
    };
    let dir = std::env::temp_dir().join(format!("obo-fuzz-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let file = dir.join("counterexample.json");
    let saved = fuzz::SavedSequence {
        seed: cx.seed,
        ops: cx.minimal.ops.clone(),
    };
    std::fs::write(&file, serde_json::to_string(&saved).unwrap_or_default()).unwrap_or_default();
    let again = match fuzz::replay(&reference(vec![Fault::SkipActorBinding]), &file).await {
        Ok(o) => o,
        Err(e) => panic!("replay failed: {e}"),
    };
    assert!(again
        .counterexample
        .is_some_and(|c| c.violation.property == Property::ActorBinding));
    // The same sequence on the clean server holds.
    let clean = match fuzz::replay(&reference(vec![]), &file).await {
        Ok(o) => o,
        Err(e) => panic!("replay failed: {e}"),
    };
    assert!(clean.counterexample.is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_carries_the_counterexample_as_a_failing_case() {
    let out = fuzz_with(vec![Fault::SkipActorBinding], 1, 40).await;
    let target = obo_report::Target {
        name: "reference".into(),
        issuer: "http://127.0.0.1".into(),
        revision: "02".into(),
        profile_digest: String::new(),
        capabilities: vec![],
    };
    let rep = fuzz::to_report(&out, &target, &Default::default());
    assert_eq!(rep.cases.len(), 1);
    let case = &rep.cases[0];
    assert_eq!(case.verdict, obo_report::Verdict::Fail);
    assert!(case.requirements.iter().any(|r| r == "OBO-TOKEN-12"));
    assert!(case.message.contains("seed 1"), "{}", case.message);
    assert!(!case.transcript.is_empty());
    assert_eq!(rep.summary.failed, 1);
}

/// The subcommand: exit 1 and a report with the failing case on a counterexample, exit 0 on
/// the clean server; the saved sequence replays through `--replay`.
#[test]
fn cli_exit_codes_report_and_replay() {
    let bin = env!("CARGO_BIN_EXE_obo-conformance");
    let dir = std::env::temp_dir().join(format!("obo-fuzz-cli-{}", std::process::id()));
    let run = |args: &[&str]| match std::process::Command::new(bin).args(args).output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run {bin}: {e}"),
    };
    let out = dir.join("faulty");
    let out_s = out.to_string_lossy().to_string();
    let o = run(&[
        "fuzz",
        "--fault",
        "skip-actor-binding",
        "--seed",
        "1",
        "--iterations",
        "30",
        "--out",
        &out_s,
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("COUNTEREXAMPLE (actor_binding)"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(out.join("report.json")).unwrap_or_default();
    let rep: obo_report::Report =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("report.json: {e}"));
    assert_eq!(rep.summary.failed, 1);
    assert_eq!(rep.seed, 1);
    let saved = out.join("counterexample.json");
    assert!(out.join("counterexample.toml").exists());
    let o = run(&[
        "fuzz",
        "--fault",
        "skip-actor-binding",
        "--replay",
        &saved.to_string_lossy(),
        "--out",
        &dir.join("replay").to_string_lossy(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let clean = dir.join("clean");
    let o = run(&[
        "fuzz",
        "--seed",
        "1",
        "--iterations",
        "10",
        "--out",
        &clean.to_string_lossy(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The counterexample as a case file of the case language: `run` fails it on the faulty server
/// and passes it on the clean one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counterexample_case_file_fails_on_the_faulty_server_only() {
    use obo_conformance::fuzz::script::{self, Style};
    use std::sync::Arc;
    for fault in [
        Fault::NonAtomicRedemption,
        Fault::RsIgnoresAct,
        Fault::DisabledActorAccepted,
        Fault::RefreshScopeEscalation,
        Fault::RefreshClientUnchecked,
    ] {
        let out = fuzz_with(vec![fault], 7, 60).await;
        let Some(cx) = &out.counterexample else {
            panic!("{fault:?}: no counterexample")
        };
        let text = match script::counterexample_toml(
            "FUZZ-CX",
            &cx.minimal.ops,
            Style { claims: true },
            &cx.violation,
        ) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let case: obo_conformance::case::Case =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let opts = obo_conformance::run::RunOptions {
            seed: 5,
            ..Default::default()
        };
        for (faults, want) in [
            (vec![fault], obo_report::Verdict::Fail),
            (vec![], obo_report::Verdict::Pass),
        ] {
            let target = match obo_conformance::profile::reference::reference(ReferenceOptions {
                faults,
                ..Default::default()
            })
            .await
            {
                Ok(t) => Arc::new(t),
                Err(e) => panic!("{e}"),
            };
            let r = obo_conformance::run::run_case(target.clone(), &case, &opts).await;
            target.shutdown().await;
            assert_eq!(r.verdict, want, "{fault:?}: {}\n{text}", r.message);
        }
    }
}
