//! `${...}` variables of the case language: names a case may use, and substitution.

/// Variables a case file may use (cases/README.md, "Variables").
pub const CASE_VARIABLES: &[&str] = &[
    "actor.a",
    "actor.a.upper",
    "actor.a.lookalike",
    "actor.b",
    "actor.disabled",
    "user.sub",
    "user.username",
    "client.primary.id",
    "client.second.id",
    "client.public.id",
    "client.primary.redirect_uri",
    "client.second.redirect_uri",
    "client.public.redirect_uri",
    "scope",
    "scope.extra",
    "issuer",
    "resource.audience",
    "other_audience",
];

/// The names of the `${...}` references in `s`, in order.
pub fn names_in(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("unterminated `${{` in {s:?}"));
        };
        out.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    Ok(out)
}

/// Replaces every `${name}` with `lookup(name)`; the first unresolvable name is the error.
pub fn substitute(s: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("unterminated `${{` in {s:?}"));
        };
        let name = &after[..end];
        match lookup(name) {
            Some(v) => out.push_str(&v),
            None => return Err(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_and_reports_missing() {
        let f = |n: &str| (n == "actor.a").then(|| "agent-a".to_string());
        assert_eq!(
            substitute("x-${actor.a}-y", f).as_deref(),
            Ok("x-agent-a-y")
        );
        assert_eq!(substitute("${actor.b}", f), Err("actor.b".to_string()));
        assert!(substitute("${actor.a", f).is_err());
        assert_eq!(names_in("${a}${b}c").unwrap_or_default(), vec!["a", "b"]);
    }
}
