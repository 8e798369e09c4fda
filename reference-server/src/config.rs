//! Server configuration: the demo registry, TTLs, policy options and the draft revision.
//!
//! `Config::default()` is the embedded demo registry of docs/contracts.md. A TOML file may
//! replace the registry, issuer, TTLs and policy (see `Config::from_toml_str`); unknown keys are
//! refused so that a typo names the field.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::fault::Fault;

/// The draft revision whose wire names the server speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Revision {
    /// -00: `requested_agent`, `agent_token`, the agent-authorization_code grant URN.
    R00,
    /// -01: `requested_actor`, `actor_token`, `authorization_code`.
    R01,
    /// -02 (default): same wire names as -01.
    #[default]
    R02,
}

/// The -00 grant type URN (never registered; dropped in -01).
pub const GRANT_TYPE_00: &str = "urn:ietf:params:oauth:grant-type:agent-authorization_code";

impl Revision {
    /// "00", "01" or "02".
    pub fn as_str(self) -> &'static str {
        match self {
            Revision::R00 => "00",
            Revision::R01 => "01",
            Revision::R02 => "02",
        }
    }

    /// Parses "00", "01", "02" (also "-02", "r02").
    pub fn parse(s: &str) -> Option<Revision> {
        match s.trim_start_matches(['-', 'r', 'R']) {
            "00" | "0" => Some(Revision::R00),
            "01" | "1" => Some(Revision::R01),
            "02" | "2" => Some(Revision::R02),
            _ => None,
        }
    }

    /// Name of the authorization-request parameter naming the actor.
    pub fn actor_param(self) -> &'static str {
        match self {
            Revision::R00 => "requested_agent",
            _ => "requested_actor",
        }
    }

    /// Name of the token-request parameter carrying the actor's token.
    pub fn actor_token_param(self) -> &'static str {
        match self {
            Revision::R00 => "agent_token",
            _ => "actor_token",
        }
    }
}

/// How the login and consent pages are built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentUi {
    /// Plain HTML forms (default).
    #[default]
    Html,
    /// A tiny inline script builds the forms from a JSON blob (same fields, CSRF and POST
    /// endpoints); without JavaScript the page says it needs it. For the harness's browser driver.
    Spa,
}

impl ConsentUi {
    /// Parses "html" or "spa".
    pub fn parse(s: &str) -> Option<ConsentUi> {
        match s {
            "html" => Some(ConsentUi::Html),
            "spa" => Some(ConsentUi::Spa),
            _ => None,
        }
    }
}

/// A resource owner who can log in.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub username: String,
    pub password: String,
    /// The `sub` of the user's access tokens (disjoint from actor ids, AMB-20).
    pub subject: String,
}

/// An OAuth client. No secret means a public client (PKCE only).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub id: String,
    #[serde(default)]
    pub secret: Option<String>,
    pub name: String,
    pub redirect_uris: Vec<String>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret.is_none()
    }
}

/// An actor (agent). It authenticates as a client with its id and secret to obtain actor tokens
/// with `client_credentials` (AMB-7).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub id: String,
    pub secret: String,
    pub display_name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Users, clients, actors, scopes and audiences.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    pub users: Vec<User>,
    pub clients: Vec<Client>,
    pub actors: Vec<Actor>,
    pub scopes: Vec<String>,
    /// Scope granted when the authorization request has none (RFC 6749 §3.3 default).
    #[serde(default = "default_scope")]
    pub default_scope: String,
    /// Extra RFC 8707 audiences besides `<base>/resource`.
    #[serde(default)]
    pub other_audiences: Vec<String>,
}

fn default_scope() -> String {
    "files.read".into()
}

/// Lifetimes in seconds.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ttl {
    pub code: u64,
    pub access_token: u64,
    pub actor_token: u64,
    pub refresh_token: u64,
    /// Login/consent transactions.
    pub transaction: u64,
}

impl Default for Ttl {
    fn default() -> Self {
        Ttl {
            code: 60,
            access_token: 3600,
            actor_token: 300,
            refresh_token: 86_400,
            transaction: 600,
        }
    }
}

/// Policy options where the draft leaves a choice (AMB-*).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Clock skew tolerated on actor-token `exp`/`nbf`/`iat` (AMB-5).
    pub clock_skew_secs: u64,
    /// Refuse authorization requests without `requested_actor` (AMB-2). Off: plain RFC 6749 flow.
    pub obo_required: bool,
    /// Require a fresh `actor_token` on refresh (AMB-25).
    pub actor_token_on_refresh: bool,
    /// Optional client→actor allow-list (AMB-9); empty = no association check (as -02).
    pub actor_client_allowlist: Vec<ClientActor>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            clock_skew_secs: 60,
            obo_required: false,
            actor_token_on_refresh: false,
            actor_client_allowlist: Vec::new(),
        }
    }
}

/// One allowed (client, actor) pair.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientActor {
    pub client_id: String,
    pub actor: String,
}

/// Everything `spawn` needs. `Config::default()` is the demo registry, revision -02.
#[derive(Clone, Debug)]
pub struct Config {
    /// Port on 127.0.0.1; `None` or `Some(0)` picks a free port.
    pub port: Option<u16>,
    /// Issuer identifier; default: the base URL.
    pub issuer: Option<String>,
    /// Headless mode: `/authorize` answers with the code redirect for this username.
    pub auto_consent: Option<String>,
    /// Enables `/control/*`.
    pub control_api: bool,
    /// Fault switches (all off by default).
    pub faults: Vec<Fault>,
    /// Delay added to every response.
    pub latency: Duration,
    pub revision: Revision,
    pub registry: Registry,
    pub ttl: Ttl,
    pub policy: Policy,
    /// Connection limit and timeouts.
    pub connections: crate::connections::Connections,
    /// Login and consent pages as HTML forms or built by script.
    pub consent_ui: ConsentUi,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: None,
            issuer: None,
            auto_consent: None,
            control_api: false,
            faults: Vec::new(),
            latency: Duration::ZERO,
            revision: Revision::R02,
            registry: Registry::demo(),
            ttl: Ttl::default(),
            policy: Policy::default(),
            connections: Default::default(),
            consent_ui: ConsentUi::Html,
        }
    }
}

