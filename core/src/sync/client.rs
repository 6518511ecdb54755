//! The sync algorithm (see the [module docs](super) for the protocol and its guarantees).

use super::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use super::{Freshness, Rejection, SyncError, SyncReport, UpdatePath, meta};
use crate::digest::StateDigest;
use crate::entry::EntryValue;
use crate::key::Key;
use crate::release::keys::{KeySet, sha256};
use crate::release::manifest::{ArtifactRef, Manifest};
use crate::release::signed::{Bundle, PayloadType, TrustState, VerifyError};
use crate::release::wire::{self, Limits, WireError, WireHeader, WireKind};
use crate::rules::{self, Rules};
use crate::store::{InstallFromError, Store, StoreError};
use std::time::Duration;

/// Where and how to sync. Constructing one does no I/O.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Base URL of the list, e.g. `https://lists.example.org/cn/`; the manifest is at
    /// `<base>v1/manifest` and artifacts at the relative paths it names.
    pub server: String,
    /// The list this app follows. `None`: the first list accepted is remembered and every later
    /// manifest must name the same one.
    pub list_id: Option<String>,
    /// The app's pinned publisher keys: the root of trust (see [`crate::release::signed`]).
    /// Once a key rotation has been accepted, the store remembers the rotated key set and its
    /// sequence number and starts from there; the pinned set is then only the historical root,
    /// so a leaked old key cannot be used against a phone that has moved on.
    pub trust: KeySet,
    /// Tolerated difference between the device clock and the publisher's, in seconds: a manifest
    /// is still accepted up to this long after it expires, and refused as "created in the
    /// future" only when its creation time is more than this ahead of the device clock.
    pub clock_skew_secs: i64,
    /// Deadline for each request (connect, headers and the whole body).
    pub request_timeout: Duration,
    /// Largest manifest bundle accepted.
    pub max_manifest_bytes: u64,
    /// Largest artifact accepted (each artifact is also capped at the exact size its manifest
    /// states).
    pub max_artifact_bytes: u64,
    /// Caps on decoding artifacts (decompressed size, entry count).
    pub limits: Limits,
    /// Backoff when the server says 429/503 without `Retry-After`.
    pub default_backoff: Duration,
    /// Longest backoff honoured (a hostile server must not silence updates for months).
    pub max_backoff: Duration,
    /// Run [`Store::verify`] (a full read) before applying a delta; a damaged local state is
    /// then repaired from the full snapshot instead of being patched.
    pub verify_local: bool,
}

/// The clock skew tolerated by default between the device and the publisher: 10 minutes.
pub const DEFAULT_CLOCK_SKEW_SECS: i64 = 600;

impl SyncConfig {
    /// Defaults: 10 minutes of clock skew, 30 s per request, 64 KiB manifests, 256 MiB
    /// artifacts, 5 minutes default backoff, at most 1 day of backoff, no local verification.
    pub fn new(server: &str, trust: KeySet) -> SyncConfig {
        let mut server = server.to_owned();
        if !server.ends_with('/') {
            server.push('/');
        }
        SyncConfig {
            server,
            list_id: None,
            trust,
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
            request_timeout: Duration::from_secs(30),
            max_manifest_bytes: 64 * 1024,
            max_artifact_bytes: 256 << 20,
            limits: Limits::default(),
            default_backoff: Duration::from_secs(300),
            max_backoff: Duration::from_secs(24 * 3600),
            verify_local: false,
        }
    }
}

