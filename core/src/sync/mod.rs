//! Client sync: fetch → verify → stage → swap. The phone trusts nothing it downloads until it
//! has proven it.
//!
//! ## Protocol
//! The whole protocol is `GET <server>v1/manifest` and the artifact paths the manifest names
//! (formats in [`crate::release`]). Apps call it through [`crate::shield::Shield::sync`], which
//! also uploads queued citizen reports. One [`sync()`] call, step by step:
//!
//! 1. Refuses to touch the network before a persisted server backoff ends ([`SyncError::Backoff`]).
//! 2. Fetches the manifest bundle (at most 64 KiB) with `If-None-Match` = the ETag of the last
//!    accepted manifest: when nothing changed the answer is a bodiless 304, one small request.
//!    429/503 persist a "not before" time from `Retry-After` (capped at one day).
//! 3. Walks the key-rotation chain from the persisted trust state (or the pinned keys) and
//!    verifies the manifest's Ed25519 signature with the resulting key set (threshold: at least
//!    one pinned key; see [`crate::release::signed`]).
//! 4. Checks the list id (configured, or the one first accepted), the **rollback floor** (a
//!    release below the last accepted one is refused; the same number with another state
//!    digest is refused; the same manifest again means up to date; the same state signed again
//!    with a later creation time — the publisher's re-sign before expiry — only refreshes the
//!    recorded times, and an older signature of it changes nothing), and time: a manifest created more
//!    than [`SyncConfig::clock_skew_secs`] in the device's future is refused, one expired more
//!    than that long ago is not applied and reported as [`SyncError::Stale`].
//! 5. Plans: the smallest delta whose base is ≤ the held release (one artifact for anyone up
//!    to 64 releases behind), or the snapshot plus one delta. The delta is used when it is
//!    under half the snapshot plan's bytes and the store is not empty: a large batch applies
//!    far faster as a new base file than through the overlay.
//! 6. Downloads each artifact capped at the exact size the manifest states, checks size and
//!    SHA-256 **before parsing**, decodes under [`crate::release::wire::Limits`] (decompression
//!    capped), checks the artifact header names the same list and releases.
//! 7. Stages the delta ([`Store::stage`], no I/O), compares the staged state digest with the
//!    manifest's; on a mismatch throws the staged state away and falls back to the snapshot.
//! 8. Commits — state, list version and the sync state below in **one** SQLite transaction — and
//!    only then swaps the live view. A snapshot is installed with its digest checked before it
//!    becomes live.
//!
//! Any failure returns a [`SyncError`] and leaves the last good state serving lookups.
//!
//! ## Persisted sync state (store meta, names in [`meta`])
//! The release floor, the SHA-256 of the accepted manifest, its created/expires times, the list
//! id, the trust state (rotation sequence and keys), the ETag, and the backoff "not before".
//!
//! ## Freshness and clock skew
//! [`freshness`] says `Stale { since }` once the last accepted manifest expired (plus the skew
//! tolerance, default 10 minutes); lookups keep working on the last good data. A server that
//! keeps serving an expired manifest (a freeze attack) cannot make the app believe it is fresh.
//!
//! ## Measured (2M entries, loopback, release build, `core/tests/sync_measure.rs`)
//! First sync into an empty store: 4.4 s, 2 requests, 6.19 MB. A 1% release (20k changes):
//! 0.16 s, 2 requests, 81.0 KB = 4.05 B per changed entry (manifest included). A poll with
//! nothing new: under 1 ms, 1 request, 0 body bytes (304).
//!
//! ## Polling
//! [`next_poll_delay`] returns a jittered interval that never ends before a persisted backoff.
//! An unchanged list costs one conditional request answered by a 304 with no body.
//!
//! ## Privacy
//! Requests carry the fixed manifest path or an artifact's content-named path and at most an
//! `If-None-Match` header: nothing the user looked up, no device identifier.
//!
//! ## Protected numbers
//! The store answers `Protected` for the emergency and police lines whatever the list says, so
//! a validly signed update can never block them (tested end to end).
//!
//! ## Example: the host app supplies the transport
//! A phone app implements [`transport::Transport`] over its own HTTP stack; here a map of
//! files stands in for it.
//! ```
//! use fraudshield_core::release::{keys::{KeySet, SigningKey}, publisher::{Publisher, PublishConfig}};
//! use fraudshield_core::store::{Store, StoreOptions};
//! use fraudshield_core::sync::{self, transport::{HttpRequest, HttpResponse, Transport, TransportError}};
//! use std::collections::HashMap;
//!
//! struct Files(HashMap<String, Vec<u8>>);
//! impl Transport for Files {
//!     fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
//!         let path = req.url.trim_start_matches("https://lists.example.org/");
//!         match self.0.get(path) {
//!             Some(body) if body.len() as u64 > req.max_response_bytes => Err(TransportError::TooLarge),
//!             Some(body) => Ok(HttpResponse { status: 200, body: body.clone(), ..Default::default() }),
//!             None => Ok(HttpResponse { status: 404, ..Default::default() }),
//!         }
//!     }
//! }
//!
//! // The publisher's side: a key and a first release.
//! let site = tempfile::tempdir().unwrap();
//! let key = SigningKey::generate().unwrap();
//! let mut publisher = Publisher::create(site.path(), "cn-police", PublishConfig::default()).unwrap();
//! publisher.publish(&[], &[&key], 1_767_225_600).unwrap();
//! let mut files = HashMap::new();
//! for path in ["v1/manifest"].into_iter().map(String::from).chain(
//!     std::fs::read_dir(site.path().join("artifacts")).unwrap()
//!         .map(|e| format!("artifacts/{}", e.unwrap().file_name().to_string_lossy())))
//! {
//!     files.insert(path.clone(), std::fs::read(site.path().join(&path)).unwrap());
//! }
//!
//! // The phone's side: pinned keys, a store, one sync.
//! let phone = tempfile::tempdir().unwrap();
//! let store = Store::open(phone.path(), StoreOptions::default()).unwrap();
//! let trust = KeySet::from_trust_file(&KeySet::new(vec![key.public()], 1).unwrap().to_trust_file()).unwrap();
//! let config = sync::SyncConfig::new("https://lists.example.org/", trust);
//! let report = sync::sync(&store, &Files(files), &config, 1_767_225_700).unwrap();
//! assert_eq!(report.release, 1);
//! assert!(matches!(sync::freshness(&store, 1_767_225_700, 600).unwrap(), sync::Freshness::Fresh { .. }));
//! ```
//!
//! [`Store::stage`]: crate::store::Store::stage

