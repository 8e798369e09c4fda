//! The steps of the case language (`[[step]]`, cases/README.md "Steps") as types: one struct
//! per step kind with the fields that kind takes, typed by the vocabularies of
//! `case/vocabulary.rs` and `case/forgery.rs`. Every struct denies unknown fields, so a field a
//! kind does not take (`forge` on `authorize`) or a typo is refused by serde, naming the field
//! and listing the ones the kind takes.
//!
//! A step is read through a TOML table: `do` picks the kind, `expect`/`expect_any` are common
//! to every kind, the rest is the kind's struct. Going through the table (rather than serde's
//! internally tagged enums, which buffer the content and lose `deny_unknown_fields` in
//! flattened structs) keeps each refusal exact; the loader adds the file, line and step index.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::case::forgery::{ForgeSpec, Forgery};
use crate::case::vocabulary::{
    ActorName, ActorTokenChoice, ClientAuth, ClientName, Consent, GetUrl, HttpMethod,
    IntrospectToken, Lifetime, Pkce, RequestedActor, ResourcePath, ResourceToken, RevokeToken,
    UserName,
};
use crate::case::Expect;

mod fields;
pub use fields::FieldValue;

/// A parameter or claim table (`params`, `append`, `mint`); string values may hold `${...}`.
pub type ParamTable = BTreeMap<String, toml::Value>;

/// One `[[step]]`: what it does, and what its response must show (none: a set-up step).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "toml::Table")]
pub struct Step {
    pub action: Action,
    pub expect: Option<Expect>,
    /// Acceptable outcomes, the first preferred (`--strict` accepts only it).
    pub expect_any: Option<Vec<Expect>>,
}

/// Declares the step kinds once: the [`Action`] enum, its names and the parse by `do`.
macro_rules! actions {
    ($($(#[$m:meta])* $name:literal => $variant:ident($ty:ty),)*) => {
        /// What a step does (`do = "..."`), with the fields of that kind.
        #[derive(Debug, Clone)]
        pub enum Action { $($(#[$m])* $variant($ty),)* }

        impl Action {
            /// Every step kind's `do` name.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The step kind's `do` name.
            pub fn name(&self) -> &'static str {
                match self { $(Action::$variant(_) => $name,)* }
            }

            fn parse(kind: &str, fields: toml::Table) -> Result<Action, String> {
                match kind {
                    $($name => toml::Value::Table(fields)
                        .try_into::<$ty>()
                        .map(Action::$variant)
                        .map_err(|e| e.message().to_string()),)*
                    other => Err(format!(
                        "do = {other:?} is not a step kind (known: {})",
                        Self::NAMES.join(", ")
                    )),
                }
            }
        }
    };
}

actions! {
    "authorize" => Authorize(AuthorizeStep),
    /// The authorization_code grant with an actor token.
    "token" => Token(TokenRequest),
    /// The token request of an earlier step, sent again.
    "replay" => Replay(ReplayStep),
    /// One token request sent `count` times at once (code redemption races).
    "parallel_token" => ParallelToken(ParallelTokenStep),
    /// An actor token obtained and kept for later steps.
    "actor_token" => ActorToken(ActorTokenStep),
    "advance_clock" => AdvanceClock(AdvanceClockStep),
    "wait" => Wait(WaitStep),
    "disable_actor" => DisableActor(ActorStep),
    "enable_actor" => EnableActor(ActorStep),
    "revoke_consent" => RevokeConsent(RevokeConsentStep),
    "refresh" => Refresh(RefreshStep),
    /// One refresh token presented `count` times at once (rotation races).
    "parallel_refresh" => ParallelRefresh(ParallelRefreshStep),
    "introspect" => Introspect(IntrospectStep),
    "revoke" => Revoke(RevokeStep),
    "resource" => Resource(ResourceStep),
    "get" => Get(GetStep),
}

/// Why a step table is not a step; the loader adds the file, line and step index.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{kind}` step: {problem}")]
pub struct StepError {
    /// The `do` of the step, as written.
    pub kind: String,
    /// What is wrong, naming the field.
    pub problem: String,
}

impl TryFrom<toml::Table> for Step {
    type Error = StepError;

    fn try_from(mut table: toml::Table) -> Result<Step, StepError> {
        let kind = match table.remove("do") {
            Some(toml::Value::String(k)) => k,
            other => {
                return Err(StepError {
                    kind: String::new(),
                    problem: match other {
                        Some(v) => format!("do = {v} is not a string"),
                        None => "missing field `do`".into(),
                    },
                })
            }
        };
        let fail = |problem: String| StepError {
            kind: kind.clone(),
            problem,
        };
        let expect = table
            .remove("expect")
            .map(|v| v.try_into::<Expect>())
            .transpose()
            .map_err(|e| fail(format!("expect: {}", e.message())))?;
        let expect_any = table
            .remove("expect_any")
            .map(|v| v.try_into::<Vec<Expect>>())
            .transpose()
            .map_err(|e| fail(format!("expect_any: {}", e.message())))?;
        let action = Action::parse(&kind, table).map_err(fail)?;
        Ok(Step {
            action,
            expect,
            expect_any,
        })
    }
}

/// The request edits a step may make after the normal request is built: `params` (set),
/// `omit`, `append` (add a second value), `duplicate` (repeat a parameter).
#[derive(Debug, Clone, Copy, Default)]
pub struct Edits<'a> {
    pub params: Option<&'a ParamTable>,
    pub omit: Option<&'a [String]>,
    pub append: Option<&'a ParamTable>,
    pub duplicate: Option<&'a [String]>,
}

/// Declares a step that sends a form request: its own fields plus the four request edits
/// (`params`, `omit`, `append`, `duplicate`) and their [`Edits`], so every such step takes the
/// same edits under the same names. The struct denies unknown fields like every step (serde's
/// `flatten` would lose that).
macro_rules! form_step {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident: $t:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
            /// Parameters set or overridden after the normal request is built.
            pub params: Option<ParamTable>,
            /// Parameters removed.
            pub omit: Option<Vec<String>>,
            /// Parameters added a second time with another value.
            pub append: Option<ParamTable>,
            /// Parameters repeated with the same value.
            pub duplicate: Option<Vec<String>>,
        }

        impl $name {
            /// The request edits this step makes.
            pub fn edits(&self) -> Edits<'_> {
                Edits {
                    params: self.params.as_ref(),
                    omit: self.omit.as_deref(),
                    append: self.append.as_ref(),
                    duplicate: self.duplicate.as_deref(),
                }
            }
        }
    };
}

