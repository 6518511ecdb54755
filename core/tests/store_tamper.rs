//! Local damage and tampering: a changed byte in the base file, a damaged header, an edited
//! overlay row or recorded digest in SQLite. Cheap checks catch some on open; `verify()` catches
//! the rest; with recovery on, a damaged blocklist is reset instead of bricking the store.
#![allow(clippy::unwrap_used)]

use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::snapshot::HEADER_LEN;
use fraudshield_core::store::{DATABASE_FILE, Store, StoreError, StoreOptions};
use fraudshield_core::verdict::{Direction, Source};
use std::path::{Path, PathBuf};

fn strict() -> StoreOptions {
    StoreOptions {
        auto_compact_overlay_len: None,
        recover_corrupt_blocklist: false,
        ..StoreOptions::default()
    }
}

fn value(risk: Risk) -> EntryValue {
    EntryValue {
        category: Category::Refund,
        risk,
        reports: ReportBucket::default(),
        prefix: false,
    }
}

/// A store with 500 entries in the base and 2 changes in the overlay; returns the base path.
fn populated(dir: &Path) -> PathBuf {
    let s = Store::open(dir, strict()).unwrap();
    let entries: Vec<(Key, EntryValue)> = (0..500)
        .map(|i| {
            (
                Key::new(Kind::Phone, &format!("+86138{i:08}")),
                value(Risk::High),
            )
        })
        .collect();
    s.install_snapshot(entries, 1, None, &[]).unwrap();
    s.apply(
        &[
            Change::Remove(Key::new(Kind::Phone, "+8613800000007")),
            Change::Upsert(Key::new(Kind::Qq, "12345678"), value(Risk::Low)),
        ],
        2,
    )
    .unwrap();
    s.verify().unwrap();
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "fst"))
        .unwrap()
}

fn flip(path: &Path, offset: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[offset] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

#[test]
fn a_changed_byte_in_the_base_fst_is_caught_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let base = populated(dir.path());
    let len = std::fs::metadata(&base).unwrap().len() as usize;
    // A byte in the middle of the FST: open stays cheap and succeeds, verify fails.
    flip(&base, HEADER_LEN + (len - HEADER_LEN) / 2);
    let s = Store::open(dir.path(), strict()).unwrap();
    assert!(s.verify().is_err());
}

#[test]
fn a_damaged_header_or_truncated_file_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    let base = populated(dir.path());
    flip(&base, 20); // the entry count
    assert!(matches!(
        Store::open(dir.path(), strict()),
        Err(StoreError::Snapshot(_))
    ));
    flip(&base, 20);
    Store::open(dir.path(), strict()).unwrap().verify().unwrap();
    let b = std::fs::read(&base).unwrap();
    std::fs::write(&base, &b[..b.len() - 10]).unwrap();
    assert!(Store::open(dir.path(), strict()).is_err());
}

#[test]
fn an_edited_overlay_row_or_digest_fails_the_digest_check() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let db = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    // Resurrect the removed number by deleting its tombstone.
    let n = db
        .execute("DELETE FROM overlay WHERE value IS NULL", [])
        .unwrap();
    assert_eq!(n, 1);
    drop(db);
    assert!(matches!(
        Store::open(dir.path(), strict()),
        Err(StoreError::Corrupt(_))
    ));

    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let db = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    db.execute("UPDATE overlay SET value = 3 WHERE value IS NOT NULL", [])
        .unwrap();
    drop(db);
    assert!(matches!(
        Store::open(dir.path(), strict()),
        Err(StoreError::Corrupt(_))
    ));

    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let db = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    db.execute("UPDATE state SET digest = zeroblob(32)", [])
        .unwrap();
    drop(db);
    assert!(matches!(
        Store::open(dir.path(), strict()),
        Err(StoreError::Corrupt(_))
    ));
}

#[test]
fn with_recovery_a_damaged_blocklist_is_reset_and_user_lists_survive() {
    let dir = tempfile::tempdir().unwrap();
    let base = populated(dir.path());
    {
        let s = Store::open(dir.path(), strict()).unwrap();
        let id = fraudshield_core::identifier::normalize(Kind::Phone, "13900139000").unwrap();
        s.block_user(&id).unwrap();
    }
    flip(&base, 20);
    let s = Store::open(dir.path(), StoreOptions::default()).unwrap();
    let st = s.status();
    assert!(st.recovered_from_corruption);
    assert_eq!((st.entries, st.list_version, st.user_blocked), (0, 0, 1));
    let id = fraudshield_core::identifier::normalize(Kind::Phone, "13900139000").unwrap();
    assert_eq!(s.check(&id, Direction::Incoming).source, Source::UserBlock);
    s.verify().unwrap();
    drop(s);
    // The reset is durable and the damaged file is gone.
    assert!(!base.exists());
    let s = Store::open(dir.path(), strict()).unwrap();
    assert!(!s.status().recovered_from_corruption);
}
