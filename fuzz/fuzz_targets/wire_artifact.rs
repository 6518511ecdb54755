//! Fuzz target `wire_artifact`: see [`fraudshield_fuzz::wire_artifact`] and `fuzz/README.md`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fraudshield_fuzz::wire_artifact(data));
