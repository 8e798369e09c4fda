//! The test-control API (docs/contracts.md): clock, actors, consents, mint, reset. One
//! [`ControlClient`] builds its URLs, caps its responses and names its errors for every caller:
//! the steps of a case, the restore after it, the scheduler's reset and the fuzzer's.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use super::session::{self, Request, Response, TransportError};
use super::{summarize, CaseRun, Flow, Stop};
use crate::profile::Target;

/// Largest control-API answer read (they are small JSON objects).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Why a control-API call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control API {path}: bad URL: {msg}")]
    Url { path: String, msg: String },
    #[error("control API {path}: {err}")]
    Transport {
        path: String,
        #[source]
        err: TransportError,
    },
    #[error("control API {path} answered {answer}")]
    Refused { path: String, answer: String },
}

/// The target's control API at `endpoints.control`.
#[derive(Debug, Clone)]
pub struct ControlClient {
    base: Url,
}

impl ControlClient {
    /// The target's control API, when its profile has one.
    pub fn of(target: &Target) -> Option<ControlClient> {
        target
            .endpoints
            .control
            .clone()
            .map(|base| ControlClient { base })
    }

    /// The request for `POST <control>/<path>` with a JSON body.
    pub fn request(&self, path: &str, body: &Value) -> Result<Request, ControlError> {
        let url = Url::parse(&format!(
            "{}/{path}",
            self.base.as_str().trim_end_matches('/')
        ))
        .map_err(|e| ControlError::Url {
            path: path.into(),
            msg: e.to_string(),
        })?;
        Ok(Request::post_json(url, body))
    }

    /// A control call outside any transcript; any status but 200 is refused.
    pub async fn post(
        &self,
        client: &reqwest::Client,
        path: &str,
        body: &Value,
    ) -> Result<Response, ControlError> {
        let req = self.request(path, body)?;
        let resp = session::send_raw(client, &req, MAX_RESPONSE_BYTES)
            .await
            .map_err(|err| ControlError::Transport {
                path: path.into(),
                err,
            })?;
        if resp.status != 200 {
            return Err(ControlError::Refused {
                path: path.into(),
                answer: summarize(&resp),
            });
        }
        Ok(resp)
    }

    /// `POST <control>/reset`: forget codes, consents, clock offset and disabled actors.
    pub async fn reset(&self, timeout: Duration) -> Result<(), ControlError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ControlError::Url {
                path: "reset".into(),
                msg: e.to_string(),
            })?;
        self.post(&client, "reset", &Value::Object(Default::default()))
            .await
            .map(|_| ())
    }
}

/// `200 {"ok": true}`: the only answer by which a control call succeeded.
fn acknowledged(resp: &Response) -> bool {
    resp.status == 200
        && resp
            .json()
            .as_ref()
            .and_then(|j| j.get("ok"))
            .and_then(Value::as_bool)
            == Some(true)
}

impl CaseRun<'_> {
    /// POST to the control API (recorded in the transcript); any answer but 200 `{"ok": true}`
    /// stops the case in error.
    pub(crate) async fn control(&mut self, path: &str, body: Value) -> Flow<Value> {
        let control = ControlClient::of(self.target)
            .ok_or_else(|| Stop::Skip("the target has no control API".into()))?;
        let resp = self.session.send(&control.request(path, &body)?).await?;
        if !acknowledged(&resp) {
            return Err(ControlError::Refused {
                path: path.into(),
                answer: summarize(&resp),
            }
            .into());
        }
        Ok(resp.json().unwrap_or(Value::Null))
    }

    /// Control call outside the transcript (restoring state after the case).
    pub(super) async fn control_raw(&self, path: &str, body: Value) -> Option<()> {
        let control = ControlClient::of(self.target)?;
        control
            .post(&self.session.client(), path, &body)
            .await
            .ok()
            .map(|_| ())
    }
}
