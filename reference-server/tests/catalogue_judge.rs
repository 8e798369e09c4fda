//! The judge of mutation testing (scripts/mutants.sh): the whole case catalogue, run by a
//! prebuilt `obo-conformance` binary over HTTP, against this crate's server started in-process.
//!
//! Under cargo-mutants this crate is the one mutated, so each mutant rebuilds only this crate and
//! this test binary; the harness is built once from the unmutated tree and named by
//! `OBO_HARNESS_BIN`. Without that variable the test has nothing to judge with and returns
//! (it passes), so `cargo test --workspace` does not need the harness built first.
//!
//! The server runs under the same four variants as the selfcheck (auto-consent -02, real login
//! and consent pages -02, auto-consent -00 and -01). As in the selfcheck's kill matrix, the
//! catalogue rejects the server when a case fails or warns under some variant (on the clean
//! server none does). A case that errors (the harness could not drive the server to its check)
//! or skips is not a rejection; a run that cannot open the target at all (every case errors, or
//! no report: the JWKS or the control API unusable) is, since the server is then unusable as a
//! target.
//!
//! A mutant is caught when this test fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use obo_reference_server::{spawn, Config, ConsentUi, Revision};

/// The harness's built-in profiles; `@BASE@` and `@REVISION@` are filled in per server.
const AUTO: &str = include_str!("../../src/target/reference-auto.toml");
const FORM: &str = include_str!("../../src/target/reference-form.toml");

/// Every endpoint named in the profile (docs/contracts.md §1), so that the run does not depend
/// on the metadata document: a mutant that breaks the metadata is judged by the discovery cases
/// instead of stopping discovery, and one that drops an endpoint from it does not turn that
/// endpoint's cases into skips.
const ENDPOINTS: &str = r#"
[endpoints]
authorization = "@BASE@/authorize"
token = "@BASE@/token"
jwks = "@BASE@/jwks"
introspection = "@BASE@/introspect"
revocation = "@BASE@/revoke"
control = "@BASE@/control"
"#;

/// One way to start the server, and the profile that drives it.
struct Variant {
    name: &'static str,
    form: bool,
    revision: Revision,
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "auto-02",
        form: false,
        revision: Revision::R02,
    },
    Variant {
        name: "form-02",
        form: true,
        revision: Revision::R02,
    },
    Variant {
        name: "auto-00",
        form: false,
        revision: Revision::R00,
    },
    Variant {
        name: "auto-01",
        form: false,
        revision: Revision::R01,
    },
];

/// The harness's per-request timeout (seconds): a mutant that hangs a request ends as an error
/// verdict, not as a stuck judge.
const REQUEST_TIMEOUT_SECS: &str = "5";

/// What one variant's run said.
struct Outcome {
    exit: Option<i32>,
    /// Case ID → verdict ("pass", "fail", "warn", "skip", "error").
    verdicts: BTreeMap<String, String>,
    /// The harness's output (failures and totals only: `--quiet`).
    text: String,
}

async fn run_variant(harness: &Path, dir: &Path, v: &Variant) -> Outcome {
    let handle = spawn(Config {
        auto_consent: (!v.form).then(|| "alice".to_string()),
        control_api: true,
        revision: v.revision,
        consent_ui: ConsentUi::Html,
        ..Config::default()
    })
    .await
    .expect("the server starts");
    let base = handle.base_url();
    let template = if v.form { FORM } else { AUTO };
    let profile = format!("{template}{ENDPOINTS}")
        .replace("@REVISION@", v.revision.as_str())
        .replace("@BASE@", &base);
    let profile_path = dir.join(format!("{}.toml", v.name));
    std::fs::write(&profile_path, profile).expect("write the profile");
    let out = dir.join(v.name);
    let output = tokio::process::Command::new(harness)
        .env("NO_COLOR", "1")
        .env_remove("OBO_CASES_DIR")
        .arg("run")
        .arg("--target")
        .arg(&profile_path)
        .args(["--seed", "1", "--quiet", "--fail-on-warn"])
        .args(["--timeout", REQUEST_TIMEOUT_SECS])
        .arg("--out")
        .arg(&out)
        .kill_on_drop(true)
        .output()
        .await
        .expect("the harness runs");
    handle.shutdown().await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Outcome {
        exit: output.status.code(),
        verdicts: verdicts(&out.join("report.json")),
        text,
    }
}

/// Case ID → verdict from a run's report.json (empty when the run wrote none).
fn verdicts(report: &Path) -> BTreeMap<String, String> {
    let Ok(text) = std::fs::read_to_string(report) else {
        return BTreeMap::new();
    };
    let json: serde_json::Value = serde_json::from_str(&text).expect("report.json is JSON");
    json["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some((
                c["id"].as_str()?.to_string(),
                c["verdict"].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obo-catalogue-judge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_accepts_the_server() {
    let Some(harness) = std::env::var_os("OBO_HARNESS_BIN").filter(|v| !v.is_empty()) else {
        eprintln!("OBO_HARNESS_BIN is not set: nothing to judge with (scripts/mutants.sh sets it)");
        return;
    };
    let harness = PathBuf::from(harness);
    assert!(
        harness.is_file(),
        "OBO_HARNESS_BIN {harness:?} is not a file"
    );
    let dir = scratch_dir();
    // One variant after the other, stopping at the first that rejects the server: a caught
    // mutant mostly costs one catalogue run, a missed one four.
    for v in VARIANTS {
        let outcome =
            tokio::time::timeout(Duration::from_secs(120), run_variant(&harness, &dir, v))
                .await
                .unwrap_or_else(|_| panic!("{}: the catalogue run did not end in 120 s", v.name));
        let rejected: Vec<String> = outcome
            .verdicts
            .iter()
            .filter(|(_, verdict)| *verdict == "fail" || *verdict == "warn")
            .map(|(id, verdict)| format!("{verdict} {id}"))
            .collect();
        let unusable = outcome.verdicts.values().all(|verdict| verdict == "error");
        assert!(
            rejected.is_empty() && !unusable,
            "{}: the catalogue rejects the server (exit {:?}): {rejected:?}\n{}",
            v.name,
            outcome.exit,
            outcome.text
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
