//! The server clock: real time plus an offset that the control API can advance, so that codes
//! and tokens expire in tests without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Cloning shares the offset: the store and the endpoints read the same time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

/// The clock never moves past the end of year 9999 (nor before the epoch), so that `now + ttl`
/// stays far from overflow.
pub const MAX_TIME: i64 = 253_402_300_799;

/// Why an advance was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("advancing by {seconds} s would move the clock outside 1970..=9999 (now {now})")]
pub struct OutOfRange {
    pub seconds: i64,
    pub now: i64,
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

    /// Moves the clock by `seconds` and returns the new time; refused (clock unchanged) when
    /// the result would leave 0..=MAX_TIME.
    pub fn advance(&self, seconds: i64) -> Result<i64, OutOfRange> {
        let now = self.now();
        let refused = OutOfRange { seconds, now };
        match now.checked_add(seconds) {
            Some(t) if (0..=MAX_TIME).contains(&t) => {}
            _ => return Err(refused),
        }
        self.offset
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| {
                o.checked_add(seconds)
            })
            .map_err(|_| refused)?;
        Ok(self.now())
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
        let t1 = c.advance(120).unwrap();
        assert!(t1 - t0 >= 120 && t1 - t0 <= 121);
        c.reset();
        assert!(c.now() - t0 <= 1);
    }

    #[test]
    fn overflowing_advances_are_refused_and_leave_the_clock() {
        let c = Clock::default();
        let t0 = c.now();
        assert!(c.advance(i64::MAX).is_err());
        assert!(c.advance(i64::MIN).is_err());
        assert!(c.advance(MAX_TIME).is_err());
        assert!(c.now() - t0 <= 1);
        assert!(c.advance(MAX_TIME - t0 - 10).is_ok());
    }
}
