//! Properties of the harness itself (issue 6, item 3):
//! - case files round-trip: every real case, re-rendered as TOML, parses to the same case; and
//!   generated steps survive render → parse with their fields, while an unknown field is refused;
//! - expectation matching is consistent: an outcome in the acceptable list passes, one outside
//!   fails, and under `--strict` only the first (preferred) one passes;
//! - the claim checks reject every defective access-token claim set (act as a string, wrong
//!   act.sub, nested actor only, missing sub, ...). The signature side (every forgery fails
//!   verification against the JWKS) is tests/forge_props.rs.

use std::collections::BTreeMap;

use obo_conformance::case::{Case, Expect, OneOrMany, Step};
use obo_conformance::catalog;
use obo_conformance::check::{checks_of, CheckContext, Observation, CACHE_HEADERS};
use obo_report::Check;
use obo_report::Level;
use proptest::prelude::*;
use serde_json::{json, Value};

fn ctx(strict: bool, reqs: &[String]) -> CheckContext<'_> {
    CheckContext {
        step: 0,
        level: Level::Must,
        requirements: reqs,
        strict,
    }
}

fn evaluate(obs: &Observation, e: &Expect, cx: &CheckContext<'_>) -> Vec<Check> {
    let out = checks_of(obs, e, cx);
    assert!(
        out.unobserved.is_empty(),
        "unexpected unobserved facts: {:?}",
        out.unobserved
    );
    out.checks
}

fn all_ok(obs: &Observation, e: &Expect, strict: bool) -> bool {
    let checks = evaluate(obs, e, &ctx(strict, &[]));
    assert!(!checks.is_empty(), "an expectation produced no check");
    checks.iter().all(|c| c.ok)
}

// ---- case files round-trip ---------------------------------------------------------------

#[test]
fn every_case_file_round_trips_through_toml() {
    let cat = match catalog::load(&catalog::default_dir()) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert!(cat.cases.len() > 50, "only {} cases", cat.cases.len());
    for case in &cat.cases {
        let text = std::fs::read_to_string(&case.path)
            .unwrap_or_else(|e| panic!("{}: {e}", case.path.display()));
        let value: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", case.path.display()));
        let rendered =
            toml::to_string(&value).unwrap_or_else(|e| panic!("{}: {e}", case.path.display()));
        let first: Case =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", case.path.display()));
        let again: Case = toml::from_str(&rendered)
            .unwrap_or_else(|e| panic!("{} re-rendered: {e}\n{rendered}", case.path.display()));
        assert_eq!(
            format!("{first:?}"),
            format!("{again:?}"),
            "{}",
            case.path.display()
        );
        // What the loader kept is what the file says.
        let mut loaded = case.clone();
        loaded.path = Default::default();
        assert_eq!(
            format!("{loaded:?}"),
            format!("{again:?}"),
            "{}",
            case.path.display()
        );
    }
}

