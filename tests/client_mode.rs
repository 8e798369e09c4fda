//! Client conformance mode end to end: the reference agent client passes every client scenario,
//! each of its fault switches is caught by a scenario citing the requirement it breaks, and a
//! run writes the five report artefacts with no secret in them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use obo_conformance::catalog;
use obo_conformance::client::driver::ClientUnderTest;
use obo_conformance::client::{self, selfcheck, Options};
use obo_report::Verdict;

fn catalogue() -> catalog::Catalog {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    catalog::load(&dir).unwrap_or_else(|e| panic!("the shipped catalogue must load: {e}"))
}

/// The reference agent client, built if needed (it is another package of the workspace).
fn agent_client() -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    // The test's own CARGO_PKG_* / CARGO_MANIFEST_* variables would change the fingerprints of
    // build scripts and rebuild half the tree: hand cargo a clean environment.
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_TARGET_DIR" {
            cmd.env_remove(k);
        }
    }
    let status = cmd
        .args(["build", "-q", "-p", "obo-agent-client"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p obo-agent-client failed");
    client::default_command().expect("target/debug/obo-agent-client exists after the build")
}

fn options(line: &str) -> Options {
    Options {
        client: ClientUnderTest::Command {
            line: line.to_string(),
            timeout: Duration::from_secs(30),
        },
        port: 0,
        redirect_uri: None,
        seed: 7,
        announce: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_client_passes_and_every_fault_is_caught() {
    let cat = catalogue();
    let scenarios = client::load(&cat).expect("client scenarios load");
    assert!(scenarios.len() >= 9, "{} client scenarios", scenarios.len());
    let line = agent_client();
    let outcome = selfcheck::run(&scenarios, &line, &options(&line), 2)
        .await
        .expect("selfcheck runs");
    assert!(
        outcome.clean_problems.is_empty(),
        "the clean client must pass: {:?}",
        outcome.clean_problems
    );
    assert!(outcome.rows.len() >= 13, "{} faults", outcome.rows.len());
    assert!(
        outcome.uncaught().is_empty(),
        "uncaught faults:\n{}",
        selfcheck::render(&outcome)
    );
    // Each fault is caught under the requirement it breaks (not only by an unrelated case).
    for row in &outcome.rows {
        for id in &row.relevant {
            let s = scenarios
                .iter()
                .find(|s| &s.id == id)
                .expect("known scenario");
            let cites = s.all_requirements();
            assert!(row.fault.requirements.iter().any(|r| cites.contains(r)));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_writes_five_artefacts_without_secrets() {
    let cat = catalogue();
    let scenarios = client::load(&cat).expect("client scenarios load");
    let line = format!("{} --fault secret-in-query", agent_client());
    let mut report = client::run_all(&scenarios, &cat, &options(&line), "test").await;
    let failed: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| c.id.as_str())
        .collect();
    assert!(
        failed.contains(&"CLIENT-CREDENTIALS-CONFINED"),
        "{failed:?}"
    );
    let out: PathBuf = std::env::temp_dir().join(format!("obo-client-mode-{}", std::process::id()));
    let files = obo_conformance::artefacts::write_run(&mut report, &out).expect("written");
    assert_eq!(files.len(), 5, "{files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        for secret in ["obo-client-secret", "agent-a-secret", "forged-"] {
            // The forged state is the suite's own value, redacted like any state.
            assert!(!text.contains(secret), "{} leaks {secret}", f.display());
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[tokio::test]
async fn a_client_that_does_nothing_is_a_harness_error_not_a_pass() {
    let cat = catalogue();
    let scenarios = client::load(&cat).expect("client scenarios load");
    let s = scenarios
        .iter()
        .find(|s| s.id == "CLIENT-AUTHZ-REQUEST")
        .expect("scenario");
    let r = client::run_scenario(s, &options("true")).await;
    assert_eq!(r.verdict, Verdict::Error, "{}", r.message);
    assert!(r.message.contains("no request"), "{}", r.message);
}

#[test]
fn hostile_scenario_files_name_the_field() {
    let cat = catalogue();
    let dir = std::env::temp_dir().join(format!("obo-client-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("bad.toml"),
        "id = \"X\"\ntitle = \"t\"\ndescription = \"d\"\nrequirements = [\"OBO-NOPE\"]\nlevel = \"MUST\"\n\
         [[expect]]\ncheck = \"token_params\"\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("typo.toml"),
        "id = \"Y\"\ntitle = \"t\"\ndescription = \"d\"\nrequirements = [\"OBO-AUTHZ-1\"]\nlevel = \"MUST\"\nbehavior = \"normal\"\n[[expect]]\ncheck = \"pkce_s256\"\n",
    )
    .expect("write");
    let errors = client::scenario::load_dir(&dir, &cat.requirements).expect_err("invalid");
    let all = errors.join("\n");
    assert!(all.contains("OBO-NOPE"), "{all}");
    assert!(all.contains("params"), "{all}");
    assert!(all.contains("behavior"), "{all}");
    let _ = std::fs::remove_dir_all(&dir);
}
