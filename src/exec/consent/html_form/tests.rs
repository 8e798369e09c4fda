//! Unit tests of [`super`].

use super::*;

fn page() -> Url {
    Url::parse("https://as.example/authorize/consent?req=1").unwrap()
}

const CONSENT: &str = r#"<!doctype html>
<html><body>
  <form id="login" action="/login" method="post">
    <input name="username"><input type="password" name="password" value="">
    <input type="submit" value="Sign in">
  </form>
  <form id="consent" action="decide" method="POST">
    <input type="hidden" name="csrf" value="tok&amp;1">
    <input type="hidden" name="disabled" value="x" disabled>
    <input type="checkbox" name="remember" checked>
    <input type="checkbox" name="unchecked" value="no">
    <input type="radio" name="scope" value="read">
    <input type="radio" name="scope" value="write" checked>
    <select name="ttl"><option>60</option><option value="3600" selected>hour</option></select>
    <select name="none"><option disabled>x</option><option value="first">f</option></select>
    <textarea name="note">
hello</textarea>
    <button type="submit" name="decision" value="approve">  Allow
      access </button>
    <button name="decision" value="deny" formaction="/deny">Deny</button>
    <button type="button">Cancel</button>
  </form>
  <input form="consent" type="hidden" name="outside" value="o">
</body></html>"#;

#[test]
fn extracts_fields_like_a_browser() {
    let all = forms(CONSENT, &page());
    assert_eq!(all.len(), 2);
    let consent = &all[1];
    assert_eq!(
        consent.action.as_str(),
        "https://as.example/authorize/decide"
    );
    assert_eq!(consent.method, "POST");
    let expected: Vec<(String, String)> = [
        ("csrf", "tok&1"),
        ("remember", "on"),
        ("scope", "write"),
        ("ttl", "3600"),
        ("none", "first"),
        ("note", "hello"),
        ("outside", "o"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(consent.fields, expected);
    let labels: Vec<&str> = consent.buttons.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["Allow access", "Deny"]);
    assert_eq!(
        consent.buttons[1].action.as_ref().map(Url::as_str),
        Some("https://as.example/deny")
    );
    assert_eq!(all[0].buttons[0].label, "Sign in");
    assert_eq!(all[0].buttons[0].name, None);
}

#[test]
fn finds_forms_by_selector_or_button() {
    let by_css = find_form(CONSENT, &page(), Some("#consent"), None).unwrap();
    assert_eq!(by_css.get("csrf"), Some("tok&1"));
    // A selector matching an element inside a form selects that form.
    let inner = find_form(CONSENT, &page(), Some("input[name=username]"), None).unwrap();
    assert_eq!(inner.action.path(), "/login");
    let by_text = find_form(CONSENT, &page(), None, Some("ALLOW")).unwrap();
    assert_eq!(by_text, by_css);
    let sign_in = find_form(CONSENT, &page(), Some("form"), Some("sign")).unwrap();
    assert_eq!(sign_in.action.path(), "/login");
}

#[test]
fn errors_say_what_was_found() {
    let err = find_form(CONSENT, &page(), None, Some("Approve all")).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, FormError::NotFound { .. }));
    assert!(
        text.contains("2 form(s)") && text.contains("\"Allow access\""),
        "{text}"
    );
    assert!(
        !text.contains("tok&1"),
        "field values must not appear: {text}"
    );
    assert!(matches!(
        find_form(CONSENT, &page(), None, None),
        Err(FormError::Ambiguous { .. })
    ));
    assert!(matches!(
        find_form(CONSENT, &page(), Some("[[["), None),
        Err(FormError::BadSelector(_))
    ));
    let none = find_form("<p>no form</p>", &page(), None, None).unwrap_err();
    assert!(none.to_string().contains("no form at all"));
}

#[test]
fn submission_includes_the_pressed_button() {
    let mut form = find_form(CONSENT, &page(), Some("#consent"), None).unwrap();
    form.fill("note", "changed");
    form.fill("extra", "1");
    let (method, url, fields) = form.try_submission(Some("allow")).unwrap();
    assert_eq!(method, "POST");
    assert_eq!(url.path(), "/authorize/decide");
    assert!(fields.contains(&("decision".into(), "approve".into())));
    assert!(fields.contains(&("note".into(), "changed".into())));
    assert!(fields.contains(&("extra".into(), "1".into())));
    let (_, deny_url, deny_fields) = form.submission(Some("deny"));
    assert_eq!(deny_url.path(), "/deny");
    assert!(deny_fields.contains(&("decision".into(), "deny".into())));
    // Implicit submission presses the first button.
    let (_, _, implicit) = form.submission(None);
    assert!(implicit.contains(&("decision".into(), "approve".into())));
    assert!(matches!(
        form.try_submission(Some("nope")),
        Err(FormError::ButtonNotFound { .. })
    ));
    let (_, _, unpressed) = form.submission(Some("nope"));
    assert!(!unpressed.iter().any(|(n, _)| n == "decision"));
}

#[test]
fn get_forms_carry_fields_in_the_query() {
    let html =
        r#"<form action="/search?old=1"><input name="q" value="a b"><button>Go</button></form>"#;
    let form = find_form(html, &page(), None, None).unwrap();
    assert_eq!(form.method, "GET");
    let (method, url, fields) = form.submission(None);
    assert_eq!(method, "GET");
    assert_eq!(url.as_str(), "https://as.example/search?q=a+b");
    assert_eq!(fields, vec![("q".to_string(), "a b".to_string())]);
}

#[test]
fn missing_action_is_the_page_and_bad_html_is_tolerated() {
    let html = "<form method=post><input name=a value=1><input type=submit>";
    let form = find_form(html, &page(), None, Some("submit")).unwrap();
    assert_eq!(form.action, page());
    assert_eq!(form.fields, vec![("a".to_string(), "1".to_string())]);
    let bad = r#"<form action="http://[::1"><input name=a></form>"#;
    assert!(forms(bad, &page()).is_empty());
    assert!(forms("\u{0}<<<>>>&&&", &page()).is_empty());
}
