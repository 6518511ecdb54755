//! The publisher: cuts release N from release N-1 and a batch of changes, and writes every file
//! a static server needs.
//!
//! ## Directory layout
//! ```text
//! <dir>/v1/manifest               the signed bundle (rotation chain + manifest): GET /v1/manifest
//! <dir>/artifacts/<sha256>.fsw     immutable wire artifacts, named by content
//! <dir>/publisher/state            the publisher's own state (never served)
//! ```
//! Serve `v1/` and `artifacts/` as static files; give `v1/manifest` a short cache lifetime and
//! an ETag, artifacts a long one (they never change under their name).
//!
//! ## Crash safety
//! Every file is written to a temporary name, fsynced, renamed and the directory fsynced. The
//! order is: artifacts, then the publisher state, then the manifest. A crash before the
//! manifest leaves the previous release served; the next run publishes the following number
//! (a skipped number is harmless: deltas carry absolute values). The same release number is
//! never signed twice with different content.
//!
//! ## Freshness
//! A manifest expires [`PublishConfig::validity_secs`] after it is cut. To keep phones fresh
//! when nothing changed, publish an empty batch: a new release with empty deltas.

use super::bytes::{FormatError, Reader, Writer};
use super::keys::{KeySet, SigningKey, hex, sha256};
use super::manifest::{ArtifactKind, ArtifactRef, Manifest, valid_list_id};
use super::signed::{Bundle, Envelope, PayloadType, RotationStatement};
use super::wire::{self, Compression, Limits};
use crate::digest::LtHash;
use crate::entry::{Change, EntryValue};
use crate::key::Key;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// How releases are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishConfig {
    /// Largest delta span: deltas from N-1, N-2, N-4 … N-`max_delta_span` are offered.
    pub max_delta_span: u64,
    /// A full snapshot is cut every this many releases (and at release 1). At most
    /// `max_delta_span`, so a delta always leads from the offered snapshot to the release.
    pub snapshot_interval: u64,
    /// How long a manifest stays fresh, in seconds.
    pub validity_secs: i64,
    /// Compression of artifacts; `None` keeps whichever is smaller per artifact.
    pub compression: Option<Compression>,
}

impl Default for PublishConfig {
    /// Spans up to 64, a snapshot every 32 releases, 2 days of validity, smaller-of compression.
    fn default() -> Self {
        PublishConfig {
            max_delta_span: 64,
            snapshot_interval: 32,
            validity_secs: 2 * 24 * 3600,
            compression: None,
        }
    }
}

/// Why publishing failed. The previous release stays served.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A file could not be written or read.
    #[error("publisher I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The publisher state or an artifact on disk is corrupt.
    #[error("publisher state: {0}")]
    Corrupt(String),
    /// The list id is not 1-64 bytes of `[a-z0-9._-]`, or the configuration is inconsistent.
    #[error("bad configuration: {0}")]
    Config(&'static str),
    /// No signing key was given.
    #[error("at least one signing key is needed")]
    NoSigner,
}

impl From<FormatError> for PublishError {
    fn from(e: FormatError) -> Self {
        PublishError::Corrupt(e.to_string())
    }
}

/// A publisher over one directory (see the module docs).
#[derive(Debug)]
pub struct Publisher {
    dir: PathBuf,
    list_id: String,
    config: PublishConfig,
    release: u64,
    state: BTreeMap<Key, EntryValue>,
    lthash: LtHash,
    /// Release → path of its span-1 delta, for the last `max_delta_span` releases.
    history: BTreeMap<u64, String>,
    snapshot: Option<ArtifactRef>,
    rotations: Vec<Envelope>,
    key_sequence: u64,
}

/// Writes `data` to `path` crash-safely: temp file, fsync, rename, fsync of the directory.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    crate::durable::write(path, data)
}

impl Publisher {
    /// Starts a new list at release 0 (empty) in `dir`.
    pub fn create(
        dir: &Path,
        list_id: &str,
        config: PublishConfig,
    ) -> Result<Publisher, PublishError> {
        if !valid_list_id(list_id.as_bytes()) {
            return Err(PublishError::Config(
                "list id must be 1-64 bytes of [a-z0-9._-]",
            ));
        }
        if config.max_delta_span == 0
            || config.snapshot_interval == 0
            || config.snapshot_interval > config.max_delta_span
            || config.validity_secs <= 0
        {
            return Err(PublishError::Config(
                "spans and intervals must be positive, snapshot interval <= max delta span",
            ));
        }
        Ok(Publisher {
            dir: dir.to_path_buf(),
            list_id: list_id.to_owned(),
            config,
            release: 0,
            state: BTreeMap::new(),
            lthash: LtHash::new(),
            history: BTreeMap::new(),
            snapshot: None,
            rotations: Vec::new(),
            key_sequence: 0,
        })
    }

