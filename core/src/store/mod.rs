//! The on-device store: the blocklist, the user's own lists and the verdict policy, in one
//! directory, answering lookups in about a microsecond while updates land.
//!
//! ## What is in the directory
//!
//! | file | what |
//! |---|---|
//! | `base-<n>.fst` | the base snapshot ([`crate::snapshot`]), memory-mapped; never modified after it is renamed into place, a new base gets the next number |
//! | `state.sqlite` (+ `-wal`, `-shm`) | SQLite in WAL mode ([`schema`]): which base is live, list version, state digest, overlay rows, change log, user lists, protected numbers, meta |
//! | `lock` | held (advisory lock) while a [`Store`] has the directory open: one writer per directory |
//! | `*.tmp` | a snapshot being written; removed on open if a crash left one |
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
//! ([`Store::stage`]: no I/O; validates keys and values, builds the new overlay in memory, updates
//! the [`LtHash`] per change and so the state digest, without a pass over the list), then
//! *committed* ([`Store::commit`]): one SQLite transaction writes the overlay rows, the list
//! version, the digest, the change log and the caller's meta values; once it is durable the new
//! state is swapped in. If the process dies before the commit, the old state is what reopens; after
//! it, the new one.
//!
//! A full snapshot ([`Store::install_snapshot`]) and a compaction ([`Store::compact`]) write a new
//! base file: temp file, fsync, full verification, rename, directory fsync, and only then the
//! SQLite transaction that names it live. Files the state does not name are removed on open.
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
pub mod schema;
mod view;

pub use call_directory::{CallDirectoryChanges, PhoneNumbers};

use crate::digest::{LtHash, StateDigest};
use crate::entry::{Change, EntryValue};
use crate::identifier::{Identifier, NormalizeError, normalize};
use crate::key::{self, Key};
use crate::kind::Kind;
use crate::overlay::Overlay;
use crate::scan::{Finding, scan_text};
use crate::snapshot::{self, Snapshot, SnapshotError};
use crate::verdict::{Direction, Policy, Verdict};
use arc_swap::ArcSwap;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use schema::SchemaError;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Another writer changed the blocklist since [`Store::stage`]: stage again.
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
    /// Another `Store` (in this or another process) has the directory open.
    #[error("store directory is in use by another process or Store")]
    Locked,
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

/// Options for [`Store::open`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The verdict policy (see [`crate::verdict`]); changeable later with [`Store::set_policy`].
    pub policy: Policy,
    /// Compact in the background once the overlay holds more entries than this after a commit.
    /// `None`: never automatically (call [`Store::compact`] or
    /// [`Store::compact_in_background`]).
    pub auto_compact_overlay_len: Option<usize>,
    /// When the blocklist files are found damaged on open (bad snapshot, digest mismatch),
    /// reset the blocklist to empty at list version 0 instead of failing, so the app keeps
    /// working (user lists and protected numbers still apply) and the next sync installs a full
    /// snapshot. [`Status::recovered_from_corruption`] tells. Default `true`.
    pub recover_corrupt_blocklist: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            policy: Policy::default(),
            auto_compact_overlay_len: Some(50_000),
            recover_corrupt_blocklist: true,
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

impl UserList {
    fn as_str(self) -> &'static str {
        match self {
            UserList::Allow => "allow",
            UserList::Block => "block",
        }
    }
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
    /// The blocklist release the state corresponds to (0: never updated).
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
    /// The blocklist was found damaged when the store was opened and was reset to empty
    /// (list version 0): a full snapshot is needed.
    pub recovered_from_corruption: bool,
}

#[cfg(feature = "serde")]
fn digest_hex<S: serde::Serializer>(d: &StateDigest, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_hex())
}

/// A batch of changes checked and applied to an in-memory copy of the state, ready for
/// [`Store::commit`] on the same store. Holds no lock and did no I/O. Its `Debug` output shows
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
pub struct ReadView(Arc<View>);

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

struct Writer {
    conn: Connection,
    next_base_id: u64,
    log_floor: u64,
    _lock: File,
}

struct Inner {
    dir: PathBuf,
    live: ArcSwap<View>,
    writer: Mutex<Writer>,
    /// A second connection for reads that must not wait for a long write (a compaction holds
    /// the writer for its whole build; WAL lets this one read meanwhile).
    reader: Mutex<Connection>,
    options: StoreOptions,
    compacting: AtomicBool,
    /// The blocklist was found corrupt on open and reset to empty.
    recovered: bool,
}

/// The on-device store. `Send + Sync`: share it as `Arc<Store>`; cloning is cheap too (it is
/// a handle). See the [module docs](self).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt("integer out of range".to_string()))
}

