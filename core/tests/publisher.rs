//! The publisher refuses what clients would refuse, is all-or-nothing, and keeps a versioned,
//! checksummed state with its configuration.
#![allow(clippy::unwrap_used)]

use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::release::keys::SigningKey;
use fraudshield_core::release::manifest::{ArtifactKind, Manifest};
use fraudshield_core::release::publisher::{
    PublishConfig, PublishError, Publisher, STATE_FORMAT_VERSION,
};
use fraudshield_core::release::signed::Bundle;
use fraudshield_core::release::wire::{self, Limits};
use fraudshield_core::rules::ChangeError;
use fraudshield_core::store::{Store, StoreOptions};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

const NOW: i64 = 1_767_225_600;

fn value(risk: Risk, prefix: bool) -> EntryValue {
    EntryValue {
        category: Category::Investment,
        risk,
        reports: ReportBucket::from_count(3),
        prefix,
    }
}

fn phone(c: &str) -> Key {
    Key::new(Kind::Phone, c)
}

/// Every file under `dir` with its bytes: the publisher's whole footprint on disk.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(name, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// What a publisher holds, to compare before and after.
fn held(p: &Publisher) -> (u64, [u8; 32], BTreeMap<Key, EntryValue>, Option<Manifest>) {
    (
        p.release(),
        p.state_digest(),
        p.entries().clone(),
        p.manifest().cloned(),
    )
}

fn manifest_at(dir: &Path) -> Manifest {
    let bundle = Bundle::decode(&std::fs::read(dir.join("v1/manifest")).unwrap()).unwrap();
    Manifest::decode(&bundle.manifest.payload).unwrap()
}

#[test]
fn a_refused_batch_changes_nothing_in_memory_or_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let mut p = Publisher::create(dir.path(), "cn-test", PublishConfig::default()).unwrap();
    let first = vec![
        Change::Upsert(phone("+8613800138000"), value(Risk::High, false)),
        Change::Upsert(phone("+86170"), value(Risk::Medium, true)),
    ];
    p.publish(&first, &[&key], NOW).unwrap();
    let before_disk = files(dir.path());
    let before = held(&p);
    // Valid changes around the bad ones: the bad ones sit in the middle of the batch, where
    // the old publisher had already changed its state before failing.
    let batch = vec![
        Change::Upsert(phone("+8613900139000"), value(Risk::High, false)),
        Change::Upsert(Key::new(Kind::Qq, "12345"), value(Risk::High, true)),
        Change::Remove(phone("+8613800138000")),
        Change::Upsert(phone("0086 139 0013 9001"), value(Risk::High, false)),
        Change::Upsert(phone("008613900139001"), value(Risk::High, false)),
        Change::Upsert(phone("+861"), value(Risk::High, true)),
        Change::Upsert(phone("110"), value(Risk::High, false)),
        Change::Upsert(phone("+8613900139002"), value(Risk::Low, false)),
    ];
    let err = p.publish(&batch, &[&key], NOW + 10).unwrap_err();
    let PublishError::Refused(refusals) = &err else {
        panic!("{err}");
    };
    let got: Vec<(usize, &ChangeError)> = refusals.iter().map(|r| (r.index, &r.error)).collect();
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!(got[0], (1, &ChangeError::PrefixNotPhone));
    assert!(matches!(got[1], (3, ChangeError::Key(_))));
    assert_eq!(
        got[2],
        (4, &ChangeError::NotCanonical { kind: Kind::Phone })
    );
    assert!(matches!(got[3], (5, ChangeError::IllegalPrefix(_))));
    assert_eq!(got[4], (6, &ChangeError::Protected));
    // The message names the change and the problem, never the number.
    let msg = err.to_string();
    assert!(
        msg.contains("5 changes") && msg.contains("change 1"),
        "{msg}"
    );
    assert!(!msg.contains("139") && !msg.contains("12345"), "{msg}");
    // Nothing changed: in memory, on disk, and after a reopen.
    assert_eq!(held(&p), before);
    assert_eq!(files(dir.path()), before_disk);
    assert_eq!(held(&Publisher::open(dir.path()).unwrap()), before);
    // The valid part alone publishes as release 2 (not 3: nothing was consumed).
    let valid: Vec<Change> = batch
        .iter()
        .enumerate()
        .filter(|(i, _)| !refusals.iter().any(|r| r.index == *i))
        .map(|(_, c)| c.clone())
        .collect();
    let report = p.publish(&valid, &[&key], NOW + 20).unwrap();
    assert_eq!((report.release, report.added, report.removed), (2, 2, 1));
}

