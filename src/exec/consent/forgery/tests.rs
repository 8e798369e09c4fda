use super::*;
use crate::html_form::forms;
use url::Url;

fn form(html: &str) -> Form {
    let url = Url::parse("https://as.test/login").unwrap();
    forms(html, &url).remove(0)
}

const SPRING: &str = r#"<form method="post" action="/login">
  <input type="hidden" name="_CSRF" value="tok3n-Zz9">
  <input type="hidden" name="tx" value="t1">
  <input name="username"><input type="password" name="password">
  <button>Sign in</button></form>"#;

#[test]
fn usual_hidden_names_are_recognised_case_insensitively() {
    assert_eq!(csrf_fields(&form(SPRING), None), vec!["_CSRF".to_string()]);
    for name in [
        "__RequestVerificationToken",
        "authenticity_token",
        "_token",
        "csrfmiddlewaretoken",
        "login_csrf_nonce",
        "X-XSRF",
    ] {
        let html =
            format!(r#"<form method="post"><input type="hidden" name="{name}" value="v"></form>"#);
        assert_eq!(
            csrf_fields(&form(&html), None),
            vec![name.to_string()],
            "{name}"
        );
    }
}

#[test]
fn visible_fields_and_other_hidden_names_are_not_taken_for_csrf() {
    let html = r#"<form method="post"><input name="csrf" value="typed"><input type="hidden" name="tx" value="1"></form>"#;
    assert!(csrf_fields(&form(html), None).is_empty());
}

#[test]
fn the_declared_name_wins_over_the_usual_ones() {
    let html = r#"<form method="post"><input type="hidden" name="csrf" value="a"><input type="hidden" name="guard" value="b"></form>"#;
    assert_eq!(
        csrf_fields(&form(html), Some("GUARD")),
        vec!["guard".to_string()]
    );
    let none = csrf_fields(&form(html), Some("absent"));
    assert!(none.is_empty());
}

#[test]
fn altered_values_differ_everywhere_but_keep_length_and_alphabet() {
    assert_eq!(altered("abz-AZ09"), "bca-BA10");
    let v = "q8Xv_2-k";
    let w = altered(v);
    assert_eq!(w.len(), v.len());
    assert!(v
        .chars()
        .zip(w.chars())
        .all(|(a, b)| a != b || !a.is_ascii_alphanumeric()));
    assert_eq!(altered(""), "forged");
    assert_eq!(altered("--"), "forged");
}

#[test]
fn removing_drops_the_field_and_altering_replaces_it_and_both_report_the_secrets() {
    let remove = Forgery {
        form: ForgedForm::Login,
        tamper: Tamper::Remove,
    };
    let mut f = form(SPRING);
    let secrets = tamper(&mut f, remove, None).unwrap();
    assert_eq!(f.get("_CSRF"), None);
    assert_eq!(f.get("tx"), Some("t1"));
    assert_eq!(secrets, vec!["tok3n-Zz9".to_string()]);

    let alter = Forgery {
        form: ForgedForm::Consent,
        tamper: Tamper::Alter,
    };
    let mut f = form(SPRING);
    let secrets = tamper(&mut f, alter, None).unwrap();
    assert_eq!(f.get("_CSRF"), Some("upl4o-Aa0"));
    assert_eq!(
        secrets,
        vec!["upl4o-Aa0".to_string(), "tok3n-Zz9".to_string()]
    );
}

#[test]
fn a_form_without_a_csrf_field_names_what_to_declare_and_no_value() {
    let html = r#"<form method="post" action="/login"><input type="hidden" name="tx" value="s3cr3t"><input type="password" name="password"></form>"#;
    let forgery = Forgery {
        form: ForgedForm::Login,
        tamper: Tamper::Remove,
    };
    let why = tamper(&mut form(html), forgery, None).unwrap_err();
    assert!(
        why.contains("csrf_field") && why.contains("[tx, password]"),
        "{why}"
    );
    assert!(!why.contains("s3cr3t"), "{why}");
    let why = tamper(&mut form(html), forgery, Some("guard")).unwrap_err();
    assert!(why.contains("no field named \"guard\""), "{why}");
}

#[test]
fn the_answer_to_a_forged_post_is_judged_by_the_page_shown() {
    let url = Url::parse("https://as.test/login").unwrap();
    let login = Forgery {
        form: ForgedForm::Login,
        tamper: Tamper::Remove,
    };
    let answer = |forgery, role| {
        let mut f = Forging::new(forgery);
        f.stage = Stage::Sent;
        let mut o = AuthzOutcome::default();
        let refused = f.answered_with_page(role, 200, &url, &mut o);
        (refused, f.stage, o)
    };
    let (refused, _, o) = answer(login, Some(PageRole::Login));
    assert!(refused);
    assert!(
        o.describe().contains("showed the login page again"),
        "{}",
        o.describe()
    );
    let (refused, stage, o) = answer(login, Some(PageRole::Consent));
    assert!(!refused && stage == Stage::Accepted && o.refusal.is_none());
    let (refused, _, o) = answer(login, None);
    assert!(refused && o.stopped.is_none(), "{o:?}");
    let consent = Forgery {
        form: ForgedForm::Consent,
        tamper: Tamper::Alter,
    };
    let (refused, _, o) = answer(consent, Some(PageRole::Login));
    assert!(refused);
    assert!(
        o.describe().contains("wrong CSRF value"),
        "{}",
        o.describe()
    );
    let (refused, stage, _) = answer(consent, Some(PageRole::Other));
    assert!(!refused && stage == Stage::Sent);
}

#[test]
fn a_forgery_never_made_is_not_judged() {
    let consent = Forgery {
        form: ForgedForm::Consent,
        tamper: Tamper::Remove,
    };
    let coded = AuthzOutcome {
        redirect: Some(Url::parse("https://client.test/cb?code=c&state=s").unwrap()),
        ..AuthzOutcome::default()
    };
    let f = Forging::new(consent);
    assert!(f
        .conclude(&mut coded.clone())
        .unwrap_err()
        .contains("no consent page appeared"));
    let login = Forging::new(Forgery {
        form: ForgedForm::Login,
        tamper: Tamper::Alter,
    });
    let mut o = coded.clone();
    login.conclude(&mut o).unwrap();
    assert!(o.not_applicable.unwrap().contains("no login page"));
    let mut stopped = AuthzOutcome {
        stopped: Some("stopped at x: status 400".into()),
        ..AuthzOutcome::default()
    };
    assert!(login
        .conclude(&mut stopped)
        .unwrap_err()
        .contains("before the login page"));
}
