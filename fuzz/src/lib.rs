//! The bodies of fraudshield's fuzz targets, one function per target.
//!
//! Each function takes arbitrary bytes, feeds them to one parser of `fraudshield-core` the way
//! the product does, and checks what must hold for *any* input: no panic, and the parser's own
//! promises (canonical round trips, fixpoints, sound spans). A broken promise is an `assert!`,
//! so the fuzzer reports it like a crash.
//!
//! The same functions run in two places:
//! - `fuzz/fuzz_targets/<target>.rs`: one line that hands libFuzzer's input to the function;
//! - `core/tests/fuzz_regressions.rs`: includes this file and replays every committed seed
//!   (`fuzz/corpus/<target>/`) and every finding (`fuzz/regressions/<target>/`) under plain
//!   `cargo test`, so CI guards them without a fuzzer or nightly features.
//!
//! This file only uses the public API of `fraudshield-core` and the crates core's tests
//! already have (`blake3`, `miniz_oxide`, `tempfile`), so it compiles in both places unchanged.

use fraudshield_core::digest::LtHash;
use fraudshield_core::identifier::{self, NormalizeError, fold_char, normalize_phone_prefix};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::release::keys::{KeySet, SigningKey, sha256};
use fraudshield_core::release::manifest::Manifest;
use fraudshield_core::release::publisher::Publisher;
use fraudshield_core::release::signed::{
    Bundle, Envelope, PayloadType, RotationStatement, TrustState,
};
use fraudshield_core::release::wire::{self, Compression, Limits, WireKind};
use fraudshield_core::scan::scan_text;
use fraudshield_core::snapshot::{self, Snapshot};
use std::path::PathBuf;
use std::sync::LazyLock;

/// A target's body: takes the fuzzer's bytes, panics on a defect.
pub type Body = fn(&[u8]);

/// Every target: its name (the folder under `corpus/` and `regressions/`) and its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("normalize", normalize),
    ("scan_text", scan),
    ("wire_artifact", wire_artifact),
    ("wire_body", wire_body),
    ("manifest", manifest),
    ("bundle", bundle),
    ("rotation", rotation),
    ("key_files", key_files),
    ("publisher_state", publisher_state),
    ("snapshot", snapshot),
];

/// The list id of every seed artifact and of the trust the bodies check bundles against.
pub const LIST_ID: &str = "fuzz";

/// The fixture signing key (never trusted anywhere but here); seeds are signed with it.
pub const FIXTURE_KEY_FILE: &str = include_str!("../fixtures/signing-key");

/// The fixture key, parsed once.
static FIXTURE_KEY: LazyLock<Option<SigningKey>> =
    LazyLock::new(|| SigningKey::from_file_text(FIXTURE_KEY_FILE).ok());

/// The pinned trust of the bundle and rotation bodies: the fixture key alone.
fn fixture_trust() -> Option<(KeySet, &'static SigningKey)> {
    let key = FIXTURE_KEY.as_ref()?;
    let set = KeySet::new(vec![key.public()], 1).ok()?;
    Some((set, key))
}

/// Caps for artifact decoding: far below the product's defaults so a decompression bomb
/// costs the fuzzer milliseconds, with the same code paths.
const LIMITS: Limits = Limits {
    max_body_bytes: 1 << 20,
    max_entries: 1 << 16,
};

