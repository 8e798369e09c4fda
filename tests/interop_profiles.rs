//! The interop profiles under examples/targets/interop/ (node-oidc-provider,
//! docs/interop/oidc-provider.md) stay valid as the profile format moves. They are run by
//! interop/oidc-provider/run-suite.sh, outside CI; this only checks that they load.

use std::path::{Path, PathBuf};

use obo_conformance::profile;

fn interop(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/targets/interop")
        .join(name)
}

#[test]
fn the_oidc_provider_profiles_are_valid() {
    for f in ["plain.toml", "obo.toml", "plain-shared-url.toml"] {
        let (p, _) = profile::load_file(&interop(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(p.revision, "02", "{f}");
        assert!(p.name.starts_with("oidc-provider-"), "{f}: {}", p.name);
    }
}

/// obo-jwt.toml signs actor tokens with keys that run-suite.sh generates (never committed):
/// without them the profile must name the missing key file, never load half-configured.
#[test]
fn the_obo_jwt_profile_loads_or_names_its_key_file() {
    match profile::load_file(&interop("obo-jwt.toml")) {
        Ok((p, _)) => assert_eq!(p.name, "oidc-provider-obo-jwt"),
        Err(e) => assert!(e.to_string().contains("key_file"), "{e}"),
    }
}
