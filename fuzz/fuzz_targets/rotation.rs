//! Fuzz target `rotation`: see [`fraudshield_fuzz::rotation`] and `fuzz/README.md`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fraudshield_fuzz::rotation(data));
