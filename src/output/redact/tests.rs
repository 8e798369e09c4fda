//! Unit tests of [`super`].

use super::*;
use proptest::prelude::*;
use serde_json::json;

mod reference;

fn jwt(signature: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"k1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"agent-a"}"#);
    format!("{header}.{payload}.{signature}")
}

#[test]
fn secrets_in_every_encoding_are_redacted() {
    let secret = "s3cr3t pass+/word";
    let r = Redactor::new([secret.to_string()]);
    for variant in [
        secret.to_string(),
        form_urlencode(secret),
        form_urlencode(secret).replace('+', "%20"),
        STANDARD.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
    ] {
        let out = r.redact(&format!("before {variant} after"));
        assert_eq!(out, format!("before {REDACTED} after"), "{variant}");
    }
    let json = json!({ "note": format!("x{secret}y") }).to_string();
    assert!(!r.redact(&json).contains("s3cr3t"));
}

#[test]
fn empty_secrets_are_ignored_and_short_ones_redacted() {
    let r = Redactor::new([String::new(), "ab".to_string()]);
    assert_eq!(r.redact("xaby"), format!("x{REDACTED}y"));
    assert!(Redactor::new([String::new()]).redact("plain") == "plain");
}

#[test]
fn overlapping_occurrences_leave_no_fragment() {
    let r = Redactor::new(["abab".to_string()]);
    assert_eq!(r.redact("xababab"), format!("x{REDACTED}"));
    let r = Redactor::new(["secret-one".to_string(), "one-two".to_string()]);
    assert_eq!(r.redact("secret-one-two!"), format!("{REDACTED}!"));
}

#[test]
fn basic_pairs_are_redacted() {
    let r = Redactor::default().with_basic_pair("client a", "p@ss:word");
    let plain = STANDARD.encode("client a:p@ss:word");
    let rfc = STANDARD.encode("client+a:p%40ss%3Aword");
    for value in [plain, rfc] {
        let out = r.redact(&format!("header Basic {value} end"));
        assert!(!out.contains(&value), "{out}");
    }
    assert!(r.has_secrets());
    assert!(!format!("{r:?}").contains("p@ss"));
}

#[test]
fn jws_signatures_are_masked_but_claims_stay() {
    let token = jwt("c2lnbmF0dXJlLWJ5dGVz");
    let r = Redactor::default();
    let out = r.redact(&format!("access_token={token}&x=1 and \"{token}\"."));
    assert!(!out.contains("c2lnbmF0dXJlLWJ5dGVz"));
    assert_eq!(out.matches(SIGNATURE).count(), 2);
    assert!(out.contains(token.rsplit_once('.').unwrap().0));
    // Dotted text that is not a JWS is untouched.
    let plain = "see example.com.au and v1.2.3";
    assert_eq!(r.redact(plain), plain);
    // An unsigned token has nothing to mask.
    let unsigned = jwt("");
    assert_eq!(r.redact(&unsigned), unsigned);
}

#[test]
fn private_keys_are_removed_public_ones_kept() {
    let text = "a\n-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\nb\n\
                    -----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n\
                    -----BEGIN EC PRIVATE KEY-----\ntruncated";
    let out = Redactor::default().redact(text);
    assert!(!out.contains("MIGHAgEA") && !out.contains("truncated"));
    assert!(out.contains("MFkw"));
    assert_eq!(out.matches(PRIVATE_KEY).count(), 2);
}

#[test]
fn sensitive_fields_are_blanked() {
    let r = Redactor::default();
    let form = "grant_type=password&username=alice&password=hunter2&client_secret=abc%20d";
    let out = r.redact(form);
    assert_eq!(
        out,
        format!("grant_type=password&username=alice&password={REDACTED}&client_secret={REDACTED}")
    );
    let json = r#"{"client_secret" : "x\"y", "token_endpoint_auth_method":"client_secret_basic"}"#;
    let out = r.redact(json);
    assert!(!out.contains("x\\\"y"), "{out}");
    assert!(out.contains("client_secret_basic"));
    // A field merely ending in the name is not matched.
    assert_eq!(
        r.redact("my_client_secret_hint=1"),
        "my_client_secret_hint=1"
    );
}

