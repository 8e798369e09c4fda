//! RFC 8414 discovery: from a validated profile to a [`Target`] with its endpoints, JWKS and
//! capabilities.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::schema::Profile;
use super::{digest, reference, ProfileError, ResolvedEndpoints, Target};

/// The RFC 8414 metadata URL of an issuer (well-known segment between host and path).
pub fn metadata_url(issuer: &Url) -> Url {
    let mut u = issuer.clone();
    let path = issuer.path().trim_end_matches('/');
    u.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    u.set_query(None);
    u
}

/// Resolves a validated profile: discovery (when an issuer is given) and the JWKS.
pub async fn resolve(
    profile: Profile,
    text: &str,
    server: Option<Arc<reference::ServerGuard>>,
) -> Result<Target, ProfileError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(profile.http.timeout_secs))
        .build()
        .map_err(|e| ProfileError::Unreachable(format!("HTTP client: {e}")))?;
    let mut metadata = None;
    let mut metadata_u = None;
    if let Some(iss) = &profile.issuer {
        let iss_url =
            Url::parse(iss).map_err(|e| ProfileError::Unreachable(format!("issuer: {e}")))?;
        let url = metadata_url(&iss_url);
        let explicit =
            profile.endpoints.authorization.is_some() && profile.endpoints.token.is_some();
        match fetch_json(&client, &url, profile.http.max_response_bytes).await {
            Ok(m) => {
                // A wrong `issuer` member is the target's problem (cases check the metadata),
                // not a reason to stop the run.
                if let Some(got) = m.get("issuer").and_then(|v| v.as_str()) {
                    if got.trim_end_matches('/') != iss.trim_end_matches('/') {
                        eprintln!("warning: metadata at {url} names issuer {got:?}, the profile says {iss:?}");
                    }
                }
                metadata = Some(m);
            }
            // With explicit endpoints, discovery is optional.
            Err(e) if explicit => {
                eprintln!("warning: no usable metadata ({e}); using the profile's endpoints")
            }
            Err(e) => return Err(e),
        }
        metadata_u = Some(url);
    }
    let e = &profile.endpoints;
    let pick = |explicit: &Option<String>, member: &str| -> Option<Url> {
        explicit
            .clone()
            .or_else(|| metadata.as_ref()?.get(member)?.as_str().map(str::to_string))
            .and_then(|s| Url::parse(&s).ok())
    };
    let need = |u: Option<Url>, what: &str| {
        u.ok_or_else(|| {
            ProfileError::Unreachable(format!(
                "has no {what}: set endpoints or publish it in the metadata"
            ))
        })
    };
    let endpoints = ResolvedEndpoints {
        metadata: metadata_u,
        authorization: need(
            pick(&e.authorization, "authorization_endpoint"),
            "authorization endpoint",
        )?,
        token: need(pick(&e.token, "token_endpoint"), "token endpoint")?,
        jwks: pick(&e.jwks, "jwks_uri"),
        introspection: pick(&e.introspection, "introspection_endpoint"),
        revocation: pick(&e.revocation, "revocation_endpoint"),
        control: pick(&e.control, "obo_test_control_endpoint"),
    };
    let jwks = match &endpoints.jwks {
        Some(u) => Some(fetch_json(&client, u, profile.http.max_response_bytes).await?),
        None => None,
    };
    let mut capabilities: BTreeSet<String> = profile.capabilities.iter().cloned().collect();
    // A declared capability whose endpoint is missing cannot be exercised: drop it so cases skip.
    for (cap, present) in [
        ("introspection", endpoints.introspection.is_some()),
        ("revocation", endpoints.revocation.is_some()),
        ("control_api", endpoints.control.is_some()),
        ("control_mint", endpoints.control.is_some()),
        ("jwt_access_tokens", jwks.is_some()),
    ] {
        if !present {
            capabilities.remove(cap);
        }
    }
    let issuer = profile
        .issuer
        .clone()
        .unwrap_or_else(|| endpoints.authorization.origin().ascii_serialization());
    Ok(Target {
        issuer,
        endpoints,
        metadata,
        jwks,
        capabilities,
        digest: digest(text),
        server,
        profile,
    })
}

async fn fetch_json(
    client: &reqwest::Client,
    url: &Url,
    cap: usize,
) -> Result<serde_json::Value, ProfileError> {
    let resp = client
        .get(url.clone())
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| ProfileError::Unreachable(format!("unreachable: GET {url}: {e}")))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(ProfileError::Unreachable(format!(
            "GET {url} answered {status}"
        )));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| ProfileError::Unreachable(format!("GET {url}: {e}")))?;
    if bytes.len() > cap {
        return Err(ProfileError::Unreachable(format!(
            "GET {url}: body larger than {cap} bytes"
        )));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ProfileError::Unreachable(format!("GET {url}: not JSON: {e}")))
}
