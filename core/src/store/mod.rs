//! The on-device store: the blocklist, the user's own lists and the verdict policy, in one
//! directory, answering lookups in about a microsecond while updates land.
//!
//! ## What is in the directory
//!
//! | file | what |
//! |---|---|
//! | `base-<n>.fst` | the base snapshot ([`crate::snapshot`]), memory-mapped; never modified after it is renamed into place, a new base gets the next number |
//! | `state.sqlite` (+ `-wal`, `-shm`) | SQLite in WAL mode ([`schema`]): which base is live, list version, state digest, overlay rows, change log, user lists, protected numbers, meta |
//! | `lock` | held (advisory lock) while a writing [`Store`] has the directory open: one writer per directory, any number of readers |
//! | `*.tmp` | a snapshot being written; removed when a writer opens if a crash left one |
//!
//! ## Opening
//!
//! [`Store::open`] opens for writing and creates an empty store if the directory holds none;
//! [`Store::open_existing`] opens for reading only: it refuses a directory that holds no store
//! ([`StoreError::NoStore`]), never creates or changes a file, takes no lock and so works while a
//! writer in another process imports or syncs (SQLite in WAL mode lets readers read alongside the
//! writer; base files are never modified, only replaced). A read-only store answers from the
//! state it opened; reopen to see later writes.
//!
//! ## Damage: the degraded state
//!
//! Every byte of the base snapshot is checked when it is opened ([`crate::snapshot`]), and the
//! overlay rows are folded into the base's lattice hash and compared with the recorded digest.
//! If anything does not match, the store does **not** answer from the damaged list and does not
//! delete anything: it opens *degraded*. [`Status::degraded`] says why, every time, and every
//! lookup that reaches the blocklist answers [`Source::ListUnavailable`](crate::verdict::Source)
//! instead of "nothing matched" (protected numbers and the user's lists answer as usual). A
//! writer that opens a degraded store clears the sync engine's record of the last manifest (not
//! its rollback floor or trust state) so the next sync installs a full snapshot. The state is
//! left by installing a full snapshot or by committing a batch (a re-import), which then
//! replaces the whole list. [`Store::verify`] runs the full check on demand.
//!
//! ## Open cost does not grow with history
//!
//! The overlay is replayed on every open, so it is kept bounded: a commit that would leave more
//! than [`StoreOptions::max_overlay_len`] changes in it writes a new base instead, so no history
//! of commits and kills leaves more than that for an open to replay. A compaction records that it
//! is due (a `meta` row, durable before it writes anything) and the transaction that names its
//! new base live removes the record; a writer that opens a store whose record is still there (the
//! compaction was killed) redoes the compaction once, so the overlay a kill left is not replayed
//! on every later open. A writer that finds an overlay above the bound (an older build) compacts
//! it too.
//!
//! ## Reading
//!
//! The live state is an immutable value behind an [`arc_swap::ArcSwap`]: a lookup loads it
//! (no lock, no syscall), walks the base FST once and probes the small in-memory overlay.
//! Readers never wait for writers, and every answer comes from one state: the old one or the new
//! one, never a mix. [`Store::view`] pins one state for several lookups.
//!
//! ## Writing
//!
//! Writers take one mutex (readers never do). A batch of blocklist changes is first *staged*
//! (`Store::stage`: no I/O; validates keys and values, builds the new overlay in memory, updates
//! the [`LtHash`] per change and so the state digest, without a pass over the list), then
//! *committed* ([`Store::commit`]): one SQLite transaction writes the overlay rows, the list
//! version (which may not go backwards: [`StoreError::VersionBackwards`]), the digest, the change
//! log and the caller's meta values; once it is durable the new
//! state is swapped in. If the process dies before the commit, the old state is what reopens; after
//! it, the new one.
//!
//! A full snapshot ([`Store::install_snapshot`]) and a compaction ([`Store::compact`]) write a new
//! base file: temp file, fsync, full verification, rename, directory fsync, and only then the
//! SQLite transaction that names it live. Files the state does not name are removed when a writer
//! opens.
//!
//! ## Precedence and policy
//!
//! protected numbers > user allow list > user block list > exact entry > prefix rule > nothing;
//! the [`Policy`] maps the result and the call direction to an action. The
//! built-in protected numbers are [`BUILTIN_PROTECTED`]; an update can never block them.
//!
//! ```
//! use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
//! use fraudshield_core::identifier::normalize;
//! use fraudshield_core::kind::Kind;
//! use fraudshield_core::store::{Store, StoreOptions};
//! use fraudshield_core::verdict::{Action, Direction, Source};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
//! let id = normalize(Kind::Phone, "+86 138 0013 8000").unwrap();
//! let value = EntryValue { category: Category::PoliceImpersonation, risk: Risk::High,
//!                          reports: ReportBucket::from_count(12), prefix: false };
//! store.apply(&[Change::Upsert(id.key(), value)], 1).unwrap();
//!
//! let v = store.check(&id, Direction::Incoming);
//! assert_eq!((v.action, v.source, v.list_version), (Action::Block, Source::Exact, 1));
//! // Calling the number yourself: a warning, never a silent drop.
//! assert_eq!(store.check(&id, Direction::Outgoing).action, Action::Warn);
//! ```

