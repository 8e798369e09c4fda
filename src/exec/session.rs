//! One case's HTTP session: a reqwest client with its own cookie jar, no automatic redirects,
//! a per-request timeout and a response-size cap, and a transcript of every exchange, kept as
//! sent and received until the case ends and then redacted in one pass
//! ([`crate::redact::CaseRedactor`], [`Session::finish`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use obo_report::Exchange;
use url::Url;

use crate::redact::{CaseRedactor, Redactor};

mod transcript;
use transcript::KeptExchange;

/// A request as the harness built it; kept so that `replay` can send it again byte for byte.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    /// Form-encoded body (sent with `application/x-www-form-urlencoded`).
    pub body: Option<String>,
    pub content_type: Option<String>,
}

impl Request {
    pub fn get(url: Url) -> Request {
        Request {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: None,
            content_type: None,
        }
    }

    /// A form POST; pairs keep order and duplicates.
    pub fn post_form(url: Url, pairs: &[(String, String)]) -> Request {
        Request {
            method: "POST".into(),
            url,
            headers: Vec::new(),
            body: Some(encode_pairs(pairs)),
            content_type: Some("application/x-www-form-urlencoded".into()),
        }
    }

    pub fn post_json(url: Url, body: &serde_json::Value) -> Request {
        Request {
            method: "POST".into(),
            url,
            headers: Vec::new(),
            body: Some(body.to_string()),
            content_type: Some("application/json".into()),
        }
    }

    /// A GET with `pairs` added to the query; an endpoint's own query component is kept
    /// (RFC 6749 §3.1).
    pub fn get_query(mut url: Url, pairs: &[(String, String)]) -> Request {
        let query = match url.query().filter(|q| !q.is_empty()) {
            Some(own) => format!("{own}&{}", encode_pairs(pairs)),
            None => encode_pairs(pairs),
        };
        url.set_query(Some(&query));
        Request::get(url)
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Request {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// `application/x-www-form-urlencoded` of ordered pairs (duplicates kept).
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Response {
    pub url: Url,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body exceeded the size cap and was cut.
    pub truncated: bool,
}

impl Response {
    /// First header value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of a header.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status) && self.header("location").is_some()
    }

    /// The `Location` header resolved against the request URL.
    pub fn location(&self) -> Option<Url> {
        self.header("location").and_then(|l| self.url.join(l).ok())
    }

    pub fn is_html(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("html"))
            || self.body.trim_start().starts_with('<')
    }
}

/// A transport failure (connection refused, timeout, malformed response).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{method} {url}: {msg}")]
pub struct TransportError {
    pub method: String,
    pub url: String,
    pub msg: String,
}

impl TransportError {
    /// Names the timeout that expired, in seconds.
    pub fn with_timeout(mut self, timeout: Duration) -> TransportError {
        if let Some(rest) = self.msg.strip_prefix(TIMED_OUT) {
            self.msg = format!(
                "timed out after {} s{rest} (--timeout or the profile's http.timeout_secs)",
                timeout.as_secs()
            );
        }
        self
    }
}

const TIMED_OUT: &str = "timed out";

/// One case's HTTP client and transcript.
pub struct Session {
    client: reqwest::Client,
    /// The case's cookies (shared with the `browser` consent driver's context).
    jar: Arc<reqwest::cookie::Jar>,
    redactor: Arc<Redactor>,
    max_body: usize,
    timeout: Duration,
    /// Step index recorded with each exchange.
    pub step: usize,
    /// Every exchange so far, as sent and received: a one-time credential may be met after the
    /// exchanges that carry it, so redaction waits for [`Session::finish`].
    kept: Vec<KeptExchange>,
}

impl Session {
    pub fn new(
        timeout: Duration,
        max_body: usize,
        redactor: Arc<Redactor>,
    ) -> Result<Session, String> {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Session {
            client,
            jar,
            redactor,
            max_body,
            timeout,
            step: 0,
            kept: Vec::new(),
        })
    }

