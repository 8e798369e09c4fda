//! The one-time credentials a case meets: values the harness or the target draws per run, that
//! no profile lists and that are credentials in their own right. A refresh token redeems new
//! access tokens (RFC 6749 §10.4), a PKCE verifier redeems a code (RFC 7636 §7.1,
//! OBO-INH-PKCE-*).

use super::Redactor;

/// The parameters (form fields, query parameters, JSON members) whose values are one-time
/// credentials.
pub const ONE_TIME_PARAMS: [&str; 2] = ["refresh_token", "code_verifier"];

/// Every value of the [`ONE_TIME_PARAMS`] in `text`: in a form body or the query of a URL
/// (`name=value`, percent-decoded) and in JSON members at any depth (`"name": "value"`,
/// unescaped), without empty ones; found by the sensitive-field rule as it blanks them.
pub fn one_time_values(text: &str) -> Vec<String> {
    let mut noted = Vec::new();
    Redactor::default().redact_noting(text, &mut noted);
    noted.retain(|v| !v.is_empty());
    noted
}

/// A form value percent-decoded (`+` is a space).
pub(super) fn form_decoded(raw: &str) -> String {
    url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map_or_else(|| raw.to_string(), |(_, v)| v.into_owned())
}

/// The body of a JSON string unescaped (as written if it is not valid JSON).
pub(super) fn json_unescaped(raw: &str) -> String {
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_one_time_values_in_forms_queries_and_json() {
        let body = "grant_type=refresh_token&refresh_token=rt%2Fone&client_id=c";
        assert_eq!(one_time_values(body), ["rt/one"]);
        assert_eq!(one_time_values("http://h/cb?code_verifier=v1&x=2"), ["v1"]);
        let json = r#"{"access_token":"a","refresh_token":"rt-two","n":{"refresh_token":"rt\/3"}}"#;
        assert_eq!(one_time_values(json), ["rt-two", "rt/3"]);
        assert_eq!(
            one_time_values("refresh_token=a&code_verifier=b&refresh_token=c"),
            ["a", "b", "c"]
        );
        assert!(one_time_values(r#"{"grant_type":"refresh_token"}"#).is_empty());
        assert!(one_time_values("not json refresh_token").is_empty());
        assert!(one_time_values("refresh_token=&code_verifier=").is_empty());
        assert!(one_time_values("my_refresh_token=x").is_empty());
    }
}
