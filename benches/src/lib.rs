//! # fraudshield-benches
//!
//! How fast and how small fraudshield's blocklist is, measured side by side with what an app
//! developer would pick instead, on lists shaped like the real one.
//!
//! - [`synth`]: deterministic, realistic synthetic blocklists (phones, bank cards and accounts,
//!   QQ and Alipay accounts, prefix rules), query sets (present, absent, prefix-covered,
//!   raw-dressed), 1% deltas and SMS samples. The demo and tests may reuse it.
//! - [`bound`]: the information-theoretic bound of a list, so sizes can be printed as
//!   "ours ÷ bound".
//! - [`alternatives`]: SQLite (defaults and tuned), a `HashMap`, a sorted `Vec` and a bare
//!   `fst::Map`, behind one [`alternatives::Lookup`] trait.
//! - [`timing`]: the report's timing loops (batched samples, p50/p99).
//! - [`rng`]: the value-stable seeded generator everything above draws from.
//!
//! The criterion benches (`cargo bench -p fraudshield-benches`) and the `report` binary
//! (`cargo run -p fraudshield-benches --release --bin report`) build on these modules; the
//! report writes `benches/REPORT.md`.
//!
//! ```
//! use fraudshield_benches::alternatives::{FstList, Lookup};
//! use fraudshield_benches::synth::{Blocklist, DEFAULT_SEED};
//!
//! let list = Blocklist::generate(5_000, DEFAULT_SEED);
//! let fst = FstList::build(list.entries()).unwrap();
//! for key in list.present_queries(100, 1) {
//!     assert!(fst.get(&key).is_some());
//! }
//! ```

#[cfg(feature = "measure")]
pub mod alternatives;
#[cfg(feature = "measure")]
pub mod bench_support;
#[cfg(feature = "measure")]
pub mod bound;
#[cfg(feature = "measure")]
pub mod ours;
pub mod rng;
pub mod synth;
#[cfg(feature = "measure")]
pub mod timing;
