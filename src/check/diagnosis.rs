//! Diagnosis of the target as a whole: causes that explain many verdicts at once, read from
//! the run's own observations (the checks and skip reasons of its cases), so that a vendor sees
//! "the target answers errors with status 200: 33 cases fail for this one reason" before the
//! scattered messages. The messages of the cases a cause explains name it.

use obo_report::{CaseResult, Finding, Verdict};

/// The findings of a run, most consequential first; the messages of the failing cases a
/// finding explains are extended with its short cause.
pub fn diagnose(cases: &mut [CaseResult]) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(f) = ignores_actor(cases) {
        out.push(f);
    }
    if let Some(f) = errors_with_success_status(cases) {
        out.push(f);
    }
    out.extend(skip_findings(cases));
    if let Some(f) = driver_stuck(cases) {
        out.push(f);
    }
    out
}

fn ids(cases: &[CaseResult], pick: impl Fn(&CaseResult) -> bool) -> Vec<String> {
    cases
        .iter()
        .filter(|c| pick(c))
        .map(|c| c.id.clone())
        .collect()
}

/// A failed `claim act...` check that found no `act` at all.
fn act_absent(c: &CaseResult) -> bool {
    c.checks
        .iter()
        .any(|k| !k.ok && k.name.starts_with("claim act") && k.actual.contains("(absent)"))
}

/// A refusal the case expected (`status` 4xx) answered with a success status and a token.
fn refusal_answered_with_token(c: &CaseResult) -> bool {
    let failed = |name: &str| c.checks.iter().any(|k| !k.ok && k.name == name);
    let status_2xx = c
        .checks
        .iter()
        .any(|k| !k.ok && k.name == "status" && k.actual.starts_with('2'));
    status_2xx && (failed("token issued") || !c.checks.iter().any(|k| k.name == "token issued"))
}

/// OBO-AT-3/-5: tokens issued for an OBO request carry no `act` at all. Together with actor
/// tokens that should have been refused but were answered with a token, this reads as a
/// target that ignores `requested_actor` and `actor_token`, not as N separate security holes.
fn ignores_actor(cases: &mut [CaseResult]) -> Option<Finding> {
    let no_act = ids(cases, |c| c.verdict != Verdict::Pass && act_absent(c));
    if no_act.is_empty() {
        return None;
    }
    let accepted = ids(cases, |c| {
        matches!(c.verdict, Verdict::Fail | Verdict::Warn) && refusal_answered_with_token(c)
    });
    for c in cases.iter_mut().filter(|c| accepted.contains(&c.id)) {
        c.message = format!(
            "{} (a token was issued although a refusal was expected; the target's tokens carry no act: it appears to ignore actor_token)",
            c.message
        );
    }
    let mut all = no_act.clone();
    all.extend(accepted.iter().cloned());
    Some(Finding {
        message: format!(
            "tokens issued for an on-behalf-of request carry no act claim ({} cases, e.g. {}): the target appears to ignore requested_actor and actor_token; {} further cases that expected a refused actor token got a token for this reason",
            no_act.len(),
            no_act[0],
            accepted.len()
        ),
        cases: all,
    })
}

/// RFC 6749 §5.2 (OBO-INH-8): refusals answered with 2xx and an error body.
fn errors_with_success_status(cases: &[CaseResult]) -> Option<Finding> {
    let hit = ids(cases, |c| {
        c.checks
            .iter()
            .any(|k| !k.ok && k.actual.contains("with an error body"))
    });
    (!hit.is_empty()).then(|| Finding {
        message: format!(
            "the target answers token errors with a success status and an error body: {} cases fail under {} for this one reason (no token was issued in them)",
            hit.len(),
            super::ERROR_FORMAT
        ),
        cases: hit,
    })
}

