//! Fuzz target `key_files`: see [`fraudshield_fuzz::key_files`] and `fuzz/README.md`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fraudshield_fuzz::key_files(data));
