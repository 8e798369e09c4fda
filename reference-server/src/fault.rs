//! Fault switches: each one breaks exactly one check of the server, so that the suite can prove
//! it catches that defect. All are compiled into every build and off unless named.
//!
//! Each fault is tested by one `if` at the one place its check lives
//! (`grep -rn "Fault::Name" src/` finds it).

/// One deliberate defect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    SkipActorBinding,
    ActFromRequest,
    AcceptCodeReplay,
    NonAtomicRedemption,
    CodeExpiryUnchecked,
    ActorTokenSignatureUnchecked,
    ActorTokenAlgNone,
    ActorTokenExpiryUnchecked,
    ActorTokenEmbeddedJwk,
    ActorTokenIssuerUnchecked,
    UserTokenAsActorToken,
    ActorMatchCaseInsensitive,
    ActorTokenOptional,
    UnknownActorAccepted,
    DisabledActorAccepted,
    PkceVerifierUnchecked,
    PkceOptional,
    PkcePlainAccepted,
    SkipClientBinding,
    ClientAuthSkipped,
    RedirectUriNotCompared,
    OpenRedirect,
    DuplicateParamsAccepted,
    ActOmitted,
    ActAsString,
    ActorInSub,
    StateNotEchoed,
    ErrorsStatus200,
    CacheHeadersMissing,
    ConsentReusedAcrossActors,
    ConsentDenyIgnored,
    ScopeEscalation,
    RefreshDropsAct,
    LegacyGrantAccepted,
    RsIgnoresAct,
    RsNestedActAccepted,
    RsSignatureUnchecked,
    RsAudienceUnchecked,
    RsExpiryUnchecked,
    RsScopeUnchecked,
    RsRevocationUnchecked,
    RsIssuerUnchecked,
    RsAlgNoneAccepted,
    RsTokenTypeUnchecked,
    RsTokenOptional,
    ActorIdNormalized,
    PkceMethodUnchecked,
    ResponseTypeUnchecked,
    UnknownClientRedirect,
    IntrospectIgnoresRevocation,
    ActInPlainFlow,
    RsHs256Confusion,
    ActorLengthUnchecked,
    ConsentPageFramable,
}

struct Info {
    fault: Fault,
    name: &'static str,
    requirements: &'static [&'static str],
    description: &'static str,
}

