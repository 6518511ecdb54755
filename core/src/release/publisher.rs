//! The publisher: cuts release N from release N-1 and a batch of changes, and writes every file
//! a static server needs.
//!
//! ## Directory layout
//! ```text
//! <dir>/v1/manifest                       the signed bundle (rotation chain + manifest): GET /v1/manifest
//! <dir>/artifacts/<sha256>.fsw             immutable wire artifacts, named by content
//! <dir>/publisher/state                   the publisher's own state (never served)
//! <dir>/publisher/list-<release>.fsw      the full list at the last release (never served)
//! ```
//! Serve `v1/` and `artifacts/` as static files; give `v1/manifest` a short cache lifetime and
//! an ETag, artifacts a long one (they never change under their name).
//!
//! ## The rules
//! Every change of a batch is checked with [`crate::rules::check_change`] at
//! [`Rules::Publish`](crate::rules::Rules::Publish) level, the same function every client runs
//! before it applies a release, so the publisher never publishes what phones refuse. A batch
//! with any refused change is refused whole ([`PublishError::Refused`] names each change by its
//! index and says what was wrong, never the identifier) and nothing changes, in memory or on
//! disk. [`Publisher::preview`] answers the same question without publishing.
//!
//! ## All or nothing, crash-safe
//! [`Publisher::prepare`] validates the whole batch, then computes the next state aside (the
//! effective changes and the digest; the list itself is not copied), and writes in this order:
//! 1. the artifacts (content-named: a leftover from an interrupted run is harmless);
//! 2. the full list as `publisher/list-<release>.fsw`;
//! 3. the state file, by atomic rename: **the commit point**;
//! 4. only then the in-memory state changes.
//!
//! [`Publisher::publish`] then signs and writes `v1/manifest` last, atomically. A crash or an
//! error before step 3 leaves the publisher and the served release exactly as they were; one
//! between 3 and the manifest leaves the previous release served and the publisher one release
//! ahead: [`Publisher::resign`] serves it, or the next publish supersedes it (a skipped number
//! is harmless: deltas carry absolute values). The same release number is never cut twice.
//!
//! ## The state file (format version [`STATE_FORMAT_VERSION`])
//! `FSPB`, the format version (u8), the list id, the [`PublishConfig`], the release, the
//! key-rotation sequence, the span-1 delta of each recent release, the rotation chain, the
//! offered snapshot, the unsigned manifest of the release, the name, size and SHA-256 of the
//! list file, and a SHA-256 of everything before it. [`Publisher::open`] checks the magic, the
//! version (an unknown one is [`PublishError::UnsupportedState`]), the checksum
//! ([`PublishError::Corrupt`]), then the list file's size and hash, and that its digest is the
//! one the manifest announced. Re-signing and rotating rewrite only the small state file.
//!
//! ## Skip deltas
//! Besides the delta from release N-1, a release offers skip deltas from N-2, N-4, N-8 … (up
//! to [`PublishConfig::max_delta_span`]), so a phone that missed releases downloads one delta.
//! A skip delta that would span a release whose own delta is bigger than half the offered
//! snapshot is not cut: no client would take it over the snapshot, and after a release that
//! imported a whole list every publish would otherwise re-encode that list, most of the cost
//! of a publish (`benches/SERVER.md` measures it). When that leaves no delta from the offered
//! snapshot, a fresh snapshot is cut (below).
//!
//! ## Configuration
//! The [`PublishConfig`] given to [`Publisher::create`] is saved in the state file, and
//! [`Publisher::open`] uses the saved one: a caller cannot reopen a list with other spans by
//! mistake. [`Publisher::set_config`] changes it explicitly, effective from the next release;
//! any valid change is safe, because deltas are offered only where the publisher still holds
//! every release in between, and a fresh snapshot is cut whenever no offered delta leads from
//! the offered snapshot to the release.
//!
//! ## Freshness
//! A manifest expires [`PublishConfig::validity_secs`] after it is cut. When nothing changed,
//! [`Publisher::resign`] signs a fresh manifest for the same release (same state digest and
//! artifacts, new creation and expiry times); clients accept it as a refresh of the release
//! they hold. Publishing an empty batch (a new release with empty deltas) works too.
//!
//! ## Memory (measured, `core/tests/publisher_measure.rs`, release build, counting allocator)
//! The list is held as a `BTreeMap<Key, EntryValue>`. At 10M realistic entries a reopened
//! publisher holds 706 MB of heap (70.6 bytes per entry; open takes 27 s). Publishing a 1%
//! batch (100k changes) at release 2 took 32 s and peaked 1.69 GB above that: the skip delta
//! from release 0 is the whole list, rebuilt from the span-1 deltas on disk. The first
//! publish of the 10M list peaked 1.68 GB above the 470 MB batch it was given (106 s). Whole
//! process high-water mark: 3.07 GB. (Measured before the rule of *Skip deltas* above: that
//! whole-list skip delta is no longer cut; `benches/SERVER.md` has the server's figures.)

