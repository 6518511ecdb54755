//! Releases: the publisher's half of the update protocol, and the formats both halves share.
//!
//! A **release** is a numbered state of the blocklist. The publisher cuts release N from
//! release N-1 and a batch of [`Change`](crate::entry::Change)s and writes, into a directory any
//! static web server or CDN can serve:
//!
//! - `v1/manifest`: a [`signed::Bundle`] = key-rotation chain + the signed [`manifest::Manifest`]
//!   (list id, release number, created/expires, state digest, artifacts with size and SHA-256);
//! - `artifacts/<sha256>.fsw`: immutable [`wire`] artifacts named by their content, so caches
//!   never serve a stale body under a current name.
//!
//! ## Which artifacts a release offers
//! Deltas from N-1, N-2, N-4, … N-2^j (up to [`publisher::PublishConfig::max_delta_span`]) and
//! the latest full snapshot (cut every [`publisher::PublishConfig::snapshot_interval`]
//! releases). Deltas carry absolute final values, so the delta from N-2^j brings any state
//! between N-2^j and N to N: a client k releases behind fetches the manifest and **one**
//! artifact (the smallest delta whose base is ≤ its release) while k ≤ the largest span, and
//! otherwise the snapshot plus one delta (the client's rule is in [`crate::sync`]).
//!
//! ### Measured catch-up (200k entries, 1% changes per release, 164 releases published)
//! `core/tests/sync_measure.rs`: the manifest bundle is 1,190 bytes (8 artifacts). A client k
//! releases behind makes 2 requests (manifest + one delta) for every k ≤ 64 and 3 (manifest,
//! snapshot, delta) beyond. Bytes against an exact per-client delta from its release:
//!
//! | k behind | 1 | 2 | 3 | 5 | 8 | 9 | 16 | 17 | 33 | 64 | 65 | 100 |
//! |---|---|---|---|---|---|---|---|---|---|---|---|---|
//! | bytes | 10.8 K | 19.5 K | 36.3 K | 67.9 K | 67.9 K | 126 K | 126 K | 235 K | 438 K | 438 K | 1.23 M | 1.23 M |
//! | × exact | 1.12 | 1.06 | 1.36 | 1.62 | 1.02 | 1.69 | 1.01 | 1.77 | 1.81 | 1.00 | 2.77 | 1.92 |
//!
//! Summed over k = 1..100 the power-of-two spans download 1.83× the bytes of exact deltas,
//! with never more than three requests; the price of serving immutable, cacheable files.
//!
//! ## Keys
//! Ed25519 via `ring` ([`keys`]). Creating a key pair and a first release:
//! ```
//! use fraudshield_core::release::{keys::{KeySet, SigningKey}, publisher::{Publisher, PublishConfig}};
//! let dir = tempfile::tempdir().unwrap();
//! let key = SigningKey::generate().unwrap();
//! // Keep `key.to_file_text()` secret; give this to app developers:
//! let trust_file = KeySet::new(vec![key.public()], 1).unwrap().to_trust_file();
//! let mut publisher = Publisher::create(dir.path(), "cn-police", PublishConfig::default()).unwrap();
//! let report = publisher.publish(&[], &[&key], 1_700_000_000).unwrap();
//! assert_eq!(report.release, 1);
//! # let _ = trust_file;
//! ```

pub mod bytes;
pub mod keys;
pub mod manifest;
pub mod publisher;
pub mod signed;
pub mod wire;
