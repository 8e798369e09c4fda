//! The named switches that shape the target: quirks (conforming variations real deployments
//! show) and defects (each breaks one requirement of the draft or an RFC it relies on).

/// A conforming variation. A correct suite gives 0 fail and 0 error with any of them on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quirk {
    RelativeRedirect,
    CookiesRequired,
    IssOnCallback,
    NoAzp,
    JwtNotIntrospectable,
    RevokeUnsupportedAccess,
    TokenGet404,
    TokenGet405,
    ErrorsWithoutPragma,
    OboOnly,
    OneUrlInteraction,
    ConsentAtAuthorize,
    OwnControlApi,
    ShortTtls,
}

impl Quirk {
    pub const ALL: &'static [Quirk] = &[
        Quirk::RelativeRedirect,
        Quirk::CookiesRequired,
        Quirk::IssOnCallback,
        Quirk::NoAzp,
        Quirk::JwtNotIntrospectable,
        Quirk::RevokeUnsupportedAccess,
        Quirk::TokenGet404,
        Quirk::TokenGet405,
        Quirk::ErrorsWithoutPragma,
        Quirk::OboOnly,
        Quirk::OneUrlInteraction,
        Quirk::ConsentAtAuthorize,
        Quirk::OwnControlApi,
        Quirk::ShortTtls,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Quirk::RelativeRedirect => "relative-redirect",
            Quirk::CookiesRequired => "cookies-required",
            Quirk::IssOnCallback => "iss-on-callback",
            Quirk::NoAzp => "no-azp",
            Quirk::JwtNotIntrospectable => "jwt-not-introspectable",
            Quirk::RevokeUnsupportedAccess => "revoke-unsupported-access",
            Quirk::TokenGet404 => "token-get-404",
            Quirk::TokenGet405 => "token-get-405",
            Quirk::ErrorsWithoutPragma => "errors-without-pragma",
            Quirk::OboOnly => "obo-only",
            Quirk::OneUrlInteraction => "one-url-interaction",
            Quirk::ConsentAtAuthorize => "consent-at-authorize",
            Quirk::OwnControlApi => "own-control-api",
            Quirk::ShortTtls => "short-ttls",
        }
    }

    pub fn about(self) -> &'static str {
        match self {
            Quirk::RelativeRedirect => "login/consent hops are 303 with a relative Location",
            Quirk::CookiesRequired => "the authorization flow needs the browser cookie set at /authorize",
            Quirk::IssOnCallback => "RFC 9207 `iss` on the authorization response",
            Quirk::NoAzp => "access tokens name the client in `client_id` only, no `azp`",
            Quirk::JwtNotIntrospectable => "no introspection endpoint, none advertised",
            Quirk::RevokeUnsupportedAccess => {
                "revoking an access token: 400 unsupported_token_type (RFC 7009 2.2.1)"
            }
            Quirk::TokenGet404 => "GET /token answers 404",
            Quirk::TokenGet405 => "GET /token answers 405 with Allow: POST",
            Quirk::ErrorsWithoutPragma => {
                "error responses carry no Cache-Control/Pragma (token responses do)"
            }
            Quirk::OboOnly => "an authorization request without requested_actor is refused (AMB-2)",
            Quirk::OneUrlInteraction => "login and consent served from one /interaction/<uid> URL",
            Quirk::ConsentAtAuthorize => {
                "when signed in, the consent page is served at the authorization URL"
            }
            Quirk::OwnControlApi => "a test API of its own under /__admin (test-targets/README.md)",
            Quirk::ShortTtls => "code and actor-token lifetimes of 10 s, clock skew 1 s",
        }
    }

    pub fn from_name(name: &str) -> Option<Quirk> {
        Quirk::ALL.iter().copied().find(|q| q.name() == name)
    }
}

/// A deliberate violation. A correct suite fails at least one case citing `requirements()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Defect {
    IgnoresObo,
    Errors200,
    ActorCaseInsensitive,
    ExpiredActorTokenAccepted,
    DisabledActorTokenAccepted,
    ConsentReusedAcrossActors,
    DenyIssuesCode,
    FrameablePages,
    UserTokenAsActorToken,
    ActMissing,
    CodeReplayAccepted,
    PkceUnchecked,
    RefreshScopeEscalation,
    RefreshOtherClient,
}

