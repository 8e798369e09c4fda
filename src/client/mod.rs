//! Client conformance mode (`obo-conformance client`): judges an OAuth client or AI agent
//! against the draft's client-side obligations.
//!
//! For each scenario of cases/client/ ([`scenario`]) the harness starts the reference AS + RS
//! in-process (auto-consent for `alice`, control API on) behind a recording reverse proxy
//! ([`proxy`]) whose URL is the issuer, runs the client under test against the proxy
//! ([`driver`]: a command with the environment of [`Env`], or a client the vendor starts with
//! `--listen`), and judges the recorded traffic ([`judge`]). The client's exit status is
//! informative only: a client that refuses an attack shows it by not proceeding. Verdicts,
//! reports and exit codes are those of server runs; [`selfcheck`] proves every client fault of
//! the reference agent client (`agent-client/`) is caught by a case citing the requirement it
//! breaks.

pub mod driver;
pub mod judge;
pub mod proxy;
pub use crate::case::client_scenario as scenario;
mod command;
mod report;
pub mod selfcheck;

pub use command::{command, default_command, ClientArgs};
use report::{build_report, result, transcript};

use std::time::Instant;

use obo_report::{CaseResult, Report, Verdict};
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::verdict::Ending;
use driver::{ClientUnderTest, RunEnd};
use proxy::{Proxy, ProxyConfig, Record};
use scenario::{ResourceKind, Scenario};

/// The registered client, actor and user the client under test is given (demo registry of
/// docs/contracts.md; public values, not vendor secrets).
const CLIENT_ID: &str = "obo-client";
const CLIENT_SECRET: &str = "obo-client-secret";
const DEFAULT_REDIRECT: &str = "https://client.example/cb";
const ACTOR_ID: &str = "agent-a";
const ACTOR_SECRET: &str = "agent-a-secret";
/// The other registered actor, named by the wrong_act behaviour's tokens.
const OTHER_ACTOR: &str = "agent-b";
const USER: &str = "alice";
const REGISTERED_ACTORS: &[&str] = &["agent-a", "agent-b", "agent-disabled"];

/// What one scenario run is told (the client contract's environment).
#[derive(Debug, Clone)]
pub struct Env {
    pub issuer: String,
    pub rs_url: String,
    pub redirect_uri: String,
    pub scope: String,
}

