//! Copy-pasteable curl reproductions of recorded exchanges, quoted for POSIX shells.
//!
//! Transcripts are redacted by the harness before they reach the report, so a reproduction shows
//! the redaction marker where a secret was: the reader substitutes their own credentials.

use crate::model::Exchange;

/// Headers curl computes itself; repeating them would break the request when the body is edited.
const COMPUTED_HEADERS: [&str; 3] = ["content-length", "host", "connection"];

/// Quotes `s` as one POSIX shell word: single quotes, with `'` written as `'\''`.
pub fn sh_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Leaves plain words (letters, digits, `-_.:/=@%+,`) bare and quotes anything else.
pub fn sh_quote_if_needed(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/=@%+,".contains(c));
    if plain {
        s.to_string()
    } else {
        sh_quote(s)
    }
}

/// One curl command that re-sends the request of `exchange` and prints the response headers.
pub fn command(exchange: &Exchange) -> String {
    let req = &exchange.request;
    let mut words = vec!["curl".to_string(), "-sS".to_string(), "-i".to_string()];
    let method = req.method.to_ascii_uppercase();
    let has_body = req.body.as_deref().is_some_and(|b| !b.is_empty());
    // curl sends GET without a body and POST with one; anything else is spelled out.
    let implied = if has_body { "POST" } else { "GET" };
    if method != implied {
        words.push("-X".to_string());
        words.push(sh_quote_if_needed(&method));
    }
    for (name, value) in &req.headers {
        if COMPUTED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        words.push("-H".to_string());
        // `Name;` is curl's spelling of a header with an empty value (`Name:` would delete it).
        let header = if value.is_empty() {
            format!("{name};")
        } else {
            format!("{name}: {value}")
        };
        words.push(sh_quote(&header));
    }
    if let Some(body) = req.body.as_deref().filter(|b| !b.is_empty()) {
        // --data-raw: a leading '@' is data, not a file name.
        words.push("--data-raw".to_string());
        words.push(sh_quote(body));
    }
    words.push("--url".to_string());
    words.push(sh_quote(&req.url));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exchange, HttpRequest};

    fn exchange(method: &str, headers: &[(&str, &str)], body: Option<&str>) -> Exchange {
        Exchange {
            step: 0,
            request: HttpRequest {
                method: method.into(),
                url: "http://127.0.0.1:8080/token?x='y'".into(),
                headers: headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                body: body.map(str::to_string),
            },
            response: None,
            error: None,
            duration_ms: 0,
        }
    }

    #[test]
    fn post_form_is_reproduced_with_raw_data() {
        let ex = exchange(
            "POST",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Content-Length", "42"),
                ("Authorization", "Basic [REDACTED]"),
            ],
            Some("grant_type=authorization_code&code=@abc"),
        );
        assert_eq!(
            command(&ex),
            "curl -sS -i -H 'Content-Type: application/x-www-form-urlencoded' \
             -H 'Authorization: Basic [REDACTED]' \
             --data-raw 'grant_type=authorization_code&code=@abc' \
             --url 'http://127.0.0.1:8080/token?x='\\''y'\\'''"
        );
    }

    #[test]
    fn unusual_methods_and_empty_headers_are_spelled_out() {
        let ex = exchange("get", &[("X-Empty", "")], None);
        assert_eq!(
            command(&ex),
            "curl -sS -i -H 'X-Empty;' --url 'http://127.0.0.1:8080/token?x='\\''y'\\'''"
        );
        let ex = exchange("POST", &[], None);
        assert!(command(&ex).starts_with("curl -sS -i -X POST --url "));
        let ex = exchange("PUT", &[], Some("a"));
        assert!(command(&ex).contains(" -X PUT --data-raw 'a' "));
    }

    #[test]
    fn plain_words_stay_bare() {
        assert_eq!(
            sh_quote_if_needed("TOKEN-ACTOR-MISMATCH"),
            "TOKEN-ACTOR-MISMATCH"
        );
        assert_eq!(sh_quote_if_needed("my profile"), "'my profile'");
        assert_eq!(sh_quote_if_needed(""), "''");
        assert_eq!(sh_quote_if_needed("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// A real shell reads the quoted word back as the original string.
        #[test]
        fn a_shell_reads_back_the_quoted_word(s in "[^\\x00]{0,40}") {
            let script = format!("printf %s {}", sh_quote(&s));
            let out = std::process::Command::new("sh").arg("-c").arg(&script).output();
            let out = out.map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            proptest::prop_assert_eq!(String::from_utf8_lossy(&out.stdout), s);
        }
    }
}
