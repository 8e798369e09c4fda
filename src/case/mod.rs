//! The case language of cases/README.md as serde types.
//!
//! Every struct denies unknown fields so that a typo in a case file is an error naming the
//! field (exit 3), never a silently ignored check. Step fields are one flat struct: which
//! fields a step kind accepts is checked by the loader (`case/step_rules.rs`), which names the step and field.

pub mod capability;
pub mod catalog;
pub mod client_scenario;
pub mod forgery;
mod step_rules;
pub mod vars;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

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

/// The step vocabulary (`do = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Authorize,
    Token,
    Replay,
    ParallelToken,
    ActorToken,
    AdvanceClock,
    Wait,
    DisableActor,
    EnableActor,
    RevokeConsent,
    Refresh,
    Introspect,
    Revoke,
    Resource,
    Get,
}

impl StepKind {
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Authorize => "authorize",
            StepKind::Token => "token",
            StepKind::Replay => "replay",
            StepKind::ParallelToken => "parallel_token",
            StepKind::ActorToken => "actor_token",
            StepKind::AdvanceClock => "advance_clock",
            StepKind::Wait => "wait",
            StepKind::DisableActor => "disable_actor",
            StepKind::EnableActor => "enable_actor",
            StepKind::RevokeConsent => "revoke_consent",
            StepKind::Refresh => "refresh",
            StepKind::Introspect => "introspect",
            StepKind::Revoke => "revoke",
            StepKind::Resource => "resource",
            StepKind::Get => "get",
        }
    }

    /// The fields (besides `do`, `expect`, `expect_any`) a step kind accepts.
    pub fn allowed_fields(self) -> &'static [&'static str] {
        const TOKEN_FIELDS: &[&str] = &[
            "code",
            "client",
            "actor_token",
            "forge",
            "method",
            "auth",
            "params",
            "omit",
            "append",
            "duplicate",
            "save",
        ];
        match self {
            StepKind::Authorize => &[
                "client",
                "actor",
                "scope",
                "pkce",
                "method",
                "consent",
                "user",
                "params",
                "omit",
                "append",
                "duplicate",
                "save",
            ],
            StepKind::Token => TOKEN_FIELDS,
            StepKind::Replay => &["of"],
            StepKind::ParallelToken => &[
                "count",
                "code",
                "client",
                "actor_token",
                "forge",
                "method",
                "auth",
                "params",
                "omit",
                "append",
                "duplicate",
                "save",
            ],
            StepKind::ActorToken => &["actor", "save"],
            StepKind::AdvanceClock => &["seconds", "expires"],
            StepKind::Wait => &["seconds"],
            StepKind::DisableActor | StepKind::EnableActor => &["actor"],
            StepKind::RevokeConsent => &["actor", "client"],
            StepKind::Refresh => &["tokens", "client", "params", "omit", "save"],
            StepKind::Introspect => &["token", "tokens"],
            // `token = "saved:NAME"` revokes a kept actor token as `actor` (default a).
            StepKind::Revoke => &["token", "tokens", "actor"],
            StepKind::Resource => &["path", "token", "forge", "mint", "tokens"],
            StepKind::Get => &["url"],
        }
    }

    /// Kinds that change server-wide state: the case runs alone.
    pub fn is_exclusive(self) -> bool {
        matches!(
            self,
            StepKind::AdvanceClock | StepKind::DisableActor | StepKind::EnableActor
        )
    }
}

/// One step, all fields optional; [`StepKind::allowed_fields`] says which apply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(rename = "do")]
    pub kind: StepKind,
    pub client: Option<String>,
    pub actor: Option<String>,
    pub scope: Option<String>,
    pub pkce: Option<String>,
    pub method: Option<String>,
    pub consent: Option<String>,
    /// `authorize`: the user who signs in, `primary` (default) or `second`.
    pub user: Option<String>,
    pub params: Option<BTreeMap<String, toml::Value>>,
    pub omit: Option<Vec<String>>,
    pub append: Option<BTreeMap<String, toml::Value>>,
    pub duplicate: Option<Vec<String>>,
    pub save: Option<String>,
    pub code: Option<String>,
    pub actor_token: Option<String>,
    pub forge: Option<String>,
    pub auth: Option<String>,
    pub of: Option<usize>,
    pub count: Option<usize>,
    pub seconds: Option<i64>,
    /// `advance_clock`: what the advance makes expire (`actor_token`, `code`, `access_token`),
    /// so a target without a clock operation can wait out that lifetime in real time instead.
    pub expires: Option<String>,
    pub tokens: Option<String>,
    pub token: Option<String>,
    pub path: Option<String>,
    pub mint: Option<BTreeMap<String, toml::Value>>,
    pub url: Option<String>,
    pub expect: Option<Expect>,
    pub expect_any: Option<Vec<Expect>>,
}

impl Step {
    /// Names of the optional fields that are set, for validation against the kind.
    pub fn set_fields(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        macro_rules! chk {
            ($($f:ident),*) => { $( if self.$f.is_some() { v.push(stringify!($f)); } )* };
        }
        chk!(
            client,
            actor,
            scope,
            pkce,
            method,
            consent,
            user,
            params,
            omit,
            append,
            duplicate,
            save,
            code,
            actor_token,
            forge,
            auth,
            of,
            count,
            seconds,
            expires,
            tokens,
            token,
            path,
            mint,
            url
        );
        v
    }

    /// A step with expectations is a check; one without is set-up.
    pub fn is_check(&self) -> bool {
        self.expect.is_some() || self.expect_any.is_some()
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

impl Step {
    /// The ambiguity this step's accepted outcomes illustrate, if annotated.
    pub fn reading(&self) -> Option<&str> {
        self.expect
            .iter()
            .chain(self.expect_any.iter().flatten())
            .find_map(|e| e.reading.as_deref())
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
    let mut push = |label: &str, s: &str| out.push((label.to_string(), s.to_string()));
    if let Some(s) = &step.scope {
        push("scope", s);
    }
    if let Some(s) = &step.url {
        push("url", s);
    }
    for (name, table) in [
        ("params", &step.params),
        ("append", &step.append),
        ("mint", &step.mint),
    ] {
        if let Some(t) = table {
            for (k, v) in t {
                collect_value_strings(&format!("{name}.{k}"), v, &mut out);
            }
        }
    }
    let expects: Vec<&Expect> = step
        .expect
        .iter()
        .chain(step.expect_any.iter().flatten())
        .collect();
    for e in expects {
        for (name, table) in [
            ("expect.json", &e.json),
            ("expect.json_contains", &e.json_contains),
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