impl Env {
    /// The variables, in a stable order (README documents each).
    pub fn vars(&self, scenario: &str) -> Vec<(String, String)> {
        [
            ("OBO_AS_ISSUER", self.issuer.clone()),
            (
                "OBO_AUTHORIZATION_ENDPOINT",
                format!("{}/authorize", self.issuer),
            ),
            ("OBO_TOKEN_ENDPOINT", format!("{}/token", self.issuer)),
            ("OBO_RS_URL", self.rs_url.clone()),
            ("OBO_CLIENT_ID", CLIENT_ID.into()),
            ("OBO_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("OBO_REDIRECT_URI", self.redirect_uri.clone()),
            ("OBO_ACTOR_ID", ACTOR_ID.into()),
            ("OBO_ACTOR_CLIENT_ID", ACTOR_ID.into()),
            ("OBO_ACTOR_CLIENT_SECRET", ACTOR_SECRET.into()),
            ("OBO_SCOPE", self.scope.clone()),
            ("OBO_SCENARIO", scenario.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// Options shared by every scenario of a run.
#[derive(Debug, Clone)]
pub struct Options {
    pub client: ClientUnderTest,
    pub port: u16,
    pub redirect_uri: Option<String>,
    pub seed: u64,
    /// Print each scenario's environment and wait (listen mode).
    pub announce: bool,
}

fn judge_context(redirect_uri: &str) -> judge::Context {
    judge::Context {
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        redirect_uri: redirect_uri.into(),
        actor_id: ACTOR_ID.into(),
        actor_secret: ACTOR_SECRET.into(),
        registered_actors: REGISTERED_ACTORS.iter().map(|s| s.to_string()).collect(),
    }
}

/// Runs one scenario: server + proxy, the client's runs, the judgement.
pub async fn run_scenario(s: &Scenario, opts: &Options) -> CaseResult {
    let started = Instant::now();
    let redirect_uri = opts
        .redirect_uri
        .clone()
        .unwrap_or_else(|| DEFAULT_REDIRECT.into());
    let (records, ends, proxy_url) = match drive(s, opts, &redirect_uri).await {
        Ok(x) => x,
        Err(why) => return result(s, Ending::Errored(why), Vec::new(), Vec::new(), started, ""),
    };
    let ctx = judge_context(&redirect_uri);
    let (checks, ending) = judge::judge(s, &ctx, &records);
    let transcript = transcript(&records, &proxy_url, &ctx);
    let ends: Vec<String> = ends.iter().map(RunEnd::describe).collect();
    result(s, ending, checks, transcript, started, &ends.join(", "))
}

type Driven = (Vec<Record>, Vec<RunEnd>, String);

async fn drive(s: &Scenario, opts: &Options, redirect_uri: &str) -> Result<Driven, String> {
    let (listener, public) = proxy::bind(opts.port)
        .await
        .map_err(|e| format!("cannot bind 127.0.0.1:{}: {e}", opts.port))?;
    let mut config = obo_reference_server::Config {
        issuer: Some(public.clone()),
        auto_consent: Some(USER.into()),
        control_api: true,
        ..Default::default()
    };
    if let Some(c) = config
        .registry
        .clients
        .iter_mut()
        .find(|c| c.id == CLIENT_ID)
    {
        if !c.redirect_uris.iter().any(|u| u == redirect_uri) {
            c.redirect_uris.push(redirect_uri.to_string());
        }
    }
    let server = obo_reference_server::spawn(config)
        .await
        .map_err(|e| format!("the reference server did not start: {e}"))?;
    let cfg = ProxyConfig {
        behaviour: s.behaviour,
        other_actor: OTHER_ACTOR.into(),
        forged_state: forged_state(opts.seed, &s.id),
    };
    let proxy = match Proxy::start(listener, public.clone(), server.base_url(), cfg) {
        Ok(p) => p,
        Err(e) => {
            server.shutdown().await;
            return Err(e);
        }
    };
    let rs_url = match s.resource {
        ResourceKind::Actor => format!("{public}/resource/actor/{ACTOR_ID}"),
        ResourceKind::Read => format!("{public}/resource"),
        ResourceKind::Write => format!("{public}/resource/write"),
    };
    let env = Env {
        issuer: public.clone(),
        rs_url,
        redirect_uri: redirect_uri.to_string(),
        scope: s.scope.clone(),
    };
    let vars = env.vars(&s.id);
    if opts.announce {
        announce(s, &vars);
    }
    let mut ends = Vec::new();
    for run in 0..s.runs {
        proxy.set_run(run);
        ends.push(driver::run_once(&opts.client, &vars, &proxy).await);
    }
    let records = proxy.records();
    proxy.shutdown().await;
    server.shutdown().await;
    Ok((records, ends, public))
}

/// Listen mode: what to start, on stdout.
fn announce(s: &Scenario, vars: &[(String, String)]) {
    println!("\n== {} — {}", s.id, s.title);
    println!(
        "start your client{} with:",
        if s.runs > 1 {
            format!(" {} times", s.runs)
        } else {
            String::new()
        }
    );
    for (k, v) in vars {
        println!("export {k}='{v}'");
    }
}

/// The value the wrong_state behaviour puts into `state` (from the printed seed).
fn forged_state(seed: u64, id: &str) -> String {
    let digest = Sha256::digest(format!("{seed}:{id}").as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("forged-{hex}")
}

/// Scenarios matching the filters (exact IDs or globs; empty: all).
pub fn select(all: &[Scenario], filters: &[String]) -> Result<Vec<Scenario>, String> {
    let terms: Vec<&str> = filters
        .iter()
        .flat_map(|f| f.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if terms.is_empty() {
        return Ok(all.to_vec());
    }
    let mut globs = globset::GlobSetBuilder::new();
    for t in &terms {
        globs.add(
            globset::Glob::new(&t.to_uppercase()).map_err(|e| format!("--scenarios {t}: {e}"))?,
        );
    }
    let set = globs.build().map_err(|e| format!("--scenarios: {e}"))?;
    let picked: Vec<Scenario> = all
        .iter()
        .filter(|s| set.is_match(&s.id))
        .cloned()
        .collect();
    if picked.is_empty() {
        return Err(format!(
            "--scenarios {}: no client scenario matches",
            terms.join(",")
        ));
    }
    Ok(picked)
}

/// Runs the scenarios one after the other (each owns its server) into a report.
pub async fn run_all(
    scenarios: &[Scenario],
    catalog: &Catalog,
    opts: &Options,
    describe: &str,
) -> Report {
    let started_at = time::OffsetDateTime::now_utc();
    let t0 = Instant::now();
    let mut cases = Vec::new();
    for s in scenarios {
        cases.push(run_scenario(s, opts).await);
    }
    build_report(
        catalog,
        cases,
        opts.seed,
        describe,
        started_at,
        t0.elapsed(),
    )
}

/// Whether a verdict counts as the client being caught (fail, or warn for a SHOULD).
pub fn caught(v: Verdict) -> bool {
    matches!(v, Verdict::Fail | Verdict::Warn)
}

/// Loads the scenarios of a catalogue folder (for tests and tools).
pub fn load(catalog: &Catalog) -> Result<Vec<Scenario>, Vec<String>> {
    scenario::load_dir(&scenario::dir_of(&catalog.dir), &catalog.requirements)
}
