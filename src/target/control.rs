//! The control adapter of a profile (`[control]`): how the harness moves the target's clock,
//! resets it, disables and enables an actor, forgets a stored consent and mints a token. Each
//! operation is one of: the built-in JSON contract (docs/contracts.md) at `endpoints.control`, an
//! `http` hook (method, URL template, headers, body template, expected status, where the answer
//! is) or a `command` hook (argv template; stdout is the answer). An operation the profile does
//! not map is unavailable, and the cases that need it skip naming it.
//!
//! Without a `[control]` table every operation uses the built-in contract when the target has a
//! control endpoint (explicit or announced as `obo_test_control_endpoint`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::validation::{field_err, FieldErr};

/// One operation of the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    AdvanceClock,
    Reset,
    DisableActor,
    EnableActor,
    RevokeConsent,
    Mint,
}

impl Operation {
    pub const ALL: [Operation; 6] = [
        Operation::AdvanceClock,
        Operation::Reset,
        Operation::DisableActor,
        Operation::EnableActor,
        Operation::RevokeConsent,
        Operation::Mint,
    ];

    /// The key of the operation in `[control]`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::AdvanceClock => "advance_clock",
            Operation::Reset => "reset",
            Operation::DisableActor => "disable_actor",
            Operation::EnableActor => "enable_actor",
            Operation::RevokeConsent => "revoke_consent",
            Operation::Mint => "mint",
        }
    }

    /// The path of the operation in the built-in contract, below the control base.
    pub fn contract_path(self) -> &'static str {
        match self {
            Operation::AdvanceClock => "clock/advance",
            Operation::Reset => "reset",
            Operation::DisableActor => "actors/disable",
            Operation::EnableActor => "actors/enable",
            Operation::RevokeConsent => "consents/revoke",
            Operation::Mint => "mint",
        }
    }

    /// The `${...}` variables a hook of this operation may use (besides `issuer` and `control`).
    pub fn variables(self) -> &'static [&'static str] {
        match self {
            // `offset` is the total advance since the last reset, for APIs that set an absolute
            // offset rather than add to it.
            Operation::AdvanceClock => &["seconds", "offset"],
            Operation::Reset => &[],
            Operation::DisableActor | Operation::EnableActor => &["actor"],
            Operation::RevokeConsent => &["user", "client_id", "actor"],
            Operation::Mint => &["claims", "header"],
        }
    }
}

/// `[control]`: one optional hook per operation.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Adapter {
    pub advance_clock: Option<Hook>,
    pub reset: Option<Hook>,
    pub disable_actor: Option<Hook>,
    pub enable_actor: Option<Hook>,
    pub revoke_consent: Option<Hook>,
    pub mint: Option<Hook>,
}

impl Adapter {
    pub fn hook(&self, op: Operation) -> Option<&Hook> {
        match op {
            Operation::AdvanceClock => self.advance_clock.as_ref(),
            Operation::Reset => self.reset.as_ref(),
            Operation::DisableActor => self.disable_actor.as_ref(),
            Operation::EnableActor => self.enable_actor.as_ref(),
            Operation::RevokeConsent => self.revoke_consent.as_ref(),
            Operation::Mint => self.mint.as_ref(),
        }
    }
}

/// How one operation is done.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "hook", rename_all = "snake_case", deny_unknown_fields)]
pub enum Hook {
    /// The built-in JSON contract at `endpoints.control` (docs/contracts.md).
    Contract {},
    /// A request to the target's own test or admin API.
    Http(HttpHook),
    /// A program; exit status 0 is success, its stdout (trimmed) the answer.
    Command {
        command: Vec<String>,
        #[serde(default)]
        timeout_secs: Option<u64>,
    },
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpHook {
    #[serde(default = "default_method")]
    pub method: String,
    /// URL template; values are percent-encoded where they land.
    pub url: String,
    /// Header templates (e.g. an admin bearer token).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Body template; string values are JSON-escaped when `content_type` is JSON.
    pub body: Option<String>,
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// Statuses that mean success; default any 2xx.
    #[serde(default)]
    pub expect_status: Vec<u16>,
    /// `mint` only: JSON pointer (RFC 6901) to the token in the answer, or `"body"` for the
    /// whole trimmed body; default `/token`.
    pub answer: Option<String>,
}

fn default_method() -> String {
    "POST".into()
}
fn default_content_type() -> String {
    "application/json".into()
}

impl HttpHook {
    pub fn accepts(&self, status: u16) -> bool {
        if self.expect_status.is_empty() {
            (200..300).contains(&status)
        } else {
            self.expect_status.contains(&status)
        }
    }