const INFO: &[Info] = &[
    Info { fault: Fault::SkipActorBinding, name: "skip-actor-binding",
        requirements: &["OBO-TOKEN-12", "OBO-SEC-7", "OBO-SEC-8"],
        description: "the token endpoint does not compare the actor token's sub with the actor bound to the code" },
    Info { fault: Fault::ActFromRequest, name: "act-from-request",
        requirements: &["OBO-AT-5"],
        description: "act.sub is taken from a requested_actor parameter of the token request instead of the code's binding" },
    Info { fault: Fault::AcceptCodeReplay, name: "accept-code-replay",
        requirements: &["OBO-SEC-3", "OBO-INH-5"],
        description: "a used authorization code is accepted again" },
    Info { fault: Fault::NonAtomicRedemption, name: "non-atomic-redemption",
        requirements: &["OBO-SEC-3", "OBO-INH-5"],
        description: "code redemption checks 'unused' and marks it used in two steps, so parallel redemptions race" },
    Info { fault: Fault::CodeExpiryUnchecked, name: "code-expiry-unchecked",
        requirements: &["OBO-SEC-4", "OBO-INH-5"],
        description: "expired authorization codes are redeemed" },
    Info { fault: Fault::ActorTokenSignatureUnchecked, name: "actor-token-signature-unchecked",
        requirements: &["OBO-TOKEN-10"],
        description: "the actor token's signature is not verified" },
    Info { fault: Fault::ActorTokenAlgNone, name: "actor-token-alg-none",
        requirements: &["OBO-TOKEN-10", "OBO-INH-20"],
        description: "an unsigned actor token (alg none) is accepted" },
    Info { fault: Fault::ActorTokenExpiryUnchecked, name: "actor-token-expiry-unchecked",
        requirements: &["OBO-TOKEN-11"],
        description: "expired (and not-yet-valid) actor tokens are accepted" },
    Info { fault: Fault::ActorTokenEmbeddedJwk, name: "actor-token-embedded-jwk",
        requirements: &["OBO-TOKEN-10", "OBO-INH-20"],
        description: "the actor token is verified with a jwk embedded in its own header" },
    Info { fault: Fault::ActorTokenIssuerUnchecked, name: "actor-token-issuer-unchecked",
        requirements: &["OBO-TOKEN-10"],
        description: "the actor token's iss is not compared with the trusted issuer" },
    Info { fault: Fault::UserTokenAsActorToken, name: "user-token-as-actor-token",
        requirements: &["OBO-TOKEN-3", "OBO-INH-20"],
        description: "any token the AS signed passes as an actor token (no type/audience check; actor read from act.sub when present)" },
    Info { fault: Fault::ActorMatchCaseInsensitive, name: "actor-match-case-insensitive",
        requirements: &["OBO-TOKEN-12", "OBO-AUTHZ-10"],
        description: "actor ids are compared case-insensitively" },
    Info { fault: Fault::ActorTokenOptional, name: "actor-token-optional",
        requirements: &["OBO-TOKEN-2"],
        description: "a token request without actor_token is accepted for an actor-bound code" },
    Info { fault: Fault::UnknownActorAccepted, name: "unknown-actor-accepted",
        requirements: &["OBO-AUTHZ-10", "OBO-AUTHZ-3"],
        description: "the authorization endpoint accepts a requested_actor that names no registered actor" },
    Info { fault: Fault::DisabledActorAccepted, name: "disabled-actor-accepted",
        requirements: &["OBO-TOKEN-10", "OBO-AUTHZ-10"],
        description: "disabled actors are treated as enabled" },
    Info { fault: Fault::PkceVerifierUnchecked, name: "pkce-verifier-unchecked",
        requirements: &["OBO-TOKEN-7", "OBO-SEC-2", "OBO-INH-10"],
        description: "the code_verifier is not compared with the stored code_challenge" },
    Info { fault: Fault::PkceOptional, name: "pkce-optional",
        requirements: &["OBO-SEC-2", "OBO-AUTHZ-8", "OBO-INH-11"],
        description: "authorization requests without code_challenge are accepted" },
    Info { fault: Fault::PkcePlainAccepted, name: "pkce-plain-accepted",
        requirements: &["OBO-SEC-2", "OBO-AUTHZ-8", "OBO-INH-10"],
        description: "code_challenge_method=plain (or absent) is accepted" },
    Info { fault: Fault::SkipClientBinding, name: "skip-client-binding",
        requirements: &["OBO-SEC-6", "OBO-TOKEN-9", "OBO-INH-6"],
        description: "a code issued to one client is redeemed by another" },
    Info { fault: Fault::ClientAuthSkipped, name: "client-auth-skipped",
        requirements: &["OBO-TOKEN-9", "OBO-INH-6"],
        description: "confidential clients' secrets are not verified at the token endpoint" },
    Info { fault: Fault::RedirectUriNotCompared, name: "redirect-uri-not-compared",
        requirements: &["OBO-TOKEN-8", "OBO-INH-6"],
        description: "the token request's redirect_uri is not compared with the authorization request's" },
    Info { fault: Fault::OpenRedirect, name: "open-redirect",
        requirements: &["OBO-INH-3", "OBO-AUTHZ-16"],
        description: "the authorization endpoint redirects to an unregistered redirect_uri" },
    Info { fault: Fault::DuplicateParamsAccepted, name: "duplicate-params-accepted",
        requirements: &["OBO-INH-1", "OBO-AUTHZ-9"],
        description: "duplicated request parameters are accepted (first value wins)" },
    Info { fault: Fault::ActOmitted, name: "act-omitted",
        requirements: &["OBO-AT-3"],
        description: "access tokens of the on-behalf-of flow carry no act claim" },
    Info { fault: Fault::ActAsString, name: "act-as-string",
        requirements: &["OBO-AT-4"],
        description: "act is a string (the actor id) instead of an object" },
    Info { fault: Fault::ActorInSub, name: "actor-in-sub",
        requirements: &["OBO-SEC-5", "OBO-AT-7"],
        description: "the access token's sub is the actor instead of the user" },
    Info { fault: Fault::StateNotEchoed, name: "state-not-echoed",
        requirements: &["OBO-CODE-3"],
        description: "the authorization response omits state" },
    Info { fault: Fault::ErrorsStatus200, name: "errors-status-200",
        requirements: &["OBO-TOKEN-14", "OBO-INH-8"],
        description: "token endpoint errors are sent with HTTP status 200" },
    Info { fault: Fault::CacheHeadersMissing, name: "cache-headers-missing",
        requirements: &["OBO-INH-7", "OBO-TOKRESP-2", "OBO-TOKEN-14"],
        description: "token endpoint responses lack Cache-Control: no-store and Pragma: no-cache" },
    Info { fault: Fault::ConsentReusedAcrossActors, name: "consent-reused-across-actors",
        requirements: &["OBO-AUTHZ-11", "OBO-AUTHZ-15"],
        description: "a stored consent for one actor silently covers another actor of the same user and client" },
    Info { fault: Fault::ConsentDenyIgnored, name: "consent-deny-ignored",
        requirements: &["OBO-AUTHZ-15"],
        description: "a denied consent still yields an authorization code" },
    Info { fault: Fault::ScopeEscalation, name: "scope-escalation",
        requirements: &["OBO-INH-9", "OBO-INH-13"],
        description: "a scope parameter at the token endpoint broadens the consented scope" },
    Info { fault: Fault::RefreshDropsAct, name: "refresh-drops-act",
        requirements: &["OBO-AT-3"],
        description: "access tokens from the refresh_token grant lose the act claim" },
    Info { fault: Fault::LegacyGrantAccepted, name: "legacy-grant-accepted",
        requirements: &["OBO-TOKEN-1"],
        description: "the -00 grant type URN is accepted by a -01/-02 server" },
    Info { fault: Fault::RsIgnoresAct, name: "rs-ignores-act",
        requirements: &["OBO-RS-9"],
        description: "the resource server does not check the required actor" },
    Info { fault: Fault::RsNestedActAccepted, name: "rs-nested-act-accepted",
        requirements: &["OBO-RS-9", "OBO-INH-17"],
        description: "the resource server accepts the required actor anywhere in a nested act chain" },
    Info { fault: Fault::RsSignatureUnchecked, name: "rs-signature-unchecked",
        requirements: &["OBO-RS-3"],
        description: "the resource server does not verify access-token signatures" },
    Info { fault: Fault::RsAudienceUnchecked, name: "rs-audience-unchecked",
        requirements: &["OBO-RS-5"],
        description: "the resource server does not check the access token's aud" },
    Info { fault: Fault::RsExpiryUnchecked, name: "rs-expiry-unchecked",
        requirements: &["OBO-RS-6"],
        description: "the resource server accepts expired access tokens" },
    Info { fault: Fault::RsScopeUnchecked, name: "rs-scope-unchecked",
        requirements: &["OBO-RS-8"],
        description: "the resource server does not check scopes" },
    Info { fault: Fault::RsRevocationUnchecked, name: "rs-revocation-unchecked",
        requirements: &["OBO-RS-7"],
        description: "the resource server accepts revoked access tokens" },
    Info { fault: Fault::RsIssuerUnchecked, name: "rs-issuer-unchecked",
        requirements: &["OBO-RS-4"],
        description: "the resource server does not check the access token's iss" },
    Info { fault: Fault::RsAlgNoneAccepted, name: "rs-alg-none-accepted",
        requirements: &["OBO-RS-3", "OBO-INH-20"],
        description: "the resource server accepts unsigned (alg none) access tokens" },
    Info { fault: Fault::RsTokenTypeUnchecked, name: "rs-token-type-unchecked",
        requirements: &["OBO-INH-18", "OBO-INH-20"],
        description: "the resource server takes any token the AS signed as an access token (typ and the audience meant for that kind not checked)" },
    Info { fault: Fault::RsTokenOptional, name: "rs-token-optional",
        requirements: &["OBO-RS-2", "OBO-RS-10"],
        description: "the resource server serves requests without an access token" },
    Info { fault: Fault::ActorIdNormalized, name: "actor-id-normalized",
        requirements: &["OBO-AUTHZ-3", "OBO-AUTHZ-10"],
        description: "requested_actor is trimmed of whitespace and control characters instead of being refused when malformed" },
    Info { fault: Fault::PkceMethodUnchecked, name: "pkce-method-unchecked",
        requirements: &["OBO-AUTHZ-8", "OBO-INH-10"],
        description: "an unknown code_challenge_method is accepted (treated as S256)" },
    Info { fault: Fault::ResponseTypeUnchecked, name: "response-type-unchecked",
        requirements: &["OBO-AUTHZ-4", "OBO-AUTHZ-9"],
        description: "a missing or unsupported response_type is treated as code" },
    Info { fault: Fault::UnknownClientRedirect, name: "unknown-client-redirect",
        requirements: &["OBO-AUTHZ-4", "OBO-INH-3"],
        description: "a missing or unknown client_id gets an error redirect to the unvalidated redirect_uri instead of an error page" },
    Info { fault: Fault::IntrospectIgnoresRevocation, name: "introspect-ignores-revocation",
        requirements: &["OBO-INH-23", "OBO-RS-7"],
        description: "introspection reports revoked access tokens as active" },
    Info { fault: Fault::ActInPlainFlow, name: "act-in-plain-flow",
        requirements: &["OBO-AT-5"],
        description: "tokens of a plain code flow (no requested_actor) carry an act naming the client" },
    Info { fault: Fault::RsHs256Confusion, name: "rs-hs256-confusion",
        requirements: &["OBO-RS-3", "OBO-INH-20"],
        description: "the resource server accepts HS256 tokens keyed with its own public JWK (algorithm confusion)" },
    Info { fault: Fault::ActorLengthUnchecked, name: "actor-length-unchecked",
        requirements: &["OBO-AUTHZ-3"],
        description: "requested_actor's length is not limited; an over-long id reaches storage, which fails with HTTP 500" },
    Info { fault: Fault::ConsentPageFramable, name: "consent-page-framable",
        requirements: &["OBO-INH-15"],
        description: "login and consent pages lack X-Frame-Options and CSP frame-ancestors" },
];

