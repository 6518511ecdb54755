//! Fuzz target `normalize`: see [`fraudshield_fuzz::normalize`] and `fuzz/README.md`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fraudshield_fuzz::normalize(data));
