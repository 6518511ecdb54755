//! Measurements, not tests: size per entry, lookup latency, cold open to first verdict and the
//! time to apply a 1% delta, at 200k and 2M synthetic entries. Ignored by default; run in release:
//!
//! ```text
//! MEASURE_DIR=/tmp/fs-measure cargo test --release -p fraudshield-core --test store_measure \
//!     -- --ignored --nocapture --test-threads=1 measure_sizes_and_latency
//! # then, for a cold open (page cache dropped first, as root):
//! sync; echo 1 > /proc/sys/vm/drop_caches
//! MEASURE_DIR=/tmp/fs-measure/2000000 cargo test --release -p fraudshield-core \
//!     --test store_measure -- --ignored --nocapture measure_cold_open
//! ```
//!
//! Nothing here asserts a speed: numbers are printed for the issue note.
#![allow(clippy::unwrap_used)]

use fraudshield_core::digest::LtHash;
use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::verdict::Direction;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A synthetic list shaped like the real one: mostly Chinese mobiles, some landlines, 400
/// numbers, overseas numbers, QQ numbers, bank cards, Alipay ids and a few hundred prefix
/// rules. Values: skewed risk/category/report distributions.
fn synthetic(n: usize, seed: u64) -> BTreeMap<Vec<u8>, EntryValue> {
    let mut rng = Rng(seed);
    let mut out = BTreeMap::new();
    let mobile_heads = [
        "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
        "156", "157", "158", "159", "166", "170", "171", "173", "176", "177", "178", "180", "181",
        "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
    ];
    while out.len() < n {
        let r = rng.below(100);
        let (kind, canonical) = match r {
            0..=69 => {
                let head = mobile_heads[rng.below(mobile_heads.len() as u64) as usize];
                (
                    Kind::Phone,
                    format!("+86{head}{:08}", rng.below(100_000_000)),
                )
            }
            70..=74 => (
                Kind::Phone,
                format!("+86{}{:08}", 20 + rng.below(80), rng.below(100_000_000)),
            ),
            75..=76 => (Kind::Phone, format!("+86400{:07}", rng.below(10_000_000))),
            77..=79 => (
                Kind::Phone,
                format!(
                    "+{}{:09}",
                    [63, 855, 95, 66, 60][rng.below(5) as usize],
                    rng.below(1_000_000_000)
                ),
            ),
            80..=89 => (Kind::Qq, format!("{}", 10_000 + rng.below(3_000_000_000))),
            90..=96 => (
                Kind::Bank,
                format!("62{:017}", rng.below(100_000_000_000_000_000)),
            ),
            _ => (
                Kind::Alipay,
                format!("2088{:012}", rng.below(1_000_000_000_000)),
            ),
        };
        let prefix_rule = kind == Kind::Phone && rng.below(2000) == 0;
        let canonical = if prefix_rule {
            canonical[..6.min(canonical.len())].to_string()
        } else {
            canonical
        };
        let risk = match rng.below(10) {
            0..=1 => Risk::Low,
            2..=5 => Risk::Medium,
            _ => Risk::High,
        };
        let category = Category::from_code(match rng.below(10) {
            0..=3 => 2,
            4..=5 => 1,
            6 => 4,
            7 => 5,
            8 => 7,
            _ => rng.below(8) as u8,
        });
        let reports = ReportBucket::new(match rng.below(10) {
            0..=4 => 0,
            5..=7 => 1 + rng.below(2) as u8,
            _ => 3 + rng.below(5) as u8,
        })
        .unwrap();
        out.insert(
            Key::new(kind, &canonical).into_bytes(),
            EntryValue {
                category,
                risk,
                reports,
                prefix: prefix_rule,
            },
        );
    }
    out
}

fn options() -> StoreOptions {
    StoreOptions {
        auto_compact_overlay_len: None,
        ..StoreOptions::default()
    }
}

fn per_op(total: Duration, ops: usize) -> f64 {
    total.as_nanos() as f64 / ops as f64
}