    /// Reopens the publisher in `dir`.
    pub fn open(dir: &Path, config: PublishConfig) -> Result<Publisher, PublishError> {
        let bytes = fs::read(dir.join("publisher").join("state"))?;
        let mut r = Reader::new(&bytes);
        r.magic(b"FSPS", "publisher state")?;
        let list_id = String::from_utf8_lossy(r.short_bytes("list id")?).into_owned();
        let mut p = Publisher::create(dir, &list_id, config)?;
        p.release = r.u64("release")?;
        p.key_sequence = r.u64("key sequence")?;
        let nh = r.u32("history")?;
        for _ in 0..nh {
            let rel = r.u64("history release")?;
            let path = String::from_utf8_lossy(r.short_bytes("history path")?).into_owned();
            p.history.insert(rel, path);
        }
        let nr = r.u32("rotations")?;
        for _ in 0..nr {
            let len = r.u32("rotation length")? as usize;
            p.rotations
                .push(Envelope::decode(r.take(len, "rotation")?)?);
        }
        if r.u8("has snapshot")? == 1 {
            let from_release = r.u64("snapshot release")?;
            let size = r.u64("snapshot size")?;
            let sha = r.array("snapshot hash")?;
            let path = String::from_utf8_lossy(r.short_bytes("snapshot path")?).into_owned();
            p.snapshot = Some(ArtifactRef {
                kind: ArtifactKind::Snapshot,
                from_release,
                size,
                sha256: sha,
                path,
            });
        }
        let len = r.u64("state length")? as usize;
        let state = wire::decode(r.take(len, "state")?, None, &Limits::default())
            .map_err(|e| PublishError::Corrupt(e.to_string()))?;
        r.finish()?;
        for (k, v) in state.values() {
            p.lthash.add(k.as_bytes(), v.pack());
            p.state.insert(k, v);
        }
        Ok(p)
    }

    /// The last release cut.
    pub fn release(&self) -> u64 {
        self.release
    }

    /// The list id.
    pub fn list_id(&self) -> &str {
        &self.list_id
    }

    /// The full list at the last release.
    pub fn entries(&self) -> &BTreeMap<Key, EntryValue> {
        &self.state
    }

    /// The state digest of the list at the last release.
    pub fn state_digest(&self) -> [u8; 32] {
        self.lthash.digest().0
    }

    fn save_state(&self) -> Result<(), PublishError> {
        let mut w = Writer::new();
        w.bytes(b"FSPS");
        w.short_bytes(self.list_id.as_bytes());
        w.u64(self.release);
        w.u64(self.key_sequence);
        w.u32(self.history.len() as u32);
        for (rel, path) in &self.history {
            w.u64(*rel);
            w.short_bytes(path.as_bytes());
        }
        w.u32(self.rotations.len() as u32);
        for r in &self.rotations {
            let b = r.encode();
            w.u32(b.len() as u32);
            w.bytes(&b);
        }
        match &self.snapshot {
            Some(s) => {
                w.u8(1);
                w.u64(s.from_release);
                w.u64(s.size);
                w.bytes(&s.sha256);
                w.short_bytes(s.path.as_bytes());
            }
            None => w.u8(0),
        }
        let snap = wire::encode_snapshot(
            &self.list_id,
            self.release,
            self.state.iter(),
            Some(Compression::None),
        );
        w.u64(snap.len() as u64);
        w.bytes(&snap);
        write_atomic(&self.dir.join("publisher").join("state"), &w.into_bytes())?;
        Ok(())
    }

    fn write_artifact(
        &self,
        kind: ArtifactKind,
        from_release: u64,
        bytes: &[u8],
    ) -> Result<ArtifactRef, PublishError> {
        let sha = sha256(bytes);
        let path = format!("artifacts/{}.fsw", hex(&sha));
        let full = self.dir.join(&path);
        if !full.exists() {
            write_atomic(&full, bytes)?;
        }
        Ok(ArtifactRef {
            kind,
            from_release,
            size: bytes.len() as u64,
            sha256: sha,
            path,
        })
    }

    fn read_delta(&self, path: &str) -> Result<Vec<Change>, PublishError> {
        let bytes = fs::read(self.dir.join(path))?;
        let d = wire::decode(&bytes, None, &Limits::default())
            .map_err(|e| PublishError::Corrupt(e.to_string()))?;
        Ok(d.changes())
    }

    /// Hands trust to `next`: appends a rotation statement signed by `current_signers` (the
    /// keys trusted until now). Later manifests must be signed by keys of `next`.
    pub fn rotate(
        &mut self,
        current: &KeySet,
        next: KeySet,
        current_signers: &[&SigningKey],
    ) -> Result<(), PublishError> {
        if current_signers.is_empty() {
            return Err(PublishError::NoSigner);
        }
        let st = RotationStatement {
            list_id: self.list_id.clone(),
            sequence: self.key_sequence + 1,
            previous: current.fingerprint(),
            next,
        };
        self.rotations.push(Envelope::sign(
            PayloadType::Rotation,
            st.encode(),
            current_signers,
        ));
        self.key_sequence += 1;
        self.save_state()
    }

