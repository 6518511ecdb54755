//! Signed envelopes and key rotation.
//!
//! ## Envelope (format version 1)
//! ```text
//! "FSSE" | version u8 = 1 | payload type u8 | payload length u32 BE | payload
//!        | signature count u8 | (key id [8] | Ed25519 signature [64]) × count
//! ```
//! Each signature covers `"fraudshield-signed-v1\0" | payload type | payload`: the domain string
//! and the type byte make a signature over a rotation statement useless as a signature over a
//! manifest, and the other way round. The payload bytes are the canonical encoding of the
//! signed value: the verifier checks the signatures over exactly the bytes it then parses.
//!
//! ## Threshold
//! An envelope is trusted when at least `threshold` *distinct* keys of the trusted [`KeySet`]
//! signed it validly (the default and what apps pin today: 1). Signatures by unknown keys are
//! ignored, so a publisher can sign with old and new keys during a hand-over.
//!
//! ## Key rotation
//! A [`RotationStatement`] names the next key set, its sequence number (1, 2, 3, …) and the
//! fingerprint of the set it replaces, and is signed by that current set. The manifest bundle
//! ([`Bundle`]) carries the whole chain of statements before the manifest; a client walks the
//! chain from the set it trusts (its pinned set, or the last set it reached, persisted) and then
//! checks the manifest against the set at the end of the chain. A statement that does not verify
//! under the current set fails the whole bundle. Once a client has moved to sequence `s`, keys of
//! earlier sets are no longer trusted.
//!
//! ## Bundle: what `GET /v1/manifest` returns
//! ```text
//! "FSBN" | version u8 = 1 | rotation count u8 | (length u32 | rotation envelope) × count
//!        | length u32 | manifest envelope
//! ```

use super::bytes::{FormatError, Reader, Writer};
use super::keys::{KeyId, KeySet, SIGNATURE_LEN, SigningKey, sha256};

const ENVELOPE_MAGIC: &[u8] = b"FSSE";
const ENVELOPE_VERSION: u8 = 1;
const DOMAIN: &[u8] = b"fraudshield-signed-v1\0";
const ROTATION_MAGIC: &[u8] = b"FSRT";
const ROTATION_VERSION: u8 = 1;
const BUNDLE_MAGIC: &[u8] = b"FSBN";
const BUNDLE_VERSION: u8 = 1;
/// At most this many rotation statements travel in one bundle.
pub const MAX_ROTATIONS: usize = 64;

/// What a signed payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadType {
    /// A release manifest.
    Manifest = 1,
    /// A key rotation statement.
    Rotation = 2,
}

/// A payload and the signatures over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// What the payload is.
    pub payload_type: PayloadType,
    /// The canonical bytes of the signed value.
    pub payload: Vec<u8>,
    /// `(key id, signature)` pairs.
    pub signatures: Vec<(KeyId, [u8; SIGNATURE_LEN])>,
}

/// Why a signed envelope was not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The bytes are not an envelope.
    #[error("malformed envelope: {0}")]
    Malformed(#[from] FormatError),
    /// The payload is not of the expected type.
    #[error("envelope holds the wrong payload type")]
    WrongType,
    /// A trusted key's signature does not verify (payload or signature altered).
    #[error("bad signature")]
    BadSignature,
    /// No signature is by a trusted key.
    #[error("not signed by a trusted key")]
    UntrustedKey,
    /// Fewer distinct trusted keys signed than the threshold requires.
    #[error("{found} trusted signatures, {needed} needed")]
    BelowThreshold {
        /// Valid trusted signatures found.
        found: usize,
        /// The threshold.
        needed: u8,
    },
}

fn signed_message(payload_type: PayloadType, payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + 1 + payload.len());
    m.extend_from_slice(DOMAIN);
    m.push(payload_type as u8);
    m.extend_from_slice(payload);
    m
}

