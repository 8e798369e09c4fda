//! Values the *target* draws at random (authorization codes, token IDs, refresh tokens, key IDs
//! and public key coordinates, login transaction and CSRF tokens) become placeholders numbered by
//! first appearance (`<code-1>`, `<jti-3>`), so that two runs with one seed normalise to the
//! same bytes although the target's randomness is not the seed's. Values are found by the name
//! they travel under (JSON member, form or query parameter, HTML input), also inside the header
//! and payload of compact JWTs, which are decoded, normalised and re-encoded so that their
//! claims stay readable.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// (name the value travels under, placeholder kind).
const VOLATILE: [(&str, &str); 9] = [
    ("code", "code"),
    ("jti", "jti"),
    ("kid", "kid"),
    ("refresh_token", "refresh-token"),
    ("x", "key-x"),
    ("y", "key-y"),
    ("n", "key-n"),
    ("tx", "tx"),
    ("csrf", "csrf"),
];

/// Shorter values are left alone: replacing them everywhere would hit ordinary text.
const MIN_LEN: usize = 8;

/// Values found, in first-seen order, with their kind.
#[derive(Debug, Default)]
pub(crate) struct Volatile {
    found: Vec<(String, &'static str)>,
}

impl Volatile {
    /// Records the volatile values of `text` (and of the JWTs inside it).
    pub(crate) fn collect(&mut self, text: &str) {
        self.collect_plain(text);
        for (start, end) in jwt_segments(text) {
            if let Some(decoded) = decode_segment(&text[start..end]) {
                self.collect_plain(&decoded);
            }
        }
    }

    fn collect_plain(&mut self, text: &str) {
        for (name, kind) in VOLATILE {
            for value in values_named(text, name) {
                if value.len() >= MIN_LEN
                    && !value.starts_with('<')
                    && !value.starts_with('[')
                    && !self.found.iter().any(|(v, _)| *v == value)
                {
                    self.found.push((value, kind));
                }
            }
        }
    }

    /// Placeholders numbered per kind in first-seen order.
    pub(crate) fn numbered(&self) -> Placeholders {
        let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
        let mut pairs: Vec<(String, String)> = self
            .found
            .iter()
            .map(|(value, kind)| {
                let n = per_kind.entry(kind).or_insert(0);
                *n += 1;
                (value.clone(), format!("<{kind}-{n}>"))
            })
            .collect();
        pairs.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        Placeholders { pairs }
    }

    /// The same values, unnumbered (`<code>`): for ordering before numbers are known.
    pub(crate) fn unnumbered(&self) -> Placeholders {
        let mut pairs: Vec<(String, String)> = self
            .found
            .iter()
            .map(|(v, kind)| (v.clone(), format!("<{kind}>")))
            .collect();
        pairs.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        Placeholders { pairs }
    }
}

/// Value → placeholder, longest value first (one value may contain another).
pub(crate) struct Placeholders {
    pairs: Vec<(String, String)>,
}

impl Placeholders {
    /// `text` with every known value replaced, inside JWTs too, whose decoded JSON also goes
    /// through `fix_decoded` (the caller's clock and port rules) before re-encoding.
    pub(crate) fn apply(&self, text: &str, fix_decoded: impl Fn(&mut String)) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end) in jwt_segments(text) {
            out.push_str(&self.replace_plain(&text[last..start]));
            let segment = &text[start..end];
            match decode_segment(segment) {
                Some(mut decoded) => {
                    fix_decoded(&mut decoded);
                    let fixed = self.replace_plain(&decoded);
                    out.push_str(&URL_SAFE_NO_PAD.encode(fixed.as_bytes()));
                }
                None => out.push_str(segment),
            }
            last = end;
        }
        out.push_str(&self.replace_plain(&text[last..]));
        out
    }

    fn replace_plain(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (value, placeholder) in &self.pairs {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), placeholder);
            }
        }
        text
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Byte ranges of base64url runs that start with `eyJ` (a JSON object's `{"`): JWT header and
/// payload segments. Signatures never start so, and are redacted anyway.
fn jwt_segments(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rel) = text.get(i..).and_then(|t| t.find("eyJ")) {
        let start = i + rel;
        let starts_run = start == 0 || !bytes.get(start - 1).copied().is_some_and(is_b64url);
        let len = bytes[start..].iter().take_while(|b| is_b64url(**b)).count();
        if starts_run {
            out.push((start, start + len));
        }
        i = start + len.max(3);
    }
    out
}

