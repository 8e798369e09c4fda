//! The field rules over form, JSON, HTML and header text: sensitive form fields and JSON members,
//! secret `<input>` values, credentials hints of login pages, cookie values and credential
//! header lines (see [`super`], steps 3 and 4), and the one scan that tells which rules apply.

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::{one_time, replace_spans, REDACTED};

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

/// Text that makes a rule worth running: a PEM block, a credential header line, an HTML input,
/// a password field. After the sensitive keys (two patterns per field) in [`MARKERS`].
const MARKS: [&str; 5] = [
    "-----begin ",
    "authorization",
    "cookie",
    "<input",
    "password",
];

/// One ASCII-case-insensitive automaton over every sensitive key (`field=`, `"field"`) and every
/// mark, built once per process: a single pass over a recorded string tells which rules can
/// apply and where the sensitive keys are, instead of one lowercased copy and one substring
/// search per field and form. A redactor with secrets scans with its own [`scanner`].
static MARKERS: LazyLock<AhoCorasick> =
    LazyLock::new(|| scanner(&[]).unwrap_or_else(|| unreachable!("the fixed patterns build")));

/// The scan automaton over the keys, the marks and then `secrets` (case-insensitively too: a
/// secret found by the scan may be there, one not found is not). `None` past the automaton's
/// size limits.
pub(super) fn scanner(secrets: &[String]) -> Option<AhoCorasick> {
    let keys = SENSITIVE_FIELDS
        .iter()
        .flat_map(|f| [format!("{f}="), format!("\"{f}\"")]);
    let marks = MARKS.iter().map(|m| m.to_string());
    let patterns: Vec<String> = keys.chain(marks).chain(secrets.iter().cloned()).collect();
    // A DFA for the fixed patterns alone (small, the fastest search); with secrets, a
    // contiguous NFA: a DFA over a profile's many secrets grows to hundreds of KiB, past the
    // caches its per-byte lookups hit.
    let kind = match secrets {
        [] => AhoCorasickKind::DFA,
        _ => AhoCorasickKind::ContiguousNFA,
    };
    AhoCorasick::builder()
        .kind(Some(kind))
        .ascii_case_insensitive(true)
        .build(patterns)
        .ok()
}

/// What one scan over a text found. A mark found is a necessary condition of its rule (the
/// rules re-check their exact form); the redaction markers the rules write contain `[`, so
/// redacting never creates a mark or key that was not there.
#[derive(Debug, Default)]
pub(super) struct Scan {
    pub pem: bool,
    pub header_line: bool,
    pub input: bool,
    pub password: bool,
    /// A configured secret may be in the text (it is, up to ASCII case).
    pub secret: bool,
    /// (pattern, start) of every sensitive key, in order of end (so of start, per pattern).
    keys: Vec<(usize, usize)>,
}

impl Scan {
    /// The scan with the process-wide automaton (no secrets).
    pub fn of(text: &str) -> Scan {
        Scan::with(&MARKERS, text)
    }

    /// The scan with an automaton from [`scanner`].
    pub fn with(scanner: &AhoCorasick, text: &str) -> Scan {
        let mut scan = Scan::default();
        let key_patterns = 2 * SENSITIVE_FIELDS.len();
        for m in scanner.find_overlapping_iter(text) {
            let pattern = m.pattern().as_usize();
            match pattern.checked_sub(key_patterns) {
                None => scan.keys.push((pattern, m.start())),
                Some(0) => scan.pem = true,
                Some(1 | 2) => scan.header_line = true,
                Some(3) => scan.input = true,
                Some(4) => scan.password = true,
                _ => scan.secret = true,
            }
        }
        scan
    }

    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }
}

/// `name=value` form fields and `"name": "value"` JSON members with a sensitive name, at the
/// keys `scan` found in `text`. The values of one-time credentials
/// ([`super::ONE_TIME_PARAMS`]) are pushed to `noted`, decoded: the case's redactor then looks
/// for them everywhere else.
pub(super) fn redact_sensitive_fields<'t>(
    text: &'t str,
    scan: &Scan,
    noted: &mut Vec<String>,
) -> Cow<'t, str> {
    let mut spans = Vec::new();
    // A key is looked for again only past the end of its previous occurrence.
    let mut next_from = vec![0usize; 2 * SENSITIVE_FIELDS.len()];
    for &(pattern, start) in &scan.keys {
        let Some(from) = next_from.get_mut(pattern) else {
            continue;
        };
        if start < *from {
            continue;
        }
        let field = SENSITIVE_FIELDS[pattern / 2];
        let found = spans.len();
        let is_form = pattern % 2 == 0;
        if is_form {
            *from = start + field.len() + 1;
            form_field_span(text, start, *from, &mut spans);
        } else {
            *from = start + field.len() + 2;
            json_member_span(text, *from, &mut spans);
        }
        if super::ONE_TIME_PARAMS.contains(&field) {
            let values = spans.get(found..).unwrap_or_default();
            for raw in values.iter().filter_map(|&(a, b)| text.get(a..b)) {
                noted.push(match is_form {
                    true => one_time::form_decoded(raw),
                    false => one_time::json_unescaped(raw),
                });
            }
        }
    }
    replace_spans(text, spans, REDACTED)
}

/// `value` attributes of `<input>` elements that hold a password, a hidden value (CSRF tokens,
/// transaction ids) or a field with a sensitive name.
pub(super) fn redact_html_inputs(text: &str) -> Cow<'_, str> {
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
pub(super) fn redact_login_hints(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !(lower.contains("type=\"password\"")
        || lower.contains("type='password'")
        || lower.contains("type=password"))
    {
        return Cow::Borrowed(text);
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

/// The value of the form field whose key spans `start..from`, unless the key is the tail of a
/// longer name.
fn form_field_span(text: &str, start: usize, from: usize, spans: &mut Vec<(usize, usize)>) {
    let boundary = text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    if !boundary {
        return;
    }
    let value_len = text[from..]
        .find(|c: char| matches!(c, '&' | '"' | '\'' | '<' | '>') || c.is_whitespace())
        .unwrap_or(text.len() - from);
    if value_len > 0 {
        spans.push((from, from + value_len));
    }
}

/// The string value of the JSON member whose key ends at `after_key`.
fn json_member_span(text: &str, after_key: usize, spans: &mut Vec<(usize, usize)>) {
    let rest = &text[after_key..];
    let trimmed = rest.trim_start();
    let Some(after_colon) = trimmed.strip_prefix(':') else {
        return;
    };
    let value = after_colon.trim_start();
    let Some(string_body) = value.strip_prefix('"') else {
        return;
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
