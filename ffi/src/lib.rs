//! uniffi bindings of `fraudshield-core` for Kotlin and Swift.
//!
//! Not built yet: the bindings issue fills this crate with thin `#[uniffi::export]` wrappers.
//! Until then it only re-exports the core so the workspace layout is in place.

pub use fraudshield_core as core;
