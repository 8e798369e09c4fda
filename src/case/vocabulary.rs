//! The closed name sets of the case language (cases/README.md), each defined once: a step's
//! `client`, `actor`, `pkce`, `consent`, `auth` ... are these types, so serde refuses a value
//! outside the set with a message that names the field and lists the known values, and the
//! interpreter matches on variants, never on strings.

use std::str::FromStr;

/// A name that is not in a vocabulary; the message names the field and lists the known names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}` (known: {known})")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
    pub known: String,
}

pub(crate) fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// Declares a closed name vocabulary: the enum, `ALL`, `name()`, `Display`, `FromStr` and a
/// `Deserialize` through `FromStr` (so the refusal lists the known names).
macro_rules! vocabulary {
    ($(#[$m:meta])* $ty:ident, $what:literal { $($(#[$vm:meta])* $v:ident => $name:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $ty { $($(#[$vm])* $v,)* }

        impl $ty {
            pub const ALL: [$ty; [$($name,)*].len()] = [$($ty::$v,)*];

            /// The case-language name.
            pub fn name(self) -> &'static str {
                match self { $($ty::$v => $name,)* }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::case::vocabulary::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::ALL.into_iter().find(|v| v.name() == s).ok_or_else(|| {
                    $crate::case::vocabulary::UnknownName {
                        what: $what,
                        name: s.to_string(),
                        known: $crate::case::vocabulary::known(Self::ALL.iter().map(|v| v.name())),
                    }
                })
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary! {
    /// `client`: which of the profile's clients makes the request.
    ClientName, "client" {
        Primary => "primary",
        Second => "second",
        Public => "public",
    }
}

vocabulary! {
    /// `actor` of most steps: one of the profile's actors.
    ActorName, "actor" {
        A => "a",
        B => "b",
        Disabled => "disabled",
    }
}

vocabulary! {
    /// `actor` of an `authorize` step: an actor to name in `requested_actor`, or `none` for a
    /// plain authorization request (AMB-2).
    RequestedActor, "actor" {
        A => "a",
        B => "b",
        Disabled => "disabled",
        None => "none",
    }
}

impl RequestedActor {
    /// The actor named in the request; `None` for a plain request.
    pub fn actor(self) -> Option<ActorName> {
        match self {
            RequestedActor::A => Some(ActorName::A),
            RequestedActor::B => Some(ActorName::B),
            RequestedActor::Disabled => Some(ActorName::Disabled),
            RequestedActor::None => None,
        }
    }
}

vocabulary! {
    /// `user`: who signs in at the authorization endpoint.
    UserName, "user" {
        Primary => "primary",
        Second => "second",
    }
}

vocabulary! {
    /// `pkce`: the code challenge method of an `authorize` step (`none`: no challenge).
    Pkce, "pkce" {
        S256 => "S256",
        Plain => "plain",
        None => "none",
    }
}

vocabulary! {
    /// `method`: the HTTP method of an authorization or token request.
    HttpMethod, "method" {
        Get => "GET",
        Post => "POST",
    }
}

vocabulary! {
    /// `consent`: what the consent driver does on the consent page.
    Consent, "consent" {
        Approve => "approve",
        Deny => "deny",
        /// Drive the login only and report whether a consent page appeared.
        Observe => "observe",
        /// Post the login form without its anti-CSRF value, then approve (RFC 6749 §10.12).
        LoginWithoutCsrf => "login_without_csrf",
        /// Post the login form with a wrong anti-CSRF value, then approve.
        LoginWithWrongCsrf => "login_with_wrong_csrf",
        /// Sign in, then post the consent form's approval without its anti-CSRF value.
        ApproveWithoutCsrf => "approve_without_csrf",
        /// Sign in, then post the consent form's approval with a wrong anti-CSRF value.
        ApproveWithWrongCsrf => "approve_with_wrong_csrf",
    }
}

impl Consent {
    /// Everything but a plain approval needs a driver that sees the pages (not auto-consent):
    /// a denial, an observation, a forged post.
    pub fn needs_interactive_driver(self) -> bool {
        !matches!(self, Consent::Approve)
    }

    /// What this value observes depends on the stored consent of the (user, client, actor)
    /// triple: a parallel case approving the same triple would change it, so the case runs alone.
    pub fn depends_on_stored_consent(self) -> bool {
        matches!(
            self,
            Consent::Deny
                | Consent::Observe
                | Consent::ApproveWithoutCsrf
                | Consent::ApproveWithWrongCsrf
        )
    }
}

vocabulary! {
    /// `auth`: how a token request authenticates the client. `wrong_secret_basic` sends a wrong
    /// secret in HTTP Basic whatever the profile's method (RFC 6749 §2.3.1, §5.2).
    ClientAuth, "auth" {
        Profile => "profile",
        None => "none",
        WrongSecret => "wrong_secret",
        WrongSecretBasic => "wrong_secret_basic",
        /// A wrong secret of the real one's length, differing from it in two characters by
        /// the same bit: only a comparison of every byte refuses it (RFC 6749 §2.3.1).
        NearSecret => "near_secret",
    }
}

vocabulary! {
    /// `expires` of `advance_clock`: the lifetime the advance outlives, so a target without a
    /// clock operation can wait it out in real time instead (`[time]` of the profile).
    Lifetime, "expires" {
        ActorToken => "actor_token",
        Code => "code",
        AccessToken => "access_token",
    }
}

vocabulary! {
    /// `token` of an `introspect` step: which token of a tokens record.
    IntrospectToken, "token" {
        Access => "access",
        Refresh => "refresh",
        Actor => "actor",
    }
}

vocabulary! {
    /// `token` of a `resource` step: what rides in the `Authorization` header.
    ResourceToken, "token" {
        Access => "access",
        None => "none",
        Actor => "actor",
        /// Signed by the target through the control API's `mint` (needs a `mint` table).
        Minted => "minted",
    }
}

/// A name with a `saved:` prefix: an actor token kept by an `actor_token` step.
fn saved_name(s: &str) -> Option<&str> {
    s.strip_prefix("saved:").filter(|n| !n.is_empty())
}

/// `token` of a `revoke` step: a token of a tokens record, or `saved:NAME`, an actor token
/// kept by an `actor_token` step (revoked as the actor it was issued to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevokeToken {
    Access,
    Refresh,
    Saved(String),
}

impl RevokeToken {
    /// The case-language spelling.
    pub fn name(&self) -> String {
        match self {
            RevokeToken::Access => "access".into(),
            RevokeToken::Refresh => "refresh".into(),
            RevokeToken::Saved(n) => format!("saved:{n}"),
        }
    }
}

impl FromStr for RevokeToken {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "access" => Ok(RevokeToken::Access),
            "refresh" => Ok(RevokeToken::Refresh),
            s => saved_name(s)
                .map(|n| RevokeToken::Saved(n.to_string()))
                .ok_or_else(|| UnknownName {
                    what: "token",
                    name: s.to_string(),
                    known: "access, refresh, saved:NAME".into(),
                }),
        }
    }
}

/// `actor_token` of a token request: whose token is presented, or a deliberate substitute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActorTokenChoice {
    /// A genuine token of this actor (forgeable with `forge`).
    Actor(ActorName),
    /// No `actor_token` parameter.
    None,
    /// The user's access token from an earlier token step (OBO-TOKEN-3).
    UserAccessToken,
    /// The user's access token re-minted with `sub` = actor a (needs `control_mint`).
    AccessTokenWithActorSub,
    /// A string that is not a JWT.
    Garbage,
    /// An actor token kept by an `actor_token` step.
    Saved(String),
}

