//! The write path: staging and committing batches, installing full snapshots, compaction, and
//! the meta values other components commit with the state.

use super::call_directory::Merged;
use super::crash_point;
use super::open::base_name;
use super::view::View;
use super::{
    CHANGE_LOG_MAX_BATCH, CHANGE_LOG_VERSIONS, COMPACTION_DUE, InstallFromError, MAX_LIST_VERSION,
    Staged, Store, StoreError, Writer, to_i64,
};
use crate::digest::{LtHash, StateDigest};
use crate::durable;
use crate::entry::{Change, EntryValue};
use crate::key::Key;
use crate::overlay::Overlay;
use crate::snapshot::{self, Snapshot};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

/// Named values committed with the state (see [`Store::set_meta`]).
type Meta<'a> = &'a [(&'a str, &'a [u8])];

/// A list version may not go backwards, nor exceed what SQLite stores.
fn check_version(current: u64, given: u64) -> Result<(), StoreError> {
    if given > MAX_LIST_VERSION {
        return Err(StoreError::VersionOutOfRange);
    }
    if given < current {
        return Err(StoreError::VersionBackwards { current, given });
    }
    Ok(())
}

impl Store {
    /// Checks a batch and applies it to an in-memory copy of the state (no I/O, no lock held
    /// afterwards). Changes apply in order; a later change to the same key wins. The returned
    /// [`Staged`] knows the digest the state will have. The sync engine's half of
    /// [`Store::apply`]: it compares the digest with the signed one before committing.
    ///
    /// Errors: [`StoreError::InvalidChange`] for a change [`crate::rules::Rules::Apply`] refuses
    /// (a bad key, a prefix rule on a non-phone kind or broader than the identifier rules allow).
    #[doc(hidden)]
    pub fn stage(&self, changes: &[Change]) -> Result<Staged, StoreError> {
        let view = self.load_full_view();
        stage_on(&view, changes)
    }

    /// Commits a staged batch as list version `list_version`, with the caller's `meta` values,
    /// in one SQLite transaction; once durable, the new state becomes visible. A batch that
    /// would leave more than [`super::StoreOptions::max_overlay_len`] changes in the overlay,
    /// or any batch while the store is degraded, is written as a new base instead (a degraded
    /// store's list is then exactly the batch: a re-import repairs it).
    ///
    /// Errors with [`StoreError::Conflict`] if the blocklist changed since [`Store::stage`] (the
    /// caller stages again), [`StoreError::VersionBackwards`] / [`StoreError::VersionOutOfRange`]
    /// for a version lower than the current one or above [`MAX_LIST_VERSION`].
    #[doc(hidden)]
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
            check_version(cur.list_version, list_version)?;
            if cur.unavailable.is_some()
                || staged.overlay.len() > self.inner.options.max_overlay_len
            {
                return self.commit_as_base(&mut w, &cur, staged, list_version, meta);
            }
            self.commit_rows(&mut w, &staged, list_version, meta)?;
            overlay_len = staged.overlay.len();
            let view = View {
                digest: staged.lthash.digest(),
                overlay: Arc::new(staged.overlay),
                lthash: Arc::new(staged.lthash),
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

    /// The SQLite transaction of a commit through the overlay.
    fn commit_rows(
        &self,
        w: &mut Writer,
        staged: &Staged,
        list_version: u64,
        meta: &[(&str, &[u8])],
    ) -> Result<(), StoreError> {
        let version = to_i64(list_version)?;
        let tx = w.conn.transaction()?;
        write_overlay_rows(&tx, &staged.rows)?;
        let new_floor = if staged.log.len() > CHANGE_LOG_MAX_BATCH {
            // A bulk change: the Call Directory reloads fully; logging it would only bloat the
            // database.
            list_version
        } else {
            let mut ins = tx.prepare_cached(
                "INSERT INTO change_log (list_version, key, value) VALUES (?1, ?2, ?3)",
            )?;
            for (k, v) in &staged.log {
                ins.execute(params![version, k, v.map(|v| v as i64)])?;
            }
            w.log_floor
                .max(list_version.saturating_sub(CHANGE_LOG_VERSIONS))
        };
        tx.execute(
            "DELETE FROM change_log WHERE list_version <= ?1",
            params![to_i64(new_floor)?],
        )?;
        tx.execute(
            "UPDATE state SET list_version = ?1, digest = ?2, log_floor = ?3 WHERE id = 1",
            params![
                version,
                staged.lthash.digest().0.to_vec(),
                to_i64(new_floor)?
            ],
        )?;
        write_meta(&tx, meta)?;
        if self
            .inner
            .options
            .auto_compact_overlay_len
            .is_some_and(|max| staged.overlay.len() > max)
        {
            // The background compaction this commit starts may never finish (the process can
            // be killed first): the next writer that opens redoes it.
            write_meta(&tx, &[(COMPACTION_DUE, &[])])?;
        }
        tx.commit()?;
        w.log_floor = new_floor;
        Ok(())
    }

    /// A commit written as a new base: the merged entries (current base + staged overlay) go to
    /// a new file, checked against the staged digest, then one transaction names it live.
    fn commit_as_base(
        &self,
        w: &mut MutexGuard<'_, Writer>,
        cur: &View,
        staged: Staged,
        list_version: u64,
        meta: &[(&str, &[u8])],
    ) -> Result<(), StoreError> {
        let digest = staged.lthash.digest();
        let next = View {
            overlay: Arc::new(staged.overlay),
            lthash: Arc::new(staged.lthash),
            digest,
            entries: staged.entries,
            list_version,
            generation: cur.generation + 1,
            unavailable: None,
            ..cur.clone()
        };
        let (base, lthash) = self
            .write_base(w, Merged::new(&next), Some(digest), &|| false)
            .map_err(compaction_mismatch)?;
        self.record_new_base(w, &base, Some((list_version, meta)))?;
        let old_path = cur.base.path().to_path_buf();
        let view = View {
            base: Arc::new(base),
            overlay: Arc::new(Overlay::new()),
            lthash: Arc::new(lthash),
            ..next
        };
        self.inner.live.store(Arc::new(view));
        self.remove_old_base(&old_path);
        Ok(())
    }

    /// Checks and commits a batch of blocklist changes as list version `list_version` (which may
    /// not be lower than the current one), durably, in one transaction: [`Store::stage`] then
    /// [`Store::commit`] with no meta values. Nothing is changed on an error.
    pub fn apply(&self, changes: &[Change], list_version: u64) -> Result<(), StoreError> {
        let staged = self.stage(changes)?;
        self.commit(staged, list_version, &[])
    }

    /// Replaces the whole blocklist with `entries` (strictly ascending keys) as list version
    /// `list_version` (not lower than the current one). Repairs a degraded store.
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
        check_version(self.load().list_version, list_version)?;
        let entries = entries.map(|(k, v)| (k.into_bytes(), v.pack()));
        let (base, lthash) = self.write_base(&mut w, entries, expected, source_failed)?;
        self.record_new_base(&mut w, &base, Some((list_version, meta)))?;
        let cur = self.load_full_view();
        let old_path = cur.base.path().to_path_buf();
        let view = View {
            digest: base.header().digest,
            entries: base.len(),
            base: Arc::new(base),
            overlay: Arc::new(Overlay::new()),
            lthash: Arc::new(lthash),
            list_version,
            generation: cur.generation + 1,
            unavailable: None,
            ..(*cur).clone()
        };
        self.inner.live.store(Arc::new(view));
        drop(cur);
        self.remove_old_base(&old_path);
        Ok(())
    }

