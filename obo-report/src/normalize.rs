//! Normalisation for byte-identical artefacts: two runs with one seed differ only in wall-clock
//! facts (when, how long, the server's `Date` header, `iat`/`exp` the harness writes into
//! minted claims), in the target's ephemeral port, and in the order parallel cases finished.
//! Values the target draws at random (codes, token IDs, key IDs, ...) become placeholders
//! numbered by first appearance (see [`crate::volatile`]).

use crate::model::{Exchange, Report};
use crate::volatile::{Placeholders, Volatile};

/// What [`normalize`] writes in place of the start time.
pub const EPOCH: &str = "1970-01-01T00:00:00Z";

/// Response headers that carry the wall clock.
const CLOCK_HEADERS: [&str; 3] = ["date", "expires", "last-modified"];

/// JSON members that carry the wall clock (JWT claims, the control API's `now`).
const CLOCK_MEMBERS: [&str; 5] = ["iat", "exp", "nbf", "auth_time", "now"];

/// Zeroes timestamps and durations, blanks clock headers and members, writes port 0 for the
/// target's port, sorts cases by ID and the responses of simultaneous identical requests, and
/// replaces the values the target draws at random by numbered placeholders (`<code-1>`).
pub fn normalize(report: &mut Report) {
    report.started_at = EPOCH.to_string();
    report.duration_ms = 0;
    report.cases.sort_by(|a, b| a.id.cmp(&b.id));
    let port = PortRewrite::of(&report.target.issuer);
    if let Some(p) = &port {
        p.apply(&mut report.target.issuer);
    }
    for case in &mut report.cases {
        case.duration_ms = 0;
        if let Some(p) = &port {
            p.apply(&mut case.message);
            for check in &mut case.checks {
                p.apply(&mut check.expected);
                p.apply(&mut check.actual);
            }
        }
        for exchange in &mut case.transcript {
            normalize_exchange(exchange, port.as_ref());
        }
    }
    // Race order by responses with the random values masked, then number the values in the
    // resulting (now seed-determined) order of first appearance.
    let mut seen = Volatile::default();
    crate::each_text_mut(report, |t| seen.collect(t));
    let masked = seen.unnumbered();
    for case in &mut report.cases {
        order_races(&mut case.transcript, &masked);
    }
    let mut ordered = Volatile::default();
    crate::each_text_mut(report, |t| ordered.collect(t));
    let numbered = ordered.numbered();
    // Inside JWTs too: the target's origin (iss, aud) and clock claims.
    let decoded = |json: &mut String| {
        if let Some(p) = &port {
            p.apply(json);
        }
        zero_clock_members(json);
    };
    crate::each_text_mut(report, |t| *t = numbered.apply(t, decoded));
}

/// Identical requests sent at once (`parallel_token`) finish in any order: within each run of
/// consecutive exchanges with the same step and request, order by response.
fn order_races(transcript: &mut [Exchange], masked: &Placeholders) {
    let mut start = 0;
    while start < transcript.len() {
        let first = &transcript[start];
        let len = transcript[start..]
            .iter()
            .take_while(|e| e.step == first.step && e.request == first.request)
            .count();
        transcript[start..start + len].sort_by(|a, b| {
            let key = |e: &Exchange| {
                e.response
                    .as_ref()
                    .map(|r| (r.status, r.body.as_ref().map(|b| masked.apply(b, |_| {}))))
                    .unwrap_or((0, e.error.clone()))
            };
            key(a).cmp(&key(b))
        });
        start += len.max(1);
    }
}

fn normalize_exchange(exchange: &mut Exchange, port: Option<&PortRewrite>) {
    exchange.duration_ms = 0;
    let req = &mut exchange.request;
    let mut texts: Vec<&mut String> = vec![&mut req.url];
    texts.extend(req.headers.iter_mut().map(|(_, v)| v));
    texts.extend(req.body.iter_mut());
    texts.extend(exchange.error.iter_mut());
    if let Some(resp) = &mut exchange.response {
        for (name, value) in resp.headers.iter_mut() {
            if CLOCK_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                *value = "(normalised)".to_string();
            }
            texts.push(value);
        }
        texts.extend(resp.body.iter_mut());
    }
    for text in texts {
        if let Some(p) = port {
            p.apply(text);
        }
        zero_clock_members(text);
    }
}

/// Rewrites the target's origin `scheme://host:PORT` to `scheme://host:0`, raw and
/// percent-encoded (as it appears in `redirect_uri` and `iss` parameters).
struct PortRewrite {
    pairs: [(String, String); 2],
}

