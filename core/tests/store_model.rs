//! Property test: the store against a plain `BTreeMap` model. After random batches of upserts
//! and removals (exact entries and prefix rules, overlapping keys), compactions, full snapshots
//! and reopenings, every lookup answers what the model says, and the incrementally maintained
//! digest equals the digest computed from scratch.
#![allow(clippy::unwrap_used)]

use fraudshield_core::digest::LtHash;
use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::{CallDirectoryChanges, Store, StoreOptions};
use fraudshield_core::verdict::{Direction, Source};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Keys from a small alphabet so that prefixes, replacements and removals collide often. They
/// start `+8613` so that every one is a legal prefix rule (`+86` or `+861` alone is refused).
fn key_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![Just('1'), Just('7'), Just('8')], 0..5)
        .prop_map(|d| format!("+8613{}", d.into_iter().collect::<String>()))
}

fn value_strategy() -> impl Strategy<Value = EntryValue> {
    (0u8..8, 1u8..4, 0u8..8, any::<bool>()).prop_map(|(c, r, b, prefix)| EntryValue {
        category: Category::from_code(c),
        risk: Risk::from_code(r).unwrap(),
        reports: ReportBucket::new(b).unwrap(),
        prefix,
    })
}

#[derive(Debug, Clone)]
enum Op {
    Batch(Vec<(String, Option<EntryValue>)>),
    Compact,
    Snapshot,
    Reopen,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => proptest::collection::vec((key_strategy(), proptest::option::of(value_strategy())), 1..12)
            .prop_map(Op::Batch),
        1 => Just(Op::Compact),
        1 => Just(Op::Snapshot),
        1 => Just(Op::Reopen),
    ]
}

/// What the model says for a key: exact entry, else the longest prefix rule.
fn model_lookup(model: &BTreeMap<Vec<u8>, EntryValue>, key: &[u8]) -> (Source, Option<EntryValue>) {
    if let Some(v) = model.get(key)
        && !v.prefix
    {
        return (Source::Exact, Some(*v));
    }
    for len in (1..=key.len()).rev() {
        if let Some(v) = model.get(&key[..len])
            && v.prefix
        {
            return (Source::Prefix, Some(*v));
        }
    }
    (Source::None, None)
}

fn options() -> StoreOptions {
    StoreOptions {
        auto_compact_overlay_len: None,
        ..StoreOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_model(ops in proptest::collection::vec(op_strategy(), 1..14)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), options()).unwrap();
        let mut model: BTreeMap<Vec<u8>, EntryValue> = BTreeMap::new();
        let mut version = 0u64;
        // An iOS Call Directory kept up to date incrementally, as the extension would.
        let mut directory: BTreeMap<u64, fraudshield_core::verdict::Verdict> = BTreeMap::new();
        let mut directory_version = 0u64;
        for op in ops {
            match op {
                Op::Batch(changes) => {
                    let changes: Vec<Change> = changes
                        .into_iter()
                        .map(|(k, v)| {
                            let key = Key::new(Kind::Phone, &k);
                            match v {
                                Some(v) => {
                                    model.insert(key.as_bytes().to_vec(), v);
                                    Change::Upsert(key, v)
                                }
                                None => {
                                    model.remove(key.as_bytes());
                                    Change::Remove(key)
                                }
                            }
                        })
                        .collect();
                    version += 1;
                    store.apply(&changes, version).unwrap();
                }
                Op::Compact => store.compact().unwrap(),
                Op::Snapshot => {
                    version += 1;
                    let entries: Vec<(Key, EntryValue)> = model
                        .iter()
                        .map(|(k, v)| (Key::from_bytes(k).unwrap(), *v))
                        .collect();
                    let expected = LtHash::of_entries(model.iter().map(|(k, v)| (k.as_slice(), v.pack()))).digest();
                    store.install_snapshot(entries, version, Some(expected), &[]).unwrap();
                }
                Op::Reopen => {
                    drop(store);
                    store = Store::open(dir.path(), options()).unwrap();
                }
            }
            let full = LtHash::of_entries(model.iter().map(|(k, v)| (k.as_slice(), v.pack())));
            prop_assert_eq!(store.digest(), full.digest());
            prop_assert_eq!(store.status().entries, model.len() as u64);
            prop_assert_eq!(store.list_version(), version);
            // Every key of the alphabet up to 6 digits, plus longer numbers under them.
            for k in ["+861", "+8617", "+86178", "+868", "+8618", "+861718", "+8677777", "+86181818181"] {
                let key = Key::new(Kind::Phone, k);
                let v = store.check_key(&key, Direction::Incoming);
                let (source, value) = model_lookup(&model, key.as_bytes());
                prop_assert_eq!(v.source, source, "key {}", k);
                prop_assert_eq!(v.risk, value.map(|e| e.risk));
                prop_assert_eq!(v.category, value.map(|e| e.category));
            }
            // Call Directory: the full listing is the model's exact entries in numeric order...
            let listed: Vec<(u64, fraudshield_core::verdict::Verdict)> =
                store.phone_numbers_ascending().collect();
            let mut want: Vec<u64> = model
                .iter()
                .filter(|(_, v)| !v.prefix)
                .map(|(k, _)| k[2..].iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
                .collect();
            want.sort_unstable();
            let got: Vec<u64> = listed.iter().map(|(n, _)| *n).collect();
            prop_assert_eq!(&got, &want);
            // ...and incremental loads end where a full reload does.
            match store.changes_since(directory_version).unwrap() {
                CallDirectoryChanges::Reload => {
                    directory = listed.iter().copied().collect();
                }
                CallDirectoryChanges::Incremental(updates) => {
                    for (n, v) in updates {
                        match v {
                            Some(v) => directory.insert(n, v),
                            None => directory.remove(&n),
                        };
                    }
                }
            }
            directory_version = store.list_version();
            let full: BTreeMap<u64, _> = listed.into_iter().collect();
            // Verdicts carry the list version: compare what the directory shows.
            let shown = |m: &BTreeMap<u64, fraudshield_core::verdict::Verdict>| {
                m.iter().map(|(n, v)| (*n, v.action, v.category, v.risk)).collect::<Vec<_>>()
            };
            prop_assert_eq!(shown(&directory), shown(&full));
        }
        store.verify().unwrap();
    }
}
