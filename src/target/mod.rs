//! Target profiles: the TOML file that tells the harness how to drive one implementation.
//!
//! `profile_version = 1`. Every table denies unknown fields, so a typo is an error naming the
//! field and line; [`validate`] then checks what serde cannot (URLs, methods that need a secret,
//! capabilities that need configuration). [`resolve`] turns a profile into a [`Target`]: RFC 8414
//! discovery of the endpoints, the JWKS, the declared capabilities. The built-in `reference`,
//! `reference-form` and `reference-browser` profiles live in [`reference`].

pub mod control;
#[cfg_attr(not(feature = "reference"), path = "no_reference.rs")]
pub mod reference;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

use crate::capability;

/// The whole profile file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub profile_version: u32,
    /// A short name for reports.
    pub name: String,
    /// Draft revision the target implements: "00", "01" or "02".
    pub revision: String,
    /// Issuer: endpoints not given in `[endpoints]` come from its RFC 8414 metadata.
    pub issuer: Option<String>,
    #[serde(default)]
    pub endpoints: Endpoints,
    pub client: Clients,
    pub actor: Actors,
    pub user: User,
    pub consent: Consent,
    #[serde(default)]
    pub scope: Scopes,
    pub resource: Option<Resource>,
    /// Capabilities the target declares (cases/README.md); a case needing another is skipped.
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub http: Http,
    /// The control adapter: how each test-control operation is done on this target.
    pub control: Option<control::Adapter>,
    /// Time without a clock operation: real-time waits the profile allows.
    #[serde(default)]
    pub time: Time,
}

/// `[time]`: lifetimes the vendor configured (a test tenant with short TTLs) and the longest
/// real-time wait a run may make. A case that moves the clock waits out the lifetime instead
/// when the target has no `advance_clock` operation; a run never waits longer than allowed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Time {
    /// Longest wait of one step; 0 (default): never wait.
    #[serde(default)]
    pub max_wait_secs: u64,
    pub actor_token_ttl_secs: Option<u64>,
    pub code_ttl_secs: Option<u64>,
    pub access_token_ttl_secs: Option<u64>,
    /// Clock skew the target tolerates after expiry; default 60.
    pub clock_skew_secs: Option<u64>,
}

