//! Redaction of secrets in transcripts and reports (house rule: client secrets, passwords, private
//! keys and token signatures never reach a log or a report).
//!
//! API:
//! - [`Redactor::new`]`(secrets)`: every non-empty secret is redacted, however short: a short
//!   secret over-redacts ordinary text, which is the safe way to fail. Builders
//!   [`Redactor::with_secret`], [`Redactor::with_basic_pair`]`(id, secret)`, and `add_*` forms.
//! - [`Redactor::redact`]`(text)`: in this order,
//!   1. PEM private-key blocks become `[PRIVATE KEY]`;
//!   2. the signature segment of every compact JWS becomes `[SIGNATURE]` (header and payload stay
//!      readable: they are evidence);
//!   3. `Authorization`/`Proxy-Authorization`/`Cookie`/`Set-Cookie` header lines are passed
//!      through [`Redactor::redact_header`];
//!   4. values of `password`, `client_secret` (and a few similar) form fields and JSON members
//!      become `[REDACTED]`;
//!   5. every configured secret, in each of its encodings (raw, form-urlencoded, percent-encoded,
//!      JSON-escaped, base64 and base64url, and `base64(id:secret)` for Basic pairs, raw and
//!      RFC 6749 §2.3.1 urlencoded first) becomes `[REDACTED]`.
//! - [`Redactor::redact_header`]`(name, value)`: Authorization keeps its scheme (`Basic
//!   [REDACTED]`; a Bearer JWT keeps header and payload), cookies keep their names and
//!   attributes, API-key headers are blanked, anything else goes through `redact`.
//! - [`Redactor::redact_json`]`(value)`: the same on every string of a JSON value, and sensitive
//!   member names blanked whatever their value type.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use obo_report::Exchange;
use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";
pub const SIGNATURE: &str = "[SIGNATURE]";
pub const PRIVATE_KEY: &str = "[PRIVATE KEY]";

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
/// Headers whose whole value is a credential.
const SECRET_HEADERS: &[&str] = &["x-api-key", "api-key", "x-auth-token"];

/// Replaces secrets in text; cheap to clone and share between cases.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Every encoding of every secret, longest first, without duplicates.
    needles: Vec<String>,
    /// One automaton over all needles, built on first use (one search per string instead of
    /// one per needle); reset whenever a needle is added.
    automaton: OnceLock<Option<AhoCorasick>>,
}

impl std::fmt::Debug for Redactor {
    // The needles are the secrets themselves: show only how many there are.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("patterns", &self.needles.len())
            .finish()
    }
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let mut redactor = Redactor::default();
        for secret in secrets {
            redactor.add_secret(&secret);
        }
        redactor
    }

    pub fn with_secret(mut self, secret: &str) -> Redactor {
        self.add_secret(secret);
        self
    }

    /// Also redacts the `Authorization: Basic` value of this client id and secret.
    pub fn with_basic_pair(mut self, id: &str, secret: &str) -> Redactor {
        self.add_basic_pair(id, secret);
        self
    }

    pub fn add_secret(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let form = form_urlencode(secret);
        let mut variants = vec![
            secret.to_string(),
            form.replace('+', "%20"),
            json_escaped(secret),
            STANDARD.encode(secret),
            STANDARD_NO_PAD.encode(secret),
            URL_SAFE.encode(secret),
            URL_SAFE_NO_PAD.encode(secret),
        ];
        variants.push(form);
        self.add_needles(variants);
    }

    pub fn add_basic_pair(&mut self, id: &str, secret: &str) {
        self.add_secret(secret);
        if secret.is_empty() {
            return;
        }
        // RFC 6749 §2.3.1 says to form-urlencode both parts first; many clients do not.
        let raw = format!("{id}:{secret}");
        let encoded = format!("{}:{}", form_urlencode(id), form_urlencode(secret));
        let variants = [raw, encoded]
            .iter()
            .flat_map(|pair| [STANDARD.encode(pair), STANDARD_NO_PAD.encode(pair)])
            .collect();
        self.add_needles(variants);
    }

    fn add_needles(&mut self, variants: Vec<String>) {
        for variant in variants {
            if !variant.is_empty() && !self.needles.contains(&variant) {
                self.needles.push(variant);
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        self.automaton = OnceLock::new();
    }

    /// Whether any secret is configured (the structural rules apply regardless).
    pub fn has_secrets(&self) -> bool {
        !self.needles.is_empty()
    }

    /// The text with every secret, signature, private key and sensitive field value replaced.
    pub fn redact(&self, text: &str) -> String {
        let text = redact_pem_private_keys(text);
        let text = redact_jws_signatures(&text);
        let text = self.redact_header_lines(&text);
        let text = redact_sensitive_fields(&text);
        let text = redact_html_inputs(&text);
        let text = redact_login_hints(&text);
        self.redact_needles(&text)
    }

    /// A header value fit for a transcript.
    pub fn redact_header(&self, name: &str, value: &str) -> String {
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "authorization" | "proxy-authorization" => self.redact_authorization(value),
            "cookie" => redact_cookie_pairs(value),
            "set-cookie" => self.redact_set_cookie(value),
            n if SECRET_HEADERS.contains(&n) => REDACTED.to_string(),
            _ => self.redact(value),
        }
    }

    /// Redacts every string in a JSON value; sensitive members are blanked whatever their type.
    pub fn redact_json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if is_sensitive_field(k) && !v.is_null() {
                            Value::from(REDACTED)
                        } else {
                            self.redact_json(v)
                        };
                        (self.redact(k), v)
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn redact_authorization(&self, value: &str) -> String {
        let value = value.trim();
        let Some((scheme, credentials)) = value.split_once(char::is_whitespace) else {
            return REDACTED.to_string();
        };
        let credentials = credentials.trim();
        let is_token_scheme = ["bearer", "dpop"].contains(&scheme.to_ascii_lowercase().as_str());
        if is_token_scheme && looks_like_jws(credentials) {
            // The token's claims are evidence; its signature (and any secret) is not.
            return format!("{scheme} {}", self.redact(credentials));
        }
        format!("{scheme} {REDACTED}")
    }

    fn redact_set_cookie(&self, value: &str) -> String {
        match value.split_once(';') {
            Some((pair, attributes)) => {
                format!("{};{}", redact_cookie_pairs(pair), self.redact(attributes))
            }
            None => redact_cookie_pairs(value),
        }
    }

    /// Header lines inside free text (raw HTTP dumps): the value goes through `redact_header`.
    fn redact_header_lines(&self, text: &str) -> String {
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
                    let redacted = self.redact_header(name, value);
                    out.push_str(&format!("{prefix}{redacted}{cr}{newline}"));
                }
                None => out.push_str(line),
            }
        }
        out
    }

    /// Replaces every occurrence (overlapping ones included) of every needle, merging overlaps
    /// so no fragment of a secret survives between two markers.
    fn redact_needles(&self, text: &str) -> String {
        if self.needles.is_empty() {
            return text.to_string();
        }
        let automaton = self
            .automaton
            .get_or_init(|| AhoCorasick::new(&self.needles).ok());
        let Some(automaton) = automaton else {
            // Building fails only past the automaton's size limits: redact everything rather
            // than risk a leak.
            return REDACTED.to_string();
        };
        let spans: Vec<(usize, usize)> = automaton
            .find_overlapping_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        replace_spans(text, spans, REDACTED)
    }

    /// Whether `text` holds any configured secret in any of its encodings (one automaton pass).
    pub fn mentions_secret(&self, text: &str) -> bool {
        match self
            .automaton
            .get_or_init(|| AhoCorasick::new(&self.needles).ok())
        {
            Some(a) => a.is_match(text),
            None => !self.needles.is_empty(),
        }
    }

    /// Redacts every recorded string of an exchange (URL, bodies, header values).
    pub fn redact_exchange(&self, ex: &mut Exchange) {
        ex.request.url = self.redact(&ex.request.url);
        ex.request.body = ex.request.body.as_deref().map(|b| self.redact(b));
        for (_, v) in ex.request.headers.iter_mut() {
            *v = self.redact(v);
        }
        if let Some(resp) = &mut ex.response {
            resp.body = resp.body.as_deref().map(|b| self.redact(b));
            for (_, v) in resp.headers.iter_mut() {
                *v = self.redact(v);
            }
        }
        ex.error = ex.error.as_deref().map(|e| self.redact(e));
    }
}