fn measure(n: usize, root: &Path) {
    let dir: PathBuf = root.join(n.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    let list = synthetic(n, 0x1234_5678 ^ n as u64);
    let store = Store::open(&dir, options()).unwrap();

    let t = Instant::now();
    let full = LtHash::of_entries(list.iter().map(|(k, v)| (k.as_slice(), v.pack())));
    let digest_time = t.elapsed();
    let t = Instant::now();
    let parallel = LtHash::of_entries_parallel(list.iter().map(|(k, v)| (k.as_slice(), v.pack())));
    let parallel_time = t.elapsed();
    assert_eq!(parallel, full);

    let t = Instant::now();
    store
        .install_snapshot(
            list.iter().map(|(k, v)| (Key::from_bytes(k).unwrap(), *v)),
            1,
            Some(full.digest()),
            &[],
        )
        .unwrap();
    let install_time = t.elapsed();
    let st = store.status();
    println!("== {n} entries");
    println!(
        "  base file {} bytes = {:.2} B/entry; database {} bytes",
        st.base_file_bytes,
        st.base_file_bytes as f64 / n as f64,
        st.database_bytes
    );
    println!(
        "  digest from scratch: 1 thread {:?} ({:.0} ns/entry), all cores {:?}; install_snapshot (build + digest + fsync + byte check) {:?}",
        digest_time,
        per_op(digest_time, n),
        parallel_time,
        install_time
    );

    // Lookup latency: hits (keys in the list) and misses, through the full verdict path.
    let keys: Vec<Key> = list.keys().map(|k| Key::from_bytes(k).unwrap()).collect();
    let mut rng = Rng(42);
    let probes: Vec<&Key> = (0..1_000_000)
        .map(|_| &keys[rng.below(keys.len() as u64) as usize])
        .collect();
    let t = Instant::now();
    for k in &probes {
        black_box(store.check_key(k, Direction::Incoming));
    }
    let hit = t.elapsed();
    let misses: Vec<Key> = (0..1_000_000)
        .map(|_| Key::new(Kind::Phone, &format!("+86139{:08}", rng.below(100_000_000))))
        .collect();
    let t = Instant::now();
    for k in &misses {
        black_box(store.check_key(k, Direction::Incoming));
    }
    let miss = t.elapsed();
    let raws: Vec<String> = (0..200_000)
        .map(|_| format!("+86 139 {:04} {:04}", rng.below(10_000), rng.below(10_000)))
        .collect();
    let t = Instant::now();
    for r in &raws {
        black_box(store.check_raw(Kind::Phone, r, Direction::Incoming).ok());
    }
    let raw = t.elapsed();
    println!(
        "  lookup (check_key): hit {:.0} ns, miss {:.0} ns; check_raw incl. normalization {:.0} ns",
        per_op(hit, probes.len()),
        per_op(miss, misses.len()),
        per_op(raw, raws.len())
    );

    // 1% delta: half replacements of existing keys, a quarter removals, a quarter new keys.
    let delta_n = n / 100;
    let mut changes = Vec::with_capacity(delta_n);
    for i in 0..delta_n {
        let k = &keys[rng.below(keys.len() as u64) as usize];
        match i % 4 {
            0 | 1 => changes.push(Change::Upsert(
                k.clone(),
                EntryValue {
                    category: Category::Job,
                    risk: Risk::High,
                    reports: ReportBucket::default(),
                    prefix: false,
                },
            )),
            2 => changes.push(Change::Remove(k.clone())),
            _ => changes.push(Change::Upsert(
                Key::new(Kind::Phone, &format!("+86188{:08}", rng.below(100_000_000))),
                EntryValue {
                    category: Category::Loan,
                    risk: Risk::Medium,
                    reports: ReportBucket::default(),
                    prefix: false,
                },
            )),
        }
    }
    let t = Instant::now();
    let staged = store.stage(&changes).unwrap();
    let stage_time = t.elapsed();
    let t = Instant::now();
    store.commit(staged, 2, &[]).unwrap();
    let commit_time = t.elapsed();
    let t = Instant::now();
    for k in &probes[..200_000] {
        black_box(store.check_key(k, Direction::Incoming));
    }
    let hit_overlay = t.elapsed();
    println!(
        "  1% delta ({delta_n} changes): stage {stage_time:?} + commit {commit_time:?}; lookup hit with that overlay {:.0} ns",
        per_op(hit_overlay, 200_000)
    );
    let t = Instant::now();
    store.verify().unwrap();
    let verify_time = t.elapsed();
    let t = Instant::now();
    store.compact().unwrap();
    println!("  verify() {verify_time:?}; compact() {:?}", t.elapsed());
    drop(store);
    // Warm reopen (page cache warm): open to first verdict.
    let t = Instant::now();
    let store = Store::open(&dir, options()).unwrap();
    let opened = t.elapsed();
    black_box(store.check_key(&keys[keys.len() / 2], Direction::Incoming));
    println!(
        "  warm open {opened:?}, open to first verdict {:?}",
        t.elapsed()
    );
}

#[test]
#[ignore = "measurement: run in release with --ignored --nocapture"]
fn measure_sizes_and_latency() {
    let root = std::env::var("MEASURE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("fraudshield-measure"));
    for n in [200_000, 2_000_000] {
        measure(n, &root);
    }
}

#[test]
#[ignore = "measurement: run in release after dropping the page cache"]
fn measure_cold_open() {
    let dir = PathBuf::from(std::env::var("MEASURE_DIR").unwrap());
    let t = Instant::now();
    let store = Store::open(&dir, options()).unwrap();
    let opened = t.elapsed();
    let v = store.check_key(
        &Key::new(Kind::Phone, "+8613800138000"),
        Direction::Incoming,
    );
    let first = t.elapsed();
    let mut rng = Rng(7);
    let t2 = Instant::now();
    for _ in 0..1000 {
        let k = Key::new(Kind::Phone, &format!("+86138{:08}", rng.below(100_000_000)));
        black_box(store.check_key(&k, Direction::Incoming));
    }
    println!(
        "cold open {opened:?}, open to first verdict {first:?} ({:?}); next 1000 cold lookups {:?}",
        v.source,
        t2.elapsed()
    );
}

/// What the checks at open cost: the base snapshot of a synthetic list opened (every byte
/// checksummed, every FST node decoded once) five times, median; and, for comparison, the
/// BLAKE3 pass alone over the same bytes and a store open with a full overlay to replay.
///
/// ```text
/// cargo test --release -p fraudshield-core --test store_measure -- --ignored --nocapture \
///     measure_open_verify
/// ```
#[test]
#[ignore = "measurement: run in release with --ignored --nocapture"]
fn measure_open_verify() {
    use fraudshield_core::snapshot::{HEADER_LEN, Snapshot, write_snapshot};
    let root = std::env::var("MEASURE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("fraudshield-measure"));
    std::fs::create_dir_all(&root).unwrap();
    for n in [200_000, 2_000_000] {
        let list = synthetic(n, 0x1234_5678 ^ n as u64);
        let path = root.join(format!("open-verify-{n}.fst"));
        write_snapshot(&path, list.iter().map(|(k, v)| (k.as_slice(), v.pack()))).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let median = |mut v: Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let opens = (0..5)
            .map(|_| {
                let t = Instant::now();
                black_box(Snapshot::open(&path).unwrap());
                t.elapsed()
            })
            .collect();
        let hashes = (0..5)
            .map(|_| {
                let t = Instant::now();
                black_box(blake3::hash(&bytes[HEADER_LEN..]));
                t.elapsed()
            })
            .collect();
        println!(
            "{n} entries, {} bytes: open + verify {:?} (BLAKE3 alone {:?})",
            bytes.len(),
            median(opens),
            median(hashes)
        );
        let _ = std::fs::remove_file(&path);
    }
}
