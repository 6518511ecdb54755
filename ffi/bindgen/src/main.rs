//! `uniffi-bindgen` for fraudshield: generates Kotlin and Swift from the compiled
//! `fraudshield-ffi` library. Run through `scripts/bindings.sh`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