#[test]
fn preview_says_what_publish_does_without_doing_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let mut p = Publisher::create(dir.path(), "cn-test", PublishConfig::default()).unwrap();
    let a = phone("+8613800138000");
    let b = phone("+8613800138001");
    let c = phone("+8613800138002");
    p.publish(
        &[
            Change::Upsert(a.clone(), value(Risk::High, false)),
            Change::Upsert(b.clone(), value(Risk::High, false)),
        ],
        &[&key],
        NOW,
    )
    .unwrap();
    let disk = files(dir.path());
    let batch = vec![
        Change::Upsert(a.clone(), value(Risk::Low, false)), // changed
        Change::Remove(b.clone()),                          // removed
        Change::Upsert(c.clone(), value(Risk::Low, false)), // overridden below
        Change::Upsert(c.clone(), value(Risk::High, false)), // added
        Change::Remove(phone("+8613800138003")),            // absent: unchanged
        Change::Upsert(Key::new(Kind::Qq, "10001"), value(Risk::High, true)), // refused
    ];
    let preview = p.preview(&batch);
    assert_eq!(preview.release, 2);
    assert_eq!(
        (
            preview.added,
            preview.changed,
            preview.removed,
            preview.unchanged
        ),
        (1, 1, 1, 2)
    );
    assert_eq!(preview.entries_after, 2);
    assert_eq!(preview.refusals.len(), 1);
    assert_eq!(preview.refusals[0].index, 5);
    assert_eq!(files(dir.path()), disk, "a preview writes nothing");
    assert_eq!(p.release(), 1);
    // Without the refused change, publishing does what the preview said.
    let report = p.publish(&batch[..5], &[&key], NOW + 1).unwrap();
    assert_eq!(
        (report.added, report.changed, report.removed, report.entries),
        (1, 1, 1, 2)
    );
    assert_eq!(report.state_digest, preview.state_digest);
    assert_eq!(report.state_digest.0, p.state_digest());
    // The report's artifacts are the manifest's, with their real sizes.
    let m = manifest_at(dir.path());
    assert_eq!(report.artifacts, m.artifacts);
    for a in &report.artifacts {
        let len = std::fs::metadata(dir.path().join(&a.path)).unwrap().len();
        assert_eq!(len, a.size);
    }
    assert!(report.new_artifact_bytes > 0);
    assert_eq!(
        report.manifest_bytes,
        std::fs::metadata(dir.path().join("v1/manifest"))
            .unwrap()
            .len()
    );
}

#[test]
fn the_config_is_saved_and_only_changed_explicitly() {
    let dir = tempfile::tempdir().unwrap();
    let config = PublishConfig {
        max_delta_span: 8,
        snapshot_interval: 4,
        validity_secs: 3600,
        compression: Some(wire::Compression::Zlib),
    };
    let p = Publisher::create(dir.path(), "cn-test", config).unwrap();
    drop(p);
    assert!(matches!(
        Publisher::create(dir.path(), "cn-test", PublishConfig::default()),
        Err(PublishError::AlreadyExists)
    ));
    let mut p = Publisher::open(dir.path()).unwrap();
    assert_eq!(p.config(), config);
    assert!(matches!(
        p.set_config(PublishConfig {
            snapshot_interval: 16,
            ..config
        }),
        Err(PublishError::Config(_))
    ));
    let wider = PublishConfig {
        max_delta_span: 32,
        snapshot_interval: 32,
        ..config
    };
    p.set_config(wider).unwrap();
    assert_eq!(Publisher::open(dir.path()).unwrap().config(), wider);
}