impl Time {
    /// The wait that outlives `what` (`actor_token`, `code`, `access_token`): its lifetime plus
    /// the skew plus one second; None when the profile gives no such lifetime.
    pub fn wait_for(&self, what: &str) -> Option<u64> {
        let ttl = match what {
            "actor_token" => self.actor_token_ttl_secs,
            "code" => self.code_ttl_secs,
            "access_token" => self.access_token_ttl_secs,
            _ => None,
        }?;
        Some(ttl + self.clock_skew_secs.unwrap_or(60) + 1)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    pub authorization: Option<String>,
    pub token: Option<String>,
    pub jwks: Option<String>,
    pub introspection: Option<String>,
    pub revocation: Option<String>,
    /// Base of the test-control API (`.../control`).
    pub control: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clients {
    pub primary: Client,
    pub second: Option<Client>,
    pub public: Option<Client>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub id: String,
    pub secret: Option<String>,
    pub auth_method: AuthMethod,
    pub redirect_uri: String,
    /// PKCS#8 PEM private key for `private_key_jwt` (or `key_file`).
    pub key_pem: Option<String>,
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actors {
    pub a: Actor,
    pub b: Actor,
    pub disabled: Option<Actor>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The actor identifier (`requested_actor`, actor token `sub`).
    pub id: String,
    pub token: TokenSource,
}

/// Where an actor token comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenSource {
    /// `grant_type=client_credentials` at the target's token endpoint, as the actor's client.
    ClientCredentials {
        client_id: Option<String>,
        client_secret: Option<String>,
        auth_method: Option<AuthMethod>,
        scope: Option<String>,
    },
    /// A fixed value.
    Static { value: String },
    /// A program whose stdout (trimmed) is the token.
    Command {
        command: Vec<String>,
        #[serde(default)]
        timeout_secs: Option<u64>,
    },
    /// An assertion the harness signs (ES256) with the configured key.
    Jwt {
        key_pem: Option<String>,
        key_file: Option<PathBuf>,
        kid: Option<String>,
        /// Default: the actor id.
        iss: Option<String>,
        /// Default: the issuer.
        aud: Option<String>,
        #[serde(default)]
        lifetime_secs: Option<i64>,
        /// Header `typ`; default `JWT`.
        typ: Option<String>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub username: String,
    pub password: Option<String>,
    /// The subject the target puts in access tokens' `sub` for this user.
    pub sub: String,
    /// `[user.second]`: another user, whose consent pages the consent cases observe without
    /// revoking anything (no case approves actor A for it with the primary client).
    pub second: Option<Box<User>>,
}

/// The consent driver.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "driver", rename_all = "snake_case", deny_unknown_fields)]
pub enum Consent {
    /// The authorization endpoint redirects back with a code by itself.
    Auto {},
    /// Page rules (`[[consent.page]]`) over plain HTTP: forms found with an HTML parser.
    /// Pages no rule matches are recognised by their shape (login form, consent buttons).
    Form {
        #[serde(rename = "page", default)]
        pages: Vec<FormPage>,
    },
    /// The same page rules in a headless Chromium (pages that need JavaScript).
    Browser {
        #[serde(rename = "page", default)]
        pages: Vec<FormPage>,
        /// The Chromium program; default `chromium`, `chromium-browser`, `google-chrome` on PATH,
        /// or `OBO_CHROMIUM`.
        #[serde(default)]
        chromium: Option<PathBuf>,
        /// How long to wait for a page to show something a rule (or shape) recognises.
        #[serde(default)]
        wait_secs: Option<u64>,
    },
    /// A program given the authorization URL that prints the final redirect URL.
    Command {
        command: Vec<String>,
        #[serde(default)]
        timeout_secs: Option<u64>,
    },
    /// Prints the URL, listens on the loopback redirect_uri.
    Manual {
        #[serde(default)]
        timeout_secs: Option<u64>,
    },
}

impl Consent {
    /// The page rules of the `form` and `browser` drivers.
    pub fn pages(&self) -> &[FormPage] {
        match self {
            Consent::Form { pages } | Consent::Browser { pages, .. } => pages,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageRole {
    Login,
    Consent,
    Other,
}

/// One page rule of the `form` and `browser` drivers: when the page fits every condition given
/// (`match`, `selector`, `text`), fill and press. A rule with no condition fits the pages whose
/// shape matches its role (login: a password field; consent: approve and deny controls).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormPage {
    /// Glob (globset syntax) on the page URL without query, or a substring of its path.
    #[serde(rename = "match")]
    pub url_match: Option<String>,
    /// A CSS selector that must match an element of the page.
    pub selector: Option<String>,
    /// Text the page must show (case-insensitive substring of its visible text).
    pub text: Option<String>,
    pub role: PageRole,
    /// CSS selector of the form; else the form containing `button`, else the only form.
    pub form: Option<String>,
    /// Text of the submit button to press (login/other pages).
    pub button: Option<String>,
    /// Field values; `${user.username}`, `${user.password}` expand.
    #[serde(default)]
    pub fill: BTreeMap<String, String>,
    /// Consent page: text of the approve control (a submit button of any form, or a link).
    pub approve: Option<String>,
    /// Consent page: text of the deny control (a button, a link, or a second form's button).
    pub deny: Option<String>,
}

/// One condition of a page rule, for the overlap check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PageCondition {
    Url(String),
    Selector(String),
    Text(String),
    /// No explicit condition: the built-in shape of the role.
    Shape(&'static str),
}

impl FormPage {
    /// The rule's conditions; a page fits the rule when it meets all of them.
    pub fn conditions(&self) -> BTreeSet<PageCondition> {
        let mut c = BTreeSet::new();
        if let Some(m) = &self.url_match {
            c.insert(PageCondition::Url(m.clone()));
        }
        if let Some(s) = &self.selector {
            c.insert(PageCondition::Selector(s.trim().to_string()));
        }
        if let Some(t) = &self.text {
            c.insert(PageCondition::Text(t.trim().to_lowercase()));
        }
        if c.is_empty() {
            c.insert(PageCondition::Shape(match self.role {
                PageRole::Login => "login",
                PageRole::Consent => "consent",
                PageRole::Other => "other",
            }));
        }
        c
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scopes {
    #[serde(default = "default_scope")]
    pub default: String,
    /// A scope the user has not consented to (for scope-escalation cases).
    pub extra: Option<String>,
}

fn default_scope() -> String {
    "openid".into()
}

impl Default for Scopes {
    fn default() -> Self {
        Scopes {
            default: default_scope(),
            extra: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Resource that needs the default scope.
    pub url: String,
    /// Resource that needs the extra scope.
    pub write_url: Option<String>,
    /// Resource that needs a given actor; `{actor}` is replaced by the actor id.
    pub actor_url: Option<String>,
    /// The audience access tokens carry for this resource.
    pub audience: Option<String>,
    /// Another audience the target can issue for (RFC 8707 cases).
    pub other_audience: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_max_body")]
    pub max_response_bytes: usize,
    /// Follow metadata that points an endpoint at an origin the profile did not declare
    /// (a vendor that splits origins); off by default so client credentials only go where
    /// the profile says (docs/contracts.md, "Origins").
    #[serde(default)]
    pub allow_cross_origin: bool,
}

/// Command-line settings applied to the profile's `[http]` table before anything is fetched,
/// discovery included.
#[derive(Debug, Clone, Default)]
pub struct HttpOverrides {
    pub timeout_secs: Option<u64>,
    pub allow_cross_origin: bool,
}

impl HttpOverrides {
    pub fn apply(&self, http: &mut Http) {
        if let Some(t) = self.timeout_secs {
            http.timeout_secs = t.clamp(1, 600);
        }
        http.allow_cross_origin |= self.allow_cross_origin;
    }
}

fn default_timeout() -> u64 {
    10
}
fn default_max_body() -> usize {
    1 << 20
}

impl Default for Http {
    fn default() -> Self {
        Http {
            timeout_secs: default_timeout(),
            max_response_bytes: default_max_body(),
            allow_cross_origin: false,
        }
    }
}

/// A profile problem: the field (dotted path) and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{file}: cannot read: {msg}")]
    Io { file: String, msg: String },
    #[error("{file}: {msg}")]
    Invalid { file: String, msg: String },
    #[error("{file}: field `{field}`: {msg}")]
    Field {
        file: String,
        field: String,
        msg: String,
    },
    #[error("target {0}")]
    Unreachable(String),
    /// Discovery names an endpoint on an origin the profile did not declare.
    #[error("target {0}")]
    CrossOrigin(String),
}

impl ProfileError {
    /// Exit code: 3 for invalid profiles, 2 when the target cannot be reached.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProfileError::Unreachable(_) => 2,
            // The profile must say more (its endpoints, or that origins are split).
            ProfileError::CrossOrigin(_) => 3,
            _ => 3,
        }
    }
}

/// Reads and validates a profile file.
pub fn load_file(path: &Path) -> Result<(Profile, String), ProfileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Io {
        file: file.clone(),
        msg: e.to_string(),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let profile = parse(&text, &file, base)?;
    Ok((profile, text))
}

/// Parses and validates profile text; `file` names it in errors, `base` resolves key files.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<Profile, ProfileError> {
    let mut profile: Profile = toml::from_str(text).map_err(|e| {
        let missing = if e.message().starts_with("missing field") {
            missing_required(text)
        } else {
            Vec::new()
        };
        let msg = if missing.is_empty() {
            toml_error(text, &e)
        } else {
            let each: Vec<String> = missing
                .iter()
                .map(|(field, what)| format!("field `{field}`: missing {what}"))
                .collect();
            each.join("; ")
        };
        ProfileError::Invalid {
            file: file.to_string(),
            msg,
        }
    })?;
    validate(&mut profile, base).map_err(|(field, msg)| ProfileError::Field {
        file: file.to_string(),
        field,
        msg,
    })?;
    Ok(profile)
}

/// Required keys and tables absent from a syntactically valid profile, all of them, each named
/// by its dotted path (serde stops at the first and places a missing nested table at its
/// parent: `[actor.b]` missing reads as "field actor: missing field b" there). Syntax errors are
/// left to the deserializer, which reports them with their line.
fn missing_required(text: &str) -> Vec<(&'static str, &'static str)> {
    const REQUIRED: &[(&str, &str)] = &[
        ("profile_version", "key"),
        ("name", "key"),
        ("revision", "key"),
        ("client.primary", "table [client.primary]"),
        ("client.primary.id", "key"),
        ("client.primary.auth_method", "key"),
        ("client.primary.redirect_uri", "key"),
        ("actor.a", "table [actor.a]"),
        ("actor.a.id", "key"),
        ("actor.a.token", "key"),
        ("actor.b", "table [actor.b]"),
        ("actor.b.id", "key"),
        ("actor.b.token", "key"),
        ("user", "table [user]"),
        ("consent", "table [consent]"),
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

type FieldErr = (String, String);

fn field_err(field: &str, msg: impl Into<String>) -> FieldErr {
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

/// Checks what the types alone cannot; returns (field, problem).
pub fn validate(p: &mut Profile, base: &Path) -> Result<(), FieldErr> {
    if p.profile_version != 1 {
        return Err(field_err(
            "profile_version",
            format!(
                "unsupported version {}; this harness reads 1",
                p.profile_version
            ),
        ));
    }
    if !["00", "01", "02"].contains(&p.revision.as_str()) {
        return Err(field_err(
            "revision",
            format!("{:?} is not one of \"00\", \"01\", \"02\"", p.revision),
        ));
    }
    if let Some(i) = &p.issuer {
        check_url("issuer", i)?;
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
            check_url(name, v)?;
        }
    }
    if p.issuer.is_none() && (e.authorization.is_none() || e.token.is_none()) {
        return Err(field_err("issuer", "give the issuer (for RFC 8414 discovery) or both endpoints.authorization and endpoints.token"));
    }
    for (name, c) in [
        ("client.primary", Some(&mut p.client.primary)),
        ("client.second", p.client.second.as_mut()),
        ("client.public", p.client.public.as_mut()),
    ] {
        if let Some(c) = c {
            validate_client(name, c, base)?;
        }
    }
    if let Some(pc) = &p.client.public {
        if pc.auth_method != AuthMethod::None {
            return Err(field_err(
                "client.public.auth_method",
                "a public client authenticates with `none`",
            ));
        }
    }
    for (name, a) in [
        ("actor.a", Some(&mut p.actor.a)),
        ("actor.b", Some(&mut p.actor.b)),
        ("actor.disabled", p.actor.disabled.as_mut()),
    ] {
        if let Some(a) = a {
            validate_actor(name, a, base)?;
        }
    }
    if p.actor.a.id == p.actor.b.id {
        return Err(field_err("actor.b.id", "actors a and b must differ"));
    }
    if let Some(r) = &p.resource {
        check_url("resource.url", &r.url)?;
        if let Some(w) = &r.write_url {
            check_url("resource.write_url", w)?;
        }
        if let Some(a) = &r.actor_url {
            check_url("resource.actor_url", &a.replace("{actor}", "x"))?;
        }
    }
    validate_consent(p)?;
    let mut seen = BTreeSet::new();
    for c in &p.capabilities {
        if !capability::is_known(c) {
            return Err(field_err(
                "capabilities",
                format!(
                    "unknown capability {c:?} (known: {})",
                    capability::ALL.join(", ")
                ),
            ));
        }
        if !seen.insert(c.clone()) {
            return Err(field_err("capabilities", format!("{c:?} is listed twice")));
        }
    }
    if let Some(adapter) = &p.control {
        control::validate(adapter, p.endpoints.control.is_some() || p.issuer.is_some())?;
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
            return Err(field_err(
                "capabilities",
                format!("{cap} is declared but {what} is not configured"),
            ));
        }
    }
    if seen.contains("interactive_consent") && matches!(p.consent, Consent::Auto {}) {
        return Err(field_err(
            "capabilities",
            "interactive_consent needs the form, command or manual consent driver",
        ));
    }
    if p.http.timeout_secs == 0 || p.http.timeout_secs > 600 {
        return Err(field_err("http.timeout_secs", "must be between 1 and 600"));
    }
    if p.http.max_response_bytes < 1024 {
        return Err(field_err(
            "http.max_response_bytes",
            "must be at least 1024",
        ));
    }
    Ok(())
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

/// Resolved endpoints of a target.
#[derive(Debug, Clone)]
pub struct ResolvedEndpoints {
    pub metadata: Option<Url>,
    pub authorization: Url,
    pub token: Url,
    pub jwks: Option<Url>,
    pub introspection: Option<Url>,
    pub revocation: Option<Url>,
    pub control: Option<Url>,
}

/// A profile ready to run: endpoints discovered, JWKS fetched, capabilities known.
pub struct Target {
    pub profile: Profile,
    pub issuer: String,
    pub endpoints: ResolvedEndpoints,
    pub metadata: Option<serde_json::Value>,
    pub jwks: Option<serde_json::Value>,
    pub capabilities: BTreeSet<String>,
    /// SHA-256 (hex) of the profile text as loaded.
    pub digest: String,
    /// Keeps an in-process reference server alive.
    pub server: Option<Arc<reference::ServerGuard>>,
    /// The run's one headless Chromium (`browser` consent driver), started on first use.
    pub browser: crate::consent::BrowserSlot,
    /// Total clock advance since the last reset, for adapters that set an absolute offset.
    pub clock_offset: Arc<std::sync::atomic::AtomicI64>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.profile.name)
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl Target {
    pub fn has(&self, cap: &str) -> bool {
        self.capabilities.contains(cap)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.profile.http.timeout_secs)
    }

    /// Every secret of the profile, for the redactor.
    pub fn secrets(&self) -> Vec<String> {
        let p = &self.profile;
        let mut s = Vec::new();
        for c in [
            Some(&p.client.primary),
            p.client.second.as_ref(),
            p.client.public.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            s.extend(c.secret.clone());
            s.extend(c.key_pem.clone());
        }
        s.extend(p.user.password.clone());
        s.extend(p.user.second.as_ref().and_then(|u| u.password.clone()));
        for a in [
            Some(&p.actor.a),
            Some(&p.actor.b),
            p.actor.disabled.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            match &a.token {
                TokenSource::ClientCredentials { client_secret, .. } => {
                    s.extend(client_secret.clone())
                }
                TokenSource::Static { value } => s.push(value.clone()),
                TokenSource::Jwt { key_pem, .. } => s.extend(key_pem.clone()),
                TokenSource::Command { .. } => {}
            }
        }
        // Admin credentials in control hooks (an `Authorization` header, say).
        if let Some(adapter) = &p.control {
            for op in control::Operation::ALL {
                if let Some(control::Hook::Http(h)) = adapter.hook(op) {
                    for v in h.headers.values() {
                        s.push(v.clone());
                        s.extend(v.split_whitespace().nth(1).map(str::to_string));
                    }
                }
            }
        }
        s.retain(|x| !x.is_empty());
        s
    }

    /// Client id / secret pairs, for Basic-auth redaction.
    pub fn basic_pairs(&self) -> Vec<(String, String)> {
        let p = &self.profile;
        let mut v = Vec::new();
        for c in [Some(&p.client.primary), p.client.second.as_ref()]
            .into_iter()
            .flatten()
        {
            if let Some(s) = &c.secret {
                v.push((c.id.clone(), s.clone()));
            }
        }
        for a in [
            Some(&p.actor.a),
            Some(&p.actor.b),
            p.actor.disabled.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if let TokenSource::ClientCredentials {
                client_id,
                client_secret: Some(s),
                ..
            } = &a.token
            {
                v.push((client_id.clone().unwrap_or_else(|| a.id.clone()), s.clone()));
            }
        }
        v
    }

    /// The value of a case variable (cases/README.md, "Variables").
    pub fn variable(&self, name: &str) -> Option<String> {
        let p = &self.profile;
        let client = |c: Option<&Client>, f: &str| {
            c.map(|c| match f {
                "id" => c.id.clone(),
                _ => c.redirect_uri.clone(),
            })
        };
        Some(match name {
            "actor.a" => p.actor.a.id.clone(),
            "actor.a.upper" => case_variant(&p.actor.a.id)?,
            "actor.a.lookalike" => lookalike(&p.actor.a.id)?,
            "actor.b" => p.actor.b.id.clone(),
            "actor.disabled" => p.actor.disabled.as_ref()?.id.clone(),
            "user.sub" => p.user.sub.clone(),
            "user.username" => p.user.username.clone(),
            "client.primary.id" => client(Some(&p.client.primary), "id")?,
            "client.second.id" => client(p.client.second.as_ref(), "id")?,
            "client.public.id" => client(p.client.public.as_ref(), "id")?,
            "client.primary.redirect_uri" => client(Some(&p.client.primary), "r")?,
            "client.second.redirect_uri" => client(p.client.second.as_ref(), "r")?,
            "client.public.redirect_uri" => client(p.client.public.as_ref(), "r")?,
            "scope" => p.scope.default.clone(),
            "scope.extra" => p.scope.extra.clone()?,
            "issuer" => self.issuer.clone(),
            "resource.audience" => p.resource.as_ref()?.audience.clone()?,
            "other_audience" => p.resource.as_ref()?.other_audience.clone()?,
            _ => return None,
        })
    }

    pub fn client(&self, which: &str) -> Option<&Client> {
        match which {
            "primary" => Some(&self.profile.client.primary),
            "second" => self.profile.client.second.as_ref(),
            "public" => self.profile.client.public.as_ref(),
            _ => None,
        }
    }

    /// The user of an authorization: `primary` (default) or `second`.
    pub fn user(&self, which: &str) -> Option<&User> {
        match which {
            "primary" => Some(&self.profile.user),
            "second" => self.profile.user.second.as_deref(),
            _ => None,
        }
    }

    pub fn actor(&self, which: &str) -> Option<&Actor> {
        match which {
            "a" => Some(&self.profile.actor.a),
            "b" => Some(&self.profile.actor.b),
            "disabled" => self.profile.actor.disabled.as_ref(),
            _ => None,
        }
    }

    /// Stops an in-process reference server, if this target started one.
    pub async fn shutdown(&self) {
        self.browser.close().await;
        if let Some(s) = &self.server {
            s.shutdown().await;
        }
    }
}

/// The id with its letters upper-cased; None when that changes nothing (no case to vary).
fn case_variant(id: &str) -> Option<String> {
    let upper = id.to_uppercase();
    (upper != id).then_some(upper)
}

/// The id with its first ASCII letter or digit replaced by its fullwidth form (U+FF01..): it
/// looks alike and is NFKC-equal to the id, but is another string. None without such a character.
fn lookalike(id: &str) -> Option<String> {
    let i = id.find(|c: char| c.is_ascii_alphanumeric())?;
    let c = id[i..].chars().next()?;
    let wide = char::from_u32(c as u32 - 0x21 + 0xFF01)?;
    Some(format!("{}{wide}{}", &id[..i], &id[i + c.len_utf8()..]))
}

/// Hex SHA-256 of the profile text.
pub fn digest(text: &str) -> String {
    let d = Sha256::digest(text.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The RFC 8414 metadata URL of an issuer (well-known segment between host and path).
pub fn metadata_url(issuer: &Url) -> Url {
    let mut u = issuer.clone();
    let path = issuer.path().trim_end_matches('/');
    u.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    u.set_query(None);
    u
}

/// Resolves a validated profile: discovery (when an issuer is given) and the JWKS.
pub async fn resolve(
    profile: Profile,
    text: &str,
    server: Option<Arc<reference::ServerGuard>>,
) -> Result<Target, ProfileError> {
    let timeout = Duration::from_secs(profile.http.timeout_secs);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| ProfileError::Unreachable(format!("HTTP client: {e}")))?;
    let mut metadata = None;
    let mut metadata_u = None;
    if let Some(iss) = &profile.issuer {
        let iss_url =
            Url::parse(iss).map_err(|e| ProfileError::Unreachable(format!("issuer: {e}")))?;
        let url = metadata_url(&iss_url);
        let explicit =
            profile.endpoints.authorization.is_some() && profile.endpoints.token.is_some();
        match fetch_json(&client, &url, profile.http.max_response_bytes, timeout).await {
            Ok(m) => {
                // A wrong `issuer` member is the target's problem (cases check the metadata),
                // not a reason to stop the run.
                if let Some(got) = m.get("issuer").and_then(|v| v.as_str()) {
                    if got.trim_end_matches('/') != iss.trim_end_matches('/') {
                        eprintln!("warning: metadata at {url} names issuer {got:?}, the profile says {iss:?}");
                    }
                }
                metadata = Some(m);
            }
            // With explicit endpoints, discovery is optional.
            Err(e) if explicit => {
                eprintln!("warning: no usable metadata ({e}); using the profile's endpoints")
            }
            Err(e) => return Err(e),
        }
        metadata_u = Some(url);
    }
    let e = &profile.endpoints;
    let pick = |explicit: &Option<String>, member: &str| -> Option<Url> {
        explicit
            .clone()
            .or_else(|| metadata.as_ref()?.get(member)?.as_str().map(str::to_string))
            .and_then(|s| Url::parse(&s).ok())
    };
    let need = |u: Option<Url>, what: &str| {
        u.ok_or_else(|| {
            ProfileError::Unreachable(format!(
                "has no {what}: set endpoints or publish it in the metadata"
            ))
        })
    };
    let found = |explicit: &Option<String>, member: &'static str| {
        let url = pick(explicit, member)?;
        Some((url, explicit.is_none().then_some(member)))
    };
    let declared = declared_origins(&profile);
    let allowed = |f: Option<(Url, Option<&'static str>)>| -> Result<Option<Url>, ProfileError> {
        let Some((url, member)) = f else {
            return Ok(None);
        };
        match member {
            Some(member) => check_origin(&url, member, &declared, profile.http.allow_cross_origin)
                .map(|()| Some(url)),
            None => Ok(Some(url)),
        }
    };
    let endpoints = ResolvedEndpoints {
        metadata: metadata_u,
        authorization: need(
            allowed(found(&e.authorization, "authorization_endpoint"))?,
            "authorization endpoint",
        )?,
        token: need(
            allowed(found(&e.token, "token_endpoint"))?,
            "token endpoint",
        )?,
        jwks: allowed(found(&e.jwks, "jwks_uri"))?,
        introspection: allowed(found(&e.introspection, "introspection_endpoint"))?,
        revocation: allowed(found(&e.revocation, "revocation_endpoint"))?,
        control: allowed(found(&e.control, "obo_test_control_endpoint"))?,
    };
    let jwks = match &endpoints.jwks {
        Some(u) => Some(fetch_json(&client, u, profile.http.max_response_bytes, timeout).await?),
        None => None,
    };
    let mut capabilities: BTreeSet<String> = profile.capabilities.iter().cloned().collect();
    // A declared capability whose endpoint is missing cannot be exercised: drop it so cases skip.
    for (cap, present) in [
        ("introspection", endpoints.introspection.is_some()),
        ("revocation", endpoints.revocation.is_some()),
        ("jwt_access_tokens", jwks.is_some()),
    ] {
        if !present {
            capabilities.remove(cap);
        }
    }
    control_capabilities(&profile, endpoints.control.is_some(), &mut capabilities);
    let issuer = profile
        .issuer
        .clone()
        .unwrap_or_else(|| endpoints.authorization.origin().ascii_serialization());
    Ok(Target {
        issuer,
        endpoints,
        metadata,
        jwks,
        capabilities,
        digest: digest(text),
        server,
        browser: Default::default(),
        profile,
        clock_offset: Default::default(),
    })
}

/// `control_api` and `control_mint` follow from the adapter: with a `[control]` table, from the
/// operations it maps (a case needing an unmapped one skips naming it); without one, from the
/// declared capabilities and a control endpoint for the built-in contract.
fn control_capabilities(profile: &Profile, has_base: bool, caps: &mut BTreeSet<String>) {
    use control::Operation;
    let available = |op: Operation| match &profile.control {
        Some(a) => match a.hook(op) {
            Some(control::Hook::Contract {}) => has_base,
            Some(_) => true,
            None => false,
        },
        None => has_base,
    };
    let state_ops = [
        Operation::AdvanceClock,
        Operation::DisableActor,
        Operation::RevokeConsent,
        Operation::Reset,
    ];
    let api = state_ops.into_iter().any(available);
    if available(Operation::AdvanceClock) || profile.time.max_wait_secs > 0 {
        caps.insert("clock".to_string());
    }
    let mint = available(Operation::Mint);
    for (cap, present) in [("control_api", api), ("control_mint", mint)] {
        if !present {
            caps.remove(cap);
        } else if profile.control.is_some() {
            caps.insert(cap.to_string());
        }
    }
}

/// Origins the profile names: the issuer's and every explicit endpoint's.
fn declared_origins(profile: &Profile) -> Vec<url::Origin> {
    let e = &profile.endpoints;
    [
        &profile.issuer,
        &e.authorization,
        &e.token,
        &e.jwks,
        &e.introspection,
        &e.revocation,
        &e.control,
    ]
    .into_iter()
    .flatten()
    .filter_map(|u| Url::parse(u).ok())
    .map(|u| u.origin())
    .collect()
}

/// The origin rule for an endpoint taken from the metadata: client credentials and the user's
/// password go only to origins the profile declares (RFC 8414 §2 lets metadata name any URL;
/// a conformance run must not hand credentials to whatever it names). Another origin is an
/// error unless `allow_cross_origin`, then a warning; an address that cannot belong to the
/// target (link-local such as cloud metadata services, unspecified, multicast, broadcast, or
/// loopback/private when the profile declares none) is refused always.
fn check_origin(
    url: &Url,
    member: &str,
    declared: &[url::Origin],
    allow_cross_origin: bool,
) -> Result<(), ProfileError> {
    if declared.contains(&url.origin()) {
        return Ok(());
    }
    let origin = url.origin().ascii_serialization();
    if let Some(why) = non_target_address(url, declared) {
        return Err(ProfileError::CrossOrigin(format!(
            "metadata member {member} points at {origin}, {why}: refused whatever \
             allow_cross_origin says"
        )));
    }
    let names: Vec<String> = declared.iter().map(|o| o.ascii_serialization()).collect();
    if allow_cross_origin {
        eprintln!(
            "warning: metadata member {member} points at {origin}, not an origin the profile \
             declares ({}); followed because cross-origin endpoints are allowed",
            names.join(", ")
        );
        return Ok(());
    }
    Err(ProfileError::CrossOrigin(format!(
        "metadata member {member} points at {origin}, not an origin the profile declares ({}); \
         set that endpoint in the profile's [endpoints], or set http.allow_cross_origin = true \
         (or pass --allow-cross-origin) if the vendor really serves it from another origin",
        names.join(", ")
    )))
}

/// Why `url`'s host cannot be part of the target, if it cannot.
fn non_target_address(url: &Url, declared: &[url::Origin]) -> Option<&'static str> {
    let ip = match url.host()? {
        url::Host::Ipv4(a) => std::net::IpAddr::V4(a),
        url::Host::Ipv6(a) => std::net::IpAddr::V6(a),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            let local = d == "localhost" || d.ends_with(".localhost");
            return (local && !declared.iter().any(is_local_origin))
                .then_some("a loopback name the profile does not use");
        }
    };
    if is_link_local(&ip) {
        return Some("a link-local address (as used by cloud metadata services)");
    }
    if ip.is_unspecified() || ip.is_multicast() || is_broadcast(&ip) {
        return Some("an address no server answers on");
    }
    if is_internal(&ip) && !declared.iter().any(is_local_origin) {
        return Some("a loopback or private address while the profile declares a public target");
    }
    None
}

fn is_link_local(ip: &std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(a) => a.is_link_local(),
        std::net::IpAddr::V6(a) => (a.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn is_broadcast(ip: &std::net::IpAddr) -> bool {
    matches!(ip, std::net::IpAddr::V4(a) if a.is_broadcast())
}

fn is_internal(ip: &std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(a) => a.is_loopback() || a.is_private(),
        std::net::IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Whether an origin is on this machine or a private network.
fn is_local_origin(origin: &url::Origin) -> bool {
    let url::Origin::Tuple(_, host, _) = origin else {
        return false;
    };
    match host {
        url::Host::Ipv4(a) => is_internal(&std::net::IpAddr::V4(*a)),
        url::Host::Ipv6(a) => is_internal(&std::net::IpAddr::V6(*a)),
        url::Host::Domain(d) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost") || !d.contains('.')
        }
    }
}

/// An error and its chain of causes ("error sending request: connection refused"): reqwest's
/// own message alone does not say why.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// GETs a JSON document, reading at most `cap` bytes of it: the body is streamed and the fetch
/// stops at the first chunk past the cap, so a hostile endless body costs `cap` bytes.
async fn fetch_json(
    client: &reqwest::Client,
    url: &Url,
    cap: usize,
    timeout: Duration,
) -> Result<serde_json::Value, ProfileError> {
    let failed = |e: reqwest::Error| {
        let why = if e.is_timeout() {
            format!(
                "timed out after {} s (--timeout or the profile's http.timeout_secs)",
                timeout.as_secs()
            )
        } else {
            with_causes(&e)
        };
        ProfileError::Unreachable(format!("unreachable: GET {url}: {why}"))
    };
    let mut resp = client
        .get(url.clone())
        .header("accept", "application/json")
        .send()
        .await
        .map_err(failed)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(ProfileError::Unreachable(format!(
            "GET {url} answered {status}"
        )));
    }
    let too_big = || {
        ProfileError::Unreachable(format!(
            "GET {url}: body larger than {cap} bytes (http.max_response_bytes)"
        ))
    };
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failed)? {
        if chunk.len() > cap.saturating_sub(body.len()) {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body)
        .map_err(|e| ProfileError::Unreachable(format!("GET {url}: not JSON: {e}")))
}
