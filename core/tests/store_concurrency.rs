//! Readers never see a mix of two states: threads look up while another thread applies
//! batches, compacts and installs full snapshots.
//!
//! Every state the writer produces is a function of its list version `n`: all `KEYS` exact
//! entries and the prefix rule carry category `n % 8` and risk `1 + n % 3`. A reader pins one
//! state and checks that every key agrees with the version that state reports; single lookups
//! check that the entry they return belongs to the version they report.
//!
//! The writer moves on from version `n` only once every reader has pinned a view of it, so the
//! readers provably run during the updates however busy the machine is (no sleeps, no timing).
#![allow(clippy::unwrap_used)]

use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::verdict::{Direction, Source};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const KEYS: usize = 40;
const VERSIONS: u64 = 60;

fn value(n: u64, prefix: bool) -> EntryValue {
    EntryValue {
        category: Category::from_code((n % 8) as u8),
        risk: Risk::from_code(1 + (n % 3) as u8).unwrap(),
        reports: ReportBucket::default(),
        prefix,
    }
}

fn exact_key(i: usize) -> Key {
    Key::new(Kind::Phone, &format!("+86138{i:08}"))
}

fn rule_key() -> Key {
    Key::new(Kind::Phone, "+86170")
}

fn covered_key() -> Key {
    Key::new(Kind::Phone, "+8617012345678")
}

fn state(n: u64) -> Vec<(Key, EntryValue)> {
    let mut v: Vec<(Key, EntryValue)> =
        (0..KEYS).map(|i| (exact_key(i), value(n, false))).collect();
    v.push((rule_key(), value(n, true)));
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn matches_version(n: u64, source: Source, category: Option<Category>, risk: Option<Risk>) -> bool {
    if n == 0 {
        return source == Source::None;
    }
    let want = value(n, false);
    category == Some(want.category) && risk == Some(want.risk)
}

#[test]
fn lookups_see_the_old_or_the_new_state_never_a_mix() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(
            dir.path(),
            StoreOptions {
                auto_compact_overlay_len: None,
                ..StoreOptions::default()
            },
        )
        .unwrap(),
    );
    let done = Arc::new(AtomicBool::new(false));
    const READERS: usize = 3;
    // The last version each reader pinned a view of.
    let pinned: Arc<Vec<AtomicU64>> = Arc::new((0..READERS).map(|_| AtomicU64::new(0)).collect());

    let mut readers = Vec::new();
    for r in 0..READERS {
        let store = Arc::clone(&store);
        let done = Arc::clone(&done);
        let pinned = Arc::clone(&pinned);
        readers.push(std::thread::spawn(move || {
            let mut checks = 0u64;
            let mut versions_seen = std::collections::BTreeSet::new();
            while !done.load(Ordering::Acquire) || checks < 200 {
                // One lookup: its entry must belong to the version it reports.
                let key = if checks.is_multiple_of(2) {
                    exact_key((checks as usize + r) % KEYS)
                } else {
                    covered_key()
                };
                let v = store.check_key(&key, Direction::Incoming);
                assert!(
                    matches_version(v.list_version, v.source, v.category, v.risk),
                    "single lookup mixed states at version {}",
                    v.list_version
                );
                // A pinned view: all keys agree with one version.
                if checks.is_multiple_of(16) {
                    let view = store.view();
                    let n = view.list_version();
                    for i in 0..KEYS {
                        let v = view.check_key(&exact_key(i), Direction::Incoming);
                        assert_eq!(v.list_version, n);
                        assert!(
                            matches_version(n, v.source, v.category, v.risk),
                            "view mixed states"
                        );
                    }
                    let v = view.check_key(&covered_key(), Direction::Incoming);
                    assert!(matches_version(n, v.source, v.category, v.risk));
                    if n > 0 {
                        assert_eq!(v.source, Source::Prefix);
                    }
                    versions_seen.insert(n);
                    pinned[r].store(n, Ordering::SeqCst);
                }
                checks += 1;
            }
            (checks, versions_seen.len())
        }));
    }

    for n in 1..=VERSIONS {
        match n % 10 {
            // A full snapshot now and then.
            5 => store.install_snapshot(state(n), n, None, &[]).unwrap(),
            _ => {
                let changes: Vec<Change> = state(n)
                    .into_iter()
                    .map(|(k, v)| Change::Upsert(k, v))
                    .collect();
                store.apply(&changes, n).unwrap();
            }
        }
        if n % 4 == 0 {
            store.compact().unwrap();
        }
        if n % 7 == 0 {
            store.compact_in_background().join().unwrap().unwrap();
        }
        // Every reader pins version n before the next one (bounded: only a stuck reader
        // gets near the limit).
        let limit = Instant::now() + Duration::from_secs(120);
        while pinned.iter().any(|p| p.load(Ordering::SeqCst) < n) {
            assert!(Instant::now() < limit, "a reader stopped at version {n}");
            std::thread::yield_now();
        }
    }
    done.store(true, Ordering::Release);
    for r in readers {
        let (checks, versions) = r.join().unwrap();
        assert!(checks >= 200);
        // The readers really ran during the updates: each pinned every version.
        assert!(
            versions as u64 >= VERSIONS,
            "a reader saw only {versions} versions"
        );
    }
    store.verify().unwrap();
}
