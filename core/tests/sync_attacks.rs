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
    // A flipped byte inside the signed payload (the expires-at field), then inside
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
    // Another state under the same number: refused.
    let forged = resign(&w.manifest_bytes(), |m| m.state_digest[0] ^= 1, &[&key]);
    serve(&w.server, "/v1/manifest", forged);
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::ReleaseConflict))
    );
    assert_serves(&store, &w.history, 1);
    let fresh_until =
        |store: &fraudshield_core::store::Store| match fraudshield_core::sync::freshness(
            store, NOW, 0,
        )
        .unwrap()
        {
            fraudshield_core::sync::Freshness::Fresh { expires_at, .. } => expires_at,
            other => panic!("{other:?}"),
        };
    let held = fresh_until(&store);
    // The same state signed again with a later expiry but no later creation time cannot
    // extend freshness: ignored, up to date.
    let stretched = resign(&w.manifest_bytes(), |m| m.expires_at += 60, &[&key]);
    serve(&w.server, "/v1/manifest", stretched);
    assert_eq!(w.sync(&store).unwrap().path, UpdatePath::UpToDate);
    assert_eq!(fresh_until(&store), held);
    // The same manifest again (without the conditional-request shortcut) is simply up to date.
    serve(&w.server, "/v1/manifest", w.manifest_bytes());
    assert_eq!(w.sync(&store).unwrap().path, UpdatePath::UpToDate);
    // The publisher's re-sign of the same release: accepted as a refresh of freshness.
    let original = w.manifest_bytes();
    w.server.clear_all();
    let report = w.publisher.resign(&[&w.key], NOW + 100).unwrap();
    assert_eq!(report.release, 1);
    let refreshed = w.sync_with(&store, &w.config(), NOW + 100).unwrap();
    assert_eq!(
        (refreshed.path, refreshed.release),
        (UpdatePath::UpToDate, 1)
    );
    assert_eq!(fresh_until(&store), report.expires_at);
    assert!(report.expires_at > held);
    assert_serves(&store, &w.history, 1);
    // A cache still serving the older signature does not move freshness back.
    serve(&w.server, "/v1/manifest", original);
    assert_eq!(
        w.sync_with(&store, &w.config(), NOW + 100).unwrap().path,
        UpdatePath::UpToDate
    );
    assert_eq!(fresh_until(&store), report.expires_at);
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
    w.server
        .set("/v1/manifest", Behavior::Endless { max_bytes: 1 << 30 });
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
        Behavior::Endless { max_bytes: 1 << 30 },
    );
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::ArtifactSize))
    );
    // The errors prove the caps: without them the manifest would be read to its 1 GiB end and
    // fail to parse (Malformed), and the artifact would not be cut at its announced size.
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
fn slow_retrieval_a_stalled_body_hits_the_deadline() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(20);
    let m = manifest_of(&w.manifest_bytes());
    let d = m.delta_for(1).unwrap();
    let body = std::fs::read(w.pub_dir().join(&d.path)).unwrap();
    w.server.set(
        &format!("/{}", d.path),
        Behavior::Stall {
            head: body[..body.len() / 2].to_vec(),
            declared: body.len() as u64,
        },
    );
    let mut config = w.config();
    config.request_timeout = std::time::Duration::from_secs(1);
    // Half the body, then nothing until the client hangs up: only the deadline can end this
    // sync (a client without one would wait for ever), whatever the machine's speed.
    let e = w.sync_with(&store, &config, NOW).unwrap_err();
    assert!(matches!(e, SyncError::Network(_)), "{e:?}");
    assert_serves(&store, &w.history, 1);
    w.server.clear_all();
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 2);
}

#[test]
fn local_tampering_with_the_stored_files() {
    let mut w = World::new(2000);
    let store = w.open_store();
    w.sync(&store).unwrap();
    // Fold the overlay into the base file, so the entries live in the file tampered with.
    store.compact().unwrap();
    drop(store);
    // Flip bytes in the middle of the base FST file.
    let base = std::fs::read_dir(w.store_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "fst"))
        .unwrap();
    let mut bytes = std::fs::read(&base).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 8] {
        *b ^= 0x5a;
    }
    std::fs::write(&base, &bytes).unwrap();
    let tampered = fraudshield_core::store::Store::open(&w.store_dir(), Default::default());
    let store = match tampered {
        // Caught on open: nothing tampered is served. Start over from a verified snapshot.
        Err(_) => {
            std::fs::remove_dir_all(w.store_dir()).unwrap();
            w.open_store()
        }
        Ok(store) => {
            // Caught by the full check the sync runs before patching.
            assert!(store.verify().is_err());
            store
        }
    };
    w.publish_random(30);
    let mut config = w.config();
    config.verify_local = true;
    let r = w.sync_with(&store, &config, NOW).unwrap();
    assert!(
        matches!(r.path, UpdatePath::Snapshot | UpdatePath::Delta),
        "{r:?}"
    );
    store.verify().unwrap();
    assert_serves(&store, &w.history, 2);
}