/// Whatever the configuration changes to, every manifest offers a way from any earlier release
/// and from its snapshot: the client's rule is one delta whose base is at or before what it
/// holds.
#[test]
fn changing_spans_between_releases_keeps_every_release_reachable() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let narrow = PublishConfig {
        max_delta_span: 4,
        snapshot_interval: 2,
        ..PublishConfig::default()
    };
    let mut p = Publisher::create(dir.path(), "cn-test", narrow).unwrap();
    let configs = [
        (6, PublishConfig::default()),
        (12, narrow),
        (15, PublishConfig::default()),
    ];
    for n in 1..=40u64 {
        if let Some((_, c)) = configs.iter().find(|(at, _)| *at == n) {
            p.set_config(*c).unwrap();
        }
        let k = phone(&format!("+86138{:08}", n));
        p.publish(&[Change::Upsert(k, value(Risk::High, false))], &[&key], NOW)
            .unwrap();
        let m = manifest_at(dir.path());
        let snap = m.snapshot().unwrap();
        assert!(
            snap.from_release == n || m.delta_for(snap.from_release).is_some(),
            "release {n}: no delta from the snapshot at {}",
            snap.from_release
        );
        assert!(m.delta_for(n - 1).is_some(), "release {n}");
        for a in &m.artifacts {
            assert!(dir.path().join(&a.path).exists());
        }
    }
}

fn batch_of(from: u64, count: u64) -> Vec<Change> {
    // Numbers spread over the range, so the list does not compress to nothing.
    (from..from + count)
        .map(|i| {
            let n = i.wrapping_mul(2_654_435_761) % 100_000_000;
            Change::Upsert(phone(&format!("+86139{n:08}")), value(Risk::High, false))
        })
        .collect()
}

/// After a release that imports a list much bigger than the offered snapshot, no skip delta
/// spans that release (no client would take it over the snapshot); every release stays
/// reachable from the snapshot, and ordinary skip deltas are still offered.
#[test]
fn no_skip_delta_spans_an_import_bigger_than_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let mut p = Publisher::create(dir.path(), "cn-test", PublishConfig::default()).unwrap();
    p.publish(&batch_of(0, 3), &[&key], NOW).unwrap();
    p.publish(&batch_of(1_000, 3_000), &[&key], NOW).unwrap();
    for n in 3..=10u64 {
        p.publish(&batch_of(n * 10_000, 5), &[&key], NOW).unwrap();
        let m = manifest_at(dir.path());
        let deltas: Vec<u64> = m
            .artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::Delta)
            .map(|a| a.from_release)
            .collect();
        assert!(
            deltas.iter().all(|&base| base >= 2),
            "release {n}: {deltas:?}"
        );
        assert!(m.delta_for(n - 1).is_some(), "release {n}");
        let snap = m.snapshot().unwrap();
        assert!(snap.from_release >= 2, "release {n}");
        assert!(
            snap.from_release == n || m.delta_for(snap.from_release).is_some(),
            "release {n}: no delta from the snapshot at {}",
            snap.from_release
        );
        if n >= 6 {
            // Skip deltas over the small releases after the import are still cut.
            assert!(deltas.len() >= 2, "release {n}: {deltas:?}");
        }
    }
}

