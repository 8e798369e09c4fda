//! The target's control operations (clock, reset, actors, consents, mint) through the profile's
//! control adapter (`profile::control`): the built-in JSON contract (docs/contracts.md), an HTTP
//! hook or a command hook per operation. One [`ControlClient`] plans the request, caps its
//! answer and names its errors for every caller: the steps of a case, the restore after it, the
//! scheduler's reset and the fuzzer's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use url::Url;

use super::context::TargetContext;
use super::response::summarize;
use super::session::{self, Request, Response, TransportError};
use super::stop::{Flow, Stop};
use crate::profile::control::{self, Adapter, Escape, Hook, HttpHook, Operation};
use crate::profile::Target;

/// Largest control answer read (they are small JSON objects).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Default time a command hook may take.
const DEFAULT_COMMAND_TIMEOUT: u64 = 30;

/// Why a control operation did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The profile maps no way to do the operation: cases needing it skip.
    #[error("the target's control adapter has no `{0}` operation")]
    Unavailable(&'static str),
    #[error("control {op}: bad request: {msg}")]
    Url { op: &'static str, msg: String },
    #[error("control {op}: {err}")]
    Transport {
        op: &'static str,
        #[source]
        err: TransportError,
    },
    #[error("control {op} answered {answer}")]
    Refused { op: &'static str, answer: String },
    #[error("control {op}: {msg}")]
    Command { op: &'static str, msg: String },
}

/// One control operation with its arguments.
#[derive(Debug, Clone)]
pub enum Call {
    AdvanceClock {
        seconds: i64,
    },
    Reset,
    DisableActor {
        actor: String,
    },
    EnableActor {
        actor: String,
    },
    RevokeConsent {
        user: String,
        client_id: String,
        actor: String,
    },
    Mint {
        claims: Value,
        header: Value,
    },
}

impl Call {
    pub fn operation(&self) -> Operation {
        match self {
            Call::AdvanceClock { .. } => Operation::AdvanceClock,
            Call::Reset => Operation::Reset,
            Call::DisableActor { .. } => Operation::DisableActor,
            Call::EnableActor { .. } => Operation::EnableActor,
            Call::RevokeConsent { .. } => Operation::RevokeConsent,
            Call::Mint { .. } => Operation::Mint,
        }
    }

    /// The JSON body of the built-in contract.
    fn contract_body(&self) -> Value {
        match self {
            Call::AdvanceClock { seconds } => json!({ "seconds": seconds }),
            Call::Reset => json!({}),
            Call::DisableActor { actor } | Call::EnableActor { actor } => {
                json!({ "actor": actor })
            }
            Call::RevokeConsent {
                user,
                client_id,
                actor,
            } => json!({ "user": user, "client_id": client_id, "actor": actor }),
            Call::Mint { claims, header } => json!({ "claims": claims, "header": header }),
        }
    }

    /// The hook variables; `offset` is the total clock advance once this call succeeded.
    fn vars(&self, offset: i64) -> BTreeMap<&'static str, control::Value> {
        use control::Value::{Json, Text};
        let mut v = BTreeMap::new();
        match self {
            Call::AdvanceClock { seconds } => {
                v.insert("seconds", Text(seconds.to_string()));
                v.insert("offset", Text(offset.to_string()));
            }
            Call::Reset => {}
            Call::DisableActor { actor } | Call::EnableActor { actor } => {
                v.insert("actor", Text(actor.clone()));
            }
            Call::RevokeConsent {
                user,
                client_id,
                actor,
            } => {
                v.insert("user", Text(user.clone()));
                v.insert("client_id", Text(client_id.clone()));
                v.insert("actor", Text(actor.clone()));
            }
            Call::Mint { claims, header } => {
                v.insert("claims", Json(claims.clone()));
                let header = if header.is_null() {
                    json!({})
                } else {
                    header.clone()
                };
                v.insert("header", Json(header));
            }
        }
        v
    }
}

/// How a call is carried out.
enum Plan {
    /// A request to the built-in contract (`hook` None) or to an HTTP hook.
    Http {
        req: Request,
        hook: Option<Box<HttpHook>>,
    },
    Program {
        argv: Vec<String>,
        timeout: Duration,
    },
}

/// The target's control adapter, ready to call.
#[derive(Debug, Clone)]
pub struct ControlClient {
    /// Base of the built-in contract, when the target has one.
    base: Option<Url>,
    /// The profile's `[control]`; None: every operation uses the built-in contract.
    adapter: Option<Adapter>,
    issuer: String,
    offset: Arc<AtomicI64>,
    timeout: Duration,
}

impl ControlClient {
    /// The target's control adapter, when it can do at least one operation.
    pub fn of(target: &Target) -> Option<ControlClient> {
        let c = ControlClient {
            base: target.endpoints.control.clone(),
            adapter: target.profile.control.clone(),
            issuer: target.issuer.clone(),
            offset: target.clock_offset.clone(),
            timeout: target.timeout(),
        };
        Operation::ALL
            .into_iter()
            .any(|op| c.available(op))
            .then_some(c)
    }

    /// Whether the target can do `op`.
    pub fn available(&self, op: Operation) -> bool {
        match &self.adapter {
            None => self.base.is_some(),
            Some(a) => match a.hook(op) {
                Some(Hook::Contract {}) => self.base.is_some(),
                Some(_) => true,
                None => false,
            },
        }
    }

    fn hook(&self, op: Operation) -> Result<Hook, ControlError> {
        let hook = match &self.adapter {
            None => Some(Hook::Contract {}),
            Some(a) => a.hook(op).cloned(),
        };
        match hook {
            Some(Hook::Contract {}) if self.base.is_none() => {
                Err(ControlError::Unavailable(op.name()))
            }
            Some(h) => Ok(h),
            None => Err(ControlError::Unavailable(op.name())),
        }
    }

    fn plan(&self, call: &Call) -> Result<Plan, ControlError> {
        let op = call.operation();
        let offset = match call {
            Call::AdvanceClock { seconds } => self.offset.load(Ordering::SeqCst) + seconds,
            _ => self.offset.load(Ordering::SeqCst),
        };
        let mut vars = call.vars(offset);
        vars.insert("issuer", control::Value::Text(self.issuer.clone()));
        if let Some(b) = &self.base {
            vars.insert("control", control::Value::Text(b.to_string()));
        }
        let bad = |msg: String| ControlError::Url { op: op.name(), msg };
        match self.hook(op)? {
            Hook::Contract {} => {
                let base = self
                    .base
                    .as_ref()
                    .ok_or(ControlError::Unavailable(op.name()))?;
                let url = Url::parse(&format!(
                    "{}/{}",
                    base.as_str().trim_end_matches('/'),
                    op.contract_path()
                ))
                .map_err(|e| bad(e.to_string()))?;
                Ok(Plan::Http {
                    req: Request::post_json(url, &call.contract_body()),
                    hook: None,
                })
            }
            Hook::Http(h) => {
                let url = control::expand(&h.url, &vars, Escape::Url).map_err(bad)?;
                let url = Url::parse(&url).map_err(|e| bad(format!("URL {url:?}: {e}")))?;
                let mut headers = Vec::new();
                for (k, t) in &h.headers {
                    headers.push((
                        k.clone(),
                        control::expand(t, &vars, Escape::Raw).map_err(bad)?,
                    ));
                }
                let esc = if h.json_body() {
                    Escape::Json
                } else {
                    Escape::Raw
                };
                let body = match &h.body {
                    Some(b) => Some(control::expand(b, &vars, esc).map_err(bad)?),
                    None => None,
                };
                let req = Request {
                    method: h.method.to_ascii_uppercase(),
                    url,
                    headers,
                    content_type: body.as_ref().map(|_| h.content_type.clone()),
                    body,
                };
                Ok(Plan::Http {
                    req,
                    hook: Some(Box::new(h)),
                })
            }
            Hook::Command {
                command,
                timeout_secs,
            } => {
                let argv = command
                    .iter()
                    .map(|a| control::expand(a, &vars, Escape::Raw))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(bad)?;
                Ok(Plan::Program {
                    argv,
                    timeout: Duration::from_secs(timeout_secs.unwrap_or(DEFAULT_COMMAND_TIMEOUT)),
                })
            }
        }
    }

    /// Whether the answer means success, and the token when the call is a mint.
    fn judge(
        &self,
        call: &Call,
        hook: Option<&HttpHook>,
        resp: &Response,
    ) -> Result<Option<String>, ControlError> {
        let op = call.operation().name();
        let refused = || ControlError::Refused {
            op,
            answer: summarize(resp),
        };
        let ok = match hook {
            None => acknowledged(resp),
            Some(h) => h.accepts(resp.status),
        };
        if !ok {
            return Err(refused());
        }
        if !matches!(call, Call::Mint { .. }) {
            return Ok(None);
        }
        let pointer = hook.and_then(|h| h.answer.as_deref()).unwrap_or("/token");
        let token = if pointer == "body" {
            Some(resp.body.trim().to_string())
        } else {
            resp.json()
                .as_ref()
                .and_then(|j| j.pointer(pointer))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        match token {
            Some(t) if !t.is_empty() => Ok(Some(t)),
            _ => Err(ControlError::Refused {
                op,
                answer: format!("{} without a token at {pointer}", summarize(resp)),
            }),
        }
    }

    /// Records the effect of a successful call on the tracked clock offset.
    fn done(&self, call: &Call) {
        match call {
            Call::AdvanceClock { seconds } => {
                self.offset.fetch_add(*seconds, Ordering::SeqCst);
            }
            Call::Reset => self.offset.store(0, Ordering::SeqCst),
            _ => {}
        }
    }

    async fn run_program(
        &self,
        call: &Call,
        argv: &[String],
        timeout: Duration,
    ) -> Result<Option<String>, ControlError> {
        let op = call.operation().name();
        let (program, args) = argv.split_first().ok_or(ControlError::Command {
            op,
            msg: "empty command".into(),
        })?;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args).stdin(std::process::Stdio::null());
        let out = crate::consent::run_program(cmd, timeout, program)
            .await
            .map_err(|msg| ControlError::Command { op, msg })?;
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        match call {
            Call::Mint { .. } if stdout.is_empty() => Err(ControlError::Command {
                op,
                msg: format!("{program:?} printed no token"),
            }),
            Call::Mint { .. } => Ok(Some(stdout)),
            _ => Ok(None),
        }
    }

    /// A call outside any transcript; answers the minted token for `mint`.
    pub async fn call(&self, call: &Call) -> Result<Option<String>, ControlError> {
        let op = call.operation().name();
        let answer = match self.plan(call)? {
            Plan::Http { req, hook } => {
                let client = reqwest::Client::builder()
                    .timeout(self.timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| ControlError::Url {
                        op,
                        msg: e.to_string(),
                    })?;
                let resp = session::send_raw(&client, &req, MAX_RESPONSE_BYTES)
                    .await
                    .map_err(|err| ControlError::Transport { op, err })?;
                self.judge(call, hook.as_deref(), &resp)?
            }
            Plan::Program { argv, timeout } => self.run_program(call, &argv, timeout).await?,
        };
        self.done(call);
        Ok(answer)
    }

    /// Back to a clean state: the `reset` operation, else (clock only) the clock moved back by
    /// the tracked offset; nothing when the adapter has neither.
    pub async fn reset(&self) -> Result<(), ControlError> {
        if self.available(Operation::Reset) {
            return self.call(&Call::Reset).await.map(|_| ());
        }
        let offset = self.offset.load(Ordering::SeqCst);
        if offset != 0 && self.available(Operation::AdvanceClock) {
            self.call(&Call::AdvanceClock { seconds: -offset }).await?;
        }
        Ok(())
    }
}

/// `200 {"ok": true}`: the only answer by which a built-in contract call succeeded.
fn acknowledged(resp: &Response) -> bool {
    resp.status == 200
        && resp
            .json()
            .as_ref()
            .and_then(|j| j.get("ok"))
            .and_then(Value::as_bool)
            == Some(true)
}

impl TargetContext<'_> {
    /// A control operation (HTTP recorded in the transcript). An operation the adapter lacks
    /// skips the case; any other failure stops it in error (the harness could not drive it).
    pub(crate) async fn control(&mut self, call: Call) -> Flow<Option<String>> {
        let control = ControlClient::of(self.target)
            .ok_or(ControlError::Unavailable(call.operation().name()))?;
        let answer = match control.plan(&call)? {
            Plan::Http { req, hook } => {
                let resp = self.session.send(&req).await?;
                control.judge(&call, hook.as_deref(), &resp)?
            }
            Plan::Program { argv, timeout } => control.run_program(&call, &argv, timeout).await?,
        };
        control.done(&call);
        Ok(answer)
    }

    /// A token signed by the target's own key through the control API's `mint`.
    pub(crate) async fn mint(&mut self, claims: Value, header: Value) -> Flow<String> {
        self.control(Call::Mint { claims, header })
            .await?
            .ok_or_else(|| Stop::Error("control mint answered without a token".into()))
    }
}
