//! `obo-conformance fuzz --target profile.toml` against a server it does not control: the
//! reference server started as a separate process (its own binary, no control API, headless
//! auto-consent), reached only through a profile. Each sequence is self-contained (no reset),
//! and the fuzzer finds, unaided and from a fixed seed, each of four defects: a token endpoint
//! that ignores the actor binding, a non-atomic code redemption, scope escalation on refresh
//! and a refresh token redeemable by another client. The clean server shows nothing over the
//! same budget. With real login and consent pages (form driver) and a second user, denials run
//! without any reset or consent revocation, and a server whose Deny still issues a code is found.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// Sequences per run: each defect is found well within it (the test prints the sequence that
/// found it), and the clean server gets the same budget.
const ITERATIONS: &str = "40";
const SEED: &str = "3";
/// Sequences per run with the form driver (15% of them are the second user's denials).
const FORM_ITERATIONS: &str = "60";
/// Seed and sequences per run with the clock and actor hooks (an expired code needs an
/// authorization, 600 s of clock and a redemption in one sequence: found at sequence 5).
const HOOK_SEED: &str = "1";
const HOOK_ITERATIONS: &str = "60";

/// The reference server binary (another package of the workspace). `cargo test --workspace`
/// builds it next to this package's binary (its package has integration tests); when it is
/// missing or older than the server's sources (this test run alone after a change there), it is
/// built here.
fn server_binary() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_obo-conformance"))
        .parent()
        .expect("the binary has a folder")
        .to_path_buf();
    let bin = dir.join(format!(
        "obo-reference-server{}",
        std::env::consts::EXE_SUFFIX
    ));
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference-server");
    if built.is_none_or(|b| newest(&sources).is_some_and(|s| s > b)) {
        build_server();
    }
    assert!(bin.exists(), "{} missing after the build", bin.display());
    bin
}

/// The newest modification time of the files under `dir`.
fn newest(dir: &Path) -> Option<std::time::SystemTime> {
    let mut latest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        latest = latest.max(t);
    }
    latest
}

fn build_server() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    // The test's own CARGO_* variables would change build-script fingerprints: hand cargo a
    // clean environment.
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_TARGET_DIR" {
            cmd.env_remove(k);
        }
    }
    let status = cmd
        .args(["build", "-q", "-p", "obo-reference-server"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "cargo build -p obo-reference-server failed"
    );
}

/// A running server process, killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_with_retry(cmd: &mut Command) -> Child {
    // A binary freshly written by cargo can be briefly held open for writing by a child forked
    // by another test thread (ETXTBSY until that child execs): retry a few times.
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(26) && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other.expect("the server starts"),
        }
    }
}

fn start(bin: &Path, fault: Option<&str>, consent: Consent) -> Server {
    let mut cmd = Command::new(bin);
    cmd.args(["--port", "0"]);
    if consent != Consent::Form {
        cmd.args(["--auto-consent", "alice"]);
    }
    if consent == Consent::AutoWithHooks {
        cmd.arg("--control-api");
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    if let Some(f) = fault {
        cmd.args(["--fault", f]);
    }
    let mut child = spawn_with_retry(&mut cmd);
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    let _ = BufReader::new(stdout).read_line(&mut line);
    let base = line.trim().to_string();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "server said {base:?}"
    );
    Server { child, base }
}

/// How the server is seen.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Consent {
    /// Headless: the authorization endpoint answers with the code redirect.
    Auto,
    /// The server's HTML login and consent pages, through the `form` driver.
    Form,
    /// Headless, and the server's test API (`--control-api`) mapped by the profile's control
    /// adapter for the clock and the actors only: no reset, no consent revocation.
    AutoWithHooks,
}

/// The control adapter of [`Consent::AutoWithHooks`].
const HOOKS: &str = r#"
[control.advance_clock]
hook = "contract"

[control.disable_actor]
hook = "contract"

[control.enable_actor]
hook = "contract"
"#;

/// The form driver over the server's HTML pages, and the second user it needs.
const FORM_CONSENT: &str = r#"[user.second]
username = "bob"
password = "bob-password"
sub = "user-bob"

[consent]
driver = "form"

[[consent.page]]
match = "*/login*"
role = "login"
fill = { username = "${user.username}", password = "${user.password}" }

[[consent.page]]
match = "*/consent*"
role = "consent"
approve = "Approve"
deny = "Deny"
"#;

/// The vendor-style profile of the server (examples/targets/reference-subprocess-no-control.toml:
/// no control API, a second client, an extra scope the user never consents to) pointed at
/// `base`, with the consent driver `consent`.
fn profile(base: &str, consent: Consent) -> String {
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/targets/reference-subprocess-no-control.toml");
    let text = std::fs::read_to_string(&example).expect("the example profile");
    let text = text.replace("http://127.0.0.1:8080", base);
    match consent {
        Consent::Auto => text,
        Consent::AutoWithHooks => text + HOOKS,
        Consent::Form => text
            .replace(
                "\"second_client\",",
                "\"second_client\", \"interactive_consent\", \"second_user\",",
            )
            .replace("[consent]\ndriver = \"auto\"\n", FORM_CONSENT),
    }
}