mod call_directory;
#[doc(hidden)]
pub mod crash_point;
mod open;
pub mod schema;
mod user;
mod verify;
mod view;
mod write;

pub use call_directory::{CallDirectoryChanges, PhoneNumbers};

use crate::digest::{LtHash, StateDigest};
use crate::identifier::{Identifier, NormalizeError, normalize};
use crate::key::Key;
use crate::kind::Kind;
use crate::overlay::Overlay;
use crate::scan::{Finding, scan_text};
use crate::snapshot::SnapshotError;
use crate::verdict::{Direction, Policy, Verdict};
use arc_swap::ArcSwap;
use rusqlite::Connection;
use schema::SchemaError;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use view::View;

/// Phone numbers no update can block: emergency lines, the police anti-fraud line 96110 and the
/// official government hotlines (12345…), each with its source in [`crate::protected`].
pub use crate::protected::BUILTIN_PROTECTED;

/// Name of the SQLite file inside the store directory.
pub const DATABASE_FILE: &str = "state.sqlite";

/// How many list versions back the change log reaches (older loads need a full reload).
pub const CHANGE_LOG_VERSIONS: u64 = 64;

/// A batch changing more keys than this is not logged: Call Directory loads from before it
/// reload fully (a bulk import would otherwise double the database).
pub const CHANGE_LOG_MAX_BATCH: usize = 50_000;

/// The `meta` row that records a compaction as due: written before a compaction starts (and
/// with a commit that leaves the overlay above [`StoreOptions::auto_compact_overlay_len`]),
/// removed in the transaction that names a new base live. A writer that opens a store with the
/// row still there redoes the compaction that a kill interrupted.
const COMPACTION_DUE: &str = "store.compaction_due";

/// The largest list version a store records (SQLite integers are signed 64-bit).
pub const MAX_LIST_VERSION: u64 = i64::MAX as u64;

