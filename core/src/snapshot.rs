//! The base snapshot: the whole blocklist as one FST file, opened with mmap.
//!
//! An FST (finite state transducer, the [`fst`] crate) stores sorted keys with shared prefixes
//! *and* suffixes once, and maps each key to a `u64` — here the packed
//! [`EntryValue`]. Phone numbers share long prefixes (`+86138…`) and the
//! values take only a few hundred distinct forms, so the file stays a few bytes per entry, and a
//! lookup touches one small node per key byte.
//!
//! ## File format (snapshot format version 1)
//!
//! All integers little-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `FSHDSNAP` |
//! | 8 | 2 | snapshot format version (1) |
//! | 10 | 1 | value format version ([`crate::entry::VALUE_FORMAT_VERSION`]) |
//! | 11 | 1 | digest format version ([`crate::digest::DIGEST_FORMAT_VERSION`]) |
//! | 12 | 4 | reserved, 0 |
//! | 16 | 8 | entry count |
//! | 24 | 8 | length of the FST bytes |
//! | 32 | 32 | [`StateDigest`] of the entries |
//! | 64 | 32 | BLAKE3 checksum of the FST bytes |
//! | 96 | 2048 | the entries' [`LtHash`] lanes (so an overlay can be folded in without a full pass) |
//! | 2144 | 16 | header checksum: the first 16 bytes of BLAKE3 over bytes 0..2144 |
//! | 2160 | … | the FST (the [`fst`] crate's own format, which ends in a CRC32C) |
//!
//! ## What is checked when
//!
//! Opening must stay in the milliseconds at two million entries (a call is ringing), so
//! [`Snapshot::open`] checks only what is cheap: the magic, the versions, the header checksum,
//! that the digest matches the lanes, that the file length matches, and the FST's own structural
//! check (root address, entry count). The byte checks — the BLAKE3 checksum over every FST byte
//! and the FST's CRC — run in [`Snapshot::verify_bytes`], which the store calls right after
//! writing a new snapshot, before it can go live (the digest was computed from the very entries
//! written). [`Snapshot::verify`] adds recomputing the digest from every entry; the store runs it
//! when the app asks for a full integrity check.
//!
//! The price of a cheap open: a file damaged *after* it was written and checked (flash errors,
//! another process writing into the app's private directory) is only detected by a full check.
//! Until then the FST reader may return wrong answers for the damaged region, or, for some
//! damage patterns, panic inside the `fst` crate (which a uniffi host sees as an exception, not a
//! crash). Apps that want the stronger guarantee run `Store::verify` in the background after
//! each cold start; it costs a full read and one element hash per entry. Reading every page at open would defeat mmap's lazy
//! loading: cold open to the first verdict would cost a read of the whole file.
//!
//! Snapshot files are never modified after they are renamed into place: a new base always gets
//! a new file name. That is what makes the mmap sound (see the `SAFETY` comment in
//! [`Snapshot::open`]).

use crate::digest::{DIGEST_FORMAT_VERSION, LtHash, StateDigest};
use crate::entry::{EntryValue, VALUE_FORMAT_VERSION};
use crate::key::{self, KeyError};
use crate::kind::Kind;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The first 8 bytes of every snapshot file.
pub const MAGIC: &[u8; 8] = b"FSHDSNAP";
/// The version of the file layout above.
pub const SNAPSHOT_FORMAT_VERSION: u16 = 1;
/// Length of the header before the FST bytes.
pub const HEADER_LEN: usize = 2160;
const HEADER_CHECKED_LEN: usize = 2144;

