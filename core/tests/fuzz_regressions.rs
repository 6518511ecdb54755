//! The fuzz targets under plain `cargo test`: every committed seed (`fuzz/corpus/<target>/`)
//! and every finding (`fuzz/regressions/<target>/`) goes through the very function the fuzzer
//! runs (`fuzz/src/lib.rs`, included below), so CI guards them without a fuzzer or nightly
//! features. Each finding also has a named test that says what it was.
//!
//! The seeds are real artifacts from the real publisher; regenerate them with
//! `cargo test -p fraudshield-core --test fuzz_regressions -- --ignored write_seed_corpora`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn body(target: &str) -> fn(&[u8]) {
    targets::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no fuzz target {target}"))
}

/// The files of `fuzz/<kind>/<target>/`, sorted; none when the folder does not exist.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `f` on each file; returns the names of those it panicked on.
fn failures(f: fn(&[u8]), files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .filter(|p| {
            let data = std::fs::read(p).unwrap();
            catch_unwind(AssertUnwindSafe(|| f(&data))).is_err()
        })
        .map(|p| p.display().to_string())
        .collect()
}

fn replay(target: &str) {
    let seeds = inputs("corpus", target);
    assert!(!seeds.is_empty(), "fuzz/corpus/{target}/ holds no seed");
    let mut all = seeds;
    all.extend(inputs("regressions", target));
    let failed = failures(body(target), &all);
    assert!(failed.is_empty(), "{target} panicked on {failed:?}");
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name));
            }
        )*

        #[test]
        fn every_target_is_replayed() {
            let replayed = [$(stringify!($name)),*];
            let names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
            assert_eq!(names, replayed);
            for entry in std::fs::read_dir(fuzz_dir().join("fuzz_targets")).unwrap() {
                let file = entry.unwrap().file_name().into_string().unwrap();
                let name = file.trim_end_matches(".rs");
                assert!(names.contains(&name), "fuzz target {name} is not replayed here");
            }
        }
    };
}

replay_tests!(
    normalize,
    scan_text,
    wire_artifact,
    wire_body,
    manifest,
    bundle,
    rotation,
    key_files,
    publisher_state,
    snapshot,
);

/// The replay can fail: an input a body panics on is reported by its file name.
#[test]
fn a_panicking_input_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = (dir.path().join("good"), dir.path().join("bad"));
    std::fs::write(&good, b"ok").unwrap();
    std::fs::write(&bad, b"boom").unwrap();
    let f: fn(&[u8]) = |data| assert_ne!(data, b"boom");
    let failed = failures(f, &[good, bad.clone()]);
    assert_eq!(failed, vec![bad.display().to_string()]);
}

/// Writes the seed corpora from real artifacts of the real publisher (deterministic: fixed
/// times and the fixture key). Kept small: a few KiB per file.
#[test]
#[ignore = "writes fuzz/corpus; run by hand to regenerate the seeds"]
fn write_seed_corpora() {
    seeds::write_all(&fuzz_dir().join("corpus"));
}

mod seeds {
    use super::targets::{FIXTURE_KEY_FILE, LIST_ID};
    use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
    use fraudshield_core::identifier::{normalize, normalize_phone_prefix};
    use fraudshield_core::key::Key;
    use fraudshield_core::kind::Kind;
    use fraudshield_core::release::keys::{KeySet, PublicKey, SigningKey};
    use fraudshield_core::release::publisher::{PublishConfig, Publisher};
    use fraudshield_core::release::signed::{Bundle, TrustState};
    use fraudshield_core::release::wire::{self, Compression};
    use fraudshield_core::snapshot;
    use std::path::Path;

    fn put(root: &Path, target: &str, name: &str, data: &[u8]) {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        assert!(
            data.len() <= 8 << 10,
            "seed {target}/{name} is {} bytes",
            data.len()
        );
        std::fs::write(dir.join(name), data).unwrap();
    }

    fn value(i: usize, prefix: bool) -> EntryValue {
        EntryValue {
            category: Category::ALL[1 + i % 7],
            risk: [Risk::High, Risk::Medium, Risk::Low][i % 3],
            reports: ReportBucket::from_count(i as u32 * 7),
            prefix,
        }
    }