fn base_name(id: u64) -> String {
    format!("base-{id:016x}.fst")
}

/// Makes a rename or unlink in `dir` durable.
fn fsync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
    }
    Ok(())
}

fn protected_key(canonical: &str) -> Vec<u8> {
    Key::new(Kind::Phone, canonical).into_bytes()
}

fn check_change(index: usize, change: &Change) -> Result<(Vec<u8>, Option<u64>), StoreError> {
    let bytes = change.key().as_bytes();
    key::validate(bytes).map_err(|e| StoreError::InvalidChange {
        index,
        reason: e.to_string(),
    })?;
    match change {
        Change::Remove(_) => Ok((bytes.to_vec(), None)),
        Change::Upsert(k, v) => {
            if v.prefix && k.kind() != Kind::Phone {
                return Err(StoreError::InvalidChange {
                    index,
                    reason: "prefix rules exist only for phone numbers".to_string(),
                });
            }
            Ok((bytes.to_vec(), Some(v.pack())))
        }
    }
}

impl Store {
    /// Opens the store in `dir`, creating the directory and an empty store if missing.
    ///
    /// Cost: SQLite open, the snapshot header check and mmap (see [`crate::snapshot`] for what is
    /// checked on open), loading the overlay and user lists, and folding the overlay into the
    /// digest to check it against the recorded one. No pass over the base entries: cold open stays
    /// in milliseconds. Call it off the main thread anyway (it does I/O).
    ///
    /// Fails with [`StoreError::Locked`] when another `Store` holds the directory. Damaged
    /// blocklist files are reset (see [`StoreOptions::recover_corrupt_blocklist`]) or, with that
    /// option off, fail with [`StoreError::Corrupt`] / [`StoreError::Snapshot`].
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Locked),
            Err(std::fs::TryLockError::Error(e)) => return Err(StoreError::Io(e)),
        }
        let mut conn = Connection::open(dir.join(DATABASE_FILE))?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;

        type StateRow = (String, i64, i64, Vec<u8>, i64);
        let row: Option<StateRow> = conn
            .query_row(
                "SELECT base_file, next_base_id, list_version, digest, log_floor FROM state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let (base_file, next_base_id, list_version, recorded, log_floor) = match row {
            Some((f, n, v, d, l)) => (f, n as u64, v as u64, d, l as u64),
            None => {
                // A fresh store: an empty base, list version 0.
                remove_stray_files(dir, None);
                let name = base_name(0);
                let tmp = dir.join(format!("{name}.tmp"));
                let header = snapshot::write_snapshot(&tmp, std::iter::empty::<(&[u8], u64)>())?;
                std::fs::rename(&tmp, dir.join(&name))?;
                fsync_dir(dir)?;
                conn.execute(
                    "INSERT INTO state (id, base_file, next_base_id, list_version, digest, log_floor)
                     VALUES (1, ?1, 1, 0, ?2, 0)",
                    params![name, header.digest.0.to_vec()],
                )?;
                (name, 1, 0, header.digest.0.to_vec(), 0)
            }
        };
        remove_stray_files(dir, Some(&base_file));
        let mut next_base_id = next_base_id;
        let mut list_version = list_version;
        let mut log_floor = log_floor;
        let mut recovered = false;
        let (base, overlay, lthash, entries) =
            match load_blocklist(&conn, &dir.join(&base_file), &recorded) {
                Ok(loaded) => loaded,
                Err(StoreError::Corrupt(_) | StoreError::Snapshot(_))
                    if options.recover_corrupt_blocklist =>
                {
                    // Start over from an empty list at version 0; the sync engine fetches a full
                    // snapshot. User lists, protected numbers and meta values are kept.
                    let name = base_name(next_base_id);
                    let tmp = dir.join(format!("{name}.tmp"));
                    let header =
                        snapshot::write_snapshot(&tmp, std::iter::empty::<(&[u8], u64)>())?;
                    std::fs::rename(&tmp, dir.join(&name))?;
                    fsync_dir(dir)?;
                    next_base_id += 1;
                    let tx = conn.transaction()?;
                    tx.execute("DELETE FROM overlay", [])?;
                    tx.execute("DELETE FROM change_log", [])?;
                    tx.execute(
                        "UPDATE state SET base_file = ?1, next_base_id = ?2, list_version = 0,
                         digest = ?3, log_floor = 0 WHERE id = 1",
                        params![name, to_i64(next_base_id)?, header.digest.0.to_vec()],
                    )?;
                    tx.commit()?;
                    remove_stray_files(dir, Some(&name));
                    list_version = 0;
                    log_floor = 0;
                    recovered = true;
                    let base = Snapshot::open(&dir.join(&name))?;
                    (base, Overlay::new(), header.lthash, 0)
                }
                Err(e) => return Err(e),
            };
        let digest = lthash.digest();
        let reader = Connection::open(dir.join(DATABASE_FILE))?;
        reader.busy_timeout(std::time::Duration::from_secs(5))?;
        let user = load_user_lists(&conn)?;
        let protected = load_protected(&conn)?;
        let view = View {
            base: Arc::new(base),
            overlay: Arc::new(overlay),
            lthash: Arc::new(lthash),
            digest,
            entries,
            list_version,
            generation: 0,
            user: Arc::new(user),
            protected: Arc::new(protected),
            policy: options.policy,
        };
        Ok(Store {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                live: ArcSwap::from_pointee(view),
                reader: Mutex::new(reader),
                writer: Mutex::new(Writer {
                    conn,
                    next_base_id,
                    log_floor,
                    _lock: lock,
                }),
                options,
                compacting: AtomicBool::new(false),
                recovered,
            }),
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    fn writer(&self) -> Result<MutexGuard<'_, Writer>, StoreError> {
        self.inner.writer.lock().map_err(|_| StoreError::Poisoned)
    }

    fn load(&self) -> arc_swap::Guard<Arc<View>> {
        self.inner.live.load()
    }

    /// Pins the current state: every lookup through the returned view answers from it.
    pub fn view(&self) -> ReadView {
        ReadView(self.inner.live.load_full())
    }

    /// The verdict for an identifier and a call direction. Never blocks, never fails, no I/O
    /// (pages of the base file may fault in on a cold start).
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

    /// Counts, version, digest and sizes. Reads file sizes (a few `stat` calls).
    pub fn status(&self) -> Status {
        let view = self.load_full_view();
        let db = self.inner.dir.join(DATABASE_FILE);
        let wal = self.inner.dir.join(format!("{DATABASE_FILE}-wal"));
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        Status {
            entries: view.entries,
            base_entries: view.base.len(),
            overlay_len: view.overlay.len(),
            list_version: view.list_version,
            digest: view.digest,
            base_file_bytes: view.base.file_len(),
            database_bytes: size(&db) + size(&wal),
            user_allowed: view
                .user
                .values()
                .filter(|l| **l == UserList::Allow)
                .count(),
            user_blocked: view
                .user
                .values()
                .filter(|l| **l == UserList::Block)
                .count(),
            protected: view.protected.len(),
            recovered_from_corruption: self.inner.recovered,
        }
    }

    fn load_full_view(&self) -> Arc<View> {
        self.inner.live.load_full()
    }

    /// Swaps in a copy of the live view changed by `edit` (user lists, protected numbers,
    /// policy). Taking the writer guard proves no other writer swaps in between.
    fn replace_live(&self, _writer: &MutexGuard<'_, Writer>, edit: impl FnOnce(&mut View)) {
        let mut view = (*self.load_full_view()).clone();
        edit(&mut view);
        self.inner.live.store(Arc::new(view));
    }

    /// The current list version.
    pub fn list_version(&self) -> u64 {
        self.load().list_version
    }

    /// The current state digest.
    pub fn digest(&self) -> StateDigest {
        self.load().digest
    }

    /// Checks a batch and applies it to an in-memory copy of the state (no I/O, no lock held
    /// afterwards). Changes apply in order; a later change to the same key wins. The returned
    /// [`Staged`] knows the digest the state will have.
    ///
    /// Errors: [`StoreError::InvalidChange`] for a bad key or a prefix rule on a non-phone kind.
    pub fn stage(&self, changes: &[Change]) -> Result<Staged, StoreError> {
        let view = self.load_full_view();
        stage_on(&view, changes)
    }

    /// Commits a staged batch as list version `list_version`, with the caller's `meta` values,
    /// in one SQLite transaction; once durable, the new state becomes visible.
    ///
    /// Errors with [`StoreError::Conflict`] if the blocklist changed since [`Store::stage`] (the
    /// caller stages again). The list version is recorded as given: ordering and rollback rules
    /// are the sync engine's.
    pub fn commit(
        &self,
        staged: Staged,
        list_version: u64,
        meta: &[(&str, &[u8])],
    ) -> Result<(), StoreError> {
        let overlay_len;
        {
            let mut w = self.writer()?;
            let cur = self.load_full_view();
            if cur.generation != staged.generation {
                return Err(StoreError::Conflict);
            }
            let log_floor = w.log_floor;
            let tx = w.conn.transaction()?;
            write_overlay_rows(&tx, &staged.rows)?;
            let version = to_i64(list_version)?;
            let new_floor = if staged.log.len() > CHANGE_LOG_MAX_BATCH {
                // A bulk change: the Call Directory reloads fully; logging it would only bloat
                // the database.
                list_version
            } else {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO change_log (list_version, key, value) VALUES (?1, ?2, ?3)",
                )?;
                for (k, v) in &staged.log {
                    ins.execute(params![version, k, v.map(|v| v as i64)])?;
                }
                log_floor.max(list_version.saturating_sub(CHANGE_LOG_VERSIONS))
            };
            tx.execute(
                "DELETE FROM change_log WHERE list_version <= ?1",
                params![to_i64(new_floor)?],
            )?;
            let digest = staged.lthash.digest();
            tx.execute(
                "UPDATE state SET list_version = ?1, digest = ?2, log_floor = ?3 WHERE id = 1",
                params![version, digest.0.to_vec(), to_i64(new_floor)?],
            )?;
            write_meta(&tx, meta)?;
            tx.commit()?;
            w.log_floor = new_floor;
            overlay_len = staged.overlay.len();
            let view = View {
                overlay: Arc::new(staged.overlay),
                lthash: Arc::new(staged.lthash),
                digest,
                entries: staged.entries,
                list_version,
                generation: cur.generation + 1,
                ..(*cur).clone()
            };
            self.inner.live.store(Arc::new(view));
        }
        if self
            .inner
            .options
            .auto_compact_overlay_len
            .is_some_and(|max| overlay_len > max)
            && !self.inner.compacting.load(Ordering::Relaxed)
        {
            // Detached on purpose: the result is seen through status(); errors leave the old
            // state serving.
            drop(self.compact_in_background());
        }
        Ok(())
    }

    /// [`Store::stage`] then [`Store::commit`] with no meta values.
    pub fn apply(&self, changes: &[Change], list_version: u64) -> Result<(), StoreError> {
        let staged = self.stage(changes)?;
        self.commit(staged, list_version, &[])
    }

    /// Replaces the whole blocklist with `entries` (strictly ascending keys) as list version
    /// `list_version`.
    ///
    /// Builds a new base file (temp file, fsync), verifies it fully and checks its digest against
    /// `expected` **before** anything becomes live: on a mismatch the temp file is removed, the
    /// error is [`StoreError::DigestMismatch`] and the old state keeps serving. Then renames it
    /// into place, fsyncs the directory, and in one SQLite transaction names it live, clears the
    /// overlay and change log, and records the version, digest and `meta` values. User lists and
    /// protected numbers are kept.
    pub fn install_snapshot(
        &self,
        entries: impl IntoIterator<Item = (Key, EntryValue)>,
        list_version: u64,
        expected: Option<StateDigest>,
        meta: &[(&str, &[u8])],
    ) -> Result<(), StoreError> {
        self.install_entries(entries.into_iter(), list_version, expected, meta, &|| false)
    }

    /// [`Store::install_snapshot`] from a fallible source, such as entries decoded one at a time
    /// from a downloaded artifact, so that the whole list never has to sit in memory.
    ///
    /// The first `Err` from `entries` stops the build: the temp file is removed before it could
    /// be renamed, nothing is recorded, the old state keeps serving, and the error comes back as
    /// [`InstallFromError::Source`]. Any other failure is [`InstallFromError::Store`], exactly as
    /// from [`Store::install_snapshot`].
    pub fn install_snapshot_from<E>(
        &self,
        entries: impl IntoIterator<Item = Result<(Key, EntryValue), E>>,
        list_version: u64,
        expected: Option<StateDigest>,
        meta: &[(&str, &[u8])],
    ) -> Result<(), InstallFromError<E>> {
        let failed: std::cell::RefCell<Option<E>> = std::cell::RefCell::new(None);
        let source = entries.into_iter().map_while(|r| match r {
            Ok(e) => Some(e),
            Err(e) => {
                if let Ok(mut slot) = failed.try_borrow_mut() {
                    slot.get_or_insert(e);
                }
                None
            }
        });
        let is_failed = || failed.try_borrow().map_or(true, |f| f.is_some());
        let result = self.install_entries(source, list_version, expected, meta, &is_failed);
        if let Some(e) = failed.into_inner() {
            return Err(InstallFromError::Source(e));
        }
        result.map_err(InstallFromError::Store)
    }

    /// The body of [`Store::install_snapshot`]; `source_failed` is asked after the last entry
    /// was taken and before the new base can become live.
    fn install_entries(
        &self,
        entries: impl Iterator<Item = (Key, EntryValue)>,
        list_version: u64,
        expected: Option<StateDigest>,
        meta: &[(&str, &[u8])],
        source_failed: &dyn Fn() -> bool,
    ) -> Result<(), StoreError> {
        let mut w = self.writer()?;
        let entries = entries.map(|(k, v)| (k.into_bytes(), v.pack()));
        let (base, lthash) = self.write_base(&mut w, entries, expected, source_failed)?;
        let entries = base.len();
        let recorded = (|| -> Result<(), StoreError> {
            let next_base_id = to_i64(w.next_base_id)?;
            let tx = w.conn.transaction()?;
            tx.execute("DELETE FROM overlay", [])?;
            tx.execute("DELETE FROM change_log", [])?;
            let file_name = file_name_of(&base)?;
            tx.execute(
                "UPDATE state SET base_file = ?1, next_base_id = ?2, list_version = ?3, digest = ?4,
                 log_floor = ?3 WHERE id = 1",
                params![
                    file_name,
                    next_base_id,
                    to_i64(list_version)?,
                    base.header().digest.0.to_vec()
                ],
            )?;
            write_meta(&tx, meta)?;
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = recorded {
            // Not live: the new file must not linger (the next open would remove it anyway).
            let _ = std::fs::remove_file(base.path());
            return Err(e);
        }
        w.log_floor = list_version;
        let cur = self.load_full_view();
        let old_path = cur.base.path().to_path_buf();
        let view = View {
            digest: base.header().digest,
            base: Arc::new(base),
            overlay: Arc::new(Overlay::new()),
            lthash: Arc::new(lthash),
            entries,
            list_version,
            generation: cur.generation + 1,
            ..(*cur).clone()
        };
        self.inner.live.store(Arc::new(view));
        drop(cur);
        self.remove_old_base(&old_path);
        Ok(())
    }

    /// Writes a new base file from sorted entries, verifies it, renames it into place and fsyncs
    /// the directory. Does not touch SQLite. Bumps `next_base_id`.
    fn write_base<K: AsRef<[u8]>>(
        &self,
        w: &mut Writer,
        entries: impl Iterator<Item = (K, u64)>,
        expected: Option<StateDigest>,
        source_failed: &dyn Fn() -> bool,
    ) -> Result<(Snapshot, LtHash), StoreError> {
        let dir = &self.inner.dir;
        let name = base_name(w.next_base_id);
        let tmp = dir.join(format!("{name}.tmp"));
        let result = (|| {
            let header = snapshot::write_snapshot(&tmp, entries)?;
            if source_failed() {
                // The entries stopped early: the file holds a prefix of the list. The caller
                // reports the source's own error; this one only keeps the file from going live.
                return Err(StoreError::Corrupt(
                    "snapshot source failed before its end".to_string(),
                ));
            }
            if let Some(expected) = expected
                && expected != header.digest
            {
                return Err(StoreError::DigestMismatch {
                    expected,
                    found: header.digest,
                });
            }
            // Read back and check every byte before it can become live.
            let written = Snapshot::open(&tmp)?;
            written.verify_bytes()?;
            Ok(header)
        })();
        let header = match result {
            Ok(h) => h,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let path = dir.join(&name);
        std::fs::rename(&tmp, &path)?;
        fsync_dir(dir)?;
        w.next_base_id += 1;
        let base = Snapshot::open(&path)?;
        Ok((base, header.lthash))
    }

    fn remove_old_base(&self, old: &Path) {
        // Readers that still hold the old view keep their mapping: unlinking is safe on Unix.
        // A failure only leaves a file that the next open removes.
        let _ = std::fs::remove_file(old);
        let _ = fsync_dir(&self.inner.dir);
    }

    /// A named value stored with the state (written by [`Store::commit`] and
    /// [`Store::install_snapshot`], or [`Store::set_meta`]).
    ///
    /// Reads through a separate connection: it does not wait for a running compaction.
    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let r = self.inner.reader.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(
            r.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?,
        )
    }

    /// Stores named values on their own (durably, in one transaction).
    pub fn set_meta(&self, meta: &[(&str, &[u8])]) -> Result<(), StoreError> {
        let mut w = self.writer()?;
        let tx = w.conn.transaction()?;
        write_meta(&tx, meta)?;
        tx.commit()?;
        Ok(())
    }

    /// Folds the overlay into a new base snapshot, on the calling thread. The state (and digest)
    /// does not change; lookups keep being served throughout; other writers wait.
    ///
    /// The new base's digest, computed while writing it, must equal the live digest, or the new
    /// file is discarded and [`StoreError::Corrupt`] is returned.
    ///
    /// That full recomputation is kept on purpose, although the live lanes are already known:
    /// it is the only check that the merged entries (the old base's body, which open does not
    /// read, plus the overlay, through the merge) are the set the live digest names before a
    /// fresh checksum is sealed over them. Taking the lanes from the live state would turn damage
    /// to the old base, or a merge bug, into a new file whose checksum is valid and whose lanes do
    /// not describe its entries, seen only by a later [`Store::verify`]. Since digest format 2
    /// the element hash costs about a third of what it did, so the check stays affordable.
    pub fn compact(&self) -> Result<(), StoreError> {
        let mut w = self.writer()?;
        let cur = self.load_full_view();
        if cur.overlay.is_empty() {
            return Ok(());
        }
        let merged = call_directory::Merged::new(&cur);
        let (base, lthash) = self
            .write_base(&mut w, merged, Some(cur.digest), &|| false)
            .map_err(|e| match e {
                StoreError::DigestMismatch { .. } => {
                    StoreError::Corrupt("compacted base does not match the live digest".to_string())
                }
                e => e,
            })?;
        let recorded = (|| -> Result<(), StoreError> {
            let next_base_id = to_i64(w.next_base_id)?;
            let tx = w.conn.transaction()?;
            tx.execute("DELETE FROM overlay", [])?;
            tx.execute(
                "UPDATE state SET base_file = ?1, next_base_id = ?2 WHERE id = 1",
                params![file_name_of(&base)?, next_base_id],
            )?;
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = recorded {
            let _ = std::fs::remove_file(base.path());
            return Err(e);
        }
        let old_path = cur.base.path().to_path_buf();
        let view = View {
            base: Arc::new(base),
            overlay: Arc::new(Overlay::new()),
            lthash: Arc::new(lthash),
            generation: cur.generation + 1,
            ..(*cur).clone()
        };
        self.inner.live.store(Arc::new(view));
        drop(cur);
        self.remove_old_base(&old_path);
        Ok(())
    }

    /// Runs [`Store::compact`] on a new thread (never the caller's). At most one background
    /// compaction runs at a time; a second call while one runs returns `Ok(())` at once. The
    /// thread holds a handle to the store: the directory stays locked until it finishes, even if
    /// every other handle is dropped.
    pub fn compact_in_background(&self) -> std::thread::JoinHandle<Result<(), StoreError>> {
        let store = self.clone();
        std::thread::spawn(move || {
            if store.inner.compacting.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
            let r = store.compact();
            store.inner.compacting.store(false, Ordering::Release);
            r
        })
    }

    /// Full integrity check against local damage or tampering: every byte of the base file
    /// (checksums), every entry (the digest recomputed from scratch over base + overlay), the
    /// overlay rows in SQLite against memory, the recorded digest, and SQLite's own
    /// `quick_check`. Costs a full read: run it in the background. Holds the write lock
    /// meanwhile (writers wait; readers do not).
    pub fn verify(&self) -> Result<(), StoreError> {
        let w = self.writer()?;
        let view = self.load_full_view();
        // Every byte of the base, then one pass over base + overlay: each entry valid, and the
        // digest recomputed from scratch equal to the live one (which, on open, was checked to
        // be the base header's plus the overlay's).
        view.base.verify_bytes()?;
        let (full, checked) = LtHash::compute(|sink| -> Result<(), StoreError> {
            for (n, (k, v)) in call_directory::Merged::new(&view).enumerate() {
                snapshot::check_entry(&k, v, n as u64)?;
                sink.add(&k, v);
            }
            Ok(())
        });
        checked?;
        if full != *view.lthash {
            return Err(StoreError::Corrupt(
                "blocklist entries do not match the live digest".to_string(),
            ));
        }
        let recorded: Vec<u8> =
            w.conn
                .query_row("SELECT digest FROM state WHERE id = 1", [], |r| r.get(0))?;
        if recorded.as_slice() != view.digest.0.as_slice() {
            return Err(StoreError::Corrupt(
                "recorded digest does not match the blocklist".to_string(),
            ));
        }
        let mut stmt = w
            .conn
            .prepare("SELECT key, value FROM overlay ORDER BY key")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<i64>>(1)?))
        })?;
        let mut mem = view.overlay.iter();
        for row in rows {
            let (k, v) = row?;
            match mem.next() {
                Some((mk, mv)) if mk == k.as_slice() && mv == v.map(|v| v as u64) => {}
                _ => {
                    return Err(StoreError::Corrupt(
                        "stored overlay differs from the live one".to_string(),
                    ));
                }
            }
        }
        if mem.next().is_some() {
            return Err(StoreError::Corrupt(
                "stored overlay differs from the live one".to_string(),
            ));
        }
        let check: String = w.conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(StoreError::Corrupt(
                "database quick_check failed".to_string(),
            ));
        }
        Ok(())
    }

    /// Changes the verdict policy; lookups use it from the next call. Not persisted: the app
    /// passes its policy in [`StoreOptions`] on every open.
    pub fn set_policy(&self, policy: Policy) -> Result<(), StoreError> {
        let w = self.writer()?;
        self.replace_live(&w, |view| view.policy = policy);
        Ok(())
    }

    fn set_user(&self, id: &Identifier, list: Option<UserList>) -> Result<bool, StoreError> {
        let mut w = self.writer()?;
        let key = id.key().into_bytes();
        let tx = w.conn.transaction()?;
        let n = match list {
            Some(l) => tx.execute(
                "INSERT INTO user_list (key, list) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET list = excluded.list",
                params![key, l.as_str()],
            )?,
            None => tx.execute("DELETE FROM user_list WHERE key = ?1", params![key])?,
        };
        tx.commit()?;
        self.replace_live(&w, |view| {
            let user = Arc::make_mut(&mut view.user);
            match list {
                Some(l) => {
                    user.insert(key, l);
                }
                None => {
                    user.remove(&key);
                }
            }
        });
        Ok(n > 0)
    }

    /// Puts an identifier on the user's allow list (replacing a block entry).
    pub fn allow_user(&self, id: &Identifier) -> Result<(), StoreError> {
        self.set_user(id, Some(UserList::Allow)).map(|_| ())
    }

    /// Puts an identifier on the user's block list (replacing an allow entry).
    pub fn block_user(&self, id: &Identifier) -> Result<(), StoreError> {
        self.set_user(id, Some(UserList::Block)).map(|_| ())
    }

    /// Takes an identifier off the user's lists; `true` if it was on one.
    pub fn remove_user_entry(&self, id: &Identifier) -> Result<bool, StoreError> {
        self.set_user(id, None)
    }

    /// Which user list an identifier is on, if any.
    pub fn user_entry(&self, id: &Identifier) -> Option<UserList> {
        self.load().user.get(id.key().as_bytes()).copied()
    }

    /// Protects an identifier (typically the user's bank or a family member's number): it is
    /// always allowed, whatever the blocklist or the user's block list say.
    pub fn add_protected(&self, id: &Identifier) -> Result<(), StoreError> {
        self.set_protected(id, true).map(|_| ())
    }

    /// Removes an app-added protected identifier; `true` if it was protected. The built-in
    /// numbers ([`BUILTIN_PROTECTED`]) cannot be removed.
    pub fn remove_protected(&self, id: &Identifier) -> Result<bool, StoreError> {
        self.set_protected(id, false)
    }

    fn set_protected(&self, id: &Identifier, protect: bool) -> Result<bool, StoreError> {
        let key = id.key().into_bytes();
        let builtin = BUILTIN_PROTECTED.iter().any(|c| {
            protected_key(c) == key
                || normalize(Kind::Phone, c).is_ok_and(|b| b.key().as_bytes() == key.as_slice())
        });
        if !protect && builtin {
            return Err(StoreError::BuiltinProtected);
        }
        let mut w = self.writer()?;
        let tx = w.conn.transaction()?;
        let n = if protect {
            tx.execute(
                "INSERT OR IGNORE INTO protected (key) VALUES (?1)",
                params![key],
            )?
        } else {
            tx.execute("DELETE FROM protected WHERE key = ?1", params![key])?
        };
        tx.commit()?;
        self.replace_live(&w, |view| {
            let protected = Arc::make_mut(&mut view.protected);
            if protect {
                protected.insert(key);
            } else {
                protected.remove(&key);
            }
        });
        Ok(n > 0)
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
        let w = self.writer()?;
        let view = self.load_full_view();
        call_directory::changes_since(&w.conn, w.log_floor, &view, list_version)
    }
}