fn be_u64(v: Option<Vec<u8>>) -> u64 {
    v.and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

fn be_i64(v: Option<Vec<u8>>) -> Option<i64> {
    v.and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map(i64::from_be_bytes)
}

fn storage(e: StoreError) -> SyncError {
    SyncError::Storage(e.to_string())
}

fn network(e: TransportError) -> SyncError {
    match e {
        // An endless or oversized body is the server misbehaving, not the network.
        TransportError::TooLarge => SyncError::InvalidUpdate(Rejection::TooLarge),
        other => SyncError::Network(other.to_string()),
    }
}

/// The sync state persisted in the store's meta table.
struct Persisted {
    release: u64,
    manifest_hash: Option<Vec<u8>>,
    expires_at: Option<i64>,
    created_at: Option<i64>,
    list_id: Option<String>,
    trust: Option<TrustState>,
    etag: Option<String>,
    not_before: Option<i64>,
}

fn load(store: &Store) -> Result<Persisted, SyncError> {
    let m = |name| store.meta(name).map_err(storage);
    Ok(Persisted {
        release: be_u64(m(meta::RELEASE)?),
        manifest_hash: m(meta::MANIFEST)?,
        expires_at: be_i64(m(meta::EXPIRES_AT)?),
        created_at: be_i64(m(meta::CREATED_AT)?),
        list_id: m(meta::LIST_ID)?.map(|b| String::from_utf8_lossy(&b).into_owned()),
        trust: m(meta::TRUST)?.and_then(|b| TrustState::decode(&b).ok()),
        etag: m(meta::ETAG)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .filter(|s| !s.is_empty()),
        not_before: be_i64(m(meta::NOT_BEFORE)?),
    })
}

/// Reads how fresh the list is at `now` (Unix seconds), from what the last sync persisted.
pub fn freshness(store: &Store, now: i64, clock_skew_secs: i64) -> Result<Freshness, SyncError> {
    let p = load(store)?;
    Ok(match p.expires_at {
        None => Freshness::Never,
        Some(exp) if now > exp.saturating_add(clock_skew_secs) => Freshness::Stale {
            release: p.release,
            since: exp,
        },
        Some(exp) => Freshness::Fresh {
            release: p.release,
            expires_at: exp,
        },
    })
}

/// How long to wait before the next poll: `base` ± `jitter` (a fraction, e.g. 0.2 for ±20%;
/// clamped to 0..=1, and a NaN counts as 0), and never before a persisted server backoff ends.
/// `now`: Unix seconds. Never panics: a delay too large for a [`Duration`] (any `base` near
/// [`Duration::MAX`]) saturates at [`Duration::MAX`].
pub fn next_poll_delay(
    store: &Store,
    base: Duration,
    jitter: f64,
    now: i64,
) -> Result<Duration, SyncError> {
    let mut r = [0u8; 8];
    let rnd = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut r)
        .map(|_| u64::from_le_bytes(r))
        .unwrap_or(0);
    let unit = (rnd >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
    let delay = jittered(base, jitter, unit);
    let not_before = load(store)?.not_before.unwrap_or(0);
    let wait = Duration::from_secs(u64::try_from(not_before.saturating_sub(now)).unwrap_or(0));
    Ok(delay.max(wait))
}

/// `base` scaled by a factor in `1 - jitter ..= 1 + jitter`, chosen by `unit` (in `0..1`),
/// saturating at [`Duration::MAX`] (`Duration::mul_f64` panics on overflow).
fn jittered(base: Duration, jitter: f64, unit: f64) -> Duration {
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let unit = if unit.is_nan() {
        0.0
    } else {
        unit.clamp(0.0, 1.0)
    };
    let factor = 1.0 - jitter + 2.0 * jitter * unit;
    // Only an overflow can fail here: the factor is finite and at least 0.
    Duration::try_from_secs_f64(base.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

struct Run<'a> {
    transport: &'a dyn Transport,
    config: &'a SyncConfig,
    requests: u32,
    bytes: u64,
}

impl Run<'_> {
    fn get(
        &mut self,
        path: &str,
        max_bytes: u64,
        etag: Option<&str>,
    ) -> Result<HttpResponse, SyncError> {
        let url = format!("{}{}", self.config.server, path);
        let timeout_ms = u64::try_from(self.config.request_timeout.as_millis()).unwrap_or(u64::MAX);
        let mut req = HttpRequest::get(&url, max_bytes, timeout_ms);
        if let Some(etag) = etag {
            req = req.with_header("If-None-Match", etag);
        }
        self.requests += 1;
        let resp = self.transport.send(req).map_err(network)?;
        self.bytes += resp.body.len() as u64;
        Ok(resp)
    }

    fn report(&self, release_before: u64, release: u64, path: UpdatePath) -> SyncReport {
        SyncReport {
            release_before,
            release,
            path,
            requests: self.requests,
            bytes_downloaded: self.bytes,
        }
    }

    /// Downloads an artifact and checks size and hash before anything parses it.
    fn artifact(&mut self, a: &ArtifactRef) -> Result<Vec<u8>, SyncError> {
        if a.size > self.config.max_artifact_bytes {
            return Err(SyncError::InvalidUpdate(Rejection::TooLarge));
        }
        // The cap is the exact size the manifest states: a longer body is the wrong artifact.
        let resp = self.get(&a.path, a.size, None).map_err(|e| match e {
            SyncError::InvalidUpdate(Rejection::TooLarge) => {
                SyncError::InvalidUpdate(Rejection::ArtifactSize)
            }
            other => other,
        })?;
        if resp.status != 200 {
            return Err(SyncError::Network(format!(
                "artifact request answered with HTTP status {}",
                resp.status
            )));
        }
        if resp.body.len() as u64 != a.size {
            return Err(SyncError::InvalidUpdate(Rejection::ArtifactSize));
        }
        if sha256(&resp.body) != a.sha256 {
            return Err(SyncError::InvalidUpdate(Rejection::ArtifactHash));
        }
        Ok(resp.body)
    }

    fn decode_streamed<'b>(
        &self,
        bytes: &'b [u8],
        kind: WireKind,
        list_id: &str,
        from_release: u64,
        release: u64,
    ) -> Result<wire::Streamed<'b>, SyncError> {
        let expected = expected_header(kind, list_id, from_release, release);
        wire::decode_streamed(bytes, Some(&expected), &self.config.limits)
            .map_err(|e| SyncError::InvalidUpdate(rejection(e)))
    }

    fn decode(
        &self,
        bytes: &[u8],
        kind: WireKind,
        list_id: &str,
        from_release: u64,
        release: u64,
    ) -> Result<wire::Decoded, SyncError> {
        let expected = expected_header(kind, list_id, from_release, release);
        wire::decode(bytes, Some(&expected), &self.config.limits)
            .map_err(|e| SyncError::InvalidUpdate(rejection(e)))
    }
}

