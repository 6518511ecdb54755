//! Blocklist keys: one byte of kind tag followed by the canonical ASCII form.
//!
//! Keys sort first by kind, then byte-wise by canonical form, which is the order the FST and the
//! wire format store them in. Because every phone key starts with its country code, a prefix
//! rule (`+86170`) is a byte prefix of every number it covers.

use crate::kind::Kind;
use std::fmt;

/// The longest canonical form a key may carry (an e-mail Alipay login is the longest kind).
pub const MAX_CANONICAL_LEN: usize = 254;

/// A blocklist key: `[kind tag][canonical ASCII]`.
///
/// Its `Debug` output hides the canonical form (identifiers are personal data): only the kind
/// and length are shown.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(Vec<u8>);

/// Why a byte string is not a valid key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Zero bytes, or a tag with no canonical form after it.
    #[error("key too short: {len} bytes, at least 2 expected")]
    TooShort {
        /// Length found.
        len: usize,
    },
    /// The first byte is not a known kind tag.
    #[error("unknown kind tag {tag:#04x}")]
    UnknownTag {
        /// The tag byte found.
        tag: u8,
    },
    /// The canonical part is not printable ASCII.
    #[error("key byte at offset {offset} is not printable ASCII")]
    NotAscii {
        /// Offset of the offending byte within the key.
        offset: usize,
    },
    /// The canonical part exceeds [`MAX_CANONICAL_LEN`].
    #[error("key too long: {len} bytes, at most {max} expected", max = MAX_CANONICAL_LEN + 1)]
    TooLong {
        /// Length found.
        len: usize,
    },
}

impl Key {
    /// Builds the key for a canonical form of `kind`.
    ///
    /// The canonical form is trusted here; use [`crate::identifier::normalize`] to get one from
    /// user input, or [`Key::from_bytes`] to check bytes read from a file or the network.
    ///
    /// ```
    /// use fraudshield_core::{key::Key, kind::Kind};
    /// let k = Key::new(Kind::Qq, "123456");
    /// assert_eq!(k.as_bytes(), b"\x03123456");
    /// assert_eq!(k.kind(), Kind::Qq);
    /// assert_eq!(k.canonical(), "123456");
    /// ```
    pub fn new(kind: Kind, canonical: &str) -> Key {
        let mut bytes = Vec::with_capacity(1 + canonical.len());
        bytes.push(kind.tag());
        bytes.extend_from_slice(canonical.as_bytes());
        Key(bytes)
    }

    /// Checks untrusted bytes (from a file or the network) and wraps them as a key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Key, KeyError> {
        validate(bytes)?;
        Ok(Key(bytes.to_vec()))
    }

    /// Wraps bytes that came out of a verified index (an FST whose checksum was checked).
    /// The caller vouches that they were valid keys when written.
    #[allow(dead_code)] // used by the snapshot reader
    pub(crate) fn from_trusted_bytes(bytes: Vec<u8>) -> Key {
        debug_assert!(validate(&bytes).is_ok());
        Key(bytes)
    }

    /// The raw key bytes, tag first.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Consumes the key and returns its bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The kind named by the tag byte.
    pub fn kind(&self) -> Kind {
        // A `Key` is only built from a `Kind` or from validated bytes: the tag is known.
        Kind::from_tag(self.0[0]).unwrap_or(Kind::Phone)
    }

    /// The canonical form after the tag.
    pub fn canonical(&self) -> &str {
        // Validated as ASCII on construction.
        std::str::from_utf8(&self.0[1..]).unwrap_or("")
    }
}

/// Checks that `bytes` form a valid key without allocating.
pub fn validate(bytes: &[u8]) -> Result<(), KeyError> {
    if bytes.len() < 2 {
        return Err(KeyError::TooShort { len: bytes.len() });
    }
    if Kind::from_tag(bytes[0]).is_none() {
        return Err(KeyError::UnknownTag { tag: bytes[0] });
    }
    if bytes.len() > MAX_CANONICAL_LEN + 1 {
        return Err(KeyError::TooLong { len: bytes.len() });
    }
    if let Some(i) = bytes[1..].iter().position(|b| !b.is_ascii_graphic()) {
        return Err(KeyError::NotAscii { offset: i + 1 });
    }
    Ok(())
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}, {} bytes)", self.kind(), self.0.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_never_collide() {
        let a = Key::new(Kind::Qq, "12345678");
        let b = Key::new(Kind::Bank, "12345678");
        assert_ne!(a, b);
        assert!(b < a, "keys sort by kind tag first");
    }

    #[test]
    fn from_bytes_rejects_bad_keys() {
        assert_eq!(Key::from_bytes(b""), Err(KeyError::TooShort { len: 0 }));
        assert_eq!(Key::from_bytes(b"\x01"), Err(KeyError::TooShort { len: 1 }));
        assert_eq!(
            Key::from_bytes(b"\x09123"),
            Err(KeyError::UnknownTag { tag: 9 })
        );
        assert_eq!(
            Key::from_bytes(b"\x011 3"),
            Err(KeyError::NotAscii { offset: 2 })
        );
        assert!(Key::from_bytes(&[1u8; 300]).is_err());
        let k = Key::from_bytes(b"\x01+8613800138000").unwrap();
        assert_eq!(k.canonical(), "+8613800138000");
    }

    #[test]
    fn debug_hides_the_identifier() {
        let k = Key::new(Kind::Phone, "+8613800138000");
        let shown = format!("{k:?}");
        assert!(!shown.contains("138"), "{shown}");
    }
}
