//! Profile files: errors name the field (typo, missing field, wrong type, bad value), and the
//! shipped example profiles are valid.

use std::path::Path;

use obo_conformance::profile;

const GOOD: &str = include_str!("../examples/targets/reference-subprocess-auto.toml");

fn error_of(text: &str) -> String {
    match profile::parse(text, "test.toml", Path::new(".")) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_examples_are_valid() {
    for f in [
        "reference-subprocess-auto.toml",
        "reference-subprocess-form.toml",
        "vendor-template.toml",
        "vendor-admin-api.toml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/targets")
            .join(f);
        let (p, _) = profile::load_file(&path).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(p.profile_version, 1);
    }
}

#[test]
fn a_typo_is_named() {
    let e = error_of(&GOOD.replace("issuer = ", "isuer = "));
    assert!(e.contains("isuer"), "{e}");
}

#[test]
fn a_typo_in_a_nested_table_is_named() {
    let e = error_of(&GOOD.replacen(
        "auth_method = \"client_secret_basic\"",
        "auth_methd = \"client_secret_basic\"",
        1,
    ));
    assert!(e.contains("auth_methd"), "{e}");
}

#[test]
fn a_missing_field_is_named() {
    let e = error_of(&GOOD.replace("revision = \"02\"\n", ""));
    assert!(e.contains("revision"), "{e}");
}

#[test]
fn a_wrong_type_names_the_field() {
    let e = error_of(&GOOD.replace("profile_version = 1", "profile_version = \"1\""));
    assert!(e.contains("profile_version"), "{e}");
}

#[test]
fn a_bad_enum_value_names_the_field() {
    let e = error_of(&GOOD.replacen(
        "auth_method = \"client_secret_basic\"",
        "auth_method = \"basic\"",
        1,
    ));
    assert!(e.contains("client.primary.auth_method"), "{e}");
    assert!(e.contains("basic"), "{e}");
}

#[test]
fn semantic_errors_name_the_field() {
    let e = error_of(&GOOD.replace("profile_version = 1", "profile_version = 2"));
    assert!(
        e.contains("`profile_version`") && e.contains("unsupported version 2"),
        "{e}"
    );
    let e = error_of(&GOOD.replace("revision = \"02\"", "revision = \"03\""));
    assert!(e.contains("`revision`"), "{e}");
    let e = error_of(&GOOD.replacen("secret = \"obo-client-secret\"\n", "", 1));
    assert!(e.contains("`client.primary.secret`"), "{e}");
    let e = error_of(&GOOD.replace("\"introspection\",", "\"introspektion\","));
    assert!(
        e.contains("`capabilities`") && e.contains("introspektion"),
        "{e}"
    );
    let e = error_of(&GOOD.replace(
        "redirect_uri = \"https://client.example/cb\"",
        "redirect_uri = \"not a url\"",
    ));
    assert!(e.contains("`client.primary.redirect_uri`"), "{e}");
}

#[test]
fn the_manual_driver_needs_a_loopback_redirect_uri() {
    let text = GOOD.replace("driver = \"auto\"", "driver = \"manual\"");
    let e = error_of(&text);
    assert!(
        e.contains("client.primary.redirect_uri") && e.contains("127.0.0.1"),
        "{e}"
    );
    let ok = text.replace(
        "redirect_uri = \"https://client.example/cb\"",
        "redirect_uri = \"http://127.0.0.1:8765/cb\"",
    );
    assert!(profile::parse(&ok, "t.toml", Path::new(".")).is_ok());
}

#[test]
fn token_sources_are_typed() {
    let e = error_of(&GOOD.replacen("source = \"client_credentials\"", "source = \"magic\"", 1));
    assert!(e.contains("magic") && e.contains("actor"), "{e}");
    let e = error_of(&GOOD.replacen(
        "token = { source = \"client_credentials\", client_secret = \"agent-a-secret\" }",
        "token = { source = \"jwt\", iss = \"agent-a\" }",
        1,
    ));
    assert!(e.contains("actor.a.token.key_pem"), "{e}");
}

