//! Values as checks compare and show them: dotted paths into JSON, case-file values as JSON,
//! equality, and the short forms a check's `expected` and `actual` are written in.

use serde_json::Value;

/// Looks up a dotted path (`act.sub`, `keys.0.kid`) in a JSON value.
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = value;
    for seg in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Converts a case-file value to JSON.
pub fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Equality for expectations: numbers by value; `token_type` case-insensitively.
pub(super) fn same(path: &str, expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) if path.ends_with("token_type") => {
            a.eq_ignore_ascii_case(b)
        }
        _ => expected == actual,
    }
}

/// `Cache-Control: "no-cache"`, or "Cache-Control header absent".
pub(super) fn show_header(name: &str, v: Option<&str>) -> String {
    match v {
        Some(v) => format!("{name}: {v:?}"),
        None => format!("{name} header absent"),
    }
}

pub(super) fn show(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => crate::util::clip(&v.to_string(), 200),
    }
}

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(super) fn scope_set(s: &str) -> std::collections::BTreeSet<&str> {
    s.split_whitespace().collect()
}
