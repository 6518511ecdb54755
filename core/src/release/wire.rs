//! Wire encoding of deltas and snapshots: compact for phones, checked before use.
//!
//! ## Artifact bytes (format version 1)
//! ```text
//! "FSWA" | version u8 = 1 | value format u8 (entry::VALUE_FORMAT_VERSION) | kind u8 (1 delta,
//!        2 snapshot) | list id (u8 length + bytes) | from-release u64 | release u64
//!        | entry count u64 | compression u8 (0 none, 1 zlib) | body length u64 (uncompressed)
//!        | body, compressed as named
//! ```
//! The header repeats what the manifest says about the artifact (list, releases, kind) so that
//! an artifact can never be applied for another list or another release, even by a client bug:
//! the manifest's SHA-256 already binds the bytes, the header check makes the binding explicit.
//!
//! ## Body
//! Keys are sorted and split into **groups** by (kind tag, class, canonical length):
//! - class 0: all digits; class 1: `+` then digits (at most 38 digits, so they fit in `u128`).
//!   A key is stored as its number. Within a group, equal length makes numeric order equal
//!   byte order, so the group is an increasing integer sequence: the first number as a LEB128
//!   varint, then each gap minus one as a varint. A 200k-entry mobile list leaves gaps of about
//!   2^14, i.e. 2–3 bytes per key, close to the information bound (measured in the issue note).
//! - class 2: anything else (e-mail Alipay logins): front coding against the previous key of
//!   the group: shared prefix length varint, suffix length varint, suffix bytes. Length 0.
//!
//! Groups appear in increasing (tag, class, length) order, each as
//! `tag u8 | class u8 | length u8 | count varint | keys`. After every group come the **values**,
//! one varint per entry in the same order: the packed [`EntryValue`] (below 1024, so one or two
//! bytes), or 0 for "remove" in a delta. Keeping values apart from keys lets the compressor see
//! their low entropy.
//!
//! ## Compression
//! zlib (deflate) through `miniz_oxide`, a small pure-Rust codec, or none: the publisher keeps
//! whichever is smaller. The decoder never inflates past the declared body length nor past the
//! caller's [`Limits`], so a decompression bomb stops at the cap.
//!
//! ## Measured (synthetic Chinese list: 70% mobiles, 10% landlines, 12% bank cards, 6% QQ,
//! 2% Alipay ids; `core/tests/sync_measure.rs`, release build)
//!
//! | | 200k entries | 2M entries |
//! |---|---|---|
//! | information bound, keys + values (log2 C(U, n) per class + value entropy) | 3.12 B/entry | 2.70 B/entry |
//! | snapshot, plain | 4.36 B/entry | 3.78 B/entry |
//! | snapshot, zlib | **3.60 B/entry** (720 KB) | **3.10 B/entry** (6.2 MB) |
//! | FST of the same list (what the phone builds) | 9.43 B/entry (6.88 zlib'd) | 8.31 (6.21 zlib'd) |
//! | building that FST from sorted data | 130 ms | 1.28 s |
//! | 1% delta: bound / plain / zlib, per changed entry | 3.88 / 5.24 / **4.74 B** | 3.48 / 4.68 / **4.02 B** |
//!
//! Decisions: the snapshot ships as this sorted encoding, not as FST bytes — half the bytes for
//! an FST build the phone does once per snapshot in about a second for 2M entries. zlib saves
//! 17–18% on snapshots and 10–14% on deltas for +17% decode time (45 → 53 ms for 200k), with a
//! small pure-Rust decoder that takes an output cap; zstd and lz4 decoders were not measured.
//!
//! ## Decoding
//! [`decode`] checks, in order: magic, versions, header against the expectation, the declared
//! sizes against the limits, inflation within the cap, every group's order and every key's
//! validity, every value, that nothing follows, and that no key appears twice. It returns the
//! entries sorted by key. Arbitrary bytes return an error, never a panic (property-tested).
//!
//! [`decode_streamed`] runs the same checks in the same order with the same errors, but keeps
//! only the body and where each group starts; [`Streamed::entries`] then yields the entries in
//! key order, merging one reader per group (group order is not key order: `"110"` sorts after
//! `"10086"`). Every error is found before the first entry is yielded. A phone installing a
//! 2M-entry snapshot this way peaks at 16 MB of heap instead of 160 MB
//! (`core/tests/sync_memory.rs`, release build: 5.3 instead of 16.0 MB at 200k entries).

