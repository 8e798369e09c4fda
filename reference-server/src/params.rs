//! Request parameters (query string or form body), with the RFC 6749 §3.1/§3.2 rules:
//! an empty value counts as absent, unknown parameters are ignored, and a parameter must not
//! appear twice (OBO-INH-1).

use std::collections::HashMap;

use crate::fault::{Fault, Faults};

/// Parameter values longer than this are refused (ADV-52).
pub const MAX_VALUE_LEN: usize = 8 * 1024;

#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, String>,
    duplicated: Vec<String>,
    oversized: Option<String>,
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes; invalid UTF-8 is replaced, never fatal.
    pub fn parse(input: &[u8]) -> Params {
        let mut p = Params::default();
        for (k, v) in url::form_urlencoded::parse(input) {
            if v.len() > MAX_VALUE_LEN && p.oversized.is_none() {
                p.oversized = Some(k.to_string());
            }
            if p.values.contains_key(k.as_ref()) {
                if !p.duplicated.iter().any(|d| d == k.as_ref()) {
                    p.duplicated.push(k.to_string());
                }
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
        self.duplicated.iter().any(|d| d == name)
    }

    /// OBO-INH-1 / OBO-AUTHZ-9: the first duplicated parameter, if any, or an oversized one.
    pub fn malformed(&self, faults: &Faults) -> Option<String> {
        if let Some(k) = &self.oversized {
            return Some(format!("parameter `{k}` is too long"));
        }
        if faults.on(Fault::DuplicateParamsAccepted) {
            return None;
        }
        self.duplicated
            .first()
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
}
