//! Settings shared by the criterion bench targets (a subfolder, so Cargo does not take it for a
//! bench target of its own).

use criterion::Criterion;
use std::time::Duration;

/// Criterion settings that keep a full `cargo bench` run within minutes on a small machine:
/// 20 samples, 300 ms of warm-up and 2 s of measurement per benchmark.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
}
