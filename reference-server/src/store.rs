//! Server state: authorization codes, consents, refresh tokens, revocations, actor switches,
//! login sessions and pending authorization transactions. One mutex; every operation is a short
//! critical section, so a code is taken (checked and marked used) atomically (OBO-SEC-3).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

/// PKCE challenge stored with the code (RFC 7636 §4.4).
#[derive(Clone, Debug)]
pub struct Pkce {
    pub challenge: String,
    /// "S256", or "plain" only under the `pkce-plain-accepted` fault.
    pub method: String,
}

/// A validated authorization request, waiting for login/consent or ready for a code.
#[derive(Clone, Debug)]
pub struct AuthzRequest {
    pub client_id: String,
    /// The redirect URI the response goes to (exactly a registered one).
    pub redirect_uri: String,
    /// Whether the request carried redirect_uri (then the token request must repeat it).
    pub redirect_uri_sent: bool,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub actor: Option<String>,
    pub pkce: Option<Pkce>,
    pub audience: String,
    /// OIDC-style `prompt` values: "login", "consent", "none".
    pub prompt: Vec<String>,
}

/// What a code is bound to at issuance (OBO-SEC-5..7).
#[derive(Clone, Debug)]
pub struct CodeRecord {
    pub request: AuthzRequest,
    pub username: String,
    pub subject: String,
    pub expires_at: i64,
    pub used: bool,
    /// jti of access tokens and refresh tokens issued from this code (revoked on replay).
    pub issued_jtis: Vec<String>,
    pub issued_refresh: Vec<String>,
    /// Set once a replay was seen: anything issued later from this code is revoked too.
    pub replayed: bool,
}

#[derive(Clone, Debug)]
pub struct RefreshRecord {
    pub client_id: String,
    pub username: String,
    pub subject: String,
    pub actor: Option<String>,
    pub scope: Vec<String>,
    pub audience: String,
    pub expires_at: i64,
    pub active: bool,
    pub rotate: bool,
}

#[derive(Clone, Debug)]
pub struct Transaction {
    pub request: AuthzRequest,
    pub session: String,
    pub csrf: String,
    pub expires_at: i64,
}

/// Outcome of taking a code.
#[derive(Debug)]
pub enum Taken {
    Unknown,
    /// Already used: the tokens issued from it have just been revoked (OBO-INH-5).
    Replayed,
    Fresh(Box<CodeRecord>),
}

type ConsentKey = (String, String, String);

#[derive(Default)]
struct State {
    codes: HashMap<String, CodeRecord>,
    consents: HashMap<ConsentKey, BTreeSet<String>>,
    refresh: HashMap<String, RefreshRecord>,
    revoked: HashSet<String>,
    actor_enabled: HashMap<String, bool>,
    transactions: HashMap<String, Transaction>,
    /// session id → logged-in username (None before login).
    sessions: HashMap<String, Option<String>>,
    inserts: u64,
}

#[derive(Default)]
pub struct Store {
    state: Mutex<State>,
}

/// A power of two: expired entries are pruned every PRUNE_EVERY inserts.
const PRUNE_EVERY: u64 = 4096;
const MAX_SESSIONS: usize = 100_000;

impl Store {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters here; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn reset(&self) {
        *self.lock() = State::default();
    }

    // ---- codes ----

    pub fn insert_code(&self, code: String, record: CodeRecord, now: i64) {
        let mut s = self.lock();
        s.inserts += 1;
        if s.inserts & (PRUNE_EVERY - 1) == 0 {
            s.codes.retain(|_, c| c.expires_at > now);
            s.transactions.retain(|_, t| t.expires_at > now);
            // Inactive (rotated, revoked) refresh tokens answer invalid_grant either way.
            s.refresh.retain(|_, r| r.active && r.expires_at > now);
        }
        s.codes.insert(code, record);
    }

    /// Checks that the code is unused and marks it used, in one critical section.
    pub fn take_code(&self, code: &str) -> Taken {
        let mut s = self.lock();
        let Some(rec) = s.codes.get_mut(code) else {
            return Taken::Unknown;
        };
        if rec.used {
            rec.replayed = true;
            let (jtis, refresh) = (rec.issued_jtis.clone(), rec.issued_refresh.clone());
            revoke_all(&mut s, jtis, refresh);
            return Taken::Replayed;
        }
        rec.used = true;
        Taken::Fresh(Box::new(rec.clone()))
    }

    /// Looks at a code without marking it (only used by the `non-atomic-redemption` fault).
    pub fn peek_code(&self, code: &str) -> Taken {
        let mut s = self.lock();
        let Some(rec) = s.codes.get_mut(code) else {
            return Taken::Unknown;
        };
        if rec.used {
            rec.replayed = true;
            let (jtis, refresh) = (rec.issued_jtis.clone(), rec.issued_refresh.clone());
            revoke_all(&mut s, jtis, refresh);
            return Taken::Replayed;
        }
        Taken::Fresh(Box::new(rec.clone()))
    }

