//! Fuzz target `snapshot`: see [`fraudshield_fuzz::snapshot`] and `fuzz/README.md`.
#![no_main]

use std::collections::HashSet;
use std::sync::Mutex;

/// Panic locations already printed.
static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);

libfuzzer_sys::fuzz_target!(
    init: {
        // libfuzzer-sys aborts on every panic, even one the code under test catches, but
        // `Snapshot::from_bytes` catches panics of the `fst` crate on purpose and reports the
        // file as corrupt. So keep unwinding: only a panic that escapes the body is a crash
        // (libfuzzer-sys catches it and aborts). Each distinct panic location is printed once,
        // which also records what the snapshot reader caught.
        std::panic::set_hook(Box::new(|info| {
            let at = info.location().map(|l| l.to_string()).unwrap_or_default();
            let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
            if seen.get_or_insert_with(HashSet::new).insert(at.clone()) {
                eprintln!("panic at {at}: {}", info.payload_as_str().unwrap_or(""));
            }
        }));
    },
    |data: &[u8]| fraudshield_fuzz::snapshot(data)
);
