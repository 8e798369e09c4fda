//! Client scenarios: cases/client/*.toml, the language of the client conformance mode.
//!
//! One file per scenario. It names the server behaviour the client meets (`behaviour`), what the
//! client is told to ask for (`scope`, `resource`), how many times it is run (`runs`), and the
//! expectations judged over the traffic the recording proxy saw (`[[expect]]`, see
//! [`CheckKind`]). docs/contracts.md ("Client scenarios") documents the fields.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use obo_report::Level;
use serde::Deserialize;

use crate::catalog::Requirement;

/// What the suite's server does differently from an honest one (docs/contracts.md, "Client scenarios").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Pass-through.
    #[default]
    Normal,
    /// Authorization responses carry a `state` the client did not send (CSRF, RFC 6749 §10.12).
    WrongState,
    /// Authorization responses carry an `iss` naming another issuer (mix-up, RFC 9207).
    WrongIss,
    /// Token responses carry an access token (genuinely signed by the AS) whose `act.sub` names
    /// another registered actor.
    WrongAct,
}

impl Behaviour {
    pub fn name(self) -> &'static str {
        match self {
            Behaviour::Normal => "normal",
            Behaviour::WrongState => "wrong_state",
            Behaviour::WrongIss => "wrong_iss",
            Behaviour::WrongAct => "wrong_act",
        }
    }
}

/// Which resource of the demo RS the client is pointed at (`OBO_RS_URL`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// `/resource/actor/{actor}`: needs `files.read` and `act.sub` = the client's actor.
    #[default]
    Actor,
    /// `/resource`: needs `files.read`.
    Read,
    /// `/resource/write`: needs `files.write`; a client told to ask for `files.read` meets the
    /// RS's genuine 403 `insufficient_scope` challenge (draft §4.4).
    Write,
}

/// One expectation over the recorded traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Every authorization request carries each of `params` (`name` or `name=value`).
    AuthorizeParams,
    /// Every authorization request's `requested_actor` is the client's actor, a registered one.
    RequestedActorRegistered,
    /// Every authorization request uses S256 with a well-formed challenge, and every code
    /// redemption sends a 43-128 unreserved-character verifier matching that challenge.
    PkceS256,
    /// No two authorization requests share a code_challenge (fresh verifier per request).
    FreshPkce,
    /// No two authorization requests share a state value.
    FreshState,
    /// Every authorization request's redirect_uri is the registered one, byte for byte.
    RedirectUriRegistered,
    /// Every code redemption carries each of `params` (`client_id` is also met by Basic auth).
    TokenParams,
    /// Every code redemption's redirect_uri is identical to that of the authorization request
    /// that produced the code.
    RedirectUriIdentical,
    /// Every code redemption's actor_token is one the AS issued to the actor itself.
    ActorTokenFromActor,
    /// Every code redemption authenticates the confidential client (Basic or post).
    ClientAuthenticated,
    /// Client and actor secrets appear only in an Authorization header or a token-request body.
    ClientSecretConfined,
    /// Actor tokens appear only in the body of token requests.
    ActorTokenConfined,
    /// No code from a tampered authorization response is redeemed.
    NoRedemptionAfterTampering,
    /// The substituted access token (wrong act.sub) is never presented anywhere.
    PlantedTokenUnused,
    /// After an RS insufficient_scope challenge, a new authorization request (requested_actor,
    /// the challenged scope) and a new token precede the retry, which uses the new token.
    ChallengeAnswered,
    /// The client's last resource request got a 2xx.
    ResourceReached,
}

impl CheckKind {
    pub fn name(self) -> &'static str {
        match self {
            CheckKind::AuthorizeParams => "authorize_params",
            CheckKind::RequestedActorRegistered => "requested_actor_registered",
            CheckKind::PkceS256 => "pkce_s256",
            CheckKind::FreshPkce => "fresh_pkce",
            CheckKind::FreshState => "fresh_state",
            CheckKind::RedirectUriRegistered => "redirect_uri_registered",
            CheckKind::TokenParams => "token_params",
            CheckKind::RedirectUriIdentical => "redirect_uri_identical",
            CheckKind::ActorTokenFromActor => "actor_token_from_actor",
            CheckKind::ClientAuthenticated => "client_authenticated",
            CheckKind::ClientSecretConfined => "client_secret_confined",
            CheckKind::ActorTokenConfined => "actor_token_confined",
            CheckKind::NoRedemptionAfterTampering => "no_redemption_after_tampering",
            CheckKind::PlantedTokenUnused => "planted_token_unused",
            CheckKind::ChallengeAnswered => "challenge_answered",
            CheckKind::ResourceReached => "resource_reached",
        }
    }

    fn takes_params(self) -> bool {
        matches!(self, CheckKind::AuthorizeParams | CheckKind::TokenParams)
    }
}

/// `[[expect]]`: a check, the requirements it enforces (default: the scenario's), its level
/// (default: the scenario's) and, for the two `*_params` checks, the parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub check: CheckKind,
    #[serde(default)]
    pub params: Vec<String>,
    #[serde(default)]
    pub requirements: Vec<String>,
    #[serde(default)]
    pub level: Option<Level>,
}