    /// A small list with every key class the wire format knows.
    fn first_batch() -> Vec<Change> {
        let mut ids = vec![];
        for (kind, raw) in [
            (Kind::Phone, "+86 138 0013 8000"),
            (Kind::Phone, "13800138001"),
            (Kind::Phone, "010-8888 9999"),
            (Kind::Phone, "400-123-4567"),
            (Kind::Phone, "95588"),
            (Kind::Phone, "1069 0000 1234"),
            (Kind::Phone, "+63 917 123 4567"),
            (Kind::Bank, "6222 0212 3456 7890 123"),
            (Kind::Qq, "87654321"),
            (Kind::Alipay, "2088123412341234"),
            (Kind::Alipay, "user@example.com"),
            (Kind::Alipay, "usher@example.com"),
            (Kind::Alipay, "+8613900139000"),
        ] {
            ids.push((normalize(kind, raw).unwrap().key(), false));
        }
        ids.push((normalize_phone_prefix("+86 170*").unwrap().key(), true));
        ids.iter()
            .enumerate()
            .map(|(i, (k, prefix))| Change::Upsert(k.clone(), value(i, *prefix)))
            .collect()
    }

    fn second_batch() -> Vec<Change> {
        vec![
            Change::Remove(Key::new(Kind::Phone, "95588")),
            Change::Remove(Key::new(Kind::Alipay, "usher@example.com")),
            Change::Upsert(Key::new(Kind::Phone, "+8613800138000"), value(5, false)),
            Change::Upsert(Key::new(Kind::Qq, "10001"), value(6, false)),
        ]
    }

    pub fn write_all(root: &Path) {
        let key = SigningKey::from_file_text(FIXTURE_KEY_FILE).unwrap();
        let trust = KeySet::new(vec![key.public()], 1).unwrap();
        let now = 1_800_000_000;
        for (tag, compression) in [("plain", Compression::None), ("zlib", Compression::Zlib)] {
            let dir = tempfile::tempdir().unwrap();
            let config = PublishConfig {
                compression: Some(compression),
                ..PublishConfig::default()
            };
            let mut p = Publisher::create(dir.path(), LIST_ID, config).unwrap();
            p.publish(&first_batch(), &[&key], now).unwrap();
            put(
                root,
                "bundle",
                &format!("{tag}-release-1"),
                &read(dir.path(), "v1/manifest"),
            );
            if compression == Compression::None {
                // Hand trust to the fixture key plus another: a chain of one statement.
                let next = KeySet::new(vec![key.public(), PublicKey([7; 32])], 1).unwrap();
                p.rotate(&trust, next.clone(), &[&key]).unwrap();
                let advanced = TrustState::pinned(trust.clone())
                    .advance(LIST_ID, p.rotations())
                    .unwrap();
                put(root, "rotation", "statement", &p.rotations()[0].payload);
                put(
                    root,
                    "rotation",
                    "trust-state-pinned",
                    &TrustState::pinned(trust.clone()).encode(),
                );
                put(root, "rotation", "trust-state-rotated", &advanced.encode());
            }
            p.publish(&second_batch(), &[&key], now + 3600).unwrap();
            p.publish(&[], &[&key], now + 7200).unwrap();
            let bundle_bytes = read(dir.path(), "v1/manifest");
            put(root, "bundle", &format!("{tag}-release-3"), &bundle_bytes);
            let bundle = Bundle::decode(&bundle_bytes).unwrap();
            put(
                root,
                "bundle",
                &format!("{tag}-envelope"),
                &bundle.manifest.encode(),
            );
            put(
                root,
                "manifest",
                &format!("{tag}-release-3"),
                &bundle.manifest.payload,
            );
            publisher_seeds(root, tag, dir.path());
            for entry in std::fs::read_dir(dir.path().join("artifacts")).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                let (h, c, body_len, at) = wire::read_header(&bytes).unwrap();
                let kind = match h.kind {
                    wire::WireKind::Delta => "delta",
                    wire::WireKind::Snapshot => "snapshot",
                };
                let name = format!("{tag}-{kind}-{}-{}", h.from_release, h.release);
                put(root, "wire_artifact", &name, &bytes);
                if c == Compression::None {
                    assert_eq!(body_len as usize, bytes.len() - at);
                    let mut seed = vec![u8::from(h.kind == wire::WireKind::Delta)];
                    seed.extend_from_slice(&(h.entry_count as u16).to_be_bytes());
                    seed.extend_from_slice(&bytes[at..]);
                    put(root, "wire_body", &name, &seed);
                }
            }
        }
        snapshot_seeds(root);
        put(
            root,
            "key_files",
            "signing-key",
            FIXTURE_KEY_FILE.as_bytes(),
        );
        put(root, "key_files", "trust", trust.to_trust_file().as_bytes());
        let two = KeySet::new(vec![key.public(), PublicKey([7; 32])], 2).unwrap();
        put(
            root,
            "key_files",
            "trust-two-keys",
            two.to_trust_file().as_bytes(),
        );
        for (i, raw) in [
            "+86 138-0013-8000",
            "0086 13800138000",
            "17951 138 0013 8000",
            "０１０－８８８８９９９９",
            "(0755) 1234 5678",
            "400-123-4567",
            "95588",
            "0063 917 123 4567",
            "+86 170*",
            "170xxxxxxxx",
            "+44 (0)20",
            "6222 0212 3456 7890 123",
            "87654321",
            " User@Example.COM ",
            "2088123412341234",
            "\u{202A}+86 139 0013 9000\u{202C}",
        ]
        .iter()
        .enumerate()
        {
            put(root, "normalize", &format!("{i:02}"), raw.as_bytes());
        }
        for (i, text) in [
            "【客服】退款请加QQ 87654321，或将保证金转账至卡号 6222 0212 3456 7890 123",
            "您好，我是XX银行客服，回电 400-123-4567 或 +86 138 0013 8000，验证码 123456",
            "支付宝账号 user@example.com / 2088123412341234，订单号 202401010001 金额 ¥5000",
            "QQ：12345678、87654321 微信同号 1 3 8 0 0 1 3 8 0 0 0 详见 http://t.cn/abc123",
            "（0755）12345678 转 8001，第3期 20% 5000元 23,560.41 12:30 2024/01/02",
        ]
        .iter()
        .enumerate()
        {
            put(root, "scan_text", &format!("{i:02}"), text.as_bytes());
        }
    }

    /// Real snapshot files (the store's writer): empty, the first batch, and a list with a node
    /// of more than 32 transitions (the FST's indexed layout). Byte 0 picks the body's mode:
    /// 0 = FST bytes sealed by the body, 1 = the whole file as is.
    fn snapshot_seeds(root: &Path) {
        let batch: Vec<(Vec<u8>, u64)> = first_batch()
            .iter()
            .map(|c| match c {
                Change::Upsert(k, v) => (k.as_bytes().to_vec(), v.pack()),
                Change::Remove(k) => (k.as_bytes().to_vec(), 0),
            })
            .collect();
        let mut wide: Vec<(Vec<u8>, u64)> = (0..40u8)
            .map(|i| {
                (
                    vec![3, b'1', b'0', b'0', b'0', b'!' + i],
                    value(usize::from(i), false).pack(),
                )
            })
            .chain((0..40u32).map(|i| {
                let k = Key::new(Kind::Phone, &format!("+86138{:08}", i * 7919));
                (k.into_bytes(), value(i as usize, false).pack())
            }))
            .collect();
        wide.sort();
        for (name, mut entries) in [("empty", vec![]), ("batch", batch), ("wide", wide)] {
            entries.sort();
            let bytes = snapshot::snapshot_bytes(entries).unwrap();
            put(
                root,
                "snapshot",
                &format!("{name}-sealed"),
                &[&[0], &bytes[snapshot::HEADER_LEN..]].concat(),
            );
            put(
                root,
                "snapshot",
                &format!("{name}-file"),
                &[&[1], &bytes[..]].concat(),
            );
        }
    }

    /// The publisher's state and list file in the body's two modes: 0 = the state up to the
    /// list file's name, then the list (the body appends their sizes and hashes), 1 = the state
    /// file as is.
    fn publisher_seeds(root: &Path, tag: &str, dir: &Path) {
        let state = read(dir, "publisher/state");
        let head = &state[..state.len() - 72];
        let name = super::targets::list_file_name(head).unwrap();
        let list = read(dir, &format!("publisher/{name}"));
        let n = u16::try_from(head.len()).unwrap().to_be_bytes();
        let sealed = [&[0, n[0], n[1]], head, &list].concat();
        put(root, "publisher_state", &format!("{tag}-sealed"), &sealed);
        put(
            root,
            "publisher_state",
            &format!("{tag}-file"),
            &[&[1], &state[..]].concat(),
        );
    }

    fn read(dir: &Path, path: &str) -> Vec<u8> {
        std::fs::read(dir.join(path)).unwrap()
    }
}

