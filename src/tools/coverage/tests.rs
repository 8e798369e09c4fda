use super::*;
use crate::catalog;
use obo_report::coverage::family_of;

fn real_catalog() -> Catalog {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    match catalog::load(&dir) {
        Ok(c) => c,
        Err(e) => panic!("the shipped catalogue must load: {e}"),
    }
}

/// The coverage gate on the real catalogue: every MUST has a case or a reason, every
/// requirement of the digest is listed, and the outputs name every requirement.
#[test]
fn shipped_catalogue_covers_every_must() {
    let cat = real_catalog();
    let cov = compute(&cat);
    assert!(cov.gaps().is_empty(), "MUST gaps: {:?}", cov.gaps());
    let must = cov.level("MUST");
    assert!(
        must.total >= 40,
        "digest has 46 keyworded MUSTs plus inherited ones: {must:?}"
    );
    assert_eq!(must.uncovered, 0);
    assert_eq!(must.total, must.covered + must.untestable);
    for family in [
        "OBO-AUTHZ",
        "OBO-CODE",
        "OBO-TOKEN",
        "OBO-TOKRESP",
        "OBO-AT",
        "OBO-RS",
        "OBO-SEC",
        "OBO-INH",
    ] {
        assert!(
            cov.requirements.iter().any(|r| family_of(&r.id) == family),
            "no requirement of {family}"
        );
    }
    let md = render_markdown(&cov);
    let text = render_text(&cov);
    let client: Vec<String> = crate::case::client_scenario::citations(&cat.dir)
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert!(!client.is_empty(), "the client scenarios count as coverage");
    for r in &cov.requirements {
        assert!(
            md.contains(&format!("**{}**", r.id)),
            "{} missing from coverage.md",
            r.id
        );
        assert!(text.contains(&r.id), "{} missing from the matrix", r.id);
        if r.status == Status::Covered {
            assert!(r
                .cases
                .iter()
                .all(|c| cat.case(c).is_some() || client.contains(c)));
        }
    }
    // The key adversarial scenarios are all exercised.
    for adv in [
        "ADV-1", "ADV-2", "ADV-3", "ADV-10", "ADV-11", "ADV-16", "ADV-17", "ADV-19", "ADV-32",
        "ADV-38",
    ] {
        let row = cov.scenarios.iter().find(|s| s.id == adv);
        assert!(
            row.is_some_and(|s| !s.cases.is_empty()),
            "{adv} has no case"
        );
    }
}

#[test]
fn json_carries_counts_and_cases() {
    let cov = compute(&real_catalog());
    let json = match render_json(&cov) {
        Ok(j) => j,
        Err(e) => panic!("serialise: {e}"),
    };
    let v: serde_json::Value = match serde_json::from_str(&json) {
        Ok(v) => v,
        Err(e) => panic!("parse back: {e}"),
    };
    assert_eq!(
        v["requirement_count"],
        serde_json::json!(cov.requirement_count)
    );
    assert_eq!(v["levels"]["MUST"]["uncovered"], serde_json::json!(0));
    let row = v["requirements"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["id"] == "OBO-TOKEN-12"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(row["status"], "covered");
    assert!(row["cases"]
        .as_array()
        .is_some_and(|c| c.iter().any(|x| x == "TOKEN-ACTOR-MISMATCH")));
}

/// A MUST without case or reason is a gap; a SHOULD without one is not; a reason counts.
#[test]
fn gaps_are_must_requirements_without_case_or_reason() {
    let mut cat = real_catalog();
    let req = |id: &str, level: &str, untestable: Option<&str>| catalog::Requirement {
        id: id.into(),
        section: "x".into(),
        level: level.into(),
        binds: vec!["AS".into()],
        text: "synthetic".into(),
        reading: None,
        revisions: None,
        untestable: untestable.map(String::from),
        sections: Default::default(),
    };
    for r in [
        req("OBO-X-1", "MUST", None),
        req("OBO-X-2", "SHOULD", None),
        req("OBO-X-3", "MUST", Some("deployment-only")),
    ] {
        cat.requirements.insert(r.id.clone(), r);
    }
    let cov = compute(&cat);
    assert_eq!(cov.gaps(), ["OBO-X-1".to_string()]);
    let x3 = cov
        .requirements
        .iter()
        .find(|r| r.id == "OBO-X-3")
        .map(|r| r.status);
    assert_eq!(x3, Some(Status::Untestable));
    assert!(render_text(&cov).contains("OBO-X-1"));
    // Citing the MUST from a case closes the gap.
    if let Some(case) = cat.cases.first_mut() {
        case.requirements.push("OBO-X-1".into());
    }
    assert!(compute(&cat).gaps().is_empty());
}

#[test]
fn ids_sort_in_digest_order() {
    let mut ids = vec![
        "OBO-INH-2",
        "OBO-AUTHZ-10",
        "OBO-AUTHZ-2",
        "OBO-TOKEN-1",
        "ADV-10",
        "ADV-9",
    ];
    ids.sort_by_key(|id| sort_key(id));
    assert_eq!(
        ids,
        [
            "OBO-AUTHZ-2",
            "OBO-AUTHZ-10",
            "OBO-TOKEN-1",
            "OBO-INH-2",
            "ADV-9",
            "ADV-10"
        ]
    );
}
