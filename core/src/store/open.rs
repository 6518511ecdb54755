//! Opening a store: creating an empty one (writers only), reading the live state, checking the
//! blocklist, entering the degraded state, and removing what interrupted writes left behind.

use super::user::{load_protected, load_user_lists};
use super::view::View;
use super::{DATABASE_FILE, Inner, Store, StoreError, StoreOptions, Writer, schema};
use crate::digest::LtHash;
use crate::durable;
use crate::entry::EntryValue;
use crate::key;
use crate::overlay::Overlay;
use crate::snapshot::{self, Snapshot, SnapshotError};
use crate::sync::meta;
use arc_swap::ArcSwap;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::fs::File;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// The one row of the `state` table.
pub(super) struct StateRow {
    pub(super) base_file: String,
    pub(super) next_base_id: u64,
    pub(super) list_version: u64,
    pub(super) digest: Vec<u8>,
    pub(super) log_floor: u64,
}

/// The blocklist as loaded from the base file and the overlay rows.
struct Blocklist {
    base: Snapshot,
    overlay: Overlay,
    lthash: LtHash,
    entries: u64,
}

/// The sync engine's record of the last accepted manifest, cleared when the list is found
/// damaged so that the next sync does not answer "up to date" but installs a full snapshot. The
/// rollback floor ([`meta::RELEASE`]), the list id, the trust state and the server's backoff stay.
const SYNC_META_CLEARED_ON_DAMAGE: [&str; 4] = [
    meta::MANIFEST,
    meta::ETAG,
    meta::EXPIRES_AT,
    meta::CREATED_AT,
];

impl Store {
    /// Opens the store in `dir` for reading and writing, creating the directory and an empty
    /// store if missing. For reading only, and to refuse a directory that holds no store, use
    /// [`Store::open_existing`].
    ///
    /// Cost: SQLite open, the full check of the base snapshot (every byte and its structure: see
    /// [`crate::snapshot`]; measured in `benches/REPORT.md`), loading the overlay (bounded by
    /// [`StoreOptions::max_overlay_len`]) and user lists, and folding the overlay into the digest
    /// to check it against the recorded one. Call it off the main thread (it does I/O).
    ///
    /// If a compaction was due and did not finish (the process was killed during it), the
    /// overlay is folded into a new base before `open` returns, once (a compaction's cost:
    /// `benches/REPORT.md`); later opens replay nothing.
    ///
    /// Fails with [`StoreError::Locked`] when another writing `Store` holds the directory.
    /// Damaged blocklist files do not fail the open: the store opens degraded (see the
    /// [module docs](super)), keeps every file, and clears the sync engine's manifest record.
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
        let row = match read_state(&conn)? {
            Some(row) => row,
            None => create_empty(dir, &conn)?,
        };
        if is_base_name(&row.base_file) {
            remove_stray_files(dir, Some(&row.base_file));
        }
        let (blocklist, unavailable) = load_or_degrade(&conn, dir, &row)?;
        if unavailable.is_some() {
            clear_sync_meta(&conn)?;
        }
        let view = live_view(&conn, &row, blocklist, unavailable, &options)?;
        let overlay_len = view.overlay.len();
        let compaction_due = compaction_due(&conn)?;
        let reader = Connection::open(dir.join(DATABASE_FILE))?;
        reader.busy_timeout(std::time::Duration::from_secs(5))?;
        let writer = Writer {
            conn,
            next_base_id: row.next_base_id,
            log_floor: row.log_floor,
            _lock: lock,
        };
        let store = Store::assemble(dir, view, Some(writer), reader, options);
        if overlay_len > 0 && (compaction_due || overlay_len > store.inner.options.max_overlay_len)
        {
            // A compaction was due and did not finish (a kill, or an older build that let the
            // overlay grow past the bound): redo it now, once, rather than replay this overlay
            // on every open until the next write. On this thread: a background thread would
            // hold the directory's lock after the caller dropped the store, so an app or a
            // command that reopens at once would find it locked.
            store.compact()?;
        }
        Ok(store)
    }

    /// Opens an existing store for reading only. Never creates or changes a file and takes no
    /// lock: it works while a writer in another process imports or syncs, and answers from the
    /// state committed when it opened. A directory that holds no store (missing, empty, a
    /// mistyped path) is refused with [`StoreError::NoStore`]. Damage opens it degraded, as
    /// [`Store::open`] does, but clears nothing (the next writer does). Writes fail with
    /// [`StoreError::ReadOnly`].
    pub fn open_existing(dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        let db = dir.join(DATABASE_FILE);
        if !db.is_file() {
            return Err(StoreError::NoStore);
        }
        let mut conn = Connection::open_with_flags(
            &db,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "query_only", true)?;
        let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == 0 {
            return Err(StoreError::NoStore);
        }
        if version != schema::SCHEMA_VERSION {
            return Err(schema::SchemaError::TooNew { found: version }.into());
        }
        let (row, blocklist, unavailable) = load_consistent(&mut conn, dir)?;
        let view = live_view(&conn, &row, blocklist, unavailable, &options)?;
        Ok(Store::assemble(dir, view, None, conn, options))
    }

    fn assemble(
        dir: &Path,
        view: View,
        writer: Option<Writer>,
        reader: Connection,
        options: StoreOptions,
    ) -> Store {
        Store {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                live: ArcSwap::from_pointee(view),
                reader: Mutex::new(reader),
                writer: writer.map(Mutex::new),
                options,
                compacting: AtomicBool::new(false),
            }),
        }
    }
}

