//! Target profiles: the TOML file that tells the harness how to drive one implementation.
//!
//! `profile_version = 1`. Every table denies unknown fields, so a typo is an error naming the
//! field and line; [`validate`] then checks what serde cannot (URLs, methods that need a secret,
//! capabilities that need configuration). [`resolve`] turns a profile into a [`Target`]: RFC 8414
//! discovery of the endpoints, the JWKS, the declared capabilities. The built-in `reference`,
//! `reference-form` and `reference-browser` profiles live in [`reference`].

pub mod control;
pub mod discovery;
#[cfg_attr(not(feature = "reference"), path = "no_reference.rs")]
pub mod reference;
pub mod schema;
pub mod validation;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use url::Url;

use crate::output::exit;

pub use discovery::{metadata_url, resolve};
pub use schema::*;
pub use validation::{toml_error, validate, Position, Problem};

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
    /// Every problem of a profile file, one per line: `FILE:LINE:COLUMN: field `F`: ...`.
    #[error("{}", problems.iter().map(|p| format!("{file}:{p}")).collect::<Vec<_>>().join("\n"))]
    Problems {
        file: String,
        problems: Vec<validation::Problem>,
    },
    #[error("target {0}")]
    Unreachable(String),
    /// Discovery names an endpoint on an origin the profile did not declare.
    #[error("target {0}")]
    CrossOrigin(String),
}

impl ProfileError {
    /// Exit code: [`exit::INVALID`] for invalid profiles, [`exit::HARNESS`] when the target
    /// cannot be reached.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProfileError::Unreachable(_) => exit::HARNESS,
            // The profile must say more (its endpoints, or that origins are split).
            ProfileError::CrossOrigin(_) => exit::INVALID,
            _ => exit::INVALID,
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
/// Every problem is reported at once, each with its line and column ([`validation::check`]).
pub fn parse(text: &str, file: &str, base: &Path) -> Result<Profile, ProfileError> {
    validation::check(text, base).map_err(|problems| ProfileError::Problems {
        file: file.to_string(),
        problems,
    })
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