/// Why a snapshot could not be written, opened or verified.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing the file failed.
    #[error("snapshot I/O error: {0}")]
    Io(#[from] io::Error),
    /// The file does not start with [`MAGIC`].
    #[error("not a snapshot file (bad magic)")]
    BadMagic,
    /// A format version this build cannot read.
    #[error("unsupported snapshot format: {what} version {found}, expected {expected}")]
    UnsupportedVersion {
        /// Which version field.
        what: &'static str,
        /// The version this build reads.
        expected: u16,
        /// The version found.
        found: u16,
    },
    /// The file is shorter or longer than its header says, or too short for a header.
    #[error("snapshot file has {found} bytes, expected {expected}")]
    BadLength {
        /// Expected length.
        expected: u64,
        /// Actual length.
        found: u64,
    },
    /// A checksum or digest did not match: the file is damaged or was changed.
    #[error("snapshot is corrupt: {0}")]
    Corrupt(&'static str),
    /// The FST bytes could not be read or written.
    #[error("snapshot index error: {0}")]
    Fst(#[from] fst::Error),
    /// Entries were not in strictly ascending key order (position is 0-based).
    #[error("snapshot entries not strictly ascending at entry {position}")]
    NotSorted {
        /// Index of the first out-of-order entry.
        position: u64,
    },
    /// An entry's key is not a valid key.
    #[error("invalid key at entry {position}: {error}")]
    BadKey {
        /// Index of the entry.
        position: u64,
        /// What was wrong.
        error: KeyError,
    },
    /// An entry's value is invalid, or a prefix rule on a kind other than phone.
    #[error("invalid value at entry {position}: {reason}")]
    BadValue {
        /// Index of the entry.
        position: u64,
        /// What was wrong.
        reason: String,
    },
}

/// The parsed header of a snapshot file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// Number of entries.
    pub entries: u64,
    /// Length of the FST bytes.
    pub fst_len: u64,
    /// Digest of the entries.
    pub digest: StateDigest,
    /// BLAKE3 of the FST bytes.
    pub checksum: [u8; 32],
    /// LtHash of the entries.
    pub lthash: LtHash,
}

impl SnapshotHeader {
    fn encode(&self) -> Vec<u8> {
        let mut h = Vec::with_capacity(HEADER_LEN);
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&SNAPSHOT_FORMAT_VERSION.to_le_bytes());
        h.push(VALUE_FORMAT_VERSION);
        h.push(DIGEST_FORMAT_VERSION);
        h.extend_from_slice(&[0u8; 4]);
        h.extend_from_slice(&self.entries.to_le_bytes());
        h.extend_from_slice(&self.fst_len.to_le_bytes());
        h.extend_from_slice(&self.digest.0);
        h.extend_from_slice(&self.checksum);
        h.extend_from_slice(&self.lthash.to_bytes());
        debug_assert_eq!(h.len(), HEADER_CHECKED_LEN);
        let check = blake3::hash(&h);
        h.extend_from_slice(&check.as_bytes()[..16]);
        h
    }

    fn decode(h: &[u8]) -> Result<SnapshotHeader, SnapshotError> {
        if h.len() < HEADER_LEN {
            return Err(SnapshotError::BadLength {
                expected: HEADER_LEN as u64,
                found: h.len() as u64,
            });
        }
        if &h[0..8] != MAGIC {
            return Err(SnapshotError::BadMagic);
        }
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[o..o + 8]);
            u64::from_le_bytes(b)
        };
        let version = u16::from_le_bytes([h[8], h[9]]);
        if version != SNAPSHOT_FORMAT_VERSION {
            return Err(SnapshotError::UnsupportedVersion {
                what: "snapshot format",
                expected: SNAPSHOT_FORMAT_VERSION,
                found: version,
            });
        }
        if h[10] != VALUE_FORMAT_VERSION {
            return Err(SnapshotError::UnsupportedVersion {
                what: "value format",
                expected: u16::from(VALUE_FORMAT_VERSION),
                found: u16::from(h[10]),
            });
        }
        if h[11] != DIGEST_FORMAT_VERSION {
            return Err(SnapshotError::UnsupportedVersion {
                what: "digest format",
                expected: u16::from(DIGEST_FORMAT_VERSION),
                found: u16::from(h[11]),
            });
        }
        let check = blake3::hash(&h[..HEADER_CHECKED_LEN]);
        if check.as_bytes()[..16] != h[HEADER_CHECKED_LEN..HEADER_LEN] {
            return Err(SnapshotError::Corrupt("header checksum mismatch"));
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&h[32..64]);
        let mut checksum = [0u8; 32];
        checksum.copy_from_slice(&h[64..96]);
        let lthash = LtHash::from_bytes(&h[96..HEADER_CHECKED_LEN])
            .ok_or(SnapshotError::Corrupt("header lattice hash"))?;
        let header = SnapshotHeader {
            entries: u64_at(16),
            fst_len: u64_at(24),
            digest: StateDigest(digest),
            checksum,
            lthash,
        };
        if header.lthash.digest() != header.digest {
            return Err(SnapshotError::Corrupt(
                "header digest does not match its lattice hash",
            ));
        }
        Ok(header)
    }
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: blake3::Hasher,
    len: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Checks one entry for a snapshot: valid key, valid value, prefix rules only on phone keys.
