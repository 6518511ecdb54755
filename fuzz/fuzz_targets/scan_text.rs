//! Fuzz target `scan_text`: see [`fraudshield_fuzz::scan`] and `fuzz/README.md`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fraudshield_fuzz::scan(data));