#[test]
fn headers_keep_schemes_and_names() {
    let r = Redactor::default();
    assert_eq!(
        r.redact_header("Authorization", "Basic YWxpY2U6c2VjcmV0"),
        format!("Basic {REDACTED}")
    );
    assert_eq!(
        r.redact_header("authorization", "Bearer opaque-token-value"),
        format!("Bearer {REDACTED}")
    );
    let bearer = r.redact_header("Authorization", &format!("Bearer {}", jwt("c2ln")));
    assert!(bearer.ends_with(SIGNATURE) && bearer.starts_with("Bearer eyJ"));
    assert_eq!(
        r.redact_header("Cookie", "sid=abc; theme=dark"),
        format!("sid={REDACTED}; theme={REDACTED}")
    );
    assert_eq!(
        r.redact_header("Set-Cookie", "sid=abc; Path=/; HttpOnly"),
        format!("sid={REDACTED}; Path=/; HttpOnly")
    );
    assert_eq!(r.redact_header("X-Api-Key", "k"), REDACTED);
    assert_eq!(r.redact_header("Content-Type", "text/html"), "text/html");
    // Raw HTTP dumps: header lines inside text.
    let dump = "POST /token HTTP/1.1\r\nAuthorization: Basic Zm9vOmJhcg==\r\nCookie: a=b\r\n\r\n";
    let out = r.redact(dump);
    assert!(!out.contains("Zm9vOmJhcg") && !out.contains("a=b"));
    assert!(out.starts_with("POST /token HTTP/1.1\r\nAuthorization: Basic "));
}

#[test]
fn json_values_are_redacted_recursively() {
    let r = Redactor::new(["topsecret".to_string()]);
    let value = json!({
        "password": 1234,
        "nested": [{ "client_secret": "abc" }, "with topsecret inside"],
        "access_token": jwt("c2lnbmF0dXJl"),
    });
    let out = r.redact_json(&value);
    assert_eq!(out["password"], REDACTED);
    assert_eq!(out["nested"][0]["client_secret"], REDACTED);
    assert_eq!(out["nested"][1], format!("with {REDACTED} inside"));
    assert!(out["access_token"].as_str().unwrap().ends_with(SIGNATURE));
}

#[test]
fn observed_one_time_values_are_blanked() {
    let r = Redactor::new(Vec::<String>::new());
    let location = "https://rp.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz";
    assert_eq!(
        r.redact(location),
        "https://rp.example/cb?code=[REDACTED]&state=xyz"
    );
    let body = "grant_type=authorization_code&code=abc&code_verifier=def&code_challenge=ghi";
    let out = r.redact(body);
    assert!(!out.contains("abc") && !out.contains("def"), "{out}");
    assert!(out.contains("code_challenge=ghi"), "{out}");
    let json = r#"{"access_token":"at","refresh_token":"rt-secret"}"#;
    assert!(!r.redact(json).contains("rt-secret"));
}

