//! `obo-agent-client`: the reference agent client of the client conformance mode.
//!
//! It plays the client and its actor of draft-oauth-ai-agents-on-behalf-of-user-02 against an
//! authorization server that consents without a browser (the suite's auto-consent mode):
//! the actor obtains its actor token with `client_credentials`; the client sends the
//! authorization request with `requested_actor`, PKCE S256 and `state` (draft §4.1), reads the
//! redirect from the `Location` header, checks `state` (RFC 6749 §10.12) and `iss` (RFC 9207),
//! redeems the code with the actor token (§4.2), checks `act.sub` of a JWT access token (§4.3),
//! calls the resource server and answers an `insufficient_scope` challenge with a new
//! authorization for the needed scope (§4.4) before retrying.
//!
//! Configuration comes from the environment the suite documents (README, "Testing a client or
//! agent"). Each `--fault NAME` breaks one client-side obligation; `--list-faults` prints the
//! switches with the requirement IDs they break. Exit status: 0 when the resource answered 2xx,
//! 1 when the client refused to go on or the flow failed (the reason on stderr), 2 on bad
//! configuration.
//!
//! This crate shares no code with the harness or the reference server on purpose: it is an
//! independent implementation of the client side.

use std::collections::BTreeSet;
use std::process::ExitCode;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use clap::Parser;
use rand::Rng;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

/// One client-side obligation broken on purpose, and the requirement IDs it breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Fault {
    NoRequestedActor,
    PkcePlain,
    PkceNone,
    FixedVerifier,
    NoState,
    StateUnchecked,
    IssUnchecked,
    WrongRedirectUri,
    ActorTokenMissing,
    ActorTokenToRs,
    SecretInQuery,
    BlindRetry,
    AcceptsWrongAct,
}

impl Fault {
    const ALL: [Fault; 13] = [
        Fault::NoRequestedActor,
        Fault::PkcePlain,
        Fault::PkceNone,
        Fault::FixedVerifier,
        Fault::NoState,
        Fault::StateUnchecked,
        Fault::IssUnchecked,
        Fault::WrongRedirectUri,
        Fault::ActorTokenMissing,
        Fault::ActorTokenToRs,
        Fault::SecretInQuery,
        Fault::BlindRetry,
        Fault::AcceptsWrongAct,
    ];

    fn name(self) -> &'static str {
        match self {
            Fault::NoRequestedActor => "no-requested-actor",
            Fault::PkcePlain => "pkce-plain",
            Fault::PkceNone => "pkce-none",
            Fault::FixedVerifier => "fixed-verifier",
            Fault::NoState => "no-state",
            Fault::StateUnchecked => "state-unchecked",
            Fault::IssUnchecked => "iss-unchecked",
            Fault::WrongRedirectUri => "wrong-redirect-uri",
            Fault::ActorTokenMissing => "actor-token-missing",
            Fault::ActorTokenToRs => "actor-token-to-rs",
            Fault::SecretInQuery => "secret-in-query",
            Fault::BlindRetry => "blind-retry",
            Fault::AcceptsWrongAct => "accepts-wrong-act",
        }
    }

    /// The requirements (cases/requirements.toml) the fault breaks.
    fn requirements(self) -> &'static [&'static str] {
        match self {
            Fault::NoRequestedActor => &["OBO-AUTHZ-1"],
            Fault::PkcePlain => &["OBO-INH-10"],
            Fault::PkceNone => &["OBO-AUTHZ-8", "OBO-SEC-2"],
            Fault::FixedVerifier => &["OBO-CLIENT-5"],
            Fault::NoState => &["OBO-AUTHZ-7"],
            Fault::StateUnchecked => &["OBO-INH-25"],
            Fault::IssUnchecked => &["OBO-INH-12"],
            Fault::WrongRedirectUri => &["OBO-TOKEN-8"],
            Fault::ActorTokenMissing => &["OBO-TOKEN-2"],
            Fault::ActorTokenToRs => &["OBO-CLIENT-2"],
            Fault::SecretInQuery => &["OBO-CLIENT-1"],
            Fault::BlindRetry => &["OBO-CLIENT-4"],
            Fault::AcceptsWrongAct => &["OBO-CLIENT-3"],
        }
    }
}

