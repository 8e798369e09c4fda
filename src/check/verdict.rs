//! How a case's checks combine into a verdict (cases/README.md, "Verdicts"). Every rule that
//! turns observations into a verdict lives here: fail and warn come only from failed checks
//! (the target's behaviour); the harness's own situations (a driver that could not get through,
//! a fact it could not observe, a set-up step it could not run) give only `error` or `skip`.

use obo_report::{Check, Level, Verdict};

/// How a case ended before its checks were combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Every step ran (or a set-up step could not run after a check had already failed).
    Completed,
    /// Not applicable: the reason.
    Skipped(String),
    /// The harness could not drive the target to a check: what happened.
    Errored(String),
}

/// The ending of a case once the facts its expectations needed but the harness could not
/// observe are counted: a completed case with unobserved facts ends in error.
pub fn conclude(ending: Ending, unobserved: &[String]) -> Ending {
    match ending {
        Ending::Completed if !unobserved.is_empty() => {
            Ending::Errored(format!("could not observe: {}", unobserved.join("; ")))
        }
        other => other,
    }
}

/// Verdict and one-line message for a case.
/// The message is one line of at most [`MESSAGE_MAX`] bytes (long URLs are cut); the checks keep
/// the details.
pub fn decide(ending: &Ending, checks: &[Check]) -> (Verdict, String) {
    let (v, m) = decide_full(ending, checks);
    (v, crate::util::clip(&m, MESSAGE_MAX))
}

/// Longest message of a case result.
pub const MESSAGE_MAX: usize = 400;

fn decide_full(ending: &Ending, checks: &[Check]) -> (Verdict, String) {
    let failed_must = checks.iter().find(|c| !c.ok && c.level == Level::Must);
    let failed_other = checks.iter().find(|c| !c.ok && c.level != Level::Must);
    match ending {
        Ending::Skipped(why) => return (Verdict::Skip, why.clone()),
        Ending::Errored(why) if failed_must.is_none() => return (Verdict::Error, why.clone()),
        _ => {}
    }
    let suffix = match ending {
        Ending::Errored(why) => format!(" (then: {why})"),
        _ => String::new(),
    };
    if let Some(c) = failed_must {
        return (Verdict::Fail, format!("{}{suffix}", describe(c)));
    }
    if let Some(c) = failed_other {
        return (Verdict::Warn, describe(c));
    }
    if checks.is_empty() {
        return (Verdict::Error, "the case made no check".into());
    }
    (Verdict::Pass, format!("all {} checks held", checks.len()))
}

/// "step[2] error: expected invalid_grant, got invalid_request".
pub fn describe(c: &Check) -> String {
    format!(
        "step[{}] {}: expected {}, got {}",
        c.step, c.name, c.expected, c.actual
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ok: bool, level: Level) -> Check {
        Check {
            step: 1,
            name: "status".into(),
            expected: "400".into(),
            actual: "200".into(),
            ok,
            level,
            requirements: vec![],
        }
    }

    /// Target behaviour × harness situation → verdict. The harness's situations never give
    /// pass or fail on their own; a failed MUST check the target was observed to miss still fails.
    #[test]
    fn verdict_table() {
        let held = vec![check(true, Level::Must)];
        let must_failed = vec![check(true, Level::Must), check(false, Level::Must)];
        let should_failed = vec![check(true, Level::Must), check(false, Level::Should)];
        let nothing: Vec<Check> = vec![];
        let unobserved = vec!["consent prompt: the consent driver could not observe it".into()];
        let none: Vec<String> = vec![];
        let completed = || Ending::Completed;
        let driver_stuck = || Ending::Errored("step[0] (authorize): no code came back".into());
        let skipped = || Ending::Skipped("the target does not declare introspection".into());
        use Verdict::*;
        #[rustfmt::skip]
        let table: Vec<(&[Check], Ending, &[String], Verdict)> = vec![
            // target behaviour  harness situation         unobserved    verdict
            (&held,          completed(),    &none,        Pass),
            (&must_failed,   completed(),    &none,        Fail),
            (&should_failed, completed(),    &none,        Warn),
            (&nothing,       completed(),    &none,        Error),
            (&held,          completed(),    &unobserved,  Error),
            (&nothing,       completed(),    &unobserved,  Error),
            (&should_failed, completed(),    &unobserved,  Error),
            (&must_failed,   completed(),    &unobserved,  Fail),
            (&held,          driver_stuck(), &none,        Error),
            (&nothing,       driver_stuck(), &none,        Error),
            (&should_failed, driver_stuck(), &none,        Error),
            (&must_failed,   driver_stuck(), &none,        Fail),
            (&held,          skipped(),      &none,        Skip),
            (&must_failed,   skipped(),      &unobserved,  Skip),
        ];
        for (i, (checks, ending, unobs, want)) in table.into_iter().enumerate() {
            let ending = conclude(ending, unobs);
            assert_eq!(decide(&ending, checks).0, want, "row {i}");
        }
    }

    #[test]
    fn combines_levels() {
        let done = Ending::Completed;
        assert_eq!(decide(&done, &[check(true, Level::Must)]).0, Verdict::Pass);
        assert_eq!(
            decide(
                &done,
                &[check(true, Level::Must), check(false, Level::Should)]
            )
            .0,
            Verdict::Warn
        );
        assert_eq!(
            decide(
                &done,
                &[check(false, Level::Should), check(false, Level::Must)]
            )
            .0,
            Verdict::Fail
        );
        assert_eq!(decide(&done, &[]).0, Verdict::Error);
        let err = Ending::Errored("no code".into());
        assert_eq!(decide(&err, &[check(true, Level::Must)]).0, Verdict::Error);
        assert_eq!(decide(&err, &[check(false, Level::Must)]).0, Verdict::Fail);
        assert_eq!(
            decide(&Ending::Skipped("x".into()), &[check(false, Level::Must)]).0,
            Verdict::Skip
        );
    }
}