#[test]
fn digest_mismatch_falls_back_to_the_snapshot() {
    let mut w = World::new(1000);
    let store = w.open_store();
    w.sync(&store).unwrap();
    // The local list drifted from release 1 (an entry added outside the protocol).
    let mut rng = Rng::new(5);
    let stray = initial_changes(&mut rng, 1);
    store.apply(&stray, 1).unwrap();
    w.publish_random(30);
    let r = w.sync(&store).unwrap();
    assert_eq!(r.path, UpdatePath::DeltaFellBackToSnapshot);
    assert_serves(&store, &w.history, 2);
}

#[test]
fn clock_skew_both_ways() {
    let mut w = World::new(500);
    let store = w.open_store();
    let config = w.config();
    let skew = config.clock_skew_secs;
    // Device clock behind: the manifest looks created in the future. Within the tolerance it
    // is accepted; beyond it, refused (the app should ask the user to fix the clock).
    assert_eq!(
        w.sync_with(&store, &config, NOW - skew - 60),
        Err(SyncError::InvalidUpdate(Rejection::CreatedInFuture))
    );
    assert_eq!(store.list_version(), 0);
    w.sync_with(&store, &config, NOW - skew + 60).unwrap();
    assert_serves(&store, &w.history, 1);
    // Device clock ahead: the manifest looks expired. Within the tolerance it is accepted;
    // beyond it, refused as stale.
    w.publish_random(10);
    let m = manifest_of(&w.manifest_bytes());
    assert_eq!(
        w.sync_with(&store, &config, m.expires_at + skew + 60),
        Err(SyncError::Stale {
            since: m.expires_at
        })
    );
    assert_serves(&store, &w.history, 1);
    w.sync_with(&store, &config, m.expires_at + skew - 60)
        .unwrap();
    assert_serves(&store, &w.history, 2);
}

#[test]
fn lookups_from_several_threads_during_a_sync_see_old_or_new_never_a_mix() {
    use fraudshield_core::identifier::normalize;
    use fraudshield_core::kind::Kind;
    use fraudshield_core::verdict::Direction;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let mut w = World::new(3000);
    let store = w.open_store();
    w.sync(&store).unwrap();
    // Release 2 changes the value of 200 mobiles and removes 100 others.
    let before = w.history[1].clone();
    let mobiles: Vec<_> = before
        .keys()
        .filter(|k| k.kind() == Kind::Phone && k.canonical().starts_with("+861"))
        .cloned()
        .collect();
    let mut changes = Vec::new();
    for k in &mobiles[..200] {
        let mut v = before[k];
        v.risk = if v.risk == fraudshield_core::entry::Risk::High {
            fraudshield_core::entry::Risk::Low
        } else {
            fraudshield_core::entry::Risk::High
        };
        changes.push(fraudshield_core::entry::Change::Upsert(k.clone(), v));
    }
    for k in &mobiles[200..300] {
        changes.push(fraudshield_core::entry::Change::Remove(k.clone()));
    }
    w.publish(&changes);
    let after = w.history[2].clone();
    let watched: Vec<_> = mobiles[..300]
        .iter()
        .map(|k| {
            (
                normalize(Kind::Phone, k.canonical()).unwrap(),
                before.get(k).map(|v| v.risk),
                after.get(k).map(|v| v.risk),
            )
        })
        .collect();
    let watched = Arc::new(watched);
    let stop = Arc::new(AtomicBool::new(false));
    let store = Arc::new(store);
    const READERS: usize = 4;
    // How many readers have seen the old (0) and the new (1) state at least once.
    let seen_by = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (store, watched, stop) = (store.clone(), watched.clone(), stop.clone());
            let seen_by = seen_by.clone();
            std::thread::spawn(move || {
                let mut seen = [0u64; 2];
                while !stop.load(Ordering::Relaxed) {
                    let view = store.view();
                    let version = view.list_version();
                    let answers: Vec<_> = watched
                        .iter()
                        .map(|(id, _, _)| view.check(id, Direction::Incoming).risk)
                        .collect();
                    let old = watched.iter().zip(&answers).all(|((_, b, _), a)| a == b);
                    let new = watched.iter().zip(&answers).all(|((_, _, n), a)| a == n);
                    assert!(old || new, "a view mixed two states");
                    assert_eq!(version, if new { 2 } else { 1 });
                    if seen[usize::from(new)] == 0 {
                        seen_by[usize::from(new)].fetch_add(1, Ordering::SeqCst);
                    }
                    seen[usize::from(new)] += 1;
                }
                seen
            })
        })
        .collect();
    // Sync only once every reader has seen the old state, and stop them only once every
    // reader has seen the new one: progress, not sleeps, so a busy machine changes nothing.
    let all_saw = |state: usize| {
        let deadline = std::time::Instant::now() + PATIENCE;
        while seen_by[state].load(Ordering::SeqCst) < READERS {
            assert!(std::time::Instant::now() < deadline, "readers stalled");
            std::thread::yield_now();
        }
    };
    all_saw(0);
    w.sync(&store).unwrap();
    all_saw(1);
    stop.store(true, Ordering::Relaxed);
    let mut total = [0u64; 2];
    for r in readers {
        let s = r.join().unwrap();
        total[0] += s[0];
        total[1] += s[1];
    }
    assert!(
        total[0] > 0 && total[1] > 0,
        "readers saw both states: {total:?}"
    );
    assert_serves(&store, &w.history, 2);
}