use super::bytes::{FormatError, Reader, Writer};
use super::keys::{KeySet, SigningKey, sha256};
use super::manifest::{ArtifactKind, ArtifactRef, Manifest, valid_artifact_path, valid_list_id};
use super::signed::{Bundle, Envelope, PayloadType, RotationStatement};
use super::wire::{self, Compression, Limits, WireHeader, WireKind};
use crate::digest::{LtHash, StateDigest};
use crate::entry::{Change, EntryValue};
use crate::key::Key;
use crate::rules::{self, ChangeError, Protected, Rules};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The version of the publisher's state file this build writes and reads.
pub const STATE_FORMAT_VERSION: u8 = 2;

const STATE_MAGIC: &[u8] = b"FSPB";
const STATE_FILE: &str = "state";
const STATE_DIR: &str = "publisher";

/// How releases are cut. Saved with the publisher's state (see the [module docs](self)).
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

impl PublishConfig {
    /// Checks that spans and intervals are positive, the snapshot interval is at most the
    /// largest span (at most 2^32), and the validity is positive.
    pub fn validate(&self) -> Result<(), PublishError> {
        if self.max_delta_span == 0
            || self.max_delta_span > 1 << 32
            || self.snapshot_interval == 0
            || self.snapshot_interval > self.max_delta_span
            || self.validity_secs <= 0
        {
            return Err(PublishError::Config(
                "spans and intervals must be positive, snapshot interval <= max delta span <= 2^32, \
                 validity positive",
            ));
        }
        Ok(())
    }
}

/// One change of a batch that breaks the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The 0-based position of the change in the batch.
    pub index: usize,
    /// What was wrong (never the identifier).
    pub error: ChangeError,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "change {}: {}", self.index, self.error)
    }
}

fn describe_refusals(refusals: &[Refusal]) -> String {
    match refusals {
        [] => "batch refused".to_string(),
        [one] => format!("batch refused: {one}"),
        [first, ..] => format!(
            "batch refused: {} changes break the rules, the first is {first}",
            refusals.len()
        ),
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
    /// The state file was written by another format version.
    #[error("publisher state format {found} is not supported (this build reads format {expected})")]
    UnsupportedState {
        /// The version found (0: a file from before versioning).
        found: u8,
        /// [`STATE_FORMAT_VERSION`].
        expected: u8,
    },
    /// The list id is not 1-64 bytes of `[a-z0-9._-]`, or the configuration is inconsistent.
    #[error("bad configuration: {0}")]
    Config(&'static str),
    /// No signing key was given.
    #[error("at least one signing key is needed")]
    NoSigner,
    /// [`Publisher::create`] found a publisher in the directory already.
    #[error("a publisher already exists in this directory")]
    AlreadyExists,
    /// [`Publisher::resign`] before the first release.
    #[error("nothing published yet: publish a release first")]
    NothingPublished,
    /// Changes of the batch break the rules; nothing was changed.
    #[error("{}", describe_refusals(.0))]
    Refused(Vec<Refusal>),
}

impl From<FormatError> for PublishError {
    fn from(e: FormatError) -> Self {
        PublishError::Corrupt(e.to_string())
    }
}

/// What a batch would do, from [`Publisher::preview`]. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The release the batch would become.
    pub release: u64,
    /// Keys the batch adds.
    pub added: u64,
    /// Keys whose value it changes.
    pub changed: u64,
    /// Keys it takes off the list.
    pub removed: u64,
    /// Changes that change nothing (the same value again, a removal of an absent key, or a
    /// change overridden by a later change to the same key in the batch).
    pub unchanged: u64,
    /// Entries on the list after the batch.
    pub entries_after: u64,
    /// The state digest after the batch.
    pub state_digest: StateDigest,
    /// Changes that break the rules: while not empty, publishing refuses the whole batch.
    /// The counts above cover the other changes.
    pub refusals: Vec<Refusal>,
}

/// What [`Publisher::publish`] or [`Publisher::resign`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReport {
    /// The release now served.
    pub release: u64,
    /// Keys added, changed and removed by the release (0 for a re-sign).
    pub added: u64,
    /// See `added`.
    pub changed: u64,
    /// See `added`.
    pub removed: u64,
    /// Entries on the list.
    pub entries: u64,
    /// The state digest of the list.
    pub state_digest: StateDigest,
    /// When the manifest expires (Unix seconds).
    pub expires_at: i64,
    /// Every artifact the manifest offers, with its size.
    pub artifacts: Vec<ArtifactRef>,
    /// Bytes of artifacts written by this call (artifacts already present are not rewritten).
    pub new_artifact_bytes: u64,
    /// Size of the signed manifest bundle (`v1/manifest`).
    pub manifest_bytes: u64,
}