/// The header an artifact must carry to be the one the signed manifest named (the entry count
/// is checked by the decoder against the body, not against the manifest).
fn expected_header(kind: WireKind, list_id: &str, from_release: u64, release: u64) -> WireHeader {
    WireHeader {
        kind,
        list_id: list_id.to_owned(),
        from_release,
        release,
        entry_count: 0,
    }
}

fn rejection(e: WireError) -> Rejection {
    match e {
        WireError::Decompression => Rejection::Decompression,
        WireError::TooLarge(_) => Rejection::TooLarge,
        _ => Rejection::ArtifactInvalid,
    }
}

/// The snapshot's entries with the top delta applied, in key order, one at a time: a delta
/// upsert replaces or adds, a delta removal (value 0) drops, everything else passes through.
/// The snapshot side is streamed; the delta (about 1% of the list) is already in memory.
struct ApplyDelta<S: Iterator<Item = Result<(Key, u64), E>>, E> {
    snapshot: std::iter::Peekable<S>,
    delta: std::iter::Peekable<std::vec::IntoIter<(Key, u64)>>,
}

impl<S: Iterator<Item = Result<(Key, u64), E>>, E> ApplyDelta<S, E> {
    fn new(snapshot: S, delta: Vec<(Key, u64)>) -> Self {
        ApplyDelta {
            snapshot: snapshot.peekable(),
            delta: delta.into_iter().peekable(),
        }
    }
}

