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

#[test]
fn untrusted_key() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(20);
    let stranger = fraudshield_core::release::keys::SigningKey::generate().unwrap();
    let forged = resign(&w.manifest_bytes(), |_| {}, &[&stranger]);
    serve(&w.server, "/v1/manifest", forged);
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::UntrustedKey))
    );
    assert_serves(&store, &w.history, 1);
    // A first sync with nothing persisted refuses it too.
    let fresh_dir = w.tmp.path().join("fresh");
    let fresh = fraudshield_core::store::Store::open(&fresh_dir, Default::default()).unwrap();
    assert_eq!(
        w.sync(&fresh),
        Err(SyncError::InvalidUpdate(Rejection::UntrustedKey))
    );
    assert_eq!(fresh.list_version(), 0);
}

#[test]
fn rollback_to_older_release_also_after_restart() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    let old = w.manifest_bytes();
    w.publish_random(20);
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 2);
    serve(&w.server, "/v1/manifest", old.clone());
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::Rollback {
            have: 2,
            offered: 1
        }))
    );
    assert_serves(&store, &w.history, 2);
    // After a restart the floor is read back from the store.
    drop(store);
    let store = w.open_store();
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::Rollback {
            have: 2,
            offered: 1
        }))
    );
    assert_serves(&store, &w.history, 2);
}

#[test]
fn same_release_number_with_different_content() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    let key =
        fraudshield_core::release::keys::SigningKey::from_file_text(&w.key.to_file_text()).unwrap();
    let forged = resign(&w.manifest_bytes(), |m| m.expires_at += 60, &[&key]);
    serve(&w.server, "/v1/manifest", forged);
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::ReleaseConflict))
    );
    assert_serves(&store, &w.history, 1);
    // The same manifest again (without the conditional-request shortcut) is simply up to date.
    serve(&w.server, "/v1/manifest", w.manifest_bytes());
    assert_eq!(w.sync(&store).unwrap().path, UpdatePath::UpToDate);
    let _ = w.publish_random(1);
}

#[test]
fn replay_of_an_old_delta() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(20);
    w.sync(&store).unwrap();
    let m2 = manifest_of(&w.manifest_bytes());
    let old_delta = m2.delta_for(1).unwrap().clone();
    let old_bytes = std::fs::read(w.pub_dir().join(&old_delta.path)).unwrap();
    w.publish_random(20);
    let m3 = manifest_of(&w.manifest_bytes());
    let new_delta = m3.delta_for(2).unwrap().clone();
    // The CDN serves the old delta under the new delta's name.
    serve(
        &w.server,
        &format!("/{}", new_delta.path),
        old_bytes.clone(),
    );
    let e = w.sync(&store).unwrap_err();
    assert!(
        matches!(
            e,
            SyncError::InvalidUpdate(Rejection::ArtifactSize | Rejection::ArtifactHash)
        ),
        "{e:?}"
    );
    assert_serves(&store, &w.history, 2);
    // Even signed into a manifest as "the delta from 2 to 3", its header gives it away.
    let key =
        fraudshield_core::release::keys::SigningKey::from_file_text(&w.key.to_file_text()).unwrap();
    w.server.clear_all();
    let forged = resign(
        &w.manifest_bytes(),
        |m| {
            for a in &mut m.artifacts {
                if a.path == new_delta.path {
                    a.size = old_delta.size;
                    a.sha256 = old_delta.sha256;
                    a.path = old_delta.path.clone();
                }
            }
        },
        &[&key],
    );
    serve(&w.server, "/v1/manifest", forged);
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::ArtifactInvalid))
    );
    assert_serves(&store, &w.history, 2);
    w.server.clear_all();
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 3);
}