/// Input bytes as the text a user, a message or a file would give (invalid UTF-8 replaced).
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Checks that an error message does not repeat the digits of the input (no identifier in
/// clear text in any error).
fn assert_hides_digits(raw: &str, err: &NormalizeError) {
    let digits: String = raw
        .chars()
        .map(fold_char)
        .filter(char::is_ascii_digit)
        .collect();
    if digits.len() >= 5 {
        assert!(
            !err.to_string().contains(&digits),
            "an error message repeats the input"
        );
    }
}

/// Target `normalize`: every normalizer (`identifier::normalize` for each [`Kind`], and the
/// phone prefix rules) on the same text. A success is a fixpoint with a valid key.
pub fn normalize(data: &[u8]) {
    let raw = text(data);
    for kind in Kind::ALL {
        match identifier::normalize(kind, &raw) {
            Ok(id) => {
                assert_eq!(id.kind(), kind);
                let again = identifier::normalize(kind, id.canonical());
                assert_eq!(
                    again.as_ref().ok(),
                    Some(&id),
                    "{kind} canonical form is no fixpoint"
                );
                assert!(Key::from_bytes(id.key().as_bytes()).is_ok());
            }
            Err(e) => assert_hides_digits(&raw, &e),
        }
    }
    match normalize_phone_prefix(&raw) {
        Ok(rule) => {
            let again = normalize_phone_prefix(rule.canonical());
            assert_eq!(
                again.as_ref().ok(),
                Some(&rule),
                "prefix rule is no fixpoint"
            );
            assert!(Key::from_bytes(rule.key().as_bytes()).is_ok());
        }
        Err(e) => assert_hides_digits(&raw, &e),
    }
}

/// Target `scan_text`: spans are non-empty, in order, non-overlapping, on character
/// boundaries, and each one's own text normalizes to the identifier reported.
pub fn scan(data: &[u8]) {
    let text = text(data);
    let mut last_end = 0;
    for f in scan_text(&text) {
        let span = f.span.clone();
        assert!(span.start < span.end, "empty span");
        assert!(span.start >= last_end, "spans overlap or are out of order");
        assert!(span.end <= text.len(), "span past the end");
        assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        let again = identifier::normalize(f.identifier.kind(), &text[span.clone()]);
        assert_eq!(
            again.ok(),
            Some(f.identifier),
            "span does not normalize to its finding"
        );
        last_end = span.end;
    }
}

/// Target `wire_artifact`: a delta or snapshot artifact as downloaded, through the header
/// reader and both decoders, with and without the header expectation the client passes.
pub fn wire_artifact(data: &[u8]) {
    let header = wire::read_header(data).ok();
    check_artifact(data, None);
    if let Some((h, _, _, _)) = header {
        check_artifact(data, Some(&h));
    }
}

/// Target `wire_body`: a valid artifact header built around the input, so the fuzzer spends
/// its time in the body decoder (groups, keys, values). Byte 0: bit 0 delta (else snapshot),
/// bit 1 zlib (the body is compressed here, so inflation always succeeds); bytes 1–2: the
/// entry count (big-endian); the rest: the body.
pub fn wire_body(data: &[u8]) {
    let [flags, c1, c2, body @ ..] = data else {
        return;
    };
    let delta = flags & 1 == 1;
    let zlib = flags & 2 == 2;
    let stored = if zlib {
        miniz_oxide::deflate::compress_to_vec_zlib(body, 1)
    } else {
        body.to_vec()
    };
    let mut a = Vec::with_capacity(stored.len() + 64);
    a.extend_from_slice(b"FSWA");
    a.push(wire::WIRE_VERSION);
    a.push(fraudshield_core::entry::VALUE_FORMAT_VERSION);
    a.push(if delta { 1 } else { 2 });
    a.push(LIST_ID.len() as u8);
    a.extend_from_slice(LIST_ID.as_bytes());
    a.extend_from_slice(&(if delta { 6u64 } else { 7 }).to_be_bytes());
    a.extend_from_slice(&7u64.to_be_bytes());
    a.extend_from_slice(&u64::from(u16::from_be_bytes([*c1, *c2])).to_be_bytes());
    a.push(u8::from(zlib));
    a.extend_from_slice(&(body.len() as u64).to_be_bytes());
    a.extend_from_slice(&stored);
    wire_artifact(&a);
}

/// Both decoders on one artifact: same verdict, and a success round-trips through the
/// encoder to the same header and entries.
fn check_artifact(data: &[u8], expected: Option<&wire::WireHeader>) {
    let full = wire::decode(data, expected, &LIMITS);
    let streamed = wire::decode_streamed(data, expected, &LIMITS);
    match (&full, streamed) {
        (Err(a), Err(b)) => assert_eq!(a, &b, "the decoders disagree on the error"),
        (Ok(d), Ok(s)) => {
            assert_eq!(s.len(), d.header.entry_count);
            // Every error is found before the first entry is yielded.
            let entries: Vec<_> = s.entries().collect();
            assert!(
                entries.iter().all(Result::is_ok),
                "late error while streaming"
            );
            let entries: Vec<_> = entries.into_iter().flatten().collect();
            assert_eq!(entries, d.entries, "the decoders disagree on the entries");
            assert_eq!(d.entries.len() as u64, d.header.entry_count);
            assert!(
                d.entries.windows(2).all(|w| w[0].0 < w[1].0),
                "entries not sorted"
            );
            let h = &d.header;
            let again = match h.kind {
                WireKind::Delta => wire::encode_delta(
                    &h.list_id,
                    h.from_release,
                    h.release,
                    &d.changes(),
                    Some(Compression::None),
                ),
                WireKind::Snapshot => {
                    let values = d.values();
                    assert_eq!(values.len(), d.entries.len(), "a snapshot holds a remove");
                    wire::encode_snapshot(
                        &h.list_id,
                        h.release,
                        values.iter().map(|(k, v)| (k, v)),
                        Some(Compression::None),
                    )
                }
            };
            // Compared as values: a category code newer than this build reads as `Other`.
            let round = wire::decode(&again, Some(h), &LIMITS).map(|r| r.changes());
            assert_eq!(
                round.ok(),
                Some(d.changes()),
                "re-encoded artifact decodes differently"
            );
        }
        _ => panic!("decode and decode_streamed disagree on success"),
    }
}

/// Target `manifest`: the signed manifest payload. A success is canonical (re-encodes to
/// the same bytes) and the client's artifact choice works on it.
pub fn manifest(data: &[u8]) {
    if let Ok(m) = Manifest::decode(data) {
        assert_eq!(m.encode(), data, "manifest encoding is not canonical");
        let _ = m.snapshot();
        for at in [
            0,
            1,
            m.release / 2,
            m.release.saturating_sub(1),
            m.release,
            u64::MAX,
        ] {
            if let Some(d) = m.delta_for(at) {
                assert!(d.from_release <= at);
            }
        }
    }
}

/// Target `bundle`: what `GET /v1/manifest` returns, through the client's path: bundle and
/// envelopes, the rotation chain from the pinned fixture trust, the manifest signature, the
/// manifest payload. Envelopes and bundles are canonical.
pub fn bundle(data: &[u8]) {
    if let Ok(env) = Envelope::decode(data) {
        assert_eq!(env.encode(), data, "envelope encoding is not canonical");
    }
    let Ok(b) = Bundle::decode(data) else {
        return;
    };
    assert_eq!(b.encode(), data, "bundle encoding is not canonical");
    let _ = b.manifest_hash();
    // Parsed whatever the signature says: the payload is untrusted input either way.
    manifest(&b.manifest.payload);
    let Some((trust, _)) = fixture_trust() else {
        return;
    };
    let Ok(state) = TrustState::pinned(trust).advance(LIST_ID, &b.rotations) else {
        return;
    };
    if let Ok(payload) = b.manifest.verify(PayloadType::Manifest, &state.keys) {
        let _ = Manifest::decode(payload);
    }
}

/// Target `rotation`: a key-rotation statement and the client's persisted trust state (both
/// canonical), and the statement signed by the pinned fixture key walked as a rotation chain.
pub fn rotation(data: &[u8]) {
    if let Ok(st) = RotationStatement::decode(data) {
        assert_eq!(st.encode(), data, "rotation statement is not canonical");
        let _ = st.next.fingerprint();
    }
    if let Ok(ts) = TrustState::decode(data) {
        assert_eq!(ts.encode(), data, "trust state is not canonical");
    }
    let Some((trust, key)) = fixture_trust() else {
        return;
    };
    let signed = Envelope::sign(PayloadType::Rotation, data.to_vec(), &[key]);
    if let Ok(next) = TrustState::pinned(trust).advance(LIST_ID, std::slice::from_ref(&signed)) {
        assert!(
            next.sequence <= 1,
            "one statement moved trust more than one step"
        );
        // A second walk over the same chain is a no-op: applied statements are skipped.
        let again = next.advance(LIST_ID, &[signed]);
        assert_eq!(
            again.as_ref().ok(),
            Some(&next),
            "re-walking a chain changed trust"
        );
    }
}

/// Target `key_files`: the trust file an app pins and the publisher's signing key file. A
/// parsed trust file writes back to a file that parses to the same set.
pub fn key_files(data: &[u8]) {
    let t = text(data);
    if let Ok(set) = KeySet::from_trust_file(&t) {
        let again = KeySet::from_trust_file(&set.to_trust_file());
        assert_eq!(
            again.as_ref().ok(),
            Some(&set),
            "trust file does not round-trip"
        );
    }
    if let Ok(key) = SigningKey::from_file_text(&t) {
        let again = SigningKey::from_file_text(&key.to_file_text()).map(|k| k.public());
        assert_eq!(
            again.ok(),
            Some(key.public()),
            "signing key file does not round-trip"
        );
    }
}

thread_local! {
    /// A publisher directory per thread (the regression test replays on several threads),
    /// in memory where the system has `/dev/shm`.
    static PUBLISHER_DIR: Option<tempfile::TempDir> = {
        let shm = PathBuf::from("/dev/shm");
        let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() };
        dir.ok().and_then(|d| std::fs::create_dir_all(d.path().join("publisher")).ok().map(|_| d))
    };
}

