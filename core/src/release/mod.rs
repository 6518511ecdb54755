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
//! otherwise the snapshot plus one delta. The client picks whichever plan downloads fewer bytes.
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
//! let release = publisher.publish(&[], &[&key], 1_700_000_000).unwrap();
//! assert_eq!(release, 1);
//! # let _ = trust_file;
//! ```

pub mod bytes;
pub mod keys;
pub mod manifest;
pub mod publisher;
pub mod signed;
pub mod wire;
