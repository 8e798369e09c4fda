//! `obo-test-target [--port N] [--quirk a,b] [--defect x] [--seed N] [--list]`: runs the test
//! target until interrupted; prints its base URL once it accepts connections.

use clap::Parser;
use obo_test_targets::{spawn, Defect, Options, Quirk};

#[derive(Parser)]
#[command(about = "Independent draft-02 AS + RS with quirk and defect switches")]
struct Cli {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Quirks, comma-separated (see --list).
    #[arg(long, value_delimiter = ',')]
    quirk: Vec<String>,
    /// Defects, comma-separated (see --list).
    #[arg(long, value_delimiter = ',')]
    defect: Vec<String>,
    /// Seed of keys, codes and tokens.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long)]
    actor_token_ttl_secs: Option<i64>,
    #[arg(long)]
    code_ttl_secs: Option<i64>,
    /// Lists quirks and defects (with the requirement each defect breaks) and exits.
    #[arg(long)]
    list: bool,
}

fn list() {
    println!("quirks (conforming):");
    for q in Quirk::ALL {
        println!("  {:<28} {}", q.name(), q.about());
    }
    println!("defects (non-conforming):");
    for d in Defect::ALL {
        println!(
            "  {:<30} {} [breaks {}]",
            d.name(),
            d.about(),
            d.requirements().join(", ")
        );
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if cli.list {
        list();
        return std::process::ExitCode::SUCCESS;
    }
    let mut options = Options {
        port: cli.port,
        seed: cli.seed,
        actor_token_ttl_secs: cli.actor_token_ttl_secs,
        code_ttl_secs: cli.code_ttl_secs,
        ..Default::default()
    };
    for name in cli.quirk.iter().filter(|n| !n.is_empty()) {
        match Quirk::from_name(name) {
            Some(q) => options.quirks.push(q),
            None => {
                eprintln!("error: --quirk: unknown quirk {name:?} (see --list)");
                return std::process::ExitCode::from(2);
            }
        }
    }
    for name in cli.defect.iter().filter(|n| !n.is_empty()) {
        match Defect::from_name(name) {
            Some(d) => options.defects.push(d),
            None => {
                eprintln!("error: --defect: unknown defect {name:?} (see --list)");
                return std::process::ExitCode::from(2);
            }
        }
    }
    eprintln!("seed {}", options.seed);
    let handle = match spawn(options).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: cannot listen: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("{}", handle.base_url);
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    std::process::ExitCode::SUCCESS
}
