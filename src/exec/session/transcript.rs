//! The transcript of a case as it is kept: every exchange as sent and received, each value up to
//! a window, until the case ends and [`super::Session::finish`] redacts and cuts it.

use std::time::Duration;

use obo_report::{Exchange, HttpRequest, HttpResponse};

use super::{Request, Response, TransportError};
use crate::redact::CaseRedactor;

/// Bytes of a request or response body kept in the transcript.
pub(super) const TRANSCRIPT_BODY: usize = 4096;
/// Bytes of one header value kept in the transcript.
pub(super) const TRANSCRIPT_HEADER: usize = 1024;
/// Bytes of a recorded value kept until the case ends and redacted before the cut: a value is
/// redacted on this window (so a huge body costs no more than a small one) and cut to its
/// recording limit after, so the markers replace whole secrets that straddle the limit.
pub(super) const REDACTION_WINDOW: usize = 64 * 1024;

/// An exchange as sent and received, each value kept up to [`REDACTION_WINDOW`].
pub(super) struct KeptExchange {
    step: usize,
    method: String,
    url: Kept,
    /// The request's headers, its content type last.
    headers: Vec<(String, Kept)>,
    body: Option<Kept>,
    response: Option<KeptResponse>,
    error: Option<Kept>,
    duration_ms: u64,
}

pub(super) struct KeptResponse {
    status: u16,
    headers: Vec<(String, Kept)>,
    body: Kept,
    /// The body was cut at the response size cap.
    truncated: bool,
}

impl KeptExchange {
    pub(super) fn new(
        step: usize,
        req: &Request,
        result: &Result<Response, TransportError>,
        took: Duration,
    ) -> KeptExchange {
        let keep_all = |headers: &[(String, String)]| -> Vec<(String, Kept)> {
            headers
                .iter()
                .map(|(k, v)| (k.clone(), Kept::new(v, false)))
                .collect()
        };
        let mut headers = keep_all(&req.headers);
        if let Some(ct) = &req.content_type {
            headers.push(("content-type".into(), Kept::new(ct, false)));
        }
        let (response, error) = match result {
            Ok(resp) => (
                Some(KeptResponse {
                    status: resp.status,
                    headers: keep_all(&resp.headers),
                    body: Kept::new(&resp.body, resp.truncated),
                    truncated: resp.truncated,
                }),
                None,
            ),
            Err(e) => (None, Some(Kept::new(&e.msg, false))),
        };
        KeptExchange {
            step,
            method: req.method.clone(),
            url: Kept::new(req.url.as_str(), false),
            headers,
            body: req.body.as_deref().map(|b| Kept::new(b, false)),
            response,
            error,
            duration_ms: took.as_millis() as u64,
        }
    }

    /// The first pass: every value through the run's rules and secrets (uncut, so that a
    /// marker replaces a whole secret straddling a recording limit).
    pub(super) fn redact_run(&mut self, r: &mut CaseRedactor) {
        let value = |v: &mut Kept, r: &mut CaseRedactor| {
            v.text = r.redact_run(std::mem::take(&mut v.text));
        };
        let header = |(k, v): &mut (String, Kept), r: &mut CaseRedactor| {
            v.text = r.redact_run_header(k, std::mem::take(&mut v.text));
        };
        value(&mut self.url, r);
        self.headers.iter_mut().for_each(|h| header(h, r));
        if let Some(body) = &mut self.body {
            value(body, r);
        }
        if let Some(resp) = &mut self.response {
            resp.headers.iter_mut().for_each(|h| header(h, r));
            value(&mut resp.body, r);
        }
        if let Some(error) = &mut self.error {
            value(error, r);
        }
    }

    /// The exchange as the report holds it, after [`KeptExchange::redact_run`]: every value
    /// rid of the case's one-time credentials, then cut to its recording limit with a marker
    /// of what was left out.
    pub(super) fn redacted(self, r: &CaseRedactor) -> Exchange {
        let own = |text: String| r.redact_own(text);
        let header = |(k, v): (String, Kept)| (k, v.recorded(TRANSCRIPT_HEADER, own));
        let value = |v: Kept| v.recorded(TRANSCRIPT_BODY, own);
        let request = HttpRequest {
            method: self.method,
            url: value(self.url),
            headers: self.headers.into_iter().map(header).collect(),
            body: self.body.map(value),
        };
        let response = self.response.map(|resp| {
            let body = value(resp.body);
            let cut = body.len() > TRANSCRIPT_BODY || resp.truncated;
            HttpResponse {
                status: resp.status,
                headers: resp.headers.into_iter().map(header).collect(),
                body: (!body.is_empty()).then_some(body),
                truncated: cut,
            }
        });
        Exchange {
            step: self.step,
            request,
            response,
            error: self.error.map(value),
            duration_ms: self.duration_ms,
        }
    }
}

/// A value as sent or received: its first [`REDACTION_WINDOW`] bytes, how many bytes past them
/// were left out, and whether the value had already been cut at the response size cap.
pub(super) struct Kept {
    text: String,
    left_out: usize,
    capped: bool,
}

impl Kept {
    pub(super) fn new(text: &str, capped: bool) -> Kept {
        let (window, left_out) = clip(text, REDACTION_WINDOW);
        Kept {
            text: window.to_string(),
            left_out,
            capped,
        }
    }

    /// The value redacted with `redact`, cut to `limit` bytes, with the marker of how much was
    /// left out.
    pub(super) fn recorded(self, limit: usize, redact: impl FnOnce(String) -> String) -> String {
        let mut redacted = redact(self.text);
        let more = redacted.len() - clip(&redacted, limit).0.len();
        // The redacted value is cut in place: most values are short and kept whole.
        redacted.truncate(redacted.len() - more);
        with_cut_marker(redacted, self.left_out + more, self.capped)
    }
}

/// The first `limit` bytes of `text` (on a character boundary) and how many bytes were left out.
fn clip(text: &str, limit: usize) -> (&str, usize) {
    if text.len() <= limit {
        return (text, 0);
    }
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    (&text[..cut], text.len() - cut)
}

/// Appends the marker of a cut: `capped` says the body had already been cut at the response
/// size cap, so the count is a lower bound.
fn with_cut_marker(mut value: String, cut: usize, capped: bool) -> String {
    match (cut, capped) {
        (0, false) => {}
        (0, true) => value.push_str("[... more bytes past the response size cap not read]"),
        (n, false) => value.push_str(&format!("[... {n} more bytes not recorded]")),
        (n, true) => value.push_str(&format!(
            "[... {n} more bytes not recorded, and more past the response size cap not read]"
        )),
    }
    value
}
