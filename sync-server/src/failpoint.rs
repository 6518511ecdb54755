//! Deterministic crash points for the kill -9 tests (`tests/crash.rs`).
//!
//! Built only with the `failpoints` feature (tests build it through
//! `cargo test --all-features`; a release build without the feature compiles [`hit`] to
//! nothing). With the feature, when `FRAUDSHIELD_FAILPOINT` names the point reached, the
//! process prints `failpoint NAME reached` on stdout and stops there forever, so a test can
//! SIGKILL it at exactly that step instead of racing a sleep.
//!
//! The points, in the order a publish reaches them ([`crate::release`]):
//! - `publish:intent`: the publish intent is committed; no file written yet;
//! - `publish:prepared`: core's publisher committed its state (artifacts, list, state file);
//!   the new manifest is not written, the old release is still served;
//! - `publish:manifest`: the new signed manifest is on disk; the database does not know yet;
//! - `publish:finalized`: the database recorded the release; the in-memory served manifest
//!   is not swapped yet.

/// The environment variable naming the point to stop at.
pub const ENV: &str = "FRAUDSHIELD_FAILPOINT";

/// Stops the process here (forever) if [`ENV`] names `point`; see the module docs.
#[inline]
pub fn hit(point: &str) {
    #[cfg(feature = "failpoints")]
    if std::env::var(ENV).is_ok_and(|v| v == point) {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "failpoint {point} reached");
        let _ = out.flush();
        drop(out);
        loop {
            std::thread::park();
        }
    }
    #[cfg(not(feature = "failpoints"))]
    let _ = point;
}