/// The segment as JSON text, when it decodes to an object.
fn decode_segment(segment: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    matches!(
        serde_json::from_str::<serde_json::Value>(&text),
        Ok(serde_json::Value::Object(_))
    )
    .then_some(text)
}

/// Values of `name` in `text`: JSON string members (`"name": "v"`), form and query parameters
/// (`name=v` after start, `?`, `&`, `#`, or whitespace) and HTML inputs (`name="name" value="v"`).
fn values_named(text: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let member = format!("\"{name}\"");
    let mut rest = text;
    while let Some(i) = rest.find(member.as_str()) {
        let after = &rest[i + member.len()..];
        if let Some(v) = after
            .trim_start()
            .strip_prefix(':')
            .map(str::trim_start)
            .and_then(|v| v.strip_prefix('"'))
            .and_then(|v| v.split_once('"'))
            .map(|(v, _)| v)
        {
            out.push(v.to_string());
        }
        // `name="csrf" value="…"`: the member pattern's `"csrf"` is followed by ` value="`.
        if let Some(v) = after
            .strip_prefix(" value=\"")
            .and_then(|v| v.split_once('"'))
            .map(|(v, _)| v)
        {
            out.push(v.to_string());
        }
        rest = after;
    }
    let param = format!("{name}=");
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(rel) = text.get(from..).and_then(|t| t.find(param.as_str())) {
        let at = from + rel;
        let boundary =
            at == 0 || matches!(bytes.get(at - 1), Some(b'?' | b'&' | b'#' | b' ' | b'\n'));
        let value_start = at + param.len();
        if boundary {
            let len = bytes[value_start..]
                .iter()
                .take_while(|b| {
                    !matches!(b, b'&' | b'#' | b'"' | b'\'' | b'<' | b' ' | b'\n' | b'\r')
                })
                .count();
            out.push(text[value_start..value_start + len].to_string());
        }
        from = value_start;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.[SIGNATURE]",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn values_are_found_by_name_in_json_forms_queries_and_inputs() {
        assert_eq!(values_named(r#"{"jti" : "abc", "x":"k"}"#, "jti"), ["abc"]);
        assert_eq!(
            values_named("http://h/cb?state=s&code=C0DE&x=1", "code"),
            ["C0DE"]
        );
        assert_eq!(
            values_named("grant_type=authorization_code&code=Q", "code"),
            ["Q"]
        );
        assert!(values_named("response_code=no", "code").is_empty());
        assert_eq!(
            values_named(r#"<input type="hidden" name="csrf" value="tok">"#, "csrf"),
            ["tok"]
        );
    }

    #[test]
    fn placeholders_are_numbered_by_first_appearance_inside_jwts_too() {
        let token = jwt(
            r#"{"alg":"ES256","kid":"kid-of-the-server"}"#,
            r#"{"sub":"alice","jti":"first-random-id","iat":1795967805}"#,
        );
        let texts = [
            "code=random-code-1&state=seeded".to_string(),
            format!(r#"{{"access_token":"{token}"}}"#),
            r#"{"jti":"second-random-id","again":"first-random-id"}"#.to_string(),
        ];
        let mut v = Volatile::default();
        texts.iter().for_each(|t| v.collect(t));
        let p = v.numbered();
        let zero = |s: &mut String| *s = s.replace("1795967805", "0");
        assert_eq!(p.apply(&texts[0], zero), "code=<code-1>&state=seeded");
        let expected = jwt(
            r#"{"alg":"ES256","kid":"<kid-1>"}"#,
            r#"{"sub":"alice","jti":"<jti-1>","iat":0}"#,
        );
        assert_eq!(
            p.apply(&texts[1], zero),
            format!(r#"{{"access_token":"{expected}"}}"#)
        );
        assert_eq!(
            p.apply(&texts[2], zero),
            r#"{"jti":"<jti-2>","again":"<jti-1>"}"#
        );
    }

    #[test]
    fn short_values_and_markers_are_left_alone() {
        let mut v = Volatile::default();
        v.collect(r#"{"kid":"k1","code":"[REDACTED]","x":"<key-x-1>"}"#);
        assert!(v.found.is_empty());
    }
}