/// Target `publisher_state`: the publisher's own files, `publisher/state` and the list file it
/// names, reopened, then the next release planned ([`Publisher::preview`], read-only). See
/// [`publisher_files`] for how the input becomes the files.
pub fn publisher_state(data: &[u8]) {
    PUBLISHER_DIR.with(|dir| {
        let Some(dir) = dir else {
            return;
        };
        let Some(PublisherFiles { state, list }) = publisher_files(data) else {
            return;
        };
        let files = dir.path().join("publisher");
        if std::fs::write(files.join("state"), &state).is_err() {
            return;
        }
        if let Some((name, bytes)) = &list
            && std::fs::write(files.join(name), bytes).is_err()
        {
            return;
        }
        if let Ok(p) = Publisher::open(dir.path()) {
            let _ = (
                p.release(),
                p.list_id(),
                p.state_digest(),
                p.rotations().len(),
            );
            let _ = (p.config(), p.manifest());
            let _ = p.preview(&[]);
            assert!(
                p.entries()
                    .keys()
                    .all(|k| Key::from_bytes(k.as_bytes()).is_ok())
            );
        }
        if let Some((name, _)) = list {
            let _ = std::fs::remove_file(files.join(name));
        }
    });
}

/// The publisher's files made from a `publisher_state` input.
pub struct PublisherFiles<'a> {
    /// The bytes of `publisher/state`.
    pub state: Vec<u8>,
    /// The list file's name and bytes, when the input carries one.
    pub list: Option<(String, &'a [u8])>,
}