impl Envelope {
    /// Signs `payload` with every key in `signers`.
    pub fn sign(payload_type: PayloadType, payload: Vec<u8>, signers: &[&SigningKey]) -> Envelope {
        let msg = signed_message(payload_type, &payload);
        let signatures = signers
            .iter()
            .map(|k| (k.public().id(), k.sign(&msg)))
            .collect();
        Envelope {
            payload_type,
            payload,
            signatures,
        }
    }

    /// The envelope's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(ENVELOPE_MAGIC);
        w.u8(ENVELOPE_VERSION);
        w.u8(self.payload_type as u8);
        w.u32(self.payload.len() as u32);
        w.bytes(&self.payload);
        w.u8(self.signatures.len().min(255) as u8);
        for (id, sig) in self.signatures.iter().take(255) {
            w.bytes(&id.0);
            w.bytes(sig);
        }
        w.into_bytes()
    }

    /// Reads an envelope (signatures not yet checked).
    pub fn decode(bytes: &[u8]) -> Result<Envelope, FormatError> {
        let mut r = Reader::new(bytes);
        r.magic(ENVELOPE_MAGIC, "signed envelope")?;
        let v = r.u8("envelope version")?;
        if v != ENVELOPE_VERSION {
            return Err(FormatError::UnsupportedVersion {
                what: "envelope",
                found: v,
            });
        }
        let payload_type = match r.u8("payload type")? {
            1 => PayloadType::Manifest,
            2 => PayloadType::Rotation,
            _ => {
                return Err(FormatError::Invalid {
                    field: "payload type",
                    reason: "unknown",
                });
            }
        };
        let len = r.u32("payload length")? as usize;
        let payload = r.take(len, "payload")?.to_vec();
        let n = r.u8("signature count")?;
        let mut signatures = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            let id = KeyId(r.array("key id")?);
            let sig = r.array::<SIGNATURE_LEN>("signature")?;
            signatures.push((id, sig));
        }
        r.finish()?;
        Ok(Envelope {
            payload_type,
            payload,
            signatures,
        })
    }

    /// Checks the signatures against `trusted` and returns the payload when enough verify.
    pub fn verify(&self, expected: PayloadType, trusted: &KeySet) -> Result<&[u8], VerifyError> {
        if self.payload_type != expected {
            return Err(VerifyError::WrongType);
        }
        let msg = signed_message(self.payload_type, &self.payload);
        let mut good: Vec<KeyId> = Vec::new();
        let mut bad = false;
        for (id, sig) in &self.signatures {
            let Some(key) = trusted.get(*id) else {
                continue;
            };
            if key.verify(&msg, sig) {
                if !good.contains(id) {
                    good.push(*id);
                }
            } else {
                bad = true;
            }
        }
        if good.len() >= usize::from(trusted.threshold()) {
            Ok(&self.payload)
        } else if bad {
            Err(VerifyError::BadSignature)
        } else if good.is_empty() {
            Err(VerifyError::UntrustedKey)
        } else {
            Err(VerifyError::BelowThreshold {
                found: good.len(),
                needed: trusted.threshold(),
            })
        }
    }
}

/// "From sequence `sequence` on, trust `next` instead of the set with fingerprint `previous`."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationStatement {
    /// The list this statement is for.
    pub list_id: String,
    /// 1 for the first rotation after the pinned set, then 2, 3, …
    pub sequence: u64,
    /// [`KeySet::fingerprint`] of the set being replaced (and signing this statement).
    pub previous: [u8; 32],
    /// The set trusted from now on.
    pub next: KeySet,
}

impl RotationStatement {
    /// Canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(ROTATION_MAGIC);
        w.u8(ROTATION_VERSION);
        w.short_bytes(self.list_id.as_bytes());
        w.u64(self.sequence);
        w.bytes(&self.previous);
        self.next.encode(&mut w);
        w.into_bytes()
    }

    /// Parses canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<RotationStatement, FormatError> {
        let mut r = Reader::new(bytes);
        r.magic(ROTATION_MAGIC, "rotation statement")?;
        let v = r.u8("rotation version")?;
        if v != ROTATION_VERSION {
            return Err(FormatError::UnsupportedVersion {
                what: "rotation statement",
                found: v,
            });
        }
        let list_id = super::manifest::read_list_id(&mut r)?;
        let sequence = r.u64("sequence")?;
        let previous = r.array("previous key set")?;
        let next = KeySet::decode(&mut r)?;
        r.finish()?;
        Ok(RotationStatement {
            list_id,
            sequence,
            previous,
            next,
        })
    }
}