#[test]
fn the_state_file_is_versioned_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let mut p = Publisher::create(dir.path(), "cn-test", PublishConfig::default()).unwrap();
    p.publish(
        &[Change::Upsert(
            phone("+8613800138000"),
            value(Risk::High, false),
        )],
        &[&key],
        NOW,
    )
    .unwrap();
    let state = dir.path().join("publisher/state");
    let good = std::fs::read(&state).unwrap();
    assert_eq!(&good[..4], b"FSPB");
    assert_eq!(good[4], STATE_FORMAT_VERSION);

    let mut newer = good.clone();
    newer[4] = STATE_FORMAT_VERSION + 1;
    std::fs::write(&state, &newer).unwrap();
    let e = Publisher::open(dir.path()).unwrap_err();
    assert!(
        matches!(e, PublishError::UnsupportedState { found, expected }
            if found == STATE_FORMAT_VERSION + 1 && expected == STATE_FORMAT_VERSION),
        "{e}"
    );
    // A file of the unversioned format that came before.
    std::fs::write(&state, b"FSPS\x07cn-test").unwrap();
    assert!(matches!(
        Publisher::open(dir.path()),
        Err(PublishError::UnsupportedState { found: 0, .. })
    ));
    // Any flipped byte or a truncation is caught by the checksum.
    for i in [5, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[i] ^= 0x10;
        std::fs::write(&state, &bad).unwrap();
        let e = Publisher::open(dir.path()).unwrap_err();
        assert!(matches!(e, PublishError::Corrupt(_)), "byte {i}: {e}");
    }
    std::fs::write(&state, &good[..good.len() - 7]).unwrap();
    assert!(matches!(
        Publisher::open(dir.path()),
        Err(PublishError::Corrupt(_))
    ));
    // A damaged list file is caught by its recorded hash.
    std::fs::write(&state, &good).unwrap();
    let list = std::fs::read_dir(dir.path().join("publisher"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".fsw"))
        .unwrap();
    let bytes = std::fs::read(&list).unwrap();
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    std::fs::write(&list, &bad).unwrap();
    assert!(matches!(
        Publisher::open(dir.path()),
        Err(PublishError::Corrupt(_))
    ));
    std::fs::write(&list, &bytes).unwrap();
    assert_eq!(Publisher::open(dir.path()).unwrap().release(), 1);
}

#[test]
fn a_failed_write_before_the_commit_point_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let mut p = Publisher::create(dir.path(), "cn-test", PublishConfig::default()).unwrap();
    p.publish(
        &[Change::Upsert(
            phone("+8613800138000"),
            value(Risk::High, false),
        )],
        &[&key],
        NOW,
    )
    .unwrap();
    let before = held(&p);
    let manifest = std::fs::read(dir.path().join("v1/manifest")).unwrap();
    // The list file of release 2 cannot be written (a directory is in its way): the artifacts
    // were written, the commit point is not reached.
    let blocker = dir.path().join("publisher/list-0000000000000002.fsw");
    std::fs::create_dir(&blocker).unwrap();
    let batch = [Change::Upsert(
        phone("+8613800138001"),
        value(Risk::High, false),
    )];
    assert!(matches!(
        p.publish(&batch, &[&key], NOW + 1),
        Err(PublishError::Io(_))
    ));
    assert_eq!(held(&p), before);
    assert_eq!(
        std::fs::read(dir.path().join("v1/manifest")).unwrap(),
        manifest
    );
    assert_eq!(held(&Publisher::open(dir.path()).unwrap()), before);
    std::fs::remove_dir(&blocker).unwrap();
    assert_eq!(p.publish(&batch, &[&key], NOW + 1).unwrap().release, 2);
    assert_eq!(held(&Publisher::open(dir.path()).unwrap()), held(&p));
}

