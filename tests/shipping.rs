//! The shipping files: the GitHub Action's script with fake GITHUB_* variables, the GitLab
//! template's job script, the Kubernetes manifest's profile, and the offline schema validation of
//! every CI/deployment file (ci/validate-shipping.sh). The release build and the container image
//! are too heavy for the test suite: scripts/release.sh and ci/container/build-ci-image.sh prove
//! those (docs/ci.md).
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_obo-conformance");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh folder per test; outside the repository so that no `./cases` is picked up.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obo-shipping-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn show(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs ci/github/action.sh run as the action's step does, with GitHub's files faked.
struct ActionRun {
    out: Output,
    summary: String,
    outputs: String,
    out_dir: PathBuf,
}

fn action_run(name: &str, inputs: &[(&str, &str)]) -> ActionRun {
    let dir = scratch(name);
    let summary = dir.join("step-summary.md");
    let outputs = dir.join("github-output");
    let out_dir = dir.join("report");
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("ci/github/action.sh"))
        .arg("run")
        .current_dir(&dir)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("INPUT_BINARY", BIN)
        .env("INPUT_OUT", &out_dir)
        .env_remove("OBO_DEFER_EXIT");
    for (k, v) in inputs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run ci/github/action.sh");
    ActionRun {
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
        out,
        out_dir,
    }
}

#[test]
fn action_script_writes_the_summary_and_exits_with_the_run() {
    let run = action_run(
        "action-clean",
        &[("INPUT_PROFILE", "reference"), ("INPUT_ARGS", "--seed 1")],
    );
    assert_eq!(run.out.status.code(), Some(0), "{}", show(&run.out));
    let report_md = read(&run.out_dir.join("report.md"));
    assert!(
        run.summary.starts_with(&report_md),
        "the summary starts with report.md:\n{}",
        run.summary
    );
    assert!(run.summary.contains("exited with 0: no unexpected result"));
    assert!(run.outputs.contains("exit-code=0\n"), "{}", run.outputs);
    let sarif = run.out_dir.join("report.sarif");
    assert!(
        run.outputs
            .contains(&format!("sarif={}\n", sarif.display())),
        "{}",
        run.outputs
    );
}

#[test]
fn action_script_defers_a_failing_exit_code_to_the_last_step() {
    // A fault of the built-in reference makes cases fail: exit 1 from the suite. With
    // OBO_DEFER_EXIT (as action.yml sets it) the step succeeds and the code is an output.
    let run = action_run(
        "action-fail",
        &[
            ("INPUT_PROFILE", "reference"),
            ("INPUT_CASES", "TOKEN-*"),
            ("INPUT_STRICT", "true"),
            ("INPUT_ARGS", "--seed 1 --fault skip-actor-binding"),
            ("OBO_DEFER_EXIT", "true"),
        ],
    );
    assert_eq!(run.out.status.code(), Some(0), "{}", show(&run.out));
    assert!(run.outputs.contains("exit-code=1\n"), "{}", run.outputs);
    let stdout = String::from_utf8_lossy(&run.out.stdout);
    assert!(
        stdout.contains("--cases TOKEN-*") && stdout.contains("--strict"),
        "inputs become arguments: {stdout}"
    );
    assert!(run
        .summary
        .starts_with(&read(&run.out_dir.join("report.md"))));
    assert!(
        run.summary
            .contains("exited with 1: the target failed a case"),
        "{}",
        run.summary
    );
}

#[test]
fn action_script_summarises_a_run_that_wrote_no_report() {
    let run = action_run(
        "action-noreport",
        &[("INPUT_PROFILE", "no-such-profile.toml")],
    );
    assert_eq!(run.out.status.code(), Some(3), "{}", show(&run.out));
    assert!(
        run.summary.contains("no report") && run.summary.contains("exited with 3"),
        "{}",
        run.summary
    );
    assert!(run.outputs.contains("exit-code=3\n"), "{}", run.outputs);
    assert!(run.outputs.contains("sarif=\n"), "{}", run.outputs);
}

