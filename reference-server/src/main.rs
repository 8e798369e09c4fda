//! `obo-reference-server`: runs the reference AS + demo RS on 127.0.0.1 and prints its base URL.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use obo_reference_server::{spawn, Config, ConsentUi, Fault, Revision};

#[derive(Parser, Debug)]
#[command(
    name = "obo-reference-server",
    version,
    about = "Reference authorization server for draft-oauth-ai-agents-on-behalf-of-user"
)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// TOML file replacing registry, issuer, TTLs and policy.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Headless mode: /authorize answers with the code redirect for this user.
    #[arg(long, value_name = "USER")]
    auto_consent: Option<String>,
    /// Enable the test-control API under /control.
    #[arg(long)]
    control_api: bool,
    /// Switch on a fault (repeatable); see --list-faults.
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<String>,
    /// Print the faults (name, requirement IDs, description) and exit.
    #[arg(long)]
    list_faults: bool,
    /// Draft revision whose wire names to speak: 00, 01 or 02.
    #[arg(long, default_value = "02")]
    revision: String,
    /// Delay added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Issuer identifier (default: the base URL).
    #[arg(long)]
    issuer: Option<String>,
    /// Connections served at once (default: 4096, or the open-file limit minus 64 if lower).
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Seconds a connection may take to send a request head (also the keep-alive idle timeout).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    header_read_timeout: u64,
    /// Seconds to read a request body and answer (else 408).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    request_timeout: u64,
    /// Login and consent pages: `html` forms, or `spa` (built by script; needs JavaScript).
    #[arg(long, value_name = "html|spa")]
    consent_ui: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.list_faults {
        for f in Fault::ALL {
            println!(
                "{}\t{}\t{}",
                f.name(),
                f.requirements().join(","),
                f.description()
            );
        }
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut config = match &args.config {
        Some(path) => match Config::from_toml_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
    };
    config.port = Some(args.port);
    if args.issuer.is_some() {
        config.issuer = args.issuer;
    }
    config.auto_consent = args.auto_consent;
    if let Some(ui) = &args.consent_ui {
        let Some(ui) = ConsentUi::parse(ui) else {
            eprintln!("error: --consent-ui {ui}: expected html or spa");
            return ExitCode::from(2);
        };
        config.consent_ui = ui;
    }
    config.control_api = args.control_api;
    config.latency = Duration::from_millis(args.latency_ms);
    config.connections.max_connections = args.max_connections;
    config.connections.header_read_timeout = Duration::from_secs(args.header_read_timeout);
    config.connections.request_timeout = Duration::from_secs(args.request_timeout);
    let Some(rev) = Revision::parse(&args.revision) else {
        eprintln!("error: --revision {}: expected 00, 01 or 02", args.revision);
        return ExitCode::from(2);
    };
    config.revision = rev;
    for name in &args.faults {
        match Fault::from_name(name) {
            Some(f) => config.faults.push(f),
            None => {
                eprintln!("error: unknown fault `{name}` (see --list-faults)");
                return ExitCode::from(2);
            }
        }
    }
    let handle = match spawn(config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    println!("{}", handle.base_url());
    if !args.faults.is_empty() {
        eprintln!("faults on: {}", args.faults.join(", "));
    }
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    ExitCode::SUCCESS
}
