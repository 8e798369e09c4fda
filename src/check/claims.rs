//! Checks on the claims of the access token a step received (`claims`, `claim_types`,
//! `claims_absent`, `claims_present`, `client_claim`, `act_differs_from_sub`, `scope_within`).

use serde_json::Value;

use super::values::{lookup, same, scope_set, show, toml_to_json, type_name};
use super::{CheckContext, Observation};
use crate::case::Expect;
use obo_report::Check;

/// The access token's claims (OBO-AT-1, OBO-AT-2, OBO-AT-3, OBO-AT-4, OBO-AT-5, OBO-AT-7; the
/// bindings they carry: OBO-SEC-5, OBO-SEC-6, OBO-SEC-7), under the case's requirement IDs.
pub(super) fn claim_checks(
    obs: &Observation,
    e: &Expect,
    cx: &CheckContext<'_>,
    out: &mut Vec<Check>,
) {
    let wants_claims = e.claims.is_some()
        || e.claim_types.is_some()
        || e.claims_absent.is_some()
        || e.claims_present.is_some()
        || e.client_claim.is_some()
        || e.act_differs_from_sub.is_some()
        || e.scope_within.is_some();
    if !wants_claims {
        return;
    }
    let claims = match &obs.claims {
        Some(Ok(c)) => c,
        Some(Err(why)) => {
            out.push(cx.check(
                "access token claims",
                "readable, verified access token claims",
                why.clone(),
                false,
            ));
            return;
        }
        None => {
            if e.scope_within.is_some()
                && e.claims.is_none()
                && e.claim_types.is_none()
                && e.claims_absent.is_none()
                && e.claims_present.is_none()
            {
                return; // scope_within on a response without a token: the response check suffices
            }
            out.push(cx.check(
                "access token claims",
                "an access token",
                format!("no access token ({})", obs.summary()),
                false,
            ));
            return;
        }
    };
    for (path, want) in e.claims.iter().flatten() {
        let want = toml_to_json(want);
        let got = lookup(claims, path);
        let ok = got.is_some_and(|g| same(path, &want, g));
        out.push(cx.check(format!("claim {path}"), show(Some(&want)), show(got), ok));
    }
    for (path, ty) in e.claim_types.iter().flatten() {
        let got = lookup(claims, path);
        let ok = got.is_some_and(|g| type_name(g) == ty);
        out.push(cx.check(
            format!("claim {path} type"),
            ty.clone(),
            got.map_or("(absent)", type_name),
            ok,
        ));
    }
    for path in e.claims_present.iter().flatten() {
        let got = lookup(claims, path);
        out.push(cx.check(
            format!("claim {path} present"),
            "present",
            show(got),
            got.is_some(),
        ));
    }
    for path in e.claims_absent.iter().flatten() {
        let got = lookup(claims, path);
        out.push(cx.check(
            format!("claim {path} absent"),
            "(absent)",
            show(got),
            got.is_none(),
        ));
    }
    if let Some(want) = &e.client_claim {
        let azp = claims.get("azp").and_then(Value::as_str);
        let cid = claims.get("client_id").and_then(Value::as_str);
        let ok = azp == Some(want.as_str()) || cid == Some(want.as_str());
        out.push(cx.check(
            "client claim (azp or client_id)",
            want.clone(),
            format!("azp={azp:?} client_id={cid:?}"),
            ok,
        ));
    }
    if let Some(want) = e.act_differs_from_sub {
        let act = lookup(claims, "act.sub");
        let sub = claims.get("sub");
        let differs = act.is_some() && act != sub;
        out.push(cx.check(
            "act.sub differs from sub",
            want.to_string(),
            format!("act.sub={} sub={}", show(act), show(sub)),
            differs == want,
        ));
    }
    if let Some(within) = &e.scope_within {
        let allowed = scope_set(within);
        match claims.get("scope") {
            Some(Value::String(s)) => out.push(cx.check(
                "token scope within",
                within.clone(),
                s.clone(),
                scope_set(s).is_subset(&allowed),
            )),
            Some(Value::Array(a)) => {
                let got: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                let ok = got.iter().all(|s| allowed.contains(s)) && got.len() == a.len();
                out.push(cx.check("token scope within", within.clone(), got.join(" "), ok));
            }
            other => out.push(cx.check("token scope within", within.clone(), show(other), false)),
        }
    }
}