use super::bytes::{FormatError, Reader, Writer};
use crate::entry::{Change, EntryValue, VALUE_FORMAT_VERSION};
use crate::key::{self, Key};
use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const MAGIC: &[u8] = b"FSWA";
/// The artifact format version this build writes and reads.
pub const WIRE_VERSION: u8 = 1;
const MAX_DIGITS: usize = 38;

/// Delta or snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireKind {
    /// Net changes from `from_release` to `release`; value 0 means remove.
    Delta = 1,
    /// The full list at `release` (`from_release == release`).
    Snapshot = 2,
}

/// How the body is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Stored as is.
    None = 0,
    /// zlib stream (deflate).
    Zlib = 1,
}

/// What an artifact header says; the client compares it with the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireHeader {
    /// Delta or snapshot.
    pub kind: WireKind,
    /// The list.
    pub list_id: String,
    /// Base release (delta) or the snapshot's release.
    pub from_release: u64,
    /// The release the artifact leads to.
    pub release: u64,
    /// How many entries follow.
    pub entry_count: u64,
}

/// Caps applied while decoding untrusted artifacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest body after decompression.
    pub max_body_bytes: u64,
    /// Largest number of entries.
    pub max_entries: u64,
}

impl Default for Limits {
    /// 256 MiB of body and 20 million entries: ten times the 2M-entry phone target.
    fn default() -> Self {
        Limits {
            max_body_bytes: 256 << 20,
            max_entries: 20_000_000,
        }
    }
}

