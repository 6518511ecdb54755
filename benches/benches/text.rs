//! Normalization of raw dressed phone numbers and `scan_text` on SMS samples.
//!
//! `cargo bench -p fraudshield-benches --bench text`.

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fraudshield_benches::bench_support::{self, Cycle};
use fraudshield_benches::synth::{self, Blocklist, DEFAULT_SEED};
use fraudshield_core::identifier;
use fraudshield_core::kind::Kind;
use fraudshield_core::scan;
use std::hint::black_box;

fn text(c: &mut Criterion) {
    let n = if bench_support::benchmarking() {
        200_000
    } else {
        2_000
    };
    let list = Blocklist::generate(n, DEFAULT_SEED);
    let mut keys = list.present_queries(5_000, 1);
    keys.retain(|k| k.kind() == Kind::Phone);
    keys.extend(list.absent_queries(5_000, 2));
    let dressed = synth::dress(&keys, 3);
    let messages = synth::messages(&list, 1_000, 4);

    let mut group = c.benchmark_group("text");
    group.throughput(Throughput::Elements(1));
    group.bench_function("normalize_dressed_phone", |b| {
        let mut cycle = Cycle::new(&dressed);
        b.iter(|| identifier::normalize(Kind::Phone, black_box(&cycle.next().raw)).is_ok())
    });
    group.bench_function("scan_text_sms", |b| {
        let mut cycle = Cycle::new(&messages);
        b.iter(|| scan::scan_text(black_box(cycle.next())).len())
    });
    group.finish();
}

criterion_group! { name = benches; config = common::config(); targets = text }
criterion_main!(benches);
