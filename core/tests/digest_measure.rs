//! Measurements, not tests: the cost of one LtHash element hash and of hashing a whole
//! synthetic list. Ignored by default; run in release:
//!
//! ```text
//! cargo test --release -p fraudshield-core --test digest_measure -- --ignored --nocapture \
//!     --test-threads=1
//! ```
//!
//! Nothing here asserts a speed: numbers are printed for the commit message and issue notes.
#![allow(clippy::unwrap_used)]

use fraudshield_core::digest::LtHash;
use std::hint::black_box;
use std::time::Instant;

fn key(i: u64) -> Vec<u8> {
    let mut k = vec![1u8];
    k.extend_from_slice(
        format!("+86138{:08}", i.wrapping_mul(2_654_435_761) % 100_000_000).as_bytes(),
    );
    k
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn measure_expansions() {
    // Candidate element hashes side by side (the v1 BLAKE3 XOF, SHA-256 alone, SHA-256 seed +
    // AES-256-GCM or ChaCha20-Poly1305 keystream of 2 KiB) and the shipped `LtHash::add`.
    use ring::aead::{AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
    let n = 200_000u64;
    let keys: Vec<Vec<u8>> = (0..n).map(key).collect();
    for round in 0..2 {
        let t = Instant::now();
        let mut acc = 0u8;
        for k in &keys {
            let mut h = blake3::Hasher::new_derive_key("ctx");
            h.update(k);
            let mut out = [0u8; 2048];
            h.finalize_xof().fill(&mut out);
            acc ^= out[2047];
        }
        let b3 = t.elapsed().as_nanos() as f64 / n as f64;
        let t = Instant::now();
        for k in &keys {
            let d = ring::digest::digest(&ring::digest::SHA256, k);
            acc ^= d.as_ref()[0];
        }
        let sha = t.elapsed().as_nanos() as f64 / n as f64;
        let mut aead = |alg: &'static ring::aead::Algorithm| {
            let t = Instant::now();
            for k in &keys {
                let d = ring::digest::digest(&ring::digest::SHA256, k);
                let key = LessSafeKey::new(UnboundKey::new(alg, d.as_ref()).unwrap());
                let mut out = [0u8; 2048];
                let _tag = key
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key([0u8; 12]),
                        Aad::empty(),
                        &mut out,
                    )
                    .unwrap();
                acc ^= out[2047];
            }
            t.elapsed().as_nanos() as f64 / n as f64
        };
        let gcm = aead(&AES_256_GCM);
        let chacha = aead(&CHACHA20_POLY1305);
        let t = Instant::now();
        let mut h = LtHash::new();
        for k in &keys {
            h.add(k, 5);
        }
        let lt = t.elapsed().as_nanos() as f64 / n as f64;
        black_box((acc, h));
        println!(
            "round {round}: ns/element blake3-xof {b3:.0}, sha256 {sha:.0}, sha256+aes256gcm {gcm:.0}, \
             sha256+chacha20poly1305 {chacha:.0}, LtHash::add {lt:.0}"
        );
    }
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn measure_lthash() {
    let n = 2_000_000u64;
    let keys: Vec<Vec<u8>> = (0..n).map(key).collect();
    let t = Instant::now();
    let one = LtHash::of_entries(keys.iter().map(|k| (k.as_slice(), 5u64)));
    let single = t.elapsed();
    let t = Instant::now();
    let (all, ()) = LtHash::compute(|sink| {
        for k in &keys {
            sink.add(k, 5);
        }
    });
    let parallel = t.elapsed();
    assert_eq!(one, all);
    println!(
        "{n} entries: of_entries (1 thread) {single:?} = {:.0} ns/entry; compute (all cores) {parallel:?}",
        single.as_nanos() as f64 / n as f64
    );
}
