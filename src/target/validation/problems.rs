//! Every problem of a profile file at once, each with its line and column: serde stops at the
//! first error, so each one found is blanked out of a copy of the text and the copy parsed again.

use std::path::Path;

use super::spans::{field_at, floor_char_boundary, Locations, Position};
use super::*;

/// One problem of a profile file: the dotted field it is about (when known), what is wrong, and
/// where in the text (the value's position; for a missing key or table, the table that should
/// hold it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Option<String>,
    pub msg: String,
    pub at: Position,
}

impl std::fmt::Display for Problem {
    /// `LINE:COLUMN: field `F`: MESSAGE`, the form editors and compilers use after the file.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: ", self.at.line, self.at.column)?;
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.msg),
            None => f.write_str(&self.msg),
        }
    }
}

/// Most structural problems collected from one file before giving up (each costs a parse).
const MAX_STRUCTURAL: usize = 50;

/// Parses and validates a profile, reporting every problem at once: a syntax error alone (the
/// rest of the text cannot be read reliably), otherwise every structural problem (unknown
/// field, wrong type, unknown value, missing key or table) and every semantic one, each with
/// its line and column.
///
/// serde stops at the first error, so each structural problem found is blanked out of a copy
/// of the text (spaces keep every later byte offset, hence every position, unchanged) and the
/// copy is parsed again; once it deserializes, the semantic checks run on it too.
pub fn check(text: &str, base: &Path) -> Result<Profile, Vec<Problem>> {
    if let Err(e) = text.parse::<toml::Table>() {
        return Err(vec![syntax_problem(text, &e)]);
    }
    let locations = Locations::of(text);
    let at = |field: &str| {
        locations
            .find(field)
            .map_or(Position { line: 1, column: 1 }, |s| {
                Position::of(text, header_start(text, s.start))
            })
    };
    let mut problems: Vec<Problem> = Vec::new();
    let mut patched = text.to_string();
    let mut profile = None;
    // Paths of missing tables given a stand-in: problems inside them are the stand-in's.
    let mut stood_in: Vec<String> = Vec::new();
    // Bytes of root-key stand-ins before the text.
    let mut shift = 0;
    for _ in 0..MAX_STRUCTURAL {
        match toml::from_str::<Profile>(&patched) {
            Ok(p) => {
                profile = Some(p);
                break;
            }
            Err(e) if e.message().starts_with("missing field") => {
                let reported: Vec<String> =
                    problems.iter().filter_map(|p| p.field.clone()).collect();
                let missing: Vec<Problem> = missing_required(&patched)
                    .into_iter()
                    .filter(|(path, _)| {
                        !reported
                            .iter()
                            .any(|r| path == r || path.starts_with(&format!("{r}.")))
                    })
                    .map(|(path, what)| Problem {
                        field: Some(path.to_string()),
                        msg: format!("missing {what}"),
                        at: at(path),
                    })
                    .collect();
                // A required key blanked for a problem of its own is missing now: said already.
                let said = reported.iter().any(|r| {
                    let key = r.rsplit('.').next().unwrap_or(r);
                    e.message().contains(&format!("`{key}`"))
                });
                if missing.is_empty() && !said {
                    problems.push(structural_problem(&patched, shift, &e));
                }
                // Missing tables get a stand-in appended (after the text: no position moves),
                // so that the tables after them are checked too; a missing key ends the pass.
                let stand_ins: Option<Vec<&str>> = missing
                    .iter()
                    .map(|m| m.field.as_deref().and_then(stand_in))
                    .collect();
                problems.extend(missing.iter().cloned());
                match stand_ins {
                    Some(parts) if !parts.is_empty() => {
                        for part in parts {
                            if part.starts_with('[') {
                                patched.push('\n');
                                patched.push_str(part);
                            } else {
                                // A root key goes before the first table; positions are
                                // computed past it.
                                patched.insert_str(0, part);
                                shift += part.len();
                            }
                        }
                        stood_in.extend(missing.into_iter().filter_map(|m| m.field));
                    }
                    _ => break,
                }
            }
            Err(e) => {
                let problem = structural_problem(&patched, shift, &e);
                let blanked = e.span().is_some_and(|span| blank(&mut patched, span.start));
                problems.push(problem);
                if !blanked {
                    break;
                }
            }
        }
    }
    let Some(mut profile) = profile else {
        problems.sort_by_key(|p| p.at);
        return Err(problems);
    };
    problems.extend(
        validate_all(&mut profile, base)
            .into_iter()
            .filter(|(field, _)| {
                !stood_in
                    .iter()
                    .any(|s| field == s || field.starts_with(&format!("{s}.")))
            })
            .map(|(field, msg)| Problem {
                at: at(&field),
                field: Some(field),
                msg,
            }),
    );
    if problems.is_empty() {
        Ok(profile)
    } else {
        problems.sort_by_key(|p| p.at);
        Err(problems)
    }
}

