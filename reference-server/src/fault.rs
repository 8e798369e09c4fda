//! Fault switches: each one breaks exactly one check of the server, so that the suite can prove
//! it catches that defect. All are compiled into every build and off unless named.
//!
//! Each fault is tested by one `if` at the one place its check lives
//! (`grep -rn "Fault::Name" src/` finds it). The list below is the only place a fault is
//! defined: the `faults!` macro derives the enum, `Fault::ALL`, the names, the requirement IDs
//! and the descriptions from it.

/// Declares every fault once: `Variant, "kebab-name", [requirement IDs], "description";`.
/// A name given twice is an unreachable pattern in `from_name`, refused by the lints.
macro_rules! faults {
    ($($variant:ident, $name:literal, [$($req:literal),+ $(,)?], $desc:literal;)+) => {
        /// One deliberate defect.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Fault {
            $(#[doc = $desc] $variant,)+
        }

        impl Fault {
            /// Every fault, in a stable order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant),+];

            /// Stable kebab-case name (`--fault NAME`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Fault::$variant => $name,)+
                }
            }

            /// Requirement IDs of the digest that this fault breaks.
            pub fn requirements(self) -> &'static [&'static str] {
                match self {
                    $(Fault::$variant => &[$($req),+],)+
                }
            }

            /// One line saying what the defect is.
            pub fn description(self) -> &'static str {
                match self {
                    $(Fault::$variant => $desc,)+
                }
            }

            pub fn from_name(name: &str) -> Option<Fault> {
                match name {
                    $($name => Some(Fault::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

faults! {
    SkipActorBinding, "skip-actor-binding", ["OBO-TOKEN-12", "OBO-SEC-7", "OBO-SEC-8"],
        "the token endpoint does not compare the actor token's sub with the actor bound to the code";
    ActFromRequest, "act-from-request", ["OBO-AT-5"],
        "act.sub is taken from a requested_actor parameter of the token request instead of the code's binding";
    AcceptCodeReplay, "accept-code-replay", ["OBO-SEC-3", "OBO-INH-5"],
        "a used authorization code is accepted again";
    NonAtomicRedemption, "non-atomic-redemption", ["OBO-SEC-3", "OBO-INH-5"],
        "code redemption checks 'unused' and marks it used in two steps, so parallel redemptions race";
    CodeExpiryUnchecked, "code-expiry-unchecked", ["OBO-SEC-4", "OBO-INH-5"],
        "expired authorization codes are redeemed";
    ActorTokenSignatureUnchecked, "actor-token-signature-unchecked", ["OBO-TOKEN-10"],
        "the actor token's signature is not verified";
    ActorTokenAlgNone, "actor-token-alg-none", ["OBO-TOKEN-10", "OBO-INH-20"],
        "an unsigned actor token (alg none) is accepted";
    ActorTokenExpiryUnchecked, "actor-token-expiry-unchecked", ["OBO-TOKEN-11"],
        "expired (and not-yet-valid) actor tokens are accepted";
    ActorTokenEmbeddedJwk, "actor-token-embedded-jwk", ["OBO-TOKEN-10", "OBO-INH-20"],
        "the actor token is verified with a jwk embedded in its own header";
    ActorTokenIssuerUnchecked, "actor-token-issuer-unchecked", ["OBO-TOKEN-10"],
        "the actor token's iss is not compared with the trusted issuer";
    UserTokenAsActorToken, "user-token-as-actor-token", ["OBO-TOKEN-3", "OBO-INH-20"],
        "any token the AS signed passes as an actor token (no type/audience check; actor read from act.sub when present)";
    ActorMatchCaseInsensitive, "actor-match-case-insensitive", ["OBO-TOKEN-12", "OBO-AUTHZ-10"],
        "actor ids are compared case-insensitively";
    ActorTokenOptional, "actor-token-optional", ["OBO-TOKEN-2"],
        "a token request without actor_token is accepted for an actor-bound code";
    UnknownActorAccepted, "unknown-actor-accepted", ["OBO-AUTHZ-10", "OBO-AUTHZ-3"],
        "the authorization endpoint accepts a requested_actor that names no registered actor";
    DisabledActorAccepted, "disabled-actor-accepted", ["OBO-TOKEN-10", "OBO-AUTHZ-10"],
        "disabled actors are treated as enabled";
    PkceVerifierUnchecked, "pkce-verifier-unchecked", ["OBO-TOKEN-7", "OBO-SEC-2", "OBO-INH-10"],
        "the code_verifier is not compared with the stored code_challenge";
    PkceOptional, "pkce-optional", ["OBO-SEC-2", "OBO-AUTHZ-8", "OBO-INH-11"],
        "authorization requests without code_challenge are accepted";
    PkcePlainAccepted, "pkce-plain-accepted", ["OBO-SEC-2", "OBO-AUTHZ-8", "OBO-INH-10"],
        "code_challenge_method=plain (or absent) is accepted";
    SkipClientBinding, "skip-client-binding", ["OBO-SEC-6", "OBO-TOKEN-9", "OBO-INH-6"],
        "a code issued to one client is redeemed by another";
    ClientAuthSkipped, "client-auth-skipped", ["OBO-TOKEN-9", "OBO-INH-6"],
        "confidential clients' secrets are not verified at the token endpoint";
    RedirectUriNotCompared, "redirect-uri-not-compared", ["OBO-TOKEN-8", "OBO-INH-6"],
        "the token request's redirect_uri is not compared with the authorization request's";
    OpenRedirect, "open-redirect", ["OBO-INH-3", "OBO-AUTHZ-16"],
        "the authorization endpoint redirects to an unregistered redirect_uri";
    DuplicateParamsAccepted, "duplicate-params-accepted", ["OBO-INH-1", "OBO-AUTHZ-9"],
        "duplicated request parameters are accepted (first value wins)";
    ActOmitted, "act-omitted", ["OBO-AT-3"],
        "access tokens of the on-behalf-of flow carry no act claim";
    ActAsString, "act-as-string", ["OBO-AT-4"],
        "act is a string (the actor id) instead of an object";
    ActorInSub, "actor-in-sub", ["OBO-SEC-5", "OBO-AT-7"],
        "the access token's sub is the actor instead of the user";
    StateNotEchoed, "state-not-echoed", ["OBO-CODE-3"],
        "the authorization response omits state";
    ErrorsStatus200, "errors-status-200", ["OBO-TOKEN-14", "OBO-INH-8"],
        "token endpoint errors are sent with HTTP status 200";
    CacheHeadersMissing, "cache-headers-missing", ["OBO-INH-7", "OBO-TOKRESP-2", "OBO-TOKEN-14"],
        "token endpoint responses lack Cache-Control: no-store and Pragma: no-cache";
    ConsentReusedAcrossActors, "consent-reused-across-actors", ["OBO-AUTHZ-11", "OBO-AUTHZ-15"],
        "a stored consent for one actor silently covers another actor of the same user and client";
    ConsentDenyIgnored, "consent-deny-ignored", ["OBO-AUTHZ-15"],
        "a denied consent still yields an authorization code";
    ScopeEscalation, "scope-escalation", ["OBO-INH-9", "OBO-INH-13"],
        "a scope parameter at the token endpoint broadens the consented scope";
    RefreshDropsAct, "refresh-drops-act", ["OBO-AT-3"],
        "access tokens from the refresh_token grant lose the act claim";
    LegacyGrantAccepted, "legacy-grant-accepted", ["OBO-TOKEN-1"],
        "the -00 grant type URN is accepted by a -01/-02 server";
    RsIgnoresAct, "rs-ignores-act", ["OBO-RS-9"],
        "the resource server does not check the required actor";
    RsNestedActAccepted, "rs-nested-act-accepted", ["OBO-RS-9", "OBO-INH-17"],
        "the resource server accepts the required actor anywhere in a nested act chain";
    RsSignatureUnchecked, "rs-signature-unchecked", ["OBO-RS-3"],
        "the resource server does not verify access-token signatures";
    RsAudienceUnchecked, "rs-audience-unchecked", ["OBO-RS-5"],
        "the resource server does not check the access token's aud";
    RsExpiryUnchecked, "rs-expiry-unchecked", ["OBO-RS-6"],
        "the resource server accepts expired access tokens";
    RsScopeUnchecked, "rs-scope-unchecked", ["OBO-RS-8"],
        "the resource server does not check scopes";
    RsRevocationUnchecked, "rs-revocation-unchecked", ["OBO-RS-7"],
        "the resource server accepts revoked access tokens";
    RsIssuerUnchecked, "rs-issuer-unchecked", ["OBO-RS-4"],
        "the resource server does not check the access token's iss";
    RsAlgNoneAccepted, "rs-alg-none-accepted", ["OBO-RS-3", "OBO-INH-20"],
        "the resource server accepts unsigned (alg none) access tokens";
    RsTokenTypeUnchecked, "rs-token-type-unchecked", ["OBO-INH-18", "OBO-INH-20"],
        "the resource server takes any token the AS signed as an access token (typ and the audience meant for that kind not checked)";
    RsTokenOptional, "rs-token-optional", ["OBO-RS-2", "OBO-RS-10"],
        "the resource server serves requests without an access token";
    ActorIdNormalized, "actor-id-normalized", ["OBO-AUTHZ-3", "OBO-AUTHZ-10"],
        "requested_actor is trimmed of whitespace and control characters instead of being refused when malformed";
    PkceMethodUnchecked, "pkce-method-unchecked", ["OBO-AUTHZ-8", "OBO-INH-10"],
        "an unknown code_challenge_method is accepted (treated as S256)";
    ResponseTypeUnchecked, "response-type-unchecked", ["OBO-AUTHZ-4", "OBO-AUTHZ-9"],
        "a missing or unsupported response_type is treated as code";
    UnknownClientRedirect, "unknown-client-redirect", ["OBO-AUTHZ-4", "OBO-INH-3"],
        "a missing or unknown client_id gets an error redirect to the unvalidated redirect_uri instead of an error page";
    IntrospectIgnoresRevocation, "introspect-ignores-revocation", ["OBO-INH-23", "OBO-RS-7", "OBO-SEC-10"],
        "introspection reports revoked access tokens as active";
    ActInPlainFlow, "act-in-plain-flow", ["OBO-AT-5"],
        "tokens of a plain code flow (no requested_actor) carry an act naming the client";
    RsHs256Confusion, "rs-hs256-confusion", ["OBO-RS-3", "OBO-INH-20"],
        "the resource server accepts HS256 tokens keyed with its own public JWK (algorithm confusion)";
    ActorLengthUnchecked, "actor-length-unchecked", ["OBO-AUTHZ-3"],
        "requested_actor's length is not limited; an over-long id reaches storage, which fails with HTTP 500";
    ConsentPageFramable, "consent-page-framable", ["OBO-INH-15"],
        "login and consent pages lack X-Frame-Options and CSP frame-ancestors";
    RefreshScopeEscalation, "refresh-scope-escalation", ["OBO-INH-9", "OBO-INH-13"],
        "the refresh_token grant grants a requested scope wider than the original grant (RFC 6749 §6)";
    RefreshClientUnchecked, "refresh-client-unchecked", ["OBO-SEC-6", "OBO-INH-6"],
        "a refresh token issued to one client is redeemed by another (RFC 6749 §6: bound to its client)";
    ClientAuthChallengeMissing, "client-auth-challenge-missing", ["OBO-INH-8", "OBO-INH-6"],
        "invalid_client after HTTP Basic authentication comes without WWW-Authenticate (RFC 6749 §5.2)";
    RsChallengeBare, "rs-challenge-bare", ["OBO-RS-12"],
        "insufficient_scope challenges name neither the error nor the needed scope in WWW-Authenticate (JSON body only)";
    AtTypGeneric, "at-typ-generic", ["OBO-AT-1", "OBO-INH-18"],
        "access tokens carry the header typ JWT instead of at+jwt (RFC 9068 §2.1)";
    AtAudOmitted, "at-aud-omitted", ["OBO-AT-1", "OBO-INH-18"],
        "access tokens carry no aud claim (RFC 9068 §2.2)";
    ActorTokenRevocationUnchecked, "actor-token-revocation-unchecked", ["OBO-TOKEN-10"],
        "a revoked actor token is accepted at the token endpoint";
    ChainedActInverted, "chained-act-inverted", ["OBO-INH-17", "OBO-AT-5"],
        "chained actor tokens are accepted and their own act is put outermost, the requested actor nested inside (RFC 8693 §4.1)";
    CsrfUnchecked, "csrf-unchecked", ["OBO-INH-28"],
        "login and consent form posts are accepted without their CSRF token, or with a wrong one (RFC 6749 §10.12)";
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The set of active faults, cheap to query on every request.
#[derive(Clone, Debug, Default)]
pub struct Faults(std::collections::HashSet<Fault>);

impl Faults {
    pub fn new(list: &[Fault]) -> Faults {
        Faults(list.iter().copied().collect())
    }

    pub fn on(&self, f: Fault) -> bool {
        self.0.contains(&f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_round_trips_and_names_its_requirements() {
        let mut names = std::collections::HashSet::new();
        for f in Fault::ALL {
            assert!(names.insert(f.name()), "{f:?}: name given twice");
            assert_eq!(Fault::from_name(f.name()), Some(*f));
            assert!(!f.requirements().is_empty());
            assert!(!f.description().is_empty());
            assert!(f
                .name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
        assert_eq!(Fault::from_name("no-such-fault"), None);
    }
}
