//! Finding the needles (every encoding of every secret) in a text, overlapping occurrences
//! included.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use memchr::memmem::Finder;

/// Up to this many needles are searched one by one with memchr's memmem (building a finder
/// costs little; a case's dynamic secrets are a handful); past it, with one automaton.
const FEW: usize = 16;

/// A search built once over a redactor's needles.
#[derive(Clone)]
pub(super) enum Search {
    /// One SIMD substring finder per needle.
    Few(Vec<Finder<'static>>),
    /// One non-contiguous NFA over all needles: the haystacks are short (one exchange's
    /// strings), so a cheap build matters more than the fastest search.
    Many(AhoCorasick),
}

impl Search {
    /// `None` only past the automaton's size limits.
    pub fn new(needles: &[String]) -> Option<Search> {
        if needles.len() <= FEW {
            let finders = needles
                .iter()
                .map(|n| Finder::new(n.as_bytes()).into_owned())
                .collect();
            return Some(Search::Few(finders));
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
            Search::Few(finders) => finders.iter().any(|f| f.find(text.as_bytes()).is_some()),
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
                    let len = finder.needle().len();
                    let mut from = 0;
                    while let Some(at) = bytes.get(from..).and_then(|rest| finder.find(rest)) {
                        spans.push((from + at, from + at + len));
                        from += at + 1;
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
