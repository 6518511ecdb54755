//! Byte-level reading and writing shared by every release format: big-endian fixed-width
//! integers, LEB128 varints, length-prefixed strings.
//!
//! The [`Reader`] never panics: every read checks the remaining length and returns
//! [`FormatError`] instead.

/// Why bytes could not be read as the expected format.
///
/// Messages describe the defect (which field, which offset), never the data itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The data ended before a field was complete.
    #[error("truncated: {field} needs more bytes at offset {offset}")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Where it started.
        offset: usize,
    },
    /// The leading magic bytes are not the ones this format starts with.
    #[error("not a {expected} (wrong magic bytes)")]
    BadMagic {
        /// The format that was expected.
        expected: &'static str,
    },
    /// A format version this build does not read.
    #[error("unsupported {what} version {found}")]
    UnsupportedVersion {
        /// Which format.
        what: &'static str,
        /// The version found.
        found: u8,
    },
    /// A field holds a value outside its allowed range.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// Bytes were left after the last field: canonical encodings have exactly one form.
    #[error("{count} unexpected trailing bytes")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
}

/// Appends fields to a byte vector.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Writer {
        Writer::default()
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    /// A byte string of at most 255 bytes with a one-byte length (callers check the length).
    pub(crate) fn short_bytes(&mut self, v: &[u8]) {
        self.buf.push(v.len().min(255) as u8);
        self.buf.extend_from_slice(&v[..v.len().min(255)]);
    }
    pub(crate) fn varint(&mut self, mut v: u128) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads fields from a byte slice, checking bounds on every read.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }
    /// A reader of `data` that starts at `pos` (clamped to the end).
    pub(crate) fn at(data: &'a [u8], pos: usize) -> Reader<'a> {
        Reader {
            data,
            pos: pos.min(data.len()),
        }
    }
    /// How many bytes were read so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], FormatError> {
        if self.remaining() < n {
            return Err(FormatError::Truncated {
                field,
                offset: self.pos,
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], FormatError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, field)?);
        Ok(a)
    }
    pub(crate) fn magic(
        &mut self,
        magic: &[u8],
        expected: &'static str,
    ) -> Result<(), FormatError> {
        match self.take(magic.len(), expected) {
            Ok(m) if m == magic => Ok(()),
            _ => Err(FormatError::BadMagic { expected }),
        }
    }
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, FormatError> {
        Ok(self.array::<1>(field)?[0])
    }
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, FormatError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }
    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, FormatError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }
    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, FormatError> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }
    pub(crate) fn short_bytes(&mut self, field: &'static str) -> Result<&'a [u8], FormatError> {
        let n = self.u8(field)? as usize;
        self.take(n, field)
    }
    /// A LEB128 varint of at most 19 bytes (128 bits), in its shortest form.
    pub(crate) fn varint(&mut self, field: &'static str) -> Result<u128, FormatError> {
        let start = self.pos;
        let mut v: u128 = 0;
        for i in 0..19 {
            let b = self.u8(field)?;
            let part = u128::from(b & 0x7f);
            let shift = 7 * i;
            if shift == 126 && part > 0b11 {
                return Err(FormatError::Invalid {
                    field,
                    reason: "varint overflows 128 bits",
                });
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(FormatError::Invalid {
                        field,
                        reason: "varint not in shortest form",
                    });
                }
                return Ok(v);
            }
        }
        let _ = start;
        Err(FormatError::Invalid {
            field,
            reason: "varint longer than 19 bytes",
        })
    }
    /// A varint that must fit in `u64`.
    pub(crate) fn varint_u64(&mut self, field: &'static str) -> Result<u64, FormatError> {
        u64::try_from(self.varint(field)?).map_err(|_| FormatError::Invalid {
            field,
            reason: "does not fit in 64 bits",
        })
    }
    pub(crate) fn finish(&self) -> Result<(), FormatError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(FormatError::TrailingBytes { count }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overlong() {
        for v in [0u128, 1, 127, 128, 300, u64::MAX as u128, u128::MAX] {
            let mut w = Writer::new();
            w.varint(v);
            let bytes = w.into_bytes();
            let mut r = Reader::new(&bytes);
            assert_eq!(r.varint("v").unwrap(), v);
            r.finish().unwrap();
        }
        assert!(Reader::new(&[0x80, 0x00]).varint("v").is_err());
        assert!(Reader::new(&[0xff; 20]).varint("v").is_err());
        assert!(Reader::new(&[0x80]).varint("v").is_err());
    }
}
