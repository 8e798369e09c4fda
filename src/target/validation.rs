//! What serde cannot check in a profile: URLs, methods that need a secret, capabilities that
//! need configuration, key files. Errors name the dotted field.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use url::Url;

use super::control;
use super::schema::*;
use crate::capability;

/// A toml error with the dotted field it is about, when the span points at a `key = value` line.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().to_string();
    let Some(span) = e.span() else { return msg };
    let line_start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line_no = text[..line_start].matches('\n').count() + 1;
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = &text[line_start..line_end];
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string());
    let field = match (table, key) {
        (Some(t), Some(k)) if !k.starts_with('[') => Some(format!("{t}.{k}")),
        (None, Some(k)) if !k.starts_with('[') => Some(k),
        (Some(t), None) => Some(t),
        _ => None,
    };
    match field {
        Some(f) if !msg.contains(&format!("`{f}`")) => {
            format!("line {line_no}: field `{f}`: {msg}")
        }
        _ => format!("line {line_no}: {msg}"),
    }
}

pub(super) type FieldErr = (String, String);

pub(super) fn field_err(field: &str, msg: impl Into<String>) -> FieldErr {
    (field.to_string(), msg.into())
}

fn check_url(field: &str, value: &str) -> Result<Url, FieldErr> {
    let url = Url::parse(value)
        .map_err(|e| field_err(field, format!("{value:?} is not an absolute URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(field_err(
            field,
            format!("{value:?}: scheme must be http or https"),
        ));
    }
    Ok(url)
}

