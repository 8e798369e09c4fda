//! The field rules over form, JSON, HTML and header text: sensitive form fields and JSON members,
//! secret `<input>` values, credentials hints of login pages, cookie values and credential
//! header lines (see [`super`], steps 3 and 4).

use super::{replace_spans, REDACTED};

/// Form-field and JSON member names whose value is always a secret: credentials, and the
/// one-time values a run observes (authorization codes and PKCE verifiers, RFC 6749 §4.1.2 and
/// RFC 7636 §4.1; refresh tokens; CSRF and transaction values of login and consent pages).
const SENSITIVE_FIELDS: &[&str] = &[
    "password",
    "client_secret",
    "passwd",
    "new_password",
    "code",
    "code_verifier",
    "refresh_token",
    "csrf",
    "csrf_token",
    "_csrf",
    "xsrf_token",
    "authenticity_token",
    "tx",
    "transaction",
    "transaction_id",
];
/// Words that mark a visible text of a login page as a credentials hint ("Demo users: alice /
/// alice-password").
const HINT_WORDS: &[&str] = &["password", "credential", "demo", "user", "login", "account"];

pub(super) fn is_sensitive_field(name: &str) -> bool {
    SENSITIVE_FIELDS.contains(&name.to_ascii_lowercase().as_str())
}

/// `name=value` form fields and `"name": "value"` JSON members with a sensitive name.
pub(super) fn redact_sensitive_fields(text: &str) -> String {
    let mut spans = Vec::new();
    let lower = text.to_ascii_lowercase();
    for field in SENSITIVE_FIELDS {
        form_field_spans(text, &lower, field, &mut spans);
        json_member_spans(text, &lower, field, &mut spans);
    }
    replace_spans(text, spans, REDACTED)
}

/// `value` attributes of `<input>` elements that hold a password, a hidden value (CSRF tokens,
/// transaction ids) or a field with a sensitive name.
pub(super) fn redact_html_inputs(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|rest| rest.find("<input")) {
        let start = from + found;
        let end = lower[start..].find('>').map_or(text.len(), |e| start + e);
        from = end.max(start + 1);
        let tag = &lower[start..end];
        let attr = |name: &str| attribute_span(tag, name).map(|(a, b)| &tag[a..b]);
        let secret = matches!(attr("type"), Some("password" | "hidden"))
            || attr("name").is_some_and(is_sensitive_field);
        if let Some((a, b)) = attribute_span(tag, "value").filter(|_| secret) {
            if b > a {
                spans.push((start + a, start + b));
            }
        }
    }
    replace_spans(text, spans, REDACTED)
}

/// The value span of attribute `name` in a lowercased tag (quoted or bare).
fn attribute_span(tag: &str, name: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(found) = tag.get(from..).and_then(|rest| rest.find(name)) {
        let at = from + found;
        from = at + name.len();
        let boundary = tag[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_whitespace() || c == '"' || c == '\'');
        let rest = tag[from..].trim_start();
        let Some(value) = rest.strip_prefix('=').filter(|_| boundary) else {
            continue;
        };
        let value = value.trim_start();
        let value_at = tag.len() - value.len();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let len = value[1..].find(q).unwrap_or(value.len() - 1);
                (value_at + 1, value_at + 1 + len)
            }
            _ => {
                let len = value
                    .find(|c: char| c.is_whitespace() || c == '/')
                    .unwrap_or(value.len());
                (value_at, value_at + len)
            }
        });
    }
    None
}

/// On a login page (one with a password field), the visible texts that look like credentials
/// hints keep their label and lose what follows its colon: such hints name other users'
/// passwords, which the profile never declared as secrets.
pub(super) fn redact_login_hints(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if !(lower.contains("type=\"password\"")
        || lower.contains("type='password'")
        || lower.contains("type=password"))
    {
        return text.to_string();
    }
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(open) = lower.get(from..).and_then(|rest| rest.find('>')) {
        let start = from + open + 1;
        let end = lower[start..].find('<').map_or(text.len(), |e| start + e);
        from = end;
        let node = &lower[start..end];
        if !HINT_WORDS.iter().any(|w| node.contains(w)) {
            continue;
        }
        if let Some(colon) = node.find(':') {
            let value = &node[colon + 1..];
            if !value.trim().is_empty() {
                spans.push((start + colon + 1, end));
            }
        }
    }
    replace_spans(text, spans, &format!(" {REDACTED}"))
}

fn form_field_spans(text: &str, lower: &str, field: &str, spans: &mut Vec<(usize, usize)>) {
    let key = format!("{field}=");
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|rest| rest.find(&key)) {
        let start = from + found;
        from = start + key.len();
        let boundary = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        if !boundary {
            continue;
        }
        let value_len = text[from..]
            .find(|c: char| matches!(c, '&' | '"' | '\'' | '<' | '>') || c.is_whitespace())
            .unwrap_or(text.len() - from);
        if value_len > 0 {
            spans.push((from, from + value_len));
        }
    }
}

fn json_member_spans(text: &str, lower: &str, field: &str, spans: &mut Vec<(usize, usize)>) {
    let key = format!("\"{field}\"");
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|rest| rest.find(&key)) {
        let after_key = from + found + key.len();
        from = after_key;
        let rest = &text[after_key..];
        let trimmed = rest.trim_start();
        let Some(after_colon) = trimmed.strip_prefix(':') else {
            continue;
        };
        let value = after_colon.trim_start();
        let Some(string_body) = value.strip_prefix('"') else {
            continue;
        };
        let body_start = text.len() - string_body.len();
        let mut escaped = false;
        let mut body_len = None;
        for (i, c) in string_body.char_indices() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    body_len = Some(i);
                    break;
                }
                _ => {}
            }
        }
        // An unterminated string is redacted to the end of the text.
        let body_len = body_len.unwrap_or(string_body.len());
        if body_len > 0 {
            spans.push((body_start, body_start + body_len));
        }
    }
}

/// `a=1; b=2` becomes `a=[REDACTED]; b=[REDACTED]`: names are evidence, values are credentials.
pub(super) fn redact_cookie_pairs(value: &str) -> String {
    value
        .split(';')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) => format!("{name}={REDACTED}"),
            None if pair.trim().is_empty() => pair.to_string(),
            None => REDACTED.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `  Name: value` where Name is a credential-bearing header: (everything up to the value, the
/// name, the value). The prefix is kept byte for byte.
pub(super) fn split_header_line(line: &str) -> Option<(&str, &str, &str)> {
    let colon = line.find(':')?;
    let name = line.get(..colon)?.trim_start();
    let after_colon = line.get(colon + 1..)?;
    let value = after_colon.trim_start();
    let prefix = line.get(..line.len() - value.len())?;
    let known = [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ];
    known
        .contains(&name.to_ascii_lowercase().as_str())
        .then_some((prefix, name, value))
}
