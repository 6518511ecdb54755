//! The cost of open does not grow with history: the overlay that every open replays stays
//! bounded, whatever batches were committed and wherever a writer was killed.
//!
//! - a batch that would leave more than `max_overlay_len` changes in the overlay is written as a
//!   new base: the SQLite overlay never holds it, so a kill at any point leaves either the old
//!   state (small overlay) or the new one (empty overlay);
//! - a store left with a large overlay and the debris of an interrupted compaction (a partial
//!   temp file, a finished base file that was never named live) is compacted by the next writer
//!   that opens it, once; later opens, readers included, replay nothing.
#![allow(clippy::unwrap_used)]

use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::{DATABASE_FILE, Store, StoreOptions};
use fraudshield_core::verdict::{Direction, Source};
use std::path::Path;

fn options(max_overlay_len: usize) -> StoreOptions {
    StoreOptions {
        auto_compact_overlay_len: None,
        max_overlay_len,
        ..StoreOptions::default()
    }
}

fn batch(n: u32) -> Vec<Change> {
    (0..n)
        .map(|i| {
            Change::Upsert(
                Key::new(Kind::Phone, &format!("+86139{i:08}")),
                EntryValue {
                    category: Category::Investment,
                    risk: Risk::High,
                    reports: ReportBucket::default(),
                    prefix: false,
                },
            )
        })
        .collect()
}

fn overlay_rows(dir: &Path) -> i64 {
    let db = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    db.query_row("SELECT count(*) FROM overlay", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_batch_larger_than_the_overlay_bound_never_lands_in_the_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path(), options(100)).unwrap();
    s.apply(&batch(50), 1).unwrap();
    assert_eq!(overlay_rows(dir.path()), 50);
    s.apply(&batch(1000), 2).unwrap();
    // Written as a new base: nothing for an open to replay.
    assert_eq!(overlay_rows(dir.path()), 0);
    let st = s.status();
    assert_eq!(
        (st.entries, st.base_entries, st.overlay_len),
        (1000, 1000, 0)
    );
    s.verify().unwrap();
    drop(s);
    let r = Store::open_existing(dir.path(), options(100)).unwrap();
    assert_eq!(r.status().overlay_len, 0);
    let v = r.check_key(
        &Key::new(Kind::Phone, "+8613900000999"),
        Direction::Incoming,
    );
    assert_eq!((v.source, v.list_version), (Source::Exact, 2));
}

#[test]
fn an_interrupted_compaction_is_redone_once_by_the_next_writer() {
    let dir = tempfile::tempdir().unwrap();
    // What a kill during the compaction that followed a large import (older builds) left: the
    // import committed to the overlay, the compaction's files never became live.
    {
        let s = Store::open(dir.path(), options(usize::MAX)).unwrap();
        s.apply(&batch(3000), 1).unwrap();
    }
    assert_eq!(overlay_rows(dir.path()), 3000);
    std::fs::write(dir.path().join("base-0000000000000002.fst.tmp"), b"partial").unwrap();
    std::fs::copy(
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "fst"))
            .unwrap(),
        dir.path().join("base-0000000000000001.fst"),
    )
    .unwrap();
    // A reader does not change anything (it replays the overlay this once).
    let r = Store::open_existing(dir.path(), options(1000)).unwrap();
    assert_eq!(r.status().overlay_len, 3000);
    assert_eq!(overlay_rows(dir.path()), 3000);
    // The next writer redoes the compaction and cleans the debris.
    let s = Store::open(dir.path(), options(1000)).unwrap();
    let st = s.status();
    assert_eq!((st.entries, st.overlay_len, st.list_version), (3000, 0, 1));
    s.verify().unwrap();
    drop(s);
    assert_eq!(overlay_rows(dir.path()), 0);
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("base-"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    // Every later open, reader or writer, replays nothing.
    let r = Store::open_existing(dir.path(), options(1000)).unwrap();
    assert_eq!(r.status().overlay_len, 0);
    let v = r.check_key(
        &Key::new(Kind::Phone, "+8613900002999"),
        Direction::Incoming,
    );
    assert_eq!(v.source, Source::Exact);
}

fn mark_compaction_due(dir: &Path) {
    let db = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    db.execute(
        "INSERT INTO meta (name, value) VALUES ('store.compaction_due', x'')",
        [],
    )
    .unwrap();
}

#[test]
fn a_compaction_recorded_as_due_is_redone_by_the_next_writer_even_below_the_bound() {
    // What a kill during a compaction leaves (store_compaction_kill.rs kills real processes at
    // every step): the overlay of the import, below the bound, and the record that a compaction
    // was due.
    for auto_compact in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path(), options(usize::MAX)).unwrap();
            s.apply(&batch(3000), 1).unwrap();
        }
        mark_compaction_due(dir.path());
        let opts = StoreOptions {
            auto_compact_overlay_len: auto_compact.then_some(usize::MAX),
            ..options(50_000)
        };
        // Redone before open returns, whether or not the store compacts in the background
        // (a background redo would keep the directory locked after the store is dropped).
        let s = Store::open(dir.path(), opts.clone()).unwrap();
        let st = s.status();
        assert_eq!((st.entries, st.overlay_len), (3000, 0), "{auto_compact}");
        drop(s);
        assert_eq!(overlay_rows(dir.path()), 0);
        // The record went with the new base: later opens replay nothing and redo nothing.
        let r = Store::open_existing(dir.path(), opts.clone()).unwrap();
        assert_eq!(r.status().overlay_len, 0);
        r.verify().unwrap();
        // The directory is free again as soon as the writer is dropped.
        drop(Store::open(dir.path(), opts).unwrap());
    }
}

#[test]
fn an_overlay_within_the_bound_and_no_compaction_due_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(dir.path(), options(usize::MAX)).unwrap();
        s.apply(&batch(3000), 1).unwrap();
    }
    let s = Store::open(dir.path(), options(50_000)).unwrap();
    assert_eq!(s.status().overlay_len, 3000);
    drop(s);
    assert_eq!(overlay_rows(dir.path()), 3000);
}
