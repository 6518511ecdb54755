//! Measurements behind the wire-format decisions (run on demand, they print a report):
//! `cargo test --release -p fraudshield-core --test sync_measure -- --ignored --nocapture`
//!
//! Sizes are exact byte counts; times are single runs on the machine at hand and only
//! compare alternatives with each other.
#![allow(clippy::unwrap_used)]

mod sync_support;

use fraudshield_core::entry::{Change, EntryValue};
use fraudshield_core::key::Key;
use fraudshield_core::release::wire::{self, Compression, Limits};
use std::collections::BTreeMap;
use std::time::Instant;
use sync_support::{Rng, delta_changes, initial_changes};

/// log2 C(u, n), exactly by summation.
fn log2_binomial(u: f64, n: u64) -> f64 {
    (0..n)
        .map(|i| ((u - i as f64) / (n - i) as f64).log2())
        .sum()
}

/// The generator's universe for each key class (see `sync_support::random_key`).
fn universe(k: &Key) -> (String, f64) {
    let c = k.canonical();
    match k.kind() {
        fraudshield_core::kind::Kind::Phone if c.len() == 14 && c.starts_with("+861") => {
            ("mobile".into(), 38e8)
        }
        fraudshield_core::kind::Kind::Phone => (
            format!("landline{}", c.len()),
            10f64.powi(c.len() as i32 - 3),
        ),
        fraudshield_core::kind::Kind::Bank => (
            format!("bank{}", c.len()),
            4.0 * 10f64.powi(c.len() as i32 - 6),
        ),
        fraudshield_core::kind::Kind::Qq => (
            format!("qq{}", c.len()),
            9.0 * 10f64.powi(c.len() as i32 - 1),
        ),
        fraudshield_core::kind::Kind::Alipay => ("alipay".into(), 1e12),
    }
}

/// Information bound in bits for the key set, and the empirical entropy of the values.
fn bound_bits(entries: &[(&Key, u64)]) -> (f64, f64) {
    let mut groups: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    let mut values: BTreeMap<u64, u64> = BTreeMap::new();
    for (k, v) in entries {
        let (name, u) = universe(k);
        groups.entry(name).or_insert((u, 0)).1 += 1;
        *values.entry(*v).or_default() += 1;
    }
    let keys: f64 = groups.values().map(|(u, n)| log2_binomial(*u, *n)).sum();
    let n = entries.len() as f64;
    let h: f64 = values
        .values()
        .map(|c| {
            let p = *c as f64 / n;
            -p * p.log2() * n
        })
        .sum();
    (keys, h)
}

fn list(n: usize, seed: u64) -> BTreeMap<Key, EntryValue> {
    let mut rng = Rng::new(seed);
    initial_changes(&mut rng, n)
        .into_iter()
        .filter_map(|c| match c {
            Change::Upsert(k, v) => Some((k, v)),
            Change::Remove(_) => None,
        })
        .collect()
}

#[test]
#[ignore = "measurement: run with --ignored --nocapture"]
fn measure_snapshot_and_delta_sizes() {
    for n in [200_000usize, 2_000_000] {
        let m = list(n, 42);
        let packed: Vec<(&Key, u64)> = m.iter().map(|(k, v)| (k, v.pack())).collect();
        let (kb, vb) = bound_bits(&packed);
        println!(
            "== {n} entries: bound keys {:.2} B/entry, values {:.2} B/entry, total {:.2} B/entry",
            kb / 8.0 / n as f64,
            vb / 8.0 / n as f64,
            (kb + vb) / 8.0 / n as f64
        );
        for c in [Compression::None, Compression::Zlib] {
            let t = Instant::now();
            let bytes = wire::encode_snapshot("cn", 1, m.iter(), Some(c));
            let enc = t.elapsed();
            let t = Instant::now();
            let d = wire::decode(&bytes, None, &Limits::default()).unwrap();
            let dec = t.elapsed();
            assert_eq!(d.entries.len(), n);
            println!(
                "snapshot {c:?}: {} bytes = {:.3} B/entry (encode {enc:?}, decode {dec:?})",
                bytes.len(),
                bytes.len() as f64 / n as f64
            );
        }
        // FST built from the sorted entries: the alternative to shipping sorted data.
        let t = Instant::now();
        let mut b = fst::MapBuilder::memory();
        for (k, v) in &m {
            b.insert(k.as_bytes(), v.pack()).unwrap();
        }
        let fst_bytes = b.into_inner().unwrap();
        let build = t.elapsed();
        let z = miniz_oxide::deflate::compress_to_vec_zlib(&fst_bytes, 9);
        println!(
            "fst: {} bytes = {:.3} B/entry, zlib'd {} = {:.3} B/entry; build from sorted data {build:?}",
            fst_bytes.len(),
            fst_bytes.len() as f64 / n as f64,
            z.len(),
            z.len() as f64 / n as f64
        );
        // A 1% delta: 60% new, 25% changed, 15% removed.
        let mut rng = Rng::new(7);
        let changes = delta_changes(&mut rng, &m, n / 100);
        let packed: Vec<(&Key, u64)> = changes
            .iter()
            .map(|c| match c {
                Change::Upsert(k, v) => (k, v.pack()),
                Change::Remove(k) => (k, 0),
            })
            .collect();
        let (kb, vb) = bound_bits(&packed);
        println!(
            "1% delta ({} changes): bound keys {:.2} B/change, values {:.2} B/change, total {:.2}",
            changes.len(),
            kb / 8.0 / changes.len() as f64,
            vb / 8.0 / changes.len() as f64,
            (kb + vb) / 8.0 / changes.len() as f64
        );
        for c in [Compression::None, Compression::Zlib] {
            let bytes = wire::encode_delta("cn", 1, 2, &changes, Some(c));
            println!(
                "delta {c:?}: {} bytes = {:.3} B/change",
                bytes.len(),
                bytes.len() as f64 / changes.len() as f64
            );
        }
    }
}

