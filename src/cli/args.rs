//! The command-line grammar: every subcommand, argument, example and the exit-code table.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use obo_conformance::output::exit;

const EXAMPLES: &str = "\
Examples:
  obo-conformance run                                  # the catalogue against the built-in reference
  obo-conformance run --target acme.toml --out out     # against your implementation
  obo-conformance run --cases req:OBO-TOKEN-12 --format json > results.jsonl
  obo-conformance explain TOKEN-ACTOR-MISMATCH
  obo-conformance completions bash > /etc/bash_completion.d/obo-conformance";

fn after_help() -> String {
    format!("{EXAMPLES}\n\n{}", exit::TABLE)
}

#[derive(Parser)]
#[command(
    name = "obo-conformance",
    version,
    about = "Conformance suite for OAuth 2.0 On-Behalf-Of user authorization for AI agents",
    after_help = after_help()
)]
pub struct Cli {
    /// Folder of the case catalogue (requirements.toml and the case files) to use instead of the
    /// one built into the binary; a `cases/` folder in the working directory is used only when
    /// named here. Default: the environment variable OBO_CASES_DIR when set and not empty.
    #[arg(long, global = true, value_name = "DIR")]
    pub cases_dir: Option<PathBuf>,
    /// Colour of terminal output; `auto` honours NO_COLOR and CLICOLOR_FORCE.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress and no banner: only failures, the totals and where the reports are.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// When to colour terminal output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless NO_COLOR is set; always when CLICOLOR_FORCE is set.
    Auto,
    /// Colour even when piped.
    Always,
    /// No colour.
    Never,
}

/// What `schema` describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// A target profile (the TOML file of `run --target` and `validate-profile`).
    Profile,
}

/// How `run` prints case results on standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Progress on standard error, a summary with failures first on standard output.
    Human,
    /// One JSON object per finished case on standard output (JSON lines), then one summary line.
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run cases against a target; write report.json, .html, .md, junit.xml and report.sarif.
    #[command(after_help = after_help())]
    Run(RunArgs),
    /// List the cases (ID, level, revisions, needs, title).
    #[command(
        after_help = "Examples:\n  obo-conformance list --cases tag:adversarial\n  obo-conformance list --cases 'TOKEN-*,req:OBO-AT-3'"
    )]
    List {
        /// Filter: ID, glob, tag:NAME, req:ID or a requirement ID (repeatable, comma-separated).
        #[arg(long)]
        cases: Vec<String>,
    },
    /// Explain one case: requirement text, steps, acceptable outcomes.
    #[command(after_help = "Example:\n  obo-conformance explain token-actor-mismatch")]
    Explain {
        /// Case ID (any letter case), as `list` shows it.
        id: String,
    },
    /// Validate a profile file (fields, values) without contacting the target.
    #[command(
        after_help = "Example:\n  obo-conformance validate-profile examples/targets/acme.toml"
    )]
    ValidateProfile {
        /// The profile (TOML) to check.
        file: PathBuf,
    },
    /// Requirement × case matrix; writes coverage.md and coverage.json; exit 1 on a MUST gap.
    Coverage {
        /// Output folder for coverage.md and coverage.json.
        #[arg(long, value_name = "DIR", default_value = "reports/coverage")]
        out: PathBuf,
    },
    /// Model-based fuzzing: random operation sequences checked against the draft's rules;
    /// a counterexample is shrunk and reported; exit 1 on a counterexample.
    #[command(
        after_help = "Examples:\n  obo-conformance fuzz --seed 7 --iterations 200\n  obo-conformance fuzz --fault skip-actor-binding\n  obo-conformance fuzz --target my-as.toml --seed 3 --iterations 100\n  obo-conformance fuzz --replay out/counterexample.json"
    )]
    Fuzz(FuzzArgs),
    /// The suite checks itself: the catalogue against the clean reference server and once per
    /// fault switch; writes kill-matrix.md and kill-matrix.json; exit 1 on an uncaught fault.
    Selfcheck(SelfcheckArgs),
    /// Judge an OAuth client or AI agent: the reference AS + RS behind a recording proxy, the
    /// client run once per scenario of cases/client/; same reports and exit codes as `run`.
    #[command(
        after_help = "Examples:\n  obo-conformance client --command target/debug/obo-agent-client\n  obo-conformance client --selfcheck\n  obo-conformance client --listen"
    )]
    Client(obo_conformance::client::ClientArgs),
    /// What changed between two runs' report.json, regressions first; exit 1 on a regression.
    #[command(
        after_help = "Example:\n  obo-conformance diff main/report.json pr/report.json --md >> comment.md"
    )]
    Diff {
        /// The earlier run's report.json.
        before: PathBuf,
        /// The later run's report.json.
        after: PathBuf,
        /// Markdown (for a PR comment) instead of text.
        #[arg(long)]
        md: bool,
    },
    /// Runs side by side (one column per target and revision); Markdown when -o ends in .md.
    /// Join the shard reports of one run (`run --shard K/N`) into one report.
    #[command(after_help = "Example:\n  obo-conformance merge out/shard-*/ --out out/merged")]
    Merge {
        /// Shard output folders (holding report.json) or report.json files.
        #[arg(required = true, value_name = "DIR|REPORT.json")]
        shards: Vec<PathBuf>,
        /// Folder for the merged run's artefacts.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Ambiguity report and per-requirement matrix over runs of several implementations.
    #[command(
        after_help = "Example:\n  obo-conformance interop merged/*/report.json --out interop"
    )]
    Interop {
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// Folder for interop.md and interop.html.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    Matrix {
        /// Two or more report.json files.
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// Output file (.html, or .md for Markdown).
        #[arg(short, long, value_name = "FILE", default_value = "matrix.html")]
        out: PathBuf,
    },
    /// The five artefacts again from a kept report.json (optionally normalised and judged).
    Render {
        /// A report.json of an earlier run.
        report: PathBuf,
        /// Output folder for the five artefacts.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Zero timestamps, durations and ports; number the target's random values.
        #[arg(long)]
        normalize: bool,
        /// Judge the report against this known-failures file (exit code as for `run`).
        #[arg(long, value_name = "FILE")]
        expectations: Option<PathBuf>,
    },
    /// Print a JSON Schema (draft 2020-12) generated from the harness's own types.
    #[command(
        after_help = "Example:\n  obo-conformance schema profile > profile.schema.json\n\nThe same schema is docs/profile.schema.json; examples/targets/vendor-template.toml names it\nin a `#:schema` line that taplo and Even Better TOML read."
    )]
    Schema {
        /// The file format to describe.
        what: SchemaKind,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example:\n  obo-conformance completions zsh > ~/.zfunc/_obo-conformance"
    )]
    Completions {
        /// The shell to complete for.
        shell: Shell,
    },
    /// Print the man page (roff) on standard output.
    #[command(
        after_help = "Example:\n  obo-conformance man > obo-conformance.1 && man ./obo-conformance.1"
    )]
    Man,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// A profile file, or a built-in profile: `reference` (default) or `reference-form`.
    #[arg(long, default_value = "reference")]
    pub target: String,
    /// Filter: ID, glob, tag:NAME, req:ID or a requirement ID (repeatable, comma-separated).
    #[arg(long)]
    pub cases: Vec<String>,
    /// Output folder (default: reports/runs/<UTC timestamp>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Cases in flight at once.
    #[arg(long, default_value_t = 8)]
    pub jobs: usize,
    /// Seed of all randomness (default: random, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Accept only the preferred reading of each list of acceptable outcomes.
    #[arg(long)]
    pub strict: bool,
    /// Per-request timeout in seconds, discovery and JWKS included (overrides the profile's
    /// http.timeout_secs).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Follow discovery metadata that names an endpoint on an origin the profile does not
    /// declare (with a warning); same as the profile's http.allow_cross_origin. Link-local and
    /// other non-target addresses are refused regardless.
    #[arg(long)]
    pub allow_cross_origin: bool,
    /// Exit 1 when a case warns.
    #[arg(long)]
    pub fail_on_warn: bool,
    /// Built-in targets only: start the reference server with this fault (repeatable;
    /// `obo-reference-server --list-faults` lists them).
    #[arg(long, value_name = "NAME")]
    pub fault: Vec<String>,
    /// Built-in targets only: latency added to every response, in ms (benchmarks).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Built-in targets only: draft revision of the reference server (00, 01, 02).
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    /// Known-failures file: exit on unexpected results and stale entries (reports/README.md).
    #[arg(long, value_name = "FILE")]
    pub expectations: Option<PathBuf>,
    /// Write this run's results as the --expectations file instead of judging against it.
    #[arg(long, requires = "expectations")]
    pub update_expectations: bool,
    /// Case results on standard output as text (`human`) or JSON lines (`json`).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Run only shard K of N (1 <= K <= N) of the selected cases: a deterministic slice
    /// balanced by estimated cost; give every shard the same --seed, then `merge` them.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<obo_conformance::exec::schedule::Shard>,
}