    pub fn json_body(&self) -> bool {
        self.content_type.contains("json")
    }
}

/// How a value is written into a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Percent-encoded (URL templates).
    Url,
    /// Inside a JSON document: strings escaped without their quotes, JSON values as they are.
    Json,
    /// As it is (headers, form bodies, argv).
    Raw,
}

/// A variable's value: plain text, or a JSON document (`claims`, `header`).
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Json(serde_json::Value),
}

/// Expands `${name}` in `template`; an unknown name is an error naming it.
pub fn expand(
    template: &str,
    vars: &BTreeMap<&str, Value>,
    escape: Escape,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed `${{` in {template:?}"))?;
        let name = &after[..end];
        let v = vars
            .get(name)
            .ok_or_else(|| format!("unknown variable ${{{name}}}"))?;
        let text = match (v, escape) {
            (Value::Json(j), _) => j.to_string(),
            (Value::Text(t), Escape::Raw) => t.clone(),
            (Value::Text(t), Escape::Url) => {
                url::form_urlencoded::byte_serialize(t.as_bytes()).collect()
            }
            (Value::Text(t), Escape::Json) => {
                let q = serde_json::Value::String(t.clone()).to_string();
                q[1..q.len() - 1].to_string()
            }
        };
        let text = match (v, escape) {
            (Value::Json(_), Escape::Url) => {
                url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
            }
            _ => text,
        };
        out.push_str(&text);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Sample values of every variable an operation may use, for validation.
fn sample_vars(op: Operation) -> BTreeMap<&'static str, Value> {
    let mut v: BTreeMap<&str, Value> = BTreeMap::new();
    v.insert("issuer", Value::Text("https://issuer.example".into()));
    v.insert(
        "control",
        Value::Text("https://issuer.example/control".into()),
    );
    for name in op.variables() {
        let value = match *name {
            "claims" | "header" => Value::Json(serde_json::json!({"sub": "x"})),
            "seconds" | "offset" => Value::Text("60".into()),
            _ => Value::Text("sample".into()),
        };
        v.insert(name, value);
    }
    v
}

