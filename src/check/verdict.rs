//! How a case's checks combine into a verdict (cases/README.md, "Verdicts").

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
