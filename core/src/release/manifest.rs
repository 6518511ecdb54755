//! The release manifest: what release N is and which artifacts lead to it.
//!
//! ## Canonical bytes (format version 1)
//! ```text
//! "FSMF" | version u8 = 1 | list id (u8 length, [a-z0-9._-], 1–64 bytes) | release u64
//!        | created-at i64 | expires-at i64 (Unix seconds, UTC) | state digest [32]
//!        | entry count u64 | artifact count u8 | artifact × count
//! artifact = kind u8 (1 delta, 2 snapshot) | from-release u64 | size u64 | SHA-256 [32]
//!          | path (u8 length, [A-Za-z0-9._/-], relative, no `..`)
//! ```
//! All integers are big-endian. The encoding is canonical: [`Manifest::decode`] rejects trailing
//! bytes, unsorted or duplicate artifacts and any field out of range, so one manifest has exactly
//! one byte form and its SHA-256 identifies its content.
//!
//! - A **delta** artifact with from-release `b` holds the net changes from release `b` to this
//!   release as absolute final values (upsert value, or remove). Because the values are
//!   absolute, it brings *any* state at a release `c` with `b ≤ c ≤ N` to release N.
//! - A **snapshot** artifact with from-release `s` (≤ N) holds the full list at release `s`;
//!   when `s < N` the client applies the smallest delta with from-release `≤ s` on top.
//! - The state digest is the [`crate::digest`] LtHash of the whole list at release N: the client
//!   recomputes it on its staged state before swapping.

use super::bytes::{FormatError, Reader, Writer};

const MAGIC: &[u8] = b"FSMF";
/// The manifest format version this build writes and reads.
pub const MANIFEST_VERSION: u8 = 1;
/// At most this many artifacts per manifest.
pub const MAX_ARTIFACTS: usize = 64;

/// What an artifact holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArtifactKind {
    /// Net changes from a base release to the manifest's release.
    Delta,
    /// The full list at a release.
    Snapshot,
}

/// One file the manifest offers, with what it takes to trust it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRef {
    /// Delta or snapshot.
    pub kind: ArtifactKind,
    /// Delta: the base release. Snapshot: the release it captures.
    pub from_release: u64,
    /// Exact size in bytes.
    pub size: u64,
    /// SHA-256 of the file.
    pub sha256: [u8; 32],
    /// Path relative to the server's base URL, e.g. `artifacts/3f…e1.fsd`.
    pub path: String,
}

/// A release manifest (see the module docs for its byte form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Which list this is (a deployment may publish several).
    pub list_id: String,
    /// The release number, strictly increasing.
    pub release: u64,
    /// When the release was cut (Unix seconds).
    pub created_at: i64,
    /// After this time (Unix seconds) the manifest is stale.
    pub expires_at: i64,
    /// The state digest of the whole list at this release.
    pub state_digest: [u8; 32],
    /// How many entries the list holds at this release.
    pub entry_count: u64,
    /// Deltas and snapshots, sorted by (kind, from-release).
    pub artifacts: Vec<ArtifactRef>,
}

pub(crate) fn valid_list_id(id: &[u8]) -> bool {
    (1..=64).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(b))
}

pub(crate) fn read_list_id(r: &mut Reader<'_>) -> Result<String, FormatError> {
    let id = r.short_bytes("list id")?;
    if !valid_list_id(id) {
        return Err(FormatError::Invalid {
            field: "list id",
            reason: "must be 1-64 bytes of [a-z0-9._-]",
        });
    }
    Ok(String::from_utf8_lossy(id).into_owned())
}

/// Whether `path` is a safe relative artifact path.
pub fn valid_artifact_path(p: &[u8]) -> bool {
    !p.is_empty()
        && p.len() <= 255
        && p[0] != b'/'
        && p.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-".contains(b))
        && !p
            .split(|b| *b == b'/')
            .any(|seg| seg.is_empty() || seg == b"..")
}

