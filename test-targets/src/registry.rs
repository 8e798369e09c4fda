//! The demo registry: clients, actors, users, scopes, and the trusted external actor-token issuer.
//! Names differ from the reference server's on purpose (test-targets/README.md lists them).

/// An OAuth client. `secret: None` is a public client (PKCE only).
#[derive(Debug, Clone)]
pub struct ClientReg {
    pub id: String,
    pub name: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
}

/// An actor (AI agent): also a confidential "actor client" for client_credentials (AMB-7).
#[derive(Debug, Clone)]
pub struct ActorReg {
    pub id: String,
    pub display: String,
    pub secret: String,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct UserReg {
    pub username: String,
    pub password: String,
    /// The subject access tokens carry; disjoint from actor ids (AMB-20).
    pub sub: String,
}

/// An issuer of actor assertions the AS trusts besides itself (an agent identity provider).
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    pub iss: String,
    /// SPKI PEM of its ES256 key.
    pub public_pem: String,
}

#[derive(Debug, Clone)]
pub struct Registry {
    pub clients: Vec<ClientReg>,
    pub actors: Vec<ActorReg>,
    pub users: Vec<UserReg>,
    pub scopes: Vec<String>,
    pub default_scope: String,
    pub trusted_issuers: Vec<TrustedIssuer>,
}

/// Issuer of the bundled test actor-assertion key (keys/actor-issuer.key.pem).
pub const TEST_ACTOR_ISSUER: &str = "https://actor-issuer.test";
/// Its public key. The private half is test material, published on purpose.
pub const TEST_ACTOR_ISSUER_PUBLIC_PEM: &str = include_str!("../keys/actor-issuer.pub.pem");

impl Default for Registry {
    fn default() -> Self {
        let client = |id: &str, name: &str, secret: Option<&str>, redirect: &str| ClientReg {
            id: id.into(),
            name: name.into(),
            secret: secret.map(str::to_string),
            redirect_uri: redirect.into(),
        };
        let actor = |id: &str, display: &str, enabled: bool| ActorReg {
            id: id.into(),
            display: display.into(),
            secret: format!("{id}-pw"),
            enabled,
        };
        Registry {
            clients: vec![
                client(
                    "tt-app",
                    "Trip Planner App",
                    Some("tt-app-secret"),
                    "https://app.test/callback",
                ),
                client(
                    "tt-app-2",
                    "Second App",
                    Some("tt-app-2-secret"),
                    "https://app2.test/callback",
                ),
                client("tt-spa", "Browser App", None, "https://spa.test/callback"),
            ],
            actors: vec![
                actor("agent-a", "Agent A (booking)", true),
                actor("agent-b", "Agent B (expenses)", true),
                actor("agent-disabled", "Agent D (retired)", false),
            ],
            users: vec![
                UserReg {
                    username: "alice".into(),
                    password: "password".into(),
                    sub: "uid-alice".into(),
                },
                UserReg {
                    username: "bob".into(),
                    password: "password".into(),
                    sub: "uid-bob".into(),
                },
            ],
            scopes: vec!["docs.read".into(), "docs.write".into()],
            default_scope: "docs.read".into(),
            trusted_issuers: vec![TrustedIssuer {
                iss: TEST_ACTOR_ISSUER.into(),
                public_pem: TEST_ACTOR_ISSUER_PUBLIC_PEM.into(),
            }],
        }
    }
}

impl Registry {
    pub fn client(&self, id: &str) -> Option<&ClientReg> {
        self.clients.iter().find(|c| c.id == id)
    }

    pub fn actor(&self, id: &str) -> Option<&ActorReg> {
        self.actors.iter().find(|a| a.id == id)
    }

    pub fn user(&self, username: &str) -> Option<&UserReg> {
        self.users.iter().find(|u| u.username == username)
    }
}