/// Why an artifact was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Malformed bytes.
    #[error("malformed artifact: {0}")]
    Format(#[from] FormatError),
    /// The header does not match what the manifest promised.
    #[error("artifact header does not match the manifest ({0})")]
    Mismatch(&'static str),
    /// A declared size or count is above the caller's limits.
    #[error("artifact exceeds the limit on {0}")]
    TooLarge(&'static str),
    /// The compressed body is corrupt or inflates past its declared length.
    #[error("artifact body does not decompress within its declared length")]
    Decompression,
}

fn classify(canonical: &[u8]) -> (u8, u8) {
    let (class, digits) = match canonical.first() {
        Some(b'+') => (1, &canonical[1..]),
        _ => (0, canonical),
    };
    if !digits.is_empty() && digits.len() <= MAX_DIGITS && digits.iter().all(u8::is_ascii_digit) {
        (class, canonical.len() as u8)
    } else {
        (2, 0)
    }
}

fn number(canonical: &[u8]) -> u128 {
    canonical
        .iter()
        .filter(|b| b.is_ascii_digit())
        .fold(0u128, |n, d| n * 10 + u128::from(d - b'0'))
}

/// Encodes entries (`None` value = remove, deltas only). `entries` must be sorted by key with
/// no duplicates; [`encode_delta`] and [`encode_snapshot`] guarantee it.
fn encode_body(entries: &[(&Key, u64)]) -> Vec<u8> {
    // Group by (tag, class, len); keys are sorted globally, so sort the (small) group index.
    let mut groups: std::collections::BTreeMap<(u8, u8, u8), Vec<usize>> = Default::default();
    for (i, (k, _)) in entries.iter().enumerate() {
        let b = k.as_bytes();
        let (class, len) = classify(&b[1..]);
        groups.entry((b[0], class, len)).or_default().push(i);
    }
    let mut w = Writer::new();
    w.varint(groups.len() as u128);
    let mut order = Vec::with_capacity(entries.len());
    for ((tag, class, len), idx) in &groups {
        w.u8(*tag);
        w.u8(*class);
        w.u8(*len);
        w.varint(idx.len() as u128);
        let mut prev_num: Option<u128> = None;
        let mut prev_raw: &[u8] = &[];
        for &i in idx {
            let c = &entries[i].0.as_bytes()[1..];
            if *class < 2 {
                let n = number(c);
                match prev_num {
                    None => w.varint(n),
                    Some(p) => w.varint(n - p - 1),
                }
                prev_num = Some(n);
            } else {
                let shared = prev_raw.iter().zip(c).take_while(|(a, b)| a == b).count();
                w.varint(shared as u128);
                w.varint((c.len() - shared) as u128);
                w.bytes(&c[shared..]);
                prev_raw = c;
            }
            order.push(i);
        }
    }
    for i in order {
        w.varint(u128::from(entries[i].1));
    }
    w.into_bytes()
}

fn invalid(field: &'static str, reason: &'static str) -> FormatError {
    FormatError::Invalid { field, reason }
}

/// Decodes the keys of one group, one at a time, into a reused buffer (tag byte + canonical).
/// Its `Debug` shows the group's shape, never a key.
#[derive(Clone)]
struct KeyCursor {
    tag: u8,
    class: u8,
    digits: usize,
    max: u128,
    prev_num: Option<u128>,
    prev_raw: Vec<u8>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for KeyCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCursor")
            .field("tag", &self.tag)
            .field("class", &self.class)
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

impl KeyCursor {
    fn new(tag: u8, class: u8, len: u8) -> Result<KeyCursor, FormatError> {
        let digits = usize::from(len).saturating_sub(usize::from(class));
        let max = match class {
            0 | 1 => {
                if len == 0 || digits == 0 || digits > MAX_DIGITS {
                    return Err(invalid("group length", "out of range"));
                }
                10u128.pow(digits as u32)
            }
            2 => {
                if len != 0 {
                    return Err(invalid("group length", "must be 0 for raw keys"));
                }
                0
            }
            _ => return Err(invalid("group class", "unknown")),
        };
        Ok(KeyCursor {
            tag,
            class,
            digits,
            max,
            prev_num: None,
            prev_raw: Vec::new(),
            buf: Vec::with_capacity(usize::from(len) + 2),
        })
    }

    /// Reads the next key of the group from `r`, checks it (range, order, validity) and
    /// returns its bytes. Allocates nothing once the buffers have grown.
    fn next_key(&mut self, r: &mut Reader<'_>) -> Result<&[u8], FormatError> {
        self.buf.clear();
        self.buf.push(self.tag);
        if self.class < 2 {
            let v = r.varint("key")?;
            let num = match self.prev_num {
                None => Some(v),
                Some(p) => p.checked_add(v).and_then(|x| x.checked_add(1)),
            }
            .filter(|x| *x < self.max)
            .ok_or(invalid("key", "number outside its group"))?;
            self.prev_num = Some(num);
            if self.class == 1 {
                self.buf.push(b'+');
            }
            // Zero-padded decimal, most significant digit first.
            let start = self.buf.len();
            self.buf.resize(start + self.digits, b'0');
            let mut n = num;
            for slot in self.buf[start..].iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
            }
        } else {
            let shared = r.varint_u64("shared prefix")? as usize;
            let suffix_len = r.varint_u64("suffix length")? as usize;
            if shared > self.prev_raw.len() || suffix_len == 0 {
                return Err(invalid("key", "bad front coding"));
            }
            let suffix = r.take(suffix_len, "key suffix")?;
            self.buf.extend_from_slice(&self.prev_raw[..shared]);
            self.buf.extend_from_slice(suffix);
            let c = &self.buf[1..];
            if c.len() > key::MAX_CANONICAL_LEN
                || classify(c).0 != 2
                || c <= self.prev_raw.as_slice()
            {
                return Err(invalid("key", "raw key out of order or numeric"));
            }
            self.prev_raw.clear();
            self.prev_raw.extend_from_slice(c);
        }
        key::validate(&self.buf).map_err(|_| invalid("key", "not a valid key"))?;
        Ok(&self.buf)
    }
}

fn check_value(v: u64, delta: bool) -> Result<(), FormatError> {
    if v == 0 {
        if !delta {
            return Err(invalid("value", "remove marker in a snapshot"));
        }
    } else {
        EntryValue::unpack(v).map_err(|_| invalid("value", "not a valid entry value"))?;
    }
    Ok(())
}

/// Where one group's keys and values start in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct GroupSpan {
    tag: u8,
    class: u8,
    len: u8,
    count: u64,
    keys_at: usize,
    values_at: usize,
}

/// First pass over a body: checks everything [`decode`] promises (group order, sizes, every
/// key's range, order and validity, every value, the entry count, no trailing bytes) without
/// keeping any key, and records where each group's keys and values start. Groups are bounded
/// by the distinct valid (tag, class, length) triples, a few hundred at most.
fn scan_body(body: &[u8], count: u64, delta: bool) -> Result<Vec<GroupSpan>, FormatError> {
    let mut r = Reader::new(body);
    let ngroups = r.varint_u64("group count")?;
    let mut spans: Vec<GroupSpan> = Vec::new();
    let mut total = 0u64;
    let mut last_group: Option<(u8, u8, u8)> = None;
    for _ in 0..ngroups {
        let tag = r.u8("group tag")?;
        let class = r.u8("group class")?;
        let len = r.u8("group length")?;
        let g = (tag, class, len);
        if last_group.is_some_and(|l| l >= g) {
            return Err(invalid("groups", "not in increasing order"));
        }
        last_group = Some(g);
        let n = r.varint_u64("group size")?;
        if n == 0 || n > count.saturating_sub(total) || n > r.remaining() as u64 {
            return Err(invalid("group size", "empty or above the entry count"));
        }
        let mut cursor = KeyCursor::new(tag, class, len)?;
        let keys_at = r.position();
        for _ in 0..n {
            cursor.next_key(&mut r)?;
        }
        total += n;
        spans.push(GroupSpan {
            tag,
            class,
            len,
            count: n,
            keys_at,
            values_at: 0,
        });
    }
    if total != count {
        return Err(invalid("entry count", "does not match the groups"));
    }
    for span in &mut spans {
        span.values_at = r.position();
        for _ in 0..span.count {
            check_value(r.varint_u64("value")?, delta)?;
        }
    }
    r.finish()?;
    Ok(spans)
}

/// One group being read during the merge of [`Entries`].
#[derive(Debug)]
struct GroupReader<'a> {
    cursor: KeyCursor,
    keys: Reader<'a>,
    values: Reader<'a>,
    left: u64,
    delta: bool,
}

