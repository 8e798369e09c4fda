//! What serde cannot check in a profile: URLs, methods that need a secret, capabilities that
//! need configuration, key files. Errors name the dotted field.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use url::Url;

use super::control;
use super::schema::*;
use crate::capability;

mod problems;
mod spans;

pub use problems::{check, Problem};
pub use spans::{Locations, Position};

/// A toml error with its line and the dotted field of that line (`[table]` + `key`, or the
/// header itself), unless the message already names the field.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().to_string();
    let Some(span) = e.span() else { return msg };
    let line_no = Position::of(text, span.start).line;
    match spans::field_at(text, span.start) {
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
        Consent::Form {
            csrf_field: Some(f),
            ..
        } if f.trim().is_empty() => Err(field_err(
            "consent.csrf_field",
            "is empty: name the forms' anti-CSRF field, or leave it out",
        )),
        Consent::Form { pages, .. } | Consent::Browser { pages, .. } => validate_pages(pages),
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

#[cfg(test)]
mod toml_error_tests {
    use super::toml_error;

    fn error_of(text: &str) -> String {
        let e = toml::from_str::<toml::Table>(text).unwrap_err();
        toml_error(text, &e)
    }

    #[test]
    fn an_error_on_a_header_line_names_that_header_not_the_table_above() {
        let msg = error_of("b = 1\n[a]\nx = 1\n[b.c]\n");
        assert!(msg.starts_with("line 4: field `b.c`: "), "{msg}");
    }

    #[test]
    fn an_error_on_a_key_line_names_table_and_key() {
        let text = "[server]\nurl = \"x\"\nurl = \"y\"\n";
        let msg = error_of(text);
        assert!(msg.starts_with("line 3: "), "{msg}");
        assert!(msg.contains("url"), "{msg}");
    }
}