/// The seeds are what they claim to be (valid artifacts signed by the fixture key), so each
/// target starts from inputs that reach its deepest checks.
#[test]
fn seeds_are_valid_artifacts() {
    use fraudshield_core::release::keys::{KeySet, SigningKey};
    use fraudshield_core::release::manifest::Manifest;
    use fraudshield_core::release::signed::{Bundle, PayloadType, TrustState};
    use fraudshield_core::release::wire::{self, Limits};

    let key = SigningKey::from_file_text(targets::FIXTURE_KEY_FILE).unwrap();
    let trust = KeySet::new(vec![key.public()], 1).unwrap();
    for file in inputs("corpus", "bundle") {
        if file.to_string_lossy().ends_with("envelope") {
            continue;
        }
        let b = Bundle::decode(&std::fs::read(&file).unwrap()).unwrap();
        let state = TrustState::pinned(trust.clone())
            .advance(targets::LIST_ID, &b.rotations)
            .unwrap();
        let payload = b
            .manifest
            .verify(PayloadType::Manifest, &state.keys)
            .unwrap();
        Manifest::decode(payload).unwrap();
    }
    for file in inputs("corpus", "manifest") {
        Manifest::decode(&std::fs::read(&file).unwrap()).unwrap();
    }
    for file in inputs("corpus", "wire_artifact") {
        wire::decode(&std::fs::read(&file).unwrap(), None, &Limits::default()).unwrap();
    }
    for file in inputs("corpus", "publisher_state") {
        let data = std::fs::read(&file).unwrap();
        if data[0] == 1 {
            assert!(data[1..].starts_with(b"FSPB"));
        } else {
            assert_eq!(open_publisher(&data).unwrap().release(), 3);
        }
    }
    for file in inputs("corpus", "snapshot") {
        let data = std::fs::read(&file).unwrap();
        let bytes = match data.split_first() {
            Some((0, fst)) => targets::sealed_snapshot(fst),
            _ => data[1..].to_vec(),
        };
        let s = fraudshield_core::snapshot::Snapshot::from_bytes(&bytes).unwrap();
        assert_eq!(s.is_empty(), file.to_string_lossy().contains("empty"));
    }
}

