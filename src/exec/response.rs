//! What a target's answer says, in words for messages: the error code of a response or of a
//! Bearer challenge, and why a token response gave no token.

use serde_json::Value;

use super::session::Response;

/// The `error` parameter of a Bearer challenge.
pub fn bearer_error(h: &str) -> Option<String> {
    let lower = h.to_ascii_lowercase();
    let start = lower.find("error=")? + "error=".len();
    let rest = h.get(start..)?;
    let v = if let Some(stripped) = rest.strip_prefix('"') {
        stripped.split('"').next()?
    } else {
        rest.split([',', ' ']).next()?
    };
    Some(v.to_string())
}

/// The `error` member of a JSON body.
pub fn json_error(resp: &Response) -> Option<String> {
    resp.json()
        .and_then(|j| j.get("error").and_then(Value::as_str).map(str::to_string))
}

/// "status 400, error invalid_grant" for messages.
pub fn summarize(resp: &Response) -> String {
    let err = json_error(resp).or_else(|| resp.header("www-authenticate").and_then(bearer_error));
    match err {
        Some(e) => format!("status {}, error {e}", resp.status),
        None => format!("status {}", resp.status),
    }
}

/// Why a token endpoint response gave no usable access token, naming the cause: an error
/// answer, a body cut at the size cap, a compressed body, a body that is not JSON, or JSON
/// without `access_token`.
pub fn why_no_token(resp: &Response) -> String {
    let json = resp.json();
    let error = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(Value::as_str);
    let cause = if let Some(e) = error {
        format!("error {e}")
    } else if resp.truncated {
        "the body is too large (cut at the size cap)".to_string()
    } else if let Some(enc) = resp
        .header("content-encoding")
        .filter(|e| !e.eq_ignore_ascii_case("identity"))
        .filter(|_| json.is_none())
    {
        format!("the body is compressed (Content-Encoding: {enc}) and not JSON")
    } else if json.is_none() {
        "the body is not JSON".to_string()
    } else if !(200..300).contains(&resp.status) {
        "no access_token".to_string()
    } else {
        "the JSON body has no access_token string".to_string()
    };
    format!("status {}, {cause}", resp.status)
}

/// 400 `unsupported_token_type` (RFC 7009 §2.2.1): the AS does not handle this kind of token at
/// this endpoint.
pub fn refuses_token_type(resp: &Response) -> bool {
    resp.status == 400 && json_error(resp).as_deref() == Some("unsupported_token_type")
}

#[cfg(test)]
mod tests {
    use super::bearer_error;

    #[test]
    fn bearer_error_parses_quoted_and_bare() {
        assert_eq!(
            bearer_error(r#"Bearer realm="x", error="invalid_token""#).as_deref(),
            Some("invalid_token")
        );
        assert_eq!(
            bearer_error("Bearer error=insufficient_scope, scope=\"a\"").as_deref(),
            Some("insufficient_scope")
        );
        assert_eq!(bearer_error("Bearer realm=\"x\""), None);
    }
}