#[test]
fn mix_and_match_artifact_from_another_manifest() {
    let mut w = World::new(500);
    let mut other = World::new(500);
    other.publish_random(20);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(20);
    let m = manifest_of(&w.manifest_bytes());
    let d = m.delta_for(1).unwrap().clone();
    let om = manifest_of(&other.manifest_bytes());
    let foreign = std::fs::read(other.pub_dir().join(&om.delta_for(1).unwrap().path)).unwrap();
    serve(&w.server, &format!("/{}", d.path), foreign);
    let e = w.sync(&store).unwrap_err();
    assert!(
        matches!(
            e,
            SyncError::InvalidUpdate(Rejection::ArtifactSize | Rejection::ArtifactHash)
        ),
        "{e:?}"
    );
    assert_serves(&store, &w.history, 1);
    // The snapshot of release 1 served in place of the delta: refused by hash too.
    let snap = std::fs::read(w.pub_dir().join(&m.snapshot().unwrap().path)).unwrap();
    serve(&w.server, &format!("/{}", d.path), snap);
    assert!(matches!(w.sync(&store), Err(SyncError::InvalidUpdate(_))));
    assert_serves(&store, &w.history, 1);
    w.server.clear_all();
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 2);
}

#[test]
fn cross_list_confusion() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    // Another list by the same publisher key, at a higher release.
    let key =
        fraudshield_core::release::keys::SigningKey::from_file_text(&w.key.to_file_text()).unwrap();
    let other_dir = w.tmp.path().join("other");
    let mut other = fraudshield_core::release::publisher::Publisher::create(
        &other_dir,
        "tw-test",
        Default::default(),
    )
    .unwrap();
    let mut rng = Rng::new(99);
    for _ in 0..3 {
        let c = initial_changes(&mut rng, 50);
        other.publish(&c, &[&key], NOW).unwrap();
    }
    let other_manifest = std::fs::read(other_dir.join("v1/manifest")).unwrap();
    serve(&w.server, "/v1/manifest", other_manifest.clone());
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::WrongList))
    );
    assert_serves(&store, &w.history, 1);
    // A new install configured for cn-test refuses it before holding anything.
    let fresh =
        fraudshield_core::store::Store::open(&w.tmp.path().join("fresh"), Default::default())
            .unwrap();
    let mut config = w.config();
    config.list_id = Some("cn-test".into());
    assert_eq!(
        w.sync_with(&fresh, &config, NOW),
        Err(SyncError::InvalidUpdate(Rejection::WrongList))
    );
    // Artifacts of the other list under this list's manifest are refused by hash; and an
    // artifact of the other list signed into this list's manifest is refused by its header.
    w.server.clear_all();
    w.publish_random(10);
    let om = manifest_of(&other_manifest);
    let foreign = om.delta_for(2).unwrap().clone();
    std::fs::copy(
        other_dir.join(&foreign.path),
        w.pub_dir().join(&foreign.path),
    )
    .unwrap();
    let forged = resign(
        &w.manifest_bytes(),
        |m| {
            m.artifacts.retain(|a| a.from_release == 1);
            for a in &mut m.artifacts {
                a.size = foreign.size;
                a.sha256 = foreign.sha256;
                a.path = foreign.path.clone();
            }
        },
        &[&key],
    );
    serve(&w.server, "/v1/manifest", forged);
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::ArtifactInvalid))
    );
    assert_serves(&store, &w.history, 1);
}

#[test]
fn indefinite_freeze_expired_manifest_served_forever() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    let m = manifest_of(&w.manifest_bytes());
    let config = w.config();
    // Days later the server still serves the same manifest (with or without the 304 shortcut).
    let later = m.expires_at + 3600;
    for _ in 0..2 {
        assert_eq!(
            w.sync_with(&store, &config, later),
            Err(SyncError::Stale {
                since: m.expires_at
            })
        );
        serve(&w.server, "/v1/manifest", w.manifest_bytes());
    }
    assert_eq!(
        fraudshield_core::sync::freshness(&store, later, config.clock_skew_secs).unwrap(),
        fraudshield_core::sync::Freshness::Stale {
            release: 1,
            since: m.expires_at
        }
    );
    assert_serves(&store, &w.history, 1);
    // A newer release that is itself expired is not applied either.
    w.server.clear_all();
    w.publish_random(10);
    assert_eq!(
        w.sync_with(&store, &config, later + 3 * 86400),
        Err(SyncError::Stale {
            since: m.expires_at
        })
    );
    assert_serves(&store, &w.history, 1);
    // A fresh one is.
    w.sync_with(&store, &config, NOW + 60).unwrap();
    assert_serves(&store, &w.history, 2);
}

