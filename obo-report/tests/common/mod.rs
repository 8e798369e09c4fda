//! A synthetic report shaped like a real run against the reference server with the
//! `skip-actor-binding` fault on: one of each verdict, hostile text in places a target controls.
#![allow(dead_code)]

use obo_report::*;

pub const REDACTED: &str = "[REDACTED]";
/// The demo registry's secrets (docs/contracts.md), which no artefact may contain.
pub const DEMO_SECRETS: [&str; 6] = [
    "obo-client-secret",
    "obo-client-2-secret",
    "agent-a-secret",
    "agent-b-secret",
    "alice-password",
    "bob-password",
];
/// Header and payload of a JWT, its signature cut by redaction.
pub const REDACTED_JWT: &str =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6ImFjdG9yK2p3dCJ9.eyJzdWIiOiJhZ2VudC1iIn0.[REDACTED]";

pub fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn token_exchange(step: usize, status: u16, body: &str) -> Exchange {
    Exchange {
        step,
        request: HttpRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:41234/token".into(),
            headers: headers(&[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", "Basic [REDACTED]"),
            ]),
            body: Some(format!(
                "grant_type=authorization_code&code=c0de-1&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&code_verifier=[REDACTED]&actor_token={REDACTED_JWT}"
            )),
        },
        response: Some(HttpResponse {
            status,
            headers: headers(&[
                ("content-type", "application/json"),
                ("cache-control", "no-store"),
                ("date", "Sun, 29 Nov 2026 15:30:00 GMT"),
            ]),
            body: Some(body.to_string()),
            truncated: false,
        }),
        error: None,
        duration_ms: 4,
    }
}

/// A set-up request inside step 1: agent B obtains its actor token before the judged request.
fn actor_token_exchange() -> Exchange {
    let mut e = token_exchange(
        1,
        200,
        &format!(r#"{{"access_token":"{REDACTED_JWT}","token_type":"Bearer","expires_in":300}}"#),
    );
    e.request.body = Some("grant_type=client_credentials".into());
    e
}

fn authorize_exchange() -> Exchange {
    Exchange {
        step: 0,
        request: HttpRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:41234/authorize?response_type=code&client_id=obo-client&requested_actor=agent-a&state=s'1&code_challenge=abc&code_challenge_method=S256".into(),
            headers: vec![],
            body: None,
        },
        response: Some(HttpResponse {
            status: 302,
            headers: headers(&[("location", "https://client.example/cb?code=c0de-1&state=s'1")]),
            body: None,
            truncated: false,
        }),
        error: None,
        duration_ms: 3,
    }
}

