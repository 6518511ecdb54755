//! Fuzz target `wire_body`: see [`fraudshield_fuzz::wire_body`] and `fuzz/README.md`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fraudshield_fuzz::wire_body(data));
