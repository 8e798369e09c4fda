//! Server state: authorization codes, consents, refresh tokens, revocations, actor switches,
//! login sessions and pending authorization transactions. One mutex; every operation is a short
//! critical section, so a code is taken (checked and marked used) atomically (OBO-SEC-3).
//!
//! Everything a request can make the server keep is bounded: codes, tombstones, refresh tokens,
//! revocations, transactions and sessions live in [`table::Table`]s with a cap on their number
//! and time-based pruning a few entries per insert; values stored with them are bounded by the
//! endpoints (parameter lengths and counts, known `prompt` values, registered scopes).

mod table;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::config::Ttl;
use table::Table;

/// How many of each kind the store keeps at most. Past a cap the oldest entry (least recently
/// used, for signed-in sessions) is evicted; an anonymous flood therefore never signs a user
/// out, since signed-in sessions live in their own table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Issued, not yet redeemed codes (each up to ~2 KiB with its request).
    pub live_codes: usize,
    /// Redeemed codes kept for replay detection until they expire (tens of bytes each).
    pub used_codes: usize,
    pub refresh_tokens: usize,
    /// Revoked access-token jtis, kept until the tokens they name have expired.
    pub revoked: usize,
    /// Pending login/consent transactions.
    pub transactions: usize,
    /// Browser sessions without a signed-in user.
    pub anonymous_sessions: usize,
    /// Signed-in browser sessions (least recently used evicted first).
    pub user_sessions: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            live_codes: 10_000,
            used_codes: 100_000,
            refresh_tokens: 100_000,
            revoked: 100_000,
            transactions: 10_000,
            anonymous_sessions: 10_000,
            user_sessions: 10_000,
        }
    }
}

/// Seconds an expired code (or tombstone) is kept so that it is refused as "expired" (OBO-SEC-4)
/// or "already used" rather than "unknown".
const CODE_GRACE: i64 = 600;
/// A signed-in session ends after this long without use.
const SESSION_IDLE: i64 = 8 * 3600;

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
    /// OIDC-style `prompt` values.
    pub prompt: Prompt,
}

/// The `prompt` values the server knows (OpenID Connect Core §3.1.2.1); anything else is
/// refused at the authorization endpoint, so only these flags are ever stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

impl Prompt {
    /// At most this many values (each known value once).
    pub const MAX_VALUES: usize = 4;

    /// Parses a space-separated `prompt`; the error names the cause.
    pub fn parse(raw: &str) -> Result<Prompt, String> {
        let mut p = Prompt::default();
        for (i, v) in raw.split(' ').filter(|v| !v.is_empty()).enumerate() {
            if i >= Self::MAX_VALUES {
                return Err(format!("prompt has more than {} values", Self::MAX_VALUES));
            }
            let flag = match v {
                "none" => &mut p.none,
                "login" => &mut p.login,
                "consent" => &mut p.consent,
                "select_account" => &mut p.select_account,
                other => {
                    let shown: String = other.chars().take(32).collect();
                    return Err(format!("prompt value `{shown}` is not supported"));
                }
            };
            if std::mem::replace(flag, true) {
                return Err(format!("prompt value `{v}` is repeated"));
            }
        }
        if p.none && (p.login || p.consent || p.select_account) {
            return Err("prompt=none cannot be combined with other values".into());
        }
        Ok(p)
    }
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

/// A stored code: live (`State::codes`, the full binding) until redeemed, then a tombstone
/// (`State::used_codes`) holding only what replay detection needs (OBO-SEC-3, OBO-INH-5), which
/// keeps memory per exchange small while used codes wait for their expiry.
/// A redeemed code: whether a replay was seen, and what was issued from it (revoked on
/// replay). Its expiry is kept by the table.
struct Tombstone {
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

/// Moves a live record to its tombstone and returns the record (marked used).
fn redeem(s: &mut State, k: Key, now: i64) -> Option<Box<CodeRecord>> {
    let mut rec = s.codes.remove(&k)?;
    let mut tomb = Tombstone {
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
    s.used_codes.insert(k, tomb, rec.expires_at, now);
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

struct State {
    codes: Table<Key, Box<CodeRecord>>,
    used_codes: Table<Key, Tombstone>,
    consents: HashMap<ConsentKey, BTreeSet<String>>,
    refresh: Table<Key, StoredRefresh>,
    interned: Interner,
    /// Revoked jtis, by key.
    revoked: Table<Key, ()>,
    actor_enabled: HashMap<String, bool>,
    transactions: Table<String, Transaction>,
    anonymous_sessions: Table<String, ()>,
    /// session id → signed-in username.
    user_sessions: Table<String, String>,
}

impl State {
    fn new(caps: &Caps) -> State {
        State {
            codes: Table::new(caps.live_codes, CODE_GRACE),
            used_codes: Table::new(caps.used_codes, CODE_GRACE),
            consents: HashMap::new(),
            refresh: Table::new(caps.refresh_tokens, 0),
            interned: Interner::default(),
            revoked: Table::new(caps.revoked, 0),
            actor_enabled: HashMap::new(),
            transactions: Table::new(caps.transactions, 0),
            anonymous_sessions: Table::new(caps.anonymous_sessions, 0),
            user_sessions: Table::new(caps.user_sessions, 0),
        }
    }
}

pub struct Store {
    state: Mutex<State>,
    caps: Caps,
    clock: Clock,
    /// How long a revoked jti must be remembered: the access-token lifetime.
    revoked_for: i64,
    /// How long an anonymous session lives: the transaction lifetime.
    anonymous_for: i64,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(Clock::default(), &Ttl::default())
    }
}

/// `now + ttl` without overflow (the clock may have been moved far ahead).
pub fn expiry(now: i64, ttl: u64) -> i64 {
    now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX))
}

impl Store {
    /// A store reading time from `clock` (shared with the server's, so the control API moves
    /// both).
    pub fn new(clock: Clock, ttl: &Ttl) -> Store {
        Store::with_caps(clock, ttl, Caps::default())
    }