/// The files the `publisher_state` body writes for `data`. Byte 0 odd: the rest is the state
/// file as is. Even: bytes 1–2 (big-endian) are the length `n` of the state file up to and
/// including the list file's name; the list file's size and SHA-256 and the state's SHA-256
/// trailer are appended, and the bytes after `n` are the list file, named as the state ends
/// (when that is a plain file name). So the fuzzer gets past both hashes to the parsers beneath
/// them: a crafted state with valid hashes must not panic either.
pub fn publisher_files(data: &[u8]) -> Option<PublisherFiles<'_>> {
    match data {
        [mode, rest @ ..] if mode & 1 == 1 => Some(PublisherFiles {
            state: rest.to_vec(),
            list: None,
        }),
        [_, n1, n2, rest @ ..] => {
            let n = usize::from(u16::from_be_bytes([*n1, *n2])).min(rest.len());
            let (head, list) = rest.split_at(n);
            let mut state = head.to_vec();
            state.extend_from_slice(&(list.len() as u64).to_be_bytes());
            state.extend_from_slice(&sha256(list));
            let sum = sha256(&state);
            state.extend_from_slice(&sum);
            Some(PublisherFiles {
                state,
                list: list_file_name(head).map(|name| (name, list)),
            })
        }
        _ => None,
    }
}

