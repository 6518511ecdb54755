//! # fraudshield-core
//!
//! The engine of fraudshield: everything a phone needs to decide, offline and in about a
//! microsecond, whether a call, an account or a message is a known fraud.
//!
//! - [`kind`], [`identifier`]: the four identifier kinds (phone, bank, QQ, Alipay) and their
//!   normalization to one canonical form each.
//! - [`key`]: the byte key under which an identifier is stored (kind tag + canonical ASCII), so a
//!   single index holds every kind without collisions.
//! - [`scan`]: finding identifiers inside an SMS or chat message.
//! - [`entry`]: the small packed value stored with each blocklist entry, and blocklist changes.
//! - [`rules`]: the rules every change to the list follows, checked by the publisher and by
//!   every client with the same function.
//! - [`verdict`]: the answer to a lookup and the policy that maps risk and direction to an action.
//! - [`store`]: the on-device store — base [`snapshot`] (FST, mmap) + [`overlay`] + SQLite state,
//!   with the blocklist's state [`digest`] maintained per change.
//! - [`sync`]: signed updates from the server ([`release`] holds the formats).
//! - [`outbox`]: citizen reports queued on the device and uploaded on the next sync.
//! - [`shield`]: **the facade apps call** — [`shield::Shield`], one object with plain types that
//!   `fraudshield-ffi` exports to Kotlin and Swift. Start there.
//!
//! This crate is pure Rust with no FFI and no server code: `fraudshield-ffi` wraps it for Kotlin
//! and Swift, `fraudshield-server` uses it for the wire format and snapshot building.
//!
//! ## Personal data
//! Identifiers are personal data. Nothing in this crate logs them, and no error message contains
//! one in clear text: errors say *what* was wrong (too short, bad character at position 3), never
//! the value itself.
//!
//! ```
//! use fraudshield_core::{identifier, kind::Kind};
//!
//! let id = identifier::normalize(Kind::Phone, "+86 138-0013-8000").unwrap();
//! assert_eq!(id.canonical(), "+8613800138000");
//! ```

pub mod digest;
pub mod durable;
pub mod entry;
pub mod hex;
pub mod identifier;
#[cfg(feature = "csv-import")]
pub mod import;
pub mod key;
pub mod kind;
pub mod outbox;
pub mod overlay;
pub mod protected;
pub mod release;
pub mod rules;
pub mod scan;
pub mod shield;
pub mod snapshot;
pub mod store;
pub mod sync;
pub mod verdict;

// The `uniffi` feature (used by `fraudshield-ffi` only) derives the uniffi traits on the value
// types that cross the FFI unchanged, so the bindings carry these very types and their docs.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