/// Why a store operation failed. Messages never contain an identifier.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file operation failed.
    #[error("store I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// SQLite failed.
    #[error("store database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The database schema could not be brought up to date.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A snapshot could not be written or read (includes unsorted or invalid snapshot entries).
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// Stored data does not match its recorded checksum or digest.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// Another writer changed the blocklist since `Store::stage`: stage again.
    #[error("the blocklist changed since these changes were staged")]
    Conflict,
    /// A full snapshot did not have the digest it was announced with. Nothing was changed.
    #[error("snapshot digest mismatch: expected {expected}, computed {found}")]
    DigestMismatch {
        /// The digest the caller expected (from a signed manifest).
        expected: StateDigest,
        /// The digest of the entries received.
        found: StateDigest,
    },
    /// A change in a batch is invalid (`index` is its 0-based position). Nothing was changed.
    #[error("invalid change at index {index}: {reason}")]
    InvalidChange {
        /// Position of the change in the batch.
        index: usize,
        /// What was wrong.
        reason: String,
    },
    /// A list version lower than the one the store holds. Nothing was changed.
    #[error("list version {given} is lower than the current list version {current}")]
    VersionBackwards {
        /// The list version the store holds.
        current: u64,
        /// The list version given.
        given: u64,
    },
    /// A list version above [`MAX_LIST_VERSION`]. Nothing was changed.
    #[error("list version is too large (at most {MAX_LIST_VERSION})")]
    VersionOutOfRange,
    /// Another writing `Store` (in this or another process) has the directory open.
    #[error("store directory is in use by another writer")]
    Locked,
    /// [`Store::open_existing`] found no store in the directory (a mistyped path?).
    #[error("no store in this directory")]
    NoStore,
    /// A write on a store opened with [`Store::open_existing`].
    #[error("the store was opened read-only")]
    ReadOnly,
    /// The built-in protected numbers cannot be removed.
    #[error("built-in protected numbers cannot be removed")]
    BuiltinProtected,
    /// A previous writer panicked while holding the write lock.
    #[error("store writer lock poisoned")]
    Poisoned,
}

/// Why [`Store::install_snapshot_from`] did not install. Either way nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum InstallFromError<E> {
    /// The entry source reported this error; the partial base file was removed.
    #[error("the snapshot source failed")]
    Source(E),
    /// The store failed, as [`Store::install_snapshot`] would.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Options for [`Store::open`] and [`Store::open_existing`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The verdict policy (see [`crate::verdict`]); changeable later with [`Store::set_policy`].
    pub policy: Policy,
    /// Compact in the background once the overlay holds more entries than this after a commit.
    /// `None`: never automatically (call [`Store::compact`] or
    /// [`Store::compact_in_background`]).
    pub auto_compact_overlay_len: Option<usize>,
    /// The most changes the overlay may hold once a commit is durable (every open replays the
    /// overlay: this bounds the cost of open). A commit that would exceed it writes a new base
    /// instead, on the committing thread; a writer opening a store with a larger overlay
    /// compacts it at once. Default 50 000.
    pub max_overlay_len: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            policy: Policy::default(),
            auto_compact_overlay_len: Some(50_000),
            max_overlay_len: 50_000,
        }
    }
}

/// Which user list an identifier is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum UserList {
    /// Always allowed (after protected numbers, before anything else).
    Allow,
    /// Always blocked (incoming) or warned (outgoing), unless protected or allowed.
    Block,
}

/// The state of the store, for `status` screens and the sync engine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Status {
    /// Blocklist entries (exact entries and prefix rules, base and overlay together).
    pub entries: u64,
    /// Entries in the base snapshot.
    pub base_entries: u64,
    /// Changes held in the overlay (additions, replacements, removals).
    pub overlay_len: usize,
    /// The blocklist release the state corresponds to (0: never updated, or degraded).
    pub list_version: u64,
    /// The state digest of the blocklist (hex in JSON).
    #[cfg_attr(feature = "serde", serde(serialize_with = "digest_hex"))]
    pub digest: StateDigest,
    /// Size of the base snapshot file in bytes.
    pub base_file_bytes: u64,
    /// Size of the SQLite files (database and WAL) in bytes.
    pub database_bytes: u64,
    /// Identifiers on the user's allow list.
    pub user_allowed: usize,
    /// Identifiers on the user's block list.
    pub user_blocked: usize,
    /// Protected numbers, built-in ones included.
    pub protected: usize,
    /// `Some(reason)` while the blocklist is unavailable because its files were found damaged
    /// (see the [module docs](self)): lookups answer
    /// [`Source::ListUnavailable`](crate::verdict::Source), nothing was deleted, and a full
    /// snapshot (the next sync) or a re-import repairs it. `None` when the list is sound.
    pub degraded: Option<String>,
}

#[cfg(feature = "serde")]
fn digest_hex<S: serde::Serializer>(d: &StateDigest, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_hex())
}