impl Defect {
    pub const ALL: &'static [Defect] = &[
        Defect::IgnoresObo,
        Defect::Errors200,
        Defect::ActorCaseInsensitive,
        Defect::ExpiredActorTokenAccepted,
        Defect::DisabledActorTokenAccepted,
        Defect::ConsentReusedAcrossActors,
        Defect::DenyIssuesCode,
        Defect::FrameablePages,
        Defect::UserTokenAsActorToken,
        Defect::ActMissing,
        Defect::CodeReplayAccepted,
        Defect::PkceUnchecked,
        Defect::RefreshScopeEscalation,
        Defect::RefreshOtherClient,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Defect::IgnoresObo => "ignores-obo",
            Defect::Errors200 => "errors-200",
            Defect::ActorCaseInsensitive => "actor-case-insensitive",
            Defect::ExpiredActorTokenAccepted => "expired-actor-token-accepted",
            Defect::DisabledActorTokenAccepted => "disabled-actor-token-accepted",
            Defect::ConsentReusedAcrossActors => "consent-reused-across-actors",
            Defect::DenyIssuesCode => "deny-issues-code",
            Defect::FrameablePages => "frameable-pages",
            Defect::UserTokenAsActorToken => "user-token-as-actor-token",
            Defect::ActMissing => "act-missing",
            Defect::CodeReplayAccepted => "code-replay-accepted",
            Defect::PkceUnchecked => "pkce-unchecked",
            Defect::RefreshScopeEscalation => "refresh-scope-escalation",
            Defect::RefreshOtherClient => "refresh-other-client",
        }
    }

    /// The requirement IDs (cases/requirements.toml) the defect breaks.
    pub fn requirements(self) -> &'static [&'static str] {
        match self {
            Defect::IgnoresObo => &["OBO-TOKEN-12", "OBO-AT-3", "OBO-AT-5"],
            Defect::Errors200 => &["OBO-INH-8", "OBO-TOKEN-14"],
            Defect::ActorCaseInsensitive => &["OBO-TOKEN-12"],
            Defect::ExpiredActorTokenAccepted => &["OBO-TOKEN-11"],
            Defect::DisabledActorTokenAccepted => &["OBO-TOKEN-10"],
            Defect::ConsentReusedAcrossActors => &["OBO-AUTHZ-15", "OBO-AUTHZ-11"],
            Defect::DenyIssuesCode => &["OBO-AUTHZ-15"],
            Defect::FrameablePages => &["OBO-INH-15"],
            Defect::UserTokenAsActorToken => &["OBO-TOKEN-3", "OBO-INH-20"],
            Defect::ActMissing => &["OBO-AT-3"],
            Defect::CodeReplayAccepted => &["OBO-SEC-3", "OBO-INH-5"],
            Defect::PkceUnchecked => &["OBO-SEC-2", "OBO-TOKEN-7"],
            Defect::RefreshScopeEscalation => &["OBO-INH-9"],
            Defect::RefreshOtherClient => &["OBO-SEC-6", "OBO-INH-6"],
        }
    }

    pub fn about(self) -> &'static str {
        match self {
            Defect::IgnoresObo => "ignores requested_actor and actor_token: plain code flow, no act",
            Defect::Errors200 => "error responses use status 200 with the error body",
            Defect::ActorCaseInsensitive => "actor token sub matched to the bound actor ignoring case",
            Defect::ExpiredActorTokenAccepted => "actor token exp not checked",
            Defect::DisabledActorTokenAccepted => "a disabled actor's valid token is accepted",
            Defect::ConsentReusedAcrossActors => "stored consent keyed by (user, client), not actor",
            Defect::DenyIssuesCode => "Deny on the consent page still issues a code",
            Defect::FrameablePages => "login and consent pages carry no frame-blocking header",
            Defect::UserTokenAsActorToken => "an own access token is accepted as an actor token",
            Defect::ActMissing => "OBO access tokens carry no act claim",
            Defect::CodeReplayAccepted => "a code can be redeemed more than once",
            Defect::PkceUnchecked => "code_verifier not compared with the code_challenge",
            Defect::RefreshScopeEscalation => "refresh grants any requested scope",
            Defect::RefreshOtherClient => "a refresh token is redeemable by another client",
        }
    }

    pub fn from_name(name: &str) -> Option<Defect> {
        Defect::ALL.iter().copied().find(|d| d.name() == name)
    }
}
