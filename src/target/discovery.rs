//! RFC 8414 discovery: from a validated profile to a [`Target`] with its endpoints, JWKS and
//! capabilities.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::control;
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
    let timeout = Duration::from_secs(profile.http.timeout_secs);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
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
        match fetch_json(&client, &url, profile.http.max_response_bytes, timeout).await {
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
    let found = |explicit: &Option<String>, member: &'static str| {
        let url = pick(explicit, member)?;
        Some((url, explicit.is_none().then_some(member)))
    };
    let declared = declared_origins(&profile);
    let allowed = |f: Option<(Url, Option<&'static str>)>| -> Result<Option<Url>, ProfileError> {
        let Some((url, member)) = f else {
            return Ok(None);
        };
        match member {
            Some(member) => check_origin(&url, member, &declared, profile.http.allow_cross_origin)
                .map(|()| Some(url)),
            None => Ok(Some(url)),
        }
    };
    let endpoints = ResolvedEndpoints {
        metadata: metadata_u,
        authorization: need(
            allowed(found(&e.authorization, "authorization_endpoint"))?,
            "authorization endpoint",
        )?,
        token: need(
            allowed(found(&e.token, "token_endpoint"))?,
            "token endpoint",
        )?,
        jwks: allowed(found(&e.jwks, "jwks_uri"))?,
        introspection: allowed(found(&e.introspection, "introspection_endpoint"))?,
        revocation: allowed(found(&e.revocation, "revocation_endpoint"))?,
        control: allowed(found(&e.control, "obo_test_control_endpoint"))?,
    };
    let jwks = match &endpoints.jwks {
        Some(u) => Some(fetch_json(&client, u, profile.http.max_response_bytes, timeout).await?),
        None => None,
    };
    let mut capabilities: BTreeSet<String> = profile.capabilities.iter().cloned().collect();
    // A declared capability whose endpoint is missing cannot be exercised: drop it so cases skip.
    for (cap, present) in [
        ("introspection", endpoints.introspection.is_some()),
        ("revocation", endpoints.revocation.is_some()),
        ("jwt_access_tokens", jwks.is_some()),
    ] {
        if !present {
            capabilities.remove(cap);
        }
    }
    control_capabilities(&profile, endpoints.control.is_some(), &mut capabilities);
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
        browser: Default::default(),
        profile,
        clock_offset: Default::default(),
    })
}

/// `control_api` and `control_mint` follow from the adapter: with a `[control]` table, from the
/// operations it maps (a case needing an unmapped one skips naming it); without one, from the
/// declared capabilities and a control endpoint for the built-in contract.
fn control_capabilities(profile: &Profile, has_base: bool, caps: &mut BTreeSet<String>) {
    use control::Operation;
    let available = |op: Operation| match &profile.control {
        Some(a) => match a.hook(op) {
            Some(control::Hook::Contract {}) => has_base,
            Some(_) => true,
            None => false,
        },
        None => has_base,
    };
    let state_ops = [
        Operation::AdvanceClock,
        Operation::DisableActor,
        Operation::RevokeConsent,
        Operation::Reset,
    ];
    let api = state_ops.into_iter().any(available);
    if available(Operation::AdvanceClock) || profile.time.max_wait_secs > 0 {
        caps.insert("clock".to_string());
    }
    let mint = available(Operation::Mint);
    for (cap, present) in [("control_api", api), ("control_mint", mint)] {
        if !present {
            caps.remove(cap);
        } else if profile.control.is_some() {
            caps.insert(cap.to_string());
        }
    }
}

/// Origins the profile names: the issuer's and every explicit endpoint's.
fn declared_origins(profile: &Profile) -> Vec<url::Origin> {
    let e = &profile.endpoints;
    [
        &profile.issuer,
        &e.authorization,
        &e.token,
        &e.jwks,
        &e.introspection,
        &e.revocation,
        &e.control,
    ]
    .into_iter()
    .flatten()
    .filter_map(|u| Url::parse(u).ok())
    .map(|u| u.origin())
    .collect()
}