    /// A handle for concurrent requests (same cookie jar); their exchanges are recorded by
    /// [`Session::record`].
    pub fn client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// The case's cookie jar.
    pub fn cookie_jar(&self) -> Arc<reqwest::cookie::Jar> {
        self.jar.clone()
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Sends `req`, records the exchange, returns the response or the transport error.
    pub async fn send(&mut self, req: &Request) -> Result<Response, TransportError> {
        let started = Instant::now();
        let result = send_raw(&self.client, req, self.max_body)
            .await
            .map_err(|e| e.with_timeout(self.timeout));
        self.record(req, &result, started.elapsed());
        result
    }

    /// Records an exchange made outside [`Session::send`].
    pub fn record(
        &mut self,
        req: &Request,
        result: &Result<Response, TransportError>,
        took: Duration,
    ) {
        let kept = KeptExchange::new(self.step, req, result, took);
        self.kept.push(kept);
    }

    /// The case's transcript, every string redacted by the case's one redactor: the run's
    /// redactor, then the one-time credentials the case kept (`secrets`) and the ones the field
    /// rule blanked in any exchange. The redactor is returned for what the case says about the
    /// target (messages, checks). Leaves the session's transcript empty.
    pub fn finish(&mut self, secrets: &[String]) -> (CaseRedactor, Vec<Exchange>) {
        let mut redactor = CaseRedactor::new(self.redactor.clone());
        secrets.iter().for_each(|s| redactor.add_secret(s));
        let mut kept = std::mem::take(&mut self.kept);
        kept.iter_mut().for_each(|k| k.redact_run(&mut redactor));
        let transcript = kept.into_iter().map(|k| k.redacted(&redactor)).collect();
        (redactor, transcript)
    }
}

/// Sends one request with the given client (no transcript).
pub async fn send_raw(
    client: &reqwest::Client,
    req: &Request,
    max_body: usize,
) -> Result<Response, TransportError> {
    let terr = |msg: String| TransportError {
        method: req.method.clone(),
        url: req.url.to_string(),
        msg,
    };
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|e| terr(format!("bad method: {e}")))?;
    let mut builder = client.request(method, req.url.clone());
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    if let Some(ct) = &req.content_type {
        builder = builder.header("content-type", ct.as_str());
    }
    if let Some(b) = &req.body {
        builder = builder.body(b.clone());
    }
    let mut resp = builder.send().await.map_err(|e| terr(describe(&e)))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let url = resp.url().clone();
    let mut body = Vec::new();
    let mut truncated = false;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = max_body.saturating_sub(body.len());
                if chunk.len() > room {
                    body.extend_from_slice(chunk.get(..room).unwrap_or_default());
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(terr(format!("{TIMED_OUT} reading the body"))),
            Err(e) => return Err(terr(format!("reading the body: {}", describe(&e)))),
        }
    }
    Ok(Response {
        url,
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        truncated,
    })
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        TIMED_OUT.into()
    } else if e.is_connect() {
        format!("connection failed: {e}")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::transcript::{Kept, REDACTION_WINDOW, TRANSCRIPT_BODY, TRANSCRIPT_HEADER};
    use super::*;

    fn record(r: &Redactor, text: &str, limit: usize, capped: bool) -> String {
        Kept::new(text, capped).recorded(limit, |w| r.redact(&w))
    }

    #[test]
    fn recorded_values_are_cut_with_a_marker_of_the_bytes_left_out() {
        let r = Redactor::new(vec!["s3cret".to_string()]);
        let long = format!("s3cret{}", "é".repeat(5000));
        let out = record(&r, &long, TRANSCRIPT_BODY, false);
        assert!(out.starts_with("[REDACTED]"), "{out}");
        assert!(out.ends_with("more bytes not recorded]"), "{out}");
        assert!(out.len() < TRANSCRIPT_BODY + 64);
        assert_eq!(record(&r, "short", TRANSCRIPT_BODY, false), "short");
        assert!(record(&r, "x", TRANSCRIPT_BODY, true).contains("response size cap"));
        // A value past the redaction window is never redacted nor kept.
        let huge = "a".repeat(REDACTION_WINDOW * 4);
        let out = record(&r, &huge, TRANSCRIPT_HEADER, false);
        assert!(out.contains(&format!("{} more bytes", huge.len() - TRANSCRIPT_HEADER)));
    }

    /// A one-time credential met after the exchanges that carry it (a refresh token a later
    /// step keeps, or one no step keeps) leaves no copy in any string of the transcript, nor in
    /// a message that quotes it; one straddling a recording limit is replaced whole.
    #[test]
    fn one_time_credentials_leave_no_copy_in_any_recorded_string() {
        let (kept, unkept) = ("rt-kept-Zm9vYmFyYmF6cXV4", "v3rifier-0123456789-abcdefghij");
        let mut session = Session::new(Duration::from_secs(1), 1 << 20, Arc::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let url = Url::parse(&format!("https://as.example/token?x={kept}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let req = Request::post_form(
            url.clone(),
            &[("code_verifier".to_string(), unkept.to_string())],
        )
        .header("x-trace", format!("t {kept}"));
        let padding = "p".repeat(TRANSCRIPT_BODY - 10);
        let resp = Response {
            url,
            status: 200,
            headers: vec![("x-echo".into(), format!("{kept} {unkept}"))],
            body: format!("{padding}{kept}"),
            truncated: false,
        };
        session.record(&req, &Ok(resp), Duration::ZERO);
        let error = TransportError {
            method: "POST".into(),
            url: "https://as.example/token".into(),
            msg: format!("refused {kept}"),
        };
        session.record(&req, &Err(error), Duration::ZERO);
        let (redactor, transcript) = session.finish(&[kept.to_string()]);
        let text = serde_json::to_string(&transcript).unwrap_or_default();
        for secret in [kept, unkept, &kept[..10]] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let mut message = format!("refresh token {kept} was accepted twice");
        redactor.redact_quoted(&mut message);
        assert_eq!(message, "refresh token [REDACTED] was accepted twice");
        assert!(session.finish(&[]).1.is_empty());
    }

    #[test]
    fn get_query_keeps_the_endpoint_query_and_duplicates() {
        let url =
            Url::parse("https://as.example/authorize?tenant=t1").unwrap_or_else(|e| panic!("{e}"));
        let pairs = vec![
            ("a".to_string(), "1 2".to_string()),
            ("a".to_string(), "3".to_string()),
        ];
        let r = Request::get_query(url, &pairs);
        assert_eq!(r.url.query(), Some("tenant=t1&a=1+2&a=3"));
    }
}