impl Fault {
    /// Every fault, in a stable order.
    pub const ALL: &'static [Fault] = &[
        Fault::SkipActorBinding,
        Fault::ActFromRequest,
        Fault::AcceptCodeReplay,
        Fault::NonAtomicRedemption,
        Fault::CodeExpiryUnchecked,
        Fault::ActorTokenSignatureUnchecked,
        Fault::ActorTokenAlgNone,
        Fault::ActorTokenExpiryUnchecked,
        Fault::ActorTokenEmbeddedJwk,
        Fault::ActorTokenIssuerUnchecked,
        Fault::UserTokenAsActorToken,
        Fault::ActorMatchCaseInsensitive,
        Fault::ActorTokenOptional,
        Fault::UnknownActorAccepted,
        Fault::DisabledActorAccepted,
        Fault::PkceVerifierUnchecked,
        Fault::PkceOptional,
        Fault::PkcePlainAccepted,
        Fault::SkipClientBinding,
        Fault::ClientAuthSkipped,
        Fault::RedirectUriNotCompared,
        Fault::OpenRedirect,
        Fault::DuplicateParamsAccepted,
        Fault::ActOmitted,
        Fault::ActAsString,
        Fault::ActorInSub,
        Fault::StateNotEchoed,
        Fault::ErrorsStatus200,
        Fault::CacheHeadersMissing,
        Fault::ConsentReusedAcrossActors,
        Fault::ConsentDenyIgnored,
        Fault::ScopeEscalation,
        Fault::RefreshDropsAct,
        Fault::LegacyGrantAccepted,
        Fault::RsIgnoresAct,
        Fault::RsNestedActAccepted,
        Fault::RsSignatureUnchecked,
        Fault::RsAudienceUnchecked,
        Fault::RsExpiryUnchecked,
        Fault::RsScopeUnchecked,
        Fault::RsRevocationUnchecked,
        Fault::RsIssuerUnchecked,
        Fault::RsAlgNoneAccepted,
        Fault::RsTokenTypeUnchecked,
        Fault::RsTokenOptional,
        Fault::ActorIdNormalized,
        Fault::PkceMethodUnchecked,
        Fault::ResponseTypeUnchecked,
        Fault::UnknownClientRedirect,
        Fault::IntrospectIgnoresRevocation,
        Fault::ActInPlainFlow,
        Fault::RsHs256Confusion,
        Fault::ActorLengthUnchecked,
        Fault::ConsentPageFramable,
    ];

    fn info(self) -> &'static Info {
        // INFO holds one entry per variant (checked by a unit test); fall back to the first
        // entry rather than panic.
        INFO.iter().find(|i| i.fault == self).unwrap_or(&INFO[0])
    }

    /// Stable kebab-case name (`--fault NAME`).
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Requirement IDs of the digest that this fault breaks.
    pub fn requirements(self) -> &'static [&'static str] {
        self.info().requirements
    }

    /// One line saying what the defect is.
    pub fn description(self) -> &'static str {
        self.info().description
    }

    pub fn from_name(name: &str) -> Option<Fault> {
        INFO.iter().find(|i| i.name == name).map(|i| i.fault)
    }
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
    fn every_fault_has_one_info_entry_and_round_trips() {
        assert_eq!(INFO.len(), Fault::ALL.len());
        for f in Fault::ALL {
            assert_eq!(INFO.iter().filter(|i| i.fault == *f).count(), 1, "{f:?}");
            assert_eq!(Fault::from_name(f.name()), Some(*f));
            assert!(!f.requirements().is_empty());
            assert!(f
                .name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
    }
}