impl<S: Iterator<Item = Result<(Key, u64), E>>, E> Iterator for ApplyDelta<S, E> {
    type Item = Result<(Key, EntryValue), E>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let take_delta = match (self.snapshot.peek(), self.delta.peek()) {
                (None, None) => return None,
                // An error is passed on at once (the store stops on it).
                (Some(Err(_)), _) | (Some(Ok(_)), None) => false,
                (None, Some(_)) => true,
                (Some(Ok(a)), Some(b)) => {
                    if a.0 == b.0 {
                        self.snapshot.next();
                        true
                    } else {
                        b.0 < a.0
                    }
                }
            };
            let next = if take_delta {
                self.delta.next().map(Ok)
            } else {
                self.snapshot.next()
            };
            match next {
                None => return None,
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok((k, v))) => {
                    if let Ok(v) = EntryValue::unpack(v) {
                        return Some(Ok((k, v)));
                    }
                    // Value 0: a removal, dropped.
                }
            }
        }
    }
}

/// Runs one sync against `transport` at time `now` (Unix seconds). See the [module docs](super).
///
/// On any error the store is unchanged (except a persisted backoff) and keeps serving the last
/// good state. The steps, in order (each its own function below): `check_backoff`,
/// `fetch_manifest`, `verify_manifest` (with `verify_signature`), `plan`, then `apply_delta` or
/// `install_snapshot` (a delta whose result does not match the signed digest falls back to the
/// snapshot).
pub fn sync(
    store: &Store,
    transport: &dyn Transport,
    config: &SyncConfig,
    now: i64,
) -> Result<SyncReport, SyncError> {
    let p = load(store)?;
    check_backoff(&p, now)?;
    let mut run = Run {
        transport,
        config,
        requests: 0,
        bytes: 0,
    };
    let have = store.list_version();
    let up_to_date = |run: &Run<'_>| -> Result<SyncReport, SyncError> {
        check_not_expired(&p, config, now)?;
        Ok(run.report(have, have, UpdatePath::UpToDate))
    };
    let Some(resp) = fetch_manifest(&mut run, store, &p, now)? else {
        return up_to_date(&run);
    };
    let Some(verified) = verify_manifest(store, &resp, &p, config, now)? else {
        // The held manifest, or a fresh signature of it just recorded: freshness is judged on
        // what is stored now.
        check_not_expired(&load(store)?, config, now)?;
        return Ok(run.report(have, have, UpdatePath::UpToDate));
    };
    let manifest = &verified.manifest;
    let plan = plan(store, manifest, have, config);
    let mut path = UpdatePath::Snapshot;
    if let Some(delta) = plan.delta {
        if apply_delta(&mut run, store, &verified, delta)? {
            return Ok(run.report(have, manifest.release, UpdatePath::Delta));
        }
        path = UpdatePath::DeltaFellBackToSnapshot;
    }
    let Some((snapshot, top)) = plan.snapshot else {
        return Err(SyncError::InvalidUpdate(Rejection::NoUsableArtifact));
    };
    install_snapshot(&mut run, store, &verified, snapshot, top)?;
    Ok(run.report(have, manifest.release, path))
}

/// Step 1: no request at all before a persisted server backoff ends.
fn check_backoff(p: &Persisted, now: i64) -> Result<(), SyncError> {
    match p.not_before {
        Some(nb) if nb > now => Err(SyncError::Backoff {
            seconds: (nb - now) as u64,
        }),
        _ => Ok(()),
    }
}

/// An accepted manifest that expired (beyond the skew tolerance) makes "up to date" stale.
fn check_not_expired(p: &Persisted, config: &SyncConfig, now: i64) -> Result<(), SyncError> {
    match p.expires_at {
        Some(exp) if now > exp.saturating_add(config.clock_skew_secs) => {
            Err(SyncError::Stale { since: exp })
        }
        _ => Ok(()),
    }
}