/// `obo-conformance fuzz` arguments.
#[derive(clap::Args)]
pub struct FuzzArgs {
    /// A profile file (no control API needed: each sequence is self-contained; the control
    /// adapter's operations are used when mapped), or `reference` / `reference-form` (a fresh
    /// in-process server per sequence).
    #[arg(long, default_value = "reference")]
    pub target: String,
    /// Built-in targets only: start the reference server with this fault (repeatable).
    #[arg(long, value_name = "NAME")]
    pub fault: Vec<String>,
    /// Seed of the sequences (default: random, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Sequences to run.
    #[arg(long, default_value_t = 100)]
    pub iterations: usize,
    /// Operations per sequence.
    #[arg(long, default_value_t = 12)]
    pub length: usize,
    /// Most target runs spent shrinking a counterexample.
    #[arg(long, default_value_t = 150)]
    pub shrink_runs: usize,
    /// Run a saved sequence (counterexample.json of an earlier run) once instead of fuzzing.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Output folder for report.json, counterexample.json and counterexample.toml (default:
    /// reports/runs/<UTC timestamp>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `obo-conformance selfcheck` arguments.
#[derive(clap::Args)]
pub struct SelfcheckArgs {
    /// Output folder for kill-matrix.md and kill-matrix.json.
    #[arg(long, value_name = "DIR", default_value = "reports/selfcheck")]
    pub out: PathBuf,
    /// Catalogue runs (one reference server each) in flight at once.
    #[arg(long, default_value_t = 8)]
    pub jobs: usize,
    /// Cases in flight at once within each run.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub case_jobs: usize,
    /// Seed of all randomness (the same seed for every run, so runs differ only by the fault).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Check only these faults (repeatable; default: every fault of the reference server).
    #[arg(long, value_name = "NAME")]
    pub fault: Vec<String>,
}