/// One client scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub description: String,
    pub requirements: Vec<String>,
    #[serde(default)]
    pub scenarios: Vec<String>,
    pub level: Level,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub behaviour: Behaviour,
    /// `OBO_SCOPE` given to the client.
    #[serde(default = "default_scope")]
    pub scope: String,
    #[serde(default)]
    pub resource: ResourceKind,
    /// How many times the client command is run against the same server (1 to 3).
    #[serde(default = "one")]
    pub runs: u32,
    pub expect: Vec<Expectation>,
    #[serde(skip)]
    pub path: PathBuf,
}

fn default_scope() -> String {
    "files.read".into()
}

fn one() -> u32 {
    1
}

impl Scenario {
    /// The requirements of the expectation (its own, else the scenario's).
    pub fn requirements_of<'a>(&'a self, e: &'a Expectation) -> &'a [String] {
        if e.requirements.is_empty() {
            &self.requirements
        } else {
            &e.requirements
        }
    }

    /// Every requirement the scenario or one of its expectations cites.
    pub fn all_requirements(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self.requirements.iter().cloned().collect();
        for e in &self.expect {
            all.extend(e.requirements.iter().cloned());
        }
        all
    }
}

/// The folder of client scenarios inside a catalogue folder.
pub fn dir_of(catalog_dir: &Path) -> PathBuf {
    catalog_dir.join("client")
}

/// Loads and validates every scenario of `dir` (sorted by ID). Each problem names the file and
/// the field.
pub fn load_dir(
    dir: &Path,
    requirements: &BTreeMap<String, Requirement>,
) -> Result<Vec<Scenario>, Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| vec![format!("{}: {e}", dir.display())])?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml"))
        .collect();
    paths.sort();
    let mut errors = Vec::new();
    let mut out: Vec<Scenario> = Vec::new();
    for path in paths {
        match parse_file(&path) {
            Ok(s) => {
                validate(&s, requirements, &mut errors);
                if out.iter().any(|o| o.id == s.id) {
                    errors.push(format!(
                        "{}: id {:?} is used by another scenario",
                        path.display(),
                        s.id
                    ));
                }
                out.push(s);
            }
            Err(e) => errors.push(e),
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(format!("{}: no client scenario", dir.display()));
    }
    if errors.is_empty() {
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Parses one scenario file (no catalogue-wide validation).
pub fn parse_file(path: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut s: Scenario = toml::from_str(&text).map_err(|e| {
        format!(
            "{}: {}",
            path.display(),
            crate::profile::toml_error(&text, &e)
        )
    })?;
    s.path = path.to_path_buf();
    Ok(s)
}

fn validate(s: &Scenario, reqs: &BTreeMap<String, Requirement>, errors: &mut Vec<String>) {
    let at = s.path.display();
    if s.id.is_empty()
        || !s
            .id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    {
        errors.push(format!("{at}: id {:?} is not [A-Z0-9-]+", s.id));
    }
    // Reports locate a scenario by its ID (obo_report::case_path): the file is named after it.
    let stem = s
        .path
        .file_stem()
        .and_then(|f| f.to_str())
        .unwrap_or_default();
    if stem != s.id.to_ascii_lowercase() {
        errors.push(format!(
            "{at}: id {:?}: the file must be named {}.toml",
            s.id,
            s.id.to_ascii_lowercase()
        ));
    }
    if s.requirements.is_empty() {
        errors.push(format!("{at}: requirements: at least one requirement ID"));
    }
    if !(1..=3).contains(&s.runs) {
        errors.push(format!("{at}: runs: {} is not between 1 and 3", s.runs));
    }
    if s.expect.is_empty() {
        errors.push(format!("{at}: expect: at least one [[expect]]"));
    }
    for id in s.all_requirements() {
        match reqs.get(&id) {
            None => errors.push(format!(
                "{at}: requirements: {id} is not in requirements.toml"
            )),
            Some(r) if r.untestable.is_some() => errors.push(format!(
                "{at}: requirements: {id} is marked untestable in requirements.toml"
            )),
            _ => {}
        }
    }
    for (i, e) in s.expect.iter().enumerate() {
        if e.check.takes_params() == e.params.is_empty() {
            let why = if e.check.takes_params() {
                "needs a non-empty params list"
            } else {
                "takes no params"
            };
            errors.push(format!(
                "{at}: expect[{i}].params: {} {why}",
                e.check.name()
            ));
        }
        let compares = e.check == CheckKind::FreshPkce || e.check == CheckKind::FreshState;
        if compares && s.runs < 2 {
            errors.push(format!(
                "{at}: expect[{i}]: {} compares two authorization requests: set runs = 2",
                e.check.name()
            ));
        }
    }
}

/// (scenario ID, requirement IDs, ADV IDs) of every client scenario under `catalog_dir`, for
/// the coverage matrix; unreadable files are left out (`obo-conformance client` reports them).
pub fn citations(catalog_dir: &Path) -> Vec<(String, BTreeSet<String>, Vec<String>)> {
    let Ok(entries) = std::fs::read_dir(dir_of(catalog_dir)) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml"))
        .filter_map(|p| parse_file(&p).ok())
        .map(|s| (s.id.clone(), s.all_requirements(), s.scenarios.clone()))
        .collect();
    out.sort();
    out
}
