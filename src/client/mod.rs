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
pub mod selfcheck;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use obo_report::{
    CaseResult, Exchange, HttpRequest, HttpResponse, Report, RequirementInfo, Summary, Target,
    Verdict,
};
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::redact::Redactor;
use crate::verdict::{decide, Ending};
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

/// `obo-conformance client` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ClientArgs {
    /// The client under test: a shell command line run once per scenario run, with the
    /// environment of the client contract (README, "Testing a client or agent").
    /// Default: the reference agent client built beside this binary.
    #[arg(long, value_name = "LINE", conflicts_with = "listen")]
    pub command: Option<String>,
    /// Print the URLs and environment of each scenario and wait for a client started by hand.
    #[arg(long)]
    pub listen: bool,
    /// Port of the suite's server (default: a free one; pick one for --listen).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Scenario IDs or globs (`CLIENT-*`), comma-separated or repeated; default: all.
    #[arg(long, value_name = "ID")]
    pub scenarios: Vec<String>,
    /// Output folder (default: reports/runs/<UTC timestamp>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seconds one run of the client may take (command mode) or the longest wait (listen mode).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Listen mode: seconds without a request after which a run is judged.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub idle: u64,
    /// The client's registered redirect_uri (added to the demo client `obo-client`).
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// Seed of the suite's own values (the forged state); default random, printed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Exit 1 when a scenario warns.
    #[arg(long)]
    pub fail_on_warn: bool,
    /// Run the scenarios against the reference agent client clean and once per fault switch
    /// (`--list-faults` of the command); exit 1 unless every fault is caught.
    #[arg(long, conflicts_with = "listen")]
    pub selfcheck: bool,
    /// Selfcheck: fault runs in flight at once.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
}

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

fn result(
    s: &Scenario,
    ending: Ending,
    checks: Vec<obo_report::Check>,
    transcript: Vec<Exchange>,
    started: Instant,
    ends: &str,
) -> CaseResult {
    let (verdict, mut message) = decide(&ending, &checks);
    if !ends.is_empty() {
        message = crate::util::clip(&format!("{message} ({ends})"), crate::verdict::MESSAGE_MAX);
    }
    CaseResult {
        id: s.id.clone(),
        title: s.title.clone(),
        verdict,
        requirements: s.all_requirements().into_iter().collect(),
        scenarios: s.scenarios.clone(),
        level: s.level,
        tags: s.tags.clone(),
        message,
        checks,
        duration_ms: started.elapsed().as_millis() as u64,
        transcript,
        readings: Vec::new(),
    }
}

/// Records → report exchanges, with every credential redacted: the demo secrets, and every
/// code, state and PKCE verifier the run saw (signatures of JWTs are cut by the redactor).
fn transcript(records: &[Record], base: &str, ctx: &judge::Context) -> Vec<Exchange> {
    let mut r = Redactor::default()
        .with_basic_pair(&ctx.client_id, ctx.client_secret.as_deref().unwrap_or(""))
        .with_basic_pair(&ctx.actor_id, &ctx.actor_secret);
    for rec in records {
        for name in ["code", "state", "code_verifier", "actor_token"] {
            if let Some(v) = rec.param(name) {
                r.add_secret(v);
            }
            if let Some(v) = rec.location_param(name) {
                r.add_secret(&v);
            }
        }
    }
    records
        .iter()
        .map(|rec| {
            let mut url = format!("{base}{}", rec.path);
            if !rec.query.is_empty() {
                let q: String = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&rec.query)
                    .finish();
                url = format!("{url}?{q}");
            }
            let headers = |h: &[(String, String)]| -> Vec<(String, String)> {
                h.iter()
                    .map(|(k, v)| (k.clone(), r.redact_header(k, v)))
                    .collect()
            };
            let mut body = rec.resp_body.clone();
            if let Some(t) = &rec.tampered {
                body = format!("[suite: {t}]\n{body}");
            }
            Exchange {
                step: rec.run as usize,
                request: HttpRequest {
                    method: rec.method.clone(),
                    url: r.redact(&url),
                    headers: headers(&rec.headers),
                    body: (!rec.body.is_empty()).then(|| r.redact(&rec.body)),
                },
                response: rec.status.map(|status| HttpResponse {
                    status,
                    headers: headers(&rec.resp_headers),
                    body: (!body.is_empty()).then(|| r.redact(&body)),
                    truncated: rec.resp_truncated,
                }),
                error: rec.error.clone(),
                duration_ms: rec.duration_ms,
            }
        })
        .collect()
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