/// Step 2: the manifest bundle, conditional on the last accepted one's ETag. `None`: 304, the
/// held manifest is still current. 429/503 persist the server's backoff.
fn fetch_manifest(
    run: &mut Run<'_>,
    store: &Store,
    p: &Persisted,
    now: i64,
) -> Result<Option<HttpResponse>, SyncError> {
    let etag = p.manifest_hash.as_ref().and(p.etag.as_deref());
    let resp = run.get("v1/manifest", run.config.max_manifest_bytes, etag)?;
    match resp.status {
        200 => Ok(Some(resp)),
        304 if p.manifest_hash.is_some() => Ok(None),
        429 | 503 => {
            let wait = resp
                .retry_after_secs()
                .map(Duration::from_secs)
                .unwrap_or(run.config.default_backoff)
                .min(run.config.max_backoff);
            let nb = now.saturating_add(wait.as_secs() as i64);
            store
                .set_meta(&[(meta::NOT_BEFORE, &nb.to_be_bytes())])
                .map_err(storage)?;
            Err(SyncError::Backoff {
                seconds: wait.as_secs(),
            })
        }
        s => Err(SyncError::Network(format!(
            "manifest request answered with HTTP status {s}"
        ))),
    }
}

/// A manifest whose signature, list, release and times passed, with what commits with it.
struct Verified {
    manifest: Manifest,
    /// The trust state after the bundle's key rotations.
    trust: TrustState,
    /// SHA-256 of the manifest payload.
    hash: [u8; 32],
    etag: Option<String>,
}

impl Verified {
    /// The sync state committed with the new list, in the same transaction.
    fn meta_values(&self) -> Vec<(&'static str, Vec<u8>)> {
        let m = &self.manifest;
        vec![
            (meta::RELEASE, m.release.to_be_bytes().to_vec()),
            (meta::MANIFEST, self.hash.to_vec()),
            (meta::EXPIRES_AT, m.expires_at.to_be_bytes().to_vec()),
            (meta::CREATED_AT, m.created_at.to_be_bytes().to_vec()),
            (meta::LIST_ID, m.list_id.as_bytes().to_vec()),
            (meta::TRUST, self.trust.encode()),
            (
                meta::ETAG,
                self.etag.clone().unwrap_or_default().into_bytes(),
            ),
            (meta::NOT_BEFORE, 0i64.to_be_bytes().to_vec()),
        ]
    }

    fn expected_digest(&self) -> StateDigest {
        StateDigest(self.manifest.state_digest)
    }
}