/// Opens the base snapshot and folds the overlay rows into its lattice hash; checks the result
/// against the recorded digest.
fn load_blocklist(
    conn: &Connection,
    base_path: &Path,
    recorded: &[u8],
) -> Result<(Snapshot, Overlay, LtHash, u64), StoreError> {
    let base = Snapshot::open(base_path)?;
    let mut overlay = Overlay::new();
    let mut lthash = base.header().lthash.clone();
    let mut entries = base.len();
    let mut stmt = conn.prepare("SELECT key, value FROM overlay ORDER BY key")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<i64>>(1)?))
    })?;
    for row in rows {
        let (k, v) = row?;
        let v = v.and_then(|v| u64::try_from(v).ok().or(Some(u64::MAX)));
        if key::validate(&k).is_err() || v.is_some_and(|v| EntryValue::unpack(v).is_err()) {
            return Err(StoreError::Corrupt("invalid overlay row".to_string()));
        }
        if let Some(old) = base.get(&k) {
            lthash.remove(&k, old);
            entries = entries.saturating_sub(1);
        }
        if let Some(new) = v {
            lthash.add(&k, new);
            entries += 1;
        }
        overlay.set(&k, Some(v));
    }
    if lthash.digest().0.as_slice() != recorded {
        return Err(StoreError::Corrupt(
            "blocklist does not match the recorded state digest".to_string(),
        ));
    }
    Ok((base, overlay, lthash, entries))
}

