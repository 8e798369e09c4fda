//! The forgery vocabulary of the case language (`forge = "..."`, cases/README.md "Actor
//! tokens"), defined once: the loader validates against it, `exec/tokens/forge.rs` builds the
//! forged tokens from it, `exec/tokens/actor_token.rs` picks between a signature forgery and a
//! claim defect with it (digest ADV-3..ADV-9, AMB-6, ADV-32).

use std::str::FromStr;

pub use crate::case::vocabulary::UnknownName;
use crate::case::vocabulary::{deserialize_from_str, known, vocabulary};

vocabulary! {
    /// A signature forgery: the claims stay the genuine ones (except for `TamperPayload`), only
    /// the proof of origin is broken. Each must be refused by a conforming AS/RS (ADV-4, ADV-5).
    Forgery, "forgery" {
        /// One claim changed so the token stays otherwise valid (`jti`, else `iat`/`exp` one
        /// second earlier, else an added `tampered` claim), original header and signature kept.
        TamperPayload => "tamper_payload",
        /// Same header (same `kid`) and claims, signed by the attacker's ES256 key.
        ResignAttacker => "resign_attacker",
        /// Signed by the attacker under a `kid` the target never published.
        UnknownKid => "unknown_kid",
        /// Header `alg: none`, empty signature segment (RFC 8725 §3.1).
        AlgNone => "alg_none",
        /// HS256 keyed with the target's public JWK (algorithm confusion, RFC 8725 §3.2).
        Hs256PublicKey => "hs256_public_key",
        /// Signed by the attacker, whose public JWK rides in the `jwk` header (RFC 8725 §3.10).
        EmbeddedJwk => "embedded_jwk",
    }
}

vocabulary! {
    /// One defect of an otherwise valid, validly signed actor token (ADV-3, ADV-6..ADV-9,
    /// actor chains; the two exact-match variants AMB-6, ADV-32).
    DefectKind, "claim defect" {
        Expired => "expired",
        NotYetValid => "not_yet_valid",
        /// `iat` far in the future and no `nbf` (AMB-5: "nbf/iat sane").
        IatFuture => "iat_future",
        WrongIssuer => "wrong_issuer",
        WrongAudience => "wrong_audience",
        NoSub => "no_sub",
        EmptySub => "empty_sub",
        /// `sub` set to another actor's identifier.
        OtherActorSub => "other_actor_sub",
        /// An `act` claim naming an upstream actor.
        Chained => "chained",
        /// `sub` with ASCII letters upper-cased.
        SubCaseVariant => "sub_case_variant",
        /// `sub` with a trailing space.
        SubTrailingSpace => "sub_trailing_space",
    }
}

/// What `forge = "..."` names on a token step: a signature forgery or a claim defect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForgeSpec {
    Signature(Forgery),
    Defect(DefectKind),
}

impl ForgeSpec {
    /// The case-language name.
    pub fn name(self) -> &'static str {
        match self {
            ForgeSpec::Signature(f) => f.name(),
            ForgeSpec::Defect(d) => d.name(),
        }
    }
}

impl FromStr for ForgeSpec {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(f) = s.parse() {
            return Ok(ForgeSpec::Signature(f));
        }
        s.parse().map(ForgeSpec::Defect).map_err(|_| UnknownName {
            what: "forgery",
            name: s.to_string(),
            known: known(
                Forgery::ALL
                    .iter()
                    .map(|f| f.name())
                    .chain(DefectKind::ALL.iter().map(|d| d.name())),
            ),
        })
    }
}

deserialize_from_str!(ForgeSpec);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_into_its_spec_and_unknown_names_list_the_vocabulary() {
        for f in Forgery::ALL {
            assert_eq!(f.name().parse(), Ok(ForgeSpec::Signature(f)));
        }
        for d in DefectKind::ALL {
            assert_eq!(d.name().parse(), Ok(ForgeSpec::Defect(d)));
        }
        let err = "alg-none".parse::<ForgeSpec>().unwrap_err().to_string();
        assert!(err.starts_with("unknown forgery `alg-none` (known: tamper_payload,"));
        assert!(err.ends_with("sub_trailing_space)"), "{err}");
        // A claim defect is not a signature forgery (`resource` steps take only the latter).
        assert!("expired".parse::<Forgery>().is_err());
    }
}
