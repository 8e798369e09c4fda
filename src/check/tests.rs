//! Unit tests of [`super`].

use super::*;

fn stuck(in_interaction: bool) -> Observation {
    Observation {
        status: Some(200),
        authz: Some(AuthzView {
            describe: "stopped at https://as.test/interaction/x: the Login page came back".into(),
            driver_stuck: Some("stopped at https://as.test/interaction/x".into()),
            in_interaction,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn ctx() -> CheckContext<'static> {
    CheckContext {
        step: 0,
        level: Level::Must,
        requirements: &[],
        strict: false,
    }
}

/// A driver stuck inside the login/consent interaction observed no answer of the AS: a
/// refusal expectation (`redirect = "none"`, `token_issued = false`) is unobserved, never
/// held (no pass on the driver's trouble). Stuck on a first page no rule matches, the AS
/// may have answered with an error page: a refusal expectation is judged.
#[test]
fn stuck_driver_observes_no_answer() {
    let refusal = Expect {
        redirect: Some("none".into()),
        token_issued: Some(false),
        ..Default::default()
    };
    let code = Expect {
        redirect: Some("code".into()),
        ..Default::default()
    };
    let pages_only = Expect {
        consent_page_framing_blocked: Some(true),
        ..Default::default()
    };
    #[rustfmt::skip]
        let table: Vec<(bool, &Expect, bool)> = vec![
            // in interaction  expectation   unobserved
            (true,             &refusal,     true),
            (true,             &code,        true),
            (false,            &code,        true),
            (false,            &refusal,     false),
        ];
    for (i, (inside, e, want)) in table.into_iter().enumerate() {
        let c = checks_of(&stuck(inside), e, &ctx());
        assert_eq!(!c.unobserved.is_empty(), want, "row {i}: {c:?}");
        if want {
            assert!(
                c.checks.is_empty(),
                "row {i}: no check on an unobserved answer"
            );
        }
    }
    // A refusal answered with 200 and an error body fails the error-format requirement
    // only; the refusal itself (no token) holds under the case's requirements.
    let refused_200 = Observation {
        status: Some(200),
        error_code: Some("invalid_grant".into()),
        token_endpoint: true,
        ..Default::default()
    };
    let refusal_400 = Expect {
        status: Some(crate::case::OneOrMany::One(400)),
        token_issued: Some(false),
        ..Default::default()
    };
    let reqs = vec!["OBO-TOKEN-10".to_string()];
    let c = checks_of(
        &refused_200,
        &refusal_400,
        &CheckContext {
            requirements: &reqs,
            ..ctx()
        },
    );
    let failed: Vec<_> = c.checks.iter().filter(|k| !k.ok).collect();
    assert_eq!(failed.len(), 1, "{c:?}");
    assert_eq!(failed[0].requirements, vec![ERROR_FORMAT.to_string()]);
    assert_eq!(
        failed[0].actual,
        "status 200 with an error body (`invalid_grant`): errors must use 400"
    );
    // Facts about the pages themselves were observed even though the driver stopped.
    let mut seen = stuck(true);
    seen.framing = vec![("https://as.test/interaction/x".into(), true)];
    let c = checks_of(&seen, &pages_only, &ctx());
    assert!(c.unobserved.is_empty(), "{c:?}");
}

/// `header`: every listed token is among the header's comma-separated values, over all its
/// field lines, the name matched case-insensitively (RFC 9110 §15.5.6 `Allow` on a 405).
#[test]
fn header_expectation_reads_a_token_list() {
    let e = Expect {
        header: Some([("allow".to_string(), "POST".to_string())].into()),
        ..Default::default()
    };
    let with = |lines: &[(&str, &str)]| Observation {
        status: Some(405),
        headers: lines
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let held = |obs: &Observation| checks_of(obs, &e, &ctx()).checks.iter().all(|c| c.ok);
    assert!(held(&with(&[("Allow", "POST")])));
    assert!(held(&with(&[("allow", "GET, POST")])));
    assert!(held(&with(&[("Allow", "GET"), ("Allow", "POST")])));
    assert!(!held(&with(&[("Allow", "GET")])));
    assert!(!held(&with(&[("Allow", "POSTX")])));
    assert!(!held(&with(&[])));
}

/// `json_if_present`: an absent member holds; a present one must match (`token_type`
/// case-insensitively).
#[test]
fn json_if_present_judges_only_a_present_member() {
    let e = Expect {
        json_if_present: Some(
            [(
                "token_type".to_string(),
                toml::Value::String("Bearer".into()),
            )]
            .into(),
        ),
        ..Default::default()
    };
    let body = |j: Value| Observation {
        json: Some(j),
        ..Default::default()
    };
    let held = |obs: &Observation| {
        let out = checks_of(obs, &e, &ctx());
        assert_eq!(out.checks.len(), 1, "one check, absent or not");
        out.checks[0].ok
    };
    assert!(held(&body(serde_json::json!({ "active": true }))));
    assert!(held(&body(
        serde_json::json!({ "active": true, "token_type": "bearer" })
    )));
    assert!(!held(&body(
        serde_json::json!({ "active": true, "token_type": "actor_token" })
    )));
}