#[test]
fn server_backoff_honoured() {
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(10);
    w.server.set(
        "/v1/manifest",
        Behavior::Fixed {
            status: 503,
            headers: vec![("Retry-After".into(), "120".into())],
            body: vec![],
        },
    );
    assert_eq!(w.sync(&store), Err(SyncError::Backoff { seconds: 120 }));
    w.server.clear_all();
    w.server.reset_requests();
    let config = w.config();
    // Before the time is up: no request at all, even after a restart.
    assert_eq!(
        w.sync_with(&store, &config, NOW + 20),
        Err(SyncError::Backoff { seconds: 100 })
    );
    drop(store);
    let store = w.open_store();
    assert_eq!(
        w.sync_with(&store, &config, NOW + 30),
        Err(SyncError::Backoff { seconds: 90 })
    );
    assert_eq!(w.server.request_count(), 0);
    let delay = fraudshield_core::sync::next_poll_delay(
        &store,
        std::time::Duration::from_secs(10),
        0.2,
        NOW + 30,
    )
    .unwrap();
    assert!(delay >= std::time::Duration::from_secs(90), "{delay:?}");
    assert_serves(&store, &w.history, 1);
    // A hostile Retry-After of ten years is capped at one day.
    w.sync_with(&store, &config, NOW + 121).unwrap();
    assert_serves(&store, &w.history, 2);
    w.server.set(
        "/v1/manifest",
        Behavior::Fixed {
            status: 429,
            headers: vec![("Retry-After".into(), "315360000".into())],
            body: vec![],
        },
    );
    assert_eq!(w.sync(&store), Err(SyncError::Backoff { seconds: 86400 }));
    // Jitter stays within ±20% once no backoff is pending.
    w.server.clear_all();
    w.sync_with(&store, &config, NOW + 86401).unwrap();
    for _ in 0..20 {
        let d = fraudshield_core::sync::next_poll_delay(
            &store,
            std::time::Duration::from_secs(100),
            0.2,
            NOW + 86401,
        )
        .unwrap();
        assert!((80.0..=120.0).contains(&d.as_secs_f64()), "{d:?}");
    }
}