/// The job script of the GitLab template, between its begin/end marker comments, unindented.
fn gitlab_job_script() -> String {
    let text = read(&repo().join("ci/gitlab/obo-conformance.gitlab-ci.yml"));
    let begin = text
        .find("# obo-conformance job script: begin")
        .expect("begin marker");
    let end = text
        .find("# obo-conformance job script: end")
        .expect("end marker");
    let block = &text[begin..end];
    let body = block
        .split_once("- |\n")
        .expect("a literal block after the begin marker")
        .1;
    body.lines()
        .map(|l| l.strip_prefix("      ").unwrap_or(l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn gitlab_template_script_runs_and_produces_the_declared_artefacts() {
    let dir = scratch("gitlab");
    let bin_dir = Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // GitLab runs job scripts under bash with -e and pipefail.
    let out = Command::new("bash")
        .args(["-eo", "pipefail", "-c", &gitlab_job_script()])
        .current_dir(&dir)
        .env("PATH", path)
        .env("CI_PROJECT_DIR", &dir)
        .env("OBO_PROFILE", "reference")
        .env("OBO_EXPECTATIONS", "")
        .env("OBO_CASES", "")
        .env("OBO_CASES_DIR", "")
        .env("OBO_STRICT", "false")
        .env("OBO_ARGS", "--seed 1 --fault skip-actor-binding")
        .env("OBO_CONFORMANCE_GIT", "")
        .env("OBO_CONFORMANCE_VERSION", "")
        .output()
        .expect("run the GitLab job script");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));

    let template = read(&repo().join("ci/gitlab/obo-conformance.gitlab-ci.yml"));
    let declared: Vec<&str> = template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- out/"))
        .collect();
    assert_eq!(
        declared,
        [
            "report.json",
            "report.html",
            "report.md",
            "junit.xml",
            "report.sarif"
        ]
    );
    for f in declared {
        assert!(dir.join("out").join(f).is_file(), "out/{f} written");
    }
    assert!(template.contains("junit: out/junit.xml"));
    assert!(template.contains("when: always"));
}

/// The shell script of a YAML literal block, from its line containing `marker` to the end of the
/// block (the first line indented less than the marker line), unindented.
fn literal_block_from(text: &str, marker: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("marker {marker:?}"));
    let indent = lines[first].len() - lines[first].trim_start().len();
    lines[first..]
        .iter()
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() >= indent)
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn interop_workflow_plans_targets_times_shards() {
    let text = read(&repo().join("deploy/github/interop-matrix.yml"));
    let script = literal_block_from(&text, "# matrix plan");
    let dir = scratch("plan");
    let output = dir.join("github-output");
    let out = Command::new("bash")
        .args(["-c", &script])
        .env("GITHUB_OUTPUT", &output)
        .env("TARGETS", "reference targets/acme.toml targets/v&b.toml")
        .env("SHARDS", "3")
        .output()
        .expect("run the plan script");
    if String::from_utf8_lossy(&out.stderr).contains("jq: command not found") {
        eprintln!("SKIPPED: jq is not installed (GitHub's runners have it)");
        return;
    }
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        read(&output),
        "targets=[{\"name\":\"reference\",\"profile\":\"reference\"},\
         {\"name\":\"acme\",\"profile\":\"targets/acme.toml\"},\
         {\"name\":\"v-b\",\"profile\":\"targets/v&b.toml\"}]\nshards=[1,2,3]\n"
    );

    let bad = Command::new("bash")
        .args(["-c", &script])
        .env("GITHUB_OUTPUT", &output)
        .env("TARGETS", "reference")
        .env("SHARDS", "0")
        .output()
        .expect("run the plan script");
    assert_eq!(bad.status.code(), Some(3), "{}", show(&bad));
}

#[test]
fn kubernetes_profile_is_a_valid_profile() {
    let text = read(&repo().join("deploy/k8s/indexed-job.yaml"));
    let start = text
        .find("profile.toml: |\n")
        .expect("profile.toml in the Secret")
        + 16;
    let profile: String = text[start..]
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| format!("{}\n", l.get(4..).unwrap_or("")))
        .collect();
    let file = scratch("k8s").join("profile.toml");
    std::fs::write(&file, profile).expect("write profile");
    let out = Command::new(BIN)
        .arg("validate-profile")
        .arg(&file)
        .output()
        .expect("run validate-profile");
    assert!(out.status.success(), "{}", show(&out));
}

/// Exit code of ci/validate-shipping.sh when a validator is not installed.
const VALIDATOR_MISSING: i32 = 4;

#[test]
fn shipping_files_validate_against_their_schemas_offline() {
    let out = Command::new("bash")
        .arg(repo().join("ci/validate-shipping.sh"))
        .output()
        .expect("run ci/validate-shipping.sh");
    if out.status.code() == Some(VALIDATOR_MISSING) && std::env::var("CI").as_deref() != Ok("true")
    {
        eprintln!(
            "SKIPPED: schema validators not installed (pip install check-jsonschema \
             kubernetes-validate); .ci/run installs them and sets CI=true\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    assert!(out.status.success(), "{}", show(&out));
}

#[test]
fn shell_scripts_parse() {
    for script in [
        "scripts/release.sh",
        "ci/github/action.sh",
        "ci/validate-shipping.sh",
        "ci/container/build-ci-image.sh",
    ] {
        let out = Command::new("bash")
            .arg("-n")
            .arg(repo().join(script))
            .output()
            .expect("bash -n");
        assert!(out.status.success(), "{script}: {}", show(&out));
    }
}
