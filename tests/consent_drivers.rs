//! The consent drivers end to end: the `form` driver on small fixture pages (login and consent on
//! one URL, consent at the authorization URL, deny as a link or a second form, a page built by
//! JavaScript), profile validation of overlapping page rules, the `command` driver's example
//! program, and the whole catalogue with the `browser` driver (headless Chromium) against the
//! reference server's JavaScript pages, and with the `form` driver against the same pages.

use std::path::Path;
use std::sync::Arc;

use obo_conformance::catalog;
use obo_conformance::consent::{self, Decision, Destination};
use obo_conformance::profile::reference::{reference, ReferenceOptions};
use obo_conformance::profile::{self, Target};
use obo_conformance::redact::Redactor;
use obo_conformance::run::{self, RunOptions};
use obo_conformance::session::{Request, Session};
use obo_report::Verdict;
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT_URI: &str = "https://client.example/cb";

/// A profile for a fixture AS at `base` with the given `[consent]` section.
fn profile_text(base: &str, consent: &str) -> String {
    format!(
        r#"profile_version = 1
name = "fixture"
revision = "02"
[endpoints]
authorization = "{base}/authorize"
token = "{base}/token"
[client.primary]
id = "c"
secret = "s"
auth_method = "client_secret_basic"
redirect_uri = "{REDIRECT_URI}"
[actor.a]
id = "agent-a"
token = {{ source = "static", value = "t" }}
[actor.b]
id = "agent-b"
token = {{ source = "static", value = "t" }}
[user]
username = "alice"
password = "alice-password"
sub = "user-alice"
{consent}
"#
    )
}