#[test]
fn key_rotation_accepted_when_signed_by_current_keys_refused_otherwise() {
    use fraudshield_core::release::keys::{KeySet, SigningKey};
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    let k1 = SigningKey::from_file_text(&w.key.to_file_text()).unwrap();
    let k2 = SigningKey::generate().unwrap();
    let set1 = KeySet::new(vec![k1.public()], 1).unwrap();
    let set2 = KeySet::new(vec![k2.public()], 1).unwrap();
    // A rotation "signed" by the new key itself is refused.
    let pub_dir = w.pub_dir();
    use fraudshield_core::release::signed::{Bundle, Envelope, PayloadType, RotationStatement};
    let cur = manifest_of(&w.manifest_bytes());
    let mut next = cur.clone();
    next.release += 1;
    let statement = RotationStatement {
        list_id: cur.list_id.clone(),
        sequence: 1,
        previous: set1.fingerprint(),
        next: set2.clone(),
    };
    let forged = Bundle {
        rotations: vec![Envelope::sign(
            PayloadType::Rotation,
            statement.encode(),
            &[&k2],
        )],
        manifest: Envelope::sign(PayloadType::Manifest, next.encode(), &[&k2]),
    }
    .encode();
    serve(&w.server, "/v1/manifest", forged);
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::RotationRefused))
    );
    assert_serves(&store, &w.history, 1);
    // A manifest by the new key without any rotation: untrusted.
    w.server.clear_all();
    let mut p = fraudshield_core::release::publisher::Publisher::open(&pub_dir).unwrap();
    let plain = resign(&w.manifest_bytes(), |m| m.release += 1, &[&k2]);
    serve(&w.server, "/v1/manifest", plain);
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::UntrustedKey))
    );
    assert_serves(&store, &w.history, 1);
    // The real rotation, signed by the current key: accepted, and the new key signs from now on.
    w.server.clear_all();
    p.rotate(&set1, set2.clone(), &[&k1]).unwrap();
    w.publisher = p;
    w.key = k2;
    w.publish_random(10);
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 2);
    // The old key no longer counts, even for a well-formed newer release.
    let old_signed = resign(&w.manifest_bytes(), |m| m.release += 1, &[&k1]);
    serve(&w.server, "/v1/manifest", old_signed);
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::UntrustedKey))
    );
    // Even after a restart (the trust state is persisted), with the old pinned file.
    drop(store);
    let store = w.open_store();
    assert_eq!(
        w.sync(&store),
        Err(SyncError::InvalidUpdate(Rejection::UntrustedKey))
    );
    w.server.clear_all();
    w.publish_random(10);
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 3);
}

#[test]
fn no_request_contains_a_looked_up_identifier() {
    use fraudshield_core::identifier::normalize;
    use fraudshield_core::kind::Kind;
    use fraudshield_core::verdict::Direction;
    let mut w = World::new(500);
    let store = w.open_store();
    w.sync(&store).unwrap();
    let looked_up = [
        "+8613912345678",
        "+8618611112222",
        "6222021234567890123",
        "87654321",
    ];
    for raw in &looked_up {
        let kind = if raw.starts_with('+') {
            Kind::Phone
        } else if raw.len() > 12 {
            Kind::Bank
        } else {
            Kind::Qq
        };
        let _ = store.check(&normalize(kind, raw).unwrap(), Direction::Incoming);
    }
    w.publish_random(10);
    w.sync(&store).unwrap();
    w.sync(&store).unwrap();
    let requests = w.server.requests();
    assert!(requests.len() >= 4);
    for head in &requests {
        for raw in &looked_up {
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            assert!(
                !head.contains(&digits[digits.len() - 8..]),
                "a request carried a looked-up identifier"
            );
        }
        let path = head.lines().next().unwrap();
        assert!(
            path.starts_with("GET /v1/manifest ") || path.starts_with("GET /artifacts/"),
            "unexpected request {path}"
        );
        for line in head.lines().skip(1).filter(|l| !l.is_empty()) {
            let name = line.split(':').next().unwrap().to_ascii_lowercase();
            assert!(
                [
                    "host",
                    "user-agent",
                    "accept",
                    "if-none-match",
                    "accept-encoding"
                ]
                .contains(&name.as_str()),
                "unexpected header {name}"
            );
        }
    }
    assert_serves(&store, &w.history, 2);
}