/// The key set a client trusts and how far along the rotation chain it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustState {
    /// 0 for the pinned set, then the sequence of the last rotation applied.
    pub sequence: u64,
    /// The keys trusted now.
    pub keys: KeySet,
}

impl TrustState {
    /// Trust starting from an app's pinned keys.
    pub fn pinned(keys: KeySet) -> TrustState {
        TrustState { sequence: 0, keys }
    }

    /// Bytes persisted by the client.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(1);
        w.u64(self.sequence);
        self.keys.encode(&mut w);
        w.into_bytes()
    }

    /// Reads [`TrustState::encode`] bytes.
    pub fn decode(bytes: &[u8]) -> Result<TrustState, FormatError> {
        let mut r = Reader::new(bytes);
        let v = r.u8("trust state version")?;
        if v != 1 {
            return Err(FormatError::UnsupportedVersion {
                what: "trust state",
                found: v,
            });
        }
        let sequence = r.u64("sequence")?;
        let keys = KeySet::decode(&mut r)?;
        r.finish()?;
        Ok(TrustState { sequence, keys })
    }

    /// Walks `rotations` (skipping those already applied) for `list_id`; returns the new state.
    ///
    /// Every statement after the current sequence must continue the chain (next sequence number,
    /// previous fingerprint equal to the current set) and verify under the current set.
    pub fn advance(
        &self,
        list_id: &str,
        rotations: &[Envelope],
    ) -> Result<TrustState, RotationError> {
        let mut state = self.clone();
        for env in rotations {
            let payload = env
                .verify(PayloadType::Rotation, &state.keys)
                .or_else(|e| {
                    // A statement already applied is signed by an older set: skip it by content.
                    match RotationStatement::decode(&env.payload) {
                        Ok(st) if st.sequence <= state.sequence => Ok(&env.payload[..0]),
                        _ => Err(RotationError::Signature(e)),
                    }
                })?;
            if payload.is_empty() {
                continue;
            }
            let st = RotationStatement::decode(payload).map_err(RotationError::Malformed)?;
            if st.sequence <= state.sequence {
                continue;
            }
            if st.list_id != list_id {
                return Err(RotationError::WrongList);
            }
            if st.sequence != state.sequence + 1 || st.previous != state.keys.fingerprint() {
                return Err(RotationError::BrokenChain);
            }
            state = TrustState {
                sequence: st.sequence,
                keys: st.next,
            };
        }
        Ok(state)
    }
}

/// Why a rotation chain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    /// A statement is not signed by the current key set.
    #[error("rotation statement: {0}")]
    Signature(VerifyError),
    /// A statement could not be parsed.
    #[error("rotation statement: {0}")]
    Malformed(FormatError),
    /// A statement is for another list.
    #[error("rotation statement is for another list")]
    WrongList,
    /// A statement skips a sequence number or names another previous set.
    #[error("rotation chain is broken")]
    BrokenChain,
}

/// The rotation chain and the signed manifest, as served at `/v1/manifest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Rotation statements, oldest first.
    pub rotations: Vec<Envelope>,
    /// The signed manifest.
    pub manifest: Envelope,
}