pub(crate) fn check_entry(key: &[u8], value: u64, position: u64) -> Result<(), SnapshotError> {
    key::validate(key).map_err(|error| SnapshotError::BadKey { position, error })?;
    let v = EntryValue::unpack(value).map_err(|e| SnapshotError::BadValue {
        position,
        reason: e.to_string(),
    })?;
    if v.prefix && key[0] != Kind::Phone.tag() {
        return Err(SnapshotError::BadValue {
            position,
            reason: "prefix rules exist only for phone numbers".to_string(),
        });
    }
    Ok(())
}

/// Writes a snapshot of `entries` (strictly ascending keys, packed values) to `path`, which is
/// created or truncated, and fsyncs it. Returns its header.
///
/// Every key and value is checked; the first bad or out-of-order entry aborts the write with an
/// error (the caller removes the partial file). The directory is *not* fsynced and the file is not
/// renamed: that is the caller's job (see `store`).
pub fn write_snapshot<K: AsRef<[u8]>>(
    path: &Path,
    entries: impl IntoIterator<Item = (K, u64)>,
) -> Result<SnapshotHeader, SnapshotError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.write_all(&[0u8; HEADER_LEN])?;
    let wtr = HashingWriter {
        inner: BufWriter::with_capacity(1 << 16, file),
        hasher: blake3::Hasher::new(),
        len: 0,
    };
    let mut builder = fst::raw::Builder::new_type(wtr, 0)?;
    let (lthash, result) = LtHash::compute(|sink| -> Result<u64, SnapshotError> {
        let mut count = 0u64;
        let mut last: Vec<u8> = Vec::new();
        for (key, value) in entries {
            let key = key.as_ref();
            check_entry(key, value, count)?;
            if count > 0 && key <= last.as_slice() {
                return Err(SnapshotError::NotSorted { position: count });
            }
            builder.insert(key, value)?;
            sink.add(key, value);
            last.clear();
            last.extend_from_slice(key);
            count += 1;
        }
        Ok(count)
    });
    let count = result?;
    let mut wtr = builder.into_inner()?;
    wtr.flush()?;
    let checksum = *wtr.hasher.finalize().as_bytes();
    let fst_len = wtr.len;
    let mut file = wtr
        .inner
        .into_inner()
        .map_err(|e| SnapshotError::Io(e.into_error()))?;
    let header = SnapshotHeader {
        entries: count,
        fst_len,
        digest: lthash.digest(),
        checksum,
        lthash,
    };
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header.encode())?;
    file.sync_all()?;
    Ok(header)
}

/// The bytes of an FST inside a mapped snapshot file (after the header).
pub struct MappedFst {
    map: memmap2::Mmap,
}

impl AsRef<[u8]> for MappedFst {
    fn as_ref(&self) -> &[u8] {
        self.map.get(HEADER_LEN..).unwrap_or(&[])
    }
}

/// An open, memory-mapped snapshot file.
pub struct Snapshot {
    fst: fst::raw::Fst<MappedFst>,
    header: SnapshotHeader,
    path: PathBuf,
    file_len: u64,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("path", &self.path)
            .field("entries", &self.header.entries)
            .field("digest", &self.header.digest)
            .finish()
    }
}

