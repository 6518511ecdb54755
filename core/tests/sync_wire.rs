//! Wire format: round trips, canonical encoding, arbitrary bytes never panic, caps hold.
#![allow(clippy::unwrap_used)]

mod sync_support;

use fraudshield_core::entry::{Change, EntryValue};
use fraudshield_core::key::Key;
use fraudshield_core::release::manifest::Manifest;
use fraudshield_core::release::signed::{Bundle, Envelope};
use fraudshield_core::release::wire::{self, Compression, Limits, WireError};
use proptest::prelude::*;
use std::collections::BTreeMap;
use sync_support::{Rng, initial_changes, random_key, random_value};

fn arb_changes() -> impl Strategy<Value = Vec<Change>> {
    (any::<u64>(), 0usize..300, any::<bool>()).prop_map(|(seed, n, removes)| {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| {
                let k = random_key(&mut rng);
                if removes && rng.below(3) == 0 {
                    Change::Remove(k)
                } else {
                    Change::Upsert(k, random_value(&mut rng))
                }
            })
            .collect()
    })
}

fn net(changes: &[Change]) -> Vec<Change> {
    let mut m: BTreeMap<Key, Change> = BTreeMap::new();
    for c in changes {
        m.insert(c.key().clone(), c.clone());
    }
    m.into_values().collect()
}

/// One signing key for every case of the property tests.
static KEY: std::sync::LazyLock<fraudshield_core::release::keys::SigningKey> =
    std::sync::LazyLock::new(|| fraudshield_core::release::keys::SigningKey::generate().unwrap());

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn delta_round_trips(changes in arb_changes(), zlib in any::<bool>()) {
        let c = if zlib { Compression::Zlib } else { Compression::None };
        let bytes = wire::encode_delta("cn", 3, 7, &changes, Some(c));
        let d = wire::decode(&bytes, None, &Limits::default()).unwrap();
        prop_assert_eq!(d.changes(), net(&changes));
        // Canonical: encoding the decoded changes gives the same bytes.
        prop_assert_eq!(wire::encode_delta("cn", 3, 7, &d.changes(), Some(c)), bytes);
    }

    #[test]
    fn snapshot_round_trips(seed in any::<u64>(), n in 0usize..400) {
        let mut rng = Rng::new(seed);
        let m: BTreeMap<Key, EntryValue> = initial_changes(&mut rng, n)
            .into_iter()
            .filter_map(|c| match c { Change::Upsert(k, v) => Some((k, v)), _ => None })
            .collect();
        let bytes = wire::encode_snapshot("cn", 9, m.iter(), None);
        let d = wire::decode(&bytes, None, &Limits::default()).unwrap();
        let got: BTreeMap<Key, EntryValue> = d.values().into_iter().collect();
        prop_assert_eq!(got, m);
    }

    #[test]
    fn manifest_and_bundle_round_trip(
        release in 1u64..u64::MAX,
        created in any::<i32>(),
        validity in 0i64..10_000_000,
        digest in any::<[u8; 32]>(),
        deltas in proptest::collection::btree_set(any::<u64>(), 0..10),
        sizes in any::<u64>(),
    ) {
        use fraudshield_core::release::manifest::{ArtifactKind, ArtifactRef};
        use fraudshield_core::release::signed::PayloadType;
        let mut artifacts: Vec<ArtifactRef> = deltas
            .iter()
            .map(|b| b % release)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|from| ArtifactRef {
                kind: ArtifactKind::Delta,
                from_release: from,
                size: sizes ^ from,
                sha256: [from as u8; 32],
                path: format!("artifacts/d{from}.fsw"),
            })
            .collect();
        artifacts.push(ArtifactRef {
            kind: ArtifactKind::Snapshot,
            from_release: release,
            size: sizes,
            sha256: digest,
            path: "artifacts/s.fsw".into(),
        });
        let m = Manifest {
            list_id: "cn-police".into(),
            release,
            created_at: i64::from(created),
            expires_at: i64::from(created) + validity,
            state_digest: digest,
            entry_count: sizes,
            artifacts,
        };
        prop_assert_eq!(Manifest::decode(&m.encode()).unwrap(), m.clone());
        let b = Bundle { rotations: vec![], manifest: Envelope::sign(PayloadType::Manifest, m.encode(), &[&*KEY]) };
        prop_assert_eq!(Bundle::decode(&b.encode()).unwrap(), b);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = wire::decode(&bytes, None, &Limits::default());
        let _ = Manifest::decode(&bytes);
        let _ = Envelope::decode(&bytes);
        let _ = Bundle::decode(&bytes);
        let _ = fraudshield_core::release::signed::RotationStatement::decode(&bytes);
        let _ = fraudshield_core::release::signed::TrustState::decode(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = fraudshield_core::release::keys::KeySet::from_trust_file(&text);
        let _ = fraudshield_core::release::keys::SigningKey::from_file_text(&text);
    }

    #[test]
    fn mutated_artifacts_never_panic(seed in any::<u64>(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut rng = Rng::new(seed);
        let changes = initial_changes(&mut rng, 50);
        for c in [Compression::None, Compression::Zlib] {
            let mut bytes = wire::encode_delta("cn", 1, 2, &changes, Some(c));
            for (pos, val) in &flips {
                let i = pos % bytes.len();
                bytes[i] ^= val | 1;
            }
            let _ = wire::decode(&bytes, None, &Limits::default());
        }
    }
}

#[test]
fn decompression_bomb_stops_at_the_cap() {
    // A body of 64 MiB of zeros compresses to ~64 KiB; declare it honestly and cap at 1 MiB.
    let mut rng = Rng::new(1);
    let changes = initial_changes(&mut rng, 10);
    let honest = wire::encode_delta("cn", 1, 2, &changes, Some(Compression::Zlib));
    let (_, _, _, offset) = wire::read_header(&honest).unwrap();
    let zeros = vec![0u8; 64 << 20];
    let bomb_body = miniz_oxide::deflate::compress_to_vec_zlib(&zeros, 6);
    let cap = Limits {
        max_body_bytes: 1 << 20,
        max_entries: 1000,
    };
    // Declared length honest (64 MiB): refused before inflating.
    let mut bomb = honest[..offset - 8].to_vec();
    bomb.extend_from_slice(&(zeros.len() as u64).to_be_bytes());
    bomb.extend_from_slice(&bomb_body);
    assert_eq!(
        wire::decode(&bomb, None, &cap),
        Err(WireError::TooLarge("body length"))
    );
    // Declared length a lie (1 KiB): inflation stops at 1 KiB.
    let mut liar = honest[..offset - 8].to_vec();
    liar.extend_from_slice(&1024u64.to_be_bytes());
    liar.extend_from_slice(&bomb_body);
    assert_eq!(
        wire::decode(&liar, None, &cap),
        Err(WireError::Decompression)
    );
}
