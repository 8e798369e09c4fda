//! The profile file's serde types (`profile_version = 1`). Every table denies unknown fields,
//! so a typo is an error naming the field and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

use super::control;

/// The JSON Schema of the profile file (draft 2020-12), generated from these types: what
/// `obo-conformance schema profile` prints and docs/profile.schema.json holds, for editors
/// (taplo / Even Better TOML read it through the template's `#:schema` line).
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(Profile);
    schema.insert(
        "$id".into(),
        "https://obo-conformance.example/schema/profile/1".into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// An obo-conformance target profile (`profile_version = 1`): how the harness drives one
/// implementation. See examples/targets/vendor-template.toml.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "obo-conformance target profile")]
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
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clients {
    pub primary: Client,
    pub second: Option<Client>,
    pub public: Option<Client>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Actors {
    pub a: Actor,
    pub b: Actor,
    pub disabled: Option<Actor>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The actor identifier (`requested_actor`, actor token `sub`).
    pub id: String,
    pub token: TokenSource,
}

/// Where an actor token comes from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "driver", rename_all = "snake_case", deny_unknown_fields)]
pub enum Consent {
    /// The authorization endpoint redirects back with a code by itself.
    Auto {},
    /// Page rules (`[[consent.page]]`) over plain HTTP: forms found with an HTML parser.
    /// Pages no rule matches are recognised by their shape (login form, consent buttons).
    Form {
        #[serde(rename = "page", default)]
        pages: Vec<FormPage>,
        /// The name of the login and consent forms' anti-CSRF field, for the cases that post
        /// them forged (RFC 6749 §10.12), when it is none of the usual names they recognise
        /// (hidden fields named csrf, _csrf, csrf_token, xsrf, authenticity_token,
        /// __RequestVerificationToken, _token, ... or containing csrf/xsrf).
        #[serde(default)]
        csrf_field: Option<String>,
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
            Consent::Form { pages, .. } | Consent::Browser { pages, .. } => pages,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageRole {
    Login,
    Consent,
    Other,
}

/// One page rule of the `form` and `browser` drivers: when the page fits every condition given
/// (`match`, `selector`, `text`), fill and press. A rule with no condition fits the pages whose
/// shape matches its role (login: a password field; consent: approve and deny controls).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Deserialize, JsonSchema)]
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