/// A missing nested table is named by its own path, not its parent's, and every missing one is
/// listed at once.
#[test]
fn missing_tables_are_named_by_their_own_path_all_at_once() {
    let start = GOOD.find("[actor.b]").expect("the example has [actor.b]");
    let end = GOOD[start..]
        .find("\n\n")
        .map_or(GOOD.len(), |i| start + i + 2);
    let without_b = format!("{}{}", &GOOD[..start], &GOOD[end..]);
    let e = error_of(&without_b);
    assert!(
        e.contains("field `actor.b`: missing table [actor.b]"),
        "{e}"
    );
    let e = error_of(&without_b.replace("revision = \"02\"\n", ""));
    assert!(
        e.contains("field `actor.b`") && e.contains("field `revision`"),
        "{e}"
    );
}

#[test]
fn a_control_hook_with_an_unknown_variable_is_named() {
    let text = format!(
        "{GOOD}\n[control.disable_actor]\nhook = \"http\"\nurl = \"http://127.0.0.1:1/a/${{agent}}\"\n"
    );
    let e = error_of(&text);
    assert!(e.contains("control.disable_actor.url"), "{e}");
    assert!(e.contains("${agent}"), "{e}");
}

#[test]
fn capabilities_follow_from_the_control_adapter() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/targets/vendor-admin-api.toml");
    let (p, _) = profile::load_file(&path).unwrap();
    assert!(!p.capabilities.iter().any(|c| c.starts_with("control")));
    assert!(p
        .control
        .as_ref()
        .is_some_and(|c| c.mint.is_some() && c.reset.is_none()));
}

/// `validate-profile` on a profile with three mistakes (a key typo, an issuer that is no URL, an
/// unknown capability) prints three errors, each with the line and column of its field, and
/// exits 3 (invalid input).
#[test]
fn validate_profile_reports_every_mistake_with_its_line() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profiles/three-mistakes.toml");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_obo-conformance"))
        .arg("validate-profile")
        .arg(&file)
        .output()
        .expect("the binary runs");
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 3, "{err}");
    let shown = file.display().to_string();
    for (line, what) in [
        (":6:10: field `issuer`", "not an absolute URL"),
        (":7:16: field `capabilities`", "introspektion"),
        (
            ":14:1: field `client.primary.redirect_uris`",
            "unknown field",
        ),
    ] {
        let want = format!("{shown}{line}");
        assert!(
            lines.iter().any(|l| l.contains(&want) && l.contains(what)),
            "{want} … {what}\n{err}"
        );
    }
    assert!(err.contains("3 problems found"), "{err}");
}

/// A syntax error is one error (the rest cannot be read reliably), with its line and column.
#[test]
fn a_syntax_error_is_one_error_with_its_position() {
    let e = error_of(&GOOD.replacen("name = ", "name = \"unterminated\nx = ", 1));
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.starts_with("test.toml:"), "{e}");
}

/// Structural problems (typos, wrong values) and semantic ones (a bad URL) are reported
/// together, and a missing `[actor.b]` is named by its own path at the `[actor…]` tables,
/// where it belongs, with the other missing keys.
#[test]
fn structural_and_semantic_problems_are_reported_together_with_positions() {
    let text = GOOD
        .replacen(
            "auth_method = \"client_secret_basic\"",
            "auth_method = \"basic\"",
            1,
        )
        .replacen("issuer = ", "isuer = ", 1);
    let e = error_of(&text);
    assert!(e.contains("field `client.primary.auth_method`"), "{e}");
    assert!(e.contains("isuer"), "{e}");
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert!(
        e.contains(&format!("test.toml:{}:", line_of("\"basic\""))),
        "the bad value's line: {e}"
    );

    let start = GOOD.find("[actor.b]").expect("the example has [actor.b]");
    let end = GOOD[start..]
        .find("\n\n")
        .map_or(GOOD.len(), |i| start + i + 2);
    let without_b =
        format!("{}{}", &GOOD[..start], &GOOD[end..]).replace("revision = \"02\"\n", "");
    let e = error_of(&without_b);
    let actor_line = without_b
        .lines()
        .position(|l| l.starts_with("[actor."))
        .unwrap()
        + 1;
    assert!(
        e.contains(&format!(
            "test.toml:{actor_line}:1: field `actor.b`: missing table [actor.b]"
        )),
        "{e}"
    );
    assert!(e.contains("field `revision`: missing key"), "{e}");
    assert!(!e.contains("missing field b"), "{e}");
}

