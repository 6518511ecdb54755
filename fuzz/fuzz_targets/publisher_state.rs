//! Fuzz target `publisher_state`: see [`fraudshield_fuzz::publisher_state`] and `fuzz/README.md`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fraudshield_fuzz::publisher_state(data));
