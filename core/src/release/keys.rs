//! Ed25519 keys: the publisher's signing key, the public keys a phone pins, and key ids.
//!
//! ## Key id
//! A key id is the first 8 bytes of SHA-256 over the 32-byte public key, written as 16 lower-case
//! hex digits. It only routes a signature to its key; trust always comes from the full key.
//!
//! ## Trust file (what an app pins, what `fraudshield sync --trust` reads)
//! UTF-8 text, one key per line, `#` starts a comment, blank lines are ignored:
//! ```text
//! # fraudshield trusted publisher keys
//! ed25519 3f2a9c0d11e4b7a8 q5X2…base64 of the 32-byte public key…=
//! threshold 1
//! ```
//! The key id must match the key (a typo is caught). `threshold` (optional, default 1) is how
//! many distinct pinned keys must sign a manifest.
//!
//! ## Signing key file (kept by the publisher only)
//! One line: `ed25519-pkcs8 <base64 of the PKCS#8 v2 document>` as produced by
//! [`SigningKey::generate`]. Create a pair with [`SigningKey::generate`], save
//! [`SigningKey::to_file_text`] where only the publisher can read it and hand
//! [`KeySet::to_trust_file`] of its public key to app developers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use std::fmt;

/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// The 8-byte id of a public key (SHA-256 prefix).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::hex::write(f, &self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.id())
    }
}

impl PublicKey {
    /// This key's id.
    pub fn id(&self) -> KeyId {
        let d = ring::digest::digest(&ring::digest::SHA256, &self.0);
        let mut id = [0u8; 8];
        id.copy_from_slice(&d.as_ref()[..8]);
        KeyId(id)
    }

    /// Whether `signature` is this key's signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }

    /// The trust-file line for this key.
    pub fn trust_line(&self) -> String {
        format!("ed25519 {} {}", self.id(), B64.encode(self.0))
    }
}

/// The publisher's private signing key.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.public().id())
    }
}

/// Why a key or trust file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// A line that is not `ed25519 <id> <base64>` or `threshold <n>`.
    #[error("line {line}: {reason}")]
    BadLine {
        /// One-based line number.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// The file names no key.
    #[error("no key in the file")]
    Empty,
    /// The threshold is 0 or larger than the number of keys.
    #[error("threshold must be between 1 and the number of keys")]
    BadThreshold,
    /// The random source or the key document failed.
    #[error("key generation or parsing failed")]
    Crypto,
}

impl SigningKey {
    /// Generates a new random key pair.
    pub fn generate() -> Result<SigningKey, KeyFileError> {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| KeyFileError::Crypto)?;
        SigningKey::from_pkcs8(doc.as_ref())
    }

    /// Reads a PKCS#8 v2 Ed25519 document.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<SigningKey, KeyFileError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| KeyFileError::Crypto)?;
        Ok(SigningKey {
            pair,
            pkcs8: pkcs8.to_vec(),
        })
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        let mut k = [0u8; 32];
        k.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(k)
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut s = [0u8; SIGNATURE_LEN];
        s.copy_from_slice(self.pair.sign(message).as_ref());
        s
    }

    /// The signing key file text (see the module docs). Keep it secret.
    pub fn to_file_text(&self) -> String {
        format!("ed25519-pkcs8 {}\n", B64.encode(&self.pkcs8))
    }

    /// Reads a signing key file.
    pub fn from_file_text(text: &str) -> Result<SigningKey, KeyFileError> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let bad = |reason| KeyFileError::BadLine {
                line: i + 1,
                reason,
            };
            if parts.next() != Some("ed25519-pkcs8") {
                return Err(bad("expected `ed25519-pkcs8 <base64>`"));
            }
            let doc = parts
                .next()
                .and_then(|b| B64.decode(b).ok())
                .ok_or_else(|| bad("bad base64"))?;
            return SigningKey::from_pkcs8(&doc);
        }
        Err(KeyFileError::Empty)
    }
}

/// A set of trusted public keys and how many of them must sign.
///
/// Keys are kept sorted and unique, so two equal sets encode to the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet {
    keys: Vec<PublicKey>,
    threshold: u8,
}