/// A step of a random kind with random values for a few of its allowed fields.
fn step_table() -> impl Strategy<Value = (toml::Table, Vec<&'static str>)> {
    let kinds = prop::sample::select(vec![
        "authorize",
        "token",
        "replay",
        "parallel_token",
        "refresh",
        "resource",
        "advance_clock",
        "get",
    ]);
    (kinds, "[a-z][a-z0-9_]{0,8}", 0i64..100_000, any::<bool>()).prop_map(
        |(kind, word, n, flag)| {
            let mut t = toml::Table::new();
            t.insert("do".into(), toml::Value::String(kind.into()));
            let mut set = Vec::new();
            let mut put = |t: &mut toml::Table, k: &'static str, v: toml::Value| {
                t.insert(k.into(), v);
                set.push(k);
            };
            match kind {
                "authorize" => {
                    put(
                        &mut t,
                        "actor",
                        toml::Value::String(if flag { "a" } else { "b" }.into()),
                    );
                    put(&mut t, "save", toml::Value::String(word.clone()));
                    let mut params = toml::Table::new();
                    params.insert(word.clone(), toml::Value::String(format!("v-{n}")));
                    put(&mut t, "params", toml::Value::Table(params));
                }
                "token" | "parallel_token" => {
                    put(&mut t, "code", toml::Value::String(word.clone()));
                    put(&mut t, "actor_token", toml::Value::String("b".into()));
                    put(
                        &mut t,
                        "omit",
                        toml::Value::Array(vec![toml::Value::String(word.clone())]),
                    );
                    if kind == "parallel_token" {
                        put(&mut t, "count", toml::Value::Integer(2 + n % 30));
                    }
                }
                "replay" => put(&mut t, "of", toml::Value::Integer(n % 20)),
                "refresh" | "resource" => put(&mut t, "tokens", toml::Value::String(word.clone())),
                "advance_clock" => put(&mut t, "seconds", toml::Value::Integer(n)),
                _ => put(
                    &mut t,
                    "url",
                    toml::Value::String(format!("https://example.test/{word}")),
                ),
            }
            if flag {
                let mut e = toml::Table::new();
                e.insert(
                    "status".into(),
                    toml::Value::Array(vec![
                        toml::Value::Integer(400 + n % 100),
                        toml::Value::Integer(200),
                    ]),
                );
                t.insert("expect".into(), toml::Value::Table(e));
            }
            (t, set)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_steps_round_trip((table, set) in step_table()) {
        let text = toml::to_string(&table).unwrap_or_default();
        let step: Step = toml::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let mut got: Vec<&str> = step.action.fields().into_iter().map(|(name, _)| name).collect();
        got.sort_unstable();
        let mut want = set.clone();
        want.sort_unstable();
        prop_assert_eq!(got, want);
        prop_assert_eq!(step.is_check(), table.contains_key("expect"));
        // The step is of the kind its `do` names (its type holds only the fields that kind takes).
        prop_assert_eq!(Some(step.action.name()), table.get("do").and_then(toml::Value::as_str));
        if let Some(e) = &step.expect {
            let status = e.status.as_ref().map(|s| s.to_vec()).unwrap_or_default();
            prop_assert_eq!(status.len(), 2);
        }
    }

    #[test]
    fn an_unknown_step_field_is_refused_by_name((mut table, _) in step_table(), name in "zz[a-z]{1,8}") {
        table.insert(name.clone(), toml::Value::Boolean(true));
        let text = toml::to_string(&table).unwrap_or_default();
        match toml::from_str::<Step>(&text) {
            Ok(_) => prop_assert!(false, "unknown field {} accepted", name),
            Err(e) => prop_assert!(e.to_string().contains(&name), "{}", e),
        }
    }
}

// ---- expectation matching ----------------------------------------------------------------

fn distinct_statuses() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::btree_set(100u16..600, 1..5).prop_map(|s| s.into_iter().collect())
}