impl GroupReader<'_> {
    fn advance(&mut self) -> Result<Option<(Key, u64)>, FormatError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let key = Key::from_bytes(self.cursor.next_key(&mut self.keys)?)
            .map_err(|_| invalid("key", "not a valid key"))?;
        let value = self.values.varint_u64("value")?;
        check_value(value, self.delta)?;
        Ok(Some((key, value)))
    }
}

/// The entries of a [`Streamed`] artifact, decoded one at a time in key order (values packed,
/// 0 = remove). Each item is checked again as it is produced; an error ends the iteration.
///
/// Groups are stored in (tag, class, length) order, which is not key order (`"110"` sorts
/// after `"10086"`), so this is a merge of one reader per group: memory is one key per group.
#[derive(Debug)]
pub struct Entries<'a> {
    groups: Vec<GroupReader<'a>>,
    heap: BinaryHeap<Reverse<(Key, usize, u64)>>,
    started: bool,
    done: bool,
    left: u64,
}

impl Entries<'_> {
    fn fill(&mut self, group: usize) -> Result<(), FormatError> {
        if let Some(g) = self.groups.get_mut(group)
            && let Some((k, v)) = g.advance()?
        {
            self.heap.push(Reverse((k, group, v)));
        }
        Ok(())
    }

    fn step(&mut self) -> Result<Option<(Key, u64)>, FormatError> {
        if !self.started {
            self.started = true;
            for i in 0..self.groups.len() {
                self.fill(i)?;
            }
        }
        let Some(Reverse((key, group, value))) = self.heap.pop() else {
            return Ok(None);
        };
        self.fill(group)?;
        // Every key left is >= the one popped (each group is strictly increasing): equality
        // with the new minimum is the only way a key could repeat.
        if self.heap.peek().is_some_and(|Reverse(top)| top.0 == key) {
            return Err(invalid("keys", "a key appears twice"));
        }
        Ok(Some((key, value)))
    }
}

