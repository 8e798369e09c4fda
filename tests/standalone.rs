//! The binary carries its catalogue: copied alone into an empty folder it runs the whole
//! catalogue against the built-in reference; a `cases/` folder in the working directory is
//! used only when named (`--cases-dir`, `OBO_CASES_DIR`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lonely_binary(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("obo-standalone-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bin = dir.join("obo-conformance");
    std::fs::copy(env!("CARGO_BIN_EXE_obo-conformance"), &bin).expect("copy the binary");
    (dir, bin)
}

fn run_in(dir: &Path, bin: &Path, args: &[&str], cases_env: Option<&str>) -> Output {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("OBO_CASES_DIR")
        .args(args);
    if let Some(v) = cases_env {
        cmd.env("OBO_CASES_DIR", v);
    }
    // A binary copied while another test thread forks can be briefly held open for writing by
    // the child (the copy's descriptor is inherited until exec), and exec then fails with
    // ETXTBSY; the kernel clears it as soon as that child execs, so a few retries suffice.
    let mut tries = 0;
    loop {
        match cmd.output() {
            Err(e) if e.raw_os_error() == Some(26) && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other.expect("the binary runs"),
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_binary_alone_runs_the_whole_catalogue() {
    let (dir, bin) = lonely_binary("alone");
    let o = run_in(
        &dir,
        &bin,
        &[
            "run",
            "--target",
            "reference",
            "--seed",
            "1",
            "--out",
            "out",
        ],
        None,
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    let listed = run_in(&dir, &bin, &["list"], None);
    let count = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(
        all.contains(&format!("{} against reference", count.trim())),
        "{count}\n{all}"
    );
    for name in obo_report::ARTEFACTS {
        assert!(dir.join("out").join(name).is_file(), "{name} missing");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_local_cases_folder_is_used_only_when_named() {
    let (dir, bin) = lonely_binary("local");
    let local = dir.join("cases");
    std::fs::create_dir_all(&local).expect("cases dir");
    std::fs::write(local.join("requirements.toml"), "not = [valid").expect("write");
    // Not named: the embedded catalogue runs.
    let o = run_in(&dir, &bin, &["list"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Named by flag or environment: the broken folder is read and refused (exit 3).
    let o = run_in(&dir, &bin, &["--cases-dir", "cases", "list"], None);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("requirements.toml"), "{}", text(&o));
    let o = run_in(&dir, &bin, &["list"], Some("cases"));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