    /// One transaction naming `base` live with an empty overlay. With `version`, also records
    /// the list version (the change log then starts over) and the meta values; without, the
    /// state is unchanged (a compaction). On failure the new file is removed.
    fn record_new_base(
        &self,
        w: &mut Writer,
        base: &Snapshot,
        version: Option<(u64, Meta<'_>)>,
    ) -> Result<(), StoreError> {
        let recorded = (|| -> Result<(), StoreError> {
            let file_name = file_name_of(base)?;
            let next_base_id = to_i64(w.next_base_id)?;
            let tx = w.conn.transaction()?;
            tx.execute("DELETE FROM overlay", [])?;
            tx.execute("DELETE FROM meta WHERE name = ?1", [COMPACTION_DUE])?;
            tx.execute(
                "UPDATE state SET base_file = ?1, next_base_id = ?2 WHERE id = 1",
                params![file_name, next_base_id],
            )?;
            if let Some((list_version, meta)) = version {
                tx.execute("DELETE FROM change_log", [])?;
                tx.execute(
                    "UPDATE state SET list_version = ?1, digest = ?2, log_floor = ?1 WHERE id = 1",
                    params![to_i64(list_version)?, base.header().digest.0.to_vec()],
                )?;
                write_meta(&tx, meta)?;
            }
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = recorded {
            // Not live: the new file must not linger (the next open would remove it anyway).
            let _ = std::fs::remove_file(base.path());
            return Err(e);
        }
        crash_point::reached(crash_point::RECORDED);
        if let Some((list_version, _)) = version {
            w.log_floor = list_version;
        }
        Ok(())
    }

    /// Writes a new base file from sorted entries, opens it (which checks every byte and its
    /// structure), renames it into place and fsyncs the directory. Does not touch SQLite. Bumps
    /// `next_base_id`.
    fn write_base<K: AsRef<[u8]>>(
        &self,
        w: &mut Writer,
        entries: impl Iterator<Item = (K, u64)>,
        expected: Option<StateDigest>,
        source_failed: &dyn Fn() -> bool,
    ) -> Result<(Snapshot, LtHash), StoreError> {
        let path = self.inner.dir.join(base_name(w.next_base_id));
        let tmp = durable::temp_path(&path);
        let mut count = 0u64;
        let entries = entries.inspect(|_| {
            count += 1;
            if count.is_multiple_of(crash_point::ENTRIES_EVERY) {
                crash_point::reached(crash_point::ENTRIES);
            }
        });
        let result = (|| {
            let header = snapshot::write_snapshot(&tmp, entries)?;
            crash_point::reached(crash_point::TEMP_WRITTEN);
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
            let checked = Snapshot::open(&tmp)?;
            crash_point::reached(crash_point::TEMP_CHECKED);
            durable::rename(&tmp, &path)?;
            crash_point::reached(crash_point::RENAMED);
            Ok((checked.renamed(path.clone()), header.lthash))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        let written = result?;
        w.next_base_id += 1;
        Ok(written)
    }

    fn remove_old_base(&self, old: &Path) {
        if old.as_os_str().is_empty() {
            // The placeholder of a degraded store: no file.
            return;
        }
        // Readers that still hold the old view keep their mapping: unlinking is safe on Unix.
        // A failure only leaves a file that the next open removes.
        let _ = std::fs::remove_file(old);
        let _ = durable::sync_dir(&self.inner.dir);
        crash_point::reached(crash_point::OLD_REMOVED);
    }

    /// A named value stored with the state (written by [`Store::commit`] and
    /// [`Store::install_snapshot`], or [`Store::set_meta`]): the sync engine's state.
    ///
    /// Reads through a separate connection: it does not wait for a running compaction.
    #[doc(hidden)]
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
    #[doc(hidden)]
    pub fn set_meta(&self, meta: &[(&str, &[u8])]) -> Result<(), StoreError> {
        let mut w = self.writer()?;
        let tx = w.conn.transaction()?;
        write_meta(&tx, meta)?;
        tx.commit()?;
        Ok(())
    }

    /// Folds the overlay into a new base snapshot, on the calling thread. The state (and digest)
    /// does not change; lookups keep being served throughout; other writers wait. A no-op when
    /// the overlay is empty (and while degraded).
    ///
    /// The new base's digest, computed while writing it, must equal the live digest, or the new
    /// file is discarded and [`StoreError::Corrupt`] is returned.
    ///
    /// That full recomputation is kept on purpose, although the live lanes are already known:
    /// it is the only check that the merged entries (the old base's body plus the overlay,
    /// through the merge) are the set the live digest names before a fresh checksum is sealed
    /// over them. Taking the lanes from the live state would turn a merge bug into a new file
    /// whose checksum is valid and whose lanes do not describe its entries, seen only by a later
    /// [`Store::verify`].
    pub fn compact(&self) -> Result<(), StoreError> {
        let mut w = self.writer()?;
        let cur = self.load_full_view();
        if cur.overlay.is_empty() || cur.unavailable.is_some() {
            return Ok(());
        }
        // Durable before the long part: a kill from here on leaves the row, and the next writer
        // that opens redoes the compaction instead of replaying this overlay on every open.
        let tx = w.conn.transaction()?;
        write_meta(&tx, &[(COMPACTION_DUE, &[])])?;
        tx.commit()?;
        crash_point::reached(crash_point::COMPACTION_DUE);
        let (base, lthash) = self
            .write_base(&mut w, Merged::new(&cur), Some(cur.digest), &|| false)
            .map_err(compaction_mismatch)?;
        self.record_new_base(&mut w, &base, None)?;
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
}

fn compaction_mismatch(e: StoreError) -> StoreError {
    match e {
        StoreError::DigestMismatch { .. } => {
            StoreError::Corrupt("compacted base does not match the live digest".to_string())
        }
        e => e,
    }
}

fn file_name_of(base: &Snapshot) -> Result<String, StoreError> {
    base.path()
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| StoreError::Corrupt("base file name".to_string()))
}

fn check_change(index: usize, change: &Change) -> Result<(Vec<u8>, Option<u64>), StoreError> {
    crate::rules::check_change(change, crate::rules::Rules::Apply).map_err(|e| {
        StoreError::InvalidChange {
            index,
            reason: e.to_string(),
        }
    })?;
    let bytes = change.key().as_bytes().to_vec();
    Ok(match change {
        Change::Remove(_) => (bytes, None),
        Change::Upsert(_, v) => (bytes, Some(v.pack())),
    })
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

pub(super) fn write_meta(tx: &Transaction<'_>, meta: &[(&str, &[u8])]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO meta (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?;
    for (name, value) in meta {
        stmt.execute(params![name, value])?;
    }
    Ok(())
}