fn build_report(
    catalog: &Catalog,
    cases: Vec<CaseResult>,
    seed: u64,
    describe: &str,
    started_at: time::OffsetDateTime,
    took: Duration,
) -> Report {
    let requirements: BTreeMap<String, RequirementInfo> = cases
        .iter()
        .flat_map(|c| c.requirements.iter())
        .filter_map(|id| {
            catalog.requirements.get(id).map(|r| {
                (
                    id.clone(),
                    RequirementInfo {
                        section: r.section.clone(),
                        level: r.level.clone(),
                        text: r.text.clone(),
                    },
                )
            })
        })
        .collect();
    let digest: String = Sha256::digest(describe.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Report {
        schema_version: obo_report::SCHEMA_VERSION.to_string(),
        suite_version: env!("CARGO_PKG_VERSION").to_string(),
        target: Target {
            name: "client-under-test".into(),
            issuer: describe.to_string(),
            revision: "02".into(),
            profile_digest: digest,
            capabilities: Vec::new(),
        },
        seed,
        diagnosis: Vec::new(),
        ambiguities: Default::default(),
        invocation: None,
        replay: Default::default(),
        expectations: None,
        strict: false,
        started_at: started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: took.as_millis() as u64,
        summary: Summary::of(&cases),
        cases,
        requirements,
    }
}

/// The reference agent client next to this executable (target/debug/obo-agent-client).
pub fn default_command() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    // Test binaries live one level deeper (target/debug/deps).
    [dir.to_path_buf(), dir.parent()?.to_path_buf()]
        .into_iter()
        .map(|d| d.join(format!("obo-agent-client{}", std::env::consts::EXE_SUFFIX)))
        .find(|p| p.exists())
        .map(|p| p.display().to_string())
}

/// `obo-conformance client`: returns the exit code (0 pass, 1 a scenario failed, 2 harness
/// trouble, 3 invalid scenario files).
pub fn command(catalog: &Catalog, args: &ClientArgs) -> i32 {
    let all = match scenario::load_dir(&scenario::dir_of(&catalog.dir), &catalog.requirements) {
        Ok(s) => s,
        Err(errors) => {
            eprintln!(
                "error: invalid client scenarios:\n  {}",
                errors.join("\n  ")
            );
            return 3;
        }
    };
    let scenarios = match select(&all, &args.scenarios) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let timeout = Duration::from_secs(args.timeout.clamp(1, 3600));
    let client = if args.listen {
        ClientUnderTest::Listen {
            idle: Duration::from_secs(args.idle.clamp(1, 600)),
            timeout,
        }
    } else {
        let Some(line) = args.command.clone().or_else(default_command) else {
            eprintln!("error: --command: no command given and no obo-agent-client beside this binary (cargo build -p obo-agent-client)");
            return 2;
        };
        ClientUnderTest::Command { line, timeout }
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    eprintln!("obo-conformance client: seed {seed} (replay with --seed {seed})");
    let opts = Options {
        client: client.clone(),
        port: args.port,
        redirect_uri: args.redirect_uri.clone(),
        seed,
        announce: args.listen,
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    if args.selfcheck {
        let ClientUnderTest::Command { line, .. } = &client else {
            return 2;
        };
        return rt.block_on(selfcheck::command(&scenarios, line, &opts, args.jobs));
    }
    // Only the program name: a vendor's command line may carry its own secrets.
    let describe = match &client {
        ClientUnderTest::Command { line, .. } => {
            let program = line.split_whitespace().next().unwrap_or_default();
            let more = if line.trim() != program { " …" } else { "" };
            format!("command: {program}{more}")
        }
        ClientUnderTest::Listen { .. } => "listen".to_string(),
    };
    let mut report = rt.block_on(run_all(&scenarios, catalog, &opts, &describe));
    // Failures first, each with the requirements its failed checks verify.
    let mut shown: Vec<_> = report.cases.iter().collect();
    shown.sort_by_key(|c| (c.verdict != obo_report::Verdict::Fail, c.id.clone()));
    for c in shown {
        let verdict = format!("{:?}", c.verdict).to_uppercase();
        let reqs = c.failed_requirements().join(", ");
        println!("{verdict:5} {} [{reqs}] {}", c.id, c.message);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(crate::report::default_out_dir);
    if let Err(e) = crate::artefacts::write_run(&mut report, &out) {
        eprintln!("error: cannot write the reports to {}: {e}", out.display());
        return 2;
    }
    println!("reports: {}", out.display());
    crate::report::exit_code(&report, args.fail_on_warn)
}

/// Whether a verdict counts as the client being caught (fail, or warn for a SHOULD).
pub fn caught(v: Verdict) -> bool {
    matches!(v, Verdict::Fail | Verdict::Warn)
}

/// Loads the scenarios of a catalogue folder (for tests and tools).
pub fn load(catalog: &Catalog) -> Result<Vec<Scenario>, Vec<String>> {
    scenario::load_dir(&scenario::dir_of(&catalog.dir), &catalog.requirements)
}