/// docs/profile.schema.json is what `obo-conformance schema profile` prints (generated from the
/// profile's Rust types), and the vendor template points editors at it.
#[test]
fn the_committed_profile_schema_is_the_generated_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed =
        std::fs::read_to_string(root.join("docs/profile.schema.json")).unwrap_or_default();
    assert!(
        committed == profile::json_schema(),
        "docs/profile.schema.json is out of date with the profile types; regenerate it with\n  \
         cargo run -- schema profile > docs/profile.schema.json"
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_obo-conformance"))
        .args(["schema", "profile"])
        .output()
        .expect("the binary runs");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout), committed);
    let schema: serde_json::Value = serde_json::from_str(&committed).expect("JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["additionalProperties"], false, "typos are errors");
    let template = std::fs::read_to_string(root.join("examples/targets/vendor-template.toml"))
        .expect("template");
    let first = template.lines().next().unwrap_or_default();
    let target = first
        .strip_prefix("#:schema ")
        .unwrap_or_else(|| panic!("the template starts with a #:schema line: {first}"));
    assert!(
        root.join("examples/targets").join(target).is_file(),
        "{target} from examples/targets/"
    );
}

/// Missing required tables and root keys get stand-ins, so the tables after them are checked
/// too: a missing `revision` and `[actor.b]` do not hide a bad consent driver further down.
#[test]
fn problems_after_a_missing_table_are_reported_too() {
    let start = GOOD.find("[actor.b]").expect("the example has [actor.b]");
    let end = GOOD[start..]
        .find("\n\n")
        .map_or(GOOD.len(), |i| start + i + 2);
    let text = format!("{}{}", &GOOD[..start], &GOOD[end..])
        .replace("revision = \"02\"\n", "")
        .replace("driver = \"auto\"", "driver = \"magic\"");
    let e = error_of(&text);
    let driver_line = text.lines().position(|l| l.contains("\"magic\"")).unwrap() + 1;
    assert!(e.contains("field `revision`: missing key"), "{e}");
    assert!(
        e.contains("field `actor.b`: missing table [actor.b]"),
        "{e}"
    );
    assert!(
        e.contains(&format!("test.toml:{driver_line}:")) && e.contains("magic"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 3, "{e}");
    // Sorted by position: the root key first.
    assert!(
        e.lines().next().unwrap_or_default().contains("revision"),
        "{e}"
    );
}

/// Hostile edits never panic and every reported position lies inside the text: each line of a
/// valid profile deleted, truncated at every third byte, doubled, or given a non-ASCII key.
#[test]
fn every_edit_of_a_profile_is_reported_inside_the_text() {
    let lines: Vec<&str> = GOOD.lines().collect();
    let mut texts = Vec::new();
    for i in 0..lines.len() {
        let mut without = lines.clone();
        without.remove(i);
        texts.push(without.join("\n"));
        let mut doubled = lines.clone();
        doubled.insert(i, lines[i]);
        texts.push(doubled.join("\n"));
        let mut odd = lines.clone();
        let renamed = format!("ключ{}", lines[i]);
        odd[i] = &renamed;
        texts.push(odd.join("\n"));
    }
    texts.extend(
        (0..GOOD.len())
            .step_by(3)
            .filter(|&n| GOOD.is_char_boundary(n))
            .map(|n| GOOD[..n].to_string()),
    );
    for text in &texts {
        if let Err(profile::ProfileError::Problems { problems, .. }) =
            profile::parse(text, "t.toml", Path::new("."))
        {
            assert!(!problems.is_empty());
            let line_count = text.lines().count().max(1);
            for p in &problems {
                assert!(
                    p.at.line >= 1 && p.at.line <= line_count + 1,
                    "{p} outside a text of {line_count} lines:\n{text}"
                );
            }
        }
    }
}
