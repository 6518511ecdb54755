//! The server's clock: the system clock, or a settable one for tests (tips due dates, merge
//! windows and manifest expiry are then tested without sleeping).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix seconds from the system, or from a test's hand.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock standing at `now` until [`Clock::set`] moves it.
    pub fn fixed(now: i64) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(now))))
    }

    /// Moves a fixed clock (no effect on the system clock).
    pub fn set(&self, now: i64) {
        if let Some(c) = &self.0 {
            c.store(now, Ordering::SeqCst);
        }
    }

    /// Moves a fixed clock forward by `secs`.
    pub fn advance(&self, secs: i64) {
        if let Some(c) = &self.0 {
            c.fetch_add(secs, Ordering::SeqCst);
        }
    }

    /// The current time in Unix seconds.
    pub fn now(&self) -> i64 {
        match &self.0 {
            Some(c) => c.load(Ordering::SeqCst),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        }
    }
}