/// The origin rule for an endpoint taken from the metadata: client credentials and the user's
/// password go only to origins the profile declares (RFC 8414 §2 lets metadata name any URL;
/// a conformance run must not hand credentials to whatever it names). Another origin is an
/// error unless `allow_cross_origin`, then a warning; an address that cannot belong to the
/// target (link-local such as cloud metadata services, unspecified, multicast, broadcast, or
/// loopback/private when the profile declares none) is refused always.
fn check_origin(
    url: &Url,
    member: &str,
    declared: &[url::Origin],
    allow_cross_origin: bool,
) -> Result<(), ProfileError> {
    if declared.contains(&url.origin()) {
        return Ok(());
    }
    let origin = url.origin().ascii_serialization();
    if let Some(why) = non_target_address(url, declared) {
        return Err(ProfileError::CrossOrigin(format!(
            "metadata member {member} points at {origin}, {why}: refused whatever \
             allow_cross_origin says"
        )));
    }
    let names: Vec<String> = declared.iter().map(|o| o.ascii_serialization()).collect();
    if allow_cross_origin {
        eprintln!(
            "warning: metadata member {member} points at {origin}, not an origin the profile \
             declares ({}); followed because cross-origin endpoints are allowed",
            names.join(", ")
        );
        return Ok(());
    }
    Err(ProfileError::CrossOrigin(format!(
        "metadata member {member} points at {origin}, not an origin the profile declares ({}); \
         set that endpoint in the profile's [endpoints], or set http.allow_cross_origin = true \
         (or pass --allow-cross-origin) if the vendor really serves it from another origin",
        names.join(", ")
    )))
}

/// Why `url`'s host cannot be part of the target, if it cannot.
fn non_target_address(url: &Url, declared: &[url::Origin]) -> Option<&'static str> {
    let ip = match url.host()? {
        url::Host::Ipv4(a) => std::net::IpAddr::V4(a),
        url::Host::Ipv6(a) => std::net::IpAddr::V6(a),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            let local = d == "localhost" || d.ends_with(".localhost");
            return (local && !declared.iter().any(is_local_origin))
                .then_some("a loopback name the profile does not use");
        }
    };
    if is_link_local(&ip) {
        return Some("a link-local address (as used by cloud metadata services)");
    }
    if ip.is_unspecified() || ip.is_multicast() || is_broadcast(&ip) {
        return Some("an address no server answers on");
    }
    if is_internal(&ip) && !declared.iter().any(is_local_origin) {
        return Some("a loopback or private address while the profile declares a public target");
    }
    None
}

fn is_link_local(ip: &std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(a) => a.is_link_local(),
        std::net::IpAddr::V6(a) => (a.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn is_broadcast(ip: &std::net::IpAddr) -> bool {
    matches!(ip, std::net::IpAddr::V4(a) if a.is_broadcast())
}

fn is_internal(ip: &std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(a) => a.is_loopback() || a.is_private(),
        std::net::IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Whether an origin is on this machine or a private network.
fn is_local_origin(origin: &url::Origin) -> bool {
    let url::Origin::Tuple(_, host, _) = origin else {
        return false;
    };
    match host {
        url::Host::Ipv4(a) => is_internal(&std::net::IpAddr::V4(*a)),
        url::Host::Ipv6(a) => is_internal(&std::net::IpAddr::V6(*a)),
        url::Host::Domain(d) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost") || !d.contains('.')
        }
    }
}

/// An error and its chain of causes ("error sending request: connection refused"): reqwest's
/// own message alone does not say why.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// GETs a JSON document, reading at most `cap` bytes of it: the body is streamed and the fetch
/// stops at the first chunk past the cap, so a hostile endless body costs `cap` bytes.
async fn fetch_json(
    client: &reqwest::Client,
    url: &Url,
    cap: usize,
    timeout: Duration,
) -> Result<serde_json::Value, ProfileError> {
    let failed = |e: reqwest::Error| {
        let why = if e.is_timeout() {
            format!(
                "timed out after {} s (--timeout or the profile's http.timeout_secs)",
                timeout.as_secs()
            )
        } else {
            with_causes(&e)
        };
        ProfileError::Unreachable(format!("unreachable: GET {url}: {why}"))
    };
    let mut resp = client
        .get(url.clone())
        .header("accept", "application/json")
        .send()
        .await
        .map_err(failed)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(ProfileError::Unreachable(format!(
            "GET {url} answered {status}"
        )));
    }
    let too_big = || {
        ProfileError::Unreachable(format!(
            "GET {url}: body larger than {cap} bytes (http.max_response_bytes)"
        ))
    };
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failed)? {
        if chunk.len() > cap.saturating_sub(body.len()) {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body)
        .map_err(|e| ProfileError::Unreachable(format!("GET {url}: not JSON: {e}")))
}
