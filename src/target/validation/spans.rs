//! Positions in the profile text: byte offsets to lines and columns, and the span of every
//! dotted path read from the text by the same parser.

/// A line and column (1-based) in the profile text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` of `text`.
    pub fn of(text: &str, offset: usize) -> Position {
        let before = &text[..floor_char_boundary(text, offset.min(text.len()))];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

pub(super) fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The dotted field of the line holding byte `offset`: the table (the last `[header]` above,
/// array-of-tables headers without their index) and the line's key, or the header itself when
/// the line is one.
pub(crate) fn field_at(text: &str, offset: usize) -> Option<String> {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = text[line_start..line_end].trim();
    let header = |l: &str| l.trim_matches(|c| c == '[' || c == ']').trim().to_string();
    if line.starts_with('[') {
        return Some(header(line));
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(header);
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string());
    match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, k) => k,
        (t, None) => t,
    }
}

/// The profile's keys with where each is written: a map from dotted paths (`client.primary.id`,
/// `consent.page[1].match`) to the byte span of the value, read from the text by the same
/// parser. What lets semantic errors, found on the typed profile, point at a line.
#[derive(Debug, Default)]
pub struct Locations {
    spans: std::collections::BTreeMap<String, std::ops::Range<usize>>,
}

/// One parsed value of the text, with the spans of everything inside it.
enum Node {
    Table(Vec<(String, At)>),
    Array(Vec<At>),
    Leaf,
}

/// A value and its byte span when the parser knows one (it does not for the implicit parent
/// of a dotted header, `actor` of `[actor.a]`). `toml::Spanned` cannot stand in: it refuses a
/// value without a span.
struct At {
    span: Option<std::ops::Range<usize>>,
    node: Node,
}

// The names by which the toml deserializer hands out spans (serde_spanned's private protocol,
// the same in serde_spanned 0.6 and 1.x).
const SPANNED: &str = "$__serde_spanned_private_Spanned";
const START: &str = "$__serde_spanned_private_start";
const END: &str = "$__serde_spanned_private_end";
const VALUE: &str = "$__serde_spanned_private_value";

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

impl<'de> serde::Deserialize<'de> for At {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED, &[START, END, VALUE], AtVisitor)
    }
}

struct NodeVisitor;

/// Reads a spanned value, or a plain table when the parser has no span for it.
struct AtVisitor;

impl<'de> serde::de::Visitor<'de> for AtVisitor {
    type Value = At;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<At, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Ok(At {
                span: None,
                node: Node::Table(Vec::new()),
            });
        };
        if first != START {
            let mut entries = vec![(first, map.next_value::<At>()?)];
            while let Some(key) = map.next_key::<String>()? {
                entries.push((key, map.next_value::<At>()?));
            }
            return Ok(At {
                span: None,
                node: Node::Table(entries),
            });
        }
        let start: usize = map.next_value()?;
        let _ = map.next_key::<String>()?;
        let end: usize = map.next_value()?;
        let _ = map.next_key::<String>()?;
        let node: Node = map.next_value()?;
        Ok(At {
            span: Some(start..end),
            node,
        })
    }
}

impl<'de> serde::de::Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            entries.push((key, map.next_value::<At>()?));
        }
        Ok(Node::Table(entries))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<At>()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
}

impl Locations {
    /// The locations of a syntactically valid text; empty when it does not parse.
    pub fn of(text: &str) -> Locations {
        let mut out = Locations::default();
        if let Ok(root) = toml::from_str::<Node>(text) {
            out.walk("", &root);
        }
        out
    }

    fn walk(&mut self, path: &str, node: &Node) {
        let children: Vec<(String, &At)> = match node {
            Node::Table(entries) => entries
                .iter()
                .map(|(key, value)| {
                    let p = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    (p, value)
                })
                .collect(),
            Node::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| (format!("{path}[{i}]"), item))
                .collect(),
            Node::Leaf => Vec::new(),
        };
        for (p, at) in children {
            self.walk(&p, &at.node);
            // A table without a span of its own is placed at its first written key.
            let span = at.span.clone().or_else(|| {
                self.spans
                    .range(format!("{p}.")..)
                    .take_while(|(k, _)| k.starts_with(&format!("{p}.")))
                    .map(|(_, s)| s.clone())
                    .min_by_key(|s| s.start)
            });
            if let Some(span) = span {
                self.spans.insert(p, span);
            }
        }
    }

    /// Where `path` is written, or its nearest written parent (a missing `actor.b` is placed
    /// at `actor`, the table that should hold it).
    pub fn find(&self, path: &str) -> Option<&std::ops::Range<usize>> {
        let mut p = path;
        loop {
            if let Some(span) = self.spans.get(p) {
                return Some(span);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

#[cfg(test)]
mod location_tests {
    use super::*;

    #[test]
    fn spans_of_nested_tables_arrays_and_inline_tables() {
        let text = "name = \"x\"\n[actor.a]\nid = \"a\"\ntoken = { source = \"static\", value = \"v\" }\n\n[[consent.page]]\nrole = \"login\"\n[[consent.page]]\nmatch = \"*/x\"\n";
        let l = Locations::of(text);
        let at = |p: &str| Position::of(text, l.find(p).expect(p).start);
        assert_eq!(at("name"), Position { line: 1, column: 8 });
        assert_eq!(at("actor.a.id").line, 3);
        assert_eq!(at("actor.a.token.value").line, 4);
        assert_eq!(at("consent.page[1].match").line, 9);
        assert_eq!(at("consent.page[0].role").line, 7);
        // A missing key is placed at its nearest written parent; an implicit table at its
        // first key.
        assert_eq!(at("actor.b"), at("actor"));
        assert_eq!(at("actor").line, 2);
    }
}
