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
//! Every byte is checked before a snapshot answers a lookup: [`Snapshot::open`] (and
//! [`Snapshot::from_bytes`], the same checks on bytes in memory) verifies
//!
//! 1. the magic, the versions, the header checksum, that the digest matches the lanes and that
//!    the file length matches the header;
//! 2. the BLAKE3 checksum of the FST bytes recorded in the header: with the header checksum this
//!    covers every byte of the file, so truncation, a zeroed page or a flipped bit is found here;
//! 3. the FST's structure, so that even a crafted file whose checksums were recomputed cannot make
//!    a later lookup panic, loop or overflow. The `fst` crate's own open (`fst::raw::Fst::new`)
//!    reads only the trailer (version, entry count, root address) and, as its comments say,
//!    trusts the rest: a bad node address or length panics later, inside a lookup. So open
//!    decodes every node once, in one linear walk (the builder writes nodes back to back,
//!    children before parents, so each node ends where the next one down begins), and requires
//!    that every transition points to the address of a node written *before* its parent (so the
//!    graph has no cycle and every walk ends), that no node is a dead end, and that every output
//!    is at most a packed value's 10 bits (so their sum along a path cannot overflow). The
//!    decoding runs inside [`std::panic::catch_unwind`]: a node the `fst` crate cannot decode is
//!    reported as [`SnapshotError::Corrupt`], not as a panic. Every operation a lookup or a
//!    stream performs on a node (reading its inputs, outputs and transition addresses, the
//!    256-byte transition index of large nodes, which lies between bytes already read) was
//!    exercised on every node, so once open succeeds no lookup can index outside the file.
//!    Streams stop after the header's entry count: a crafted graph with more paths than entries
//!    cannot make one run away.
//!
//! What open does *not* do is recompute the digest from every entry (one element hash per entry):
//! [`Snapshot::verify`] does that, and the store runs it on demand (`Store::verify`). The
//! measured cost of open at two million entries is in `benches/REPORT.md` ("open + verify").
//!
//! Snapshot files are never modified after they are renamed into place: a new base always gets
//! a new file name. That is what makes the mmap sound (see the `SAFETY` comment in
//! [`Snapshot::open`]); the checks at open make it safe as well against a file someone else
//! changed *before* it was opened.

use crate::digest::{DIGEST_FORMAT_VERSION, LtHash, StateDigest};
use crate::entry::{EntryValue, VALUE_FORMAT_VERSION};
use crate::key::{self, KeyError};
use crate::kind::Kind;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Cursor, Seek, SeekFrom, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
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
/// renamed: that is the caller's job (see [`crate::durable`] and `store`).
pub fn write_snapshot<K: AsRef<[u8]>>(
    path: &Path,
    entries: impl IntoIterator<Item = (K, u64)>,
) -> Result<SnapshotHeader, SnapshotError> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    let (header, file) = write_snapshot_to(file, entries)?;
    file.sync_all()?;
    Ok(header)
}

/// The bytes of a snapshot of `entries`, built in memory (small lists and tests; a store writes
/// files with [`write_snapshot`]).
pub fn snapshot_bytes<K: AsRef<[u8]>>(
    entries: impl IntoIterator<Item = (K, u64)>,
) -> Result<Vec<u8>, SnapshotError> {
    let (_, cursor) = write_snapshot_to(Cursor::new(Vec::new()), entries)?;
    Ok(cursor.into_inner())
}

