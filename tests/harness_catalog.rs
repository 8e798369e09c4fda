//! The catalogue loader: the real catalogue and the fixture load; broken case files are
//! reported with the file and the field.

use std::path::{Path, PathBuf};

use obo_conformance::catalog::{self, CatalogError};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cases")
}

/// A scratch catalogue: the fixture's requirements plus one case file.
fn scratch(name: &str, case_file: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obo-catalog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("token")).expect("temp dir");
    std::fs::copy(
        fixture().join("requirements.toml"),
        dir.join("requirements.toml"),
    )
    .expect("copy");
    std::fs::write(dir.join("token").join(case_file), body).expect("write");
    dir
}

fn errors(dir: &Path) -> String {
    match catalog::load(dir) {
        Ok(_) => panic!("expected catalogue errors in {}", dir.display()),
        Err(CatalogError::Invalid(list)) => list.join("\n"),
        Err(e) => panic!("unexpected error kind: {e}"),
    }
}

const BASE: &str = r#"
id = "FX-CASE"
title = "t"
description = "d"
requirements = ["OBO-TOKEN-12"]
level = "MUST"
[[step]]
do = "authorize"
[[step]]
do = "token"
actor_token = "b"
[step.expect]
status = 400
"#;

#[test]
fn the_fixture_loads() {
    let c = catalog::load(&fixture()).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.cases.len() >= 4);
    assert!(c.case("FX-HAPPY-PATH").is_some());
}

#[test]
fn the_real_catalogue_loads_when_present() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    if dir.join("requirements.toml").exists() {
        if let Err(e) = catalog::load(&dir) {
            panic!("{e}");
        }
    }
}

#[test]
fn a_valid_scratch_case_loads() {
    let dir = scratch("ok", "fx-case.toml", BASE);
    assert!(catalog::load(&dir).is_ok());
}

#[test]
fn an_unknown_field_is_named_with_its_file() {
    let dir = scratch(
        "typo",
        "fx-case.toml",
        &BASE.replace("status = 400", "statuss = 400"),
    );
    let e = errors(&dir);
    assert!(
        e.contains("fx-case.toml: line 13: step[1] (token): expect: unknown field `statuss`"),
        "{e}"
    );
}

#[test]
fn a_field_foreign_to_the_step_kind_is_named() {
    let dir = scratch(
        "foreign",
        "fx-case.toml",
        &BASE.replace(
            "actor_token = \"b\"",
            "actor_token = \"b\"\nconsent = \"deny\"",
        ),
    );
    let e = errors(&dir);
    assert!(
        e.contains("fx-case.toml: line 12: step[1] (token)") && e.contains("`consent`"),
        "{e}"
    );
}

#[test]
fn a_forgery_on_an_authorize_step_is_refused_by_name() {
    let dir = scratch(
        "forge-authorize",
        "fx-case.toml",
        &BASE.replace(
            "do = \"authorize\"",
            "do = \"authorize\"\nforge = \"alg_none\"",
        ),
    );
    let e = errors(&dir);
    assert!(
        e.contains("fx-case.toml: line 9: step[0] (authorize): unknown field `forge`"),
        "{e}"
    );
}

#[test]
fn an_unknown_step_field_is_refused_naming_file_step_and_field() {
    let dir = scratch(
        "unknown-step-field",
        "fx-case.toml",
        &BASE.replace("actor_token = \"b\"", "actor_tokn = \"b\""),
    );
    let e = errors(&dir);
    assert!(
        e.contains("fx-case.toml: line 11: step[1] (token): unknown field `actor_tokn`"),
        "{e}"
    );
}

#[test]
fn a_value_outside_a_vocabulary_is_refused_listing_the_vocabulary() {
    let dir = scratch(
        "vocabulary",
        "fx-case.toml",
        &BASE.replace("do = \"authorize\"", "do = \"authorize\"\npkce = \"S512\""),
    );
    let e = errors(&dir);
    assert!(
        e.contains("line 9: step[0] (authorize): unknown pkce `S512` (known: S256, plain, none)"),
        "{e}"
    );
}