impl Iterator for Entries<'_> {
    type Item = Result<(Key, u64), FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(e)) => {
                self.left = self.left.saturating_sub(1);
                Some(Ok(e))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let left = usize::try_from(self.left).unwrap_or(usize::MAX);
        (0, Some(left.saturating_add(1)))
    }
}

/// A checked artifact whose entries have not been materialized: the (decompressed) body and
/// where each key group starts. Iterate with [`Streamed::entries`], as often as needed.
///
/// Peak memory is the body itself (a few bytes per entry) plus one key per group, instead of
/// one heap-allocated [`Key`] per entry for [`decode`]. Its `Debug` shows the header and sizes,
/// never a key.
#[derive(Clone)]
pub struct Streamed<'a> {
    /// The header.
    pub header: WireHeader,
    body: Cow<'a, [u8]>,
    groups: Vec<GroupSpan>,
}

impl std::fmt::Debug for Streamed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streamed")
            .field("header", &self.header)
            .field("body_bytes", &self.body.len())
            .field("groups", &self.groups.len())
            .finish()
    }
}

impl Streamed<'_> {
    /// The same artifact, owning its body: free when the body was compressed (it was inflated
    /// into its own buffer), a copy of the body otherwise. Lets the caller drop the downloaded
    /// bytes before iterating.
    pub fn into_owned(self) -> Streamed<'static> {
        Streamed {
            header: self.header,
            body: Cow::Owned(self.body.into_owned()),
            groups: self.groups,
        }
    }

    /// How many entries [`Streamed::entries`] yields.
    pub fn len(&self) -> u64 {
        self.header.entry_count
    }

    /// Whether the artifact has no entries.
    pub fn is_empty(&self) -> bool {
        self.header.entry_count == 0
    }

    /// The entries sorted by key; the value is the packed [`EntryValue`] or 0 for remove.
    pub fn entries(&self) -> Entries<'_> {
        let delta = self.header.kind == WireKind::Delta;
        let body: &[u8] = &self.body;
        let groups = self
            .groups
            .iter()
            .filter_map(|s| {
                Some(GroupReader {
                    cursor: KeyCursor::new(s.tag, s.class, s.len).ok()?,
                    keys: Reader::at(body, s.keys_at),
                    values: Reader::at(body, s.values_at),
                    left: s.count,
                    delta,
                })
            })
            .collect::<Vec<_>>();
        Entries {
            heap: BinaryHeap::with_capacity(groups.len()),
            groups,
            started: false,
            done: false,
            left: self.header.entry_count,
        }
    }
}

fn wrap(header: &WireHeader, body: Vec<u8>, compression: Option<Compression>) -> Vec<u8> {
    // Compressed only when it may be used: the publisher's own 10M-entry state file is
    // written uncompressed on every release.
    let zlib = match compression {
        Some(Compression::None) => Vec::new(),
        _ => miniz_oxide::deflate::compress_to_vec_zlib(&body, 9),
    };
    let use_zlib = match compression {
        Some(Compression::Zlib) => true,
        Some(Compression::None) => false,
        None => zlib.len() < body.len(),
    };
    let mut w = Writer::new();
    w.bytes(MAGIC);
    w.u8(WIRE_VERSION);
    w.u8(VALUE_FORMAT_VERSION);
    w.u8(header.kind as u8);
    w.short_bytes(header.list_id.as_bytes());
    w.u64(header.from_release);
    w.u64(header.release);
    w.u64(header.entry_count);
    w.u8(if use_zlib { 1 } else { 0 });
    w.u64(body.len() as u64);
    w.bytes(if use_zlib { &zlib } else { &body });
    w.into_bytes()
}

/// Encodes a delta from `changes` (any order; the last change to a key wins).
/// `compression`: `None` keeps whichever of zlib and plain is smaller.
pub fn encode_delta(
    list_id: &str,
    from_release: u64,
    release: u64,
    changes: &[Change],
    compression: Option<Compression>,
) -> Vec<u8> {
    let mut net: std::collections::BTreeMap<&Key, u64> = Default::default();
    for c in changes {
        match c {
            Change::Upsert(k, v) => net.insert(k, v.pack()),
            Change::Remove(k) => net.insert(k, 0),
        };
    }
    let entries: Vec<(&Key, u64)> = net.into_iter().collect();
    let header = WireHeader {
        kind: WireKind::Delta,
        list_id: list_id.to_owned(),
        from_release,
        release,
        entry_count: entries.len() as u64,
    };
    wrap(&header, encode_body(&entries), compression)
}