#[test]
fn hidden_and_password_inputs_and_login_hints_are_blanked() {
    let r = Redactor::new(Vec::<String>::new());
    let page = concat!(
        r#"<form><input type="hidden" name="csrf" value="c5rf-v4lue">"#,
        r#"<input name='tx' value='tx-v4lue' type='hidden'>"#,
        r#"<input name="username" value="alice">"#,
        r#"<input name="password" type="password" value="pw-v4lue"></form>"#,
        "<p><small>Demo users: alice / alice-password, bob / bob-password.</small></p>",
    );
    let out = r.redact(page);
    for secret in ["c5rf-v4lue", "tx-v4lue", "pw-v4lue", "bob-password"] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    assert!(out.contains(r#"name="username" value="alice""#), "{out}");
    assert!(out.contains("Demo users: [REDACTED]"), "{out}");
    // Without a password field the page is no login page: its text stays.
    assert_eq!(r.redact("<p>Users: 3</p>"), "<p>Users: 3</p>");
}

#[test]
fn multibyte_text_is_safe() {
    let r = Redactor::new(["é€".to_string()]);
    assert_eq!(r.redact("aé€é€b€"), format!("a{REDACTED}b€"));
    assert_eq!(r.redact("password=日本"), format!("password={REDACTED}"));
}

/// A case's redactor applies the run's rules and secrets, notes the one-time credentials the
/// field rule blanks, and in its second pass replaces them (and the ones the case kept)
/// everywhere, in headers too; a quoted text is rewritten only if it quotes one of them.
#[test]
fn case_redactor_adds_the_case_secrets_to_the_run_ones() {
    let run = std::sync::Arc::new(Redactor::new(["run-secret".to_string()]));
    let mut case = CaseRedactor::new(run);
    case.add_secret("code-Zx81");
    let echo = case.redact_run_header("x-echo", "rt-Qw9 code-Zx81".to_string());
    assert_eq!(echo, "rt-Qw9 code-Zx81", "not known yet");
    let body = case.redact_run(r#"{"refresh_token":"rt-Qw9","x":"run-secret"}"#.to_string());
    assert_eq!(
        body,
        format!(r#"{{"refresh_token":"{REDACTED}","x":"{REDACTED}"}}"#)
    );
    assert_eq!(case.redact_own(echo), format!("{REDACTED} {REDACTED}"));
    let bearer = case.redact_run_header("authorization", "Bearer rt-Qw9".to_string());
    assert_eq!(case.redact_own(bearer), format!("Bearer {REDACTED}"));
    let mut quoted = "token rt-Qw9 accepted twice".to_string();
    case.redact_quoted(&mut quoted);
    assert_eq!(quoted, format!("token {REDACTED} accepted twice"));
    // Only the case's own credentials make a quoted text worth rewriting.
    let mut plain = "status 400, error invalid_grant".to_string();
    case.redact_quoted(&mut plain);
    assert_eq!(plain, "status 400, error invalid_grant");
}

/// Pieces of text that reach every rule: sensitive keys in both forms and cases (one a tail of a
/// longer name, one overlapping itself), header lines, HTML inputs and login hints, PEM blocks,
/// JWS and other dotted runs, multi-byte characters, the configured secret.
fn fragment() -> impl Strategy<Value = String> {
    let token = format!("{}.{}", jwt("c2lnbmF0dXJl"), jwt("c2ln"));
    let header = URL_SAFE_NO_PAD.encode(r#" {"alg":"ES256"}"#);
    let jwe = URL_SAFE_NO_PAD.encode(r#"{"alg":"RSA-OAEP","enc":"A128GCM"}"#);
    prop_oneof![
        prop::sample::select(vec![
            "code=",
            "CoDe=",
            "my_code=",
            "_csrf=",
            "csrf=",
            "password=",
            "tx=",
            "\"refresh_token\"",
            "\"TX\"",
            "\"tx\"tx\"",
            ": ",
            ":",
            "\"",
            "\\",
            "&",
            "=",
            " ",
            "\n",
            "\r\n",
            ">",
            "<",
            ";",
            "Authorization: Basic ",
            "authorization: Bearer ",
            "Cookie: a=b; c",
            "Set-Cookie: s=1; Path=/",
            "X-Api-Key: k",
            "<input type=hidden name=x value=v>",
            "<INPUT type=\"password\" value='p'>",
            "<input name=code value=\"c\">",
            "type=password",
            "<p>Demo users: alice / pw</p>",
            "-----BEGIN PRIVATE KEY-----",
            "-----END PRIVATE KEY-----",
            "-----begin private key-----",
            "-----BEGIN PUBLIC KEY-----",
            ".",
            "..",
            "example.com.au",
            "v1.2.3",
            "é",
            "日本",
            "s3cr3t",
        ])
        .prop_map(str::to_string),
        Just(token),
        Just(format!("{header}.e30.c2ln")),
        Just(format!("{jwe}.e30.c2ln.c2ln.c2ln")),
        "[ -~]{0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The single scan, the memchr dot search and the copy-free rules change no output: every
    /// text comes out byte for byte as the rules, each run in turn over the whole text, made it.
    #[test]
    fn redaction_matches_the_rule_by_rule_oracle(parts in prop::collection::vec(fragment(), 0..24)) {
        let text = parts.concat();
        // A secret, one inside a marker word, one with a bracket, and none.
        for secrets in [vec!["s3cr3t"], vec!["ACT", "Bearer e"], vec!["d]"], vec![]] {
            let r = Redactor::new(secrets.into_iter().map(String::from))
                .with_basic_pair("agent", "s3cr3t");
            prop_assert_eq!(r.redact(&text), reference::redact(&r, &text));
            for name in ["Authorization", " proxy-AUTHORIZATION", "Set-Cookie", "cookie", "X-API-KEY", "X-Note"] {
                prop_assert_eq!(r.redact_header(name, &text), reference::redact_header(&r, name, &text));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The finders of a few needles find the same spans as the automaton of many, overlapping
    /// and self-overlapping occurrences included.
    #[test]
    fn few_needles_are_found_as_the_automaton_finds_them(
        needles in prop::collection::vec("[ab.é]{1,5}", 1..6),
        text in "[ab.é]{0,40}",
    ) {
        let sorted = |search: Option<needles::Search>| {
            let mut spans = search.map(|s| s.spans(&text)).unwrap_or_default();
            spans.sort_unstable();
            spans
        };
        let few = sorted(needles::Search::new(&needles));
        prop_assert_eq!(&few, &sorted(needles::Search::automaton(&needles)));
        let matched = needles::Search::new(&needles).is_some_and(|s| s.is_match(&text));
        prop_assert_eq!(matched, !few.is_empty());
    }
}

/// A needle longer than the bytes its finder is built over is confirmed whole: a text with only
/// its beginning keeps that beginning, overlapping copies are merged into one marker.
#[test]
fn long_needles_are_matched_whole_and_overlaps_merged() {
    let secret = format!("{}{}", "rt-0123456789", "x".repeat(40));
    let r = Redactor::new([secret.clone()]);
    let head = &secret[..20];
    assert_eq!(r.redact(&format!("a {head}! b")), format!("a {head}! b"));
    assert_eq!(
        r.redact(&format!("a {head}{secret} b")),
        format!("a {head}{REDACTED} b")
    );
    let repeated = "y".repeat(60);
    let r = Redactor::new(["y".repeat(50)]);
    assert_eq!(r.redact(&format!("<{repeated}>")), format!("<{REDACTED}>"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Needles longer than the bytes their finders are built over, from a two-letter alphabet
    /// so that many candidates share a finder's prefix and differ after it: the finders with
    /// confirmation find the same spans as the automaton.
    #[test]
    fn long_needles_are_found_as_the_automaton_finds_them(
        needles in prop::collection::vec("[ab]{10,30}", 1..5),
        text in "[ab]{0,120}",
    ) {
        let sorted = |search: Option<needles::Search>| {
            let mut spans = search.map(|s| s.spans(&text)).unwrap_or_default();
            spans.sort_unstable();
            spans
        };
        prop_assert_eq!(
            sorted(needles::Search::new(&needles)),
            sorted(needles::Search::automaton(&needles))
        );
    }

    /// A one-time credential met in one recorded string (a form body or a JSON member the
    /// field rule blanks) leaves no copy in any other string of the case, whichever was
    /// recorded first, nor in a message quoting it.
    #[test]
    fn one_time_credentials_met_anywhere_leave_no_copy(
        value in "[A-Za-z0-9_~.-]{6,48}",
        as_json in any::<bool>(),
        before in "[ -~]{0,30}",
        after in "[ -~]{0,30}",
    ) {
        let carrier = match as_json {
            true => format!(r#"{{"refresh_token":"{value}"}}"#),
            false => format!("grant_type=refresh_token&refresh_token={}", urlencode(&value)),
        };
        let mut case = CaseRedactor::new(std::sync::Arc::default());
        let echo = case.redact_run_header("x-echo", format!("{before}{value}{after}"));
        let echo_url = case.redact_run(format!("https://as.example/x?t={before}{value}"));
        let carried = case.redact_run(carrier);
        for text in [echo, echo_url, carried] {
            let out = case.redact_own(text);
            prop_assert!(!out.contains(&value), "{} survived: {}", value, out);
        }
        let mut message = format!("token {value} accepted twice");
        case.redact_quoted(&mut message);
        prop_assert!(!message.contains(&value), "{}", message);
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
