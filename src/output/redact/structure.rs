//! The structural rules over key- and token-shaped text: PEM private-key blocks and the
//! signature segments of compact JWS (see [`super`], steps 1 and 2).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use super::{replace_spans, PRIVATE_KEY, SIGNATURE};

/// `-----BEGIN ... PRIVATE KEY-----` up to the matching END line (or the end of the text, when
/// truncated) becomes `[PRIVATE KEY]`. Public keys and certificates stay.
pub(super) fn redact_pem_private_keys(text: &str) -> Cow<'_, str> {
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

/// Whether a base64url segment can decode to a JSON object: its first byte is `{` or JSON
/// whitespace (space, tab, LF, CR), whose top six bits encode as `e`, `I`, `C`, `D`. Checked
/// before any decoding: most dotted runs (host names, versions, opaque tokens) fail it.
fn may_open_object(segment: &str) -> bool {
    matches!(segment.as_bytes().first(), Some(b'e' | b'I' | b'C' | b'D'))
}

/// A base64url segment that decodes to a JSON object with a string `alg`: a JOSE header.
fn is_jose_header(segment: &str) -> bool {
    header_kind(segment) != HeaderKind::NotJose
}

/// What a segment is as a JOSE header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderKind {
    NotJose,
    /// A JWS header: the segment after next is a signature.
    Jws,
    /// A JWE header (with `enc`): nothing to mask.
    Jwe,
}

/// Segments recently classified on this thread, so the few headers a run sees again and again
/// (the target's access tokens, the harness's actor tokens) are decoded and parsed once. Bounded:
/// cleared when full.
const HEADER_CACHE: usize = 256;

thread_local! {
    static HEADERS: RefCell<HashMap<String, HeaderKind>> = RefCell::new(HashMap::new());
}

fn header_kind(segment: &str) -> HeaderKind {
    if segment.len() < 8 || !may_open_object(segment) {
        return HeaderKind::NotJose;
    }
    if let Some(kind) = HEADERS.with(|c| c.borrow().get(segment).copied()) {
        return kind;
    }
    let kind = classify_header(segment);
    HEADERS.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= HEADER_CACHE {
            cache.clear();
        }
        cache.insert(segment.to_string(), kind);
    });
    kind
}

/// Decodes and parses the segment: a JSON object with a string `alg` is a JOSE header, a JWE
/// one if it also has `enc`.
fn classify_header(segment: &str) -> HeaderKind {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(segment) else {
        return HeaderKind::NotJose;
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if v.get("alg").is_some_and(Value::is_string) => match v.get("enc") {
            Some(_) => HeaderKind::Jwe,
            None => HeaderKind::Jws,
        },
        _ => HeaderKind::NotJose,
    }
}

pub(super) fn looks_like_jws(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| p.chars().all(is_b64url_char))
        && is_jose_header(parts[0])
}

/// The bytes of a run: base64url characters and dots (a table: the scan looks at every byte
/// around a dot).
static RUN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.';
        b += 1;
    }
    table
};

/// Every `header.payload.signature` whose header is a JOSE header gets its signature masked.
/// Runs of base64url characters and dots are examined; a JWE (header with `enc`) is left alone.
/// Only the runs around a dot are looked at (found with memchr): a JWS needs two dots, most
/// strings (header values, form bodies) have none.
pub(super) fn redact_jws_signatures(text: &str) -> Cow<'_, str> {
    // Run characters are ASCII, so byte offsets are char boundaries; bytes of multi-byte
    // characters (>= 0x80) end a run like any other non-run character.
    let is_run_byte = |b: &u8| RUN_BYTES[usize::from(*b)];
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = bytes
        .get(from..)
        .and_then(|rest| memchr::memchr(b'.', rest))
    {
        let dot = from + found;
        let start = bytes[..dot]
            .iter()
            .rposition(|b| !is_run_byte(b))
            .map_or(0, |i| i + 1);
        let end = bytes[dot..]
            .iter()
            .position(|b| !is_run_byte(b))
            .map_or(bytes.len(), |i| dot + i);
        jws_signature_spans(text, start, end, &mut spans);
        from = end;
    }
    replace_spans(text, spans, SIGNATURE)
}

fn jws_signature_spans(text: &str, start: usize, end: usize, spans: &mut Vec<(usize, usize)>) {
    let Some(run) = text.get(start..end) else {
        return;
    };
    let dots = memchr::memchr_iter(b'.', run.as_bytes());
    if dots.clone().nth(1).is_none() {
        return;
    }
    // Segment offsets within the run.
    let mut segments: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for dot in dots.chain([run.len()]) {
        segments.push((offset, &run[offset..dot]));
        offset = dot + 1;
    }
    let mut i = 0;
    while i + 2 < segments.len() {
        let (_, header) = segments[i];
        // A JWE header (with `enc`) is no JWS header: its third segment is no signature.
        if header_kind(header) == HeaderKind::Jws {
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