impl PortRewrite {
    fn of(issuer: &str) -> Option<PortRewrite> {
        let (scheme, rest) = issuer.split_once("://")?;
        let authority = rest.split('/').next()?;
        let (host, port) = authority.rsplit_once(':')?;
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port == "0" {
            return None;
        }
        let raw = format!("{scheme}://{authority}");
        let fixed = format!("{scheme}://{host}:0");
        let enc = |s: &str| s.replace(':', "%3A").replace('/', "%2F");
        Some(PortRewrite {
            pairs: [(enc(&raw), enc(&fixed)), (raw, fixed)],
        })
    }

    fn apply(&self, text: &mut String) {
        for (from, to) in &self.pairs {
            if !text.contains(from.as_str()) {
                continue;
            }
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(i) = rest.find(from.as_str()) {
                let end = i + from.len();
                // `:38145` must not match the start of `:381450`.
                let longer_port = rest[end..].starts_with(|c: char| c.is_ascii_digit());
                out.push_str(&rest[..i]);
                out.push_str(if longer_port { from } else { to });
                rest = &rest[end..];
            }
            out.push_str(rest);
            *text = out;
        }
    }
}

/// `"iat":1795967805` (any spacing) becomes `"iat":0` in JSON text.
fn zero_clock_members(text: &mut String) {
    if !CLOCK_MEMBERS
        .iter()
        .any(|m| text.contains(&format!("\"{m}\"")))
    {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(q) = rest.find('"') {
        out.push_str(&rest[..q]);
        rest = &rest[q..];
        let member = CLOCK_MEMBERS.iter().find_map(|m| {
            let key = format!("\"{m}\"");
            let after = rest.strip_prefix(key.as_str())?;
            let after_colon = after.trim_start().strip_prefix(':')?;
            let value = after_colon.trim_start();
            let digits = value.bytes().take_while(u8::is_ascii_digit).count();
            (digits > 0).then(|| {
                let consumed = rest.len() - value.len() + digits;
                (format!("{}0", &rest[..rest.len() - value.len()]), consumed)
            })
        });
        match member {
            Some((replacement, consumed)) => {
                out.push_str(&replacement);
                rest = &rest[consumed..];
            }
            None => {
                out.push('"');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    *text = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HttpRequest, HttpResponse};

    fn exchange(step: usize, url: &str, status: u16) -> Exchange {
        Exchange {
            step,
            request: HttpRequest {
                method: "POST".into(),
                url: url.into(),
                headers: vec![],
                body: None,
            },
            response: Some(HttpResponse {
                status,
                headers: vec![],
                body: None,
                truncated: false,
            }),
            error: None,
            duration_ms: 0,
        }
    }

    #[test]
    fn only_races_of_identical_requests_are_reordered() {
        let mut t = vec![
            exchange(1, "/setup", 500),
            exchange(1, "/token", 400),
            exchange(1, "/token", 200),
            exchange(1, "/token", 400),
            exchange(2, "/token", 400),
            exchange(2, "/other", 200),
        ];
        order_races(&mut t, &Volatile::default().unnumbered());
        let got: Vec<(usize, &str, u16)> = t
            .iter()
            .map(|e| {
                (
                    e.step,
                    e.request.url.as_str(),
                    e.response.as_ref().map_or(0, |r| r.status),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, "/setup", 500),
                (1, "/token", 200),
                (1, "/token", 400),
                (1, "/token", 400),
                (2, "/token", 400),
                (2, "/other", 200)
            ]
        );
    }

    #[test]
    fn clock_members_are_zeroed_whatever_the_spacing() {
        let mut s =
            r#"{"iat":1795967805, "exp" : 17, "expires_in":300,"sub":"iat","now":12}"#.to_string();
        zero_clock_members(&mut s);
        assert_eq!(
            s,
            r#"{"iat":0, "exp" : 0, "expires_in":300,"sub":"iat","now":0}"#
        );
        let mut s = "\"exp\": \"x\" \"".to_string();
        zero_clock_members(&mut s);
        assert_eq!(s, "\"exp\": \"x\" \"");
    }

    #[test]
    fn the_targets_port_becomes_zero_raw_and_encoded() {
        let p = PortRewrite::of("http://127.0.0.1:38145").unwrap();
        let mut s = "http://127.0.0.1:38145/token?redirect=http%3A%2F%2F127.0.0.1%3A38145%2Fcb http://127.0.0.1:381450".to_string();
        p.apply(&mut s);
        assert_eq!(
            s,
            "http://127.0.0.1:0/token?redirect=http%3A%2F%2F127.0.0.1%3A0%2Fcb http://127.0.0.1:381450"
        );
        assert!(PortRewrite::of("https://as.example").is_none());
        assert!(PortRewrite::of("https://as.example/").is_none());
    }
}
