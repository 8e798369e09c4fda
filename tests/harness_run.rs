//! The runner end to end: the fixture catalogue against the in-process reference server (clean,
//! faulty, -00 wire names, real pages with the form driver), consent drivers that cannot
//! finish, a hanging target, and determinism under a seed.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use obo_conformance::catalog::{self, Catalog};
use obo_conformance::profile::reference::{reference, ReferenceOptions};
use obo_conformance::profile::{self, Target};
use obo_conformance::run::{self, RunOptions};
use obo_reference_server::fault::Fault;
use obo_report::{Report, Verdict};

fn fixture() -> Catalog {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cases");
    catalog::load(&dir).unwrap_or_else(|e| panic!("{e}"))
}

fn verdict(report: &Report, id: &str) -> Verdict {
    match report.cases.iter().find(|c| c.id == id) {
        Some(c) => c.verdict,
        None => panic!("no result for {id}"),
    }
}

fn opts(seed: u64) -> RunOptions {
    RunOptions {
        seed,
        jobs: 4,
        ..Default::default()
    }
}

async fn run_fixture(o: ReferenceOptions) -> Report {
    let cat = fixture();
    let target = Arc::new(reference(o).await.unwrap_or_else(|e| panic!("{e}")));
    let report = run::run_catalog(target.clone(), &cat, &cat.cases, &opts(7)).await;
    target.shutdown().await;
    report
}