fn write_snapshot_to<W: Write + Seek, K: AsRef<[u8]>>(
    mut out: W,
    entries: impl IntoIterator<Item = (K, u64)>,
) -> Result<(SnapshotHeader, W), SnapshotError> {
    out.write_all(&[0u8; HEADER_LEN])?;
    let wtr = HashingWriter {
        inner: BufWriter::with_capacity(1 << 16, out),
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
    let mut out = wtr
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
    out.seek(SeekFrom::Start(0))?;
    out.write_all(&header.encode())?;
    out.flush()?;
    Ok((header, out))
}

enum Backing {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

/// The bytes of an FST inside a snapshot (after the header): a read-only file mapping, or a
/// copy in memory ([`Snapshot::from_bytes`]).
pub struct SnapshotBytes(Backing);

impl SnapshotBytes {
    fn file(&self) -> &[u8] {
        match &self.0 {
            Backing::Map(m) => m,
            Backing::Owned(v) => v,
        }
    }
}

impl AsRef<[u8]> for SnapshotBytes {
    fn as_ref(&self) -> &[u8] {
        self.file().get(HEADER_LEN..).unwrap_or(&[])
    }
}

/// An open, verified snapshot (see the [module docs](self) for what open checks).
pub struct Snapshot {
    fst: fst::raw::Fst<SnapshotBytes>,
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
    /// Maps and opens a snapshot file, checking every byte and the FST's structure as the
    /// [module docs](self) describe. Costs one read of the file (measured in `benches/REPORT.md`).
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
        // private files while they are mapped is outside what the store defends against
        // (damage done before the open is found by the checks below; `verify` finds later damage).
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Snapshot::from_backing(Backing::Map(map), path.to_path_buf())
    }

    /// Opens a snapshot held in memory (a copy of `bytes` is kept), with exactly the checks of
    /// [`Snapshot::open`]. No byte pattern makes this or a later lookup panic: it is the entry
    /// point of the snapshot fuzz target. The snapshot's [`Snapshot::path`] is empty.
    pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        Snapshot::from_backing(Backing::Owned(bytes.to_vec()), PathBuf::new())
    }

    /// A snapshot with no entries, in memory.
    pub fn empty() -> Result<Snapshot, SnapshotError> {
        Snapshot::from_bytes(&snapshot_bytes(std::iter::empty::<(&[u8], u64)>())?)
    }

    fn from_backing(backing: Backing, path: PathBuf) -> Result<Snapshot, SnapshotError> {
        let bytes = SnapshotBytes(backing);
        let file = bytes.file();
        let file_len = file.len() as u64;
        let head = file.get(..HEADER_LEN).ok_or(SnapshotError::BadLength {
            expected: HEADER_LEN as u64,
            found: file_len,
        })?;
        let header = SnapshotHeader::decode(head)?;
        let expected = (HEADER_LEN as u64).saturating_add(header.fst_len);
        if expected != file_len {
            return Err(SnapshotError::BadLength {
                expected,
                found: file_len,
            });
        }
        if blake3::hash(bytes.as_ref()).as_bytes() != &header.checksum {
            return Err(SnapshotError::Corrupt("FST checksum mismatch"));
        }
        #[cfg(unix)]
        if let Backing::Map(map) = &bytes.0 {
            // Lookups jump to a handful of nodes per key: read-ahead would only waste memory and
            // I/O. The hint is advisory; failure changes nothing but speed.
            let _ = map.advise(memmap2::Advice::Random);
        }
        let fst = catch_unwind(AssertUnwindSafe(|| fst::raw::Fst::new(bytes)))
            .map_err(|_| SnapshotError::Corrupt("FST trailer"))??;
        if fst.len() as u64 != header.entries {
            return Err(SnapshotError::Corrupt("entry count does not match header"));
        }
        catch_unwind(AssertUnwindSafe(|| check_structure(&fst)))
            .map_err(|_| SnapshotError::Corrupt("FST node cannot be decoded"))??;
        Ok(Snapshot {
            fst,
            header,
            path,
            file_len,
        })
    }

    /// The same snapshot, known under `path` (after its file was renamed there).
    pub(crate) fn renamed(mut self, path: PathBuf) -> Snapshot {
        self.path = path;
        self
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
            left: self.header.entries,
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

/// Where the first node of an FST starts: after the `fst` crate's version and type words.
const FST_NODES_START: usize = 16;

/// The address of the empty final node, which is never written (`fst`'s `EMPTY_ADDRESS`).
const EMPTY_ADDRESS: usize = 0;

/// The largest output a transition or final state of a valid snapshot carries: outputs along a
/// path add up to a packed [`EntryValue`], which has 10 bits.
const MAX_OUTPUT: u64 = (1 << 10) - 1;

/// Decodes every node of the FST once and checks that the graph is sound (see the
/// [module docs](self)). May panic inside the `fst` crate on undecodable bytes: the caller
/// catches it.
///
/// The builder writes nodes back to back, children before parents, from byte 16 up to the root:
/// each node's first byte follows the previous node's last byte (its address). So one linear
/// walk down from the root decodes every node once, without a map: it marks where each node is
/// and where each transition points, and checks that every transition points below its own node
/// (no cycle), that no node is a dead end (not final and without transitions) and that outputs
/// are bounded (their sum along a path cannot overflow). At the end every transition target
/// must be a node address (no jump into the middle of a node).
fn check_structure(fst: &fst::raw::Fst<SnapshotBytes>) -> Result<(), SnapshotError> {
    const BAD: SnapshotError = SnapshotError::Corrupt("FST structure");
    let root = fst.root().addr();
    if root == EMPTY_ADDRESS {
        return Ok(());
    }
    let words = fst.as_bytes().len() / 64 + 1;
    let (mut starts, mut targets) = (vec![0u64; words], vec![0u64; words]);
    let mark = |bits: &mut [u64], a: usize| bits[a / 64] |= 1 << (a % 64);
    let mut addr = root;
    loop {
        let node = fst.node(addr);
        mark(&mut starts, addr);
        if node.is_final() {
            if node.final_output().value() > MAX_OUTPUT {
                return Err(BAD);
            }
        } else if node.is_empty() && !(addr == root && fst.is_empty()) {
            // Only the root of an empty list has nowhere to go.
            return Err(BAD);
        }
        for t in node.transitions() {
            if t.out.value() > MAX_OUTPUT || (t.addr >= addr && t.addr != EMPTY_ADDRESS) {
                return Err(BAD);
            }
            if t.addr != EMPTY_ADDRESS {
                mark(&mut targets, t.addr);
            }
        }
        let end = node_end(fst, addr)?;
        if end == FST_NODES_START {
            break;
        }
        match end.checked_sub(1) {
            Some(next) if end > FST_NODES_START => addr = next,
            _ => return Err(BAD),
        }
    }
    if targets.iter().zip(&starts).any(|(t, s)| t & !s != 0) {
        return Err(BAD);
    }
    Ok(())
}

/// The first byte of the node at `addr` (nodes are stored from their end to their address).
fn node_end(fst: &fst::raw::Fst<SnapshotBytes>, addr: usize) -> Result<usize, SnapshotError> {
    // `as_slice` is the node's bytes: from its first byte to its address, inclusive.
    let len = fst.node(addr).as_slice().len();
    match (addr + 1).checked_sub(len) {
        Some(end) if len > 0 => Ok(end),
        _ => Err(SnapshotError::Corrupt("FST structure")),
    }
}

/// An ascending stream of snapshot entries; call [`SnapshotStream::next`] until `None`.
///
/// It ends after at most as many entries as the header counts: the structural check at open
/// rules out cycles and dead ends but does not count paths, so a crafted graph (with valid
/// checksums) may hold far more paths than entries, and the cap is what bounds a stream's work;
/// or fewer, and the stream ends early. Either way a full [`Snapshot::verify`] fails (it counts
/// the entries and recomputes the digest from them).
pub struct SnapshotStream<'a> {
    inner: fst::raw::Stream<'a>,
    left: u64,
}

impl SnapshotStream<'_> {
    /// The next `(key, packed value)`, or `None` at the end.
    #[allow(clippy::should_implement_trait)] // a lending stream: keys borrow the stream
    pub fn next(&mut self) -> Option<(&[u8], u64)> {
        use fst::Streamer;
        self.left = self.left.checked_sub(1)?;
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
        // A flipped byte in the FST body: caught on open, before any lookup.
        for offset in [HEADER_LEN + 3, clean.len() - 30] {
            let mut b = clean.clone();
            b[offset] ^= 0x10;
            std::fs::write(&p, &b).unwrap();
            assert!(Snapshot::open(&p).is_err(), "offset {offset}");
        }
        // Truncation: caught on open.
        std::fs::write(&p, &clean[..clean.len() - 1]).unwrap();
        assert!(Snapshot::open(&p).is_err());
        std::fs::write(&p, b"FSHDSNAP").unwrap();
        assert!(Snapshot::open(&p).is_err());
    }

    /// Recomputes both checksums after `bytes` were changed, as a crafted file would.
    fn reseal(bytes: &mut [u8]) {
        let sum = blake3::hash(&bytes[HEADER_LEN..]);
        bytes[64..96].copy_from_slice(sum.as_bytes());
        let check = blake3::hash(&bytes[..HEADER_CHECKED_LEN]);
        bytes[HEADER_CHECKED_LEN..HEADER_LEN].copy_from_slice(&check.as_bytes()[..16]);
    }

    fn many() -> Vec<(Vec<u8>, u64)> {
        let mut e: Vec<(Vec<u8>, u64)> = (0..300u32)
            .map(|i| {
                let risk = [Risk::Low, Risk::Medium, Risk::High][(i % 3) as usize];
                (
                    format!("\x01+86138{:08}", i * 7919).into_bytes(),
                    val(risk, false),
                )
            })
            .collect();
        // A node with more than 32 transitions (the indexed layout).
        e.extend((0..60u8).map(|i| {
            (
                vec![3, b'1', b'0', b'0', b'0', 33 + i],
                val(Risk::Low, false),
            )
        }));
        e.sort();
        e
    }

    #[test]
    fn an_empty_snapshot_opens() {
        let s = Snapshot::empty().unwrap();
        assert_eq!(s.len(), 0);
        assert_eq!(s.get(b"\x03123456"), None);
        s.verify().unwrap();
    }

    #[test]
    fn every_single_byte_change_is_refused_at_open() {
        let bytes = snapshot_bytes(many()).unwrap();
        Snapshot::from_bytes(&bytes).unwrap().verify().unwrap();
        for offset in 0..bytes.len() {
            let mut b = bytes.clone();
            b[offset] ^= 1 << (offset % 8);
            assert!(Snapshot::from_bytes(&b).is_err(), "offset {offset}");
        }
        for len in [0, 1, HEADER_LEN - 1, HEADER_LEN, bytes.len() - 1] {
            assert!(Snapshot::from_bytes(&bytes[..len]).is_err(), "length {len}");
        }
    }

    /// Crafted files: FST bytes changed and both checksums recomputed. Open refuses them or they
    /// answer lookups and streams without panicking (a changed output byte can still decode).
    #[test]
    fn crafted_fst_bytes_never_panic() {
        let bytes = snapshot_bytes(many()).unwrap();
        let probes: Vec<Vec<u8>> = many().into_iter().map(|(k, _)| k).collect();
        let mut refused = 0;
        for offset in HEADER_LEN..bytes.len() {
            for pattern in [0x01u8, 0xff] {
                let mut b = bytes.clone();
                b[offset] ^= pattern;
                reseal(&mut b);
                let Ok(s) = Snapshot::from_bytes(&b) else {
                    refused += 1;
                    continue;
                };
                for k in probes.iter().step_by(3) {
                    let _ = s.get(k);
                    s.walk(k, |_, _| {});
                }
                let mut st = s.stream_from(&[]);
                let mut n = 0;
                while st.next().is_some() {
                    n += 1;
                }
                assert!(n <= s.len(), "offset {offset}");
                let _ = s.verify();
            }
        }
        assert!(refused > 0);
    }
}