    /// A store with other caps (tests).
    pub fn with_caps(clock: Clock, ttl: &Ttl, caps: Caps) -> Store {
        Store {
            state: Mutex::new(State::new(&caps)),
            caps,
            clock,
            revoked_for: expiry(0, ttl.access_token),
            anonymous_for: expiry(0, ttl.transaction),
        }
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters here; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn reset(&self) {
        *self.lock() = State::new(&self.caps);
    }

    // ---- codes ----

    pub fn insert_code(&self, code: String, record: CodeRecord, now: i64) {
        let expires_at = record.expires_at;
        self.lock()
            .codes
            .insert(key(&code), Box::new(record), expires_at, now);
    }

    /// Checks that the code is unused and marks it used, in one critical section.
    pub fn take_code(&self, code: &str) -> Taken {
        let mut s = self.lock();
        match redeem(&mut s, key(code), self.now()) {
            Some(rec) => Taken::Fresh(rec),
            None => self.replayed(&mut s, code),
        }
    }

    /// Looks at a code without marking it (only used by the `non-atomic-redemption` fault).
    pub fn peek_code(&self, code: &str) -> Taken {
        let mut s = self.lock();
        match s.codes.get(&key(code)) {
            Some(rec) => Taken::Fresh(rec.clone()),
            None => self.replayed(&mut s, code),
        }
    }

    /// Reads a code whether used or not (the `accept-code-replay` fault). Under that fault no
    /// code is ever redeemed (faults are fixed at start), so its full record is still there.
    pub fn get_code(&self, code: &str) -> Option<CodeRecord> {
        self.lock().codes.get(&key(code)).map(|rec| (**rec).clone())
    }

    pub fn mark_code_used(&self, code: &str) {
        let mut s = self.lock();
        redeem(&mut s, key(code), self.now());
    }

    /// Remembers what was issued from a code, so that a replay can revoke it. If the code was
    /// replayed meanwhile, the new tokens are revoked at once.
    pub fn record_issued(&self, code: &str, jti: &str, refresh: Option<&str>) {
        let mut s = self.lock();
        let k = key(code);
        let replayed = if let Some(c) = s.codes.get_mut(&k) {
            c.issued_jtis.push(jti.to_string());
            if let Some(r) = refresh {
                c.issued_refresh.push(r.to_string());
            }
            c.replayed
        } else if let Some(t) = s.used_codes.get_mut(&k) {
            t.push(Issued {
                jti: key(jti),
                refresh: refresh.map(key),
            });
            t.replayed
        } else {
            true
        };
        if replayed {
            self.revoke_all(
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
        let now = self.now();
        s.refresh.insert(key(&token), stored, rec.expires_at, now);
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
        let mut s = self.lock();
        self.revoke_all(&mut s, vec![key(jti)], Vec::new());
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        self.lock().revoked.get(&key(jti)).is_some()
    }

    /// A used code was presented again: flag it and revoke what was issued from it (OBO-INH-5).
    fn replayed(&self, s: &mut State, code: &str) -> Taken {
        let Some(t) = s.used_codes.get_mut(&key(code)) else {
            return Taken::Unknown;
        };
        t.replayed = true;
        let jtis: Vec<Key> = t.issued().map(|i| i.jti).collect();
        let refresh: Vec<Key> = t.issued().filter_map(|i| i.refresh).collect();
        self.revoke_all(s, jtis, refresh);
        Taken::Replayed
    }

    /// Revokes access tokens (remembered until every token issued so far has expired) and
    /// deactivates refresh tokens.
    fn revoke_all(&self, s: &mut State, jtis: Vec<Key>, refresh: Vec<Key>) {
        let now = self.now();
        let until = now.saturating_add(self.revoked_for);
        for j in jtis {
            s.revoked.insert(j, (), until, now);
        }
        for r in refresh {
            if let Some(rec) = s.refresh.get_mut(&r) {
                rec.active = false;
            }
        }
    }

    // ---- actors ----

    pub fn actor_override(&self, actor: &str) -> Option<bool> {
        self.lock().actor_enabled.get(actor).copied()
    }

    pub fn set_actor_enabled(&self, actor: &str, enabled: bool) {
        self.lock().actor_enabled.insert(actor.to_string(), enabled);
    }

    // ---- login sessions and transactions ----

    /// A new anonymous session (its own bounded table: floods of these never evict a
    /// signed-in session).
    pub fn new_session(&self) -> String {
        let id = crate::keys::random_token();
        let now = self.now();
        let until = now.saturating_add(self.anonymous_for);
        self.lock()
            .anonymous_sessions
            .insert(id.clone(), (), until, now);
        id
    }

    pub fn session_exists(&self, id: &str) -> bool {
        let s = self.lock();
        let id = id.to_string();
        s.user_sessions.get(&id).is_some() || s.anonymous_sessions.get(&id).is_some()
    }

    /// The signed-in user of a session; using it keeps it alive (LRU).
    pub fn session_user(&self, id: &str) -> Option<String> {
        let until = self.now().saturating_add(SESSION_IDLE);
        let mut s = self.lock();
        let id = id.to_string();
        if !s.user_sessions.touch(&id, until) {
            return None;
        }
        s.user_sessions.get(&id).cloned()
    }

    /// Logs a user in under a fresh session id (no session fixation) and moves the
    /// transaction to it.
    pub fn login(&self, old_session: &str, tx: &str, username: &str) -> String {
        let id = crate::keys::random_token();
        let now = self.now();
        let mut s = self.lock();
        let old = old_session.to_string();
        s.anonymous_sessions.remove(&old);
        s.user_sessions.remove(&old);
        s.user_sessions.insert(
            id.clone(),
            username.to_string(),
            now.saturating_add(SESSION_IDLE),
            now,
        );
        if let Some(t) = s.transactions.get_mut(&tx.to_string()) {
            t.session = id.clone();
        }
        id
    }

    /// How many entries of each kind are held.
    pub fn counts(&self) -> Counts {
        let s = self.lock();
        Counts {
            anonymous_sessions: s.anonymous_sessions.len(),
            user_sessions: s.user_sessions.len(),
            transactions: s.transactions.len(),
            live_codes: s.codes.len(),
            used_codes: s.used_codes.len(),
            refresh_tokens: s.refresh.len(),
            revoked: s.revoked.len(),
        }
    }

    pub fn insert_transaction(&self, id: String, t: Transaction) {
        let (until, now) = (t.expires_at, self.now());
        self.lock().transactions.insert(id, t, until, now);
    }

    pub fn transaction(&self, id: &str) -> Option<Transaction> {
        self.lock().transactions.get(&id.to_string()).cloned()
    }

    pub fn remove_transaction(&self, id: &str) -> Option<Transaction> {
        self.lock().transactions.remove(&id.to_string())
    }
}

/// What the store holds (tests of the caps, the robustness benchmark).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub anonymous_sessions: usize,
    pub user_sessions: usize,
    pub transactions: usize,
    pub live_codes: usize,
    pub used_codes: usize,
    pub refresh_tokens: usize,
    pub revoked: usize,
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
                prompt: Prompt::default(),
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

    // Tombstones expire like codes: pruned (after the grace period) by later inserts.
    #[test]
    fn expired_tombstones_are_pruned() {
        let store = Store::default();
        store.insert_code("old".into(), code_record(60), 0);
        assert!(matches!(store.take_code("old"), Taken::Fresh(_)));
        assert!(matches!(store.take_code("old"), Taken::Replayed));
        let later = store.now() + 1000;
        store.insert_code("c1".into(), code_record(later), 0);
        assert!(matches!(store.take_code("c1"), Taken::Fresh(_)));
        assert!(matches!(store.take_code("old"), Taken::Unknown));
    }

    // An anonymous flood evicts anonymous sessions only: a signed-in user stays signed in.
    #[test]
    fn anonymous_sessions_never_evict_a_signed_in_one() {
        let store = Store::default();
        let anon = store.new_session();
        let alice = store.login(&anon, "tx", "alice");
        let caps = Caps::default();
        for _ in 0..caps.anonymous_sessions + 100 {
            store.new_session();
        }
        assert_eq!(store.session_user(&alice).as_deref(), Some("alice"));
        let c = store.counts();
        assert_eq!(c.anonymous_sessions, caps.anonymous_sessions);
        assert_eq!(c.user_sessions, 1);
    }

    #[test]
    fn prompt_values_are_known_few_and_unrepeated() {
        let p = Prompt::parse("login consent").unwrap();
        assert!(p.login && p.consent && !p.none);
        assert_eq!(Prompt::parse("").unwrap(), Prompt::default());
        assert!(Prompt::parse("login login").is_err());
        assert!(Prompt::parse("none login").is_err());
        assert!(Prompt::parse("a").unwrap_err().contains("not supported"));
        assert!(Prompt::parse(&"login ".repeat(4096)).is_err());
    }
}
