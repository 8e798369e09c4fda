//! The case language of cases/README.md as serde types.
//!
//! Every struct denies unknown fields so that a typo in a case file is an error naming the
//! field (exit 3), never a silently ignored check. A step is one struct per kind
//! (`case/step.rs`) over the vocabularies of `case/vocabulary.rs` and `case/forgery.rs`; the
//! rules types cannot carry (value ranges, cross-field rules, variables) are `case/step_rules.rs`.

pub mod capability;
pub mod catalog;
pub mod client_scenario;
pub mod forgery;
pub mod requirements;
pub mod step;
mod step_rules;
pub mod vars;
pub mod vocabulary;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

pub use step::{Action, Step};

/// One scenario: a file in cases/.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub title: String,
    pub description: String,
    pub requirements: Vec<String>,
    #[serde(default)]
    pub scenarios: Vec<String>,
    pub level: CaseLevel,
    #[serde(default)]
    pub revisions: Option<Vec<String>>,
    #[serde(default)]
    pub needs: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub exclusive: bool,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
    /// File the case came from (set by the loader).
    #[serde(skip)]
    pub path: PathBuf,
}

/// The level a failed expectation counts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum CaseLevel {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

impl From<CaseLevel> for obo_report::Level {
    fn from(l: CaseLevel) -> Self {
        match l {
            CaseLevel::Must => obo_report::Level::Must,
            CaseLevel::Should => obo_report::Level::Should,
            CaseLevel::May => obo_report::Level::May,
        }
    }
}

/// A value or a list of acceptable values.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// `[step.expect]`: the checks for that step's response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub status: Option<OneOrMany<u16>>,
    pub error: Option<OneOrMany<String>>,
    pub token_issued: Option<bool>,
    pub no_store: Option<bool>,
    pub json: Option<BTreeMap<String, toml::Value>>,
    pub json_has: Option<Vec<String>>,
    pub json_contains: Option<BTreeMap<String, toml::Value>>,
    /// Members of the JSON body checked only when the response has them (an OPTIONAL member,
    /// `{ token_type = "Bearer" }`); an absent member holds.
    pub json_if_present: Option<BTreeMap<String, toml::Value>>,
    /// Response headers (names case-insensitive) whose comma-separated values include every
    /// listed token (`{ allow = "POST" }`).
    pub header: Option<BTreeMap<String, String>>,
    pub claims: Option<BTreeMap<String, toml::Value>>,
    pub claim_types: Option<BTreeMap<String, String>>,
    pub claims_absent: Option<Vec<String>>,
    pub client_claim: Option<String>,
    pub act_differs_from_sub: Option<bool>,
    pub scope_within: Option<String>,
    pub redirect: Option<String>,
    pub state_echo: Option<bool>,
    pub consent_prompt: Option<bool>,
    pub at_most_one_success: Option<bool>,
    pub www_authenticate: Option<bool>,
    /// A `WWW-Authenticate` challenge with this scheme, error and scope (`check::challenge`).
    pub challenge: Option<ChallengeExpect>,
    /// The access token's JOSE header `typ` (RFC 9068 §2.1: `at+jwt`).
    pub access_token_typ: Option<String>,
    /// Claim paths of the access token that must be present, whatever their type.
    pub claims_present: Option<Vec<String>>,
    pub active: Option<bool>,
    /// Strings that must appear in the consent page's text (interactive drivers).
    pub consent_page_contains: Option<Vec<String>>,
    /// The login/consent pages forbid framing (X-Frame-Options or CSP frame-ancestors).
    pub consent_page_framing_blocked: Option<bool>,
    /// Level the checks of this table count at (default: the case's level).
    pub level: Option<CaseLevel>,
    /// Requirement IDs the checks of this table verify (default: the case's); the cache-header
    /// checks (`no_store`) always verify the cache-header requirement.
    pub requirements: Option<Vec<String>>,
    /// The ambiguity of the draft (`AMB-*`, cases/requirements.toml `[[ambiguity]]`) whose
    /// readings this step's accepted outcomes are: report.json records which one the target
    /// chose.
    pub reading: Option<String>,
    /// A short name of this outcome for the ambiguity report ("refused", "plain flow");
    /// default: a description of the table's status, error and token checks.
    pub label: Option<String>,
}

