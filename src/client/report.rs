//! A scenario's result and the run's report: verdict from the judged checks, the recorded traffic
//! as a transcript with every credential redacted, and the report's summary and requirements.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use obo_report::{
    CaseResult, Exchange, HttpRequest, HttpResponse, Report, RequirementInfo, Summary, Target,
};
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::redact::Redactor;
use crate::verdict::{decide, Ending};

use super::judge;
use super::proxy::Record;
use super::scenario::Scenario;

pub(super) fn result(
    s: &Scenario,
    ending: Ending,
    checks: Vec<obo_report::Check>,
    transcript: Vec<Exchange>,
    started: Instant,
    ends: &str,
) -> CaseResult {
    let (verdict, mut message) = decide(&ending, &checks);
    if !ends.is_empty() {
        message = crate::util::clip(&format!("{message} ({ends})"), crate::verdict::MESSAGE_MAX);
    }
    CaseResult {
        id: s.id.clone(),
        title: s.title.clone(),
        verdict,
        requirements: s.all_requirements().into_iter().collect(),
        scenarios: s.scenarios.clone(),
        level: s.level,
        tags: s.tags.clone(),
        message,
        checks,
        duration_ms: started.elapsed().as_millis() as u64,
        transcript,
        readings: Vec::new(),
    }
}

/// Records → report exchanges, with every credential redacted: the demo secrets, every code,
/// state and PKCE verifier the run saw, and every one-time credential the traffic carries
/// (`redact::one_time_values`; signatures of JWTs are cut by the redactor).
pub(super) fn transcript(records: &[Record], base: &str, ctx: &judge::Context) -> Vec<Exchange> {
    let mut r = Redactor::default()
        .with_basic_pair(&ctx.client_id, ctx.client_secret.as_deref().unwrap_or(""))
        .with_basic_pair(&ctx.actor_id, &ctx.actor_secret);
    for rec in records {
        for name in ["code", "state", "code_verifier", "actor_token"] {
            if let Some(v) = rec.param(name) {
                r.add_secret(v);
            }
            if let Some(v) = rec.location_param(name) {
                r.add_secret(&v);
            }
        }
        for text in [&rec.body, &rec.resp_body] {
            crate::redact::one_time_values(text)
                .iter()
                .for_each(|v| r.add_secret(v));
        }
    }
    records
        .iter()
        .map(|rec| {
            let mut url = format!("{base}{}", rec.path);
            if !rec.query.is_empty() {
                let q: String = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&rec.query)
                    .finish();
                url = format!("{url}?{q}");
            }
            let headers = |h: &[(String, String)]| -> Vec<(String, String)> {
                h.iter()
                    .map(|(k, v)| (k.clone(), r.redact_header(k, v)))
                    .collect()
            };
            let mut body = rec.resp_body.clone();
            if let Some(t) = &rec.tampered {
                body = format!("[suite: {t}]\n{body}");
            }
            Exchange {
                step: rec.run as usize,
                request: HttpRequest {
                    method: rec.method.clone(),
                    url: r.redact(&url),
                    headers: headers(&rec.headers),
                    body: (!rec.body.is_empty()).then(|| r.redact(&rec.body)),
                },
                response: rec.status.map(|status| HttpResponse {
                    status,
                    headers: headers(&rec.resp_headers),
                    body: (!body.is_empty()).then(|| r.redact(&body)),
                    truncated: rec.resp_truncated,
                }),
                error: rec.error.clone(),
                duration_ms: rec.duration_ms,
            }
        })
        .collect()
}

pub(super) fn build_report(
    catalog: &Catalog,
    cases: Vec<CaseResult>,
    seed: u64,
    describe: &str,
    started_at: time::OffsetDateTime,
    took: Duration,
) -> Report {
    let requirements: BTreeMap<String, RequirementInfo> = cases
        .iter()
        .flat_map(|c| c.requirements.iter())
        .filter_map(|id| {
            catalog.requirements.get(id).map(|r| {
                (
                    id.clone(),
                    RequirementInfo {
                        section: r.section.clone(),
                        level: r.level.clone(),
                        text: r.text.clone(),
                    },
                )
            })
        })
        .collect();
    let digest: String = Sha256::digest(describe.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Report {
        schema_version: obo_report::SCHEMA_VERSION.to_string(),
        suite_version: env!("CARGO_PKG_VERSION").to_string(),
        target: Target {
            name: "client-under-test".into(),
            issuer: describe.to_string(),
            revision: "02".into(),
            profile_digest: digest,
            capabilities: Vec::new(),
        },
        seed,
        diagnosis: Vec::new(),
        ambiguities: Default::default(),
        invocation: None,
        replay: Default::default(),
        expectations: None,
        strict: false,
        started_at: started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: took.as_millis() as u64,
        summary: Summary::of(&cases),
        cases,
        requirements,
    }
}