/// Checks what the types alone cannot; the first problem (see [`validate_all`]).
pub fn validate(p: &mut Profile, base: &Path) -> Result<(), FieldErr> {
    match validate_all(p, base).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Checks what the types alone cannot; returns every problem found, as (field, problem), in
/// the order of the profile's tables.
pub fn validate_all(p: &mut Profile, base: &Path) -> Vec<FieldErr> {
    let mut errs: Vec<FieldErr> = Vec::new();
    let mut keep = |r: Result<(), FieldErr>| {
        if let Err(e) = r {
            errs.push(e);
        }
    };
    if p.profile_version != 1 {
        keep(Err(field_err(
            "profile_version",
            format!(
                "unsupported version {}; this harness reads 1",
                p.profile_version
            ),
        )));
    }
    if !["00", "01", "02"].contains(&p.revision.as_str()) {
        keep(Err(field_err(
            "revision",
            format!("{:?} is not one of \"00\", \"01\", \"02\"", p.revision),
        )));
    }
    if let Some(i) = &p.issuer {
        keep(check_url("issuer", i).map(drop));
    }
    let e = &p.endpoints;
    for (name, v) in [
        ("endpoints.authorization", &e.authorization),
        ("endpoints.token", &e.token),
        ("endpoints.jwks", &e.jwks),
        ("endpoints.introspection", &e.introspection),
        ("endpoints.revocation", &e.revocation),
        ("endpoints.control", &e.control),
    ] {
        if let Some(v) = v {
            keep(check_url(name, v).map(drop));
        }
    }
    if p.issuer.is_none() && (e.authorization.is_none() || e.token.is_none()) {
        keep(Err(field_err("issuer", "give the issuer (for RFC 8414 discovery) or both endpoints.authorization and endpoints.token")));
    }
    for (name, c) in [
        ("client.primary", Some(&mut p.client.primary)),
        ("client.second", p.client.second.as_mut()),
        ("client.public", p.client.public.as_mut()),
    ] {
        if let Some(c) = c {
            keep(validate_client(name, c, base));
        }
    }
    if let Some(pc) = &p.client.public {
        if pc.auth_method != AuthMethod::None {
            keep(Err(field_err(
                "client.public.auth_method",
                "a public client authenticates with `none`",
            )));
        }
    }
    for (name, a) in [
        ("actor.a", Some(&mut p.actor.a)),
        ("actor.b", Some(&mut p.actor.b)),
        ("actor.disabled", p.actor.disabled.as_mut()),
    ] {
        if let Some(a) = a {
            keep(validate_actor(name, a, base));
        }
    }
    if p.actor.a.id == p.actor.b.id {
        keep(Err(field_err("actor.b.id", "actors a and b must differ")));
    }
    if let Some(r) = &p.resource {
        keep(check_url("resource.url", &r.url).map(drop));
        if let Some(w) = &r.write_url {
            keep(check_url("resource.write_url", w).map(drop));
        }
        if let Some(a) = &r.actor_url {
            keep(check_url("resource.actor_url", &a.replace("{actor}", "x")).map(drop));
        }
    }
    keep(validate_consent(p));
    let mut seen = BTreeSet::new();
    for c in &p.capabilities {
        if !capability::is_known(c) {
            keep(Err(field_err(
                "capabilities",
                format!(
                    "unknown capability {c:?} (known: {})",
                    capability::ALL.join(", ")
                ),
            )));
        } else if !seen.insert(c.clone()) {
            keep(Err(field_err(
                "capabilities",
                format!("{c:?} is listed twice"),
            )));
        }
    }
    if let Some(adapter) = &p.control {
        keep(control::validate(
            adapter,
            p.endpoints.control.is_some() || p.issuer.is_some(),
        ));
    }
    let needs_config = [
        ("second_client", p.client.second.is_some(), "client.second"),
        ("public_client", p.client.public.is_some(), "client.public"),
        (
            "disabled_actor",
            p.actor.disabled.is_some(),
            "actor.disabled",
        ),
        ("second_user", p.user.second.is_some(), "user.second"),
        ("resource_server", p.resource.is_some(), "resource"),
        (
            "control_mint",
            seen.contains("control_api") || p.control.is_some(),
            "capability control_api",
        ),
    ];
    for (cap, present, what) in needs_config {
        if seen.contains(cap) && !present {
            keep(Err(field_err(
                "capabilities",
                format!("{cap} is declared but {what} is not configured"),
            )));
        }
    }
    if seen.contains("interactive_consent") && matches!(p.consent, Consent::Auto {}) {
        keep(Err(field_err(
            "capabilities",
            "interactive_consent needs the form, command or manual consent driver",
        )));
    }
    if p.http.timeout_secs == 0 || p.http.timeout_secs > 600 {
        keep(Err(field_err(
            "http.timeout_secs",
            "must be between 1 and 600",
        )));
    }
    if p.http.max_response_bytes < 1024 {
        keep(Err(field_err(
            "http.max_response_bytes",
            "must be at least 1024",
        )));
    }
    errs
}

fn read_key(
    field: &str,
    pem: &mut Option<String>,
    file: &Option<PathBuf>,
    base: &Path,
) -> Result<(), FieldErr> {
    if pem.is_none() {
        if let Some(f) = file {
            let path = if f.is_absolute() {
                f.clone()
            } else {
                base.join(f)
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| field_err(field, format!("cannot read {}: {e}", path.display())))?;
            *pem = Some(text);
        }
    }
    if let Some(p) = pem {
        crate::jose::SigningKey::from_pem(p)
            .map_err(|e| field_err(field, format!("not a usable ES256 private key: {e}")))?;
    }
    Ok(())
}

fn validate_client(name: &str, c: &mut Client, base: &Path) -> Result<(), FieldErr> {
    if c.id.is_empty() {
        return Err(field_err(&format!("{name}.id"), "is empty"));
    }
    check_url(&format!("{name}.redirect_uri"), &c.redirect_uri)?;
    match c.auth_method {
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
            if c.secret.as_deref().unwrap_or("").is_empty() =>
        {
            Err(field_err(
                &format!("{name}.secret"),
                "is required for client_secret_basic and client_secret_post",
            ))
        }
        AuthMethod::PrivateKeyJwt => {
            read_key(
                &format!("{name}.key_file"),
                &mut c.key_pem,
                &c.key_file,
                base,
            )?;
            if c.key_pem.is_none() {
                return Err(field_err(
                    &format!("{name}.key_pem"),
                    "private_key_jwt needs key_pem or key_file",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn validate_actor(name: &str, a: &mut Actor, base: &Path) -> Result<(), FieldErr> {
    if a.id.is_empty() {
        return Err(field_err(&format!("{name}.id"), "is empty"));
    }
    match &mut a.token {
        TokenSource::Command { command, .. } if command.is_empty() => Err(field_err(
            &format!("{name}.token.command"),
            "needs at least the program",
        )),
        TokenSource::Jwt {
            key_pem, key_file, ..
        } => {
            read_key(&format!("{name}.token.key_file"), key_pem, key_file, base)?;
            if key_pem.is_none() {
                return Err(field_err(
                    &format!("{name}.token.key_pem"),
                    "the jwt source needs key_pem or key_file",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn validate_consent(p: &Profile) -> Result<(), FieldErr> {
    match &p.consent {
        Consent::Form { pages } | Consent::Browser { pages, .. } => validate_pages(pages),
        Consent::Command { command, .. } if command.is_empty() => {
            Err(field_err("consent.command", "needs at least the program"))
        }
        Consent::Manual { .. } => {
            let url = check_url(
                "client.primary.redirect_uri",
                &p.client.primary.redirect_uri,
            )?;
            let loopback = matches!(
                url.host_str(),
                Some("127.0.0.1") | Some("localhost") | Some("[::1]")
            );
            if url.scheme() != "http" || !loopback || url.port().is_none() {
                return Err(field_err(
                    "client.primary.redirect_uri",
                    "the manual driver listens on it: use http://127.0.0.1:PORT/...",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Page rules: each well-formed, and no two that could both fit one page. Two rules overlap
/// when every condition of one is also a condition of the other (the same URL glob and nothing
/// else, say): every page the narrower fits, the wider fits too.
fn validate_pages(pages: &[FormPage]) -> Result<(), FieldErr> {
    for (i, page) in pages.iter().enumerate() {
        let f = format!("consent.page[{i}]");
        if page.role == PageRole::Consent && (page.approve.is_none() || page.deny.is_none()) {
            return Err(field_err(
                &format!("{f}.approve"),
                "a consent page needs `approve` and `deny` control texts",
            ));
        }
        for (name, css) in [("form", &page.form), ("selector", &page.selector)] {
            if let Some(css) = css {
                scraper::Selector::parse(css).map_err(|e| {
                    field_err(&format!("{f}.{name}"), format!("bad CSS selector: {e}"))
                })?;
            }
        }
        if let Some(m) = &page.url_match {
            if m.trim().is_empty() {
                return Err(field_err(&format!("{f}.match"), "is empty"));
            }
            globset::Glob::new(m)
                .map_err(|e| field_err(&format!("{f}.match"), format!("bad glob: {e}")))?;
        }
        if page.text.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(field_err(&format!("{f}.text"), "is empty"));
        }
    }
    for (j, later) in pages.iter().enumerate() {
        let cj = later.conditions();
        for (i, earlier) in pages.iter().enumerate().take(j) {
            let ci = earlier.conditions();
            if ci.is_subset(&cj) || cj.is_subset(&ci) {
                let what = if ci == cj {
                    "the same conditions".to_string()
                } else {
                    "conditions of which one rule's are all the other's".to_string()
                };
                return Err(field_err(
                    &format!("consent.page[{j}]"),
                    format!(
                        "overlaps consent.page[{i}]: both could fit one page ({what}); \
                         add a `selector` or `text` that tells them apart"
                    ),
                ));
            }
        }
    }
    Ok(())
}

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
    let (table, key) = line_field(text, start);
    let field = match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, Some(k)) => Some(k),
        (Some(t), None) => Some(t),
        (None, None) => None,
    };
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

/// The table (last `[header]` above, array-of-tables headers without their index) and the key
/// of the line holding byte `offset`.
fn line_field(text: &str, offset: usize) -> (Option<String>, Option<String>) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = text[line_start..line_end].trim();
    if line.starts_with('[') {
        let header = line.trim_matches(|c| c == '[' || c == ']').trim();
        return (Some(header.to_string()), None);
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string());
    (table, key)
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
pub(super) fn missing_required(text: &str) -> Vec<(&'static str, &'static str)> {
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

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
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