/// The list file name a state file ends with (a length byte and the name), when it is one
/// plain file name the body may write.
pub fn list_file_name(head: &[u8]) -> Option<String> {
    (1..=head.len().saturating_sub(1).min(255)).find_map(|n| {
        let name = &head[head.len() - n..];
        let plain = head[head.len() - n - 1] as usize == n
            && name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
            && name != b"."
            && name != b".."
            && name != b"state";
        plain.then(|| String::from_utf8_lossy(name).into_owned())
    })
}

/// The documented header of a snapshot file around `fst` (see `core/src/snapshot.rs`), with
/// correct checksums, the entry count the FST's own trailer states and the empty list's
/// lattice hash: what a crafted file with recomputed checksums looks like.
pub fn sealed_snapshot(fst: &[u8]) -> Vec<u8> {
    // fst 0.4: version u64 LE first; at the end … | key count u64 LE | root address u64 LE,
    // then a CRC32C u32 LE from version 3 on.
    let crc = match fst.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
        Some(v) if u64::from_le_bytes(v) <= 2 => 0,
        _ => 4,
    };
    let entries = fst
        .len()
        .checked_sub(16 + crc)
        .and_then(|at| fst.get(at..at + 8))
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_le_bytes);
    let lanes = LtHash::new();
    let mut h = Vec::with_capacity(snapshot::HEADER_LEN + fst.len());
    h.extend_from_slice(snapshot::MAGIC);
    h.extend_from_slice(&snapshot::SNAPSHOT_FORMAT_VERSION.to_le_bytes());
    h.push(fraudshield_core::entry::VALUE_FORMAT_VERSION);
    h.push(fraudshield_core::digest::DIGEST_FORMAT_VERSION);
    h.extend_from_slice(&[0; 4]);
    h.extend_from_slice(&entries.to_le_bytes());
    h.extend_from_slice(&(fst.len() as u64).to_le_bytes());
    h.extend_from_slice(&lanes.digest().0);
    h.extend_from_slice(blake3::hash(fst).as_bytes());
    h.extend_from_slice(&lanes.to_bytes());
    let check = blake3::hash(&h);
    h.extend_from_slice(&check.as_bytes()[..16]);
    h.extend_from_slice(fst);
    h
}

/// Target `snapshot`: the base snapshot file of a store, opened from bytes and then used as
/// lookups use it. Byte 0 even: the rest is the FST and the body seals it in a header with
/// valid checksums (so the fuzzer reaches the FST checks and lookups beneath them; a crafted
/// file with valid checksums must not panic either); odd: the rest is the whole file as is.
/// An opened snapshot streams at most its entry count, and exactly that many if it passes a
/// full `verify`; every lookup stays in bounds.
pub fn snapshot(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let file = if mode & 1 == 1 {
        rest.to_vec()
    } else {
        sealed_snapshot(rest)
    };
    let Ok(s) = Snapshot::from_bytes(&file) else {
        return;
    };
    let mut probes: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![1],
        b"\x01+8613800138000".to_vec(),
        rest[..rest.len().min(24)].to_vec(),
    ];
    let mut stream = s.stream_from(&[]);
    let mut n = 0u64;
    while let Some((k, _)) = stream.next() {
        n += 1;
        assert!(
            n <= s.len(),
            "the stream yields more entries than the header counts"
        );
        if probes.len() < 24 {
            probes.push(k.to_vec());
            probes.push(k[..k.len() / 2].to_vec());
            probes.push([k, b"0"].concat());
        }
    }
    for p in &probes {
        let _ = s.get(p);
        s.walk(p, |len, _| {
            assert!(len <= p.len(), "a prefix hit longer than the key")
        });
        let _ = s.stream_from(p).next();
    }
    let verified = s.verify();
    // A crafted graph may hold fewer paths than its trailer (and the sealed header) count: the
    // open-time check does not count paths (regressions/snapshot/fewer-paths-than-count, found
    // with `-O`). Such a file must never pass the full check.
    assert!(
        n == s.len() || verified.is_err(),
        "a snapshot streaming fewer entries than it counts passed verification"
    );
}