/// The list file: the full list at the last release, a wire snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListFile {
    name: String,
    size: u64,
    sha256: [u8; 32],
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
    /// The unsigned manifest of the last release (`None` at release 0).
    manifest: Option<Manifest>,
    list_file: ListFile,
    protected: Protected,
}

/// The next state, computed aside: nothing of the publisher changed yet.
struct Next {
    release: u64,
    /// Effective changes, by key: `None` removes.
    net: BTreeMap<Key, Option<EntryValue>>,
    lthash: LtHash,
    entries: u64,
    added: u64,
    changed: u64,
    removed: u64,
    unchanged: u64,
}

/// Writes `data` to `path` crash-safely: temp file, fsync, rename, fsync of the directory.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    crate::durable::write(path, data)
}

/// The entries of `state` with `net` applied, in key order, without copying the list.
fn merged<'a>(
    state: &'a BTreeMap<Key, EntryValue>,
    net: &'a BTreeMap<Key, Option<EntryValue>>,
) -> impl Iterator<Item = (&'a Key, &'a EntryValue)> + 'a {
    let mut a = state.iter().peekable();
    let mut b = net.iter().peekable();
    std::iter::from_fn(move || {
        loop {
            let take_net = match (a.peek(), b.peek()) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((ka, _)), Some((kb, _))) => {
                    if ka == kb {
                        a.next();
                        true
                    } else {
                        kb < ka
                    }
                }
            };
            if take_net {
                match b.next() {
                    Some((k, Some(v))) => return Some((k, v)),
                    Some((_, None)) => continue,
                    None => return None,
                }
            }
            return a.next();
        }
    })
}

fn list_file_name(release: u64) -> String {
    format!("list-{release:016x}.fsw")
}

fn net_changes(net: &BTreeMap<Key, Option<EntryValue>>) -> Vec<Change> {
    net.iter()
        .map(|(k, v)| match v {
            Some(v) => Change::Upsert(k.clone(), *v),
            None => Change::Remove(k.clone()),
        })
        .collect()
}

