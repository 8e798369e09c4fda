//! Properties of redaction: a configured secret embedded in arbitrary text (raw, form-urlencoded,
//! as a Basic credential, in JSON) never survives, nor does any JWS signature; text without
//! secrets or structure is left alone.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use obo_conformance::redact::{Redactor, SIGNATURE};
use proptest::prelude::*;

/// Secrets with awkward characters for every encoding, but no `[`/`]`: the markers are
/// `[REDACTED]`, `[SIGNATURE]`, so a secret made of marker text could not be told apart.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!@#$%^&*()+= /:._~'\"\\\\-]{8,24}"
}

/// Arbitrary printable filler, newlines included.
fn filler() -> impl Strategy<Value = String> {
    "[ -~\n\t]{0,40}"
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn jwt_with_signature(signature: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","typ":"actor+jwt"}"#);
    let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"agent-a","iss":"https://as.example"}"#);
    format!("{header}.{payload}.{signature}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn embedded_secrets_never_survive(
        secret in secret(),
        client_id in "[A-Za-z0-9 :_-]{1,12}",
        signature_secret in "[A-Za-z0-9_-]{12,24}",
        sig_prefix in "[A-Za-z0-9_-]{0,20}",
        sig_suffix in "[A-Za-z0-9_-]{0,20}",
        parts in prop::collection::vec(filler(), 6),
    ) {
        let basic = STANDARD.encode(format!("{client_id}:{secret}"));
        let basic_rfc = STANDARD.encode(format!("{}:{}", urlencode(&client_id), urlencode(&secret)));
        let token = jwt_with_signature(&format!("{sig_prefix}{signature_secret}{sig_suffix}"));
        let json = serde_json::json!({ "note": secret }).to_string();
        let text = format!(
            "{}{secret}{}note={}&x=1{}\r\nAuthorization: Basic {basic}\r\n{}creds {basic_rfc} {}\n{token}\n{json}",
            parts[0], parts[1], urlencode(&secret), parts[2], parts[3], parts[4],
        );
        let redactor = Redactor::new([secret.clone()]).with_basic_pair(&client_id, &secret);
        let out = redactor.redact(&text);

        prop_assert!(!out.contains(&secret), "raw secret survived: {}", out);
        prop_assert!(!out.contains(&urlencode(&secret)), "urlencoded secret survived: {}", out);
        prop_assert!(!out.contains(&basic), "basic credential survived: {}", out);
        prop_assert!(!out.contains(&basic_rfc), "RFC 6749 basic credential survived: {}", out);
        prop_assert!(!out.contains(&signature_secret), "signature survived: {}", out);
        prop_assert!(out.contains(SIGNATURE));
        // The token's header and payload are evidence and stay readable.
        let (signing_input, _) = token.rsplit_once('.').unwrap_or_default();
        prop_assert!(out.contains(signing_input));
    }

    #[test]
    fn header_values_never_leak(secret in secret(), client_id in "[A-Za-z0-9_-]{1,12}") {
        let redactor = Redactor::new([secret.clone()]);
        let basic = STANDARD.encode(format!("{client_id}:{secret}"));
        // Even without the pair configured, the Basic credential is blanked by its scheme.
        let auth = redactor.redact_header("Authorization", &format!("Basic {basic}"));
        prop_assert!(!auth.contains(&basic));
        let cookie = redactor.redact_header("Cookie", &format!("sid={}; x=1", urlencode(&secret)));
        prop_assert!(!cookie.contains(&urlencode(&secret)));
        let other = redactor.redact_header("X-Note", &format!("v {secret} v"));
        prop_assert!(!other.contains(&secret));
    }

    #[test]
    fn plain_text_is_left_alone(text in "[a-z .,\n]{0,80}", secret in "[0-9]{8,16}") {
        let redactor = Redactor::new([secret]);
        prop_assert_eq!(redactor.redact(&text), text);
    }

    #[test]
    fn redact_never_panics(text in any::<String>(), secret in any::<String>()) {
        let redactor = Redactor::new([secret]);
        let _ = redactor.redact(&text);
        let _ = redactor.redact_header("authorization", &text);
        let _ = redactor.redact_header("set-cookie", &text);
    }
}
