//! One case's run: its target context, its memory, and what its checks found. The step
//! modules (`authorize.rs`, `token.rs`, `lifecycle.rs`, `resource.rs`) add a method each to
//! [`CaseRun`]; the interpreter (`exec/mod.rs`) calls them in the case's order.

use obo_report::{Check, Reading};

use super::context::TargetContext;
use super::memory::CaseMemory;
use super::stop::Flow;
use crate::case::{Case, Expect, Step};
use crate::check::{self, CheckContext, Observation};

pub(crate) struct CaseRun<'a> {
    pub(crate) case: &'a Case,
    pub(crate) cx: TargetContext<'a>,
    pub(crate) memory: CaseMemory,
    pub(crate) findings: Findings,
}

/// What the case's expectations found.
#[derive(Default)]
pub(crate) struct Findings {
    pub(crate) checks: Vec<Check>,
    /// The outcome chosen at each step annotated with an ambiguity (`reading`).
    pub(crate) readings: Vec<Reading>,
    /// Facts the case's expectations needed that the harness could not observe.
    pub(crate) unobserved: Vec<String>,
}

impl CaseRun<'_> {
    /// Records the checks of a step's expectations (`expect_any`: the first set that holds).
    pub(crate) fn record_checks(&mut self, i: usize, step: &Step, obs: &Observation) -> Flow {
        let ctx = CheckContext {
            step: i,
            level: self.case.level.into(),
            requirements: &self.case.requirements,
            strict: self.cx.strict,
        };
        if let Some(e) = &step.expect {
            let e = self.cx.expand_expect(e)?;
            let out = check::checks_of(obs, &e, &ctx);
            if let Some(amb) = step.reading() {
                let held = out.unobserved.is_empty() && out.checks.iter().all(|c| c.ok);
                self.findings.readings.push(check::reading_of_list(
                    amb,
                    i,
                    obs,
                    &e,
                    self.cx.strict,
                    held,
                ));
            }
            self.findings.checks.extend(out.checks);
            self.findings.unobserved.extend(out.unobserved);
            return Ok(());
        }
        if let Some(alts) = &step.expect_any {
            let alts: Vec<&Expect> = if self.cx.strict {
                alts.iter().take(1).collect()
            } else {
                alts.iter().collect()
            };
            let mut evaluated = Vec::new();
            for e in &alts {
                let e = self.cx.expand_expect(e)?;
                evaluated.push(check::checks_of(obs, &e, &ctx));
            }
            let n = evaluated.len();
            let chosen = evaluated.iter().position(|cs| {
                cs.unobserved.is_empty()
                    && cs
                        .checks
                        .iter()
                        .all(|c| c.ok || c.level != obo_report::Level::Must)
            });
            if let Some(amb) = step.reading() {
                let labels = alts.iter().map(|e| e.outcome_label()).collect();
                self.findings
                    .readings
                    .push(check::reading_of_alternatives(amb, i, obs, chosen, labels));
            }
            match chosen {
                Some(k) => {
                    let mut cs = evaluated.swap_remove(k).checks;
                    for c in &mut cs {
                        c.name = format!("outcome {}/{n}: {}", k + 1, c.name);
                    }
                    self.findings.checks.extend(cs);
                }
                None => {
                    for (k, cs) in evaluated.into_iter().enumerate() {
                        let mut failed: Vec<Check> =
                            cs.checks.into_iter().filter(|c| !c.ok).collect();
                        for c in &mut failed {
                            c.name = format!("outcome {}/{n}: {}", k + 1, c.name);
                        }
                        // Only the failed checks of each alternative explain why none held.
                        self.findings.checks.extend(failed);
                        self.findings.unobserved.extend(cs.unobserved);
                    }
                }
            }
        }
        Ok(())
    }
}