    /// Cuts the next release from `changes` (the last change to a key wins), signs its
    /// manifest with `signers` at time `now` (Unix seconds) and writes everything. Returns the
    /// new release number.
    pub fn publish(
        &mut self,
        changes: &[Change],
        signers: &[&SigningKey],
        now: i64,
    ) -> Result<u64, PublishError> {
        let manifest = self.prepare(changes, now)?;
        self.sign_and_write(&manifest, signers)?;
        Ok(manifest.release)
    }

    /// Cuts the next release and writes its artifacts and the publisher state, but not the
    /// manifest; returns the unsigned manifest. [`Publisher::publish`] = this + sign and write.
    /// Tests use it to forge manifests around real artifacts.
    pub fn prepare(&mut self, changes: &[Change], now: i64) -> Result<Manifest, PublishError> {
        let n = self.release + 1;
        let list = self.list_id.clone();
        let delta1 = wire::encode_delta(&list, n - 1, n, changes, self.config.compression);
        let d1 = self.write_artifact(ArtifactKind::Delta, n - 1, &delta1)?;
        // Apply to the full state and the digest.
        for c in changes {
            match c {
                Change::Upsert(k, v) => {
                    if let Some(old) = self.state.insert(k.clone(), *v) {
                        self.lthash.remove(k.as_bytes(), old.pack());
                    }
                    self.lthash.add(k.as_bytes(), v.pack());
                }
                Change::Remove(k) => {
                    if let Some(old) = self.state.remove(k) {
                        self.lthash.remove(k.as_bytes(), old.pack());
                    }
                }
            }
        }
        self.history.insert(n, d1.path.clone());
        let keep_from = n.saturating_sub(self.config.max_delta_span);
        self.history.retain(|r, _| *r > keep_from);
        let mut artifacts = Vec::new();
        // Skip deltas: bases N-2, N-4, N-8 … (N-1 is `d1`), clamped at release 0 (the empty
        // list), so some delta always starts at or before the offered snapshot.
        let mut bases: Vec<u64> = Vec::new();
        let mut span = 2u64;
        while span <= self.config.max_delta_span {
            let base = n.saturating_sub(span);
            if base < n - 1 && !bases.contains(&base) {
                bases.push(base);
            }
            if base == 0 {
                break;
            }
            span = span.saturating_mul(2);
        }
        for base in bases {
            let mut net: BTreeMap<Key, Option<EntryValue>> = BTreeMap::new();
            for rel in base + 1..=n {
                let path = self
                    .history
                    .get(&rel)
                    .ok_or_else(|| PublishError::Corrupt(format!("history lacks release {rel}")))?
                    .clone();
                for c in self.read_delta(&path)? {
                    match c {
                        Change::Upsert(k, v) => net.insert(k, Some(v)),
                        Change::Remove(k) => net.insert(k, None),
                    };
                }
            }
            let changes: Vec<Change> = net
                .into_iter()
                .map(|(k, v)| match v {
                    Some(v) => Change::Upsert(k, v),
                    None => Change::Remove(k),
                })
                .collect();
            let bytes = wire::encode_delta(&list, base, n, &changes, self.config.compression);
            artifacts.push(self.write_artifact(ArtifactKind::Delta, base, &bytes)?);
        }
        artifacts.push(d1);
        if self.snapshot.is_none() || n.is_multiple_of(self.config.snapshot_interval) || n == 1 {
            let bytes = wire::encode_snapshot(&list, n, self.state.iter(), self.config.compression);
            self.snapshot = Some(self.write_artifact(ArtifactKind::Snapshot, n, &bytes)?);
        }
        artifacts.sort_by_key(|a| (a.kind, a.from_release));
        if let Some(s) = &self.snapshot {
            artifacts.push(s.clone());
        }
        self.release = n;
        self.save_state()?;
        let manifest = Manifest {
            list_id: list,
            release: n,
            created_at: now,
            expires_at: now.saturating_add(self.config.validity_secs),
            state_digest: self.state_digest(),
            entry_count: self.state.len() as u64,
            artifacts,
        };
        Ok(manifest)
    }

    /// Signs `manifest` and writes the bundle (with the rotation chain) to `v1/manifest`.
    pub fn sign_and_write(
        &self,
        manifest: &Manifest,
        signers: &[&SigningKey],
    ) -> Result<Bundle, PublishError> {
        if signers.is_empty() {
            return Err(PublishError::NoSigner);
        }
        let bundle = Bundle {
            rotations: self.rotations.clone(),
            manifest: Envelope::sign(PayloadType::Manifest, manifest.encode(), signers),
        };
        write_atomic(&self.dir.join("v1").join("manifest"), &bundle.encode())?;
        Ok(bundle)
    }

    /// The rotation chain published so far.
    pub fn rotations(&self) -> &[Envelope] {
        &self.rotations
    }
}