/// `obo-conformance fuzz --target <profile>` against a fresh server process with `fault`.
fn fuzz(
    bin: &Path,
    fault: Option<&str>,
    consent: Consent,
    (seed, iterations): (&str, &str),
    dir: &Path,
) -> (Output, String) {
    let server = start(bin, fault, consent);
    let name = format!(
        "{}-{}",
        fault.unwrap_or("clean"),
        match consent {
            Consent::Auto => "auto",
            Consent::Form => "form",
            Consent::AutoWithHooks => "hooks",
        }
    );
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, profile(&server.base, consent)).expect("write the profile");
    let out = dir.join(name);
    let o = Command::new(env!("CARGO_BIN_EXE_obo-conformance"))
        .env("NO_COLOR", "1")
        .args([
            "fuzz",
            "--target",
            &file.to_string_lossy(),
            "--seed",
            seed,
            "--iterations",
            iterations,
            "--length",
            "10",
            "--shrink-runs",
            "40",
            "--out",
            &out.to_string_lossy(),
        ])
        .output()
        .expect("the harness runs");
    drop(server);
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o, text)
}

#[test]
fn fuzz_target_finds_each_defect_of_a_separate_process_and_nothing_on_the_clean_one() {
    let bin = server_binary();
    let dir = std::env::temp_dir().join(format!("obo-fuzz-vendor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let started = std::time::Instant::now();
    for (fault, property, requirement) in [
        ("skip-actor-binding", "actor_binding", "OBO-TOKEN-12"),
        ("non-atomic-redemption", "single_use", "OBO-SEC-3"),
        ("refresh-scope-escalation", "scope_escalation", "OBO-INH-9"),
        ("refresh-client-unchecked", "cross_client", "OBO-SEC-6"),
    ] {
        let t = std::time::Instant::now();
        let (o, text) = fuzz(&bin, Some(fault), Consent::Auto, (SEED, ITERATIONS), &dir);
        assert_eq!(o.status.code(), Some(1), "{fault}: {text}");
        assert!(
            text.contains(&format!("COUNTEREXAMPLE ({property})")),
            "{fault}: {text}"
        );
        assert!(text.contains(requirement), "{fault}: {text}");
        // No reset and no control operation: the clock, actor and consent operations are
        // left out, and the output says so.
        assert!(text.contains("left out: advance the clock"), "{text}");
        eprintln!(
            "{fault}: {} ({:.1} s)",
            text.lines()
                .find(|l| l.starts_with("COUNTEREXAMPLE"))
                .unwrap_or_default(),
            t.elapsed().as_secs_f64()
        );
    }
    let t = std::time::Instant::now();
    let (o, text) = fuzz(&bin, None, Consent::Auto, (SEED, ITERATIONS), &dir);
    assert_eq!(o.status.code(), Some(0), "clean: {text}");
    assert!(text.contains("no counterexample"), "{text}");
    eprintln!("clean: {:.1} s", t.elapsed().as_secs_f64());
    eprintln!("total: {:.1} s", started.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Consent pages without any control operation: the second user's denials (in sequences of
/// their own, so neither user's sign-in is reused for the other) are observable on a shared
/// target whose stored consents are never reset.
#[test]
fn denials_run_without_a_reset_through_the_second_user() {
    let bin = server_binary();
    let dir = std::env::temp_dir().join(format!("obo-fuzz-consent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (o, text) = fuzz(
        &bin,
        Some("consent-deny-ignored"),
        Consent::Form,
        (SEED, FORM_ITERATIONS),
        &dir,
    );
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("COUNTEREXAMPLE (consent)"), "{text}");
    assert!(text.contains("deny, second user"), "{text}");
    assert!(text.contains("OBO-AUTHZ-15"), "{text}");
    assert!(!text.contains("left out: deny consent"), "{text}");
    let (o, text) = fuzz(&bin, None, Consent::Form, (SEED, FORM_ITERATIONS), &dir);
    assert_eq!(o.status.code(), Some(0), "clean: {text}");
    assert!(text.contains("no counterexample"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The control adapter is used for what it maps, without a reset: clock operations find a code
/// redeemed after its lifetime, and the clean server shows nothing.
#[test]
fn mapped_clock_and_actor_operations_are_used_without_a_reset() {
    let bin = server_binary();
    let dir = std::env::temp_dir().join(format!("obo-fuzz-hooks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (o, text) = fuzz(
        &bin,
        Some("code-expiry-unchecked"),
        Consent::AutoWithHooks,
        (HOOK_SEED, HOOK_ITERATIONS),
        &dir,
    );
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("COUNTEREXAMPLE (code_expiry)"), "{text}");
    assert!(text.contains("OBO-SEC-4"), "{text}");
    assert!(text.contains("left out: revoke consent"), "{text}");
    assert!(!text.contains("left out: advance the clock"), "{text}");
    let (o, text) = fuzz(
        &bin,
        None,
        Consent::AutoWithHooks,
        (HOOK_SEED, HOOK_ITERATIONS),
        &dir,
    );
    assert_eq!(o.status.code(), Some(0), "clean: {text}");
    assert!(text.contains("no counterexample"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
