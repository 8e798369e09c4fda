//! Unit tests of [`super`].

use super::rules::{challenge_scope, missing_params};

#[test]
fn challenge_scope_reads_both_attributes() {
    assert_eq!(
        challenge_scope(r#"Bearer error="insufficient_scope", scope="files.write""#),
        vec!["files.write"]
    );
    assert_eq!(
        challenge_scope(r#"Bearer error="insufficient_scope", required_scope="a b""#),
        vec!["a", "b"]
    );
    assert!(challenge_scope("Bearer realm=\"x\"").is_empty());
}

#[test]
fn missing_params_reads_name_and_value() {
    let get = |n: &str| match n {
        "response_type" => Some("code"),
        "state" => Some(""),
        _ => None,
    };
    assert_eq!(missing_params(&["response_type=code".into()], get), None);
    assert!(missing_params(&["state".into()], get).is_some());
    assert!(missing_params(&["response_type=token".into()], get).is_some());
}
