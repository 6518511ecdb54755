//! Memory of the publisher at server scale (10M entries), measured with a counting global
//! allocator. Run on demand (release build, under `nice`):
//! `FS_PUB_ENTRIES=10000000 nice -n 15 cargo test --release -p fraudshield-core --all-features
//! --test publisher_measure -- --ignored --nocapture`
//!
//! Figures: heap held by a reopened publisher (the `BTreeMap<Key, EntryValue>` and the rest),
//! the peak while reopening, and the peak above that while publishing a 1% batch.
#![allow(clippy::unwrap_used)]

mod sync_support;

use fraudshield_core::release::keys::SigningKey;
use fraudshield_core::release::publisher::{PublishConfig, Publisher};
use fraudshield_core::release::wire::Compression;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use sync_support::{NOW, Rng, delta_changes, initial_changes};

struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds the `GlobalAlloc`
// contract; the counters are plain atomics and never touch the allocation itself.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same layout as received, forwarded to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (see `alloc`/`realloc`).
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr`/`layout` come from this allocator, forwarded unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
            let now = IN_USE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn reset_peak() -> usize {
    let now = IN_USE.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

#[test]
#[ignore = "a measurement: run on demand, release build"]
fn publisher_memory_at_scale() {
    let n: usize = std::env::var("FS_PUB_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let config = PublishConfig {
        compression: Some(Compression::Zlib),
        ..PublishConfig::default()
    };
    let mut rng = Rng::new(7);
    {
        let mut p = Publisher::create(dir.path(), "cn-measure", config).unwrap();
        let first = initial_changes(&mut rng, n);
        let t = Instant::now();
        let base = reset_peak();
        p.publish(&first, &[&key], NOW).unwrap();
        println!(
            "initial publish of {n}: {:.1} s, peak {:.0} MB above the {:.0} MB held before",
            t.elapsed().as_secs_f64(),
            mb(PEAK.load(Ordering::Relaxed) - base),
            mb(base)
        );
    }
    let before_open = reset_peak();
    let t = Instant::now();
    let mut p = Publisher::open(dir.path()).unwrap();
    let held = IN_USE.load(Ordering::Relaxed) - before_open;
    println!(
        "open: {:.1} s, holds {:.0} MB ({:.1} bytes per entry), peak {:.0} MB",
        t.elapsed().as_secs_f64(),
        mb(held),
        held as f64 / n as f64,
        mb(PEAK.load(Ordering::Relaxed) - before_open)
    );
    let batch = delta_changes(&mut rng, p.entries(), n / 100);
    let base = reset_peak();
    let t = Instant::now();
    let report = p.publish(&batch, &[&key], NOW + 60).unwrap();
    println!(
        "1% publish ({} changes): {:.1} s, peak {:.0} MB above the {:.0} MB held, artifacts {:?}",
        batch.len(),
        t.elapsed().as_secs_f64(),
        mb(PEAK.load(Ordering::Relaxed) - base),
        mb(base),
        report
            .artifacts
            .iter()
            .map(|a| (a.from_release, a.size))
            .collect::<Vec<_>>()
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
    {
        println!("{line}");
    }
}