impl Publisher {
    /// Starts a new list at release 0 (empty) in `dir`, and saves it with `config`.
    ///
    /// Fails with [`PublishError::AlreadyExists`] when `dir` holds a publisher already (use
    /// [`Publisher::open`]).
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
        config.validate()?;
        let state_path = dir.join(STATE_DIR).join(STATE_FILE);
        if state_path.exists() {
            return Err(PublishError::AlreadyExists);
        }
        let empty = BTreeMap::new();
        let mut p = Publisher {
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
            manifest: None,
            list_file: ListFile {
                name: String::new(),
                size: 0,
                sha256: [0; 32],
            },
            protected: Protected::builtin(),
        };
        p.list_file = p.write_list(0, merged(&p.state, &empty))?;
        p.save_state()?;
        Ok(p)
    }

    /// Reopens the publisher in `dir` with its saved configuration, checking the state file's
    /// format version and checksum and the list file's size, hash and digest.
    pub fn open(dir: &Path) -> Result<Publisher, PublishError> {
        let bytes = fs::read(dir.join(STATE_DIR).join(STATE_FILE))?;
        let mut r = Reader::new(&bytes);
        if r.magic(STATE_MAGIC, "publisher state").is_err() {
            let found = if bytes.starts_with(b"FSPS") {
                0
            } else {
                u8::MAX
            };
            return Err(if found == 0 {
                PublishError::UnsupportedState {
                    found,
                    expected: STATE_FORMAT_VERSION,
                }
            } else {
                PublishError::Corrupt("not a publisher state file (wrong magic bytes)".into())
            });
        }
        let version = r.u8("state format")?;
        if version != STATE_FORMAT_VERSION {
            return Err(PublishError::UnsupportedState {
                found: version,
                expected: STATE_FORMAT_VERSION,
            });
        }
        if bytes.len() < 32 + r.position() {
            return Err(PublishError::Corrupt("state file truncated".into()));
        }
        let (content, sum) = bytes.split_at(bytes.len() - 32);
        if sha256(content) != sum {
            return Err(PublishError::Corrupt(
                "state file checksum mismatch (damaged or truncated file)".into(),
            ));
        }
        let mut r = Reader::new(content);
        r.magic(STATE_MAGIC, "publisher state")?;
        r.u8("state format")?;
        let list_id = String::from_utf8_lossy(r.short_bytes("list id")?).into_owned();
        if !valid_list_id(list_id.as_bytes()) {
            return Err(PublishError::Corrupt("invalid list id".into()));
        }
        let config = PublishConfig {
            max_delta_span: r.u64("max delta span")?,
            snapshot_interval: r.u64("snapshot interval")?,
            validity_secs: r.i64("validity")?,
            compression: match r.u8("compression")? {
                0 => None,
                1 => Some(Compression::None),
                2 => Some(Compression::Zlib),
                _ => return Err(PublishError::Corrupt("unknown compression".into())),
            },
        };
        config.validate()?;
        let release = r.u64("release")?;
        if release == u64::MAX {
            // `plan` adds one: no release could ever be cut after this one.
            return Err(PublishError::Corrupt(
                "release number has no successor".into(),
            ));
        }
        let key_sequence = r.u64("key sequence")?;
        let mut history = BTreeMap::new();
        for _ in 0..r.u32("history")? {
            let rel = r.u64("history release")?;
            let path = String::from_utf8_lossy(r.short_bytes("history path")?).into_owned();
            // `prepare` reads these files: never outside the publisher's directory.
            if !valid_artifact_path(path.as_bytes()) {
                return Err(PublishError::Corrupt(
                    "history path is not a safe relative path".into(),
                ));
            }
            history.insert(rel, path);
        }
        let mut rotations = Vec::new();
        for _ in 0..r.u32("rotations")? {
            let len = r.u32("rotation length")? as usize;
            rotations.push(Envelope::decode(r.take(len, "rotation")?)?);
        }
        let snapshot = match r.u8("has snapshot")? {
            0 => None,
            _ => {
                let from_release = r.u64("snapshot release")?;
                let size = r.u64("snapshot size")?;
                let sha256 = r.array("snapshot hash")?;
                let path = String::from_utf8_lossy(r.short_bytes("snapshot path")?).into_owned();
                Some(ArtifactRef {
                    kind: ArtifactKind::Snapshot,
                    from_release,
                    size,
                    sha256,
                    path,
                })
            }
        };
        let manifest = match r.u32("manifest length")? as usize {
            0 => None,
            len => Some(Manifest::decode(r.take(len, "manifest")?)?),
        };
        let list_file = ListFile {
            name: String::from_utf8_lossy(r.short_bytes("list file")?).into_owned(),
            size: r.u64("list size")?,
            sha256: r.array("list hash")?,
        };
        r.finish()?;
        if manifest.as_ref().map_or(0, |m| m.release) != release {
            return Err(PublishError::Corrupt(
                "manifest and release disagree".into(),
            ));
        }
        // Only the name this release's list is written under: never a path elsewhere.
        if list_file.name != list_file_name(release) {
            return Err(PublishError::Corrupt(
                "list file name does not match the release".into(),
            ));
        }

        let list = fs::read(dir.join(STATE_DIR).join(&list_file.name))?;
        if list.len() as u64 != list_file.size || sha256(&list) != list_file.sha256 {
            return Err(PublishError::Corrupt(
                "list file does not match its recorded size and hash".into(),
            ));
        }
        let expected = WireHeader {
            kind: WireKind::Snapshot,
            list_id: list_id.clone(),
            from_release: release,
            release,
            entry_count: 0,
        };
        let unlimited = Limits {
            max_body_bytes: u64::MAX,
            max_entries: u64::MAX,
        };
        let streamed = wire::decode_streamed(&list, Some(&expected), &unlimited)
            .map_err(|e| PublishError::Corrupt(format!("list file: {e}")))?;
        let mut lthash = LtHash::new();
        let mut state = BTreeMap::new();
        for e in streamed.entries() {
            let (k, packed) = e.map_err(|e| PublishError::Corrupt(format!("list file: {e}")))?;
            let v = EntryValue::unpack(packed)
                .map_err(|e| PublishError::Corrupt(format!("list file: {e}")))?;
            lthash.add(k.as_bytes(), packed);
            state.insert(k, v);
        }
        if let Some(m) = &manifest
            && (lthash.digest().0 != m.state_digest || state.len() as u64 != m.entry_count)
        {
            return Err(PublishError::Corrupt(
                "list file does not have the release's digest".into(),
            ));
        }
        Ok(Publisher {
            dir: dir.to_path_buf(),
            list_id,
            config,
            release,
            state,
            lthash,
            history,
            snapshot,
            rotations,
            key_sequence,
            manifest,
            list_file,
            protected: Protected::builtin(),
        })
    }

    /// The last release cut.
    pub fn release(&self) -> u64 {
        self.release
    }

    /// The list id.
    pub fn list_id(&self) -> &str {
        &self.list_id
    }

    /// The configuration in force (saved with the state).
    pub fn config(&self) -> PublishConfig {
        self.config
    }

    /// Changes the configuration from the next release on, and saves it. Any valid
    /// configuration is safe to switch to (see the [module docs](self#configuration)).
    pub fn set_config(&mut self, config: PublishConfig) -> Result<(), PublishError> {
        config.validate()?;
        let old = std::mem::replace(&mut self.config, config);
        if let Err(e) = self.save_state() {
            self.config = old;
            return Err(e);
        }
        Ok(())
    }

    /// The full list at the last release.
    pub fn entries(&self) -> &BTreeMap<Key, EntryValue> {
        &self.state
    }

    /// The state digest of the list at the last release.
    pub fn state_digest(&self) -> [u8; 32] {
        self.lthash.digest().0
    }

    /// The unsigned manifest of the last release (`None` before the first).
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// Vetoes `protected` (the built-in numbers plus the deployment's own, see
    /// [`Protected::with`]) in every later batch. Not saved: the caller keeps its list and sets
    /// it after each [`Publisher::open`]; the built-in numbers are always vetoed.
    pub fn set_protected(&mut self, protected: Protected) {
        self.protected = protected;
    }

    /// The rotation chain published so far.
    pub fn rotations(&self) -> &[Envelope] {
        &self.rotations
    }

    /// Checks `changes` and computes the next state aside. Refusals are collected for every
    /// change; the counts and digest cover the others.
    fn plan(&self, changes: &[Change]) -> (Next, Vec<Refusal>) {
        let rules = Rules::Publish {
            protected: &self.protected,
        };
        let mut refusals = Vec::new();
        let mut last: BTreeMap<&Key, Option<EntryValue>> = BTreeMap::new();
        for (index, c) in changes.iter().enumerate() {
            if let Err(error) = rules::check_change(c, rules) {
                refusals.push(Refusal { index, error });
                continue;
            }
            match c {
                Change::Upsert(k, v) => last.insert(k, Some(*v)),
                Change::Remove(k) => last.insert(k, None),
            };
        }
        let overridden = changes.len() - refusals.len() - last.len();
        let mut next = Next {
            release: self.release + 1,
            net: BTreeMap::new(),
            lthash: self.lthash.clone(),
            entries: self.state.len() as u64,
            added: 0,
            changed: 0,
            removed: 0,
            unchanged: overridden as u64,
        };
        for (k, new) in last {
            let old = self.state.get(k);
            match (old, new) {
                (None, None) => next.unchanged += 1,
                (Some(o), Some(n)) if *o == n => next.unchanged += 1,
                (None, Some(n)) => {
                    next.added += 1;
                    next.entries += 1;
                    next.lthash.add(k.as_bytes(), n.pack());
                    next.net.insert(k.clone(), Some(n));
                }
                (Some(o), Some(n)) => {
                    next.changed += 1;
                    next.lthash.remove(k.as_bytes(), o.pack());
                    next.lthash.add(k.as_bytes(), n.pack());
                    next.net.insert(k.clone(), Some(n));
                }
                (Some(o), None) => {
                    next.removed += 1;
                    next.entries -= 1;
                    next.lthash.remove(k.as_bytes(), o.pack());
                    next.net.insert(k.clone(), None);
                }
            }
        }
        (next, refusals)
    }

    /// What publishing `changes` would do: counts, entries and digest after, and every change
    /// that breaks the rules. Reads nothing from disk and changes nothing.
    pub fn preview(&self, changes: &[Change]) -> Preview {
        let (next, refusals) = self.plan(changes);
        Preview {
            release: next.release,
            added: next.added,
            changed: next.changed,
            removed: next.removed,
            unchanged: next.unchanged,
            entries_after: next.entries,
            state_digest: next.lthash.digest(),
            refusals,
        }
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
        if let Err(e) = self.save_state() {
            self.rotations.pop();
            self.key_sequence -= 1;
            return Err(e);
        }
        Ok(())
    }

    /// Cuts the next release from `changes` (the last change to a key wins), signs its
    /// manifest with `signers` at time `now` (Unix seconds) and writes everything, the manifest
    /// last. A refused batch changes nothing ([`PublishError::Refused`]).
    pub fn publish(
        &mut self,
        changes: &[Change],
        signers: &[&SigningKey],
        now: i64,
    ) -> Result<PublishReport, PublishError> {
        if signers.is_empty() {
            return Err(PublishError::NoSigner);
        }
        let (manifest, counts, new_bytes) = self.prepare_counted(changes, now)?;
        let bundle = self.sign_and_write(&manifest, signers)?;
        Ok(self.report(&manifest, counts, new_bytes, &bundle))
    }

    /// Signs a fresh manifest for the last release at time `now`: the same state digest and
    /// artifacts, new creation and expiry times. For keeping phones fresh when nothing changed.
    /// `now` may not be before the release's current creation time.
    pub fn resign(
        &mut self,
        signers: &[&SigningKey],
        now: i64,
    ) -> Result<PublishReport, PublishError> {
        if signers.is_empty() {
            return Err(PublishError::NoSigner);
        }
        let Some(current) = &self.manifest else {
            return Err(PublishError::NothingPublished);
        };
        if now < current.created_at {
            return Err(PublishError::Config(
                "re-sign time is before the release's creation time",
            ));
        }
        let manifest = Manifest {
            created_at: now,
            expires_at: now.saturating_add(self.config.validity_secs),
            ..current.clone()
        };
        let old = self.manifest.replace(manifest.clone());
        if let Err(e) = self.save_state() {
            self.manifest = old;
            return Err(e);
        }
        let bundle = self.sign_and_write(&manifest, signers)?;
        Ok(self.report(&manifest, (0, 0, 0), 0, &bundle))
    }

    fn report(
        &self,
        manifest: &Manifest,
        (added, changed, removed): (u64, u64, u64),
        new_artifact_bytes: u64,
        bundle: &Bundle,
    ) -> PublishReport {
        PublishReport {
            release: manifest.release,
            added,
            changed,
            removed,
            entries: manifest.entry_count,
            state_digest: StateDigest(manifest.state_digest),
            expires_at: manifest.expires_at,
            artifacts: manifest.artifacts.clone(),
            new_artifact_bytes,
            manifest_bytes: bundle.encode().len() as u64,
        }
    }

    /// Cuts the next release and writes its artifacts and the publisher state, but not the
    /// manifest; returns the unsigned manifest. [`Publisher::publish`] = this + sign and write.
    /// All or nothing (see the [module docs](self)). Tests use it to forge manifests around
    /// real artifacts.
    pub fn prepare(&mut self, changes: &[Change], now: i64) -> Result<Manifest, PublishError> {
        self.prepare_counted(changes, now).map(|(m, _, _)| m)
    }

    #[allow(clippy::type_complexity)]
    fn prepare_counted(
        &mut self,
        changes: &[Change],
        now: i64,
    ) -> Result<(Manifest, (u64, u64, u64), u64), PublishError> {
        let (next, refusals) = self.plan(changes);
        if !refusals.is_empty() {
            return Err(PublishError::Refused(refusals));
        }
        let n = next.release;
        let list = self.list_id.clone();
        let compression = self.config.compression;
        let mut new_bytes = 0u64;
        let delta1 = wire::encode_delta(&list, n - 1, n, &net_changes(&next.net), compression);
        let d1 = self.write_artifact(ArtifactKind::Delta, n - 1, &delta1, &mut new_bytes)?;
        let mut history = self.history.clone();
        history.insert(n, d1.path.clone());
        let keep_from = n.saturating_sub(self.config.max_delta_span);
        history.retain(|r, _| *r > keep_from);

        // Skip deltas: bases N-2, N-4, N-8 … (N-1 is `d1`), clamped at release 0 (the empty
        // list). A base is offered only while every release after it is in the history (after
        // a configuration change it may not be yet), and only while no release it spans has a
        // span-1 delta bigger than half the offered snapshot: a skip delta is about as big as
        // the biggest delta it merges, and a client takes a delta only when it costs at most
        // half the snapshot route (`sync::client`), so nobody would download it. This is the
        // release that imported a whole list: without the rule, each of the next
        // `max_delta_span` publishes re-encoded the whole list as skip deltas (see the module
        // docs, *Skip deltas*). Larger spans span that release too: the loop stops there.
        let useless = |size: u64| {
            self.snapshot
                .as_ref()
                .is_some_and(|s| size.saturating_mul(2) > s.size)
        };
        let mut artifacts = Vec::new();
        let mut oldest_base = n - 1;
        let mut span = 2u64;
        while span <= self.config.max_delta_span {
            let base = n.saturating_sub(span);
            if base < oldest_base {
                if !(base + 1..n).all(|r| history.contains_key(&r)) {
                    break;
                }
                if useless(d1.size)
                    || (base + 1..n).any(|r| self.artifact_size(&history[&r]).is_some_and(useless))
                {
                    break;
                }
                let mut net: BTreeMap<Key, Option<EntryValue>> = BTreeMap::new();
                for rel in base + 1..n {
                    for c in self.read_delta(&history[&rel])? {
                        match c {
                            Change::Upsert(k, v) => net.insert(k, Some(v)),
                            Change::Remove(k) => net.insert(k, None),
                        };
                    }
                }
                for (k, v) in &next.net {
                    net.insert(k.clone(), *v);
                }
                let bytes = wire::encode_delta(&list, base, n, &net_changes(&net), compression);
                artifacts.push(self.write_artifact(
                    ArtifactKind::Delta,
                    base,
                    &bytes,
                    &mut new_bytes,
                )?);
                oldest_base = base;
            }
            if base == 0 {
                break;
            }
            span = span.saturating_mul(2);
        }
        artifacts.push(d1);
        // A snapshot at release 1, every `snapshot_interval` releases, and whenever no offered
        // delta leads from the offered snapshot to this release.
        let snapshot = match &self.snapshot {
            Some(s)
                if n != 1
                    && !n.is_multiple_of(self.config.snapshot_interval)
                    && oldest_base <= s.from_release =>
            {
                s.clone()
            }
            _ => {
                let bytes =
                    wire::encode_snapshot(&list, n, merged(&self.state, &next.net), compression);
                self.write_artifact(ArtifactKind::Snapshot, n, &bytes, &mut new_bytes)?
            }
        };
        artifacts.sort_by_key(|a| (a.kind, a.from_release));
        artifacts.push(snapshot.clone());
        let manifest = Manifest {
            list_id: list,
            release: n,
            created_at: now,
            expires_at: now.saturating_add(self.config.validity_secs),
            state_digest: next.lthash.digest().0,
            entry_count: next.entries,
            artifacts,
        };
        let list_file = self.write_list(n, merged(&self.state, &next.net))?;

        // The commit point: the state file names release N and its list file.
        let old_list = self.list_file.name.clone();
        let committed = Publisher {
            dir: self.dir.clone(),
            list_id: self.list_id.clone(),
            config: self.config,
            release: n,
            state: BTreeMap::new(),
            lthash: LtHash::new(),
            history,
            snapshot: Some(snapshot),
            rotations: self.rotations.clone(),
            key_sequence: self.key_sequence,
            manifest: Some(manifest.clone()),
            list_file,
            protected: self.protected.clone(),
        };
        if let Err(e) = committed.save_state() {
            let _ = fs::remove_file(self.dir.join(STATE_DIR).join(&committed.list_file.name));
            return Err(e);
        }
        // Durable: now the in-memory state follows (nothing below can fail).
        let counts = (next.added, next.changed, next.removed);
        for (k, v) in next.net {
            match v {
                Some(v) => self.state.insert(k, v),
                None => self.state.remove(&k),
            };
        }
        let Publisher {
            release,
            history,
            snapshot,
            manifest: m,
            list_file,
            ..
        } = committed;
        self.release = release;
        self.lthash = next.lthash;
        self.history = history;
        self.snapshot = snapshot;
        self.manifest = m;
        self.list_file = list_file;
        if old_list != self.list_file.name {
            // Best effort: a leftover old list file is never read.
            let _ = fs::remove_file(self.dir.join(STATE_DIR).join(old_list));
        }
        Ok((manifest, counts, new_bytes))
    }

    /// Writes the full list at `release` as its list file (not yet named by the state file).
    fn write_list<'a>(
        &self,
        release: u64,
        entries: impl Iterator<Item = (&'a Key, &'a EntryValue)>,
    ) -> Result<ListFile, PublishError> {
        let bytes = wire::encode_snapshot(&self.list_id, release, entries, Some(Compression::None));
        let name = list_file_name(release);
        write_atomic(&self.dir.join(STATE_DIR).join(&name), &bytes)?;
        Ok(ListFile {
            name,
            size: bytes.len() as u64,
            sha256: sha256(&bytes),
        })
    }

    fn save_state(&self) -> Result<(), PublishError> {
        let mut w = Writer::new();
        w.bytes(STATE_MAGIC);
        w.u8(STATE_FORMAT_VERSION);
        w.short_bytes(self.list_id.as_bytes());
        w.u64(self.config.max_delta_span);
        w.u64(self.config.snapshot_interval);
        w.i64(self.config.validity_secs);
        w.u8(match self.config.compression {
            None => 0,
            Some(Compression::None) => 1,
            Some(Compression::Zlib) => 2,
        });
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
        match &self.manifest {
            Some(m) => {
                let b = m.encode();
                w.u32(b.len() as u32);
                w.bytes(&b);
            }
            None => w.u32(0),
        }
        w.short_bytes(self.list_file.name.as_bytes());
        w.u64(self.list_file.size);
        w.bytes(&self.list_file.sha256);
        let mut bytes = w.into_bytes();
        let sum = sha256(&bytes);
        bytes.extend_from_slice(&sum);
        write_atomic(&self.dir.join(STATE_DIR).join(STATE_FILE), &bytes)?;
        Ok(())
    }

    fn write_artifact(
        &self,
        kind: ArtifactKind,
        from_release: u64,
        bytes: &[u8],
        new_bytes: &mut u64,
    ) -> Result<ArtifactRef, PublishError> {
        let sha = sha256(bytes);
        let path = format!("artifacts/{}.fsw", crate::hex::encode(&sha));
        let full = self.dir.join(&path);
        if !full.exists() {
            write_atomic(&full, bytes)?;
            *new_bytes += bytes.len() as u64;
        }
        Ok(ArtifactRef {
            kind,
            from_release,
            size: bytes.len() as u64,
            sha256: sha,
            path,
        })
    }

    /// The size of an artifact on disk (`None` if it cannot be read: reading it will say why).
    fn artifact_size(&self, path: &str) -> Option<u64> {
        fs::metadata(self.dir.join(path)).ok().map(|m| m.len())
    }

    fn read_delta(&self, path: &str) -> Result<Vec<Change>, PublishError> {
        let bytes = fs::read(self.dir.join(path))?;
        let d = wire::decode(&bytes, None, &Limits::default())
            .map_err(|e| PublishError::Corrupt(e.to_string()))?;
        Ok(d.changes())
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
}