impl ActorTokenChoice {
    const FIXED: [(&'static str, ActorTokenChoice); 7] = [
        ("a", ActorTokenChoice::Actor(ActorName::A)),
        ("b", ActorTokenChoice::Actor(ActorName::B)),
        ("disabled", ActorTokenChoice::Actor(ActorName::Disabled)),
        ("none", ActorTokenChoice::None),
        ("user_access_token", ActorTokenChoice::UserAccessToken),
        (
            "access_token_with_actor_sub",
            ActorTokenChoice::AccessTokenWithActorSub,
        ),
        ("garbage", ActorTokenChoice::Garbage),
    ];

    /// The case-language spelling.
    pub fn name(&self) -> String {
        match self {
            ActorTokenChoice::Saved(n) => format!("saved:{n}"),
            other => Self::FIXED
                .iter()
                .find(|(_, c)| c == other)
                .map(|(n, _)| (*n).to_string())
                .unwrap_or_default(),
        }
    }
}

impl FromStr for ActorTokenChoice {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((_, c)) = Self::FIXED.iter().find(|(n, _)| *n == s) {
            return Ok(c.clone());
        }
        saved_name(s)
            .map(|n| ActorTokenChoice::Saved(n.to_string()))
            .ok_or_else(|| UnknownName {
                what: "actor_token",
                name: s.to_string(),
                known: format!("{}, saved:NAME", known(Self::FIXED.iter().map(|(n, _)| *n))),
            })
    }
}