fn describe(report: &Report) -> String {
    report
        .cases
        .iter()
        .map(|c| format!("{} {:?} {}", c.id, c.verdict, c.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_verdicts_against_the_clean_reference() {
    let report = run_fixture(ReferenceOptions::default()).await;
    let text = describe(&report);
    for c in &report.cases {
        let want = if c.id == "FX-CONSENT-DENY" {
            Verdict::Skip
        } else {
            Verdict::Pass
        };
        assert_eq!(c.verdict, want, "{text}");
    }
    let deny = report
        .cases
        .iter()
        .find(|c| c.id == "FX-CONSENT-DENY")
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(deny.contains("interactive_consent"), "{deny}");
    // Transcripts are kept, and no secret of the profile appears in the report.
    let json = serde_json::to_string(&report).unwrap_or_default();
    assert!(report
        .cases
        .iter()
        .all(|c| c.verdict == Verdict::Skip || !c.transcript.is_empty()));
    for secret in [
        "obo-client-secret",
        "agent-a-secret",
        "agent-b-secret",
        "alice-password",
    ] {
        assert!(!json.contains(secret), "{secret} leaked into the report");
    }
    // Refresh tokens and PKCE verifiers met during a case are redacted too.
    let bodies: Vec<String> = report
        .cases
        .iter()
        .flat_map(|c| c.transcript.iter())
        .flat_map(|e| {
            [
                e.request.body.clone(),
                e.response.as_ref().and_then(|r| r.body.clone()),
            ]
        })
        .flatten()
        .collect();
    let verifiers: Vec<&String> = bodies
        .iter()
        .filter(|b| b.contains("code_verifier="))
        .collect();
    assert!(!verifiers.is_empty());
    assert!(
        verifiers
            .iter()
            .all(|b| b.contains("code_verifier=%5BREDACTED%5D")
                || b.contains("code_verifier=[REDACTED]")),
        "{verifiers:?}"
    );
    let refresh: Vec<&String> = bodies
        .iter()
        .filter(|b| b.contains("\"refresh_token\""))
        .collect();
    assert!(!refresh.is_empty());
    assert!(
        refresh
            .iter()
            .all(|b| b.contains("\"refresh_token\":\"[REDACTED]\"")),
        "{refresh:?}"
    );
    assert_eq!(report.summary.passed as usize, report.cases.len() - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_of_the_reference_are_caught() {
    let cases = [
        (Fault::SkipActorBinding, "FX-ACTOR-MISMATCH"),
        (Fault::AcceptCodeReplay, "FX-CODE-REPLAY"),
        (Fault::NonAtomicRedemption, "FX-PARALLEL-REDEMPTION"),
        (Fault::CodeExpiryUnchecked, "FX-CODE-EXPIRES"),
        (Fault::ActorTokenAlgNone, "FX-FORGED-ALG-NONE"),
    ];
    for (fault, id) in cases {
        let report = run_fixture(ReferenceOptions {
            faults: vec![fault],
            ..Default::default()
        })
        .await;
        assert_eq!(
            verdict(&report, id),
            Verdict::Fail,
            "{} not caught:\n{}",
            fault.name(),
            describe(&report)
        );
        assert_eq!(
            verdict(&report, "FX-HAPPY-PATH"),
            Verdict::Pass,
            "{}",
            describe(&report)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revision_00_wire_names_pass() {
    let report = run_fixture(ReferenceOptions {
        revision: Some("00".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(report.target.revision, "00");
    assert_eq!(
        verdict(&report, "FX-HAPPY-PATH"),
        Verdict::Pass,
        "{}",
        describe(&report)
    );
    assert_eq!(
        verdict(&report, "FX-ACTOR-MISMATCH"),
        Verdict::Pass,
        "{}",
        describe(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_driver_completes_the_real_login_and_consent_pages() {
    let report = run_fixture(ReferenceOptions {
        form: true,
        ..Default::default()
    })
    .await;
    let text = describe(&report);
    assert_eq!(verdict(&report, "FX-HAPPY-PATH"), Verdict::Pass, "{text}");
    assert_eq!(verdict(&report, "FX-CONSENT-DENY"), Verdict::Pass, "{text}");
    // Consent is stored per (user, client, actor): only the first authorization of a triple
    // sees the consent page, so look across the run.
    let all: Vec<&obo_report::Exchange> = report
        .cases
        .iter()
        .flat_map(|c| c.transcript.iter())
        .collect();
    assert!(
        all.iter()
            .any(|e| e.request.url.contains("/login") && e.request.method == "POST"),
        "the login page was not submitted"
    );
    assert!(
        all.iter()
            .any(|e| e.request.url.contains("/consent") && e.request.method == "POST"),
        "consent was not submitted"
    );
    let json = serde_json::to_string(&report).unwrap_or_default();
    assert!(!json.contains("alice-password"), "the password leaked");
}

/// A profile for an already-running reference server, with another consent section.
async fn profile_for(base: &str, consent: &str, redirect: Option<&str>) -> Target {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/targets/reference-subprocess-auto.toml");
    let mut text = std::fs::read_to_string(path)
        .unwrap_or_default()
        .replace("http://127.0.0.1:8080", base);
    text = text.replace("[consent]\ndriver = \"auto\"\n", consent);
    if let Some(r) = redirect {
        text = text.replacen(
            "redirect_uri = \"https://client.example/cb\"",
            &format!("redirect_uri = \"{r}\""),
            1,
        );
    }
    let p = profile::parse(&text, "test", Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    profile::resolve(p, &text, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn one_case_message(target: Target, id: &str) -> (Verdict, String) {
    let cat = fixture();
    let case = cat.case(id).unwrap_or_else(|| panic!("no {id}"));
    let r = run::run_case(Arc::new(target), case, &opts(1)).await;
    (r.verdict, r.message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_command_driver_is_an_error_saying_what_happened() {
    let server = obo_reference_server::spawn(obo_reference_server::Config {
        auto_consent: Some("alice".into()),
        control_api: true,
        ..Default::default()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let base = server.base_url();
    let consent = "[consent]\ndriver = \"command\"\ncommand = [\"sh\", \"-c\", \"echo browser crashed >&2; exit 3\"]\n";
    let (v, msg) = one_case_message(profile_for(&base, consent, None).await, "FX-HAPPY-PATH").await;
    assert_eq!(v, Verdict::Error, "{msg}");
    assert!(
        msg.contains("step[0] (authorize)") && msg.contains("browser crashed") && msg.contains('3'),
        "{msg}"
    );

    let consent =
        "[consent]\ndriver = \"command\"\ncommand = [\"sh\", \"-c\", \"echo 'no idea'\"]\n";
    let (v, msg) = one_case_message(profile_for(&base, consent, None).await, "FX-HAPPY-PATH").await;
    assert_eq!(v, Verdict::Error, "{msg}");
    assert!(
        msg.contains("printed no redirect URL") && msg.contains("no idea"),
        "{msg}"
    );

    // A program that prints the redirect works: here it fakes a code, which the AS refuses,
    // so the set-up token step fails -- an error naming the step and the response.
    let consent = "[consent]\ndriver = \"command\"\ncommand = [\"sh\", \"-c\", \"echo \\\"$OBO_REDIRECT_URI?code=made-up&state=x\\\"\"]\n";
    let cat = fixture();
    let case = cat
        .case("FX-CODE-REPLAY")
        .unwrap_or_else(|| panic!("no case"));
    let r = run::run_case(
        Arc::new(profile_for(&base, consent, None).await),
        case,
        &opts(1),
    )
    .await;
    assert_eq!(r.verdict, Verdict::Error, "{}", r.message);
    assert!(
        r.message.contains("step[1] (token)") && r.message.contains("invalid_grant"),
        "{}",
        r.message
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_driver_timeout_is_an_error_naming_the_redirect_uri() {
    let server = obo_reference_server::spawn(obo_reference_server::Config {
        control_api: true,
        ..Default::default()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(39999);
    let redirect = format!("http://127.0.0.1:{port}/cb");
    let consent = "[consent]\ndriver = \"manual\"\ntimeout_secs = 1\n";
    let (v, msg) = one_case_message(
        profile_for(&server.base_url(), consent, Some(&redirect)).await,
        "FX-HAPPY-PATH",
    )
    .await;
    assert_eq!(v, Verdict::Error, "{msg}");
    assert!(
        msg.contains("no redirect to") && msg.contains(&redirect) && msg.contains("1 s"),
        "{msg}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auto_driver_says_where_it_stopped_on_a_login_page() {
    // A reference server with real pages, but a profile that claims auto-consent.
    let server = obo_reference_server::spawn(obo_reference_server::Config {
        control_api: true,
        ..Default::default()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let (v, msg) = one_case_message(
        profile_for(&server.base_url(), "[consent]\ndriver = \"auto\"\n", None).await,
        "FX-CODE-REPLAY",
    )
    .await;
    assert_eq!(v, Verdict::Error, "{msg}");
    assert!(
        msg.contains("stopped at") && msg.contains("/login") && msg.contains("status 200"),
        "{msg}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_target_is_an_error_not_a_hang() {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let mock = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&mock)
        .await;
    let text = format!(
        r#"profile_version = 1
name = "hanging"
revision = "02"

[endpoints]
authorization = "{0}/authorize"
token = "{0}/token"

[client.primary]
id = "c"
secret = "s3cret"
auth_method = "client_secret_post"
redirect_uri = "https://client.example/cb"

[actor.a]
id = "agent-a"
token = {{ source = "static", value = "x" }}

[actor.b]
id = "agent-b"
token = {{ source = "static", value = "y" }}

[user]
username = "alice"
sub = "user-alice"

[consent]
driver = "auto"

[http]
timeout_secs = 1
"#,
        mock.uri()
    );
    let p = profile::parse(&text, "hang", Path::new(".")).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let target = profile::resolve(p, &text, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    let (v, msg) = one_case_message(target, "FX-CODE-REPLAY").await;
    assert_eq!(v, Verdict::Error, "{msg}");
    assert!(msg.contains("timed out"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_sends_the_same_requests() {
    let cat = fixture();
    let case = cat
        .case("FX-ACTOR-MISMATCH")
        .unwrap_or_else(|| panic!("no case"));
    let target = Arc::new(
        reference(ReferenceOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let first_url = |r: &obo_report::CaseResult| {
        r.transcript
            .iter()
            .find(|e| e.request.url.contains("/authorize"))
            .map(|e| e.request.url.clone())
    };
    let a = run::run_case(target.clone(), case, &opts(99)).await;
    let b = run::run_case(target.clone(), case, &opts(99)).await;
    let c = run::run_case(target.clone(), case, &opts(100)).await;
    target.shutdown().await;
    assert!(first_url(&a).is_some());
    assert_eq!(
        first_url(&a),
        first_url(&b),
        "same seed, same state and PKCE challenge"
    );
    assert_ne!(first_url(&a), first_url(&c), "another seed, another state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_response_is_cut_at_the_size_cap() {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let mock = MockServer::start().await;
    let body = "x".repeat(1 << 20);
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(&mock)
        .await;
    let client = reqwest::Client::new();
    let url = url::Url::parse(&mock.uri()).unwrap_or_else(|e| panic!("{e}"));
    let req = obo_conformance::session::Request::get(url);
    let resp = obo_conformance::session::send_raw(&client, &req, 4096)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(resp.truncated);
    assert_eq!(resp.body.len(), 4096);
}

#[test]
fn case_filters_select_by_id_glob_tag_and_requirement() {
    let cat = fixture();
    let ids = |f: &[&str]| -> Vec<String> {
        let filters: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        run::select(&cat, &filters)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(ids(&["FX-HAPPY-PATH"]), vec!["FX-HAPPY-PATH"]);
    assert_eq!(
        ids(&["fx-code-*"]),
        vec!["FX-CODE-EXPIRES", "FX-CODE-REPLAY"]
    );
    assert_eq!(ids(&["tag:positive"]), vec!["FX-HAPPY-PATH"]);
    assert_eq!(
        ids(&["OBO-TOKEN-12"]),
        vec!["FX-ACTOR-MISMATCH", "FX-FORGED-ALG-NONE"]
    );
    assert_eq!(ids(&["req:OBO-RS-1,tag:positive"]).len(), 2);
    assert!(run::select(&cat, &["NO-SUCH-CASE".to_string()]).is_err());
}