impl Manifest {
    /// Canonical bytes (the signed payload).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(MAGIC);
        w.u8(MANIFEST_VERSION);
        w.short_bytes(self.list_id.as_bytes());
        w.u64(self.release);
        w.i64(self.created_at);
        w.i64(self.expires_at);
        w.bytes(&self.state_digest);
        w.u64(self.entry_count);
        w.u8(self.artifacts.len().min(MAX_ARTIFACTS) as u8);
        for a in self.artifacts.iter().take(MAX_ARTIFACTS) {
            w.u8(match a.kind {
                ArtifactKind::Delta => 1,
                ArtifactKind::Snapshot => 2,
            });
            w.u64(a.from_release);
            w.u64(a.size);
            w.bytes(&a.sha256);
            w.short_bytes(a.path.as_bytes());
        }
        w.into_bytes()
    }

    /// Parses and checks canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<Manifest, FormatError> {
        let mut r = Reader::new(bytes);
        r.magic(MAGIC, "manifest")?;
        let v = r.u8("manifest version")?;
        if v != MANIFEST_VERSION {
            return Err(FormatError::UnsupportedVersion {
                what: "manifest",
                found: v,
            });
        }
        let list_id = read_list_id(&mut r)?;
        let release = r.u64("release")?;
        let created_at = r.i64("created-at")?;
        let expires_at = r.i64("expires-at")?;
        if expires_at < created_at {
            return Err(FormatError::Invalid {
                field: "expires-at",
                reason: "before created-at",
            });
        }
        let state_digest = r.array("state digest")?;
        let entry_count = r.u64("entry count")?;
        let n = usize::from(r.u8("artifact count")?);
        if n > MAX_ARTIFACTS {
            return Err(FormatError::Invalid {
                field: "artifact count",
                reason: "too many",
            });
        }
        let mut artifacts: Vec<ArtifactRef> = Vec::with_capacity(n);
        for _ in 0..n {
            let kind = match r.u8("artifact kind")? {
                1 => ArtifactKind::Delta,
                2 => ArtifactKind::Snapshot,
                _ => {
                    return Err(FormatError::Invalid {
                        field: "artifact kind",
                        reason: "unknown",
                    });
                }
            };
            let from_release = r.u64("from-release")?;
            let size = r.u64("artifact size")?;
            let sha256 = r.array("artifact hash")?;
            let path = r.short_bytes("artifact path")?;
            if !valid_artifact_path(path) {
                return Err(FormatError::Invalid {
                    field: "artifact path",
                    reason: "not a safe relative path",
                });
            }
            let ok = match kind {
                ArtifactKind::Delta => from_release < release,
                ArtifactKind::Snapshot => from_release <= release,
            };
            if !ok {
                return Err(FormatError::Invalid {
                    field: "from-release",
                    reason: "not before the release",
                });
            }
            let a = ArtifactRef {
                kind,
                from_release,
                size,
                sha256,
                path: String::from_utf8_lossy(path).into_owned(),
            };
            if let Some(prev) = artifacts.last()
                && (prev.kind, prev.from_release) >= (a.kind, a.from_release)
            {
                return Err(FormatError::Invalid {
                    field: "artifacts",
                    reason: "not sorted by kind and from-release, or duplicated",
                });
            }
            artifacts.push(a);
        }
        r.finish()?;
        Ok(Manifest {
            list_id,
            release,
            created_at,
            expires_at,
            state_digest,
            entry_count,
            artifacts,
        })
    }

    /// The snapshot artifact, if offered.
    pub fn snapshot(&self) -> Option<&ArtifactRef> {
        self.artifacts
            .iter()
            .find(|a| a.kind == ArtifactKind::Snapshot)
    }

    /// The smallest delta that applies to a state at release `at` (its base is `≤ at`).
    pub fn delta_for(&self, at: u64) -> Option<&ArtifactRef> {
        self.artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::Delta && a.from_release <= at)
            .min_by_key(|a| a.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        Manifest {
            list_id: "cn-police".into(),
            release: 9,
            created_at: 1_700_000_000,
            expires_at: 1_700_086_400,
            state_digest: [7; 32],
            entry_count: 200_000,
            artifacts: vec![
                ArtifactRef {
                    kind: ArtifactKind::Delta,
                    from_release: 1,
                    size: 900,
                    sha256: [1; 32],
                    path: "artifacts/a.fsd".into(),
                },
                ArtifactRef {
                    kind: ArtifactKind::Delta,
                    from_release: 8,
                    size: 100,
                    sha256: [2; 32],
                    path: "artifacts/b.fsd".into(),
                },
                ArtifactRef {
                    kind: ArtifactKind::Snapshot,
                    from_release: 8,
                    size: 600_000,
                    sha256: [3; 32],
                    path: "artifacts/c.fss".into(),
                },
            ],
        }
    }

    #[test]
    fn manifest_round_trips_and_is_canonical() {
        let m = sample();
        let bytes = m.encode();
        assert_eq!(Manifest::decode(&bytes).unwrap(), m);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Manifest::decode(&longer).is_err());
        let mut unsorted = m.clone();
        unsorted.artifacts.swap(0, 1);
        assert!(Manifest::decode(&unsorted.encode()).is_err());
        let mut escape = m.clone();
        escape.artifacts[0].path = "../etc/passwd".into();
        assert!(Manifest::decode(&escape.encode()).is_err());
        assert_eq!(m.delta_for(8).unwrap().from_release, 8);
        assert_eq!(m.delta_for(3).unwrap().from_release, 1);
        assert!(m.delta_for(0).is_none());
    }
}
