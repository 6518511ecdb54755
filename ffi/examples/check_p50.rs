//! The Rust side of the FFI timing: `Shield::check_call` over 100k calls, called from Rust
//! directly (no FFI, but through the same exported method, panic guard included), on the same
//! list and number as the Kotlin side (`ffi/tests/kotlin/Bench.kt`). Run both sides with `scripts/kotlin-test.sh --bench`, which builds this in the `mobile`
//! profile like the library the Kotlin side loads.

use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::identifier::normalize;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::verdict::{Action, Direction};
use fraudshield_ffi::{Shield, shield_config};
use std::hint::black_box;
use std::time::Instant;

const CALLS: usize = 100_000;
const WARM_UP: usize = 50_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    {
        let store = Store::open(dir.path(), StoreOptions::default())?;
        let value = EntryValue {
            category: Category::PoliceImpersonation,
            risk: Risk::High,
            reports: ReportBucket::from_count(12),
            prefix: false,
        };
        let id = normalize(Kind::Phone, "+86 138 0013 8000")?;
        store.apply(&[Change::Upsert(id.key(), value)], 1)?;
    }
    let key = fraudshield_core::release::keys::SigningKey::generate()?;
    let trust = fraudshield_core::release::keys::KeySet::new(vec![key.public()], 1)?;
    let config = shield_config("https://lists.invalid/cn/", &trust.to_trust_file());
    let shield = Shield::open(&dir.path().to_string_lossy(), config)?;

    let number = "+86 138 0013 8000";
    for _ in 0..WARM_UP {
        black_box(shield.check_call(black_box(number), Direction::Incoming)?);
    }
    let mut nanos = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let start = Instant::now();
        let verdict = shield.check_call(black_box(number), Direction::Incoming)?;
        nanos.push(start.elapsed().as_nanos() as u64);
        assert_eq!(verdict.action, Action::Block);
    }
    let start = Instant::now();
    for _ in 0..CALLS {
        black_box(shield.check_call(black_box(number), Direction::Incoming)?);
    }
    let mean = start.elapsed().as_nanos() as u64 / CALLS as u64;
    nanos.sort_unstable();
    println!(
        "rust    check_call  p50 {:>7} ns  p99 {:>7} ns  mean {:>7} ns  ({CALLS} calls, Rust calling the exported method directly)",
        nanos[CALLS / 2],
        nanos[CALLS * 99 / 100],
        mean
    );

    Ok(())
}
