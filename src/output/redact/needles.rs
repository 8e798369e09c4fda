//! Finding the needles (every encoding of every secret) in a text, overlapping occurrences
//! included.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use memchr::memmem::Finder;

/// Up to this many needles are searched one by one with memchr's memmem (building a finder
/// costs little; a case's dynamic secrets are a handful); past it, with one automaton.
const FEW: usize = 16;

/// Bytes of a needle a finder is built over; a hit is confirmed by comparing the rest. Building
/// a finder costs time in the needle's length (byte ranking, critical factorisation), a case
/// builds one per encoding of each secret it meets, and secrets such as refresh tokens run to
/// hundreds of bytes, while a dozen bytes of one already make a false candidate rare.
const FINDER_PREFIX: usize = 12;

/// A search built once over a redactor's needles.
#[derive(Clone)]
pub(super) enum Search {
    /// One SIMD substring finder per needle, over its first [`FINDER_PREFIX`] bytes.
    Few(Vec<Prefixed>),
    /// One non-contiguous NFA over all needles: the haystacks are short (one exchange's
    /// strings), so a cheap build matters more than the fastest search.
    Many(AhoCorasick),
}

impl Search {
    /// `None` only past the automaton's size limits.
    pub fn new(needles: &[String]) -> Option<Search> {
        if needles.len() <= FEW {
            return Some(Search::Few(
                needles.iter().map(|n| Prefixed::new(n)).collect(),
            ));
        }
        Search::automaton(needles)
    }

    /// The automaton search whatever the number of needles.
    pub fn automaton(needles: &[String]) -> Option<Search> {
        AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::NoncontiguousNFA))
            .build(needles)
            .ok()
            .map(Search::Many)
    }

    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Search::Few(finders) => finders
                .iter()
                .any(|f| f.find_from(text.as_bytes(), 0).is_some()),
            Search::Many(automaton) => automaton.is_match(text),
        }
    }

    /// The span of every occurrence of every needle, overlapping ones included (a needle is
    /// looked for again one byte past the start of its last occurrence).
    pub fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        match self {
            Search::Few(finders) => {
                let bytes = text.as_bytes();
                let mut spans = Vec::new();
                for finder in finders {
                    let len = finder.needle.len();
                    let mut from = 0;
                    while let Some(at) = finder.find_from(bytes, from) {
                        spans.push((at, at + len));
                        from = at + 1;
                    }
                }
                spans
            }
            Search::Many(automaton) => automaton
                .find_overlapping_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect(),
        }
    }
}

/// A needle and a finder over its first [`FINDER_PREFIX`] bytes.
#[derive(Clone)]
pub(super) struct Prefixed {
    finder: Finder<'static>,
    needle: Box<[u8]>,
}

impl Prefixed {
    fn new(needle: &str) -> Prefixed {
        let bytes = needle.as_bytes();
        let prefix = bytes.get(..FINDER_PREFIX).unwrap_or(bytes);
        Prefixed {
            finder: Finder::new(prefix).into_owned(),
            needle: bytes.into(),
        }
    }

    /// The start of the first whole occurrence of the needle at or after `from`.
    fn find_from(&self, haystack: &[u8], mut from: usize) -> Option<usize> {
        loop {
            let at = from + self.finder.find(haystack.get(from..)?)?;
            if haystack.get(at..)?.starts_with(&self.needle) {
                return Some(at);
            }
            from = at + 1;
        }
    }
}
