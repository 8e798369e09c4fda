//! No artefact carries a secret: the renderers add none to a redacted report, and the scanner
//! the harness runs over a real run's artefacts does find one that slipped through.

mod common;

use obo_report::leak::scan_dir;
use obo_report::*;

fn out_dir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("obo-report-{name}-{}", std::process::id()))
}

#[test]
fn artefacts_of_a_redacted_run_carry_no_secret() {
    let dir = out_dir("redacted");
    write_all(&common::synthetic(), &dir).unwrap();
    let leaks = scan_dir(&dir, &common::DEMO_SECRETS).unwrap();
    assert!(leaks.is_empty(), "{leaks:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// If the harness ever let a secret or a signature through, every artefact that shows the
/// field would be caught, in each format's own encoding.
#[test]
fn the_scan_catches_a_secret_in_every_artefact() {
    let mut r = common::synthetic();
    let signature = "MEUCIQDx3kq1uU7hVQ9yZt1m0rj8ZkSAbbU4yB2J3vEo4vQ8SAIgZ7o2yQ1p";
    r.cases[0].message = "client_secret=obo-client-secret rejected".into();
    r.cases[0].transcript[1].request.body = Some(format!(
        "actor_token=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.{signature}"
    ));
    let dir = out_dir("leaky");
    write_all(&r, &dir).unwrap();
    let leaks = scan_dir(&dir, &common::DEMO_SECRETS).unwrap();
    let files = |what: &str| {
        let mut f: Vec<String> = leaks
            .iter()
            .filter(|l| l.what == what)
            .map(|l| l.file.file_name().unwrap().to_string_lossy().into())
            .collect();
        f.sort();
        f
    };
    assert_eq!(
        files("secret #1"),
        ARTEFACTS
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert_eq!(files("JWT signature"), ["report.html", "report.json"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every artefact of the checked-in real run against the reference server.
#[test]
fn artefacts_of_the_example_run_carry_no_secret() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../reports/example/reference-skip-actor-binding");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), ARTEFACTS.len(), "all five artefacts are there");
    let leaks = scan_dir(&dir, &common::DEMO_SECRETS).unwrap();
    assert!(leaks.is_empty(), "{leaks:?}");
}