async fn target(base: &str, consent: &str) -> Target {
    let text = profile_text(base, consent);
    let p = profile::parse(&text, "fixture", Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    profile::resolve(p, &text, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn drive(t: &Target, decision: Decision) -> Result<consent::AuthzOutcome, String> {
    let mut session = Session::new(t.timeout(), 1 << 20, Arc::new(Redactor::default())).unwrap();
    let registered = Url::parse(REDIRECT_URI).unwrap();
    let dest = Destination {
        sent: Some(&registered),
        registered: &registered,
        user: &t.profile.user,
    };
    let mut url = t.endpoints.authorization.clone();
    url.set_query(Some("response_type=code&client_id=c&state=xyz"));
    consent::drive(&mut session, t, &Request::get(url), &dest, decision).await
}

fn html(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "text/html; charset=utf-8")
}

fn redirect(to: &str) -> ResponseTemplate {
    ResponseTemplate::new(302).insert_header("location", to)
}

const LOGIN: &str = r#"<!doctype html><title>Sign-in</title><h1>Sign-in</h1>
<form method="post" action="/interaction/u1/login" autocomplete="off">
<input type="hidden" name="uid" value="u1"><input name="login" placeholder="Enter any login">
<input type="password" name="password"><button type="submit" class="login">Sign-in</button></form>"#;

const CONSENT_LINK_DENY: &str = r#"<!doctype html><title>Authorize</title><h1>Authorize</h1>
<p>The agent agent-a asks to act on your behalf.</p>
<form method="post" action="/interaction/u1/confirm"><input type="hidden" name="uid" value="u1">
<button type="submit">Continue</button></form>
<a href="/interaction/u1/abort">[ Cancel ]</a>"#;

const CONSENT_TWO_FORMS: &str = r#"<!doctype html><title>Grant access</title>
<p>Allow agent-a to act for alice?</p>
<form method="post" action="/grant"><input type="hidden" name="t" value="1"><button>Allow</button></form>
<form method="post" action="/refuse"><input type="hidden" name="t" value="1"><button>Deny</button></form>"#;

/// Login and consent served from one URL (`/interaction/<uid>`): the login sets a cookie, then
/// the same URL shows the consent page; deny is a link.
async fn one_url_server() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(redirect("/interaction/u1"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/interaction/u1"))
        .and(header("cookie", "signed=1"))
        .respond_with(html(CONSENT_LINK_DENY))
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/interaction/u1"))
        .respond_with(html(LOGIN))
        .with_priority(5)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/interaction/u1/login"))
        .and(wiremock::matchers::body_string_contains("login=alice"))
        .and(wiremock::matchers::body_string_contains(
            "password=alice-password",
        ))
        .respond_with(redirect("/interaction/u1").insert_header("set-cookie", "signed=1; Path=/"))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/interaction/u1/confirm"))
        .respond_with(redirect(&format!("{REDIRECT_URI}?code=abc&state=xyz")))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/interaction/u1/abort"))
        .respond_with(redirect(&format!(
            "{REDIRECT_URI}?error=access_denied&state=xyz"
        )))
        .mount(&s)
        .await;
    s
}

/// A signed-in session sees the consent page at the authorization URL itself; deny is a second
/// form.
async fn consent_at_authorize_server() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(html(CONSENT_TWO_FORMS))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/grant"))
        .respond_with(redirect(&format!("{REDIRECT_URI}?code=abc&state=xyz")))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/refuse"))
        .respond_with(redirect(&format!(
            "{REDIRECT_URI}?error=access_denied&state=xyz"
        )))
        .mount(&s)
        .await;
    s
}

const RULES_ONE_URL: &str = r#"
[consent]
driver = "form"
[[consent.page]]
match = "*/interaction/*"
selector = "input[type=password]"
role = "login"
fill = { login = "${user.username}", password = "${user.password}" }
[[consent.page]]
match = "*/interaction/*"
text = "act on your behalf"
role = "consent"
approve = "Continue"
deny = "Cancel"
"#;

#[tokio::test]
async fn form_driver_login_and_consent_on_one_url() {
    let s = one_url_server().await;
    for consent in [RULES_ONE_URL, "[consent]\ndriver = \"form\"\n"] {
        let t = target(&s.uri(), consent).await;
        let ok = drive(&t, Decision::Approve).await.unwrap();
        assert_eq!(
            ok.param("code").as_deref(),
            Some("abc"),
            "{}",
            ok.describe()
        );
        assert_eq!(ok.consent_prompt, Some(true));
        assert!(ok.consent_page_text.unwrap_or_default().contains("agent-a"));
        let denied = drive(&t, Decision::Deny).await.unwrap();
        assert_eq!(
            denied.param("error").as_deref(),
            Some("access_denied"),
            "{}",
            denied.describe()
        );
        let observed = drive(&t, Decision::Observe).await.unwrap();
        assert_eq!(observed.consent_prompt, Some(true));
        assert!(observed.redirect.is_none());
    }
}

#[tokio::test]
async fn form_driver_consent_at_the_authorization_url_with_deny_as_a_second_form() {
    let s = consent_at_authorize_server().await;
    let rules = r#"
[consent]
driver = "form"
[[consent.page]]
match = "*/authorize"
text = "to act for"
role = "consent"
approve = "Allow"
deny = "Deny"
"#;
    for consent in [rules, "[consent]\ndriver = \"form\"\n"] {
        let t = target(&s.uri(), consent).await;
        let ok = drive(&t, Decision::Approve).await.unwrap();
        assert_eq!(
            ok.param("code").as_deref(),
            Some("abc"),
            "{}",
            ok.describe()
        );
        let denied = drive(&t, Decision::Deny).await.unwrap();
        assert_eq!(
            denied.param("error").as_deref(),
            Some("access_denied"),
            "{}",
            denied.describe()
        );
    }
}

#[tokio::test]
async fn form_driver_names_javascript_and_what_it_saw() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(html(
            r#"<!doctype html><html><head><title>Log in | Acme</title>
<script src="/static/js/main.8c1f.js"></script></head><body><div id="root"></div>
<noscript>You need to enable JavaScript to run this app.</noscript></body></html>"#,
        ))
        .mount(&s)
        .await;
    let t = target(&s.uri(), "[consent]\ndriver = \"form\"\n").await;
    let err = drive(&t, Decision::Approve).await.unwrap_err();
    for want in [
        "JavaScript",
        "Log in | Acme",
        "main.8c1f.js",
        "no form",
        "/authorize",
    ] {
        assert!(err.contains(want), "{want:?} missing from: {err}");
    }
    // A page with forms that fit nothing is a harness error too, listing the forms and buttons.
    let s = MockServer::start().await;
    Mock::given(method("GET")).and(path("/authorize"))
        .respond_with(html(r#"<title>Pick</title><form action="/pick" method="post"><input name="q"><button>Next</button></form>"#))
        .mount(&s).await;
    let t = target(&s.uri(), "[consent]\ndriver = \"form\"\n").await;
    let err = drive(&t, Decision::Approve).await.unwrap_err();
    assert!(
        err.contains("\"Next\"") && err.contains("/pick") && !err.contains("JavaScript"),
        "{err}"
    );
}

#[test]
fn overlapping_rules_are_refused_naming_both() {
    let same = r#"
[consent]
driver = "form"
[[consent.page]]
match = "*/interaction/*"
role = "login"
[[consent.page]]
match = "*/interaction/*"
role = "consent"
approve = "Allow"
deny = "Deny"
"#;
    let err = profile::parse(
        &profile_text("https://as.example", same),
        "p.toml",
        Path::new("."),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("consent.page[1]") && err.contains("consent.page[0]"),
        "{err}"
    );
    // A rule whose conditions include all of another's overlaps it too.
    let wider = same.replacen(
        "role = \"consent\"",
        "text = \"Authorize\"\nrole = \"consent\"",
        1,
    );
    let err = profile::parse(
        &profile_text("https://as.example", &wider),
        "p.toml",
        Path::new("."),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("consent.page[1]") && err.contains("consent.page[0]"),
        "{err}"
    );
    // Told apart by content on both sides: accepted.
    profile::parse(
        &profile_text("https://as.example", RULES_ONE_URL),
        "p.toml",
        Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// The example program of the `command` driver drives the reference server's HTML pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_driver_example_program() {
    let handle = obo_reference_server::spawn(obo_reference_server::Config::default())
        .await
        .unwrap();
    let base = handle.base_url();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/consent/reference-consent.sh");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/targets/reference-subprocess-command.toml"),
    )
    .unwrap()
    .replace("http://127.0.0.1:8080", &base)
    .replace(
        "\"examples/consent/reference-consent.sh\"",
        &format!("{:?}", script.display().to_string()),
    );
    let p = profile::parse(&text, "command", Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let t = profile::resolve(p, &text, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut session = Session::new(t.timeout(), 1 << 20, Arc::new(Redactor::default())).unwrap();
    let registered = Url::parse("https://client.example/cb").unwrap();
    let dest = Destination {
        sent: Some(&registered),
        registered: &registered,
        user: &t.profile.user,
    };
    let pairs: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", "obo-client"),
        ("redirect_uri", "https://client.example/cb"),
        ("scope", "files.read"),
        ("state", "st1"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
        ("requested_actor", "agent-b"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let req = Request::get_query(t.endpoints.authorization.clone(), &pairs);
    let observed = consent::drive(&mut session, &t, &req, &dest, Decision::Observe)
        .await
        .unwrap();
    assert_eq!(observed.consent_prompt, Some(true));
    let denied = consent::drive(&mut session, &t, &req, &dest, Decision::Deny)
        .await
        .unwrap();
    assert_eq!(
        denied.param("error").as_deref(),
        Some("access_denied"),
        "{}",
        denied.describe()
    );
    let ok = consent::drive(&mut session, &t, &req, &dest, Decision::Approve)
        .await
        .unwrap();
    assert!(ok.param("code").is_some(), "{}", ok.describe());
    assert_eq!(ok.param("state").as_deref(), Some("st1"));
    handle.shutdown().await;
}

/// Chromium is needed by the browser tests: absent locally they say so and pass; absent in CI
/// (`CI=true`) they fail, so the browser driver is never left untested silently.
fn chromium_or_skip(test: &str) -> bool {
    match consent::find_chromium(None) {
        Ok(_) => true,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: CI must run the browser driver, but {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED {test}: {e}");
            false
        }
    }
}

async fn catalogue(options: ReferenceOptions) -> obo_report::Report {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let cat = catalog::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let target = Arc::new(reference(options).await.unwrap_or_else(|e| panic!("{e}")));
    let opts = RunOptions {
        seed: 1,
        jobs: 4,
        ..Default::default()
    };
    let report = run::run_catalog(target.clone(), &cat, &cat.cases, &opts).await;
    target.shutdown().await;
    report
}

fn summary(report: &obo_report::Report, keep: impl Fn(Verdict) -> bool) -> String {
    report
        .cases
        .iter()
        .filter(|c| keep(c.verdict))
        .map(|c| format!("{} {:?} {}", c.id, c.verdict, c.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_passes_with_the_browser_driver_on_javascript_pages() {
    if !chromium_or_skip("catalogue_passes_with_the_browser_driver_on_javascript_pages") {
        return;
    }
    let started = std::time::Instant::now();
    let report = catalogue(ReferenceOptions::for_name("reference-browser").unwrap()).await;
    let bad = summary(&report, |v| !matches!(v, Verdict::Pass | Verdict::Skip));
    assert!(
        bad.is_empty(),
        "cases not passing with the browser driver:\n{bad}"
    );
    let passed = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Pass)
        .count();
    assert!(passed > 100, "only {passed} cases passed");
    eprintln!(
        "browser driver: {} cases ({passed} pass) in {:.1} s",
        report.cases.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_driver_on_javascript_pages_gives_errors_naming_javascript() {
    let report = catalogue(ReferenceOptions {
        form: true,
        spa: true,
        ..Default::default()
    })
    .await;
    let wrong = summary(&report, |v| matches!(v, Verdict::Fail | Verdict::Warn));
    assert!(
        wrong.is_empty(),
        "the form driver's trouble must not be the target's:\n{wrong}"
    );
    let errors: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Error)
        .collect();
    assert!(errors.len() > 50, "{}", summary(&report, |_| true));
    for c in errors {
        assert!(c.message.contains("JavaScript"), "{} {}", c.id, c.message);
    }
}

/// The browser driver runs the page's script, and when nothing fits it says what it saw and
/// saves a picture of the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_driver_runs_scripts_and_screenshots_failures() {
    if !chromium_or_skip("browser_driver_runs_scripts_and_screenshots_failures") {
        return;
    }
    let s = MockServer::start().await;
    // The login form exists only once the script has run; the consent page is plain HTML with
    // deny as a link.
    Mock::given(method("GET")).and(path("/authorize"))
        .respond_with(html(r#"<!doctype html><title>App</title><div id="root"></div>
<noscript>Enable JavaScript</noscript>
<script>setTimeout(function () {
  document.getElementById('root').innerHTML = '<form method="post" action="/interaction/u1/login"><input name="login"><input type="password" name="password"><button>Sign-in</button></form>';
}, 200);</script>"#))
        .mount(&s).await;
    Mock::given(method("POST"))
        .and(path("/interaction/u1/login"))
        .and(wiremock::matchers::body_string_contains(
            "password=alice-password",
        ))
        .respond_with(redirect("/interaction/u1").insert_header("set-cookie", "signed=1; Path=/"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/interaction/u1"))
        .and(header("cookie", "signed=1"))
        .respond_with(html(CONSENT_LINK_DENY))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/interaction/u1/confirm"))
        .respond_with(redirect(&format!("{REDIRECT_URI}?code=abc&state=xyz")))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/interaction/u1/abort"))
        .respond_with(redirect(&format!(
            "{REDIRECT_URI}?error=access_denied&state=xyz"
        )))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/stuck"))
        .respond_with(html("<title>Nothing here</title><p>Please wait</p>"))
        .mount(&s)
        .await;
    let t = target(&s.uri(), "[consent]\ndriver = \"browser\"\nwait_secs = 3\n").await;
    let ok = drive(&t, Decision::Approve)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ok.param("code").as_deref(),
        Some("abc"),
        "{}",
        ok.describe()
    );
    assert_eq!(ok.consent_prompt, Some(true));
    let denied = drive(&t, Decision::Deny)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        denied.param("error").as_deref(),
        Some("access_denied"),
        "{}",
        denied.describe()
    );
    // A page that never shows anything to press: an error naming it, with a screenshot.
    let mut session = Session::new(t.timeout(), 1 << 20, Arc::new(Redactor::default())).unwrap();
    let registered = Url::parse(REDIRECT_URI).unwrap();
    let dest = Destination {
        sent: Some(&registered),
        registered: &registered,
        user: &t.profile.user,
    };
    let stuck = Url::parse(&format!("{}/stuck", s.uri())).unwrap();
    let err = consent::drive(
        &mut session,
        &t,
        &Request::get(stuck),
        &dest,
        Decision::Approve,
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("Nothing here") && err.contains("screenshot"),
        "{err}"
    );
    let shot = err
        .rsplit("screenshot of the last page: ")
        .next()
        .unwrap()
        .trim_end_matches(')');
    let png = std::fs::read(shot).unwrap_or_else(|e| panic!("{shot}: {e}"));
    assert!(png.starts_with(b"\x89PNG"));
    t.shutdown().await;
}

#[test]
fn the_browser_and_command_examples_are_valid() {
    for f in [
        "reference-subprocess-browser.toml",
        "reference-subprocess-command.toml",
        "vendor-template.toml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/targets")
            .join(f);
        profile::load_file(&path).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}

/// `--consent-ui spa`: the login page holds no form, only the script that builds it (allowed by
/// its CSP hash) and a `<noscript>` saying JavaScript is required.
#[tokio::test]
async fn reference_server_spa_pages_need_javascript() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let handle = obo_reference_server::spawn(obo_reference_server::Config {
        consent_ui: obo_reference_server::ConsentUi::Spa,
        ..Default::default()
    })
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let resp = client
        .get(format!(
            "{}/authorize?response_type=code&client_id=obo-client&redirect_uri=https://client.example/cb&scope=files.read&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&requested_actor=agent-a",
            handle.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().path(), "/login");
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let body = resp.text().await.unwrap();
    assert!(!body.contains("<form"), "{body}");
    assert!(body.contains("<noscript>") && body.contains("JavaScript is required"));
    let script = body
        .split("<script>")
        .nth(1)
        .and_then(|s| s.split("</script>").next())
        .unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    // The data blob carries the CSRF token and transaction for the script's form.
    assert!(
        body.contains("\"csrf\":")
            && body.contains("\"tx\":")
            && body.contains("\"page\":\"login\"")
    );
    handle.shutdown().await;
}

/// Without Chromium the driver is an error naming the cause (a case using it ends in `error`).
#[tokio::test]
async fn browser_driver_without_chromium_is_an_error() {
    let t = target(
        "https://as.example",
        "[consent]\ndriver = \"browser\"\nchromium = \"/nonexistent/chromium\"\n",
    )
    .await;
    let err = drive(&t, Decision::Approve).await.unwrap_err();
    assert!(
        err.contains("/nonexistent/chromium") && err.contains("does not exist"),
        "{err}"
    );
}

/// The anti-CSRF value of the CSRF fixture's forms.
const CSRF_VALUE: &str = "S3cr3tT0ken9z";

/// A fixture AS whose login and consent forms carry the anti-CSRF field `field` (value
/// [`CSRF_VALUE`]). With `checks`, a login post without the right value gets a 403 error page
/// and a consent post the consent page again; without, any post goes through (to a code).
async fn csrf_server(field: &str, checks: bool) -> MockServer {
    let s = MockServer::start().await;
    let hidden = format!(r#"<input type="hidden" name="{field}" value="{CSRF_VALUE}">"#);
    let login = format!(
        r#"<!doctype html><title>Sign in</title><form method="post" action="/login">{hidden}
<input name="username"><input type="password" name="password"><button>Sign in</button></form>"#
    );
    let consent = format!(
        r#"<!doctype html><title>Consent</title><p>Allow agent-a to act for alice?</p>
<form method="post" action="/consent">{hidden}
<button name="decision" value="approve">Approve</button><button name="decision" value="deny">Deny</button></form>"#
    );
    let genuine = format!("{field}={CSRF_VALUE}");
    let code = format!("{REDIRECT_URI}?code=abc&state=xyz");
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(redirect("/login"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/login"))
        .respond_with(html(&login))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/consent"))
        .respond_with(html(&consent))
        .mount(&s)
        .await;
    for (at, next, refused) in [
        ("/login", redirect("/consent"), {
            ResponseTemplate::new(403).set_body_raw(
                b"<!doctype html><title>Forbidden</title><p>CSRF check failed</p>".to_vec(),
                "text/html",
            )
        }),
        ("/consent", redirect(&code), html(&consent)),
    ] {
        Mock::given(method("POST"))
            .and(path(at))
            .and(wiremock::matchers::body_string_contains(genuine.as_str()))
            .respond_with(next.clone())
            .with_priority(1)
            .mount(&s)
            .await;
        Mock::given(method("POST"))
            .and(path(at))
            .respond_with(if checks { refused } else { next })
            .with_priority(5)
            .mount(&s)
            .await;
    }
    s
}

fn forge(form: consent::ForgedForm, tamper: consent::Tamper) -> Decision {
    Decision::Forge(consent::Forgery { form, tamper })
}

/// RFC 6749 §10.12 (OBO-INH-28): the form driver posts the login or consent form with its
/// anti-CSRF field (an ASP.NET name, outside the redaction rules' field names) left out or
/// wrong, and reads the AS's refusal: a 403 page, or the consent page shown again.
#[tokio::test]
async fn form_driver_forges_the_csrf_value_and_reads_the_refusal() {
    use consent::{ForgedForm, Tamper};
    let s = csrf_server("__RequestVerificationToken", true).await;
    let t = target(&s.uri(), "[consent]\ndriver = \"form\"\n").await;
    let ok = drive(&t, Decision::Approve).await.unwrap();
    assert_eq!(
        ok.param("code").as_deref(),
        Some("abc"),
        "{}",
        ok.describe()
    );
    let wrong = consent::forgery::altered(CSRF_VALUE);
    for tamper in [Tamper::Remove, Tamper::Alter] {
        let login = drive(&t, forge(ForgedForm::Login, tamper)).await.unwrap();
        assert!(login.param("code").is_none() && login.stopped.is_none());
        let why = login.refusal.clone().unwrap_or_default();
        assert!(
            why.contains("refused the login form") && why.contains("status 403"),
            "{why}"
        );
        assert!(login.secrets.contains(&CSRF_VALUE.to_string()));
        assert_eq!(login.secrets.contains(&wrong), tamper == Tamper::Alter);

        let approval = drive(&t, forge(ForgedForm::Consent, tamper)).await.unwrap();
        assert!(approval.param("code").is_none(), "{}", approval.describe());
        assert!(
            approval
                .describe()
                .contains("showed the consent page again"),
            "{}",
            approval.describe()
        );
    }
}

/// Against an AS that ignores the anti-CSRF value the forged approval gets a code: the CSRF case
/// fails under OBO-INH-28, and neither the genuine nor the forged value reaches the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csrf_case_fails_against_an_as_that_ignores_the_value_and_redacts_it() {
    use consent::{ForgedForm, Tamper};
    let s = csrf_server("__RequestVerificationToken", false).await;
    // Secrets long enough that redacting them does not also hide the CSRF values' letters.
    let text = profile_text(&s.uri(), "[consent]\ndriver = \"form\"\n")
        .replacen(
            "revision = \"02\"\n",
            "revision = \"02\"\ncapabilities = [\"interactive_consent\"]\n",
            1,
        )
        .replace(
            "secret = \"s\"",
            "secret = \"client-secret-of-the-fixture\"",
        )
        .replace(
            "value = \"t\"",
            "value = \"static-actor-token-of-the-fixture\"",
        );
    let p = profile::parse(&text, "fixture", Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let t = profile::resolve(p, &text, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let got = drive(&t, forge(ForgedForm::Consent, Tamper::Alter))
        .await
        .unwrap();
    assert_eq!(got.param("code").as_deref(), Some("abc"));
    assert!(got
        .describe()
        .contains("after the consent form posted with a wrong CSRF value"));

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let cat = catalog::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let wrong = consent::forgery::altered(CSRF_VALUE);
    let t = Arc::new(t);
    for id in ["AUTHZ-LOGIN-CSRF-MISSING", "AUTHZ-LOGIN-CSRF-WRONG"] {
        let case = cat.case(id).unwrap_or_else(|| panic!("no {id}"));
        let r = run::run_case(t.clone(), case, &RunOptions::default()).await;
        assert_eq!(r.verdict, Verdict::Fail, "{id}: {}", r.message);
        assert!(r
            .checks
            .iter()
            .any(|c| !c.ok && c.requirements.contains(&"OBO-INH-28".to_string())));
        let json = serde_json::to_string(&r).unwrap_or_default();
        assert!(
            json.contains("__RequestVerificationToken"),
            "{id}: no transcript"
        );
        assert!(!json.contains(CSRF_VALUE), "{id}: the CSRF value leaked");
        assert!(!json.contains(&wrong), "{id}: the forged value leaked");
    }
}

/// A form without a recognisable anti-CSRF field is not judged (the skip names what to
/// declare); `consent.csrf_field` names it; drivers other than `form` cannot forge.
#[tokio::test]
async fn csrf_forgery_skips_without_a_field_and_follows_the_declared_one() {
    use consent::{ForgedForm, Tamper};
    let s = csrf_server("guard", true).await;
    let decision = forge(ForgedForm::Login, Tamper::Remove);
    let plain = target(&s.uri(), "[consent]\ndriver = \"form\"\n").await;
    let skipped = drive(&plain, decision).await.unwrap();
    let why = skipped.not_applicable.unwrap_or_default();
    assert!(
        why.contains("csrf_field") && why.contains("[guard, username, password]"),
        "{why}"
    );
    assert!(!why.contains(CSRF_VALUE), "{why}");
    let declared = target(
        &s.uri(),
        "[consent]\ndriver = \"form\"\ncsrf_field = \"guard\"\n",
    )
    .await;
    let refused = drive(&declared, decision).await.unwrap();
    assert!(refused.refusal.is_some(), "{}", refused.describe());
    let auto = target(&s.uri(), "[consent]\ndriver = \"auto\"\n").await;
    let why = drive(&auto, decision).await.unwrap().not_applicable;
    assert!(why
        .unwrap_or_default()
        .contains("needs the form consent driver"));
}
