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
//!
//! The one redaction point of a case is its [`CaseRedactor`]: the run's `Redactor` (built once
//! per run over the profile's secrets) and the case's one-time credentials ([`ONE_TIME_PARAMS`]:
//! refresh tokens, PKCE verifiers), those the case kept and those the field rule blanked. The
//! session keeps each exchange as sent and received until the case ends; then every recorded
//! string goes through the run's rules, every one through the case's one-time credentials, and
//! the ending and checks through the latter (`Session::finish`); no later pass redacts again.

use std::borrow::Cow;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";
pub const SIGNATURE: &str = "[SIGNATURE]";
pub const PRIVATE_KEY: &str = "[PRIVATE KEY]";

mod case;
mod fields;
mod needles;
mod one_time;
mod structure;
pub use case::CaseRedactor;
use fields::{
    is_sensitive_field, redact_cookie_pairs, redact_html_inputs, redact_login_hints,
    redact_sensitive_fields, split_header_line, Scan,
};
use needles::Search;
pub use one_time::{one_time_values, ONE_TIME_PARAMS};
use structure::{looks_like_jws, redact_jws_signatures, redact_pem_private_keys};

/// Headers whose whole value is a credential.
const SECRET_HEADERS: &[&str] = &["x-api-key", "api-key", "x-auth-token"];