#[test]
fn a_valid_signed_update_never_blocks_a_protected_number() {
    use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
    use fraudshield_core::identifier::normalize;
    use fraudshield_core::kind::Kind;
    use fraudshield_core::verdict::{Action, Direction, Source};
    let mut w = World::new(200);
    let store = w.open_store();
    w.sync(&store).unwrap();
    // The app protects its bank's hotline; the built-in lines are protected already.
    let hotline = normalize(Kind::Phone, "+8613800000095").unwrap();
    store.add_protected(&hotline).unwrap();
    let emergency: Vec<_> = fraudshield_core::store::BUILTIN_PROTECTED
        .iter()
        // The official hotlines by name too, so the test fails if the list loses one.
        .chain(&["110", "112", "119", "120", "122", "96110"])
        .chain(&["12110", "12315", "12321", "12345", "12381"])
        .map(|n| normalize(Kind::Phone, n).unwrap())
        .collect();
    let high = EntryValue {
        category: Category::PoliceImpersonation,
        risk: Risk::High,
        reports: ReportBucket::from_count(5000),
        prefix: false,
    };
    let mut changes = vec![Change::Upsert(hotline.key(), high)];
    for id in &emergency {
        changes.push(Change::Upsert(id.key(), high));
        changes.push(Change::Upsert(
            fraudshield_core::key::Key::new(Kind::Phone, id.canonical()),
            high,
        ));
    }
    // A prefix rule over the whole +86138 range, too.
    changes.push(Change::Upsert(
        fraudshield_core::key::Key::new(Kind::Phone, "+86138"),
        EntryValue {
            prefix: true,
            ..high
        },
    ));
    // The publisher refuses to list the built-in lines (changes 1 to 12), and changes nothing;
    // the app's own protected number is unknown to it.
    let preview = w.publisher.preview(&changes);
    let refused: Vec<usize> = preview.refusals.iter().map(|r| r.index).collect();
    assert_eq!(refused, (1..=2 * emergency.len()).collect::<Vec<_>>());
    let digest = w.publisher.state_digest();
    assert!(matches!(
        w.publisher.publish(&changes, &[&w.key], NOW),
        Err(fraudshield_core::release::publisher::PublishError::Refused(
            _
        ))
    ));
    assert_eq!(
        (w.publisher.release(), w.publisher.state_digest()),
        (1, digest)
    );
    // A release cut without those rules, validly signed, still never blocks them.
    w.forge_release(&changes);
    w.sync(&store).unwrap();
    assert_serves(&store, &w.history, 2);
    for dir in [Direction::Incoming, Direction::Outgoing] {
        let v = store.check(&hotline, dir);
        assert_eq!((v.action, v.source), (Action::Allow, Source::Protected));
        // Every built-in line (emergency, 96110, government hotlines), each listed high-risk
        // above, and a few spelled as a caller id would show them.
        assert!(emergency.len() >= 22);
        for raw in ["+86 12345", "0086 96110", "+86 110"] {
            let v = store.check(&normalize(Kind::Phone, raw).unwrap(), dir);
            assert_eq!((v.action, v.source), (Action::Allow, Source::Protected));
        }
        for id in &emergency {
            let v = store.check(id, dir);
            assert_eq!((v.action, v.source), (Action::Allow, Source::Protected));
        }
    }
    // The update itself landed: a neighbour in the range is flagged by the prefix rule.
    let neighbour = normalize(Kind::Phone, "+8613800000096").unwrap();
    let v = store.check(&neighbour, Direction::Incoming);
    assert_eq!(v.source, Source::Prefix);
    assert_ne!(v.action, Action::Allow);
}