/// Encodes a snapshot of `entries`, which must be sorted by key without duplicates (a
/// `BTreeMap` iteration, or a store's ordered scan).
pub fn encode_snapshot<'a>(
    list_id: &str,
    release: u64,
    entries: impl IntoIterator<Item = (&'a Key, &'a EntryValue)>,
    compression: Option<Compression>,
) -> Vec<u8> {
    let entries: Vec<(&Key, u64)> = entries.into_iter().map(|(k, v)| (k, v.pack())).collect();
    let header = WireHeader {
        kind: WireKind::Snapshot,
        list_id: list_id.to_owned(),
        from_release: release,
        release,
        entry_count: entries.len() as u64,
    };
    wrap(&header, encode_body(&entries), compression)
}

/// Reads only the header (cheap; no limits needed).
pub fn read_header(bytes: &[u8]) -> Result<(WireHeader, Compression, u64, usize), FormatError> {
    let mut r = Reader::new(bytes);
    r.magic(MAGIC, "wire artifact")?;
    let v = r.u8("wire version")?;
    if v != WIRE_VERSION {
        return Err(FormatError::UnsupportedVersion {
            what: "wire artifact",
            found: v,
        });
    }
    let vf = r.u8("value format")?;
    if vf != VALUE_FORMAT_VERSION {
        return Err(FormatError::UnsupportedVersion {
            what: "value format",
            found: vf,
        });
    }
    let kind = match r.u8("artifact kind")? {
        1 => WireKind::Delta,
        2 => WireKind::Snapshot,
        _ => {
            return Err(FormatError::Invalid {
                field: "artifact kind",
                reason: "unknown",
            });
        }
    };
    let list_id = super::manifest::read_list_id(&mut r)?;
    let from_release = r.u64("from-release")?;
    let release = r.u64("release")?;
    let entry_count = r.u64("entry count")?;
    let compression = match r.u8("compression")? {
        0 => Compression::None,
        1 => Compression::Zlib,
        _ => {
            return Err(FormatError::Invalid {
                field: "compression",
                reason: "unknown",
            });
        }
    };
    let body_len = r.u64("body length")?;
    let header = WireHeader {
        kind,
        list_id,
        from_release,
        release,
        entry_count,
    };
    Ok((header, compression, body_len, bytes.len() - r.remaining()))
}

/// A decoded artifact: its header and its entries sorted by key, values packed (0 = remove).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The header.
    pub header: WireHeader,
    /// Entries sorted by key; the value is the packed [`EntryValue`] or 0 for remove.
    pub entries: Vec<(Key, u64)>,
}

impl Decoded {
    /// The entries as changes (for a delta).
    pub fn changes(&self) -> Vec<Change> {
        self.entries
            .iter()
            .map(|(k, v)| match EntryValue::unpack(*v) {
                Ok(val) => Change::Upsert(k.clone(), val),
                Err(_) => Change::Remove(k.clone()),
            })
            .collect()
    }

    /// The entries as values (for a snapshot; remove markers are never present there).
    pub fn values(&self) -> Vec<(Key, EntryValue)> {
        self.entries
            .iter()
            .filter_map(|(k, v)| EntryValue::unpack(*v).ok().map(|v| (k.clone(), v)))
            .collect()
    }
}

/// Decodes an artifact, checking its header against `expected` (when given) and every size
/// against `limits` (see the module docs for the order of checks).
///
/// Materializes every entry; [`decode_streamed`] performs the same checks and yields the
/// entries one at a time instead.
pub fn decode(
    bytes: &[u8],
    expected: Option<&WireHeader>,
    limits: &Limits,
) -> Result<Decoded, WireError> {
    let streamed = decode_streamed(bytes, expected, limits)?;
    let count = usize::try_from(streamed.len()).unwrap_or(usize::MAX);
    let mut entries = Vec::with_capacity(count.min(streamed.body.len()));
    for e in streamed.entries() {
        entries.push(e?);
    }
    Ok(Decoded {
        header: streamed.header,
        entries,
    })
}