fn meta_refs<'v>(values: &'v [(&'static str, Vec<u8>)]) -> Vec<(&'static str, &'v [u8])> {
    values.iter().map(|(k, v)| (*k, v.as_slice())).collect()
}

/// Step 3: signature (after walking the key-rotation chain), list id, rollback floor, release
/// reuse, creation and expiry times. `None`: this is the manifest already held (up to date).
fn verify_manifest(
    store: &Store,
    resp: &HttpResponse,
    p: &Persisted,
    config: &SyncConfig,
    now: i64,
) -> Result<Option<Verified>, SyncError> {
    let invalid = SyncError::InvalidUpdate;
    let (manifest, trust, hash) = verify_signature(&resp.body, p, config)?;
    let expected_list = config.list_id.as_ref().or(p.list_id.as_ref());
    if expected_list.is_some_and(|l| *l != manifest.list_id) {
        return Err(invalid(Rejection::WrongList));
    }
    let etag = resp.header("etag").map(str::to_owned);
    if manifest.release < p.release {
        return Err(invalid(Rejection::Rollback {
            have: p.release,
            offered: manifest.release,
        }));
    }
    if manifest.release == p.release && p.manifest_hash.is_some() {
        let same = p.manifest_hash.as_deref() == Some(&hash[..]);
        if !same && manifest.state_digest != store.digest().0 {
            return Err(invalid(Rejection::ReleaseConflict));
        }
        // A newer signature over the release held (`Publisher::resign`): the same state, a
        // later creation time. Only the times, the manifest hash and the ETag are recorded.
        if !same && p.created_at.is_some_and(|c| manifest.created_at > c) {
            if manifest.created_at > now.saturating_add(config.clock_skew_secs) {
                return Err(invalid(Rejection::CreatedInFuture));
            }
            if now > manifest.expires_at.saturating_add(config.clock_skew_secs) {
                return Err(SyncError::Stale {
                    since: manifest.expires_at,
                });
            }
            let etag_b = etag.unwrap_or_default();
            store
                .set_meta(&[
                    (meta::MANIFEST, &hash[..]),
                    (meta::EXPIRES_AT, &manifest.expires_at.to_be_bytes()),
                    (meta::CREATED_AT, &manifest.created_at.to_be_bytes()),
                    (meta::TRUST, &trust.encode()),
                    (meta::ETAG, etag_b.as_bytes()),
                    (meta::NOT_BEFORE, &0i64.to_be_bytes()),
                ])
                .map_err(storage)?;
            return Ok(None);
        }
        // The manifest held, or an older signature over the same state (a lagging cache):
        // nothing to record (an older one never moves freshness back).
        if same && etag.is_some() && etag != p.etag {
            let e = etag.unwrap_or_default();
            store
                .set_meta(&[(meta::ETAG, e.as_bytes())])
                .map_err(storage)?;
        }
        return Ok(None);
    }
    if manifest.created_at > now.saturating_add(config.clock_skew_secs) {
        return Err(invalid(Rejection::CreatedInFuture));
    }
    if now > manifest.expires_at.saturating_add(config.clock_skew_secs) {
        return Err(SyncError::Stale {
            since: p.expires_at.unwrap_or(manifest.expires_at),
        });
    }
    Ok(Some(Verified {
        manifest,
        trust,
        hash,
        etag,
    }))
}

/// The manifest in a bundle, once its signature verifies with the trust state reached through
/// the bundle's key rotations; with that trust state and the manifest's hash.
fn verify_signature(
    body: &[u8],
    p: &Persisted,
    config: &SyncConfig,
) -> Result<(Manifest, TrustState, [u8; 32]), SyncError> {
    let invalid = SyncError::InvalidUpdate;
    let bundle = Bundle::decode(body).map_err(|_| invalid(Rejection::Malformed))?;
    // Trust: the persisted position on the rotation chain, or the pinned keys.
    let start = p
        .trust
        .clone()
        .unwrap_or_else(|| TrustState::pinned(config.trust.clone()));
    // The list id a rotation must be for is the manifest's; read it before verifying only to
    // scope the rotation check; nothing else of the unverified manifest is used.
    let claimed =
        Manifest::decode(&bundle.manifest.payload).map_err(|_| invalid(Rejection::Malformed))?;
    let trust = start
        .advance(&claimed.list_id, &bundle.rotations)
        .map_err(|_| invalid(Rejection::RotationRefused))?;
    bundle
        .manifest
        .verify(PayloadType::Manifest, &trust.keys)
        .map_err(|e| invalid(signature_rejection(e)))?;
    Ok((claimed, trust, bundle.manifest_hash()))
}

fn signature_rejection(e: VerifyError) -> Rejection {
    match e {
        VerifyError::UntrustedKey | VerifyError::BelowThreshold { .. } => Rejection::UntrustedKey,
        VerifyError::BadSignature => Rejection::BadSignature,
        VerifyError::WrongType | VerifyError::Malformed(_) => Rejection::Malformed,
    }
}

/// What to download: a delta, or the snapshot plus the delta from it to the release.
struct Plan<'m> {
    delta: Option<&'m ArtifactRef>,
    snapshot: Option<(&'m ArtifactRef, Option<&'m ArtifactRef>)>,
}

/// Step 4: one delta if one applies to what we hold, else snapshot (+ delta); fewer bytes wins.
///
/// A delta lands in the overlay (SQLite rows + memory), a snapshot becomes a new base file: for
/// large batches the snapshot is far cheaper (2M entries into an empty store, loopback, release
/// build: 15.8 s as one delta, 4.4 s as a snapshot), so a delta is used only below half the
/// snapshot plan's bytes, and never to fill an empty store.
fn plan<'m>(store: &Store, manifest: &'m Manifest, have: u64, config: &SyncConfig) -> Plan<'m> {
    let local_ok = !config.verify_local || store.verify().is_ok();
    let delta = (local_ok && have < manifest.release)
        .then(|| manifest.delta_for(have))
        .flatten();
    let snapshot = manifest.snapshot().map(|s| {
        let top = (s.from_release < manifest.release)
            .then(|| manifest.delta_for(s.from_release))
            .flatten();
        (s, top)
    });
    let snap_cost = snapshot
        .as_ref()
        .map(|(s, d)| s.size + d.map_or(0, |d| d.size));
    let delta =
        delta.filter(|d| have > 0 && snap_cost.is_none_or(|c| d.size.saturating_mul(2) <= c));
    Plan { delta, snapshot }
}