/// Sorts and merges spans (overlapping or touching) and replaces each by `marker`.
fn replace_spans(text: &str, mut spans: Vec<(usize, usize)>, marker: &str) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for (start, end) in merged {
        out.push_str(text.get(cursor..start).unwrap_or_default());
        out.push_str(marker);
        cursor = end;
    }
    out.push_str(text.get(cursor..).unwrap_or_default());
    out
}

fn form_urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The secret as it appears inside a JSON string literal.
fn json_escaped(text: &str) -> String {
    let quoted = Value::from(text).to_string();
    quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_string()
}

fn is_sensitive_field(name: &str) -> bool {
    SENSITIVE_FIELDS.contains(&name.to_ascii_lowercase().as_str())
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
    replace_spans(text, spans, PRIVATE_KEY)
}

fn is_b64url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
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

fn looks_like_jws(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| p.chars().all(is_b64url_char))
        && is_jose_header(parts[0])
}

/// Every `header.payload.signature` whose header is a JOSE header gets its signature masked.
/// Runs of base64url characters and dots are examined; a JWE (header with `enc`) is left alone.
fn redact_jws_signatures(text: &str) -> String {
    let mut spans = Vec::new();
    let mut run_start: Option<usize> = None;
    let is_run_char = |c: char| is_b64url_char(c) || c == '.';
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (run_start, is_run_char(c) && i < text.len()) {
            (None, true) => run_start = Some(i),
            (Some(start), false) => {
                jws_signature_spans(text, start, i, &mut spans);
                run_start = None;
            }
            _ => {}
        }
    }
    replace_spans(text, spans, SIGNATURE)
}

fn jws_signature_spans(text: &str, start: usize, end: usize, spans: &mut Vec<(usize, usize)>) {
    let Some(run) = text.get(start..end) else {
        return;
    };
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
    replace_spans(text, spans, REDACTED)
}

/// `value` attributes of `<input>` elements that hold a password, a hidden value (CSRF tokens,
/// transaction ids) or a field with a sensitive name.
fn redact_html_inputs(text: &str) -> String {
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
fn redact_login_hints(text: &str) -> String {
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
fn redact_cookie_pairs(value: &str) -> String {
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
fn split_header_line(line: &str) -> Option<(&str, &str, &str)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            format!(
                "grant_type=password&username=alice&password={REDACTED}&client_secret={REDACTED}"
            )
        );
        let json =
            r#"{"client_secret" : "x\"y", "token_endpoint_auth_method":"client_secret_basic"}"#;
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
        let dump =
            "POST /token HTTP/1.1\r\nAuthorization: Basic Zm9vOmJhcg==\r\nCookie: a=b\r\n\r\n";
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
}
