//! The server clock: real time plus an offset that the control API can advance, so that codes
//! and tokens expire in tests without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Default)]
pub struct Clock {
    offset: AtomicI64,
}

impl Clock {
    /// Seconds since the Unix epoch, offset included.
    pub fn now(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        real.saturating_add(self.offset.load(Ordering::Relaxed))
    }

    /// Moves the clock by `seconds` and returns the new time.
    pub fn advance(&self, seconds: i64) -> i64 {
        let _ = self
            .offset
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| {
                Some(o.saturating_add(seconds))
            });
        self.now()
    }

    /// Back to real time.
    pub fn reset(&self) {
        self.offset.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now() {
        let c = Clock::default();
        let t0 = c.now();
        let t1 = c.advance(120);
        assert!(t1 - t0 >= 120 && t1 - t0 <= 121);
        c.reset();
        assert!(c.now() - t0 <= 1);
    }
}