/// A batch of changes checked and applied to an in-memory copy of the state, ready for
/// `Store::commit` on the same store. Holds no lock and did no I/O. Its `Debug` output shows
/// counts and the digest, never keys.
#[derive(Clone)]
pub struct Staged {
    generation: u64,
    overlay: Overlay,
    /// Overlay rows to write: `None` deletes the row.
    rows: Vec<(Vec<u8>, Option<Option<u64>>)>,
    /// Effective changes for the change log: key → new value (`None`: removed).
    log: Vec<(Vec<u8>, Option<u64>)>,
    lthash: LtHash,
    entries: u64,
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged")
            .field("changed", &self.log.len())
            .field("entries", &self.entries)
            .field("digest", &self.lthash.digest())
            .finish()
    }
}

impl Staged {
    /// The state digest the blocklist will have once this batch is committed.
    pub fn digest(&self) -> StateDigest {
        self.lthash.digest()
    }

    /// How many keys actually change value (no-op upserts and removals of absent keys excluded).
    pub fn changed(&self) -> usize {
        self.log.len()
    }

    /// Blocklist entries after the batch.
    pub fn entries(&self) -> u64 {
        self.entries
    }
}

/// A pinned state: every lookup through it answers from the same list version.
#[derive(Clone)]
pub struct ReadView(pub(crate) Arc<View>);

impl ReadView {
    /// The verdict for an identifier (see [`Store::check`]).
    pub fn check(&self, id: &Identifier, direction: Direction) -> Verdict {
        self.0.check(id, direction)
    }

    /// The verdict for a blocklist key (see [`Store::check_key`]).
    pub fn check_key(&self, key: &Key, direction: Direction) -> Verdict {
        self.0.verdict_for_key(key.as_bytes(), direction)
    }

    /// The list version of this state.
    pub fn list_version(&self) -> u64 {
        self.0.list_version
    }

    /// The state digest of this state.
    pub fn digest(&self) -> StateDigest {
        self.0.digest
    }
}

/// What only a writing store holds.
struct Writer {
    conn: Connection,
    next_base_id: u64,
    log_floor: u64,
    _lock: File,
}

struct Inner {
    dir: PathBuf,
    live: ArcSwap<View>,
    /// `None` for a store opened with [`Store::open_existing`].
    writer: Option<Mutex<Writer>>,
    /// A second connection for reads that must not wait for a long write (a compaction holds
    /// the writer for its whole build; WAL lets this one read meanwhile).
    reader: Mutex<Connection>,
    options: StoreOptions,
    compacting: AtomicBool,
}

/// The on-device store. `Send + Sync`: share it as `Arc<Store>`; cloning is cheap too (it is
/// a handle). See the [module docs](self).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::VersionOutOfRange)
}

impl Store {
    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// `true` for a store opened with [`Store::open_existing`].
    pub fn is_read_only(&self) -> bool {
        self.inner.writer.is_none()
    }

