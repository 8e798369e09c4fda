//! The target side of a case's run: the target and its profile, the case's HTTP session, the
//! seeded RNG and attacker key, the run's options, and the server-wide changes to undo. What the
//! case learned along the way (codes, tokens, requests) is [`super::memory::CaseMemory`].

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
    key_seed: u64,
    attacker: Option<SigningKey>,
    /// Actors the case disabled, enabled again after it.
    pub(crate) disabled: Vec<String>,
    /// Seconds waited in real time in place of a clock operation (`[time]`).
    pub(crate) waited_secs: u64,
    /// Wrong secrets sent that resemble the real ones (`near_secret`): redacted like them.
    pub(crate) sent_secrets: Vec<String>,
}

impl<'a> TargetContext<'a> {
    /// A context whose RNG and attacker key derive from the case seed.
    pub(crate) fn new(
        target: &'a Target,
        session: Session,
        case_seed: [u8; 32],
        strict: bool,
    ) -> TargetContext<'a> {
        let mut key_seed = [0u8; 8];
        key_seed.copy_from_slice(&case_seed[..8]);
        TargetContext {
            target,
            strict,
            session,
            rng: <ChaCha20Rng as rand::SeedableRng>::from_seed(case_seed),
            key_seed: u64::from_le_bytes(key_seed),
            attacker: None,
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

    /// The attacker's ES256 key of this case (forgeries, wrong client assertions).
    pub(crate) fn attacker_key(&mut self) -> SigningKey {
        let seed = self.key_seed;
        self.attacker
            .get_or_insert_with(|| SigningKey::from_seed(seed, "attacker"))
            .clone()
    }
}

/// The harness's clock in Unix seconds (assertions it signs; the target's clock may differ).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