fn distinct_codes() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set("[a-z_]{3,12}", 1..5).prop_map(|s| s.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn status_in_the_list_passes_outside_fails(list in distinct_statuses(), pick in any::<prop::sample::Index>(), other in 100u16..600) {
        let e = Expect { status: Some(OneOrMany::Many(list.clone())), ..Default::default() };
        let chosen = list[pick.index(list.len())];
        let obs = Observation { status: Some(chosen), ..Default::default() };
        prop_assert!(all_ok(&obs, &e, false));
        // Under strict only the preferred (first) reading passes.
        prop_assert_eq!(all_ok(&obs, &e, true), chosen == list[0]);
        let outside = Observation { status: Some(other), ..Default::default() };
        prop_assert_eq!(all_ok(&outside, &e, false), list.contains(&other));
        // No response at all never passes.
        prop_assert!(!all_ok(&Observation::default(), &e, false));
    }

    #[test]
    fn error_code_in_the_list_passes_outside_fails(list in distinct_codes(), pick in any::<prop::sample::Index>(), other in "[a-z_]{3,12}") {
        let e = Expect { error: Some(OneOrMany::Many(list.clone())), ..Default::default() };
        let chosen = list[pick.index(list.len())].clone();
        let obs = Observation { status: Some(400), error_code: Some(chosen.clone()), ..Default::default() };
        prop_assert!(all_ok(&obs, &e, false));
        prop_assert_eq!(all_ok(&obs, &e, true), chosen == list[0]);
        let outside = Observation { status: Some(400), error_code: Some(other.clone()), ..Default::default() };
        prop_assert_eq!(all_ok(&outside, &e, false), list.contains(&other));
        let refused = Observation { status: Some(400), ..Default::default() };
        prop_assert!(!all_ok(&refused, &e, false));
    }

    #[test]
    fn token_issued_matches_exactly(want in any::<bool>(), issued in any::<bool>()) {
        let e = Expect { token_issued: Some(want), ..Default::default() };
        let obs = Observation { status: Some(if issued { 200 } else { 400 }), token_issued: issued, ..Default::default() };
        prop_assert_eq!(all_ok(&obs, &e, false), want == issued);
    }

    #[test]
    fn checks_carry_the_case_requirements_and_level(reqs in prop::collection::vec("OBO-[A-Z]{2,5}-[0-9]{1,2}", 1..4), status in 100u16..600) {
        let e = Expect { status: Some(OneOrMany::One(200)), ..Default::default() };
        let obs = Observation { status: Some(status), ..Default::default() };
        let checks = evaluate(&obs, &e, &ctx(false, &reqs));
        prop_assert_eq!(checks.len(), 1);
        prop_assert_eq!(&checks[0].requirements, &reqs);
        prop_assert_eq!(checks[0].level, Level::Must);
        // A step-level `level` makes the check advisory.
        let advisory = Expect { level: Some(obo_conformance::case::CaseLevel::Should), ..e };
        let checks = evaluate(&obs, &advisory, &ctx(false, &reqs));
        prop_assert_eq!(checks[0].level, Level::Should);
        // An expectation's `requirements` replaces the case's for its checks.
        let own = Expect { requirements: Some(vec!["OBO-INH-8".into()]), ..advisory };
        let checks = evaluate(&obs, &own, &ctx(false, &reqs));
        prop_assert_eq!(&checks[0].requirements, &vec!["OBO-INH-8".to_string()]);
    }

    /// RFC 6749 §5.1/§5.2: cache headers are judged on token-bearing responses only, under the
    /// cache-header requirement (no-store MUST, Pragma SHOULD), whatever the case cites.
    #[test]
    fn cache_headers_only_on_token_responses(issued in any::<bool>(), cc in prop::option::of("no-store|no-cache|private"), reqs in prop::collection::vec("OBO-[A-Z]{2,5}-[0-9]{1,2}", 1..3)) {
        let e = Expect { no_store: Some(true), ..Default::default() };
        let headers = cc.iter().map(|v| ("Cache-Control".to_string(), v.clone())).collect();
        let obs = Observation { status: Some(if issued { 200 } else { 400 }), token_issued: issued, headers, ..Default::default() };
        let checks = evaluate(&obs, &e, &ctx(false, &reqs));
        if !issued {
            prop_assert!(checks.is_empty(), "an error response was held to cache headers: {:?}", checks);
        } else {
            prop_assert_eq!(checks.len(), 2);
            for c in &checks {
                prop_assert_eq!(&c.requirements, &vec![CACHE_HEADERS.to_string()]);
            }
            prop_assert_eq!(checks[0].level, Level::Must);
            prop_assert_eq!(checks[0].ok, cc.as_deref() == Some("no-store"));
            prop_assert_eq!(checks[1].level, Level::Should);
            prop_assert_eq!(checks[1].actual.as_str(), "Pragma header absent");
        }
    }
}

// ---- claim checks reject defective access-token claims -------------------------------------

fn id() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{2,12}"
}

/// One defect of an access token's claim set (OBO-AT-3..5, OBO-TOKEN-12, AMB-6, AMB-18).
#[derive(Debug, Clone)]
enum ClaimDefect {
    ActAsString,
    ActMissing,
    ActSubWrong(String),
    ActSubCase,
    ActSubTrailingSpace,
    ActorOnlyNested(String),
    SubMissing,
    SubIsActor,
    ActSubNotString(i64),
}

