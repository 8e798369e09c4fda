//! A step's fields as the case file spells them, in one fixed order (`explain`).

use super::{Action, Edits, ParamTable, RefreshStep, TokenRequest};
use crate::case::forgery::ForgeSpec;
use crate::case::vocabulary::{ActorTokenChoice, ResourcePath, RevokeToken};

/// A field value of a step as the case file spells it, for `explain`.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Text(String),
    Number(i64),
    Table(&'a ParamTable),
    List(&'a [String]),
}

/// The order `explain` lists a step's fields in.
const FIELD_ORDER: &[&str] = &[
    "client",
    "actor",
    "scope",
    "pkce",
    "method",
    "consent",
    "user",
    "code",
    "actor_token",
    "forge",
    "auth",
    "tokens",
    "token",
    "path",
    "url",
    "save",
    "of",
    "count",
    "seconds",
    "expires",
    "params",
    "append",
    "mint",
    "omit",
    "duplicate",
];

/// Collects the set fields of a step.
#[derive(Default)]
struct Fields<'a>(Vec<(&'static str, FieldValue<'a>)>);

impl<'a> Fields<'a> {
    fn text(&mut self, name: &'static str, v: Option<impl ToString>) -> &mut Self {
        if let Some(v) = v {
            self.0.push((name, FieldValue::Text(v.to_string())));
        }
        self
    }

    fn number(&mut self, name: &'static str, v: Option<i64>) -> &mut Self {
        if let Some(v) = v {
            self.0.push((name, FieldValue::Number(v)));
        }
        self
    }

    fn table(&mut self, name: &'static str, v: Option<&'a ParamTable>) -> &mut Self {
        if let Some(v) = v {
            self.0.push((name, FieldValue::Table(v)));
        }
        self
    }

    fn list(&mut self, name: &'static str, v: Option<&'a [String]>) -> &mut Self {
        if let Some(v) = v {
            self.0.push((name, FieldValue::List(v)));
        }
        self
    }

    fn edits(&mut self, e: Edits<'a>) -> &mut Self {
        self.table("params", e.params)
            .list("omit", e.omit)
            .table("append", e.append)
            .list("duplicate", e.duplicate)
    }
}

impl Action {
    /// The fields the case file sets, by name, in a fixed order.
    pub fn fields(&self) -> Vec<(&'static str, FieldValue<'_>)> {
        let mut f = Fields::default();
        match self {
            Action::Authorize(a) => {
                f.text("client", a.client)
                    .text("actor", a.actor)
                    .text("scope", a.scope.as_ref())
                    .text("pkce", a.pkce)
                    .text("method", a.method)
                    .text("consent", a.consent)
                    .text("user", a.user)
                    .text("save", a.save.as_ref())
                    .edits(a.edits());
            }
            Action::Token(r) => token_fields(&mut f, r),
            Action::ParallelToken(p) => {
                token_fields(&mut f, &p.request);
                f.number("count", p.count.map(|c| c as i64));
            }
            Action::Replay(r) => {
                f.number("of", r.of.map(|o| o as i64));
            }
            Action::ActorToken(a) => {
                f.text("actor", a.actor).text("save", a.save.as_ref());
            }
            Action::AdvanceClock(c) => {
                f.number("seconds", Some(c.seconds))
                    .text("expires", c.expires);
            }
            Action::Wait(w) => {
                f.number("seconds", Some(w.seconds));
            }
            Action::DisableActor(a) | Action::EnableActor(a) => {
                f.text("actor", Some(a.actor));
            }
            Action::RevokeConsent(r) => {
                f.text("actor", r.actor).text("client", r.client);
            }
            Action::Refresh(r) => refresh_fields(&mut f, r),
            Action::ParallelRefresh(p) => {
                refresh_fields(&mut f, &p.request);
                f.number("count", p.count.map(|c| c as i64));
            }
            Action::Introspect(r) => {
                f.text("token", r.token)
                    .text("tokens", r.tokens.as_ref())
                    .text("client", r.client)
                    .text("auth", r.auth)
                    .text("forge", r.forge)
                    .edits(r.edits());
            }
            Action::Revoke(r) => {
                f.text("token", r.token.as_ref().map(RevokeToken::name))
                    .text("tokens", r.tokens.as_ref())
                    .text("actor", r.actor)
                    .text("client", r.client)
                    .text("auth", r.auth)
                    .text("forge", r.forge)
                    .edits(r.edits());
            }
            Action::Resource(r) => {
                f.text("path", r.path.map(ResourcePath::name))
                    .text("token", r.token)
                    .text("forge", r.forge)
                    .table("mint", r.mint.as_ref())
                    .text("tokens", r.tokens.as_ref());
            }
            Action::Get(g) => {
                f.text("url", Some(g.url.name()));
            }
        }
        let mut out = f.0;
        out.sort_by_key(|(name, _)| FIELD_ORDER.iter().position(|n| n == name));
        out
    }
}

fn refresh_fields<'a>(f: &mut Fields<'a>, r: &'a RefreshStep) {
    f.text("tokens", r.tokens.as_ref())
        .text("client", r.client)
        .text("save", r.save.as_ref())
        .edits(r.edits());
}

fn token_fields<'a>(f: &mut Fields<'a>, r: &'a TokenRequest) {
    f.text("code", r.code.as_ref())
        .text("client", r.client)
        .text(
            "actor_token",
            r.actor_token.as_ref().map(ActorTokenChoice::name),
        )
        .text("forge", r.forge.map(ForgeSpec::name))
        .text("method", r.method)
        .text("auth", r.auth)
        .text("save", r.save.as_ref())
        .edits(r.edits());
}
