//! fraudshield benchmarks and the synthetic blocklist generator.
//!
//! Filled by the benchmarks issue.