impl Registry {
    /// The demo registry of docs/contracts.md.
    pub fn demo() -> Registry {
        let user = |name: &str| User {
            username: name.into(),
            password: format!("{name}-password"),
            subject: format!("user-{name}"),
        };
        let actor = |id: &str, name: &str, enabled: bool| Actor {
            id: id.into(),
            secret: format!("{id}-secret"),
            display_name: name.into(),
            enabled,
        };
        Registry {
            users: vec![user("alice"), user("bob")],
            clients: vec![
                Client {
                    id: "obo-client".into(),
                    secret: Some("obo-client-secret".into()),
                    name: "OBO Demo Client".into(),
                    redirect_uris: vec!["https://client.example/cb".into()],
                },
                Client {
                    id: "obo-public".into(),
                    secret: None,
                    name: "OBO Public Client".into(),
                    redirect_uris: vec!["https://public.example/cb".into()],
                },
                Client {
                    id: "obo-client-2".into(),
                    secret: Some("obo-client-2-secret".into()),
                    name: "OBO Second Client".into(),
                    redirect_uris: vec!["https://second.example/cb".into()],
                },
            ],
            actors: vec![
                actor("agent-a", "Agent A (travel)", true),
                actor("agent-b", "Agent B (finance)", true),
                actor("agent-disabled", "Disabled Agent", false),
            ],
            scopes: vec![
                "files.read".into(),
                "files.write".into(),
                "calendar.read".into(),
            ],
            default_scope: default_scope(),
            other_audiences: vec!["https://other-rs.example".into()],
        }
    }

    pub fn user(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username == username)
    }

    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// Checks the invariants the draft relies on: unique ids (OBO-AUTHZ-2) and disjoint
    /// namespaces of actors, user subjects and clients (AMB-20).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for (kind, id) in self
            .actors
            .iter()
            .map(|a| ("actor id", a.id.as_str()))
            .chain(
                self.users
                    .iter()
                    .map(|u| ("user subject", u.subject.as_str())),
            )
            .chain(self.clients.iter().map(|c| ("client id", c.id.as_str())))
        {
            if id.is_empty() {
                return Err(ConfigError::Invalid(format!("empty {kind}")));
            }
            if !seen.insert(id) {
                return Err(ConfigError::Invalid(format!(
                    "{kind} `{id}` is not unique across actors, user subjects and clients (AMB-20)"
                )));
            }
        }
        let mut names = std::collections::HashSet::new();
        for u in &self.users {
            if !names.insert(u.username.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "duplicate username `{}`",
                    u.username
                )));
            }
        }
        for c in &self.clients {
            if c.redirect_uris.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "client `{}` has no redirect_uris",
                    c.id
                )));
            }
        }
        Ok(())
    }
}

/// Errors loading a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Parse(String),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The TOML file shape: every section optional; absent sections keep the defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    issuer: Option<String>,
    revision: Option<String>,
    registry: Option<Registry>,
    ttl: Option<Ttl>,
    policy: Option<Policy>,
    consent_ui: Option<ConsentUi>,
}

impl Config {
    /// Loads a TOML configuration file on top of the defaults.
    pub fn from_toml_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_toml_str(&text)
            .map_err(|e| ConfigError::Parse(format!("{}: {e}", path.display())))
    }

    /// Parses TOML text (`issuer`, `revision`, `consent_ui`, `[registry]`, `[ttl]`, `[policy]`).
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        let mut config = Config {
            issuer: file.issuer,
            ..Config::default()
        };
        if let Some(r) = file.revision {
            config.revision = Revision::parse(&r).ok_or_else(|| {
                ConfigError::Invalid(format!("revision `{r}`: expected 00, 01 or 02"))
            })?;
        }
        if let Some(reg) = file.registry {
            config.registry = reg;
        }
        if let Some(ttl) = file.ttl {
            config.ttl = ttl;
        }
        if let Some(policy) = file.policy {
            config.policy = policy;
        }
        if let Some(ui) = file.consent_ui {
            config.consent_ui = ui;
        }
        config.registry.validate()?;
        Ok(config)
    }
}

// Secrets and passwords never appear in Debug output (logs).
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("subject", &self.subject)
            .finish()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name)
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}

impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Actor")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("display_name", &self.display_name)
            .field("enabled", &self.enabled)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_registry_is_valid() {
        assert!(Registry::demo().validate().is_ok());
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Config::from_toml_str("[ttl]\ncodee = 5\n").unwrap_err();
        assert!(err.to_string().contains("codee"), "{err}");
    }

    #[test]
    fn ttl_override_keeps_other_defaults() {
        let c = Config::from_toml_str("revision = \"00\"\n[ttl]\ncode = 5\n").unwrap();
        assert_eq!(c.ttl.code, 5);
        assert_eq!(c.ttl.access_token, 3600);
        assert_eq!(c.revision, Revision::R00);
    }

    #[test]
    fn colliding_namespaces_are_refused() {
        let mut r = Registry::demo();
        r.actors[0].id = "user-alice".into();
        assert!(r.validate().is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let s = format!("{:?}", Config::default());
        assert!(!s.contains("alice-password") && !s.contains("obo-client-secret"));
    }
}
