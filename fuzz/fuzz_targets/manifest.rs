//! Fuzz target `manifest`: see [`fraudshield_fuzz::manifest`] and `fuzz/README.md`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fraudshield_fuzz::manifest(data));