#[derive(Parser)]
#[command(
    name = "obo-agent-client",
    about = "Reference agent client (client conformance mode of obo-conformance)"
)]
struct Args {
    /// Break one client-side obligation (repeatable).
    #[arg(long, value_enum)]
    fault: Vec<Fault>,
    /// Print the fault switches and the requirement IDs each breaks, then exit.
    #[arg(long)]
    list_faults: bool,
}

/// The environment of the client contract (README, "Testing a client or agent").
struct Settings {
    issuer: String,
    rs_url: String,
    client_id: String,
    client_secret: Option<String>,
    redirect_uri: String,
    actor_id: String,
    actor_client_id: String,
    actor_client_secret: String,
    scope: String,
}

fn env(name: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("environment variable {name} is not set")),
    }
}

impl Settings {
    fn from_env() -> Result<Settings, String> {
        let actor_id = env("OBO_ACTOR_ID")?;
        Ok(Settings {
            issuer: env("OBO_AS_ISSUER")?,
            rs_url: env("OBO_RS_URL")?,
            client_id: env("OBO_CLIENT_ID")?,
            client_secret: env("OBO_CLIENT_SECRET").ok(),
            redirect_uri: env("OBO_REDIRECT_URI")?,
            actor_client_id: env("OBO_ACTOR_CLIENT_ID").unwrap_or_else(|_| actor_id.clone()),
            actor_client_secret: env("OBO_ACTOR_CLIENT_SECRET")?,
            actor_id,
            scope: env("OBO_SCOPE").unwrap_or_else(|_| "files.read".into()),
        })
    }
}

/// The AS endpoints from RFC 8414 metadata.
struct Metadata {
    authorization_endpoint: String,
    token_endpoint: String,
    iss_supported: bool,
}

struct Agent {
    http: reqwest::Client,
    s: Settings,
    faults: BTreeSet<&'static str>,
    meta: Metadata,
    actor_token: String,
}

/// A refusal or failure: printed on stderr, exit 1.
type Outcome<T> = Result<T, String>;

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list_faults {
        for f in Fault::ALL {
            println!("{} {}", f.name(), f.requirements().join(","));
        }
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("obo-agent-client: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let faults = args.fault.iter().map(|f| f.name()).collect();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("obo-agent-client: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(settings, faults)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("obo-agent-client: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(s: Settings, faults: BTreeSet<&'static str>) -> Outcome<()> {
    // Redirects are read, never followed: the authorization response is the Location header.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let meta = discover(&http, &s.issuer).await?;
    let mut agent = Agent {
        http,
        s,
        faults,
        meta,
        actor_token: String::new(),
    };
    agent.actor_token = agent.obtain_actor_token().await?;
    let mut scope = agent.s.scope.clone();
    let mut token = agent.authorize_and_redeem(&scope).await?;
    let mut stepped_up = false;
    let mut blind_retries = 0;
    loop {
        match agent.call_resource(&token).await? {
            Resource::Ok => return Ok(()),
            Resource::InsufficientScope(needed) => {
                if agent.fault("blind-retry") && blind_retries < 2 {
                    blind_retries += 1;
                    continue;
                }
                if stepped_up {
                    return Err("the resource server still refuses after a step-up".into());
                }
                // Draft §3.1 steps 7-10, §4.4: a new authorization for the actor with the
                // scope the challenge names, then a new token, then the retry.
                stepped_up = true;
                scope = union_scope(&scope, &needed);
                token = agent.authorize_and_redeem(&scope).await?;
            }
            Resource::Refused(why) => return Err(why),
        }
    }
}

async fn discover(http: &reqwest::Client, issuer: &str) -> Outcome<Metadata> {
    let url = format!(
        "{}/.well-known/oauth-authorization-server",
        issuer.trim_end_matches('/')
    );
    let v: Value = get_json(http.get(&url)).await?;
    // RFC 8414 §3.3: the metadata's issuer is the issuer we were configured with.
    if v["issuer"].as_str() != Some(issuer) {
        return Err(format!("metadata issuer {} is not {issuer}", v["issuer"]));
    }
    let field = |name: &str| {
        v[name]
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("metadata has no {name}"))
    };
    Ok(Metadata {
        authorization_endpoint: field("authorization_endpoint")?,
        token_endpoint: field("token_endpoint")?,
        iss_supported: v["authorization_response_iss_parameter_supported"] == Value::Bool(true),
    })
}

async fn get_json(req: reqwest::RequestBuilder) -> Outcome<Value> {
    let resp = req
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| format!("body: {e}"))?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {}", clip(&text)));
    }
    serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {}", clip(&text)))
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

