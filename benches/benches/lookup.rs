//! Lookup of present and absent keys: fraudshield's store (a full check: protected numbers,
//! user lists, exact entry, prefix walk, overlay, policy) next to what a developer would use
//! instead, on the same keys and queries.
//!
//! `cargo bench -p fraudshield-benches --bench lookup` (sizes: see `bench_support::sizes`).

mod common;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fraudshield_benches::alternatives::{
    FilteredFst, FstList, HashList, Lookup, SortedList, SqliteList, SqliteSetup,
};
use fraudshield_benches::bench_support::{self, Cycle};
use fraudshield_benches::ours::Session;
use fraudshield_benches::synth::{Blocklist, DEFAULT_SEED};
use std::hint::black_box;

fn lookups(c: &mut Criterion) {
    for n in bench_support::sizes() {
        let list = Blocklist::generate(n, DEFAULT_SEED);
        let present = list.present_queries(10_000, 1);
        let absent = list.absent_queries(10_000, 2);
        let dir = tempfile::tempdir().expect("temp dir");
        let ours = Session::open(&list, &[]).expect("store");
        let ours_lookup = ours.lookup();
        let alternatives: Vec<(&str, Box<dyn Lookup + '_>)> = vec![
            ("ours_store", Box::new(ours_lookup)),
            (
                "fst_map",
                Box::new(FstList::build(list.entries()).expect("fst")),
            ),
            (
                "fst_map_bloom",
                Box::new(FilteredFst::build(list.entries()).expect("fst")),
            ),
            ("hash_map", Box::new(HashList::build(list.entries()))),
            ("sorted_vec", Box::new(SortedList::build(list.entries()))),
            (
                "sqlite_defaults",
                Box::new(
                    SqliteList::build(&dir.path().join("d"), list.entries(), SqliteSetup::Defaults)
                        .expect("sqlite"),
                ),
            ),
            (
                "sqlite_tuned",
                Box::new(
                    SqliteList::build(&dir.path().join("t"), list.entries(), SqliteSetup::Tuned)
                        .expect("sqlite"),
                ),
            ),
        ];
        for (which, queries) in [("present", &present), ("absent", &absent)] {
            let mut group = c.benchmark_group(format!("lookup_{which}"));
            for (name, alt) in &alternatives {
                group.bench_with_input(BenchmarkId::new(*name, n), queries, |b, q| {
                    let mut cycle = Cycle::new(q);
                    b.iter(|| alt.get(black_box(cycle.next())))
                });
            }
            group.finish();
        }
    }
}

criterion_group! { name = benches; config = common::config(); targets = lookups }
criterion_main!(benches);
