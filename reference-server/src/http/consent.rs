//! The consent page: names the client, the actor (display name and id) and the scopes
//! (OBO-AUTHZ-12..14, OBO-SEC-9); approve stores the consent for (user, client, actor) and
//! issues the code, deny redirects with `access_denied` (OBO-AUTHZ-15).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::json;

use super::authorize::{issue_code, see_other, AuthzError};
use super::login::{load_tx, page_form};
use super::{App, Shared};
use crate::config::User;
use crate::fault::Fault;
use crate::params::Params;
use crate::store::Transaction;

fn logged_in_user(app: &App, t: &Transaction) -> Option<User> {
    let name = app.store.session_user(&t.session)?;
    app.config.registry.user(&name).cloned()
}

pub async fn show(State(app): State<Shared>, headers: HeaderMap, uri: Uri) -> Response {
    let q = Params::parse(uri.query().unwrap_or("").as_bytes());
    let (tx, t) = match load_tx(&app, &headers, q.get("tx")) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(user) = logged_in_user(&app, &t) else {
        return see_other(&format!("/login?tx={tx}"));
    };
    let client = app.config.registry.client(&t.request.client_id);
    let actor_id = t.request.actor.clone().unwrap_or_default();
    let actor_name = app
        .actor(&actor_id)
        .map(|a| a.display_name.clone())
        .unwrap_or_else(|| actor_id.clone());
    app.pages.render(
        StatusCode::OK,
        "consent.html",
        &json!({
            "tx": tx, "csrf": t.csrf, "user": user.username,
            "client_id": t.request.client_id,
            "client_name": client.map(|c| c.name.clone()).unwrap_or_default(),
            "actor_id": actor_id, "actor_name": actor_name,
            "scopes": t.request.scope,
        }),
    )
}

pub async fn submit(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (p, tx, t) = match page_form(&app, &headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(user) = logged_in_user(&app, &t) else {
        return see_other(&format!("/login?tx={tx}"));
    };
    match p.get("decision") {
        Some("approve") => {
            app.store.remove_transaction(&tx);
            let actor = t.request.actor.clone().unwrap_or_default();
            app.store.grant_consent(
                &user.username,
                &t.request.client_id,
                &actor,
                &t.request.scope,
            );
            issue_code(&app, t.request, &user)
        }
        Some("deny") => {
            app.store.remove_transaction(&tx);
            if app.fault(Fault::ConsentDenyIgnored) {
                return issue_code(&app, t.request, &user);
            }
            AuthzError::Redirect {
                redirect_uri: t.request.redirect_uri.clone(),
                state: t.request.state.clone(),
                error: "access_denied",
                description: "the user denied the request".into(),
            }
            .respond(&app)
        }
        _ => app.pages.error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "decision must be approve or deny",
        ),
    }
}