/// Writes the files the `publisher_state` body writes for `data` and opens them.
fn open_publisher(data: &[u8]) -> Result<fraudshield_core::release::publisher::Publisher, String> {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("publisher");
    std::fs::create_dir(&files).unwrap();
    let targets::PublisherFiles { state, list } = targets::publisher_files(data).unwrap();
    std::fs::write(files.join("state"), state).unwrap();
    if let Some((name, bytes)) = list {
        std::fs::write(files.join(name), bytes).unwrap();
    }
    fraudshield_core::release::publisher::Publisher::open(dir.path()).map_err(|e| e.to_string())
}

/// Finding (publisher_state): a state at release `u64::MAX` (valid hashes, matching manifest
/// and list) opened, and planning the next release (`preview`, `publish`) overflowed: a panic
/// with overflow checks, release 0 after it without. Open now refuses it.
#[test]
fn a_publisher_state_at_the_last_release_number_is_refused() {
    let data = std::fs::read(fuzz_dir().join("regressions/publisher_state/release-max")).unwrap();
    let err = open_publisher(&data).map(|_| ()).unwrap_err();
    assert!(err.contains("no successor"), "{err}");
    targets::publisher_state(&data);
}

/// Found in review while writing the target: the state names the list file and its history
/// deltas, and the publisher read them wherever the names pointed (`/…`, `../…`), e.g. a
/// device file that never ends. Open now accepts only the list name of its release and safe
/// relative history paths.
#[test]
fn a_publisher_state_names_no_file_outside_its_directory() {
    let seed = std::fs::read(fuzz_dir().join("corpus/publisher_state/plain-sealed")).unwrap();
    let n = usize::from(u16::from_be_bytes([seed[1], seed[2]]));
    let (head, list) = seed[3..].split_at(n);
    let name = targets::list_file_name(head).unwrap();
    for outside in ["/etc/hostname", "../state"] {
        let mut state = head[..head.len() - name.len() - 1].to_vec();
        state.push(outside.len() as u8);
        state.extend_from_slice(outside.as_bytes());
        let len = u16::try_from(state.len()).unwrap().to_be_bytes();
        let data = [&[0, len[0], len[1]], &state[..], list].concat();
        let err = open_publisher(&data).map(|_| ()).unwrap_err();
        assert!(err.contains("list file name"), "{outside}: {err}");
    }
}

/// Found by the `snapshot` target built with `-O` (no overflow checks, as phones run it): an FST
/// whose trailer claims 16,777,215 keys and whose graph holds 14 paths, sealed with valid
/// checksums, passes the structural check at open (debug builds too). A stream ends after the paths there are; what the design
/// promises, and the store relies on, is that such a file never passes a full `verify` (which
/// counts the entries and recomputes the digest) and that no lookup on it panics.
#[test]
fn a_snapshot_with_fewer_paths_than_its_count_fails_verification() {
    let data =
        std::fs::read(fuzz_dir().join("regressions/snapshot/fewer-paths-than-count")).unwrap();
    let (mode, rest) = data.split_first().unwrap();
    assert_eq!(mode & 1, 0, "an FST sealed by the body");
    let file = targets::sealed_snapshot(rest);
    // It opens (the open-time check decodes every node but does not count paths)…
    let s = fraudshield_core::snapshot::Snapshot::from_bytes(&file).unwrap();
    let mut stream = s.stream_from(&[]);
    let mut n = 0u64;
    while stream.next().is_some() {
        n += 1;
    }
    assert!(n < s.len(), "{n} of {}", s.len());
    // …and never passes the full check.
    assert!(s.verify().is_err());
    // And the target's body, which checks the same, accepts it.
    targets::snapshot(&data);
}