fn file_name_of(base: &Snapshot) -> Result<String, StoreError> {
    base.path()
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| StoreError::Corrupt("base file name".to_string()))
}

fn stage_on(view: &View, changes: &[Change]) -> Result<Staged, StoreError> {
    let mut overlay = (*view.overlay).clone();
    let mut lthash = (*view.lthash).clone();
    let mut entries = view.entries;
    // key → value before the batch (first time the key is touched).
    let mut before: HashMap<Vec<u8>, Option<u64>> = HashMap::new();
    let mut order: Vec<Vec<u8>> = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        let (key, new) = check_change(index, change)?;
        let cur = match overlay.get(&key) {
            Some(v) => v,
            None => view.base.get(&key),
        };
        debug_assert!(before.contains_key(&key) || cur == view.effective(&key));
        if !before.contains_key(&key) {
            before.insert(key.clone(), cur);
            order.push(key.clone());
        }
        if cur == new {
            continue;
        }
        if let Some(old) = cur {
            lthash.remove(&key, old);
            entries -= 1;
        }
        if let Some(v) = new {
            lthash.add(&key, v);
            entries += 1;
        }
        let base_v = view.base.get(&key);
        overlay.set(&key, if new == base_v { None } else { Some(new) });
    }
    let mut rows = Vec::new();
    let mut log = Vec::new();
    for key in order {
        let now = overlay.get(&key);
        let effective = match now {
            Some(v) => v,
            None => view.base.get(&key),
        };
        if before.get(&key) != Some(&effective) {
            log.push((key.clone(), effective));
        }
        rows.push((key, now));
    }
    Ok(Staged {
        generation: view.generation,
        overlay,
        rows,
        log,
        lthash,
        entries,
    })
}

