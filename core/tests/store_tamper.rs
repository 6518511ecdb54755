//! Local damage and tampering: a truncated, emptied or missing base file, a damaged header, flipped
//! bits anywhere in the FST body, an edited overlay row or recorded digest in SQLite.
//!
//! Every one of them is found when the store opens, before any lookup is answered from the
//! damaged list. The store then opens *degraded*: nothing is deleted, `status` says why every
//! time, verdicts that reach the blocklist say `ListUnavailable` (never "clean"), the user's lists
//! still answer, the sync engine's manifest record is cleared (not its rollback floor), and a full
//! snapshot or a re-import repairs it.
#![allow(clippy::unwrap_used)]

use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::identifier::normalize;
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::snapshot::HEADER_LEN;
use fraudshield_core::store::{DATABASE_FILE, Store, StoreError, StoreOptions};
use fraudshield_core::sync::meta;
use fraudshield_core::verdict::{Action, Direction, Source};
use std::path::{Path, PathBuf};

fn options() -> StoreOptions {
    StoreOptions {
        auto_compact_overlay_len: None,
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

fn flagged(i: usize) -> Key {
    Key::new(Kind::Phone, &format!("+86138{i:08}"))
}

/// A store with 500 entries in the base and 2 changes in the overlay, a number on the user's
/// block list and the sync engine's meta values; returns the base path.
fn populated(dir: &Path) -> PathBuf {
    let s = Store::open(dir, options()).unwrap();
    let entries: Vec<(Key, EntryValue)> =
        (0..500).map(|i| (flagged(i), value(Risk::High))).collect();
    let (release, expires) = (7u64.to_be_bytes(), 1i64.to_be_bytes());
    let metas: Vec<(&str, &[u8])> = vec![
        (meta::RELEASE, &release),
        (meta::MANIFEST, b"manifest hash"),
        (meta::ETAG, b"\"etag\""),
        (meta::EXPIRES_AT, &expires),
        (meta::TRUST, b"trust state"),
    ];
    s.install_snapshot(entries, 1, None, &metas).unwrap();
    s.apply(
        &[
            Change::Remove(flagged(7)),
            Change::Upsert(Key::new(Kind::Qq, "12345678"), value(Risk::Low)),
        ],
        2,
    )
    .unwrap();
    s.block_user(&normalize(Kind::Phone, "13900139000").unwrap())
        .unwrap();
    s.verify().unwrap();
    base_file(dir)
}

fn base_file(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "fst"))
        .unwrap()
}

fn flip(path: &Path, offset: usize, bits: u8) {
    let mut b = std::fs::read(path).unwrap();
    b[offset] ^= bits;
    std::fs::write(path, b).unwrap();
}

/// What every damaged store must show, for a writer and for a reader, on every open.
fn assert_degraded(dir: &Path) {
    for s in [
        Store::open_existing(dir, options()).unwrap(),
        Store::open(dir, options()).unwrap(),
        Store::open_existing(dir, options()).unwrap(),
    ] {
        let st = s.status();
        assert!(st.degraded.is_some(), "status must report the damage");
        assert_eq!((st.entries, st.list_version), (0, 0));
        // A flagged number is never answered "clean" from a damaged list.
        for i in [0, 3, 250, 499] {
            let v = s.check_key(&flagged(i), Direction::Incoming);
            assert_eq!(
                (v.source, v.action),
                (Source::ListUnavailable, Action::Allow)
            );
        }
        // The user's own list and protected numbers still answer.
        let blocked = normalize(Kind::Phone, "13900139000").unwrap();
        assert_eq!(
            s.check(&blocked, Direction::Incoming).source,
            Source::UserBlock
        );
        let police = normalize(Kind::Phone, "110").unwrap();
        assert_eq!(
            s.check(&police, Direction::Incoming).source,
            Source::Protected
        );
        assert!(matches!(s.verify(), Err(StoreError::Corrupt(_))));
        drop(s);
    }
}

/// The sync engine's manifest record is gone (so the next sync installs a full snapshot), its
/// rollback floor and trust state are kept.
fn assert_sync_meta_cleared(dir: &Path) {
    let s = Store::open_existing(dir, options()).unwrap();
    assert_eq!(s.meta(meta::MANIFEST).unwrap(), None);
    assert_eq!(s.meta(meta::ETAG).unwrap(), None);
    assert_eq!(s.meta(meta::EXPIRES_AT).unwrap(), None);
    assert_eq!(
        s.meta(meta::RELEASE).unwrap(),
        Some(7u64.to_be_bytes().to_vec())
    );
    assert_eq!(s.meta(meta::TRUST).unwrap(), Some(b"trust state".to_vec()));
}

#[test]
fn a_truncated_emptied_or_header_damaged_base_degrades_and_is_kept() {
    type Damage = fn(&Path);
    let cases: [(&str, Damage); 5] = [
        ("truncated", |p| {
            let b = std::fs::read(p).unwrap();
            std::fs::write(p, &b[..b.len() - 10]).unwrap();
        }),
        ("emptied", |p| std::fs::write(p, b"").unwrap()),
        ("entry count in the header", |p| flip(p, 20, 1)),
        ("magic", |p| flip(p, 0, 0xff)),
        ("missing", |p| std::fs::remove_file(p).unwrap()),
    ];
    for (what, damage) in cases {
        let dir = tempfile::tempdir().unwrap();
        let base = populated(dir.path());
        damage(&base);
        let damaged = std::fs::read(&base).ok();
        assert_degraded(dir.path());
        assert_sync_meta_cleared(dir.path());
        // Nothing was deleted or rewritten.
        assert_eq!(std::fs::read(&base).ok(), damaged, "{what}");
    }
}

