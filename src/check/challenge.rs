//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1) read into schemes and auth-params, and the
//! `challenge` expectation: the scheme (RFC 6749 §5.2: `Basic` after a failed Basic client
//! authentication), the error code and the needed scope (draft §4.4.2, RFC 6750 §3; AMB-23
//! accepts `scope` or the draft example's `required_scope`).

use obo_report::Check;

use super::{CheckContext, Observation};
use crate::case::ChallengeExpect;

/// One challenge of a `WWW-Authenticate` field: its scheme and auth-params (names lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every challenge of one field value. Lenient: malformed pieces are skipped, never a panic.
pub fn parse(field: &str) -> Vec<Challenge> {
    let chars: Vec<char> = field.chars().collect();
    let mut out: Vec<Challenge> = Vec::new();
    let mut i = 0;
    let is_delim = |c: char| c.is_whitespace() || c == ',' || c == '=' || c == '"';
    while i < chars.len() {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
            i += 1;
        }
        let start = i;
        while i < chars.len() && !is_delim(chars[i]) {
            i += 1;
        }
        if i == start {
            i += 1; // a stray `=` or `"`: skip it
            continue;
        }
        let token: String = chars[start..i].iter().collect();
        let mut j = i;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        if j < chars.len() && chars[j] == '=' {
            // An auth-param `name=value` (or a token68's padding, read as an empty value).
            i = j + 1;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < chars.len() && chars[i] == '"' {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    value.push(chars[i]);
                    i += 1;
                }
                i += 1;
            } else {
                while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ',' {
                    value.push(chars[i]);
                    i += 1;
                }
            }
            if let Some(c) = out.last_mut() {
                c.params.push((token.to_ascii_lowercase(), value));
            }
        } else {
            out.push(Challenge {
                scheme: token,
                params: Vec::new(),
            });
        }
    }
    out
}

/// The checks of a `challenge` expectation against every `WWW-Authenticate` field observed:
/// the challenge states its reason and carries the error code (OBO-RS-11, OBO-RS-12), under the
/// case's requirement IDs.
pub(super) fn checks(
    obs: &Observation,
    want: &ChallengeExpect,
    cx: &CheckContext<'_>,
    out: &mut Vec<Check>,
) {
    let fields: Vec<&str> = obs
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
        .map(|(_, v)| v.as_str())
        .collect();
    let seen = if fields.is_empty() {
        "WWW-Authenticate header absent".to_string()
    } else {
        format!("WWW-Authenticate: {}", fields.join(" | "))
    };
    let scheme = want.scheme.as_deref().unwrap_or("Bearer");
    let found = fields
        .iter()
        .flat_map(|f| parse(f))
        .find(|c| c.scheme.eq_ignore_ascii_case(scheme));
    if want.scheme.is_some() {
        out.push(cx.check(
            "challenge scheme",
            format!("a WWW-Authenticate {scheme} challenge"),
            seen.clone(),
            found.is_some(),
        ));
    }
    if let Some(errors) = &want.error {
        let mut acc = errors.to_vec();
        if cx.strict {
            acc.truncate(1);
        }
        let got = found.as_ref().and_then(|c| c.param("error"));
        out.push(cx.check(
            "challenge error",
            format!("{scheme} challenge with error={}", acc.join(" or ")),
            seen.clone(),
            got.is_some_and(|g| acc.iter().any(|a| a == g)),
        ));
    }
    if let Some(scope) = &want.scope {
        // AMB-23: RFC 6750's `scope` or the draft example's `required_scope`; --strict: `scope`.
        let attrs: &[&str] = if cx.strict {
            &["scope"]
        } else {
            &["scope", "required_scope"]
        };
        let offered = |attr: &str| {
            found
                .as_ref()
                .and_then(|c| c.param(attr))
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let ok = attrs.iter().any(|a| {
            scope
                .split_whitespace()
                .all(|s| offered(a).iter().any(|o| o == s))
        });
        out.push(cx.check(
            "challenge scope",
            format!(
                "{scheme} challenge naming {scope:?} in {}",
                attrs.join(" or ")
            ),
            seen,
            ok,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemes_and_params() {
        let c =
            parse(r#"Bearer realm="r", error="insufficient_scope", scope="a b", required_scope=c"#);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "Bearer");
        assert_eq!(c[0].param("error"), Some("insufficient_scope"));
        assert_eq!(c[0].param("scope"), Some("a b"));
        assert_eq!(c[0].param("required_scope"), Some("c"));
        let two = parse(r#"Basic realm="x", Bearer error=invalid_token"#);
        assert_eq!(two.len(), 2);
        assert_eq!(two[1].param("error"), Some("invalid_token"));
        assert_eq!(
            parse(r#"Bearer realm="a\"b""#)[0].param("realm"),
            Some("a\"b")
        );
    }

    fn run(header: Option<&str>, want: ChallengeExpect, strict: bool) -> Vec<(String, bool)> {
        let obs = Observation {
            status: Some(403),
            headers: header
                .map(|h| vec![("WWW-Authenticate".to_string(), h.to_string())])
                .unwrap_or_default(),
            ..Default::default()
        };
        let reqs = vec!["OBO-RS-12".to_string()];
        let cx = CheckContext {
            step: 0,
            level: obo_report::Level::Must,
            requirements: &reqs,
            strict,
        };
        let mut out = Vec::new();
        checks(&obs, &want, &cx, &mut out);
        out.into_iter().map(|c| (c.name, c.ok)).collect()
    }

    fn rs_want() -> ChallengeExpect {
        ChallengeExpect {
            scheme: None,
            error: Some(crate::case::OneOrMany::One("insufficient_scope".into())),
            scope: Some("files.write".into()),
        }
    }

    #[test]
    fn either_scope_attribute_names_the_needed_scope() {
        let all_ok = |v: Vec<(String, bool)>| v.len() == 2 && v.iter().all(|(_, ok)| *ok);
        let scope = r#"Bearer error="insufficient_scope", scope="files.read files.write""#;
        let required = r#"Bearer error="insufficient_scope", required_scope="files.write""#;
        assert!(all_ok(run(Some(scope), rs_want(), false)));
        assert!(all_ok(run(Some(required), rs_want(), false)));
        // --strict: RFC 6750's `scope` only.
        assert!(!all_ok(run(Some(required), rs_want(), true)));
    }

    #[test]
    fn a_bare_or_missing_challenge_fails_error_and_scope() {
        for h in [Some(r#"Bearer realm="r""#), None] {
            let v = run(h, rs_want(), false);
            assert_eq!(v.len(), 2);
            assert!(v.iter().all(|(_, ok)| !ok), "{h:?}: {v:?}");
        }
    }

    #[test]
    fn the_scheme_must_match() {
        let want = ChallengeExpect {
            scheme: Some("Basic".into()),
            ..Default::default()
        };
        assert_eq!(
            run(Some(r#"Basic realm="as""#), want.clone(), false),
            vec![("challenge scheme".to_string(), true)]
        );
        assert_eq!(
            run(Some("Bearer"), want, false),
            vec![("challenge scheme".to_string(), false)]
        );
    }

    #[test]
    fn hostile_fields_never_panic() {
        for f in [
            "",
            "=",
            "\"",
            "Bearer =",
            "Bearer a=\"",
            ",,,",
            "Bearer a=b=c",
            "é=ü",
        ] {
            let _ = parse(f);
        }
    }
}