fn write_overlay_rows(
    tx: &Transaction<'_>,
    rows: &[(Vec<u8>, Option<Option<u64>>)],
) -> Result<(), StoreError> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO overlay (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?;
    let mut delete = tx.prepare_cached("DELETE FROM overlay WHERE key = ?1")?;
    for (k, row) in rows {
        match row {
            Some(v) => {
                upsert.execute(params![k, v.map(|v| v as i64)])?;
            }
            None => {
                delete.execute(params![k])?;
            }
        }
    }
    Ok(())
}

fn write_meta(tx: &Transaction<'_>, meta: &[(&str, &[u8])]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO meta (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?;
    for (name, value) in meta {
        stmt.execute(params![name, value])?;
    }
    Ok(())
}

fn load_user_lists(conn: &Connection) -> Result<HashMap<Vec<u8>, UserList>, StoreError> {
    let mut stmt = conn.prepare("SELECT key, list FROM user_list")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (k, l) = row?;
        let list = if l == "allow" {
            UserList::Allow
        } else {
            UserList::Block
        };
        out.insert(k, list);
    }
    Ok(out)
}

fn load_protected(conn: &Connection) -> Result<HashSet<Vec<u8>>, StoreError> {
    let mut out: HashSet<Vec<u8>> = BUILTIN_PROTECTED.iter().map(|c| protected_key(c)).collect();
    // Also whatever form the normalizer gives these numbers, so a lookup of "110" is protected
    // even if the canonical rules for short numbers ever change.
    for c in BUILTIN_PROTECTED {
        if let Ok(id) = normalize(Kind::Phone, c) {
            out.insert(id.key().into_bytes());
        }
    }
    let mut stmt = conn.prepare("SELECT key FROM protected")?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    for row in rows {
        out.insert(row?);
    }
    Ok(out)
}

/// Removes leftovers of interrupted writes: temp files, and base files the state does not name
/// (`keep`; `None` removes every base file, for a store being created).
fn remove_stray_files(dir: &Path, keep: Option<&str>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut removed = false;
    for entry in read.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stray = name.starts_with("base-")
            && (name.ends_with(".tmp") || (name.ends_with(".fst") && Some(name) != keep));
        if stray {
            removed |= std::fs::remove_file(entry.path()).is_ok();
        }
    }
    if removed {
        let _ = fsync_dir(dir);
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