form_step! {
    /// `authorize`: an authorization request driven through login and consent.
    pub struct AuthorizeStep {
        pub client: Option<ClientName>,
        pub actor: Option<RequestedActor>,
        pub scope: Option<String>,
        pub pkce: Option<Pkce>,
        pub method: Option<HttpMethod>,
        pub consent: Option<Consent>,
        pub user: Option<UserName>,
        /// The name later steps use for this authorization (default `code`).
        pub save: Option<String>,
    }
}

form_step! {
    /// The fields of an authorization_code token request, shared by `token` and `parallel_token`.
    pub struct TokenRequest {
        /// The authorization whose code is redeemed (default: the last one).
        pub code: Option<String>,
        pub client: Option<ClientName>,
        pub actor_token: Option<ActorTokenChoice>,
        /// A forgery or claim defect applied to the actor token (digest ADV-3..ADV-9).
        pub forge: Option<ForgeSpec>,
        pub method: Option<HttpMethod>,
        pub auth: Option<ClientAuth>,
        /// The name later steps use for the tokens (default `tokens`).
        pub save: Option<String>,
    }
}

/// `replay`: an earlier step's token request, sent again.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayStep {
    /// The 0-based index of the token or refresh step to replay (default: the last token step).
    pub of: Option<usize>,
}

/// `parallel_token` and `parallel_refresh`: one request and how many copies race.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "toml::Table")]
#[serde(bound(deserialize = "R: serde::de::DeserializeOwned"))]
pub struct Parallel<R> {
    /// 2 to 64 (default 8).
    pub count: Option<usize>,
    pub request: R,
}

/// `parallel_token`: one code redeemed `count` times at once.
pub type ParallelTokenStep = Parallel<TokenRequest>;
/// `parallel_refresh`: one refresh token presented `count` times at once.
pub type ParallelRefreshStep = Parallel<RefreshStep>;

impl<R> Parallel<R> {
    pub const DEFAULT_COUNT: usize = 8;

    pub fn count(&self) -> usize {
        self.count.unwrap_or(Self::DEFAULT_COUNT)
    }
}

/// `count` is this step's own; every other field is the request's ([`TokenRequest`],
/// [`RefreshStep`]).
impl<R: serde::de::DeserializeOwned> TryFrom<toml::Table> for Parallel<R> {
    type Error = String;

