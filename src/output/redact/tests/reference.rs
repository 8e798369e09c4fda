//! The redaction rules as they were before the single scan and the memchr dot search: the
//! oracle the current rules are compared with (byte-identical output, see `super`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use super::super::fields::{
    redact_cookie_pairs, redact_html_inputs, redact_login_hints, split_header_line,
};
use super::super::structure::looks_like_jws;
use super::super::{replace_spans, Redactor, PRIVATE_KEY, REDACTED, SECRET_HEADERS, SIGNATURE};

/// Form-field and JSON member names as [`super::super::fields`] has them.
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

/// Every rule in turn over the whole text, as `Redactor::redact` did.
pub fn redact(r: &Redactor, text: &str) -> String {
    let text = redact_pem_private_keys(text);
    let text = redact_jws_signatures(&text);
    let text = header_lines(r, &text);
    let text = redact_sensitive_fields(&text);
    let text = redact_html_inputs(&text).into_owned();
    let text = redact_login_hints(&text).into_owned();
    r.redact_needles(&text).into_owned()
}

/// `Redactor::redact_header`, with [`redact`] for the nested redactions.
pub fn redact_header(r: &Redactor, name: &str, value: &str) -> String {
    let name = name.trim().to_ascii_lowercase();
    match name.as_str() {
        "authorization" | "proxy-authorization" => {
            let value = value.trim();
            let Some((scheme, credentials)) = value.split_once(char::is_whitespace) else {
                return REDACTED.to_string();
            };
            let credentials = credentials.trim();
            let is_token_scheme =
                ["bearer", "dpop"].contains(&scheme.to_ascii_lowercase().as_str());
            if is_token_scheme && looks_like_jws(credentials) {
                return format!("{scheme} {}", redact(r, credentials));
            }
            format!("{scheme} {REDACTED}")
        }
        "cookie" => redact_cookie_pairs(value),
        "set-cookie" => match value.split_once(';') {
            Some((pair, attributes)) => {
                format!("{};{}", redact_cookie_pairs(pair), redact(r, attributes))
            }
            None => redact_cookie_pairs(value),
        },
        n if SECRET_HEADERS.contains(&n) => REDACTED.to_string(),
        _ => redact(r, value),
    }
}

fn header_lines(r: &Redactor, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let (body, cr) = match body.strip_suffix('\r') {
            Some(body) => (body, "\r"),
            None => (body, ""),
        };
        match split_header_line(body) {
            Some((prefix, name, value)) => {
                let redacted = redact_header(r, name, value);
                out.push_str(&format!("{prefix}{redacted}{cr}{newline}"));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `-----BEGIN ... PRIVATE KEY-----` up to the matching END line (or the end of the text, when
/// truncated) becomes `[PRIVATE KEY]`. Public keys and certificates stay.
fn redact_pem_private_keys(text: &str) -> String {
    const BEGIN: &str = "-----BEGIN ";
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find(BEGIN)) {
        let start = from + found;
        let label_start = start + BEGIN.len();
        let Some(label_len) = text.get(label_start..).and_then(|rest| rest.find("-----")) else {
            break;
        };
        let label = text
            .get(label_start..label_start + label_len)
            .unwrap_or_default();
        let after_begin = label_start + label_len + 5;
        if !label.contains("PRIVATE KEY") {
            from = after_begin;
            continue;
        }
        let end_marker = format!("-----END {label}-----");
        let end = text
            .get(after_begin..)
            .and_then(|rest| rest.find(&end_marker))
            .map_or(text.len(), |i| after_begin + i + end_marker.len());
        spans.push((start, end));
        from = end;
    }
    replace_spans(text, spans, PRIVATE_KEY).into_owned()
}

/// A base64url segment that decodes to a JSON object with a string `alg`: a JOSE header.
fn is_jose_header(segment: &str) -> bool {
    if segment.len() < 8 {
        return false;
    }
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(segment) else {
        return false;
    };
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .is_some_and(|v| v.get("alg").is_some_and(Value::is_string))
}

/// Every `header.payload.signature` whose header is a JOSE header gets its signature masked.
/// Runs of base64url characters and dots are examined; a JWE (header with `enc`) is left alone.
fn redact_jws_signatures(text: &str) -> String {
    // A JWS needs two dots: most strings (header values, form bodies) have none.
    if text.bytes().filter(|&b| b == b'.').nth(1).is_none() {
        return text.to_string();
    }
    let mut spans = Vec::new();
    // Run characters are ASCII, so byte offsets are char boundaries; bytes of multi-byte
    // characters (>= 0x80) end a run like any other non-run character.
    let is_run_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_run_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_run_byte(bytes[i]) {
            i += 1;
        }
        jws_signature_spans(text, start, i, &mut spans);
    }
    replace_spans(text, spans, SIGNATURE).into_owned()
}

fn jws_signature_spans(text: &str, start: usize, end: usize, spans: &mut Vec<(usize, usize)>) {
    let Some(run) = text.get(start..end) else {
        return;
    };
    if run.bytes().filter(|&b| b == b'.').nth(1).is_none() {
        return;
    }
    // Segment offsets within the run.
    let mut segments: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for segment in run.split('.') {
        segments.push((offset, segment));
        offset += segment.len() + 1;
    }
    let mut i = 0;
    while i + 2 < segments.len() {
        let (_, header) = segments[i];
        if is_jose_header(header) && !is_jwe_header(header) {
            let (sig_offset, signature) = segments[i + 2];
            if !signature.is_empty() {
                spans.push((start + sig_offset, start + sig_offset + signature.len()));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
}

fn is_jwe_header(segment: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(segment)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .is_some_and(|v| v.get("enc").is_some())
}

/// `name=value` form fields and `"name": "value"` JSON members with a sensitive name.
fn redact_sensitive_fields(text: &str) -> String {
    let mut spans = Vec::new();
    let lower = text.to_ascii_lowercase();
    for field in SENSITIVE_FIELDS {
        form_field_spans(text, &lower, field, &mut spans);
        json_member_spans(text, &lower, field, &mut spans);
    }
    replace_spans(text, spans, REDACTED).into_owned()
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