/// A well-formed stand-in for a missing required table, appended to the text so that parsing
/// goes on past it.
fn stand_in(path: &str) -> Option<&'static str> {
    Some(match path {
        "client" | "client.primary" => {
            "[client.primary]\nid = \"stand-in\"\nauth_method = \"none\"\nredirect_uri = \"https://stand-in.invalid/cb\"\n"
        }
        "actor" => {
            "[actor.a]\nid = \"stand-in-a\"\ntoken = { source = \"static\", value = \"x\" }\n[actor.b]\nid = \"stand-in-b\"\ntoken = { source = \"static\", value = \"x\" }\n"
        }
        "actor.a" => "[actor.a]\nid = \"stand-in-a\"\ntoken = { source = \"static\", value = \"x\" }\n",
        "actor.b" => "[actor.b]\nid = \"stand-in-b\"\ntoken = { source = \"static\", value = \"x\" }\n",
        "user" => "[user]\nusername = \"stand-in\"\nsub = \"stand-in\"\n",
        "consent" => "[consent]\ndriver = \"auto\"\n",
        "profile_version" => "profile_version = 1\n",
        "name" => "name = \"stand-in\"\n",
        "revision" => "revision = \"02\"\n",
        _ => return None,
    })
}

fn syntax_problem(text: &str, e: &toml::de::Error) -> Problem {
    Problem {
        field: None,
        msg: e.message().trim_end().to_string(),
        at: e.span().map_or(Position { line: 1, column: 1 }, |s| {
            Position::of(text, s.start)
        }),
    }
}

/// A deserialization error with the dotted field of its line (`[table]` + `key`); `text` starts
/// with `shift` bytes of stand-ins that positions do not count.
fn structural_problem(text: &str, shift: usize, e: &toml::de::Error) -> Problem {
    let text = &text[shift..];
    let start = e.span().map_or(0, |s| s.start.saturating_sub(shift));
    let field = field_at(text, start);
    let msg = e.message().trim_end().to_string();
    Problem {
        field: field.filter(|f| !msg.contains(&format!("`{f}`"))),
        msg,
        at: Position::of(text, start),
    }
}

/// A table's span may start at its header's key (`[actor.a]`: at `actor`); a position is given
/// at the header's opening bracket, where an editor's eye finds the table.
fn header_start(text: &str, offset: usize) -> usize {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let indent = text[line_start..].len() - text[line_start..].trim_start().len();
    let bracket = line_start + indent;
    if bracket <= offset && text[bracket..offset].chars().all(|c| c == '[') && bracket < offset {
        bracket
    } else {
        offset
    }
}

/// Blanks (with spaces, newlines kept) the `key = value` line holding byte `offset`, or the
/// whole table when it is a `[header]` line; false when there is nothing left to blank.
fn blank(text: &mut String, offset: usize) -> bool {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = |from: usize| text[from..].find('\n').map_or(text.len(), |i| from + i);
    let first_end = line_end(line_start);
    let end = if text[line_start..first_end].trim_start().starts_with('[') {
        // The table runs to the next header.
        let mut end = first_end;
        while end < text.len() {
            let next_start = end + 1;
            let next_end = line_end(next_start);
            if text[next_start..next_end].trim_start().starts_with('[') {
                break;
            }
            end = next_end;
        }
        end
    } else {
        first_end
    };
    let region = &text[line_start..end];
    if region.trim().is_empty() {
        return false;
    }
    let spaces: String = region
        .chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect();
    // Multi-byte characters become one space each: pad to keep later byte offsets unchanged.
    let pad = region.len() - spaces.len();
    text.replace_range(line_start..end, &format!("{spaces}{}", " ".repeat(pad)));
    true
}

/// Required keys and tables absent from a syntactically valid profile, all of them, each named
/// by its dotted path (serde stops at the first and places a missing nested table at its
/// parent: `[actor.b]` missing reads as "field actor: missing field b" there).
fn missing_required(text: &str) -> Vec<(&'static str, &'static str)> {
    const REQUIRED: &[(&str, &str)] = &[
        ("profile_version", "key"),
        ("name", "key"),
        ("revision", "key"),
        ("client", "table [client.primary]"),
        ("client.primary", "table [client.primary]"),
        ("client.primary.id", "key"),
        ("client.primary.auth_method", "key"),
        ("client.primary.redirect_uri", "key"),
        ("actor", "tables [actor.a] and [actor.b]"),
        ("actor.a", "table [actor.a]"),
        ("actor.a.id", "key"),
        ("actor.a.token", "key"),
        ("actor.b", "table [actor.b]"),
        ("actor.b.id", "key"),
        ("actor.b.token", "key"),
        ("user", "table [user]"),
        ("user.username", "key"),
        ("user.sub", "key"),
        ("consent", "table [consent]"),
        ("consent.driver", "key"),
    ];
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let present = |path: &str| {
        let mut parts = path.split('.');
        let first = parts.next().and_then(|k| table.get(k));
        parts
            .try_fold(first, |v, k| Some(v.and_then(|v| v.get(k))))
            .flatten()
            .is_some()
    };
    let parent_present = |path: &str| path.rsplit_once('.').is_none_or(|(p, _)| present(p));
    REQUIRED
        .iter()
        .filter(|(path, _)| parent_present(path) && !present(path))
        .copied()
        .collect()
}