    fn try_from(mut table: toml::Table) -> Result<Self, String> {
        let count = table
            .remove("count")
            .map(|v| v.try_into::<usize>())
            .transpose()
            .map_err(|e| format!("count: {}", e.message()))?;
        let request = toml::Value::Table(table)
            .try_into::<R>()
            .map_err(|e| e.message().to_string())?;
        Ok(Parallel { count, request })
    }
}

/// `actor_token`: a genuine actor token, kept under `save` (default: the actor's name).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorTokenStep {
    pub actor: Option<ActorName>,
    pub save: Option<String>,
}

/// `advance_clock`: moves the target's clock (control API), or waits out `expires` in real time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClockStep {
    pub seconds: i64,
    pub expires: Option<Lifetime>,
}

/// `wait`: a real-time pause of 0 to 10 seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    pub seconds: i64,
}

/// `disable_actor`, `enable_actor`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorStep {
    pub actor: ActorName,
}

/// `revoke_consent`: the stored consent of (user, client, actor) withdrawn (control API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeConsentStep {
    pub actor: Option<ActorName>,
    pub client: Option<ClientName>,
}

form_step! {
    /// `refresh`: the refresh_token grant with a saved refresh token.
    pub struct RefreshStep {
        pub tokens: Option<String>,
        pub client: Option<ClientName>,
        pub save: Option<String>,
    }
}

form_step! {
    /// `introspect` (RFC 7662).
    pub struct IntrospectStep {
        pub token: Option<IntrospectToken>,
        pub tokens: Option<String>,
        /// The client that asks (default: the primary client).
        pub client: Option<ClientName>,
        /// How that client authenticates (default: as its profile says).
        pub auth: Option<ClientAuth>,
        /// A signature forgery applied to the token before it is sent.
        pub forge: Option<Forgery>,
    }
}

form_step! {
    /// `revoke` (RFC 7009); `token = "saved:NAME"` revokes a kept actor token as `actor`.
    pub struct RevokeStep {
        pub token: Option<RevokeToken>,
        pub tokens: Option<String>,
        pub actor: Option<ActorName>,
        /// The client that asks (default: the one the tokens were issued to).
        pub client: Option<ClientName>,
        /// How that client authenticates (default: as its profile says).
        pub auth: Option<ClientAuth>,
        /// A signature forgery applied to the token before it is sent.
        pub forge: Option<Forgery>,
    }
}

/// `resource`: a request to the protected resource with a genuine, forged or minted token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceStep {
    pub path: Option<ResourcePath>,
    pub token: Option<ResourceToken>,
    /// Only signature forgeries: the access token's claims are the target's own.
    pub forge: Option<Forgery>,
    /// Claims merged over the saved access token's for `token = "minted"`.
    pub mint: Option<ParamTable>,
    pub tokens: Option<String>,
}

/// `get`: metadata, the JWKS, or any URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetStep {
    pub url: GetUrl,
}

impl Action {
    /// The request edits of a step that sends a form request.
    pub fn edits(&self) -> Option<Edits<'_>> {
        match self {
            Action::Authorize(a) => Some(a.edits()),
            Action::Token(r) | Action::ParallelToken(Parallel { request: r, .. }) => {
                Some(r.edits())
            }
            Action::Refresh(r) | Action::ParallelRefresh(Parallel { request: r, .. }) => {
                Some(r.edits())
            }
            Action::Introspect(r) => Some(r.edits()),
            Action::Revoke(r) => Some(r.edits()),
            _ => None,
        }
    }

    /// Kinds that change server-wide state: the case runs alone.
    pub fn is_exclusive(&self) -> bool {
        matches!(
            self,
            Action::AdvanceClock(_) | Action::DisableActor(_) | Action::EnableActor(_)
        )
    }
}

impl Step {
    /// A step with expectations is a check; one without is set-up.
    pub fn is_check(&self) -> bool {
        self.expect.is_some() || self.expect_any.is_some()
    }

    /// Every expectation table of the step (`expect`, then each of `expect_any`).
    pub fn expectations(&self) -> impl Iterator<Item = &Expect> {
        self.expect.iter().chain(self.expect_any.iter().flatten())
    }

    /// The ambiguity this step's accepted outcomes illustrate, if annotated.
    pub fn reading(&self) -> Option<&str> {
        self.expectations().find_map(|e| e.reading.as_deref())
    }
}