impl KeySet {
    /// A set of `keys` (duplicates dropped) needing `threshold` signatures.
    pub fn new(mut keys: Vec<PublicKey>, threshold: u8) -> Result<KeySet, KeyFileError> {
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            return Err(KeyFileError::Empty);
        }
        if threshold == 0 || usize::from(threshold) > keys.len() || keys.len() > 255 {
            return Err(KeyFileError::BadThreshold);
        }
        Ok(KeySet { keys, threshold })
    }

    /// The keys, sorted.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// How many distinct keys of the set must sign.
    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    /// The key with this id, if it is in the set.
    pub fn get(&self, id: KeyId) -> Option<&PublicKey> {
        self.keys.iter().find(|k| k.id() == id)
    }

    /// Parses a trust file (format in the module docs).
    pub fn from_trust_file(text: &str) -> Result<KeySet, KeyFileError> {
        let mut keys = Vec::new();
        let mut threshold = 1u8;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason| KeyFileError::BadLine {
                line: i + 1,
                reason,
            };
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["ed25519", id, key] => {
                    let raw = B64
                        .decode(key)
                        .map_err(|_| bad("public key is not base64"))?;
                    let raw: [u8; 32] = raw
                        .try_into()
                        .map_err(|_| bad("public key is not 32 bytes"))?;
                    let key = PublicKey(raw);
                    if key.id().to_string() != id.to_ascii_lowercase() {
                        return Err(bad("key id does not match the key"));
                    }
                    keys.push(key);
                }
                ["threshold", n] => {
                    threshold = n.parse().map_err(|_| bad("threshold is not a number"))?;
                }
                _ => return Err(bad("expected `ed25519 <key-id> <base64 key>`")),
            }
        }
        KeySet::new(keys, threshold)
    }

    /// The trust file text for this set.
    pub fn to_trust_file(&self) -> String {
        let mut s = String::from("# fraudshield trusted publisher keys\n");
        for k in &self.keys {
            s.push_str(&k.trust_line());
            s.push('\n');
        }
        s.push_str(&format!("threshold {}\n", self.threshold));
        s
    }

    /// Canonical bytes: threshold, count, keys in order.
    pub(crate) fn encode(&self, w: &mut super::bytes::Writer) {
        w.u8(self.threshold);
        w.u8(self.keys.len() as u8);
        for k in &self.keys {
            w.bytes(&k.0);
        }
    }

    pub(crate) fn decode(
        r: &mut super::bytes::Reader<'_>,
    ) -> Result<KeySet, super::bytes::FormatError> {
        let threshold = r.u8("threshold")?;
        let n = r.u8("key count")?;
        let mut keys = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            keys.push(PublicKey(r.array("public key")?));
        }
        let sorted = keys.windows(2).all(|w| w[0] < w[1]);
        let set = KeySet::new(keys, threshold).map_err(|_| super::bytes::FormatError::Invalid {
            field: "key set",
            reason: "empty or bad threshold",
        })?;
        if !sorted {
            return Err(super::bytes::FormatError::Invalid {
                field: "key set",
                reason: "keys not sorted and unique",
            });
        }
        Ok(set)
    }

    /// SHA-256 over the canonical bytes: names this set in rotation statements.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut w = super::bytes::Writer::new();
        self.encode(&mut w);
        sha256(&w.buf)
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_file_round_trips_and_catches_typos() {
        let a = SigningKey::generate().unwrap();
        let b = SigningKey::generate().unwrap();
        let set = KeySet::new(vec![a.public(), b.public()], 1).unwrap();
        let text = set.to_trust_file();
        assert_eq!(KeySet::from_trust_file(&text).unwrap(), set);
        let typo = text.replacen("ed25519 ", "ed25519 00", 1);
        assert!(KeySet::from_trust_file(&typo).is_err());
        assert!(KeySet::from_trust_file("# nothing\n").is_err());
        assert!(KeySet::from_trust_file(&format!("{text}threshold 3\n")).is_err());
    }

    #[test]
    fn signing_key_file_round_trips() {
        let k = SigningKey::generate().unwrap();
        let k2 = SigningKey::from_file_text(&k.to_file_text()).unwrap();
        assert_eq!(k.public(), k2.public());
        let sig = k2.sign(b"hello");
        assert!(k.public().verify(b"hello", &sig));
        assert!(!k.public().verify(b"hellO", &sig));
    }
}