fn check(
    step: usize,
    name: &str,
    expected: &str,
    actual: &str,
    ok: bool,
    level: Level,
    reqs: &[&str],
) -> Check {
    Check {
        step,
        name: name.into(),
        expected: expected.into(),
        actual: actual.into(),
        ok,
        level,
        requirements: reqs.iter().map(|r| r.to_string()).collect(),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub fn case(id: &str, verdict: Verdict) -> CaseResult {
    CaseResult {
        id: id.into(),
        title: format!("{id} title"),
        verdict,
        requirements: strings(&["OBO-TOKEN-12"]),
        scenarios: vec![],
        level: Level::Must,
        tags: strings(&["positive"]),
        message: format!("{id} message"),
        checks: vec![],
        duration_ms: 7,
        transcript: vec![],
        readings: vec![],
    }
}

pub fn report(cases: Vec<CaseResult>) -> Report {
    let mut requirements = std::collections::BTreeMap::new();
    for (id, section, level, text) in [
        (
            "OBO-TOKEN-12",
            "4.2.2",
            "MUST",
            "The actor token's sub equals the requested_actor bound to the code.",
        ),
        (
            "OBO-SEC-7",
            "5",
            "MUST",
            "The code is bound to the actor the user consented to.",
        ),
        (
            "OBO-AT-3",
            "4.3",
            "MUST",
            "The access token carries act.sub naming the actor.",
        ),
        (
            "OBO-TOKRESP-2",
            "4.2.3",
            "SHOULD",
            "Token responses are not cached (Pragma: no-cache).",
        ),
        (
            "OBO-RS-9",
            "4.4.1",
            "MUST",
            "The RS checks the outermost act.sub against the actor it requires.",
        ),
        (
            "OBO-CODE-4",
            "5",
            "MUST",
            "An expired code is refused with invalid_grant.",
        ),
    ] {
        requirements.insert(
            id.to_string(),
            RequirementInfo {
                section: section.into(),
                level: level.into(),
                text: text.into(),
            },
        );
    }
    Report {
        schema_version: SCHEMA_VERSION.into(),
        suite_version: "0.1.0".into(),
        target: Target {
            name: "reference".into(),
            issuer: "http://127.0.0.1:41234".into(),
            revision: "02".into(),
            profile_digest: "9f2c1e0d5b7a4c3e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566"
                .into(),
            capabilities: strings(&["control_api", "introspection", "jwt_access_tokens"]),
        },
        seed: 42,
        strict: false,
        started_at: "2026-11-29T15:30:00Z".into(),
        duration_ms: 1234,
        summary: Summary::of(&cases),
        cases,
        requirements,
        ambiguities: Default::default(),
        invocation: None,
        replay: Default::default(),
        expectations: None,
        diagnosis: Vec::new(),
    }
}

/// One case of every verdict, with transcripts.
pub fn synthetic() -> Report {
    let mismatch = CaseResult {
        readings: vec![],
        id: "TOKEN-ACTOR-MISMATCH".into(),
        title: "A token request whose actor token names another actor is refused".into(),
        verdict: Verdict::Fail,
        requirements: strings(&["OBO-TOKEN-12", "OBO-SEC-7"]),
        scenarios: strings(&["ADV-1"]),
        level: Level::Must,
        tags: strings(&["adversarial", "threat"]),
        message: "step 1: expected status 400, got 200 (a token was issued for agent-b)".into(),
        checks: vec![
            check(
                1,
                "status",
                "400",
                "200",
                false,
                Level::Must,
                &["OBO-TOKEN-12"],
            ),
            check(
                1,
                "error",
                "invalid_grant | invalid_request",
                "(none)",
                false,
                Level::Must,
                &["OBO-TOKEN-12"],
            ),
            check(
                1,
                "token_issued",
                "false",
                "true",
                false,
                Level::Must,
                &["OBO-SEC-7"],
            ),
            check(
                1,
                "no-store",
                "Cache-Control: no-store",
                "no-store",
                true,
                Level::Must,
                &[],
            ),
        ],
        duration_ms: 12,
        transcript: vec![
            authorize_exchange(),
            actor_token_exchange(),
            token_exchange(
                1,
                200,
                &format!(
                    r#"{{"access_token":"{REDACTED_JWT}","token_type":"Bearer","expires_in":3600}}"#
                ),
            ),
        ],
    };
    let act = CaseResult {
        readings: vec![],
        id: "AT-ACT-CLAIM".into(),
        title: "The access token names the actor in act.sub".into(),
        verdict: Verdict::Pass,
        requirements: strings(&["OBO-AT-3"]),
        scenarios: vec![],
        level: Level::Must,
        tags: strings(&["positive"]),
        message: "all 3 checks held".into(),
        checks: vec![
            check(1, "status", "200", "200", true, Level::Must, &[]),
            check(
                1,
                "claim act.sub",
                "agent-a",
                "agent-a",
                true,
                Level::Must,
                &["OBO-AT-3"],
            ),
            check(
                1,
                "claim sub",
                "user-alice",
                "user-alice",
                true,
                Level::Must,
                &["OBO-AT-3"],
            ),
        ],
        duration_ms: 9,
        transcript: vec![authorize_exchange()],
    };
    let pragma = CaseResult {
        readings: vec![],
        id: "TOKEN-NO-STORE".into(),
        title: "Token responses forbid caching".into(),
        verdict: Verdict::Warn,
        requirements: strings(&["OBO-TOKRESP-2"]),
        scenarios: vec![],
        level: Level::Should,
        tags: strings(&["positive"]),
        // Target-controlled text with markup in it.
        message: "expected Pragma: no-cache, got <script>alert('x')</script> | *bold* & `tick`"
            .into(),
        checks: vec![check(
            1,
            "pragma",
            "no-cache",
            "<script>alert('x')</script>",
            false,
            Level::Should,
            &["OBO-TOKRESP-2"],
        )],
        duration_ms: 5,
        transcript: vec![token_exchange(
            1,
            400,
            r#"{"error":"invalid_grant","error_description":"</pre><script>alert(\"x\")</script>"}"#,
        )],
    };
    let rs = CaseResult {
        id: "RS-ACTOR-REQUIRED".into(),
        title: "The RS refuses a token for another actor".into(),
        verdict: Verdict::Skip,
        requirements: strings(&["OBO-RS-9"]),
        scenarios: strings(&["ADV-37"]),
        level: Level::Must,
        tags: strings(&["adversarial", "rs"]),
        message: "needs capability resource_server, which the profile does not declare".into(),
        checks: vec![],
        duration_ms: 0,
        transcript: vec![],
        readings: vec![],
    };
    let expired = CaseResult {
        readings: vec![],
        id: "CODE-EXPIRED".into(),
        title: "An expired code is refused".into(),
        verdict: Verdict::Error,
        requirements: strings(&["OBO-CODE-4"]),
        scenarios: strings(&["ADV-18"]),
        level: Level::Must,
        tags: strings(&["adversarial"]),
        message: "step 1 (advance_clock): no response from the control API: connection refused"
            .into(),
        checks: vec![],
        duration_ms: 30,
        transcript: vec![Exchange {
            step: 1,
            request: HttpRequest {
                method: "POST".into(),
                url: "http://127.0.0.1:41234/control/clock/advance".into(),
                headers: headers(&[("content-type", "application/json")]),
                body: Some(r#"{"seconds":120}"#.into()),
            },
            response: None,
            error: Some("connection refused".into()),
            duration_ms: 30,
        }],
    };
    report(vec![mismatch, act, pragma, rs, expired])
}
