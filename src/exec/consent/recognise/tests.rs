//! Unit tests of [`super`].

use super::*;
use crate::exec::consent::Decision;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn rules(toml_text: &str) -> Vec<FormPage> {
    #[derive(serde::Deserialize)]
    struct R {
        page: Vec<FormPage>,
    }
    toml::from_str::<R>(toml_text).unwrap().page
}

const LOGIN: &str = r#"<html><head><title>Sign in</title></head><body>
        <form method="post" action="/interaction/abc/login">
        <input type="hidden" name="csrf" value="t"><input name="login" autocomplete="username">
        <input name="pw" type="password"><button>Sign in</button></form></body></html>"#;
const CONSENT: &str = r#"<html><head><title>Authorize</title></head><body>
        <p>Let agent-a act for you?</p>
        <form method="post" action="/interaction/abc/confirm"><input type="hidden" name="csrf" value="t">
        <button type="submit">Allow</button></form>
        <a href="/interaction/abc/abort">Cancel</a></body></html>"#;
const TWO_FORMS: &str = r#"<html><body>
        <form method="post" action="/approve"><button>Approve</button></form>
        <form method="post" action="/deny"><input type="hidden" name="x" value="1"><button>Deny</button></form>
        </body></html>"#;
const SPA: &str = r#"<html><head><script src="/static/app.3f2a.js"></script></head>
        <body><div id="root"></div><noscript>You need to enable JavaScript to run this app.</noscript></body></html>"#;

#[test]
fn shapes_without_rules() {
    let u = url("https://as.example/interaction/abc");
    let login = PageView::parse(LOGIN, &u);
    assert_eq!(recognise(&login, &[]).unwrap().role, PageRole::Login);
    let consent = PageView::parse(CONSENT, &u);
    assert_eq!(recognise(&consent, &[]).unwrap().role, PageRole::Consent);
    let spa = PageView::parse(SPA, &u);
    assert_eq!(recognise(&spa, &[]), Err(NoFit::Unrecognised));
    assert!(spa.needs_javascript());
    let d = spa.describe();
    assert!(
        d.contains("JavaScript") && d.contains("app.3f2a.js") && d.contains("enable JavaScript"),
        "{d}"
    );
    assert!(!login.needs_javascript());
}

#[test]
fn login_plan_fills_username_and_password() {
    let u = url("https://as.example/interaction/abc");
    let view = PageView::parse(LOGIN, &u);
    let fit = recognise(&view, &[]).unwrap();
    let expand = |v: &str| Ok(v.replace("${user.password}", "secret"));
    let plan = plan(&view, &fit, &[], Decision::Approve, "alice", &expand)
        .unwrap()
        .unwrap();
    assert_eq!(
        plan.press,
        Press::Form {
            form: 0,
            button: Some(0)
        }
    );
    assert_eq!(
        plan.fills,
        vec![
            ("login".into(), "alice".into()),
            ("pw".into(), "secret".into())
        ]
    );
}

#[test]
fn deny_as_link_and_as_second_form() {
    let u = url("https://as.example/x");
    let none = |_: &str| Ok(String::new());
    let view = PageView::parse(CONSENT, &u);
    let fit = recognise(&view, &[]).unwrap();
    let deny = plan(&view, &fit, &[], Decision::Deny, "a", &none)
        .unwrap()
        .unwrap();
    assert_eq!(deny.press, Press::Link { link: 0 });
    let view = PageView::parse(TWO_FORMS, &u);
    let r = rules("[[page]]\ntext = \"approve\"\nrole = \"consent\"\napprove = \"Approve\"\ndeny = \"Deny\"\n");
    let fit = recognise(&view, &r).unwrap();
    assert_eq!(fit.rule, Some(0));
    let deny = plan(&view, &fit, &r, Decision::Deny, "a", &none)
        .unwrap()
        .unwrap();
    assert_eq!(
        deny.press,
        Press::Form {
            form: 1,
            button: Some(0)
        }
    );
    let approve = plan(&view, &fit, &r, Decision::Approve, "a", &none)
        .unwrap()
        .unwrap();
    assert_eq!(
        approve.press,
        Press::Form {
            form: 0,
            button: Some(0)
        }
    );
    assert_eq!(
        plan(&view, &fit, &r, Decision::Observe, "a", &none).unwrap(),
        None
    );
}

#[test]
fn rules_on_one_url_told_apart_by_content() {
    let r = rules(
            "[[page]]\nmatch = \"*/interaction/*\"\nselector = \"input[type=password]\"\nrole = \"login\"\n\
             [[page]]\nmatch = \"*/interaction/*\"\ntext = \"act for you\"\nrole = \"consent\"\napprove = \"Allow\"\ndeny = \"Cancel\"\n",
        );
    let u = url("https://as.example/interaction/abc");
    let login = recognise(&PageView::parse(LOGIN, &u), &r).unwrap();
    assert_eq!((login.role, login.rule), (PageRole::Login, Some(0)));
    let consent = recognise(&PageView::parse(CONSENT, &u), &r).unwrap();
    assert_eq!((consent.role, consent.rule), (PageRole::Consent, Some(1)));
    // Two rules that both fit one page are refused at run time too.
    let both = rules("[[page]]\nmatch = \"*/interaction/*\"\nrole = \"login\"\n[[page]]\ntext = \"sign in\"\nrole = \"other\"\n");
    assert_eq!(
        recognise(&PageView::parse(LOGIN, &u), &both),
        Err(NoFit::Ambiguous(0, 1))
    );
}
