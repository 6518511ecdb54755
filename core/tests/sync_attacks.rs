//! One named test per attack on the update path. Every test runs a real HTTP server on
//! loopback serving real artifacts, and ends by showing that lookups still answer from the last
//! good state with nothing lost.
#![allow(clippy::unwrap_used)]

mod sync_support;

use fraudshield_core::sync::{Rejection, SyncError, UpdatePath};
use sync_support::*;

#[test]
fn first_sync_then_delta_then_up_to_date() {
    let mut w = World::new(2000);
    let store = w.open_store();
    let r = w.sync(&store).unwrap();
    assert_eq!((r.release_before, r.release), (0, 1));
    assert_serves(&store, &w.history, 1);
    w.publish_random(40);
    let r = w.sync(&store).unwrap();
    assert_eq!(r.path, UpdatePath::Delta);
    assert_eq!(r.requests, 2);
    assert_serves(&store, &w.history, 2);
    // Nothing changed: one conditional request, a 304 with no body.
    let r = w.sync(&store).unwrap();
    assert_eq!(r.path, UpdatePath::UpToDate);
    assert_eq!((r.requests, r.bytes_downloaded), (1, 0));
    assert_serves(&store, &w.history, 2);
}

#[test]
fn bad_signature_payload_and_signature_bytes() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(20);
    let good = w.manifest_bytes();
    // A flipped byte inside the signed payload (the release's created-at field), then inside
    // the signature.
    let bundle = fraudshield_core::release::signed::Bundle::decode(&good).unwrap();
    let mut payload_flip = bundle.clone();
    payload_flip.manifest.payload[30] ^= 0x01;
    let mut sig_flip = bundle.clone();
    sig_flip.manifest.signatures[0].1[10] ^= 0x80;
    for forged in [payload_flip.encode(), sig_flip.encode()] {
        w.server.set(
            "/v1/manifest",
            Behavior::Fixed {
                status: 200,
                headers: vec![],
                body: forged,
            },
        );
        assert_eq!(
            w.sync(&store),
            Err(SyncError::InvalidUpdate(Rejection::BadSignature))
        );
        assert_serves(&store, &w.history, 1);
    }
    w.server.clear_all();
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 2);
}