fn defect() -> impl Strategy<Value = ClaimDefect> {
    prop_oneof![
        Just(ClaimDefect::ActAsString),
        Just(ClaimDefect::ActMissing),
        id().prop_map(ClaimDefect::ActSubWrong),
        Just(ClaimDefect::ActSubCase),
        Just(ClaimDefect::ActSubTrailingSpace),
        id().prop_map(ClaimDefect::ActorOnlyNested),
        Just(ClaimDefect::SubMissing),
        Just(ClaimDefect::SubIsActor),
        any::<i64>().prop_map(ClaimDefect::ActSubNotString),
    ]
}

fn apply(claims: &mut Value, d: &ClaimDefect, actor: &str) {
    match d {
        ClaimDefect::ActAsString => claims["act"] = Value::String(actor.into()),
        ClaimDefect::ActMissing => {
            if let Some(m) = claims.as_object_mut() {
                m.remove("act");
            }
        }
        ClaimDefect::ActSubWrong(other) => {
            claims["act"]["sub"] = Value::String(format!("{other}-x"))
        }
        ClaimDefect::ActSubCase => claims["act"]["sub"] = Value::String(actor.to_ascii_uppercase()),
        ClaimDefect::ActSubTrailingSpace => {
            claims["act"]["sub"] = Value::String(format!("{actor} "))
        }
        ClaimDefect::ActorOnlyNested(other) => {
            claims["act"] = json!({ "sub": format!("{other}-x"), "act": { "sub": actor } })
        }
        ClaimDefect::SubMissing => {
            if let Some(m) = claims.as_object_mut() {
                m.remove("sub");
            }
        }
        ClaimDefect::SubIsActor => claims["sub"] = Value::String(actor.into()),
        ClaimDefect::ActSubNotString(n) => claims["act"]["sub"] = json!(n),
    }
}

/// The expectations the catalogue uses on an access token of the OBO flow.
fn chain_expectation(user: &str, actor: &str) -> Expect {
    let mut claims = BTreeMap::new();
    claims.insert("sub".to_string(), toml::Value::String(user.into()));
    claims.insert("act.sub".to_string(), toml::Value::String(actor.into()));
    let mut types = BTreeMap::new();
    types.insert("act".to_string(), "object".to_string());
    Expect {
        token_issued: Some(true),
        claims: Some(claims),
        claim_types: Some(types),
        act_differs_from_sub: Some(true),
        ..Default::default()
    }
}

fn issued(claims: Value) -> Observation {
    Observation {
        status: Some(200),
        token_issued: true,
        claims: Some(Ok(claims)),
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn claim_checks_accept_the_chain_and_reject_every_defect(user in id(), actor in id(), d in defect()) {
        prop_assume!(user != actor);
        let user = format!("user-{user}");
        let e = chain_expectation(&user, &actor);
        let good = json!({ "iss": "https://as.example", "sub": user, "client_id": "c", "act": { "sub": actor } });
        prop_assert!(all_ok(&issued(good.clone()), &e, false), "the genuine chain must pass");
        let mut bad = good;
        apply(&mut bad, &d, &actor);
        let checks = evaluate(&issued(bad.clone()), &e, &ctx(false, &[]));
        prop_assert!(checks.iter().any(|c| !c.ok), "defect {:?} passed: {}", d, bad);
    }

    #[test]
    fn unreadable_claims_never_pass_a_claim_check(actor in id(), why in "[a-z ]{1,30}") {
        let e = chain_expectation("user-x", &actor);
        let obs = Observation { status: Some(200), token_issued: true, claims: Some(Err(why)), ..Default::default() };
        prop_assert!(!all_ok(&obs, &e, false));
        // And no token at all fails token_issued.
        let refused = Observation { status: Some(400), ..Default::default() };
        prop_assert!(!all_ok(&refused, &e, false));
    }
}
