//! Proof that no artefact carries a secret: scan written files for the configured secrets and
//! for JWTs whose signature survived redaction. The harness's own test runs this over every
//! artefact of a real run; our tests run it over renderer output.

use std::path::{Path, PathBuf};

/// Something secret found in an artefact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    pub file: PathBuf,
    /// 1-based line of the first occurrence.
    pub line: usize,
    /// What leaked, never the secret itself: `secret #2` or `JWT signature`.
    pub what: String,
}

/// Shortest signature we treat as real: an ES256 signature is 86 base64url characters; a
/// redaction marker or an empty `alg: none` signature is far shorter.
const MIN_SIGNATURE_LEN: usize = 40;

/// Scans every regular file directly in `dir`. Secrets shorter than 4 characters are ignored
/// (they would match everywhere).
pub fn scan_dir(dir: &Path, secrets: &[&str]) -> std::io::Result<Vec<Leak>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    let mut leaks = Vec::new();
    for path in entries {
        let bytes = std::fs::read(&path)?;
        leaks.extend(scan_text(&path, &String::from_utf8_lossy(&bytes), secrets));
    }
    Ok(leaks)
}

/// Scans one text, reporting each secret (and the first live JWT signature) once.
pub fn scan_text(file: &Path, text: &str, secrets: &[&str]) -> Vec<Leak> {
    let mut leaks = Vec::new();
    for (i, secret) in secrets.iter().enumerate() {
        if secret.len() < 4 {
            continue;
        }
        // Secrets can reach an artefact raw, form-encoded or JSON-escaped.
        let forms = [secret.to_string(), form_encode(secret), json_escape(secret)];
        if let Some(pos) = forms.iter().filter_map(|f| text.find(f.as_str())).min() {
            leaks.push(Leak {
                file: file.to_path_buf(),
                line: line_of(text, pos),
                what: format!("secret #{}", i + 1),
            });
        }
    }
    if let Some(pos) = find_signed_jwt(text) {
        leaks.push(Leak {
            file: file.to_path_buf(),
            line: line_of(text, pos),
            what: "JWT signature".to_string(),
        });
    }
    leaks
}

fn line_of(text: &str, pos: usize) -> usize {
    text.get(..pos).map_or(0, |t| t.matches('\n').count()) + 1
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Position of a compact JWS `eyJ….eyJ….<signature>` whose signature is long enough to be real.
fn find_signed_jwt(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(rel) = text.get(from..)?.find("eyJ") {
        let start = from + rel;
        let segment = |at: usize| {
            let len = bytes
                .get(at..)
                .map_or(0, |s| s.iter().take_while(|b| is_b64url(**b)).count());
            (at + len, len)
        };
        let (header_end, _) = segment(start);
        if bytes.get(header_end) == Some(&b'.') {
            let (payload_end, payload_len) = segment(header_end + 1);
            if payload_len > 0 && bytes.get(payload_end) == Some(&b'.') {
                let (_, sig_len) = segment(payload_end + 1);
                if sig_len >= MIN_SIGNATURE_LEN {
                    return Some(start);
                }
            }
        }
        from = start + 3;
    }
    None
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn json_escape(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "MEUCIQDx3kq1uU7hVQ9yZt1m0rj8ZkSAbbU4yB2J3vEo4vQ8SAIgZ7o2yQ1p";

    #[test]
    fn finds_secrets_in_every_encoding() {
        let p = Path::new("x");
        let found = scan_text(p, "a\nclient_secret=p%40ss+w0rd\n", &["p@ss w0rd"]);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].what.as_str()), (2, "secret #1"));
        assert_eq!(scan_text(p, r#"{"pw":"a\"b\\c"}"#, &[r#"a"b\c"#]).len(), 1);
        assert!(scan_text(p, "nothing here", &["alice-password", "ab"]).is_empty());
    }

    #[test]
    fn finds_live_jwt_signatures_only() {
        let p = Path::new("x");
        let live = format!("actor_token=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.{SIG}");
        assert_eq!(scan_text(p, &live, &[])[0].what, "JWT signature");
        for dead in [
            "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.[REDACTED]",
            "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.",
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0",
        ] {
            assert!(scan_text(p, dead, &[]).is_empty(), "{dead}");
        }
    }
}
