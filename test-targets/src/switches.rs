//! The named switches that shape the target: quirks (conforming variations real deployments
//! show) and defects (each breaks one requirement of the draft or an RFC it relies on).

/// One enum per table: variant, `--quirk`/`--defect` name, description (and requirement IDs).
macro_rules! switches {
    ($(#[$doc:meta])* $ty:ident { $($v:ident => $name:literal, $about:literal $(, [$($req:literal),+])?;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty { $($v),+ }

        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$v),+];

            pub fn name(self) -> &'static str {
                match self { $($ty::$v => $name),+ }
            }

            pub fn about(self) -> &'static str {
                match self { $($ty::$v => $about),+ }
            }

            pub fn from_name(name: &str) -> Option<$ty> {
                $ty::ALL.iter().copied().find(|s| s.name() == name)
            }

            #[allow(dead_code)]
            fn cited(self) -> &'static [&'static str] {
                match self { $($ty::$v => &[$($($req),+)?]),+ }
            }
        }
    };
}

switches! {
    /// A conforming variation. A correct suite gives 0 fail and 0 error with any of them on.
    Quirk {
        RelativeRedirect => "relative-redirect", "login/consent hops are 303 with a relative Location";
        CookiesRequired => "cookies-required", "the authorization flow needs the browser cookie set at /authorize";
        IssOnCallback => "iss-on-callback", "RFC 9207 `iss` on the authorization response";
        NoAzp => "no-azp", "access tokens name the client in `client_id` only, no `azp`";
        JwtNotIntrospectable => "jwt-not-introspectable", "no introspection endpoint, none advertised";
        RevokeUnsupportedAccess => "revoke-unsupported-access", "revoking an access token: 400 unsupported_token_type (RFC 7009 2.2.1)";
        TokenGet404 => "token-get-404", "GET /token answers 404";
        TokenGet405 => "token-get-405", "GET /token answers 405 with Allow: POST";
        ErrorsWithoutPragma => "errors-without-pragma", "error responses carry no Cache-Control/Pragma (token responses do)";
        OboOnly => "obo-only", "an authorization request without requested_actor is refused (AMB-2)";
        OneUrlInteraction => "one-url-interaction", "login and consent served from one /interaction/<uid> URL";
        ConsentAtAuthorize => "consent-at-authorize", "when signed in, the consent page is served at the authorization URL";
        ConsentEveryTime => "consent-every-time", "no stored consent: every authorization shows the consent page";
        OwnControlApi => "own-control-api", "a test API of its own under /__admin (test-targets/README.md)";
        ShortTtls => "short-ttls", "code and actor-token lifetimes of 10 s, clock skew 1 s";
    }
}

switches! {
    /// A deliberate violation. A correct suite fails at least one case citing `requirements()`.
    Defect {
        IgnoresObo => "ignores-obo", "ignores requested_actor and actor_token: plain code flow, no act", ["OBO-TOKEN-12", "OBO-AT-3", "OBO-AT-5"];
        Errors200 => "errors-200", "error responses use status 200 with the error body", ["OBO-INH-8", "OBO-TOKEN-14"];
        ActorCaseInsensitive => "actor-case-insensitive", "actor token sub matched to the bound actor ignoring case", ["OBO-TOKEN-12"];
        ExpiredActorTokenAccepted => "expired-actor-token-accepted", "actor token exp not checked", ["OBO-TOKEN-11"];
        DisabledActorTokenAccepted => "disabled-actor-token-accepted", "a disabled actor's valid token is accepted", ["OBO-TOKEN-10"];
        ConsentReusedAcrossActors => "consent-reused-across-actors", "stored consent keyed by (user, client), not actor", ["OBO-AUTHZ-15", "OBO-AUTHZ-11"];
        DenyIssuesCode => "deny-issues-code", "Deny on the consent page still issues a code", ["OBO-AUTHZ-15"];
        FrameablePages => "frameable-pages", "login and consent pages carry no frame-blocking header", ["OBO-INH-15"];
        UserTokenAsActorToken => "user-token-as-actor-token", "an own access token is accepted as an actor token", ["OBO-TOKEN-3", "OBO-INH-20"];
        ActMissing => "act-missing", "OBO access tokens carry no act claim", ["OBO-AT-3"];
        CodeReplayAccepted => "code-replay-accepted", "a code can be redeemed more than once", ["OBO-SEC-3", "OBO-INH-5"];
        PkceUnchecked => "pkce-unchecked", "code_verifier not compared with the code_challenge", ["OBO-SEC-2", "OBO-TOKEN-7"];
        RefreshScopeEscalation => "refresh-scope-escalation", "refresh grants any requested scope", ["OBO-INH-9"];
        RefreshOtherClient => "refresh-other-client", "a refresh token is redeemable by another client", ["OBO-SEC-6", "OBO-INH-6"];
    }
}

impl Defect {
    /// The requirement IDs (cases/requirements.toml) the defect breaks.
    pub fn requirements(self) -> &'static [&'static str] {
        self.cited()
    }
}
