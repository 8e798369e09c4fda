//! obo-conformance: the conformance harness for draft-oauth-ai-agents-on-behalf-of-user.
//!
//! It drives any implementation (a *target*, described by a profile) through the scenarios of
//! cases/ and gives each a verdict from the responses it observed.
//!
//! # Library use
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use obo_conformance::{catalog, profile, run};
//! let catalog = catalog::load(&catalog::default_dir())?;
//! // The built-in reference target (in-process server, auto-consent, control API);
//! // `faults` starts it with fault switches, `form: true` with real pages.
//! let target = Arc::new(profile::reference::reference(profile::reference::ReferenceOptions::default()).await?);
//! let opts = run::RunOptions { seed: 42, ..Default::default() };
//! let report = run::run_catalog(target.clone(), &catalog, &catalog.cases, &opts).await;
//! // One case by ID:
//! let case = catalog.case("TOKEN-ACTOR-MISMATCH").expect("known case");
//! let result = run::run_case(target.clone(), case, &opts).await;
//! target.shutdown().await;
//! # let _ = (report, result); Ok(()) }
//! ```
//!
//! - [`catalog::load`]`(dir)` loads and validates cases/ and cases/requirements.toml.
//! - [`profile::load_file`] + [`profile::resolve`] read a target profile and discover it;
//!   [`profile::reference::reference`] starts the bundled reference server (any faults, latency,
//!   revision, form mode) and resolves the matching built-in profile.
//! - [`run::run_catalog`] runs cases (parallel, exclusive ones alone) into an
//!   [`obo_report::Report`]; [`run::run_case`] runs one; [`run::select`] applies `--cases` filters.
//! - [`report::write_json`] writes report.json.
//!
//! Modules: [`case`] (case language types), [`catalog`], [`target`] (profiles, discovery, the
//! built-in reference target; also reachable as `profile`), [`session`] (HTTP + transcript),
//! [`consent`] (auto, form, command, manual drivers), [`actor_token`] (token sources and
//! forgeries), [`exec`] (the step interpreter), [`check`] (expectations → checks), [`verdict`],
//! [`run`], [`output`] (report.json, the five artefacts, the exit-code table), [`tools`]
//! (explain, coverage, selfcheck, fuzz). Leaf modules [`jose`], [`forge`], [`redact`],
//! [`html_form`]. The command line is the binary's own (src/cli/).
//!
//! Features: `cli` (the binary's clap, completions, man page, progress bar) and `reference` (the
//! in-process reference target; `selfcheck` and `fuzz` need it), both default.

pub mod case;
pub mod check;
#[cfg(all(feature = "cli", feature = "reference"))]
pub mod client;
pub mod exec;
pub mod jose;
pub mod output;
pub mod target;
pub mod tools;
pub mod util;

// Paths from before the modules were grouped by role; kept so callers and tests keep working.
pub use case::{capability, catalog, vars};
pub use check::verdict;
pub use exec::consent::{self, html_form};
pub use exec::schedule as run;
pub use exec::session;
pub use exec::tokens::{actor_token, forge};
pub use output::{artefacts, redact, report};
pub use target as profile;
pub use tools::{coverage, explain};
#[cfg(feature = "reference")]
pub use tools::{fuzz, selfcheck};
