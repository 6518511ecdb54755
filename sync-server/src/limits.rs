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

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;

/// The intake limiters.
#[derive(Debug)]
pub struct IntakeLimits {
    clients: DefaultKeyedRateLimiter<[u8; 32]>,
    identifiers: DefaultKeyedRateLimiter<Vec<u8>>,
    clock: DefaultClock,
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
    /// Limiters for `client_per_hour` and `identifier_per_minute` (both at least 1).
    pub fn new(client_per_hour: u32, identifier_per_minute: u32) -> IntakeLimits {
        let one = NonZeroU32::MIN;
        IntakeLimits {
            clients: RateLimiter::keyed(Quota::per_hour(
                NonZeroU32::new(client_per_hour).unwrap_or(one),
            )),
            identifiers: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(identifier_per_minute).unwrap_or(one),
            )),
            clock: DefaultClock::default(),
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
        let l = IntakeLimits::new(2, 2);
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
}