impl Snapshot {
    /// Maps and opens a snapshot file with the cheap checks described in the
    /// [module docs](self).
    pub fn open(path: &Path) -> Result<Snapshot, SnapshotError> {
        let file = File::open(path)?;
        let file_len = file.metadata()?.len();
        if file_len < HEADER_LEN as u64 {
            return Err(SnapshotError::BadLength {
                expected: HEADER_LEN as u64,
                found: file_len,
            });
        }
        // SAFETY: the mapping is read-only and private to this process. The store never modifies a
        // snapshot file after it has been renamed into place: every new base is written under a
        // new name and old ones are only unlinked (which keeps existing mappings valid on Unix).
        // A snapshot file is only opened after it was renamed into place, so no writer of this
        // program changes the bytes behind the mapping; another process modifying the app's
        // private files is outside what the store defends against (`verify` detects it).
        let map = unsafe { memmap2::Mmap::map(&file)? };
        #[cfg(unix)]
        {
            // Lookups jump to a handful of nodes per key: read-ahead would only waste memory and
            // I/O on a cold open. The hint is advisory; failure changes nothing but speed.
            let _ = map.advise(memmap2::Advice::Random);
        }
        let header = SnapshotHeader::decode(&map[..HEADER_LEN])?;
        let expected = HEADER_LEN as u64 + header.fst_len;
        if expected != file_len {
            return Err(SnapshotError::BadLength {
                expected,
                found: file_len,
            });
        }
        let fst = fst::raw::Fst::new(MappedFst { map })?;
        if fst.len() as u64 != header.entries {
            return Err(SnapshotError::Corrupt("entry count does not match header"));
        }
        Ok(Snapshot {
            fst,
            header,
            path: path.to_path_buf(),
            file_len,
        })
    }

    /// The header (entry count, digest, checksum, lattice hash).
    pub fn header(&self) -> &SnapshotHeader {
        &self.header
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.header.entries
    }

    /// `true` for a snapshot with no entries.
    pub fn is_empty(&self) -> bool {
        self.header.entries == 0
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The packed value of `key`, if it is in the snapshot.
    pub fn get(&self, key: &[u8]) -> Option<u64> {
        self.fst.get(key).map(|o| o.value())
    }

    /// Walks `key` once through the FST and calls `on_final(len, value)` for every prefix
    /// `key[..len]` (including the whole key, `len == key.len()`) that is an entry, shortest
    /// first. No allocation.
    #[inline]
    pub fn walk(&self, key: &[u8], mut on_final: impl FnMut(usize, u64)) {
        let fst = &self.fst;
        let mut node = fst.root();
        let mut out = fst::raw::Output::zero();
        for (i, &b) in key.iter().enumerate() {
            if i > 0 && node.is_final() {
                on_final(i, out.cat(node.final_output()).value());
            }
            match node.find_input(b) {
                Some(t) => {
                    let t = node.transition(t);
                    out = out.cat(t.out);
                    node = fst.node(t.addr);
                }
                None => return,
            }
        }
        if node.is_final() {
            on_final(key.len(), out.cat(node.final_output()).value());
        }
    }

    /// Streams the entries with keys `>= from` in ascending order, as `(key, packed value)`.
    pub fn stream_from<'a>(&'a self, from: &[u8]) -> SnapshotStream<'a> {
        use fst::IntoStreamer;
        SnapshotStream {
            inner: self.fst.range().ge(from).into_stream(),
        }
    }

    /// Checks every byte: the BLAKE3 checksum over the FST bytes and the FST's own CRC. Cheaper
    /// than [`Snapshot::verify`] (no element hashing); run right after writing a new snapshot,
    /// whose digest was computed from the very entries written.
    pub fn verify_bytes(&self) -> Result<(), SnapshotError> {
        let bytes = self.fst.as_bytes();
        if blake3::hash(bytes).as_bytes() != &self.header.checksum {
            return Err(SnapshotError::Corrupt("FST checksum mismatch"));
        }
        self.fst
            .verify()
            .map_err(|_| SnapshotError::Corrupt("FST CRC mismatch"))
    }

    /// Full integrity check: [`Snapshot::verify_bytes`], then every key and value, and the
    /// digest recomputed from every entry (on all cores, see [`LtHash::compute`]). Costs a read
    /// of the whole file and one element hash per entry.
    pub fn verify(&self) -> Result<(), SnapshotError> {
        self.verify_bytes()?;
        let (lthash, result) = LtHash::compute(|sink| -> Result<u64, SnapshotError> {
            let mut stream = self.stream_from(&[]);
            let mut n = 0u64;
            while let Some((k, v)) = stream.next() {
                check_entry(k, v, n)?;
                sink.add(k, v);
                n += 1;
            }
            Ok(n)
        });
        if result? != self.header.entries {
            return Err(SnapshotError::Corrupt("entry count does not match header"));
        }
        if lthash != self.header.lthash {
            return Err(SnapshotError::Corrupt(
                "entries do not match the recorded digest",
            ));
        }
        Ok(())
    }
}