#[test]
fn resign_serves_the_same_release_with_a_new_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let mut p = Publisher::create(dir.path(), "cn-test", PublishConfig::default()).unwrap();
    assert!(matches!(
        p.resign(&[&key], NOW),
        Err(PublishError::NothingPublished)
    ));
    p.publish(
        &[Change::Upsert(
            phone("+8613800138000"),
            value(Risk::High, false),
        )],
        &[&key],
        NOW,
    )
    .unwrap();
    let first = manifest_at(dir.path());
    let disk: Vec<String> = files(dir.path())
        .into_keys()
        .filter(|k| k.starts_with("artifacts"))
        .collect();
    let report = p.resign(&[&key], NOW + 3600).unwrap();
    let second = manifest_at(dir.path());
    assert_eq!(report.release, 1);
    assert_eq!(report.new_artifact_bytes, 0);
    assert_eq!(
        Manifest {
            created_at: first.created_at,
            expires_at: first.expires_at,
            ..second.clone()
        },
        first
    );
    assert_eq!(second.created_at, NOW + 3600);
    assert_eq!(second.expires_at, NOW + 3600 + p.config().validity_secs);
    let after: Vec<String> = files(dir.path())
        .into_keys()
        .filter(|k| k.starts_with("artifacts"))
        .collect();
    assert_eq!(after, disk, "a re-sign writes no artifact");
    // Saved: a reopened publisher re-signs from there, and never back in time.
    let mut p = Publisher::open(dir.path()).unwrap();
    assert_eq!(p.manifest(), Some(&second));
    assert!(matches!(
        p.resign(&[&key], NOW + 10),
        Err(PublishError::Config(_))
    ));
    assert!(matches!(
        p.resign(&[], NOW + 7200),
        Err(PublishError::NoSigner)
    ));
}

// ---------------------------------------------------------------------------------------------
// Property: the publisher and a client agree on every batch.

fn pool_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        (0u32..12).prop_map(|i| phone(&format!("+86138{:08}", i * 7919))),
        (0u32..3).prop_map(|i| Key::new(Kind::Qq, &format!("{}", 10_000 + i))),
        Just(Key::new(Kind::Bank, "6222021234567890123")),
        Just(Key::new(Kind::Alipay, "user@example.com")),
    ]
}

fn prefix_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        Just(phone("+86170")),
        Just(phone("+86755")),
        Just(phone("+8613812")),
    ]
}

/// Changes the rules refuse, of every kind.
fn bad_change() -> impl Strategy<Value = Change> {
    let v = value(Risk::High, false);
    let rule = value(Risk::High, true);
    prop_oneof![
        Just(Change::Upsert(Key::new(Kind::Qq, "10000"), rule)),
        Just(Change::Upsert(phone("+86"), rule)),
        Just(Change::Upsert(phone("+861"), rule)),
        Just(Change::Upsert(phone("170"), rule)),
        Just(Change::Upsert(phone("008613800000000"), v)),
        Just(Change::Upsert(phone("13800000000"), v)),
        Just(Change::Upsert(Key::new(Kind::Qq, "012345"), v)),
        Just(Change::Upsert(
            Key::new(Kind::Alipay, "User@example.com"),
            v
        )),
        Just(Change::Upsert(phone("110"), v)),
        Just(Change::Upsert(phone("96110"), v)),
        Just(Change::Remove(phone("+86 138"))),
    ]
}

fn any_value(prefix: bool) -> impl Strategy<Value = EntryValue> {
    (0u8..8, 1u8..4, 0u8..8).prop_map(move |(c, r, b)| EntryValue {
        category: Category::from_code(c),
        risk: Risk::from_code(r).unwrap(),
        reports: ReportBucket::new(b).unwrap(),
        prefix,
    })
}

fn good_change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => (pool_key(), any_value(false)).prop_map(|(k, v)| Change::Upsert(k, v)),
        1 => (prefix_key(), any_value(true)).prop_map(|(k, v)| Change::Upsert(k, v)),
        2 => pool_key().prop_map(Change::Remove),
        1 => prefix_key().prop_map(Change::Remove),
    ]
}

