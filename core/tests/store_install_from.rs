//! `Store::install_snapshot_from`: a full snapshot built from a fallible stream of entries. An
//! error anywhere in the stream, even at its very end, leaves the old state serving and no
//! temp file behind; a clean stream installs exactly like `install_snapshot`.
#![allow(clippy::unwrap_used)]

use fraudshield_core::digest::LtHash;
use fraudshield_core::entry::{Category, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::{InstallFromError, Store, StoreError, StoreOptions};
use fraudshield_core::verdict::{Direction, Source};
use std::path::Path;

const N: u32 = 3000;

fn value(risk: Risk) -> EntryValue {
    EntryValue {
        category: Category::Loan,
        risk,
        reports: ReportBucket::from_count(4),
        prefix: false,
    }
}

/// `N` sorted mobile numbers; `shift` picks a different (overlapping) set per release.
fn release_entries(shift: u32, risk: Risk) -> Vec<(Key, EntryValue)> {
    (0..N)
        .map(|i| {
            let key = Key::new(Kind::Phone, &format!("+86138{:08}", i * 2 + shift));
            (key, value(risk))
        })
        .collect()
}

fn digest_of(entries: &[(Key, EntryValue)]) -> fraudshield_core::digest::StateDigest {
    LtHash::of_entries(entries.iter().map(|(k, v)| (k.as_bytes(), v.pack()))).digest()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The store still answers from release 1, on the live view and after a reopen.
fn assert_serves_release_1(store: &Store, old: &[(Key, EntryValue)]) {
    assert_eq!(store.list_version(), 1);
    assert_eq!(store.digest(), digest_of(old));
    let view = store.view();
    for (k, v) in old.iter().step_by(97).chain(old.last()) {
        let verdict = view.check_key(k, Direction::Incoming);
        assert_eq!(verdict.source, Source::Exact);
        assert_eq!(verdict.risk, Some(v.risk));
    }
    // Odd numbers belong to release 2 only.
    let only_new = Key::new(Kind::Phone, &format!("+86138{:08}", 2 * N - 1));
    assert_eq!(
        view.check_key(&only_new, Direction::Incoming).source,
        Source::None
    );
}

fn setup() -> (
    tempfile::TempDir,
    Store,
    Vec<(Key, EntryValue)>,
    Vec<String>,
) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), StoreOptions::default()).unwrap();
    let old = release_entries(0, Risk::High);
    store
        .install_snapshot(old.clone(), 1, Some(digest_of(&old)), &[])
        .unwrap();
    let before = files(tmp.path());
    assert!(before.iter().all(|f| !f.ends_with(".tmp")), "{before:?}");
    (tmp, store, old, before)
}

#[test]
fn an_error_in_the_last_entry_installs_nothing() {
    let (tmp, store, old, before) = setup();
    let new = release_entries(1, Risk::Medium);
    let last = new.len() - 1;
    let stream = new.iter().cloned().enumerate().map(|(i, e)| {
        if i == last {
            Err("bad entry at the end")
        } else {
            Ok(e)
        }
    });
    match store.install_snapshot_from(stream, 2, Some(digest_of(&new)), &[]) {
        Err(InstallFromError::Source(e)) => assert_eq!(e, "bad entry at the end"),
        other => panic!("expected the source error, got {other:?}"),
    }
    assert_eq!(
        files(tmp.path()),
        before,
        "a temp or new base file was left"
    );
    assert_serves_release_1(&store, &old);
    // Without a digest to check, the prefix written so far must not go live either.
    let stream = new
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, e)| if i == last { Err(()) } else { Ok(e) });
    assert!(matches!(
        store.install_snapshot_from(stream, 2, None, &[]),
        Err(InstallFromError::Source(()))
    ));
    assert_eq!(files(tmp.path()), before);
    assert_serves_release_1(&store, &old);
    drop(store);
    let store = Store::open(tmp.path(), StoreOptions::default()).unwrap();
    assert_serves_release_1(&store, &old);
}

#[test]
fn order_broken_near_the_end_installs_nothing() {
    let (tmp, store, old, before) = setup();
    let mut new = release_entries(1, Risk::Medium);
    let n = new.len();
    new.swap(n - 2, n - 1);
    let stream = new.iter().cloned().map(Ok::<_, ()>);
    match store.install_snapshot_from(stream, 2, None, &[]) {
        Err(InstallFromError::Store(StoreError::Snapshot(_))) => {}
        other => panic!("expected an unsorted-snapshot error, got {other:?}"),
    }
    assert_eq!(files(tmp.path()), before);
    assert_serves_release_1(&store, &old);
}

#[test]
fn a_clean_stream_installs_like_install_snapshot() {
    let (tmp, store, _old, _before) = setup();
    let new = release_entries(1, Risk::Medium);
    store
        .install_snapshot_from(
            new.iter().cloned().map(Ok::<_, ()>),
            2,
            Some(digest_of(&new)),
            &[("note", b"x")],
        )
        .unwrap();
    assert_eq!(store.list_version(), 2);
    assert_eq!(store.digest(), digest_of(&new));
    assert_eq!(store.meta("note").unwrap().as_deref(), Some(&b"x"[..]));
    for (k, v) in new.iter().step_by(101) {
        assert_eq!(store.check_key(k, Direction::Incoming).risk, Some(v.risk));
    }
    assert!(files(tmp.path()).iter().all(|f| !f.ends_with(".tmp")));
    // A wrong digest is still the store's own error.
    let third = release_entries(0, Risk::Low);
    match store.install_snapshot_from(
        third.iter().cloned().map(Ok::<_, ()>),
        3,
        Some(digest_of(&new)),
        &[],
    ) {
        Err(InstallFromError::Store(StoreError::DigestMismatch { .. })) => {}
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    assert_eq!(store.list_version(), 2);
}