/// 32 random octets, base64url: 43 characters of the unreserved set (RFC 7636 §4.1).
fn random_b64() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn union_scope(have: &str, needed: &str) -> String {
    let mut out: Vec<&str> = have.split_whitespace().collect();
    for s in needed.split_whitespace() {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out.join(" ")
}

enum Resource {
    Ok,
    /// 403 insufficient_scope with the scope the challenge names.
    InsufficientScope(String),
    Refused(String),
}

/// `name="value"` from a WWW-Authenticate challenge.
fn auth_param(header: &str, name: &str) -> Option<String> {
    let at = header.find(&format!("{name}=\""))?;
    // Make sure the match starts a parameter (not the tail of another name).
    if at > 0 && !matches!(header.as_bytes()[at - 1], b' ' | b',') {
        return None;
    }
    let rest = &header[at + name.len() + 2..];
    rest.find('"').map(|end| rest[..end].to_string())
}

impl Agent {
    fn fault(&self, name: &str) -> bool {
        self.faults.contains(name)
    }

    /// The actor authenticates with its own credentials (AMB-7).
    async fn obtain_actor_token(&self) -> Outcome<String> {
        let req = self
            .http
            .post(&self.meta.token_endpoint)
            .basic_auth(&self.s.actor_client_id, Some(&self.s.actor_client_secret))
            .form(&[("grant_type", "client_credentials")]);
        let v = get_json(req)
            .await
            .map_err(|e| format!("actor token: {e}"))?;
        v["access_token"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| "actor token response has no access_token".into())
    }

    /// One authorization request and the code redemption; returns the access token.
    async fn authorize_and_redeem(&self, scope: &str) -> Outcome<String> {
        let state = (!self.fault("no-state")).then(random_b64);
        let verifier = if self.fault("fixed-verifier") {
            // RFC 7636 Appendix B's example verifier: the same for every request.
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_string()
        } else {
            random_b64()
        };
        let mut url = Url::parse(&self.meta.authorization_endpoint)
            .map_err(|e| format!("authorization_endpoint: {e}"))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.s.client_id)
                .append_pair("redirect_uri", &self.s.redirect_uri)
                .append_pair("scope", scope);
            if let Some(state) = &state {
                q.append_pair("state", state);
            }
            if self.fault("pkce-plain") {
                q.append_pair("code_challenge", &verifier)
                    .append_pair("code_challenge_method", "plain");
            } else if !self.fault("pkce-none") {
                let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                q.append_pair("code_challenge", &challenge)
                    .append_pair("code_challenge_method", "S256");
            }
            if !self.fault("no-requested-actor") {
                q.append_pair("requested_actor", &self.s.actor_id);
            }
        }
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("authorization request: {e}"))?;
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
            .ok_or_else(|| {
                format!(
                    "authorization request: HTTP {} without a redirect (this client needs an AS that consents without a browser)",
                    resp.status()
                )
            })?;
        let code = self.authorization_response(&location, state.as_deref())?;
        self.redeem(&code, &verifier).await
    }

    /// Checks the redirect to the client and returns the code.
    fn authorization_response(&self, location: &str, state: Option<&str>) -> Outcome<String> {
        if !location.starts_with(&self.s.redirect_uri) {
            return Err("the authorization response does not go to our redirect_uri".into());
        }
        let url = Url::parse(location).map_err(|e| format!("redirect: {e}"))?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        // RFC 6749 §10.12 (OBO-INH-25): a response whose state is not ours is a CSRF attempt.
        if !self.fault("state-unchecked") && param("state").as_deref() != state {
            return Err("refused: the authorization response's state is not the one sent".into());
        }
        // RFC 9207 §2.4 (OBO-INH-12): iss, when present or promised, names our issuer.
        if !self.fault("iss-unchecked") {
            match param("iss") {
                Some(iss) if iss != self.s.issuer => {
                    return Err(
                        "refused: the authorization response's iss is not our issuer".into(),
                    )
                }
                None if self.meta.iss_supported => {
                    return Err("refused: the authorization response lacks iss".into())
                }
                _ => {}
            }
        }
        if let Some(error) = param("error") {
            return Err(format!("authorization refused: {error}"));
        }
        param("code").ok_or_else(|| "the authorization response has no code".into())
    }

    /// The token request of draft §4.2: the code, PKCE verifier and the actor's own token.
    async fn redeem(&self, code: &str, verifier: &str) -> Outcome<String> {
        let redirect_uri = if self.fault("wrong-redirect-uri") {
            format!("{}/elsewhere", self.s.redirect_uri)
        } else {
            self.s.redirect_uri.clone()
        };
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("client_id", &self.s.client_id),
        ];
        if !self.fault("pkce-none") {
            form.push(("code_verifier", verifier));
        }
        if !self.fault("actor-token-missing") {
            form.push(("actor_token", &self.actor_token));
        }
        let mut url =
            Url::parse(&self.meta.token_endpoint).map_err(|e| format!("token_endpoint: {e}"))?;
        if self.fault("secret-in-query") {
            url.query_pairs_mut()
                .append_pair("client_id", &self.s.client_id)
                .append_pair(
                    "client_secret",
                    self.s.client_secret.as_deref().unwrap_or(""),
                );
        }
        let mut req = self.http.post(url).form(&form);
        if let Some(secret) = &self.s.client_secret {
            req = req.basic_auth(form_encode(&self.s.client_id), Some(form_encode(secret)));
        }
        let v = get_json(req)
            .await
            .map_err(|e| format!("token request: {e}"))?;
        let token = v["access_token"]
            .as_str()
            .ok_or("the token response has no access_token")?
            .to_string();
        if !self.fault("accepts-wrong-act") {
            self.check_act(&token)?;
        }
        Ok(token)
    }

    /// Draft §4.3: a JWT access token's act.sub names our actor; an opaque one is not read.
    fn check_act(&self, token: &str) -> Outcome<()> {
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Ok(());
        }
        let Some(claims) = URL_SAFE_NO_PAD
            .decode(parts[1].trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        else {
            return Ok(());
        };
        match claims["act"]["sub"].as_str() {
            Some(sub) if sub == self.s.actor_id => Ok(()),
            Some(_) => Err("refused: the access token's act.sub names another actor".into()),
            None => Err("refused: the access token has no act.sub".into()),
        }
    }

    async fn call_resource(&self, token: &str) -> Outcome<Resource> {
        let mut req = self.http.get(&self.s.rs_url).bearer_auth(token);
        if self.fault("actor-token-to-rs") {
            req = req.header("X-Actor-Token", &self.actor_token);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("resource request: {e}"))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(Resource::Ok);
        }
        let challenge = resp
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if status == reqwest::StatusCode::FORBIDDEN
            && auth_param(&challenge, "error").as_deref() == Some("insufficient_scope")
        {
            // RFC 6750 §3 `scope`, or the draft example's `required_scope` (AMB-23).
            let needed = auth_param(&challenge, "scope")
                .or_else(|| auth_param(&challenge, "required_scope"))
                .unwrap_or_default();
            return Ok(Resource::InsufficientScope(needed));
        }
        Ok(Resource::Refused(format!(
            "the resource server answered {status} ({challenge})"
        )))
    }
}

/// RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_params() {
        let h = r#"Bearer error="insufficient_scope", scope="files.write", required_scope="files.write""#;
        assert_eq!(
            auth_param(h, "error").as_deref(),
            Some("insufficient_scope")
        );
        assert_eq!(auth_param(h, "scope").as_deref(), Some("files.write"));
        assert_eq!(
            union_scope("files.read", "files.write files.read"),
            "files.read files.write"
        );
    }

    #[test]
    fn verifier_is_rfc7636() {
        let v = random_b64();
        assert_eq!(v.len(), 43);
        assert!(v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        assert_ne!(v, random_b64());
    }
}