#[test]
fn flipped_bits_in_the_fst_body_never_answer_allow_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let base = populated(dir.path());
    let clean = std::fs::read(&base).unwrap();
    let body = clean.len() - HEADER_LEN;
    for n in 0..64 {
        let offset = HEADER_LEN + (n * 7919) % body;
        std::fs::write(&base, &clean).unwrap();
        flip(&base, offset, 1 << (n % 8));
        let s = Store::open_existing(dir.path(), options()).unwrap();
        assert!(s.status().degraded.is_some(), "offset {offset}");
        for i in (0..500).step_by(7) {
            let v = s.check_key(&flagged(i), Direction::Incoming);
            assert_eq!(v.source, Source::ListUnavailable, "offset {offset}");
        }
    }
    std::fs::write(&base, &clean).unwrap();
    let s = Store::open(dir.path(), options()).unwrap();
    assert_eq!(s.status().degraded, None);
    assert_eq!(
        s.check_key(&flagged(3), Direction::Incoming).source,
        Source::Exact
    );
}

#[test]
fn an_edited_overlay_row_or_recorded_digest_degrades() {
    let edits = [
        // Resurrect the removed number by deleting its tombstone.
        "DELETE FROM overlay WHERE value IS NULL",
        "UPDATE overlay SET value = 3 WHERE value IS NOT NULL",
        "UPDATE state SET digest = zeroblob(32)",
        "UPDATE state SET base_file = '../elsewhere.fst'",
    ];
    for sql in edits {
        let dir = tempfile::tempdir().unwrap();
        let base = populated(dir.path());
        let db = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        assert!(db.execute(sql, []).unwrap() > 0, "{sql}");
        drop(db);
        assert_degraded(dir.path());
        // The base file the damaged database no longer names was not taken for a leftover.
        assert!(base.exists(), "{sql}");
    }
}

#[test]
fn a_full_snapshot_repairs_a_degraded_store() {
    let dir = tempfile::tempdir().unwrap();
    let base = populated(dir.path());
    flip(&base, HEADER_LEN + 40, 4);
    let s = Store::open(dir.path(), options()).unwrap();
    assert!(s.status().degraded.is_some());
    let entries = (0..10).map(|i| (flagged(i), value(Risk::Medium)));
    s.install_snapshot(entries, 7, None, &[]).unwrap();
    assert_eq!(s.status().degraded, None);
    assert_eq!(
        s.check_key(&flagged(3), Direction::Incoming).source,
        Source::Exact
    );
    s.verify().unwrap();
    drop(s);
    let s = Store::open_existing(dir.path(), options()).unwrap();
    assert_eq!(s.status().degraded, None);
    assert_eq!((s.status().entries, s.list_version()), (10, 7));
    // The user's list survived the damage and the repair.
    assert_eq!(s.status().user_blocked, 1);
}

#[test]
fn a_re_import_repairs_a_degraded_store_with_exactly_the_imported_list() {
    let dir = tempfile::tempdir().unwrap();
    let base = populated(dir.path());
    std::fs::write(&base, b"").unwrap();
    let s = Store::open(dir.path(), options()).unwrap();
    let changes: Vec<Change> = (0..20)
        .map(|i| Change::Upsert(flagged(i), value(Risk::High)))
        .collect();
    s.apply(&changes, 1).unwrap();
    let st = s.status();
    assert_eq!((st.degraded, st.entries, st.overlay_len), (None, 20, 0));
    assert_eq!(
        s.check_key(&flagged(19), Direction::Incoming).source,
        Source::Exact
    );
    assert_eq!(
        s.check_key(&flagged(20), Direction::Incoming).source,
        Source::None
    );
    s.verify().unwrap();
    drop(s);
    Store::open(dir.path(), options())
        .unwrap()
        .verify()
        .unwrap();
}

#[test]
fn list_versions_never_go_backwards_or_past_i64() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let s = Store::open(dir.path(), options()).unwrap();
    let change = [Change::Upsert(flagged(900), value(Risk::Low))];
    assert!(matches!(
        s.apply(&change, 1),
        Err(StoreError::VersionBackwards {
            current: 2,
            given: 1
        })
    ));
    assert!(matches!(
        s.apply(&change, 1 << 63),
        Err(StoreError::VersionOutOfRange)
    ));
    assert!(matches!(
        s.install_snapshot(std::iter::empty(), 0, None, &[]),
        Err(StoreError::VersionBackwards { .. })
    ));
    assert_eq!(s.list_version(), 2);
    s.apply(&change, 2).unwrap();
    s.apply(&change, (1 << 63) - 1).unwrap();
    drop(s);
    // The largest version is readable again (it used to be "corrupt: integer out of range").
    let s = Store::open(dir.path(), options()).unwrap();
    assert_eq!(s.list_version(), (1 << 63) - 1);
    s.verify().unwrap();
}