/// Answers the RFCs allow that leave some cases nothing to check, from their skip reasons.
fn skip_findings(cases: &[CaseResult]) -> Vec<Finding> {
    const CAUSES: &[(&str, &str)] = &[
        (
            "refuses authorization requests without requested_actor",
            "the target is OBO-only: it refuses authorization requests without requested_actor (AMB-2)",
        ),
        (
            "does not revoke access tokens",
            "the target does not revoke access tokens (400 unsupported_token_type, RFC 7009 §2.2.1)",
        ),
        (
            "does not introspect its access tokens",
            "the target does not introspect its access tokens (400 unsupported_token_type)",
        ),
    ];
    CAUSES
        .iter()
        .filter_map(|(needle, what)| {
            let hit = ids(cases, |c| {
                c.verdict == Verdict::Skip && c.message.contains(needle)
            });
            (!hit.is_empty()).then(|| Finding {
                message: format!("{what}: {} cases skipped", hit.len()),
                cases: hit,
            })
        })
        .collect()
}

/// The consent driver could not get through the target's pages: the harness's situation.
fn driver_stuck(cases: &[CaseResult]) -> Option<Finding> {
    let stuck = |c: &CaseResult| {
        c.verdict == Verdict::Error
            && (c.message.contains("could not reach the redirect")
                || c.message.contains("no code came back: stopped at"))
    };
    let hit = ids(cases, stuck);
    let first = cases.iter().find(|c| stuck(c))?;
    Some(Finding {
        message: format!(
            "the consent driver could not get through the target's login/consent pages: {} cases end in error, untested (first: {})",
            hit.len(),
            crate::util::clip(&first.message, 200)
        ),
        cases: hit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use obo_report::{Check, Level};

    fn case(id: &str, verdict: Verdict, message: &str, checks: Vec<Check>) -> CaseResult {
        CaseResult {
            id: id.into(),
            title: String::new(),
            verdict,
            requirements: vec![],
            scenarios: vec![],
            level: Level::Must,
            tags: vec![],
            message: message.into(),
            checks,
            duration_ms: 0,
            transcript: vec![],
            readings: Vec::new(),
        }
    }

    fn failed(name: &str, actual: &str) -> Check {
        Check {
            step: 1,
            name: name.into(),
            expected: "x".into(),
            actual: actual.into(),
            ok: false,
            level: Level::Must,
            requirements: vec![],
        }
    }

    #[test]
    fn one_cause_explains_many_verdicts() {
        let mut cases = vec![
            case(
                "AT-ACT-SUB-ACTOR",
                Verdict::Fail,
                "claim act.sub",
                vec![failed("claim act.sub", "(absent)")],
            ),
            case(
                "ACTOR-TOKEN-ALG-NONE",
                Verdict::Fail,
                "step[1] status: expected 400, got 200",
                vec![
                    failed("status", "200"),
                    failed("token issued", "a token was issued"),
                ],
            ),
            case(
                "ACTOR-TOKEN-EXPIRED",
                Verdict::Fail,
                "m",
                vec![failed(
                    "status",
                    "status 200 with an error body (`invalid_grant`): errors must use 400",
                )],
            ),
            case(
                "RS-REVOKED-TOKEN",
                Verdict::Skip,
                "the target does not revoke access tokens (status 400)",
                vec![],
            ),
        ];
        let found = diagnose(&mut cases);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].message.contains("ignore requested_actor"));
        assert_eq!(
            found[0].cases,
            vec!["AT-ACT-SUB-ACTOR", "ACTOR-TOKEN-ALG-NONE"]
        );
        assert!(cases[1]
            .message
            .contains("it appears to ignore actor_token"));
        assert_eq!(found[1].cases, vec!["ACTOR-TOKEN-EXPIRED"]);
        assert!(found[1].message.contains("OBO-INH-8"));
        assert_eq!(found[2].cases, vec!["RS-REVOKED-TOKEN"]);
    }

    #[test]
    fn a_clean_run_has_no_finding() {
        let mut cases = vec![case("X", Verdict::Pass, "all 3 checks held", vec![])];
        assert!(diagnose(&mut cases).is_empty());
    }
}