    fn writer(&self) -> Result<MutexGuard<'_, Writer>, StoreError> {
        self.inner
            .writer
            .as_ref()
            .ok_or(StoreError::ReadOnly)?
            .lock()
            .map_err(|_| StoreError::Poisoned)
    }

    fn load(&self) -> arc_swap::Guard<Arc<View>> {
        self.inner.live.load()
    }

    fn load_full_view(&self) -> Arc<View> {
        self.inner.live.load_full()
    }

    /// Pins the current state: every lookup through the returned view answers from it.
    pub fn view(&self) -> ReadView {
        ReadView(self.inner.live.load_full())
    }

    /// The verdict for an identifier and a call direction. Never blocks, never fails, no I/O
    /// (pages of the base file may fault in on a cold start). While the store is degraded, a
    /// lookup that reaches the blocklist answers
    /// [`Source::ListUnavailable`](crate::verdict::Source).
    pub fn check(&self, id: &Identifier, direction: Direction) -> Verdict {
        self.load().check(id, direction)
    }

    /// The verdict for a blocklist key (for callers that already hold keys, such as the sync
    /// engine and tests). Same rules as [`Store::check`].
    pub fn check_key(&self, key: &Key, direction: Direction) -> Verdict {
        self.load().verdict_for_key(key.as_bytes(), direction)
    }

    /// Normalizes `raw` as `kind`, then [`Store::check`]s it.
    pub fn check_raw(
        &self,
        kind: Kind,
        raw: &str,
        direction: Direction,
    ) -> Result<Verdict, NormalizeError> {
        let id = normalize(kind, raw)?;
        Ok(self.check(&id, direction))
    }

    /// Finds every identifier in a message ([`crate::scan::scan_text`]) and checks each as
    /// incoming, all against the same state.
    pub fn check_text(&self, text: &str) -> Vec<(Finding, Verdict)> {
        let view = self.load();
        scan_text(text)
            .into_iter()
            .map(|f| {
                let v = view.check(&f.identifier, Direction::Incoming);
                (f, v)
            })
            .collect()
    }

    /// Counts, version, digest, sizes and the degraded state. Reads file sizes (a few `stat`
    /// calls).
    pub fn status(&self) -> Status {
        let view = self.load_full_view();
        let db = self.inner.dir.join(DATABASE_FILE);
        let wal = self.inner.dir.join(format!("{DATABASE_FILE}-wal"));
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let users = |list| view.user.values().filter(|l| **l == list).count();
        Status {
            entries: view.entries,
            base_entries: view.base.len(),
            overlay_len: view.overlay.len(),
            list_version: view.list_version,
            digest: view.digest,
            base_file_bytes: view.base.file_len(),
            database_bytes: size(&db) + size(&wal),
            user_allowed: users(UserList::Allow),
            user_blocked: users(UserList::Block),
            protected: view.protected.len(),
            degraded: view.unavailable.as_deref().map(str::to_string),
        }
    }

    /// The current list version (0 while degraded: nothing is answered from the list).
    pub fn list_version(&self) -> u64 {
        self.load().list_version
    }

    /// The current state digest.
    pub fn digest(&self) -> StateDigest {
        self.load().digest
    }

    /// Flagged phone numbers for the iOS Call Directory, as ascending integers (the E.164
    /// digits without `+`), each with its incoming verdict. Only numbers whose verdict comes
    /// from an exact entry or the user's block list are listed: no prefix rules (the Call
    /// Directory holds numbers only), no protected or user-allowed numbers, no short numbers
    /// without an E.164 form. Works in batches from a pinned state: memory stays small whatever
    /// the list size.
    pub fn phone_numbers_ascending(&self) -> PhoneNumbers {
        PhoneNumbers::new(self.load_full_view())
    }

    /// What changed for the Call Directory since `list_version` (the version its last load
    /// came from): an incremental list of updates, or [`CallDirectoryChanges::Reload`] when the
    /// change log no longer reaches back that far (after a full snapshot, a batch of more than
    /// [`CHANGE_LOG_MAX_BATCH`] changes, or more than [`CHANGE_LOG_VERSIONS`] versions).
    /// User-list edits are not in the log: after one, the app reloads its Call Directory fully.
    /// Waits for a running write (it reads the log and the state together).
    pub fn changes_since(&self, list_version: u64) -> Result<CallDirectoryChanges, StoreError> {
        if self.inner.writer.is_none() {
            let conn = self.inner.reader.lock().map_err(|_| StoreError::Poisoned)?;
            let view = self.load_full_view();
            let floor: i64 =
                conn.query_row("SELECT log_floor FROM state WHERE id = 1", [], |r| r.get(0))?;
            let floor = u64::try_from(floor).unwrap_or(u64::MAX);
            return call_directory::changes_since(&conn, floor, &view, list_version);
        }
        let w = self.writer()?;
        let view = self.load_full_view();
        call_directory::changes_since(&w.conn, w.log_floor, &view, list_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn store_is_send_and_sync() {
        assert_send_sync::<Store>();
        assert_send_sync::<ReadView>();
        assert_send_sync::<Staged>();
    }
}
