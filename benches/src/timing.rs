//! The report's own timing loops: many iterations, per-batch timings, percentiles.
//!
//! A single lookup takes tens to hundreds of nanoseconds, about as long as reading the clock,
//! so operations are timed in batches of [`BATCH`] queries and each batch yields one sample: its
//! time divided by the batch size. p50 and p99 are percentiles of those samples. A p99 of batch
//! means is smoother than a p99 of single operations: a lone slow lookup is averaged with 31
//! fast ones. The report says so next to the figures.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Queries per timed batch.
pub const BATCH: usize = 32;

/// Percentiles of per-operation time, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Latency {
    /// Median.
    pub p50_ns: f64,
    /// 99th percentile.
    pub p99_ns: f64,
    /// Mean.
    pub mean_ns: f64,
    /// Number of samples (batches) behind the figures.
    pub samples: usize,
}

impl Latency {
    /// Percentiles of per-operation samples (ns). Empty input gives all zeros.
    ///
    /// ```
    /// use fraudshield_benches::timing::Latency;
    /// let l = Latency::from_samples(&mut (1..=100).map(f64::from).collect::<Vec<_>>());
    /// assert_eq!(l.p50_ns, 50.0);
    /// assert_eq!(l.p99_ns, 99.0);
    /// ```
    pub fn from_samples(samples: &mut [f64]) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_by(f64::total_cmp);
        let at = |p: f64| {
            let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[rank - 1]
        };
        Latency {
            p50_ns: at(0.50),
            p99_ns: at(0.99),
            mean_ns: samples.iter().sum::<f64>() / samples.len() as f64,
            samples: samples.len(),
        }
    }
}

/// Times `op` over `queries` in batches of [`BATCH`], cycling through the queries until `budget`
/// has passed and every query ran at least once, after one untimed warm-up pass over up to
/// 10,000 queries. `op` returns something the optimiser must not discard.
pub fn per_op<Q, R>(queries: &[Q], budget: Duration, op: impl FnMut(&Q) -> R) -> Latency {
    Latency::from_samples(&mut samples(queries, budget, op))
}

/// The raw per-operation samples (ns) behind [`per_op`], for callers that pool the samples of
/// several interleaved runs before taking percentiles.
pub fn samples<Q, R>(queries: &[Q], budget: Duration, mut op: impl FnMut(&Q) -> R) -> Vec<f64> {
    let mut out = Vec::new();
    sample(queries, budget, || false, &mut op, |_, ns| out.push(ns));
    out
}

/// Like [`per_op`] but without the budget: runs until `stop()` is true (checked between
/// batches) and hands every sample to `record(at, ns_per_op)`, where `at` is when the batch
/// ended. Used by the measuring thread that watches lookups while a writer works.
pub fn sample<Q, R>(
    queries: &[Q],
    budget: Duration,
    mut stop: impl FnMut() -> bool,
    mut op: impl FnMut(&Q) -> R,
    mut record: impl FnMut(Instant, f64),
) {
    if queries.is_empty() {
        return;
    }
    for q in queries.iter().take(10_000) {
        black_box(op(black_box(q)));
    }
    let start = Instant::now();
    let mut done = 0usize;
    let mut i = 0usize;
    loop {
        let t = Instant::now();
        for _ in 0..BATCH {
            black_box(op(black_box(&queries[i])));
            i += 1;
            if i == queries.len() {
                i = 0;
            }
        }
        let end = Instant::now();
        record(end, (end - t).as_nanos() as f64 / BATCH as f64);
        done += BATCH;
        if stop() || (budget > Duration::ZERO && done >= queries.len() && end - start >= budget) {
            return;
        }
    }
}

/// Runs `f` `runs` times and returns the median wall time (at least one run).
pub fn median_time(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_ranks() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        let l = Latency::from_samples(&mut v);
        assert_eq!(l.p50_ns, 3.0);
        assert_eq!(l.p99_ns, 5.0);
        assert_eq!(l.mean_ns, 3.0);
        assert_eq!(l.samples, 5);
        assert_eq!(Latency::from_samples(&mut []), Latency::default());
    }

    #[test]
    fn per_op_runs_every_query_and_measures_something() {
        let queries: Vec<u64> = (0..100).collect();
        let mut seen = vec![0u32; 100];
        let l = per_op(&queries, Duration::from_millis(5), |q| {
            seen[*q as usize] += 1;
            std::thread::sleep(Duration::from_micros(1));
        });
        assert!(
            seen.iter().all(|&c| c >= 2),
            "warm-up plus at least one timed pass"
        );
        assert!(l.p50_ns >= 1_000.0, "a 1 µs sleep per op is visible: {l:?}");
        assert!(l.samples >= 3);
    }

    #[test]
    fn sample_stops_when_told() {
        let queries = [1u8];
        let batches = std::cell::Cell::new(0);
        sample(
            &queries,
            Duration::ZERO,
            || batches.get() >= 3,
            |q| *q,
            |_, _| batches.set(batches.get() + 1),
        );
        assert_eq!(batches.get(), 3);
    }
}
