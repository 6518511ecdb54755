//! Link options of the shared library (`libfraudshield_ffi.so`, the cdylib; the iOS static
//! library is linked by the app and is unaffected).
//!
//! Relative relocations are packed (RELR): a position-independent library holds thousands of
//! pointers that the loader adjusts at load time; as plain RELA entries they take 24 bytes
//! each (about 115 KB of the library here), as a RELR bitmap a few KB. Measured on the x86_64
//! host build: 2,191,784 → 2,075,632 bytes stripped.
//! - Linux (glibc 2.36+, the host build the tests load): `-z pack-relative-relocs`.
//! - Android: bionic reads RELR from API 28 with the Android-specific tags (standard tags from
//!   API 30); the library's minimum is API 29 (`cargo ndk --platform 29`), hence
//!   `--pack-dyn-relocs=android+relr --use-android-relr-tags`. Not linked on these machines
//!   (no NDK): see android/README.md.
fn main() {
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs");
        }
        Ok("android") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,--pack-dyn-relocs=android+relr");
            println!("cargo:rustc-cdylib-link-arg=-Wl,--use-android-relr-tags");
        }
        _ => {}
    }
}