/// A snapshot artifact whose only flaw sits at the very end of its body (the last key of the
/// last group, or the last value) is refused as invalid before anything is built: the phone
/// keeps serving its release and no temp file is left. The same artifact without the flaw
/// installs, so the flaw is what was caught.
#[test]
fn snapshot_flawed_only_at_the_end_of_its_body() {
    use fraudshield_core::entry::{Category, EntryValue, ReportBucket, Risk};
    use fraudshield_core::key::Key;
    use fraudshield_core::kind::Kind;
    use fraudshield_core::release::keys::{SigningKey, sha256};
    use fraudshield_core::release::manifest::ArtifactKind;
    use fraudshield_core::release::publisher::PublishConfig;
    use fraudshield_core::release::wire::{self, Compression};

    let config = PublishConfig {
        snapshot_interval: 1,
        ..PublishConfig::default()
    };
    let mut w = World::with_config(500, config);
    let store = w.open_store();
    w.sync(&store).unwrap();
    w.publish_random(20);
    let key = SigningKey::from_file_text(&w.key.to_file_text()).unwrap();
    let m = manifest_of(&w.manifest_bytes());
    assert_eq!(m.snapshot().unwrap().from_release, 2);
    let no_tmp = |store_dir: &std::path::Path| {
        std::fs::read_dir(store_dir)
            .unwrap()
            .all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    };

    // E-mail Alipay logins sort last of all groups (highest tag, raw class). The last one is
    // front-coded against the one before as "15 shared bytes, suffix `n`": that `n` is the last
    // key byte of the body, right before the values.
    let late_value = EntryValue {
        category: Category::Loan,
        risk: Risk::High,
        reports: ReportBucket::from_count(2),
        prefix: false,
    };
    let mut entries = w.history[2].clone();
    for login in ["zzzz@example.com", "zzzz@example.con"] {
        entries.insert(Key::new(Kind::Alipay, login), late_value);
    }
    let plain = wire::encode_snapshot("cn-test", 2, entries.iter(), Some(Compression::None));
    let (_, _, body_len, offset) = wire::read_header(&plain).unwrap();
    assert_eq!(plain.len() - offset, body_len as usize);
    let values_len: usize = entries
        .values()
        .map(|v| if v.pack() < 128 { 1 } else { 2 })
        .sum();
    let last_key_byte = plain.len() - values_len - 1;
    assert_eq!(&plain[last_key_byte - 2..=last_key_byte], &[15, 1, b'n']);

    let serve_snapshot = |bytes: &[u8]| {
        let path = "artifacts/forged-snapshot.fsw".to_string();
        std::fs::write(w.pub_dir().join(&path), bytes).unwrap();
        let forged = resign(
            &w.manifest_bytes(),
            |m| {
                m.artifacts.retain(|a| a.kind == ArtifactKind::Snapshot);
                for a in &mut m.artifacts {
                    a.size = bytes.len() as u64;
                    a.sha256 = sha256(bytes);
                    a.path = path.clone();
                }
            },
            &[&key],
        );
        serve(&w.server, "/v1/manifest", forged);
    };

    let mut bad_key = plain.clone();
    bad_key[last_key_byte] = 0x01; // not printable ASCII: not a valid key
    let mut bad_order = plain.clone();
    bad_order[last_key_byte] = b'a'; // "zzzz@example.coa" after "zzzz@example.com"
    let mut remove_marker = plain.clone();
    let last = remove_marker.len() - 1;
    remove_marker[last] = 0; // last value: a remove marker (or a non-shortest varint)
    let mut trailing = plain.clone();
    trailing.push(0);
    trailing[offset - 8..offset].copy_from_slice(&(body_len + 1).to_be_bytes());
    for (what, bytes) in [
        ("bad key", &bad_key),
        ("order", &bad_order),
        ("remove marker", &remove_marker),
        ("trailing byte", &trailing),
    ] {
        let compressed = {
            // The same flaw behind zlib: found only after inflating the whole body.
            let (_, _, _, offset) = wire::read_header(bytes).unwrap();
            let body = &bytes[offset..];
            let z = miniz_oxide::deflate::compress_to_vec_zlib(body, 6);
            let mut out = bytes[..offset - 9].to_vec();
            out.push(1);
            out.extend_from_slice(&(body.len() as u64).to_be_bytes());
            out.extend_from_slice(&z);
            out
        };
        for artifact in [bytes.clone(), compressed] {
            serve_snapshot(&artifact);
            let e = w.sync(&store).unwrap_err();
            assert!(
                matches!(e, SyncError::InvalidUpdate(Rejection::ArtifactInvalid)),
                "{what}: {e:?}"
            );
            assert_serves(&store, &w.history, 1);
            assert!(no_tmp(&w.store_dir()), "{what}: temp file left");
        }
    }

    // The unflawed artifact decodes; the extra key makes it miss the manifest's digest, which
    // is found only after the whole stream went into the new base: refused the same way.
    serve_snapshot(&plain);
    let e = w.sync(&store).unwrap_err();
    assert!(
        matches!(e, SyncError::InvalidUpdate(Rejection::DigestMismatch)),
        "{e:?}"
    );
    assert_serves(&store, &w.history, 1);
    assert!(no_tmp(&w.store_dir()));
    // Re-encoded without the extra key it installs through the same streaming path.
    let exact = wire::encode_snapshot("cn-test", 2, w.history[2].iter(), Some(Compression::None));
    serve_snapshot(&exact);
    let report = w.sync(&store).unwrap();
    assert_eq!(report.path, UpdatePath::Snapshot);
    assert_serves(&store, &w.history, 2);
    assert!(no_tmp(&w.store_dir()));
}
