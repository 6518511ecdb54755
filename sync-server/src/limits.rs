//! Rate limits on tip intake (in memory, with `governor`'s keyed GCRA limiters).
//!
//! Two limits, both answered with 429 and `Retry-After` (seconds):
//! - per client (`intake.client_per_hour`): one app install flooding the intake;
//! - per identifier (`intake.identifier_per_minute`): a campaign of tips about one number,
//!   which also keeps one identifier from monopolising the database.
//!
//! They reset when the server restarts, which is fine for flood control. Evidence counting
//! (one tip per client per identifier per 15 minutes) is not a rate limit: it lives in the
//! database ([`crate::tips::record`]) so it survives restarts.
//!
//! The limiters read the server's [`Clock`], in whole seconds, so a test with a fixed clock
//! sees exactly the limits it configured however slowly a busy machine runs it.

use crate::clock::Clock;
use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;

/// `governor`'s view of the server's [`Clock`]: seconds since the epoch, in nanoseconds.
#[derive(Debug, Clone)]
struct LimiterClock(Clock);

impl governor::clock::Clock for LimiterClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        // Clamped to what `Nanos` holds (year 2554); a clock before 1970 reads as 1970.
        let secs = u64::try_from(self.0.now())
            .unwrap_or(0)
            .min(u64::MAX / 1_000_000_000);
        Nanos::new(secs * 1_000_000_000)
    }
}

/// A keyed GCRA limiter on the server's clock.
type Limiter<K> = RateLimiter<K, DefaultKeyedStateStore<K>, LimiterClock, NoOpMiddleware<Nanos>>;

/// A fresh keyed limiter for `quota` on `clock`.
fn limiter<K: std::hash::Hash + Eq + Clone>(clock: &LimiterClock, quota: Quota) -> Limiter<K> {
    RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone())
}

/// The intake limiters.
#[derive(Debug)]
pub struct IntakeLimits {
    clients: Limiter<[u8; 32]>,
    identifiers: Limiter<Vec<u8>>,
    clock: LimiterClock,
}

/// Which limit refused a tip, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// This client sent too many tips.
    Client {
        /// Seconds until it may send again.
        retry_after: u64,
    },
    /// Too many tips about this identifier.
    Identifier {
        /// Seconds until tips about it are taken again.
        retry_after: u64,
    },
}

impl IntakeLimits {
    /// Limiters for `client_per_hour` and `identifier_per_minute` (both at least 1), on `clock`.
    pub fn new(client_per_hour: u32, identifier_per_minute: u32, clock: Clock) -> IntakeLimits {
        let one = NonZeroU32::MIN;
        let clock = LimiterClock(clock);
        IntakeLimits {
            clients: limiter(
                &clock,
                Quota::per_hour(NonZeroU32::new(client_per_hour).unwrap_or(one)),
            ),
            identifiers: limiter(
                &clock,
                Quota::per_minute(NonZeroU32::new(identifier_per_minute).unwrap_or(one)),
            ),
            clock,
        }
    }

    /// Takes one tip from `client` about `key`, or says which limit refused it.
    pub fn check(&self, client: &[u8; 32], key: &[u8]) -> Result<(), Limited> {
        let secs = |d: std::time::Duration| d.as_secs() + u64::from(d.subsec_nanos() > 0);
        if let Err(n) = self.clients.check_key(client) {
            return Err(Limited::Client {
                retry_after: secs(n.wait_time_from(self.clock.now())).max(1),
            });
        }
        if let Err(n) = self.identifiers.check_key(&key.to_vec()) {
            return Err(Limited::Identifier {
                retry_after: secs(n.wait_time_from(self.clock.now())).max(1),
            });
        }
        Ok(())
    }

    /// Forgets keys whose limits have fully recovered (run now and then to bound memory).
    pub fn forget_idle(&self) {
        self.clients.retain_recent();
        self.identifiers.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_refuses_with_a_retry_time() {
        let l = IntakeLimits::new(2, 2, Clock::fixed(1_800_000_000));
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert!(l.check(&a, b"k1").is_ok());
        assert!(l.check(&a, b"k2").is_ok());
        assert!(
            matches!(l.check(&a, b"k3"), Err(Limited::Client { retry_after }) if retry_after > 60)
        );
        assert!(l.check(&b, b"k1").is_ok());
        assert!(matches!(
            l.check(&b, b"k1"),
            Err(Limited::Identifier { .. })
        ));
    }

    #[test]
    fn limits_follow_the_servers_clock() {
        let clock = Clock::fixed(1_800_000_000);
        let l = IntakeLimits::new(60, 1, clock.clone());
        let a = [1u8; 32];
        assert!(l.check(&a, b"k").is_ok());
        // However long this takes on a busy machine, the fixed clock has not moved.
        assert!(matches!(
            l.check(&a, b"k"),
            Err(Limited::Identifier { retry_after: 60 })
        ));
        clock.advance(59);
        assert!(matches!(
            l.check(&a, b"k"),
            Err(Limited::Identifier { retry_after: 1 })
        ));
        clock.advance(1);
        assert!(l.check(&a, b"k").is_ok());
        // A clock set before 1970 neither panics nor lets a flood through.
        clock.set(-5);
        assert!(l.check(&a, b"k").is_err());
    }
}
