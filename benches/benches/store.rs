//! fraudshield's store: lookups (present, absent, prefix-covered, from a raw number), snapshot
//! build, cold open to first verdict, applying a 1% delta, compaction; and the wire sizes.
//!
//! `cargo bench -p fraudshield-benches --bench store` (sizes: see `bench_support::sizes`).
//! Lookup latency *while* a delta applies or compaction runs needs a measuring thread and
//! percentiles, which criterion does not model: the `report` binary measures it.

mod common;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fraudshield_benches::bench_support::{self, Cycle};
use fraudshield_benches::synth::{self, Blocklist, DEFAULT_SEED};
use fraudshield_core::entry::Change;
use fraudshield_core::kind::Kind;
use fraudshield_core::snapshot;
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::verdict::Direction;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn options() -> StoreOptions {
    StoreOptions {
        auto_compact_overlay_len: None,
        ..StoreOptions::default()
    }
}

/// The changes that undo `changes` on `list` (so a bench can apply a delta over and over).
fn inverse(list: &Blocklist, changes: &[Change]) -> Vec<Change> {
    changes
        .iter()
        .map(|c| match list.get(c.key().as_bytes()) {
            Some(old) => Change::Upsert(c.key().clone(), old),
            None => Change::Remove(c.key().clone()),
        })
        .collect()
}

fn store_benches(c: &mut Criterion) {
    for n in bench_support::sizes() {
        let list = Blocklist::generate(n, DEFAULT_SEED);
        let dir = tempfile::tempdir().expect("temp dir");
        let store_dir = dir.path().join("store");
        let store = Store::open(&store_dir, options()).expect("store open");
        store
            .install_snapshot(list.entries().iter().cloned(), 1, None, &[])
            .expect("snapshot install");

        let present = list.present_queries(10_000, 1);
        let absent = list.absent_queries(10_000, 2);
        let prefix = list.prefix_queries(10_000, 3);
        let mut phones = present.clone();
        phones.retain(|k| k.kind() == Kind::Phone);
        phones.extend(absent.iter().take(5_000).cloned());
        let dressed = synth::dress(&phones, 4);

        let mut group = c.benchmark_group("store_check");
        for (name, queries) in [
            ("present", &present),
            ("absent", &absent),
            ("prefix", &prefix),
        ] {
            if queries.is_empty() {
                continue;
            }
            group.bench_with_input(BenchmarkId::new(name, n), queries, |b, q| {
                let mut cycle = Cycle::new(q);
                b.iter(|| store.check_key(black_box(cycle.next()), Direction::Incoming))
            });
        }
        group.bench_with_input(BenchmarkId::new("raw_dressed", n), &dressed, |b, q| {
            let mut cycle = Cycle::new(q);
            b.iter(|| {
                store.check_raw(
                    Kind::Phone,
                    black_box(&cycle.next().raw),
                    Direction::Incoming,
                )
            })
        });
        group.finish();

        let mut group = c.benchmark_group("store_ops");
        group.sample_size(10);
        let file = dir.path().join("bench.fst");
        group.bench_with_input(BenchmarkId::new("snapshot_build", n), &list, |b, list| {
            b.iter(|| {
                snapshot::write_snapshot(
                    &file,
                    list.entries().iter().map(|(k, v)| (k.as_bytes(), v.pack())),
                )
                .expect("snapshot build")
            })
        });

        // A 1% delta, applied and undone in turn; only the apply is timed.
        let changes = list.delta((n / 100).max(1), 5);
        let undo = inverse(&list, &changes);
        let mut version = 1u64;
        group.bench_with_input(
            BenchmarkId::new("apply_1pct_delta", n),
            &changes,
            |b, changes| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        version += 1;
                        let t = Instant::now();
                        store.apply(changes, version).expect("delta apply");
                        total += t.elapsed();
                        version += 1;
                        store.apply(&undo, version).expect("delta undo");
                    }
                    total
                })
            },
        );

        // Compaction of a 1%-delta overlay. Before each run the delta, or its undo, is applied
        // (untimed), alternately, so the overlay always holds 1% of real changes.
        let mut forward = true;
        group.bench_with_input(
            BenchmarkId::new("compact_1pct_overlay", n),
            &changes,
            |b, changes| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        version += 1;
                        let batch = if forward { changes } else { &undo };
                        forward = !forward;
                        store.apply(batch, version).expect("delta apply");
                        assert!(store.status().overlay_len > 0, "nothing to compact");
                        let t = Instant::now();
                        store.compact().expect("compaction");
                        total += t.elapsed();
                    }
                    total
                })
            },
        );
        drop(store);

        // Cold open: open the directory (nothing of it mapped by this process) + one check.
        let probe = present[0].clone();
        group.bench_function(BenchmarkId::new("open_to_first_verdict", n), |b| {
            b.iter(|| {
                let s = Store::open(&store_dir, options()).expect("store open");
                s.check_key(&probe, Direction::Incoming)
            })
        });
        group.finish();
    }
}

criterion_group! { name = benches; config = common::config(); targets = store_benches }
criterion_main!(benches);