/// `path` of a `resource` step: which of the profile's resource URLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourcePath {
    Default,
    Write,
    /// `actor:NAME`: the per-actor URL (`resource.actor_url`) for that actor.
    Actor(ActorName),
}

impl ResourcePath {
    /// The case-language spelling.
    pub fn name(self) -> String {
        match self {
            ResourcePath::Default => "default".into(),
            ResourcePath::Write => "write".into(),
            ResourcePath::Actor(a) => format!("actor:{a}"),
        }
    }
}

impl FromStr for ResourcePath {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "default" => Ok(ResourcePath::Default),
            "write" => Ok(ResourcePath::Write),
            s => s
                .strip_prefix("actor:")
                .and_then(|a| a.parse().ok())
                .map(ResourcePath::Actor)
                .ok_or_else(|| UnknownName {
                    what: "path",
                    name: s.to_string(),
                    known: "default, write, actor:a, actor:b, actor:disabled".into(),
                }),
        }
    }
}

/// `url` of a `get` step: the target's metadata or JWKS, or an absolute URL (`${...}` allowed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GetUrl {
    Metadata,
    Jwks,
    Absolute(String),
}

impl GetUrl {
    /// The case-language spelling.
    pub fn name(&self) -> &str {
        match self {
            GetUrl::Metadata => "metadata",
            GetUrl::Jwks => "jwks",
            GetUrl::Absolute(u) => u,
        }
    }
}

impl FromStr for GetUrl {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "metadata" => Ok(GetUrl::Metadata),
            "jwks" => Ok(GetUrl::Jwks),
            s if s.contains("://") => Ok(GetUrl::Absolute(s.to_string())),
            s => Err(UnknownName {
                what: "url",
                name: s.to_string(),
                known: "metadata, jwks, an absolute URL".into(),
            }),
        }
    }
}

/// `Deserialize` through `FromStr` for the vocabularies with a free part (`saved:NAME`, URLs).
macro_rules! deserialize_from_str {
    ($($ty:ty),*) => {$(
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
pub(crate) use deserialize_from_str;

deserialize_from_str!(RevokeToken, ActorTokenChoice, ResourcePath, GetUrl);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_form_names_parse_and_unknown_ones_list_the_vocabulary() {
        assert_eq!("saved:x".parse(), Ok(ActorTokenChoice::Saved("x".into())));
        assert_eq!("b".parse(), Ok(ActorTokenChoice::Actor(ActorName::B)));
        let e = "c".parse::<ActorTokenChoice>().unwrap_err().to_string();
        assert!(
            e.contains("unknown actor_token `c`") && e.contains("saved:NAME"),
            "{e}"
        );
        assert!("saved:".parse::<RevokeToken>().is_err());
        assert_eq!("actor:b".parse(), Ok(ResourcePath::Actor(ActorName::B)));
        assert!("actor:c".parse::<ResourcePath>().is_err());
        assert_eq!("jwks".parse(), Ok(GetUrl::Jwks));
        assert!("elsewhere".parse::<GetUrl>().is_err());
        for c in ActorTokenChoice::FIXED.iter().map(|(_, c)| c) {
            assert_eq!(c.name().parse().as_ref(), Ok(c));
        }
    }
}