    /// Reads a code whether used or not (the `accept-code-replay` fault).
    pub fn get_code(&self, code: &str) -> Option<CodeRecord> {
        self.lock().codes.get(code).cloned()
    }

    pub fn mark_code_used(&self, code: &str) {
        if let Some(c) = self.lock().codes.get_mut(code) {
            c.used = true;
        }
    }

    /// Remembers what was issued from a code, so that a replay can revoke it. If the code was
    /// replayed meanwhile, the new tokens are revoked at once.
    pub fn record_issued(&self, code: &str, jti: &str, refresh: Option<&str>) {
        let mut s = self.lock();
        let replayed = match s.codes.get_mut(code) {
            Some(c) => {
                c.issued_jtis.push(jti.to_string());
                if let Some(r) = refresh {
                    c.issued_refresh.push(r.to_string());
                }
                c.replayed
            }
            None => true,
        };
        if replayed {
            revoke_all(
                &mut s,
                vec![jti.to_string()],
                refresh.into_iter().map(String::from).collect(),
            );
        }
    }

    // ---- consents (AMB-11) ----

    pub fn grant_consent(&self, user: &str, client: &str, actor: &str, scopes: &[String]) {
        let mut s = self.lock();
        s.consents
            .entry((user.into(), client.into(), actor.into()))
            .or_default()
            .extend(scopes.iter().cloned());
    }

    /// Scopes consented for exactly (user, client, actor).
    pub fn consented(&self, user: &str, client: &str, actor: &str) -> Option<BTreeSet<String>> {
        self.lock()
            .consents
            .get(&(user.into(), client.into(), actor.into()))
            .cloned()
    }

    /// Every stored consent of (user, client), any actor.
    pub fn consents_of(&self, user: &str, client: &str) -> Vec<BTreeSet<String>> {
        self.lock()
            .consents
            .iter()
            .filter(|((u, c, _), _)| u == user && c == client)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn revoke_consent(&self, user: &str, client: &str, actor: &str) -> bool {
        self.lock()
            .consents
            .remove(&(user.into(), client.into(), actor.into()))
            .is_some()
    }

    // ---- refresh tokens ----

    pub fn insert_refresh(&self, token: String, rec: RefreshRecord) {
        self.lock().refresh.insert(token, rec);
    }

    pub fn refresh(&self, token: &str) -> Option<RefreshRecord> {
        self.lock().refresh.get(token).cloned()
    }

    /// Deactivates a refresh token; true if it was active (rotation takes it atomically).
    pub fn deactivate_refresh(&self, token: &str) -> bool {
        match self.lock().refresh.get_mut(token) {
            Some(r) if r.active => {
                r.active = false;
                true
            }
            _ => false,
        }
    }

    // ---- revocation (RFC 7009) ----

    pub fn revoke_jti(&self, jti: &str) {
        self.lock().revoked.insert(jti.to_string());
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        self.lock().revoked.contains(jti)
    }

    // ---- actors ----

    pub fn actor_override(&self, actor: &str) -> Option<bool> {
        self.lock().actor_enabled.get(actor).copied()
    }

    pub fn set_actor_enabled(&self, actor: &str, enabled: bool) {
        self.lock().actor_enabled.insert(actor.to_string(), enabled);
    }

    // ---- login sessions and transactions ----

    pub fn new_session(&self) -> String {
        let id = crate::keys::random_token();
        let mut s = self.lock();
        if s.sessions.len() >= MAX_SESSIONS {
            s.sessions.clear();
        }
        s.sessions.insert(id.clone(), None);
        id
    }

    pub fn session_exists(&self, id: &str) -> bool {
        self.lock().sessions.contains_key(id)
    }

    pub fn session_user(&self, id: &str) -> Option<String> {
        self.lock().sessions.get(id).cloned().flatten()
    }

    /// Logs a user in under a fresh session id (no session fixation) and moves the
    /// transaction to it.
    pub fn login(&self, old_session: &str, tx: &str, username: &str) -> String {
        let id = crate::keys::random_token();
        let mut s = self.lock();
        s.sessions.remove(old_session);
        s.sessions.insert(id.clone(), Some(username.to_string()));
        if let Some(t) = s.transactions.get_mut(tx) {
            t.session = id.clone();
        }
        id
    }

    pub fn insert_transaction(&self, id: String, t: Transaction) {
        self.lock().transactions.insert(id, t);
    }

    pub fn transaction(&self, id: &str) -> Option<Transaction> {
        self.lock().transactions.get(id).cloned()
    }

    pub fn remove_transaction(&self, id: &str) -> Option<Transaction> {
        self.lock().transactions.remove(id)
    }
}

fn revoke_all(s: &mut State, jtis: Vec<String>, refresh: Vec<String>) {
    s.revoked.extend(jtis);
    for r in refresh {
        if let Some(rec) = s.refresh.get_mut(&r) {
            rec.active = false;
        }
    }
}
