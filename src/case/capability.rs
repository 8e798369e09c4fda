//! Capabilities a target declares and cases need (cases/README.md, "Capabilities").

/// Every capability name of the case language.
pub const ALL: &[&str] = &[
    "jwt_access_tokens",
    "introspection",
    "revocation",
    "refresh_tokens",
    "control_api",
    "clock",
    "control_mint",
    "resource_server",
    "second_client",
    "second_user",
    "public_client",
    "disabled_actor",
    "interactive_consent",
    "resource_indicators",
];

pub fn is_known(name: &str) -> bool {
    ALL.contains(&name)
}