impl Bundle {
    /// The bundle's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(BUNDLE_MAGIC);
        w.u8(BUNDLE_VERSION);
        w.u8(self.rotations.len().min(MAX_ROTATIONS) as u8);
        for r in self.rotations.iter().take(MAX_ROTATIONS) {
            let b = r.encode();
            w.u32(b.len() as u32);
            w.bytes(&b);
        }
        let m = self.manifest.encode();
        w.u32(m.len() as u32);
        w.bytes(&m);
        w.into_bytes()
    }

    /// Reads a bundle (nothing verified yet).
    pub fn decode(bytes: &[u8]) -> Result<Bundle, FormatError> {
        let mut r = Reader::new(bytes);
        r.magic(BUNDLE_MAGIC, "manifest bundle")?;
        let v = r.u8("bundle version")?;
        if v != BUNDLE_VERSION {
            return Err(FormatError::UnsupportedVersion {
                what: "bundle",
                found: v,
            });
        }
        let n = usize::from(r.u8("rotation count")?);
        if n > MAX_ROTATIONS {
            return Err(FormatError::Invalid {
                field: "rotation count",
                reason: "too many",
            });
        }
        let mut rotations = Vec::with_capacity(n);
        for _ in 0..n {
            let len = r.u32("rotation length")? as usize;
            rotations.push(Envelope::decode(r.take(len, "rotation")?)?);
        }
        let len = r.u32("manifest length")? as usize;
        let manifest = Envelope::decode(r.take(len, "manifest")?)?;
        r.finish()?;
        Ok(Bundle {
            rotations,
            manifest,
        })
    }

    /// SHA-256 of the manifest payload: the identity of a release's content.
    pub fn manifest_hash(&self) -> [u8; 32] {
        sha256(&self.manifest.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(k: &SigningKey) -> KeySet {
        KeySet::new(vec![k.public()], 1).unwrap()
    }

    #[test]
    fn envelopes_verify_only_under_trusted_keys() {
        let k = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let env = Envelope::sign(PayloadType::Manifest, b"payload".to_vec(), &[&k]);
        let env = Envelope::decode(&env.encode()).unwrap();
        assert_eq!(
            env.verify(PayloadType::Manifest, &set(&k)).unwrap(),
            b"payload"
        );
        assert_eq!(
            env.verify(PayloadType::Manifest, &set(&other)),
            Err(VerifyError::UntrustedKey)
        );
        assert_eq!(
            env.verify(PayloadType::Rotation, &set(&k)),
            Err(VerifyError::WrongType)
        );
        let mut tampered = env.clone();
        tampered.payload[0] ^= 1;
        assert_eq!(
            tampered.verify(PayloadType::Manifest, &set(&k)),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn rotation_chain_moves_trust_and_refuses_forgeries() {
        let k0 = SigningKey::generate().unwrap();
        let k1 = SigningKey::generate().unwrap();
        let k2 = SigningKey::generate().unwrap();
        let st1 = RotationStatement {
            list_id: "cn".into(),
            sequence: 1,
            previous: set(&k0).fingerprint(),
            next: set(&k1),
        };
        let st2 = RotationStatement {
            list_id: "cn".into(),
            sequence: 2,
            previous: set(&k1).fingerprint(),
            next: set(&k2),
        };
        let e1 = Envelope::sign(PayloadType::Rotation, st1.encode(), &[&k0]);
        let e2 = Envelope::sign(PayloadType::Rotation, st2.encode(), &[&k1]);
        let start = TrustState::pinned(set(&k0));
        let end = start.advance("cn", &[e1.clone(), e2.clone()]).unwrap();
        assert_eq!(end.sequence, 2);
        assert_eq!(end.keys, set(&k2));
        // Already at 2: the old statements are skipped.
        assert_eq!(end.advance("cn", &[e1.clone(), e2.clone()]).unwrap(), end);
        // A statement signed by the new key itself is refused.
        let forged = Envelope::sign(PayloadType::Rotation, st1.encode(), &[&k1]);
        assert!(start.advance("cn", &[forged]).is_err());
        // Skipping a link is refused.
        assert!(start.advance("cn", &[e2]).is_err());
        assert!(start.advance("other", &[e1]).is_err());
        assert_eq!(TrustState::decode(&end.encode()).unwrap(), end);
    }
}
