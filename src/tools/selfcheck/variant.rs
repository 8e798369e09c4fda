//! The reference-server variants a case can run under, and the plan of which cases run where.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use obo_reference_server::fault::Fault;
use obo_report::{CaseResult, Verdict};

use super::Options;
use crate::case::Case;
use crate::catalog::Catalog;
use crate::profile::reference::{self, ReferenceOptions};
use crate::run::{self, RunOptions};

/// One way to start the reference server. Each case runs under the first variant where it
/// does not skip (consent-page cases need the form variant, -00 cases a -00 server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    pub name: &'static str,
    pub form: bool,
    pub revision: &'static str,
}

impl Variant {
    /// How to start the reference server of this variant with `faults` on.
    pub fn options(&self, faults: Vec<Fault>) -> ReferenceOptions {
        ReferenceOptions {
            form: self.form,
            faults,
            revision: Some(self.revision.to_string()),
            ..Default::default()
        }
    }
}

/// The variants, in the order a case is tried.
pub const VARIANTS: &[Variant] = &[
    Variant {
        name: "reference -02",
        form: false,
        revision: "02",
    },
    Variant {
        name: "reference-form -02",
        form: true,
        revision: "02",
    },
    Variant {
        name: "reference -00",
        form: false,
        revision: "00",
    },
    Variant {
        name: "reference -01",
        form: false,
        revision: "01",
    },
];

/// Starts a reference server of `variant` with `faults` and runs `cases` against it.
async fn run_variant(
    catalog: &Catalog,
    cases: &[Case],
    variant: Variant,
    faults: Vec<Fault>,
    opts: &Options,
) -> Result<Vec<CaseResult>, String> {
    let target = reference::reference(variant.options(faults))
        .await
        .map_err(|e| format!("{}: {e}", variant.name))?;
    let target = Arc::new(target);
    let run_opts = RunOptions {
        seed: opts.seed,
        jobs: opts.case_jobs.max(1),
        strict: false,
        case_timeout: None,
        progress: None,
    };
    let report = run::run_catalog(target.clone(), catalog, cases, &run_opts).await;
    target.shutdown().await;
    Ok(report.cases)
}

/// Which cases run under which variant.
pub(super) type Plan = Vec<(Variant, Vec<Case>)>;

/// Runs a plan with `faults` on, variant after variant.
pub(super) async fn run_plan(
    catalog: &Catalog,
    plan: &Plan,
    faults: &[Fault],
    opts: &Options,
) -> Result<Vec<CaseResult>, String> {
    let mut out = Vec::new();
    for (variant, cases) in plan {
        out.extend(run_variant(catalog, cases, *variant, faults.to_vec(), opts).await?);
    }
    Ok(out)
}

/// The clean run: every case under the first variant where it does not skip. Returns the
/// results (a case skipped everywhere keeps the last variant's reason) and the plan.
pub(super) async fn clean_plan(
    catalog: &Catalog,
    cases: &[Case],
    opts: &Options,
) -> (Result<Vec<CaseResult>, String>, Plan) {
    let mut plan: Plan = Vec::new();
    let mut pending: Vec<Case> = cases.to_vec();
    let mut results: BTreeMap<String, CaseResult> = BTreeMap::new();
    for variant in VARIANTS {
        if pending.is_empty() {
            break;
        }
        let got = match run_variant(catalog, &pending, *variant, vec![], opts).await {
            Ok(r) => r,
            Err(e) => return (Err(e), plan),
        };
        let skipped: BTreeSet<String> = got
            .iter()
            .filter(|r| r.verdict == Verdict::Skip)
            .map(|r| r.id.clone())
            .collect();
        let (next, here): (Vec<Case>, Vec<Case>) =
            pending.into_iter().partition(|c| skipped.contains(&c.id));
        if !here.is_empty() {
            plan.push((*variant, here));
        }
        pending = next;
        for r in got {
            results.insert(r.id.clone(), r);
        }
    }
    let ordered = cases.iter().filter_map(|c| results.remove(&c.id)).collect();
    (Ok(ordered), plan)
}
