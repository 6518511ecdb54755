//! A damaged list is repaired by the next sync: the store opens degraded, its record of the last
//! manifest is cleared (the rollback floor is kept), so the next sync installs a full snapshot
//! instead of answering "up to date" — also when the server has nothing new.
#![allow(clippy::unwrap_used)]

mod sync_support;

use fraudshield_core::sync::UpdatePath;
use fraudshield_core::verdict::{Direction, Source};
use sync_support::*;

fn damage_base(dir: &std::path::Path) {
    // The live base is the newest (a damaged one replaced by a repair stays until the next open).
    let base = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fst"))
        .max()
        .unwrap();
    let b = std::fs::read(&base).unwrap();
    std::fs::write(&base, &b[..b.len() - 100]).unwrap();
}

#[test]
fn the_next_sync_after_damage_installs_a_full_snapshot() {
    let mut w = World::new(2000);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(40);
    assert_eq!(w.sync(&store).unwrap().path, UpdatePath::Delta);
    drop(store);

    // Nothing new on the server: the list must still come back.
    damage_base(&w.store_dir());
    let store = w.open_store();
    assert!(store.status().degraded.is_some());
    let (key, _) = w.history[2].iter().next().unwrap();
    assert_eq!(
        store.check_key(key, Direction::Incoming).source,
        Source::ListUnavailable
    );
    let r = w.sync(&store).unwrap();
    assert_eq!((r.path, r.release), (UpdatePath::Snapshot, 2));
    assert_eq!(store.status().degraded, None);
    assert_serves(&store, &w.history, 2);
    store.verify().unwrap();
    drop(store);

    // Something new: a full snapshot again (no delta onto a damaged list), to the new release.
    damage_base(&w.store_dir());
    w.publish_random(40);
    let store = w.open_store();
    assert!(store.status().degraded.is_some());
    let r = w.sync(&store).unwrap();
    assert_eq!((r.path, r.release), (UpdatePath::Snapshot, 3));
    assert_serves(&store, &w.history, 3);
    assert_eq!(w.sync(&store).unwrap().path, UpdatePath::UpToDate);
}
