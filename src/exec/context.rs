//! The target side of a case's run: the target and its profile, the case's HTTP session, the
//! seeded RNG and attacker key, the run's options, and the server-wide changes to undo. What the
//! case learned along the way (codes, tokens, requests) is [`super::memory::CaseMemory`].

use std::sync::Mutex;

use rand::Rng;
use rand_chacha::ChaCha20Rng;

use super::session::Session;
use crate::jose::{self, SigningKey};
use crate::profile::Target;

pub(crate) struct TargetContext<'a> {
    pub(crate) target: &'a Target,
    /// `--strict`: only the preferred outcome of each step passes.
    pub(crate) strict: bool,
    pub(crate) session: Session,
    pub(crate) rng: ChaCha20Rng,
    /// The run's printed seed: the attacker key derives from it.
    run_seed: u64,
    /// Actors the case disabled, enabled again after it.
    pub(crate) disabled: Vec<String>,
    /// Seconds waited in real time in place of a clock operation (`[time]`).
    pub(crate) waited_secs: u64,
    /// Wrong secrets sent that resemble the real ones (`near_secret`): redacted like them.
    pub(crate) sent_secrets: Vec<String>,
}

impl<'a> TargetContext<'a> {
    /// A context whose RNG derives from the case seed and whose attacker key derives from the
    /// run seed.
    pub(crate) fn new(
        target: &'a Target,
        session: Session,
        run_seed: u64,
        case_seed: [u8; 32],
        strict: bool,
    ) -> TargetContext<'a> {
        TargetContext {
            target,
            strict,
            session,
            rng: <ChaCha20Rng as rand::SeedableRng>::from_seed(case_seed),
            run_seed,
            disabled: Vec::new(),
            waited_secs: 0,
            sent_secrets: Vec::new(),
        }
    }

    pub(crate) fn random_b64(&mut self, n: usize) -> String {
        let mut b = vec![0u8; n];
        self.rng.fill_bytes(&mut b);
        jose::b64url(b)
    }

    /// The attacker's ES256 key (forgeries, wrong client assertions): one per run, the same for
    /// every case, reproducible from the printed seed.
    pub(crate) fn attacker_key(&self) -> SigningKey {
        attacker_key_of_run(self.run_seed)
    }
}

/// Runs whose attacker key is kept (a process runs one seed, tests a few).
const KEPT_RUN_KEYS: usize = 4;

/// The attacker key of the run with `seed`, derived on first use. Deriving a P-256 key is a
/// scalar multiplication: once per run instead of once per forgery case.
fn attacker_key_of_run(seed: u64) -> SigningKey {
    static KEYS: Mutex<Vec<(u64, SigningKey)>> = Mutex::new(Vec::new());
    // A panic while holding the lock leaves the list whole: recover it.
    let mut keys = KEYS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, key)) = keys.iter().find(|(s, _)| *s == seed) {
        return key.clone();
    }
    let key = SigningKey::from_seed(seed, "attacker");
    if keys.len() == KEPT_RUN_KEYS {
        keys.remove(0);
    }
    keys.push((seed, key.clone()));
    key
}

/// The harness's clock in Unix seconds (assertions it signs; the target's clock may differ).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