/// Checks an artifact completely (the same checks, in the same order, with the same errors as
/// [`decode`]) without materializing its entries: keeps only the decompressed body (or borrows
/// `bytes` when it is stored uncompressed). Every error is found here, before the first entry is
/// used; [`Streamed::entries`] checks each entry again as it yields it.
pub fn decode_streamed<'a>(
    bytes: &'a [u8],
    expected: Option<&WireHeader>,
    limits: &Limits,
) -> Result<Streamed<'a>, WireError> {
    let (header, compression, body_len, offset) = read_header(bytes)?;
    if let Some(e) = expected {
        if e.kind != header.kind {
            return Err(WireError::Mismatch("kind"));
        }
        if e.list_id != header.list_id {
            return Err(WireError::Mismatch("list id"));
        }
        if e.from_release != header.from_release || e.release != header.release {
            return Err(WireError::Mismatch("release"));
        }
    }
    if header.kind == WireKind::Snapshot && header.from_release != header.release {
        return Err(WireError::Mismatch("snapshot release"));
    }
    if header.kind == WireKind::Delta && header.from_release >= header.release {
        return Err(WireError::Mismatch("delta releases"));
    }
    if body_len > limits.max_body_bytes {
        return Err(WireError::TooLarge("body length"));
    }
    if header.entry_count > limits.max_entries {
        return Err(WireError::TooLarge("entry count"));
    }
    let raw = &bytes[offset..];
    let body: Cow<'a, [u8]> = match compression {
        Compression::None => Cow::Borrowed(raw),
        Compression::Zlib => Cow::Owned(
            miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(raw, body_len as usize)
                .map_err(|_| WireError::Decompression)?,
        ),
    };
    if body.len() as u64 != body_len {
        return Err(WireError::Decompression);
    }
    let groups = scan_body(&body, header.entry_count, header.kind == WireKind::Delta)?;
    Ok(Streamed {
        header,
        body,
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Category, ReportBucket, Risk};
    use crate::kind::Kind;

    fn v(r: Risk) -> EntryValue {
        EntryValue {
            category: Category::Loan,
            risk: r,
            reports: ReportBucket::from_count(3),
            prefix: false,
        }
    }

    #[test]
    fn mixed_keys_round_trip() {
        let keys = [
            Key::new(Kind::Phone, "+8613800138000"),
            Key::new(Kind::Phone, "+8613800138001"),
            Key::new(Kind::Phone, "+861088889999"),
            Key::new(Kind::Phone, "95588"),
            Key::new(Kind::Phone, "0000"),
            Key::new(Kind::Bank, "622202123456789012345678901234"),
            Key::new(Kind::Qq, "12345"),
            Key::new(Kind::Alipay, "a@example.com"),
            Key::new(Kind::Alipay, "ab@example.com"),
            Key::new(Kind::Alipay, "2088123412341234"),
        ];
        let mut sorted = keys.to_vec();
        sorted.sort();
        let val = v(Risk::High);
        let snap = encode_snapshot("cn", 5, sorted.iter().map(|k| (k, &val)), None);
        let d = decode(&snap, None, &Limits::default()).unwrap();
        assert_eq!(d.header.release, 5);
        let got: Vec<Key> = d.entries.iter().map(|e| e.0.clone()).collect();
        assert_eq!(got, sorted);

        let changes = vec![
            Change::Upsert(keys[0].clone(), v(Risk::Low)),
            Change::Remove(keys[7].clone()),
            Change::Upsert(keys[0].clone(), v(Risk::Medium)),
        ];
        let delta = encode_delta("cn", 4, 5, &changes, Some(Compression::Zlib));
        let d = decode(&delta, None, &Limits::default()).unwrap();
        let mut want = vec![
            Change::Upsert(keys[0].clone(), v(Risk::Medium)),
            Change::Remove(keys[7].clone()),
        ];
        want.sort_by(|a, b| a.key().cmp(b.key()));
        assert_eq!(d.changes(), want);
    }

    #[test]
    fn header_mismatch_and_caps_are_refused() {
        let val = v(Risk::High);
        let k = Key::new(Kind::Qq, "123456");
        let snap = encode_snapshot("cn", 5, [(&k, &val)], Some(Compression::Zlib));
        let mut other = WireHeader {
            kind: WireKind::Snapshot,
            list_id: "tw".into(),
            from_release: 5,
            release: 5,
            entry_count: 1,
        };
        assert_eq!(
            decode(&snap, Some(&other), &Limits::default()),
            Err(WireError::Mismatch("list id"))
        );
        other.list_id = "cn".into();
        assert!(decode(&snap, Some(&other), &Limits::default()).is_ok());
        let tight = Limits {
            max_body_bytes: 3,
            max_entries: 10,
        };
        assert_eq!(
            decode(&snap, None, &tight),
            Err(WireError::TooLarge("body length"))
        );
    }

    #[test]
    fn streamed_entries_are_sorted_across_groups_and_match_decode() {
        // Groups are ordered by (tag, class, length), keys by bytes: "10086" (length 5) sorts
        // before "110" (length 3), "+8610…" before "+86138…", "+…" before digits.
        let mut keys: Vec<Key> = [
            "110",
            "10086",
            "95588",
            "1069001",
            "+8613800138000",
            "+861088889999",
            "+8621",
            "0000",
            "+639171234567",
        ]
        .iter()
        .map(|c| Key::new(Kind::Phone, c))
        .chain([
            Key::new(Kind::Alipay, "2088123412341234"),
            Key::new(Kind::Alipay, "+8613800138000"),
            Key::new(Kind::Alipay, "a@example.com"),
        ])
        .collect();
        keys.sort();
        let val = v(Risk::Medium);
        for compression in [Compression::None, Compression::Zlib] {
            let snap = encode_snapshot("cn", 3, keys.iter().map(|k| (k, &val)), Some(compression));
            let streamed = decode_streamed(&snap, None, &Limits::default()).unwrap();
            assert_eq!(streamed.len(), keys.len() as u64);
            let got: Vec<(Key, u64)> = streamed.entries().map(Result::unwrap).collect();
            let want: Vec<(Key, u64)> = keys.iter().map(|k| (k.clone(), val.pack())).collect();
            assert_eq!(got, want);
            // Iterable again, `decode` gives the same, and so does the owned form once the
            // artifact bytes are gone.
            assert_eq!(streamed.entries().count(), keys.len());
            assert_eq!(
                decode(&snap, None, &Limits::default()).unwrap().entries,
                want
            );
            let owned = streamed.into_owned();
            drop(snap);
            let again: Vec<(Key, u64)> = owned.entries().map(Result::unwrap).collect();
            assert_eq!(again, want);
        }
    }

    #[test]
    fn a_flaw_at_the_end_of_the_body_fails_before_any_entry_is_yielded() {
        let val = v(Risk::Low);
        let keys = [
            Key::new(Kind::Qq, "12345"),
            Key::new(Kind::Alipay, "a@example.com"),
            Key::new(Kind::Alipay, "a@example.con"),
        ];
        let snap = encode_snapshot(
            "cn",
            3,
            keys.iter().map(|k| (k, &val)),
            Some(Compression::None),
        );
        // The byte before the values is the last key's suffix `n`.
        let value_len = if val.pack() < 128 { 1 } else { 2 };
        let last_key_byte = snap.len() - keys.len() * value_len - 1;
        assert_eq!(snap[last_key_byte], b'n');
        let mut order = snap.clone();
        order[last_key_byte] = b'a';
        let mut bad = snap.clone();
        bad[last_key_byte] = b' ';
        let mut remove = snap.clone();
        *remove.last_mut().unwrap() = 0;
        for broken in [order, bad, remove] {
            let err = decode_streamed(&broken, None, &Limits::default()).unwrap_err();
            assert!(
                matches!(err, WireError::Format(FormatError::Invalid { .. })),
                "{err:?}"
            );
            assert_eq!(decode(&broken, None, &Limits::default()).unwrap_err(), err);
        }
    }
}
