//! Server state: authorization codes, consents, refresh tokens, revocations, actor switches,
//! login sessions and pending authorization transactions. One mutex; every operation is a short
//! critical section, so a code is taken (checked and marked used) atomically (OBO-SEC-3).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

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

/// A stored code. Once redeemed, only what replay detection needs is kept (OBO-SEC-3,
/// OBO-INH-5): the full binding is dropped, which keeps memory per exchange small while used
/// codes wait for their expiry.
enum CodeEntry {
    Live(Box<CodeRecord>),
    Used(Tombstone),
}

/// A redeemed code: its expiry (for pruning), whether a replay was seen, and what was issued
/// from it (revoked on replay).
struct Tombstone {
    expires_at: i64,
    replayed: bool,
    /// Normally exactly one issuance; more only when parallel redemptions raced
    /// (`non-atomic-redemption`). Inline, so a tombstone owns no heap memory.
    first: Option<Issued>,
    more: Vec<Issued>,
}

impl Tombstone {
    fn push(&mut self, i: Issued) {
        if self.first.is_none() {
            self.first = Some(i);
        } else {
            self.more.push(i);
        }
    }

    fn issued(&self) -> impl Iterator<Item = &Issued> {
        self.first.iter().chain(self.more.iter())
    }
}

/// Access tokens by jti, refresh tokens by key.
#[derive(Clone, Copy)]
struct Issued {
    jti: Key,
    refresh: Option<Key>,
}

/// Codes, refresh tokens and revoked jtis are looked up by the first 128 bits of their SHA-256: a fixed-size
/// key needs no heap allocation of its own, and a collision between two tokens is negligible.
type Key = [u8; 16];

fn key(token: &str) -> Key {
    let digest = Sha256::digest(token.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&digest[..16]);
    k
}

impl CodeEntry {
    fn expires_at(&self) -> i64 {
        match self {
            CodeEntry::Live(r) => r.expires_at,
            CodeEntry::Used(t) => t.expires_at,
        }
    }
}

/// Replaces a live record by its tombstone and returns the record (marked used).
fn redeem(entry: &mut CodeEntry) -> Option<Box<CodeRecord>> {
    let CodeEntry::Live(rec) = entry else {
        return None;
    };
    let mut tomb = Tombstone {
        expires_at: rec.expires_at,
        replayed: rec.replayed,
        first: None,
        more: Vec::new(),
    };
    // Pairing by position is immaterial: a replay revokes all of them.
    for (i, j) in rec.issued_jtis.iter().enumerate() {
        tomb.push(Issued {
            jti: key(j),
            refresh: rec.issued_refresh.get(i).map(|r| key(r)),
        });
    }
    let CodeEntry::Live(mut rec) = std::mem::replace(entry, CodeEntry::Used(tomb)) else {
        return None;
    };
    rec.used = true;
    Some(rec)
}

/// A refresh token as stored: the registry-derived strings are interned, so a record holds
/// pointers rather than copies (tokens live 24 h, so there can be many).
struct StoredRefresh {
    client_id: Arc<str>,
    username: Arc<str>,
    subject: Arc<str>,
    actor: Option<Arc<str>>,
    scope: Arc<[String]>,
    audience: Arc<str>,
    expires_at: i64,
    active: bool,
    rotate: bool,
}

impl StoredRefresh {
    fn to_record(&self) -> RefreshRecord {
        RefreshRecord {
            client_id: self.client_id.to_string(),
            username: self.username.to_string(),
            subject: self.subject.to_string(),
            actor: self.actor.as_deref().map(String::from),
            scope: self.scope.to_vec(),
            audience: self.audience.to_string(),
            expires_at: self.expires_at,
            active: self.active,
            rotate: self.rotate,
        }
    }
}

/// Shares equal strings between stored refresh tokens. Bounded: past MAX_INTERNED distinct
/// values (only reachable with request-chosen scopes) new values are simply not shared.
#[derive(Default)]
struct Interner {
    strs: HashSet<Arc<str>>,
    scopes: HashSet<Arc<[String]>>,
}

const MAX_INTERNED: usize = 1024;

impl Interner {
    fn str(&mut self, v: &str) -> Arc<str> {
        if let Some(a) = self.strs.get(v) {
            return a.clone();
        }
        let a: Arc<str> = v.into();
        if self.strs.len() < MAX_INTERNED {
            self.strs.insert(a.clone());
        }
        a
    }

    fn scope(&mut self, v: &[String]) -> Arc<[String]> {
        if let Some(a) = self.scopes.get(v) {
            return a.clone();
        }
        let a: Arc<[String]> = v.into();
        if self.scopes.len() < MAX_INTERNED {
            self.scopes.insert(a.clone());
        }
        a
    }
}