mod client;
#[cfg(feature = "http")]
pub mod http;
pub mod transport;

pub use client::{DEFAULT_CLOCK_SKEW_SECS, SyncConfig, freshness, next_poll_delay, sync};

/// Names of the values the sync engine keeps in the store's meta table.
pub mod meta {
    /// The rollback floor: the last accepted release (u64 BE).
    pub const RELEASE: &str = "sync.release";
    /// SHA-256 of the last accepted manifest payload.
    pub const MANIFEST: &str = "sync.manifest_sha256";
    /// Its expiry (i64 BE Unix seconds).
    pub const EXPIRES_AT: &str = "sync.expires_at";
    /// Its creation time (i64 BE Unix seconds).
    pub const CREATED_AT: &str = "sync.created_at";
    /// The list id accepted.
    pub const LIST_ID: &str = "sync.list_id";
    /// The trust state ([`crate::release::signed::TrustState`] bytes).
    pub const TRUST: &str = "sync.trust";
    /// ETag of the last accepted manifest.
    pub const ETAG: &str = "sync.etag";
    /// No request before this time (i64 BE Unix seconds): the server's backoff.
    pub const NOT_BEFORE: &str = "sync.not_before";
}

/// Why an update was refused. The state is unchanged; report it, do not retry at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The manifest bundle or an artifact could not be parsed.
    #[error("malformed manifest")]
    Malformed,
    /// A trusted key's signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// The manifest is not signed by enough trusted keys.
    #[error("manifest not signed by a trusted key")]
    UntrustedKey,
    /// A key-rotation statement is not signed by the current keys or breaks the chain.
    #[error("key rotation refused")]
    RotationRefused,
    /// The manifest is for another list.
    #[error("manifest is for another list")]
    WrongList,
    /// The release is older than the one already accepted.
    #[error("rollback refused: have release {have}, offered {offered}")]
    Rollback {
        /// The persisted floor.
        have: u64,
        /// What the server offered.
        offered: u64,
    },
    /// The same release number with a different state digest.
    #[error("release number reused with different content")]
    ReleaseConflict,
    /// Created further in the future than the clock-skew tolerance: check the device clock.
    #[error("manifest created in the future (check the device clock)")]
    CreatedInFuture,
    /// An artifact's size differs from the manifest's.
    #[error("artifact size does not match the manifest")]
    ArtifactSize,
    /// An artifact's SHA-256 differs from the manifest's.
    #[error("artifact hash does not match the manifest")]
    ArtifactHash,
    /// An artifact passed its hash but its content is invalid or for another list/release.
    #[error("artifact content invalid")]
    ArtifactInvalid,
    /// A body or a decompressed artifact exceeds its cap.
    #[error("download or decompression exceeds its cap")]
    TooLarge,
    /// A compressed artifact is corrupt.
    #[error("artifact does not decompress")]
    Decompression,
    /// The state after applying the update does not have the manifest's digest.
    #[error("state digest mismatch after applying the update")]
    DigestMismatch,
    /// The manifest offers nothing that leads from the held state to the release.
    #[error("no usable artifact in the manifest")]
    NoUsableArtifact,
}

