//! The test-control API (docs/contracts.md): clock, actors, consents, mint.

use super::*;

impl CaseRun<'_> {
    /// POST to the control API; any answer but 200 `{"ok": true}` stops the case in error.
    pub(crate) async fn control(&mut self, path: &str, body: Value) -> Flow<Value> {
        let base = self
            .target
            .endpoints
            .control
            .clone()
            .ok_or_else(|| Stop::Skip("the target has no control API".into()))?;
        let url = Url::parse(&format!("{}/{path}", base.as_str().trim_end_matches('/')))
            .map_err(|e| Stop::Error(e.to_string()))?;
        let resp = self
            .session
            .send(&Request::post_json(url, &body))
            .await
            .map_err(|e| Stop::Error(e.to_string()))?;
        let json = resp.json();
        if resp.status != 200
            || json
                .as_ref()
                .and_then(|j| j.get("ok"))
                .and_then(Value::as_bool)
                != Some(true)
        {
            return Err(Stop::Error(format!(
                "control API {path} answered {}",
                summarize(&resp)
            )));
        }
        Ok(json.unwrap_or(Value::Null))
    }

    /// Control call outside the transcript (restoring state after the case).
    pub(super) async fn control_raw(&self, path: &str, body: Value) -> Option<()> {
        let base = self.target.endpoints.control.clone()?;
        let url = Url::parse(&format!("{}/{path}", base.as_str().trim_end_matches('/'))).ok()?;
        let r = crate::session::send_raw(
            &self.session.client(),
            &Request::post_json(url, &body),
            65536,
        )
        .await
        .ok()?;
        (r.status == 200).then_some(())
    }
}
