//! Fuzz target `bundle`: see [`fraudshield_fuzz::bundle`] and `fuzz/README.md`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fraudshield_fuzz::bundle(data));