/// What went wrong in a sync, in terms an app can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The network failed or the server answered unexpectedly: retry at the next poll.
    #[error("network: {0}")]
    Network(String),
    /// The server asked to wait: no request before `seconds` from now.
    #[error("server asked to back off for {seconds} s")]
    Backoff {
        /// Seconds to wait.
        seconds: u64,
    },
    /// The update was refused (tampered, replayed, oversized …).
    #[error("invalid update: {0}")]
    InvalidUpdate(Rejection),
    /// The newest manifest the server offers expired at `since` (Unix seconds): the list is
    /// stale; lookups continue on the last good data.
    #[error("list is stale since {since}")]
    Stale {
        /// Expiry time (Unix seconds).
        since: i64,
    },
    /// The local store failed.
    #[error("storage: {0}")]
    Storage(String),
}

/// How a sync brought the list up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum UpdatePath {
    /// Nothing to do.
    UpToDate,
    /// One delta.
    Delta,
    /// The snapshot (plus a delta on top when the snapshot is older than the release).
    Snapshot,
    /// A delta whose result did not match the digest, then the snapshot.
    DeltaFellBackToSnapshot,
}

/// What one successful sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    /// The release held before.
    pub release_before: u64,
    /// The release held now.
    pub release: u64,
    /// How it got there.
    pub path: UpdatePath,
    /// HTTP requests made.
    pub requests: u32,
    /// Body bytes downloaded.
    pub bytes_downloaded: u64,
}

/// How fresh the list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "state"))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Freshness {
    /// Never synced.
    Never,
    /// The last accepted manifest is valid until `expires_at`.
    Fresh {
        /// The release held.
        release: u64,
        /// Unix seconds.
        expires_at: i64,
    },
    /// The last accepted manifest expired at `since`.
    Stale {
        /// The release held.
        release: u64,
        /// Unix seconds.
        since: i64,
    },
}
