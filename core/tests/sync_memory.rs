//! Peak heap of a phone's full-snapshot sync (first install: snapshot + top 1% delta), measured
//! with a counting global allocator around one real `sync` against a loopback server.
//! Run on demand: `FS_MEM_ENTRIES=200000 cargo test --release -p fraudshield-core
//! --all-features --test sync_memory -- --ignored --nocapture`
//!
//! The figure is the highest heap in use during the sync minus the heap in use before it; it
//! includes the loopback server thread's copy of each response (one artifact at a time).
//!
//! Measured (release build, one run each):
//!
//! | entries | snapshot artifact | entries materialized (before) | streamed |
//! |---|---|---|---|
//! | 200k | 0.72 MB | 15.98 MB peak, 1.57M allocations | **5.33 MB**, 1.37M allocations |
//! | 2M | 6.19 MB | 159.71 MB peak, 13.46M allocations | **15.87 MB**, 11.44M allocations |
//!
//! What remains at 2M is the artifact bytes (the inflated body the client keeps, the server
//! thread's copy of the response while it is sent), the delta's entries and the FST builder.
#![allow(clippy::unwrap_used)]

mod sync_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use sync_support::World;

struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let now = IN_USE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(now, Ordering::Relaxed);
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the `GlobalAlloc`
// contract; the counters are plain atomics and never touch the allocation itself.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same layout as received, forwarded to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
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
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
#[ignore = "measurement: run in release with --ignored --nocapture"]
fn peak_heap_of_a_full_snapshot_sync() {
    let n: usize = std::env::var("FS_MEM_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let mut w = World::new(n);
    w.publish_random(n / 100);
    let store = w.open_store();
    let snap_size = {
        let m = sync_support::manifest_of(&w.manifest_bytes());
        m.snapshot().unwrap().size
    };
    let before = IN_USE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let allocs = ALLOCATIONS.load(Ordering::Relaxed);
    let t = Instant::now();
    let report = w.sync(&store).unwrap();
    let elapsed = t.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let allocs = ALLOCATIONS.load(Ordering::Relaxed) - allocs;
    assert_eq!(report.release, 2);
    sync_support::assert_serves(&store, &w.history, 2);
    println!(
        "{n} entries ({:?}): snapshot artifact {:.2} MB; peak heap during sync {:.2} MB \
         ({:.1} B/entry), {allocs} allocations, {:.0} ms",
        report.path,
        snap_size as f64 / 1e6,
        peak as f64 / 1e6,
        peak as f64 / n as f64,
        elapsed.as_secs_f64() * 1e3,
    );
}