/// Step 5a: download, stage and commit a delta. `Ok(false)`: the staged state does not have
/// the signed digest (thrown away; the caller falls back to the snapshot).
fn apply_delta(
    run: &mut Run<'_>,
    store: &Store,
    v: &Verified,
    d: &ArtifactRef,
) -> Result<bool, SyncError> {
    let m = &v.manifest;
    let bytes = run.artifact(d)?;
    let decoded = run.decode(
        &bytes,
        WireKind::Delta,
        &m.list_id,
        d.from_release,
        m.release,
    )?;
    let changes = decoded.changes();
    let meta_values = v.meta_values();
    // A writer that commits between staging and committing (a user-list edit does not count,
    // a compaction does) makes the commit a conflict: stage once more.
    for _ in 0..2 {
        let staged = store
            .stage(&changes)
            .map_err(|_| SyncError::InvalidUpdate(Rejection::ArtifactInvalid))?;
        if staged.digest() != v.expected_digest() {
            return Ok(false);
        }
        match store.commit(staged, m.release, &meta_refs(&meta_values)) {
            Ok(()) => return Ok(true),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(storage(e)),
        }
    }
    Ok(false)
}

/// Step 5b: download the snapshot (and the delta on top of it), and install it as a new base
/// whose digest is checked before it becomes live.
fn install_snapshot(
    run: &mut Run<'_>,
    store: &Store,
    v: &Verified,
    s: &ArtifactRef,
    top: Option<&ArtifactRef>,
) -> Result<(), SyncError> {
    let m = &v.manifest;
    let invalid = SyncError::InvalidUpdate;
    let snap_bytes = run.artifact(s)?;
    // Checked in full here (every error is found before the first entry is used), but kept as
    // the artifact's body: entries are decoded one at a time while the base file is built. The
    // downloaded bytes go as soon as the body is held on its own (inflated: no copy).
    let snap = run
        .decode_streamed(
            &snap_bytes,
            WireKind::Snapshot,
            &m.list_id,
            s.from_release,
            s.from_release,
        )?
        .into_owned();
    drop(snap_bytes);
    let delta = if s.from_release < m.release {
        let d = top.ok_or(invalid(Rejection::NoUsableArtifact))?;
        let bytes = run.artifact(d)?;
        run.decode(
            &bytes,
            WireKind::Delta,
            &m.list_id,
            d.from_release,
            m.release,
        )?
        .entries
    } else {
        Vec::new()
    };
    // Every entry passes the rules a delta's changes pass (`Store::stage` checks those).
    let entries = ApplyDelta::new(snap.entries(), delta).map(|e| {
        let (k, v) = e.map_err(drop)?;
        rules::check_entry(&k, &v, Rules::Apply).map_err(drop)?;
        Ok::<_, ()>((k, v))
    });
    let meta_values = v.meta_values();
    store
        .install_snapshot_from(
            entries,
            m.release,
            Some(v.expected_digest()),
            &meta_refs(&meta_values),
        )
        .map_err(|e| match e {
            InstallFromError::Source(_) => invalid(Rejection::ArtifactInvalid),
            InstallFromError::Store(StoreError::DigestMismatch { .. }) => {
                invalid(Rejection::DigestMismatch)
            }
            InstallFromError::Store(StoreError::Snapshot(_)) => invalid(Rejection::ArtifactInvalid),
            InstallFromError::Store(e) => storage(e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;
    use proptest::prelude::*;

    #[test]
    fn a_poll_delay_too_large_for_a_duration_saturates() {
        // `Duration::mul_f64` panicked here ("value is either too big or NaN").
        assert_eq!(jittered(Duration::MAX, 0.2, 0.99), Duration::MAX);
        assert_eq!(jittered(Duration::MAX, 0.0, 0.5), Duration::MAX);
        assert_eq!(
            jittered(Duration::from_secs(u64::MAX), 1.0, 0.999),
            Duration::MAX
        );
        assert_eq!(jittered(Duration::MAX, 1.0, 0.0), Duration::ZERO);
    }

    #[test]
    fn a_nan_jitter_counts_as_none() {
        let base = Duration::from_secs(100);
        assert_eq!(jittered(base, f64::NAN, 0.7), base);
        assert_eq!(jittered(base, 0.0, f64::NAN), base);
    }

    proptest! {
        #[test]
        fn a_poll_delay_stays_within_its_jitter_and_never_panics(
            secs in any::<u64>(),
            nanos in 0u32..1_000_000_000,
            jitter in proptest::num::f64::ANY,
            unit in 0.0f64..1.0,
        ) {
            let base = Duration::new(secs, nanos);
            let d = jittered(base, jitter, unit);
            let j = if jitter.is_nan() { 0.0 } else { jitter.clamp(0.0, 1.0) };
            // Within the jitter band (with a little slack for float rounding), or saturated.
            let lo = base.as_secs_f64() * (1.0 - j) * (1.0 - 1e-9);
            let hi = base.as_secs_f64() * (1.0 + j) * (1.0 + 1e-9);
            prop_assert!(d.as_secs_f64() >= lo - 1e-6, "{d:?} below {lo}");
            prop_assert!(d == Duration::MAX || d.as_secs_f64() <= hi + 1e-6, "{d:?} above {hi}");
        }
    }

    /// The vector merge the client used before streaming: the reference semantics.
    fn merge_vecs(snapshot: Vec<(Key, u64)>, delta: Vec<(Key, u64)>) -> Vec<(Key, EntryValue)> {
        let mut map: std::collections::BTreeMap<Key, u64> = snapshot.into_iter().collect();
        for (k, v) in delta {
            map.insert(k, v);
        }
        map.into_iter()
            .filter_map(|(k, v)| EntryValue::unpack(v).ok().map(|v| (k, v)))
            .collect()
    }

    fn key(n: u16) -> Key {
        Key::new(Kind::Qq, &format!("{}", 10_000 + u32::from(n)))
    }

    proptest! {
        #[test]
        fn apply_delta_matches_the_vector_merge(
            snap in proptest::collection::btree_map(0u16..400, 1u64..1024, 0..120),
            delta in proptest::collection::btree_map(0u16..400, 0u64..1024, 0..40),
        ) {
            let snap: Vec<(Key, u64)> = snap
                .into_iter()
                .filter(|(_, v)| EntryValue::unpack(*v).is_ok())
                .map(|(k, v)| (key(k), v))
                .collect();
            let delta: Vec<(Key, u64)> = delta
                .into_iter()
                .filter(|(_, v)| *v == 0 || EntryValue::unpack(*v).is_ok())
                .map(|(k, v)| (key(k), v))
                .collect();
            let want = merge_vecs(snap.clone(), delta.clone());
            let got: Result<Vec<_>, ()> =
                ApplyDelta::new(snap.into_iter().map(Ok), delta).collect();
            prop_assert_eq!(got, Ok(want));
        }
    }

    #[test]
    fn apply_delta_passes_a_snapshot_error_on_and_stops() {
        let snap = vec![Ok((key(1), 5)), Err("broken"), Ok((key(3), 5))];
        let delta = vec![(key(0), 7), (key(2), 0), (key(4), 9)];
        let mut it = ApplyDelta::new(snap.into_iter(), delta);
        assert_eq!(it.next().map(|r| r.map(|e| e.0)), Some(Ok(key(0))));
        assert_eq!(it.next().map(|r| r.map(|e| e.0)), Some(Ok(key(1))));
        assert_eq!(it.next().map(|r| r.map(|e| e.0)), Some(Err("broken")));
    }
}