fn batch() -> impl Strategy<Value = Vec<Change>> {
    prop_oneof![
        3 => proptest::collection::vec(good_change(), 0..10),
        2 => (
            proptest::collection::vec(good_change(), 0..8),
            proptest::collection::vec(bad_change(), 1..3),
            any::<proptest::sample::Index>(),
        )
            .prop_map(|(mut good, bad, at)| {
                for b in bad {
                    let i = at.index(good.len() + 1);
                    good.insert(i, b);
                }
                good
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any batch the publisher accepts, a client store applies from the published delta and
    /// reaches the manifest's digest; any batch it refuses leaves it unchanged, in memory and
    /// on disk (reopened and compared).
    #[test]
    fn publisher_and_client_agree(batches in proptest::collection::vec(batch(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let phone_dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate().unwrap();
        let config = PublishConfig { max_delta_span: 4, snapshot_interval: 2, ..PublishConfig::default() };
        let mut p = Publisher::create(dir.path(), "cn-test", config).unwrap();
        let store = Store::open(phone_dir.path(), StoreOptions::default()).unwrap();
        for (i, b) in batches.iter().enumerate() {
            let before = held(&p);
            let disk = files(dir.path());
            let preview = p.preview(b);
            match p.publish(b, &[&key], NOW + i as i64) {
                Ok(report) => {
                    prop_assert!(preview.refusals.is_empty());
                    prop_assert_eq!(report.state_digest, preview.state_digest);
                    let m = manifest_at(dir.path());
                    // The client path: the span-1 delta, decoded and staged by the store.
                    let d = m.delta_for(m.release - 1).unwrap();
                    prop_assert_eq!(d.kind, ArtifactKind::Delta);
                    let bytes = std::fs::read(dir.path().join(&d.path)).unwrap();
                    let changes = wire::decode(&bytes, None, &Limits::default()).unwrap().changes();
                    let staged = store.stage(&changes).unwrap();
                    prop_assert_eq!(staged.digest().0, m.state_digest);
                    store.commit(staged, m.release, &[]).unwrap();
                    // The same batch as given, applied directly, agrees too.
                    let direct = store.stage(b).unwrap();
                    prop_assert_eq!(direct.digest().0, m.state_digest);
                    prop_assert_eq!(store.digest().0, p.state_digest());
                    // And the snapshot it offers has the same digest.
                    let s = m.snapshot().unwrap();
                    let snap = wire::decode(&std::fs::read(dir.path().join(&s.path)).unwrap(), None, &Limits::default()).unwrap();
                    if s.from_release == m.release {
                        let lt = fraudshield_core::digest::LtHash::of_entries(snap.entries.iter().map(|(k, v)| (k.as_bytes(), *v)));
                        prop_assert_eq!(lt.digest().0, m.state_digest);
                    }
                }
                Err(PublishError::Refused(refusals)) => {
                    prop_assert_eq!(&refusals, &preview.refusals);
                    prop_assert!(!refusals.is_empty());
                    prop_assert_eq!(held(&p), before.clone());
                    prop_assert_eq!(files(dir.path()), disk);
                    prop_assert_eq!(held(&Publisher::open(dir.path()).unwrap()), before);
                }
                Err(e) => prop_assert!(false, "unexpected error: {}", e),
            }
        }
        prop_assert_eq!(held(&Publisher::open(dir.path()).unwrap()), held(&p));
    }
}

#[test]
fn a_deployment_protects_its_own_numbers_too() {
    use fraudshield_core::rules::Protected;
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let mut p = Publisher::create(dir.path(), "cn-test", PublishConfig::default()).unwrap();
    let hotline = phone("+8613800000095");
    let batch = [Change::Upsert(hotline.clone(), value(Risk::High, false))];
    assert!(p.preview(&batch).refusals.is_empty());
    p.set_protected(Protected::with(["+8613800000095"]));
    let refusals = p.preview(&batch).refusals;
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].error, ChangeError::Protected);
    // The built-in lines stay vetoed, and a rule covering the hotline is refused too.
    let more = [
        Change::Upsert(phone("110"), value(Risk::High, false)),
        Change::Upsert(phone("+86138000"), value(Risk::High, true)),
    ];
    let errors: Vec<ChangeError> = p
        .preview(&more)
        .refusals
        .into_iter()
        .map(|r| r.error)
        .collect();
    assert_eq!(
        errors,
        [ChangeError::Protected, ChangeError::CoversProtected]
    );
    assert!(matches!(
        p.publish(&batch, &[&key], NOW),
        Err(PublishError::Refused(_))
    ));
    assert_eq!(p.release(), 0);
}
