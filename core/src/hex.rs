//! Lower-case hex, the one encoding of hashes and digests in file names, ETags, JSON and logs.
//!
//! ```
//! use fraudshield_core::hex;
//! assert_eq!(hex::encode(&[0x0f, 0xa0]), "0fa0");
//! assert_eq!(hex::decode::<2>("0FA0"), Some([0x0f, 0xa0]));
//! assert_eq!(hex::decode::<2>("0fa"), None);
//! ```

use std::fmt;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lower-case hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Writes `bytes` as lower-case hex into a formatter, without allocating.
pub fn write(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for &b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// Exactly `2 * N` hex digits (either case) as `N` bytes; `None` for any other input.
pub fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    let t = text.as_bytes();
    if t.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(t.chunks_exact(2)) {
        *o = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let text = encode(&all);
        assert_eq!(text.len(), 512);
        assert_eq!(decode::<256>(&text).map(|a| a.to_vec()), Some(all.clone()));
        assert_eq!(
            decode::<256>(&text.to_uppercase()).map(|a| a.to_vec()),
            Some(all)
        );
    }

    #[test]
    fn refuses_bad_digits_and_lengths() {
        assert_eq!(decode::<1>("g0"), None);
        assert_eq!(decode::<1>("+1"), None);
        assert_eq!(decode::<1>("0"), None);
        assert_eq!(decode::<1>("000"), None);
        assert_eq!(decode::<0>(""), Some([]));
    }
}