/// An ascending stream of snapshot entries; call [`SnapshotStream::next`] until `None`.
pub struct SnapshotStream<'a> {
    inner: fst::raw::Stream<'a>,
}

impl SnapshotStream<'_> {
    /// The next `(key, packed value)`, or `None` at the end.
    #[allow(clippy::should_implement_trait)] // a lending stream: keys borrow the stream
    pub fn next(&mut self) -> Option<(&[u8], u64)> {
        use fst::Streamer;
        self.inner.next().map(|(k, o)| (k, o.value()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::entry::{Category, ReportBucket, Risk};

    fn val(risk: Risk, prefix: bool) -> u64 {
        EntryValue {
            category: Category::Loan,
            risk,
            reports: ReportBucket::from_count(3),
            prefix,
        }
        .pack()
    }

    fn sample() -> Vec<(Vec<u8>, u64)> {
        vec![
            (b"\x01+86170".to_vec(), val(Risk::Medium, true)),
            (b"\x01+8617012345678".to_vec(), val(Risk::High, false)),
            (b"\x01+8617099".to_vec(), val(Risk::Low, true)),
            (b"\x03123456".to_vec(), val(Risk::Low, false)),
        ]
    }

    #[test]
    fn write_open_walk_verify() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.fst");
        let h = write_snapshot(&p, sample()).unwrap();
        assert_eq!(h.entries, 4);
        let s = Snapshot::open(&p).unwrap();
        assert_eq!(s.header(), &h);
        s.verify().unwrap();
        let mut seen = Vec::new();
        s.walk(b"\x01+8617099000", |len, v| seen.push((len, v)));
        assert_eq!(
            seen,
            vec![(7, val(Risk::Medium, true)), (9, val(Risk::Low, true))]
        );
        seen.clear();
        s.walk(b"\x01+8617012345678", |len, v| seen.push((len, v)));
        assert_eq!(
            seen,
            vec![(7, val(Risk::Medium, true)), (15, val(Risk::High, false))]
        );
        assert_eq!(s.get(b"\x03123456"), Some(val(Risk::Low, false)));
        assert_eq!(s.get(b"\x03123457"), None);
        let full = LtHash::of_entries(sample());
        assert_eq!(h.digest, full.digest());
    }

    #[test]
    fn rejects_unsorted_and_bad_entries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.fst");
        let mut e = sample();
        e.swap(0, 1);
        assert!(matches!(
            write_snapshot(&p, e),
            Err(SnapshotError::NotSorted { position: 1 })
        ));
        let dup = vec![(b"\x03123456", 1u64), (b"\x03123456", 1u64)];
        assert!(matches!(
            write_snapshot(&p, dup),
            Err(SnapshotError::NotSorted { .. })
        ));
        let prefix_qq = vec![(b"\x03123456".to_vec(), val(Risk::Low, true))];
        assert!(matches!(
            write_snapshot(&p, prefix_qq),
            Err(SnapshotError::BadValue { .. })
        ));
        let bad_value = vec![(b"\x03123456".to_vec(), 0u64)];
        assert!(matches!(
            write_snapshot(&p, bad_value),
            Err(SnapshotError::BadValue { .. })
        ));
    }

    #[test]
    fn tampering_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.fst");
        write_snapshot(&p, sample()).unwrap();
        let clean = std::fs::read(&p).unwrap();
        // A flipped byte in the header: caught on open.
        let mut b = clean.clone();
        b[40] ^= 1;
        std::fs::write(&p, &b).unwrap();
        assert!(Snapshot::open(&p).is_err());
        // A flipped byte in the FST body: caught by verify (open stays cheap).
        for offset in [HEADER_LEN + 3, clean.len() - 30] {
            let mut b = clean.clone();
            b[offset] ^= 0x10;
            std::fs::write(&p, &b).unwrap();
            if let Ok(s) = Snapshot::open(&p) {
                assert!(s.verify().is_err(), "offset {offset}");
            }
        }
        // Truncation: caught on open.
        std::fs::write(&p, &clean[..clean.len() - 1]).unwrap();
        assert!(Snapshot::open(&p).is_err());
        std::fs::write(&p, b"FSHDSNAP").unwrap();
        assert!(Snapshot::open(&p).is_err());
    }
}
