//! Request parameters (query string or form body), with the RFC 6749 §3.1/§3.2 rules:
//! an empty value counts as absent, unknown parameters are ignored, and a parameter must not
//! appear twice (OBO-INH-1). Parsing is linear in the input and bounded: at most MAX_PARAMS
//! parameters are read, each value at most MAX_VALUE_LEN bytes.

use std::collections::{HashMap, HashSet};

use crate::fault::{Fault, Faults};

/// Parameter values longer than this are refused (ADV-52).
pub const MAX_VALUE_LEN: usize = 8 * 1024;
/// More parameters than this are refused; parsing stops there. No endpoint takes more than ~15.
pub const MAX_PARAMS: usize = 64;

#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, String>,
    /// Every repeated name (a set: detection stays linear in the number of parameters).
    duplicated: HashSet<String>,
    /// The first repeated name, for the error message.
    first_duplicated: Option<String>,
    oversized: Option<String>,
    too_many: bool,
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes; invalid UTF-8 is replaced, never fatal.
    pub fn parse(input: &[u8]) -> Params {
        let mut p = Params::default();
        for (i, (k, v)) in url::form_urlencoded::parse(input).enumerate() {
            if i == MAX_PARAMS {
                p.too_many = true;
                break;
            }
            if v.len() > MAX_VALUE_LEN && p.oversized.is_none() {
                p.oversized = Some(k.chars().take(64).collect());
            }
            if p.values.contains_key(k.as_ref()) {
                if p.first_duplicated.is_none() {
                    p.first_duplicated = Some(k.to_string());
                }
                p.duplicated.insert(k.into_owned());
                continue;
            }
            // First occurrence wins; empty values are recorded so that a later duplicate is
            // still seen, and read back as absent.
            p.values.insert(k.into_owned(), v.into_owned());
        }
        p
    }

    /// The value, or `None` when absent or empty (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn is_duplicated(&self, name: &str) -> bool {
        self.duplicated.contains(name)
    }

    /// OBO-INH-1 / OBO-AUTHZ-9: too many parameters, an oversized one, or the first duplicated
    /// one, if any.
    pub fn malformed(&self, faults: &Faults) -> Option<String> {
        if self.too_many {
            return Some(format!("more than {MAX_PARAMS} parameters"));
        }
        if let Some(k) = &self.oversized {
            return Some(format!("parameter `{k}` is too long"));
        }
        if faults.on(Fault::DuplicateParamsAccepted) {
            return None;
        }
        self.first_duplicated
            .as_ref()
            .map(|k| format!("parameter `{k}` is repeated"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_empty_values() {
        let p = Params::parse(b"a=1&b=&a=2&c=%ff");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert!(p.is_duplicated("a"));
        assert!(p.malformed(&Faults::default()).is_some());
        assert!(p
            .malformed(&Faults::new(&[Fault::DuplicateParamsAccepted]))
            .is_none());
        assert_eq!(p.get("c"), Some("\u{fffd}"));
    }

    #[test]
    fn counts_are_capped_and_named() {
        let body: String = (0..MAX_PARAMS + 1).map(|i| format!("k{i}=v&")).collect();
        let p = Params::parse(body.as_bytes());
        let msg = p.malformed(&Faults::default()).unwrap();
        assert!(msg.contains("parameters"), "{msg}");
        let ok: String = (0..MAX_PARAMS).map(|i| format!("k{i}=v&")).collect();
        assert!(Params::parse(ok.as_bytes())
            .malformed(&Faults::default())
            .is_none());
    }
}
