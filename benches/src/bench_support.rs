//! Helpers shared by the criterion bench targets in `benches/benches/`.
//!
//! `cargo bench` passes `--bench` to each target; `cargo test` (which runs the bench targets in
//! test mode, each benchmark once, so they keep compiling and working) does not. The targets
//! use [`sizes`] to pick real list sizes only when benchmarking, so the test run stays fast.

/// Whether this process was started by `cargo bench` (rather than `cargo test`).
pub fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// List sizes to run: 200k and 2M entries under `cargo bench`, 2,000 in test mode. The
/// environment variable `FRAUDSHIELD_BENCH_SIZES` (comma-separated entry counts) overrides
/// both, e.g. `FRAUDSHIELD_BENCH_SIZES=200000 cargo bench -p fraudshield-benches`.
pub fn sizes() -> Vec<usize> {
    if let Ok(s) = std::env::var("FRAUDSHIELD_BENCH_SIZES") {
        let parsed: Vec<usize> = s
            .split(',')
            .filter_map(|v| v.trim().replace('_', "").parse().ok())
            .collect();
        if !parsed.is_empty() {
            return parsed;
        }
    }
    if benchmarking() {
        vec![200_000, 2_000_000]
    } else {
        vec![2_000]
    }
}

/// A cursor that cycles through a query set, one query per benchmark iteration.
#[derive(Debug)]
pub struct Cycle<'a, T> {
    items: &'a [T],
    next: usize,
}

impl<'a, T> Cycle<'a, T> {
    /// Cycles through `items` (which must not be empty).
    pub fn new(items: &'a [T]) -> Cycle<'a, T> {
        Cycle { items, next: 0 }
    }

    /// The next item, wrapping around at the end.
    #[allow(clippy::should_implement_trait)] // never ends, unlike an Iterator would suggest
    pub fn next(&mut self) -> &'a T {
        let item = &self.items[self.next];
        self.next += 1;
        if self.next == self.items.len() {
            self.next = 0;
        }
        item
    }
}