impl Expect {
    /// The outcome this table accepts, for the ambiguity report: its label, else
    /// "status 400, error invalid_grant | invalid_request, no token".
    pub fn outcome_label(&self) -> String {
        if let Some(l) = &self.label {
            return l.clone();
        }
        let mut parts = Vec::new();
        if let Some(s) = &self.status {
            let s: Vec<String> = s.to_vec().iter().map(u16::to_string).collect();
            parts.push(format!("status {}", s.join(" | ")));
        }
        if let Some(e) = &self.error {
            parts.push(format!("error {}", e.to_vec().join(" | ")));
        }
        if let Some(r) = &self.redirect {
            parts.push(format!("redirect {r}"));
        }
        match self.token_issued {
            Some(true) => parts.push("token issued".into()),
            Some(false) => parts.push("no token".into()),
            None => {}
        }
        if let Some(p) = self.consent_prompt {
            parts.push(
                if p {
                    "consent prompt"
                } else {
                    "no consent prompt"
                }
                .into(),
            );
        }
        if parts.is_empty() {
            "accepted".into()
        } else {
            parts.join(", ")
        }
    }
}

/// `challenge = { scheme, error, scope }`: what a `WWW-Authenticate` challenge must carry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeExpect {
    /// The auth-scheme (default `Bearer`); when given, a challenge of it must be present.
    pub scheme: Option<String>,
    /// Acceptable `error` auth-param values of that challenge.
    pub error: Option<OneOrMany<String>>,
    /// Space-separated scopes the challenge's `scope` or `required_scope` must name (AMB-23).
    pub scope: Option<String>,
}

/// Every string of a step that may hold `${...}` variables, with a label for error messages.
pub fn step_strings(step: &Step) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut tables: Vec<(&str, &step::ParamTable)> = Vec::new();
    if let Some(e) = step.action.edits() {
        tables.extend(e.params.map(|t| ("params", t)));
        tables.extend(e.append.map(|t| ("append", t)));
    }
    match &step.action {
        Action::Authorize(a) => {
            if let Some(s) = &a.scope {
                out.push(("scope".to_string(), s.clone()));
            }
        }
        Action::Resource(r) => tables.extend(r.mint.iter().map(|t| ("mint", t))),
        Action::Get(g) => {
            if let vocabulary::GetUrl::Absolute(u) = &g.url {
                out.push(("url".to_string(), u.clone()));
            }
        }
        _ => {}
    }
    for (name, t) in tables {
        for (k, v) in t {
            collect_value_strings(&format!("{name}.{k}"), v, &mut out);
        }
    }
    for e in step.expectations() {
        for (name, table) in [
            ("expect.json", &e.json),
            ("expect.json_contains", &e.json_contains),
            ("expect.json_if_present", &e.json_if_present),
            ("expect.claims", &e.claims),
        ] {
            if let Some(t) = table {
                for (k, v) in t {
                    collect_value_strings(&format!("{name}.{k}"), v, &mut out);
                }
            }
        }
        if let Some(s) = &e.client_claim {
            out.push(("expect.client_claim".into(), s.clone()));
        }
        if let Some(s) = &e.scope_within {
            out.push(("expect.scope_within".into(), s.clone()));
        }
        if let Some(s) = e.challenge.as_ref().and_then(|c| c.scope.as_ref()) {
            out.push(("expect.challenge.scope".into(), s.clone()));
        }
        for s in e.consent_page_contains.iter().flatten() {
            out.push(("expect.consent_page_contains".into(), s.clone()));
        }
    }
    out
}

fn collect_value_strings(label: &str, v: &toml::Value, out: &mut Vec<(String, String)>) {
    match v {
        toml::Value::String(s) => out.push((label.to_string(), s.clone())),
        toml::Value::Array(a) => {
            for x in a {
                collect_value_strings(label, x, out);
            }
        }
        toml::Value::Table(t) => {
            for (k, x) in t {
                collect_value_strings(&format!("{label}.{k}"), x, out);
            }
        }
        _ => {}
    }
}