#[test]
#[ignore = "measurement: run with --ignored --nocapture"]
fn measure_catch_up_requests_and_bytes() {
    use fraudshield_core::release::keys::SigningKey;
    use fraudshield_core::release::manifest::Manifest;
    use fraudshield_core::release::publisher::{PublishConfig, Publisher};
    use fraudshield_core::release::signed::Bundle;
    let n = 200_000;
    let releases = 164u64;
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let mut p = Publisher::create(dir.path(), "cn", PublishConfig::default()).unwrap();
    let mut rng = Rng::new(3);
    let mut per_release: Vec<Vec<Change>> = vec![Vec::new()];
    let first = initial_changes(&mut rng, n);
    p.publish(&first, &[&key], 0).unwrap();
    per_release.push(first);
    let t = Instant::now();
    while p.release() < releases {
        let changes = delta_changes(&mut rng, p.entries(), n / 100);
        p.publish(&changes, &[&key], 0).unwrap();
        per_release.push(changes);
    }
    println!(
        "published {releases} releases of 1% changes in {:?}",
        t.elapsed()
    );
    let bundle = std::fs::read(dir.path().join("v1/manifest")).unwrap();
    let m = Manifest::decode(&Bundle::decode(&bundle).unwrap().manifest.payload).unwrap();
    println!(
        "manifest bundle: {} bytes, {} artifacts",
        bundle.len(),
        m.artifacts.len()
    );
    println!("k | requests | bytes (manifest + artifacts) | exact net delta N-k..N | overhead");
    let top = m.release;
    let mut total = (0u64, 0u64);
    for k in 1..=100u64 {
        let at = top - k;
        // The client's rule: the smallest applicable delta unless it reaches half the bytes of
        // snapshot + delta.
        let delta = m.delta_for(at).map(|d| (1u32, d.size));
        let snap = m.snapshot().map(|s| {
            let extra = if s.from_release < top {
                m.delta_for(s.from_release).map_or(0, |d| d.size)
            } else {
                0
            };
            (if s.from_release < top { 2u32 } else { 1 }, s.size + extra)
        });
        let (artifacts, bytes) = match (delta, snap) {
            (Some(d), Some(s)) if s.1 < d.1 * 2 => s,
            (Some(d), _) => d,
            (None, Some(s)) => s,
            (None, None) => panic!("no plan"),
        };
        let mut net: Vec<Change> = Vec::new();
        for c in &per_release[(at + 1) as usize..=(top as usize)] {
            net.extend(c.iter().cloned());
        }
        let exact = wire::encode_delta("cn", at, top, &net, None).len() as u64;
        total.0 += bytes;
        total.1 += exact;
        if k <= 10 || k % 10 == 0 || [16, 17, 32, 33, 64, 65].contains(&k) {
            println!(
                "{k:3} | {} | {} | {exact} | {:.2}x",
                1 + artifacts,
                bundle.len() as u64 + bytes,
                (bundle.len() as u64 + bytes) as f64 / (exact as f64)
            );
        }
    }
    println!(
        "k = 1..100 summed: {} bytes of artifacts vs {} for exact per-client deltas ({:.2}x)",
        total.0,
        total.1,
        total.0 as f64 / total.1 as f64
    );
}

#[test]
#[ignore = "measurement: run with --ignored --nocapture"]
fn measure_end_to_end_sync_of_two_million_entries() {
    use fraudshield_core::release::keys::{KeySet, SigningKey};
    use fraudshield_core::release::publisher::{PublishConfig, Publisher};
    use fraudshield_core::store::{Store, StoreOptions};
    use fraudshield_core::sync::{SyncConfig, http::HttpTransport, sync};
    let n = 2_000_000;
    let tmp = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let pub_dir = tmp.path().join("pub");
    let mut p = Publisher::create(&pub_dir, "cn", PublishConfig::default()).unwrap();
    let mut rng = Rng::new(11);
    let t = Instant::now();
    p.publish(&initial_changes(&mut rng, n), &[&key], sync_support::NOW)
        .unwrap();
    println!("publish release 1 ({n} entries): {:?}", t.elapsed());
    let server = sync_support::Server::start(&pub_dir);
    let config = SyncConfig::new(&server.url(), KeySet::new(vec![key.public()], 1).unwrap());
    let transport = HttpTransport::new().unwrap();
    let store = Store::open(&tmp.path().join("phone"), StoreOptions::default()).unwrap();
    let t = Instant::now();
    let r = sync(&store, &transport, &config, sync_support::NOW).unwrap();
    println!(
        "first sync: {:?} via {:?}, {} requests, {} bytes",
        t.elapsed(),
        r.path,
        r.requests,
        r.bytes_downloaded
    );
    let changes = delta_changes(&mut rng, p.entries(), n / 100);
    let t = Instant::now();
    p.publish(&changes, &[&key], sync_support::NOW).unwrap();
    println!("publish a 1% release: {:?}", t.elapsed());
    let t = Instant::now();
    let r = sync(&store, &transport, &config, sync_support::NOW).unwrap();
    println!(
        "delta sync: {:?} via {:?}, {} requests, {} bytes ({:.2} B/change)",
        t.elapsed(),
        r.path,
        r.requests,
        r.bytes_downloaded,
        r.bytes_downloaded as f64 / changes.len() as f64
    );
    let t = Instant::now();
    let r = sync(&store, &transport, &config, sync_support::NOW).unwrap();
    println!(
        "poll with nothing new: {:?}, {} requests, {} bytes",
        t.elapsed(),
        r.requests,
        r.bytes_downloaded
    );
}