/// Checks every hook: templates use known variables, URLs parse, methods and statuses are valid.
pub fn validate(adapter: &Adapter, has_control_base: bool) -> Result<(), FieldErr> {
    for op in Operation::ALL {
        let Some(hook) = adapter.hook(op) else {
            continue;
        };
        let f = format!("control.{}", op.name());
        let vars = sample_vars(op);
        match hook {
            Hook::Contract {} => {
                if !has_control_base {
                    return Err(field_err(
                        &f,
                        "hook \"contract\" needs endpoints.control or an issuer whose metadata announces obo_test_control_endpoint",
                    ));
                }
            }
            Hook::Http(h) => {
                reqwest::Method::from_bytes(h.method.as_bytes())
                    .map_err(|_| field_err(&format!("{f}.method"), "is not an HTTP method"))?;
                let url = expand(&h.url, &vars, Escape::Url)
                    .map_err(|e| field_err(&format!("{f}.url"), e))?;
                let parsed = url::Url::parse(&url)
                    .map_err(|e| field_err(&format!("{f}.url"), format!("not a URL: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(field_err(&format!("{f}.url"), "must be http or https"));
                }
                for (k, t) in &h.headers {
                    reqwest::header::HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                        field_err(
                            &format!("{f}.headers"),
                            format!("{k:?} is not a header name"),
                        )
                    })?;
                    expand(t, &vars, Escape::Raw)
                        .map_err(|e| field_err(&format!("{f}.headers.{k}"), e))?;
                }
                if let Some(b) = &h.body {
                    let esc = if h.json_body() {
                        Escape::Json
                    } else {
                        Escape::Raw
                    };
                    let body =
                        expand(b, &vars, esc).map_err(|e| field_err(&format!("{f}.body"), e))?;
                    if h.json_body() {
                        serde_json::from_str::<serde_json::Value>(&body).map_err(|e| {
                            field_err(
                                &format!("{f}.body"),
                                format!("is not JSON once expanded: {e}"),
                            )
                        })?;
                    }
                }
                if let Some(s) = h.expect_status.iter().find(|s| !(100..=599).contains(*s)) {
                    return Err(field_err(
                        &format!("{f}.expect_status"),
                        format!("{s} is not an HTTP status"),
                    ));
                }
                match (&h.answer, op) {
                    (Some(_), o) if o != Operation::Mint => {
                        return Err(field_err(
                            &format!("{f}.answer"),
                            "only the mint operation has an answer",
                        ))
                    }
                    (Some(a), _) if a != "body" && !a.starts_with('/') => {
                        return Err(field_err(
                            &format!("{f}.answer"),
                            "is a JSON pointer (\"/token\") or \"body\"",
                        ))
                    }
                    _ => {}
                }
            }
            Hook::Command { command, .. } => {
                if command.is_empty() {
                    return Err(field_err(
                        &format!("{f}.command"),
                        "needs at least the program",
                    ));
                }
                for a in command {
                    expand(a, &vars, Escape::Raw)
                        .map_err(|e| field_err(&format!("{f}.command"), e))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<&'static str, Value> {
        let mut v = BTreeMap::new();
        v.insert("actor", Value::Text("a b\"&".into()));
        v.insert("claims", Value::Json(serde_json::json!({"sub": "x"})));
        v
    }

    #[test]
    fn expands_with_the_escape_of_the_place() {
        let v = vars();
        assert_eq!(
            expand("/agents/${actor}", &v, Escape::Url).unwrap(),
            "/agents/a+b%22%26"
        );
        assert_eq!(
            expand(r#"{"a":"${actor}","c":${claims}}"#, &v, Escape::Json).unwrap(),
            r#"{"a":"a b\"&","c":{"sub":"x"}}"#
        );
        assert_eq!(expand("${actor}", &v, Escape::Raw).unwrap(), "a b\"&");
    }

    #[test]
    fn unknown_and_unclosed_variables_are_named() {
        let v = vars();
        assert!(expand("${nope}", &v, Escape::Raw)
            .unwrap_err()
            .contains("${nope}"));
        assert!(expand("${actor", &v, Escape::Raw)
            .unwrap_err()
            .contains("unclosed"));
    }

    #[test]
    fn validation_names_the_field() {
        let a: Adapter = toml::from_str(
            r#"
            [disable_actor]
            hook = "http"
            method = "PATCH"
            url = "http://t.example/agents/${agent}"
            "#,
        )
        .unwrap();
        let (field, msg) = validate(&a, false).unwrap_err();
        assert_eq!(field, "control.disable_actor.url");
        assert!(msg.contains("${agent}"), "{msg}");
        let a: Adapter = toml::from_str("[reset]\nhook = \"contract\"\n").unwrap();
        assert_eq!(validate(&a, false).unwrap_err().0, "control.reset");
        assert!(validate(&a, true).is_ok());
        let a: Adapter = toml::from_str(
            "[reset]\nhook = \"http\"\nurl = \"http://t.example/r\"\nanswer = \"/x\"\n",
        )
        .unwrap();
        assert_eq!(validate(&a, true).unwrap_err().0, "control.reset.answer");
    }
}