/// Reads the state row and the blocklist it names as one consistent state, while a writer in
/// another process may replace the base file: if the named file vanished, the state moved on,
/// so read again (a few times at most; then the file is really missing).
fn load_consistent(
    conn: &mut Connection,
    dir: &Path,
) -> Result<(StateRow, Blocklist, Option<String>), StoreError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        // One read transaction: the state row and the overlay rows come from one commit.
        let tx = conn.transaction()?;
        let row = read_state(&tx)?.ok_or(StoreError::NoStore)?;
        match load_blocklist(&tx, dir, &row) {
            Err(StoreError::Snapshot(SnapshotError::Io(e)))
                if e.kind() == std::io::ErrorKind::NotFound && attempts < 4 =>
            {
                continue;
            }
            loaded => {
                let (blocklist, unavailable) = degrade_on_damage(loaded)?;
                return Ok((row, blocklist, unavailable));
            }
        }
    }
}

/// Whether a compaction recorded itself as due and no new base was named live since.
fn compaction_due(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM meta WHERE name = ?1",
            [super::COMPACTION_DUE],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub(super) fn read_state(conn: &Connection) -> Result<Option<StateRow>, StoreError> {
    let row = conn
        .query_row(
            "SELECT base_file, next_base_id, list_version, digest, log_floor FROM state WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((base_file, next, version, digest, floor)) = row else {
        return Ok(None);
    };
    let unsigned = |v: i64| {
        u64::try_from(v).map_err(|_| StoreError::Corrupt("negative number in state".to_string()))
    };
    Ok(Some(StateRow {
        base_file,
        next_base_id: unsigned(next)?,
        list_version: unsigned(version)?,
        digest,
        log_floor: unsigned(floor)?,
    }))
}

pub(super) fn base_name(id: u64) -> String {
    format!("base-{id:016x}.fst")
}

/// A fresh store: an empty base, list version 0.
fn create_empty(dir: &Path, conn: &Connection) -> Result<StateRow, StoreError> {
    remove_stray_files(dir, None);
    let name = base_name(0);
    let path = dir.join(&name);
    let tmp = durable::temp_path(&path);
    let header = snapshot::write_snapshot(&tmp, std::iter::empty::<(&[u8], u64)>())?;
    durable::rename(&tmp, &path)?;
    let digest = header.digest.0.to_vec();
    conn.execute(
        "INSERT INTO state (id, base_file, next_base_id, list_version, digest, log_floor)
         VALUES (1, ?1, 1, 0, ?2, 0)",
        params![name, digest],
    )?;
    Ok(StateRow {
        base_file: name,
        next_base_id: 1,
        list_version: 0,
        digest,
        log_floor: 0,
    })
}

/// The blocklist, or the empty placeholder and the reason it is unavailable.
fn load_or_degrade(
    conn: &Connection,
    dir: &Path,
    row: &StateRow,
) -> Result<(Blocklist, Option<String>), StoreError> {
    degrade_on_damage(load_blocklist(conn, dir, row))
}

/// Damage (a bad, missing or mismatching base file, a bad overlay row, a digest mismatch)
/// becomes the degraded state; anything else (SQLite failing) fails the open.
fn degrade_on_damage(
    loaded: Result<Blocklist, StoreError>,
) -> Result<(Blocklist, Option<String>), StoreError> {
    let reason = match loaded {
        Ok(b) => return Ok((b, None)),
        Err(StoreError::Snapshot(SnapshotError::Io(e)))
            if e.kind() == std::io::ErrorKind::NotFound =>
        {
            "the base snapshot file is missing".to_string()
        }
        Err(StoreError::Snapshot(e)) => format!("the base snapshot file is damaged ({e})"),
        Err(StoreError::Corrupt(why)) => format!("the blocklist is damaged ({why})"),
        Err(e) => return Err(e),
    };
    let empty = Blocklist {
        base: Snapshot::empty()?,
        overlay: Overlay::new(),
        lthash: LtHash::new(),
        entries: 0,
    };
    Ok((empty, Some(reason)))
}

fn clear_sync_meta(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("DELETE FROM meta WHERE name = ?1")?;
    for name in SYNC_META_CLEARED_ON_DAMAGE {
        stmt.execute([name])?;
    }
    Ok(())
}

fn live_view(
    conn: &Connection,
    row: &StateRow,
    blocklist: Blocklist,
    unavailable: Option<String>,
    options: &StoreOptions,
) -> Result<View, StoreError> {
    let digest = blocklist.lthash.digest();
    Ok(View {
        base: Arc::new(blocklist.base),
        overlay: Arc::new(blocklist.overlay),
        lthash: Arc::new(blocklist.lthash),
        digest,
        entries: blocklist.entries,
        // Nothing is answered from a damaged list, whatever version it claimed.
        list_version: if unavailable.is_some() {
            0
        } else {
            row.list_version
        },
        generation: 0,
        user: Arc::new(load_user_lists(conn)?),
        protected: Arc::new(load_protected(conn)?),
        policy: options.policy,
        unavailable: unavailable.map(Arc::from),
    })
}

/// Opens (and so fully checks) the base snapshot and folds the overlay rows into its lattice
/// hash; checks the result against the recorded digest.
fn load_blocklist(conn: &Connection, dir: &Path, row: &StateRow) -> Result<Blocklist, StoreError> {
    if !is_base_name(&row.base_file) {
        return Err(StoreError::Corrupt("base file name".to_string()));
    }
    let base = Snapshot::open(&dir.join(&row.base_file))?;
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
    if lthash.digest().0.as_slice() != row.digest.as_slice() {
        return Err(StoreError::Corrupt(
            "blocklist does not match the recorded state digest".to_string(),
        ));
    }
    Ok(Blocklist {
        base,
        overlay,
        lthash,
        entries,
    })
}

/// A base file name as the store writes them (a damaged database must not name `../x`).
fn is_base_name(name: &str) -> bool {
    name.strip_prefix("base-")
        .and_then(|n| n.strip_suffix(".fst"))
        .is_some_and(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Removes leftovers of interrupted writes: temp files, and base files the state does not name
/// (`keep`; `None` removes every base file, for a store being created). Writers only: a reader
/// would race a writer in another process. Not called when the state names no valid base file
/// (a damaged database): then no file can be told to be a leftover, and none is removed.
pub(super) fn remove_stray_files(dir: &Path, keep: Option<&str>) {
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
        let _ = durable::sync_dir(dir);
    }
}