#[derive(Default)]
struct State {
    codes: HashMap<Key, CodeEntry>,
    consents: HashMap<ConsentKey, BTreeSet<String>>,
    refresh: HashMap<Key, StoredRefresh>,
    interned: Interner,
    /// Revoked jtis, by key.
    revoked: HashSet<Key>,
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
            s.codes.retain(|_, c| c.expires_at() > now);
            s.transactions.retain(|_, t| t.expires_at > now);
            // Inactive (rotated, revoked) refresh tokens answer invalid_grant either way.
            s.refresh.retain(|_, r| r.active && r.expires_at > now);
        }
        s.codes
            .insert(key(&code), CodeEntry::Live(Box::new(record)));
    }

    /// Checks that the code is unused and marks it used, in one critical section.
    pub fn take_code(&self, code: &str) -> Taken {
        let mut s = self.lock();
        let Some(entry) = s.codes.get_mut(&key(code)) else {
            return Taken::Unknown;
        };
        match redeem(entry) {
            Some(rec) => Taken::Fresh(rec),
            None => replayed(&mut s, code),
        }
    }

    /// Looks at a code without marking it (only used by the `non-atomic-redemption` fault).
    pub fn peek_code(&self, code: &str) -> Taken {
        let mut s = self.lock();
        match s.codes.get(&key(code)) {
            None => Taken::Unknown,
            Some(CodeEntry::Live(rec)) => Taken::Fresh(rec.clone()),
            Some(CodeEntry::Used(_)) => replayed(&mut s, code),
        }
    }

    /// Reads a code whether used or not (the `accept-code-replay` fault). Under that fault no
    /// code is ever redeemed (faults are fixed at start), so its full record is still there.
    pub fn get_code(&self, code: &str) -> Option<CodeRecord> {
        match self.lock().codes.get(&key(code)) {
            Some(CodeEntry::Live(rec)) => Some((**rec).clone()),
            _ => None,
        }
    }

    pub fn mark_code_used(&self, code: &str) {
        if let Some(entry) = self.lock().codes.get_mut(&key(code)) {
            redeem(entry);
        }
    }

    /// Remembers what was issued from a code, so that a replay can revoke it. If the code was
    /// replayed meanwhile, the new tokens are revoked at once.
    pub fn record_issued(&self, code: &str, jti: &str, refresh: Option<&str>) {
        let mut s = self.lock();
        let replayed = match s.codes.get_mut(&key(code)) {
            Some(CodeEntry::Live(c)) => {
                c.issued_jtis.push(jti.to_string());
                if let Some(r) = refresh {
                    c.issued_refresh.push(r.to_string());
                }
                c.replayed
            }
            Some(CodeEntry::Used(t)) => {
                t.push(Issued {
                    jti: key(jti),
                    refresh: refresh.map(key),
                });
                t.replayed
            }
            None => true,
        };
        if replayed {
            revoke_all(
                &mut s,
                vec![key(jti)],
                refresh.into_iter().map(key).collect(),
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
        let mut s = self.lock();
        let i = &mut s.interned;
        let stored = StoredRefresh {
            client_id: i.str(&rec.client_id),
            username: i.str(&rec.username),
            subject: i.str(&rec.subject),
            actor: rec.actor.as_deref().map(|a| i.str(a)),
            scope: i.scope(&rec.scope),
            audience: i.str(&rec.audience),
            expires_at: rec.expires_at,
            active: rec.active,
            rotate: rec.rotate,
        };
        s.refresh.insert(key(&token), stored);
    }

    pub fn refresh(&self, token: &str) -> Option<RefreshRecord> {
        self.lock()
            .refresh
            .get(&key(token))
            .map(StoredRefresh::to_record)
    }

    /// Deactivates a refresh token; true if it was active (rotation takes it atomically).
    pub fn deactivate_refresh(&self, token: &str) -> bool {
        match self.lock().refresh.get_mut(&key(token)) {
            Some(r) if r.active => {
                r.active = false;
                true
            }
            _ => false,
        }
    }

    // ---- revocation (RFC 7009) ----

    pub fn revoke_jti(&self, jti: &str) {
        self.lock().revoked.insert(key(jti));
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        self.lock().revoked.contains(&key(jti))
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

/// A used code was presented again: flag it and revoke what was issued from it (OBO-INH-5).
fn replayed(s: &mut State, code: &str) -> Taken {
    let Some(CodeEntry::Used(t)) = s.codes.get_mut(&key(code)) else {
        return Taken::Unknown;
    };
    t.replayed = true;
    let jtis: Vec<Key> = t.issued().map(|i| i.jti).collect();
    let refresh: Vec<Key> = t.issued().filter_map(|i| i.refresh).collect();
    revoke_all(s, jtis, refresh);
    Taken::Replayed
}

fn revoke_all(s: &mut State, jtis: Vec<Key>, refresh: Vec<Key>) {
    s.revoked.extend(jtis);
    for r in refresh {
        if let Some(rec) = s.refresh.get_mut(&r) {
            rec.active = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_record(expires_at: i64) -> CodeRecord {
        CodeRecord {
            request: AuthzRequest {
                client_id: "c".into(),
                redirect_uri: "https://client.example/cb".into(),
                redirect_uri_sent: true,
                scope: vec!["files.read".into()],
                state: None,
                actor: Some("agent-a".into()),
                pkce: None,
                audience: "aud".into(),
                prompt: Vec::new(),
            },
            username: "alice".into(),
            subject: "u-1".into(),
            expires_at,
            used: false,
            issued_jtis: Vec::new(),
            issued_refresh: Vec::new(),
            replayed: false,
        }
    }

    fn refresh_record() -> RefreshRecord {
        RefreshRecord {
            client_id: "c".into(),
            username: "alice".into(),
            subject: "u-1".into(),
            actor: Some("agent-a".into()),
            scope: vec!["files.read".into(), "files.write".into()],
            audience: "aud".into(),
            expires_at: 100,
            active: true,
            rotate: false,
        }
    }

    // OBO-SEC-3, OBO-INH-5: the tombstone left by redemption still detects a replay and
    // revokes the access and refresh tokens issued from the code.
    #[test]
    fn replay_of_a_redeemed_code_revokes_what_it_issued() {
        let store = Store::default();
        store.insert_code("k".into(), code_record(60), 0);
        store.insert_refresh("r1".into(), refresh_record());
        let Taken::Fresh(rec) = store.take_code("k") else {
            panic!("first redemption must succeed");
        };
        assert!(rec.used);
        assert_eq!(rec.username, "alice");
        assert!(store.get_code("k").is_none(), "only a tombstone is left");
        store.record_issued("k", "j1", Some("r1"));
        assert!(!store.is_revoked("j1"));
        assert!(matches!(store.take_code("k"), Taken::Replayed));
        assert!(store.is_revoked("j1"));
        assert!(store.refresh("r1").is_some_and(|r| !r.active));
        // Issued after the replay (a slow parallel redemption): revoked at once.
        store.record_issued("k", "j2", None);
        assert!(store.is_revoked("j2"));
        assert!(matches!(store.peek_code("k"), Taken::Replayed));
        assert!(matches!(store.take_code("unknown"), Taken::Unknown));
    }

    // The `non-atomic-redemption` fault: peeking leaves the record, marking leaves a tombstone.
    #[test]
    fn peek_then_mark_used() {
        let store = Store::default();
        store.insert_code("k".into(), code_record(60), 0);
        assert!(matches!(store.peek_code("k"), Taken::Fresh(_)));
        assert!(matches!(store.peek_code("k"), Taken::Fresh(_)));
        assert!(store.get_code("k").is_some_and(|c| !c.used));
        store.mark_code_used("k");
        assert!(matches!(store.peek_code("k"), Taken::Replayed));
    }

    #[test]
    fn refresh_records_round_trip_through_the_compact_form() {
        let store = Store::default();
        store.insert_refresh("r".into(), refresh_record());
        let got = store.refresh("r");
        assert_eq!(
            got.as_ref()
                .map(|r| (&r.client_id, &r.subject, &r.actor, &r.scope)),
            Some((
                &"c".to_string(),
                &"u-1".to_string(),
                &Some("agent-a".to_string()),
                &vec!["files.read".to_string(), "files.write".to_string()]
            ))
        );
        assert!(store.deactivate_refresh("r"));
        assert!(!store.deactivate_refresh("r"));
        assert!(store.refresh("r").is_some_and(|r| !r.active));
    }

    // Tombstones expire like codes: pruned on the amortised schedule.
    #[test]
    fn expired_tombstones_are_pruned() {
        let store = Store::default();
        store.insert_code("old".into(), code_record(60), 0);
        assert!(matches!(store.take_code("old"), Taken::Fresh(_)));
        for i in 1..PRUNE_EVERY {
            store.insert_code(format!("c{i}"), code_record(1000), 61);
        }
        assert!(matches!(store.take_code("old"), Taken::Unknown));
        assert!(matches!(store.take_code("c1"), Taken::Fresh(_)));
    }
}