#[test]
fn unknown_requirements_variables_and_values_are_reported() {
    let body = BASE
        .replace("[\"OBO-TOKEN-12\"]", "[\"OBO-NOPE-1\"]")
        .replace(
            "actor_token = \"b\"",
            "actor_token = \"b\"\nparams = { scope = \"${scopes}\" }",
        );
    let dir = scratch("bad", "fx-case.toml", &body);
    let e = errors(&dir);
    assert!(e.contains("OBO-NOPE-1 is not in requirements.toml"), "{e}");
    assert!(e.contains("${scopes}"), "{e}");
    // A value outside a vocabulary stops the case at parsing, naming the field and value.
    let dir = scratch(
        "bad-value",
        "fx-case.toml",
        &BASE.replace("actor_token = \"b\"", "actor_token = \"c\""),
    );
    let e = errors(&dir);
    assert!(e.contains("unknown actor_token `c`"), "{e}");
}

#[test]
fn the_id_must_match_the_file_name() {
    let dir = scratch("name", "other-name.toml", BASE);
    let e = errors(&dir);
    assert!(
        e.contains("other-name.toml") && e.contains("fx-case.toml"),
        "{e}"
    );
}

#[test]
fn implied_needs_and_exclusivity() {
    let c = catalog::load(&fixture()).unwrap_or_else(|e| panic!("{e}"));
    let clock = c.case("FX-CODE-EXPIRES").expect("fixture case");
    assert!(clock.is_exclusive());
    // A clock step needs a way to move past a lifetime: a clock operation or a real-time wait.
    assert!(clock.effective_needs().contains("clock"));
}

/// A forged login post needs an interactive driver; a forged consent post also depends on the
/// stored consent, so it runs alone. Neither is declared in the case files: the steps imply it.
#[test]
fn forged_consent_posts_imply_their_needs_and_exclusivity() {
    let cat = catalog::load(&catalog::default_dir()).expect("catalogue loads");
    let login = cat.case("AUTHZ-LOGIN-CSRF-WRONG").expect("case");
    assert!(login.effective_needs().contains("interactive_consent"));
    assert!(!login.is_exclusive());
    let consent = cat.case("AUTHZ-CONSENT-CSRF-WRONG").expect("case");
    assert!(consent.effective_needs().contains("interactive_consent"));
    assert!(consent.effective_needs().contains("second_user"));
    assert!(consent.is_exclusive());
}

/// No check of the catalogue counts at a level stronger than the requirements it cites.
#[test]
fn no_case_level_exceeds_its_requirements() {
    let cat = catalog::load(&catalog::default_dir()).expect("catalogue loads");
    let problems = catalog::level_lint(&cat);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// An expectation's own `requirements` must exist, and the message names the step and field.
#[test]
fn expect_requirements_must_exist() {
    let body = BASE.replace(
        "status = 400",
        "status = 400\nrequirements = [\"OBO-NOPE-1\"]",
    );
    let dir = scratch("expect-reqs", "fx-case.toml", &body);
    let msg = errors(&dir);
    assert!(
        msg.contains("fx-case.toml")
            && msg.contains("expect.requirements")
            && msg.contains("OBO-NOPE-1"),
        "{msg}"
    );
}

#[test]
fn a_minus_00_run_cites_the_minus_00_section() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let c = catalog::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let r = &c.requirements["OBO-TOKEN-12"];
    assert_eq!(r.section_for("02"), r.section);
    assert_eq!(r.section_for("00"), "5.2");
    // A -00-only requirement cites -00's own section whatever the run.
    assert_eq!(c.requirements["OBO-SEC-10"].section_for("00"), "7");
}

#[test]
fn a_section_for_an_unknown_revision_is_named() {
    let dir = scratch("sections", "fx-case.toml", BASE);
    let req = dir.join("requirements.toml");
    let text = std::fs::read_to_string(&req).expect("read");
    let text = text.replacen(
        "id = \"OBO-TOKEN-12\"",
        "id = \"OBO-TOKEN-12\"\nsections = { \"03\" = \"9\" }",
        1,
    );
    std::fs::write(&req, text).expect("write");
    let e = errors(&dir);
    assert!(e.contains("OBO-TOKEN-12: sections.03"), "{e}");
}
