//! In-memory state behind one mutex: pending authorizations, sessions, consents, codes, grants.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::keys::Keys;
use crate::{Defect, Options, Quirk};

/// An authorization request waiting for login and consent.
#[derive(Debug, Clone)]
pub struct Tx {
    pub client_id: String,
    pub redirect_uri: String,
    /// The redirect_uri was sent in the request (then the token request must repeat it).
    pub redirect_sent: bool,
    pub state: Option<String>,
    pub scope: String,
    pub actor: Option<String>,
    pub challenge: String,
    pub csrf: String,
    pub user: Option<String>,
    /// Browser cookie the flow is bound to (cookies-required quirk).
    pub browser: Option<String>,
    pub force_consent: bool,
}

#[derive(Debug, Clone)]
pub struct Code {
    pub grant: String,
    pub client_id: String,
    pub user: String,
    pub actor: Option<String>,
    pub challenge: String,
    pub redirect_uri: Option<String>,
    pub scope: String,
    pub exp: i64,
}

#[derive(Debug, Clone)]
pub struct Refresh {
    pub grant: String,
    pub client_id: String,
    pub user: String,
    pub actor: Option<String>,
    pub scope: String,
    pub active: bool,
}

#[derive(Default)]
pub struct Store {
    pub clock_offset: i64,
    pub txs: HashMap<String, Tx>,
    /// Session cookie value → username.
    pub sessions: HashMap<String, String>,
    /// (user, client, actor or "") → consented scopes.
    pub consents: HashMap<(String, String, String), BTreeSet<String>>,
    pub codes: HashMap<String, Code>,
    /// Redeemed codes → their grant (replay detection, RFC 6749 4.1.2).
    pub used_codes: HashMap<String, String>,
    pub refresh: HashMap<String, Refresh>,
    /// Grant → access-token jtis issued under it.
    pub grant_jtis: HashMap<String, Vec<String>>,
    pub revoked_jtis: HashSet<String>,
    pub revoked_grants: HashSet<String>,
    /// Actor id → enabled, overriding the registry (control API).
    pub actor_enabled: HashMap<String, bool>,
}

pub struct App {
    pub opts: Options,
    pub base: String,
    pub keys: Keys,
    rng: Mutex<ChaCha20Rng>,
    store: Mutex<Store>,
}

impl App {
    pub fn new(opts: Options, base: String) -> App {
        let mut rng = ChaCha20Rng::seed_from_u64(opts.seed);
        let keys = Keys::generate(&mut rng);
        App {
            opts,
            base,
            keys,
            rng: Mutex::new(rng),
            store: Mutex::new(Store::default()),
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets everything but the keys.
    pub fn reset(&self) {
        *self.store() = Store::default();
    }

    /// A fresh random value, URL-safe.
    pub fn random(&self) -> String {
        let mut bytes = [0u8; 24];
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fill_bytes(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Unix seconds on the target's clock (moved by the own control API).
    pub fn now(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        real + self.store().clock_offset
    }

    pub fn quirk(&self, q: Quirk) -> bool {
        self.opts.quirk(q)
    }

    pub fn defect(&self, d: Defect) -> bool {
        self.opts.defect(d)
    }

    pub fn actor_enabled(&self, id: &str) -> bool {
        let registered = self.opts.registry.actor(id).is_some_and(|a| a.enabled);
        self.store()
            .actor_enabled
            .get(id)
            .copied()
            .unwrap_or(registered)
    }

    pub fn code_ttl(&self) -> i64 {
        self.opts
            .code_ttl_secs
            .unwrap_or(if self.quirk(Quirk::ShortTtls) { 10 } else { 60 })
    }

    pub fn actor_token_ttl(&self) -> i64 {
        self.opts
            .actor_token_ttl_secs
            .unwrap_or(if self.quirk(Quirk::ShortTtls) {
                10
            } else {
                300
            })
    }

    /// Clock skew allowed on actor-token times (AMB-5).
    pub fn skew(&self) -> i64 {
        if self.quirk(Quirk::ShortTtls) {
            1
        } else {
            60
        }
    }

    /// The audience of access tokens: the demo resource server.
    pub fn resource_audience(&self) -> String {
        format!("{}/resource", self.base)
    }
}
