//! The profile file's serde types (`profile_version = 1`). Every table denies unknown fields,
//! so a typo is an error naming the field and line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

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
}

/// The consent driver.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "driver", rename_all = "snake_case", deny_unknown_fields)]
pub enum Consent {
    /// The authorization endpoint redirects back with a code by itself.
    Auto {},
    /// Declarative form steps, one per page.
    Form {
        #[serde(rename = "page")]
        pages: Vec<FormPage>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageRole {
    Login,
    Consent,
    Other,
}

/// One page of the form driver: when the page URL matches, fill and submit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormPage {
    /// Glob (globset syntax) on the page URL without query, or a substring of its path.
    #[serde(rename = "match")]
    pub url_match: String,
    pub role: PageRole,
    /// CSS selector of the form; else the form containing `button`, else the only form.
    pub form: Option<String>,
    /// Text of the submit button to press (login/other pages).
    pub button: Option<String>,
    /// Field values; `${user.username}`, `${user.password}` expand.
    #[serde(default)]
    pub fill: BTreeMap<String, String>,
    /// Button texts on the consent page.
    pub approve: Option<String>,
    pub deny: Option<String>,
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
        }
    }
}