#[test]
fn endless_data_huge_or_unbounded_body() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(20);
    let start = std::time::Instant::now();
    w.server.set(
        "/v1/manifest",
        Behavior::Endless {
            max: std::time::Duration::from_secs(10),
        },
    );
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::TooLarge))
    );
    w.server
        .set("/v1/manifest", Behavior::Huge { declared: 10 << 30 });
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::TooLarge))
    );
    w.server.clear_all();
    let m = manifest_of(&w.manifest_bytes());
    let d = m.delta_for(1).unwrap();
    w.server.set(
        &format!("/{}", d.path),
        Behavior::Endless {
            max: std::time::Duration::from_secs(10),
        },
    );
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::TooLarge))
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert_serves(&store, &w.history, 1);
    w.server.clear_all();
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 2);
}

#[test]
fn decompression_bomb() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(20);
    let m = manifest_of(&w.manifest_bytes());
    let d = m.delta_for(1).unwrap().clone();
    let real = std::fs::read(w.pub_dir().join(&d.path)).unwrap();
    let (_, _, _, offset) = fraudshield_core::release::wire::read_header(&real).unwrap();
    // 256 MiB of zeros, about 256 KiB compressed, declared as 256 MiB (refused before inflating) or
    // as 1 KiB (inflation stops at 1 KiB).
    let zeros = vec![0u8; 256 << 20];
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&zeros, 1);
    drop(zeros);
    let key =
        fraudshield_core::release::keys::SigningKey::from_file_text(&w.key.to_file_text()).unwrap();
    for declared in [256u64 << 20, 1024] {
        let mut bomb = real[..offset - 9].to_vec();
        bomb.push(1); // zlib
        bomb.extend_from_slice(&declared.to_be_bytes());
        bomb.extend_from_slice(&compressed);
        let path = "artifacts/bomb.fsw".to_string();
        std::fs::write(w.pub_dir().join(&path), &bomb).unwrap();
        let forged = resign(
            &w.manifest_bytes(),
            |m| {
                m.artifacts.retain(|a| {
                    a.kind == fraudshield_core::release::manifest::ArtifactKind::Delta
                        && a.from_release == 1
                });
                for a in &mut m.artifacts {
                    a.size = bomb.len() as u64;
                    a.sha256 = fraudshield_core::release::keys::sha256(&bomb);
                    a.path = path.clone();
                }
            },
            &[&key],
        );
        serve(&w.server, "/v1/manifest", forged);
        let mut config = w.config();
        config.limits.max_body_bytes = 64 << 20;
        let e = w.sync_with(&store, &config, NOW).unwrap_err();
        assert!(
            matches!(
                e,
                SyncError::InvalidUpdate(Rejection::TooLarge | Rejection::Decompression)
            ),
            "{e:?}"
        );
        assert_serves(&store, &w.history, 1);
    }
    w.server.clear_all();
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 2);
}

#[test]
fn slow_retrieval_trickling_server_hits_the_deadline() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(20);
    let m = manifest_of(&w.manifest_bytes());
    let d = m.delta_for(1).unwrap();
    let body = std::fs::read(w.pub_dir().join(&d.path)).unwrap();
    w.server.set(
        &format!("/{}", d.path),
        Behavior::Trickle {
            body,
            every: std::time::Duration::from_millis(100),
        },
    );
    let mut config = w.config();
    config.request_timeout = std::time::Duration::from_secs(1);
    let start = std::time::Instant::now();
    let e = w.sync_with(&store, &config, NOW).unwrap_err();
    assert!(matches!(e, SyncError::Network(_)), "{e:?}");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert_serves(&store, &w.history, 1);
    w.server.clear_all();
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 2);
}
