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
//! Modules: [`case`] (case language types), [`catalog`], [`profile`], [`session`] (HTTP +
//! transcript), [`consent`] (auto, form, command, manual drivers), [`actor_token`] (token
//! sources and forgeries), [`exec`] (the step interpreter), [`check`] (expectations → checks),
//! [`verdict`], [`run`], [`report`]. Leaf modules [`jose`], [`forge`], [`redact`], [`html_form`].

pub mod actor_token;
pub mod artefacts;
pub mod capability;
pub mod case;
pub mod catalog;
pub mod check;
pub mod client;
pub mod consent;
pub mod coverage;
pub mod exec;
pub mod explain;
pub mod fuzz;
pub mod profile;
pub mod report;
pub mod run;
pub mod selfcheck;
pub mod session;
pub mod util;
pub mod vars;
pub mod verdict;

pub mod forge;
pub mod html_form;
pub mod jose;
pub mod redact;