/// Replaces secrets in text; cheap to clone and share between cases.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Every encoding of every secret, longest first, without duplicates.
    needles: Vec<String>,
    /// The search over all needles, built on first use; reset whenever a needle is added.
    search: OnceLock<Option<Search>>,
    /// The scan automaton of [`Redactor::redact`] with the needles after the rules' patterns
    /// (`None` past its size limits), built on first use; reset whenever a needle is added.
    scanner: OnceLock<Option<AhoCorasick>>,
    /// Some needle could appear where the rules rewrote text (it holds `[` or `]`, or lies
    /// inside a marker word): the needles pass then runs whatever the scan found.
    needles_in_markers: bool,
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
                self.needles_in_markers |= in_markers(&variant);
                self.needles.push(variant);
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        self.search = OnceLock::new();
        self.scanner = OnceLock::new();
    }

    /// Whether any secret is configured (the structural rules apply regardless).
    pub fn has_secrets(&self) -> bool {
        !self.needles.is_empty()
    }

    /// The text with every secret, signature, private key and sensitive field value replaced.
    /// One scan of the text says which rules can apply ([`Scan`]); a rule that changes nothing
    /// copies nothing.
    pub fn redact(&self, text: &str) -> String {
        self.redact_noting(text, &mut Vec::new())
    }

    /// [`Redactor::redact`], pushing to `noted` the one-time credentials ([`ONE_TIME_PARAMS`])
    /// the field rule blanked.
    fn redact_noting(&self, text: &str, noted: &mut Vec<String>) -> String {
        self.redact_noting_cow(text, noted).into_owned()
    }

    /// [`Redactor::redact_noting`], borrowing `text` back when no rule changed it (most header
    /// values).
    fn redact_noting_cow<'t>(&self, text: &'t str, noted: &mut Vec<String>) -> Cow<'t, str> {
        let scan = self.scan(text);
        let mut out = Cow::Borrowed(text);
        if scan.pem {
            out = then(out, redact_pem_private_keys);
        }
        out = then(out, redact_jws_signatures);
        if scan.header_line {
            out = then(out, |t| Cow::Owned(self.redact_header_lines(t)));
        }
        if scan.has_keys() {
            out = match out {
                Cow::Borrowed(t) => redact_sensitive_fields(t, &scan, noted),
                // An earlier rule moved the keys: find them again.
                Cow::Owned(t) => then(Cow::Owned(t), |t| {
                    redact_sensitive_fields(t, &Scan::of(t), noted)
                }),
            };
        }
        if scan.input {
            out = then(out, redact_html_inputs);
        }
        if scan.password {
            out = then(out, redact_login_hints);
        }
        // A needle not in the text cannot be in the result unless a rule wrote it: only the
        // header-line rule rejoins text (`Bearer  x` becomes `Bearer x`), markers are checked
        // when the needles are added.
        if scan.secret || scan.header_line || self.needles_in_markers {
            out = then(out, |t| self.redact_needles(t));
        }
        out
    }

    /// One pass over `text` with the rules' patterns and the needles.
    fn scan(&self, text: &str) -> Scan {
        if self.needles.is_empty() {
            return Scan::of(text);
        }
        match self.scanner.get_or_init(|| fields::scanner(&self.needles)) {
            Some(scanner) => Scan::with(scanner, text),
            // Past the size limits: scan for the rules alone and run the needles pass always.
            None => {
                let mut scan = Scan::of(text);
                scan.secret = true;
                scan
            }
        }
    }

    /// A header value fit for a transcript.
    pub fn redact_header(&self, name: &str, value: &str) -> String {
        self.redact_header_noting(name, value, &mut Vec::new())
    }

    /// [`Redactor::redact_header`], noting one-time credentials as
    /// [`Redactor::redact_noting`] does.
    fn redact_header_noting(&self, name: &str, value: &str, noted: &mut Vec<String>) -> String {
        self.redact_header_noting_cow(name, value, noted)
            .into_owned()
    }

    /// [`Redactor::redact_header_noting`], borrowing `value` back when no rule changed it.
    fn redact_header_noting_cow<'v>(
        &self,
        name: &str,
        value: &'v str,
        noted: &mut Vec<String>,
    ) -> Cow<'v, str> {
        // Compared in place: a transcript holds thousands of header names.
        let name = name.trim();
        let is = |known: &str| name.eq_ignore_ascii_case(known);
        if is("authorization") || is("proxy-authorization") {
            Cow::Owned(self.redact_authorization(value))
        } else if is("cookie") {
            Cow::Owned(redact_cookie_pairs(value))
        } else if is("set-cookie") {
            Cow::Owned(self.redact_set_cookie(value))
        } else if SECRET_HEADERS.iter().any(|h| is(h)) {
            Cow::Borrowed(REDACTED)
        } else {
            self.redact_noting_cow(value, noted)
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

    /// The search over all needles, built once.
    fn search(&self) -> Option<&Search> {
        self.search
            .get_or_init(|| Search::new(&self.needles))
            .as_ref()
    }

    /// Replaces every occurrence (overlapping ones included) of every needle, merging overlaps
    /// so no fragment of a secret survives between two markers.
    fn redact_needles<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.needles.is_empty() {
            return Cow::Borrowed(text);
        }
        let Some(search) = self.search() else {
            // Building fails only past the automaton's size limits: redact everything rather
            // than risk a leak.
            return Cow::Borrowed(REDACTED);
        };
        // Most strings hold no secret: a plain search says so before the one that finds every
        // span.
        if !search.is_match(text) {
            return Cow::Borrowed(text);
        }
        replace_spans(text, search.spans(text), REDACTED)
    }

    /// Whether `text` holds any configured secret in any of its encodings (one search).
    pub fn mentions_secret(&self, text: &str) -> bool {
        match self.search() {
            Some(search) => search.is_match(text),
            None => !self.needles.is_empty(),
        }
    }
}

/// Whether a needle could appear where a rule wrote a marker: it holds a bracket, or lies
/// inside a marker word.
fn in_markers(needle: &str) -> bool {
    memchr::memchr2(b'[', b']', needle.as_bytes()).is_some()
        || (needle.len() <= PRIVATE_KEY.len()
            && [REDACTED, SIGNATURE, PRIVATE_KEY]
                .iter()
                .any(|m| m.contains(needle)))
}

/// `text` after `rule`, reusing `text` when the rule changed nothing.
fn then<'t>(text: Cow<'t, str>, rule: impl FnOnce(&str) -> Cow<'_, str>) -> Cow<'t, str> {
    let changed = match rule(&text) {
        Cow::Owned(changed) => Some(changed),
        Cow::Borrowed(_) => None,
    };
    changed.map_or(text, Cow::Owned)
}

/// Sorts and merges spans (overlapping or touching) and replaces each by `marker`.
fn replace_spans<'t>(text: &'t str, mut spans: Vec<(usize, usize)>, marker: &str) -> Cow<'t, str> {
    if spans.is_empty() {
        return Cow::Borrowed(text);
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
    Cow::Owned(out)
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

#[cfg(test)]
mod tests;
