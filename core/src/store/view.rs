//! The live view: one immutable state of the store, and the lookup that reads it.

use super::UserList;
use crate::digest::{LtHash, StateDigest};
use crate::entry::EntryValue;
use crate::identifier::Identifier;
use crate::identifier::phone::is_unallocated_mobile;
use crate::key::MAX_CANONICAL_LEN;
use crate::kind::Kind;
use crate::overlay::Overlay;
use crate::snapshot::Snapshot;
use crate::verdict::{Direction, Policy, Source, Verdict};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One immutable state: base + overlay + user lists + policy. Writers build a new `View` and swap
/// it in; readers hold an `Arc` to the one they loaded, so a lookup never sees a mix.
#[derive(Clone)]
pub(crate) struct View {
    pub(crate) base: Arc<Snapshot>,
    pub(crate) overlay: Arc<Overlay>,
    pub(crate) lthash: Arc<LtHash>,
    pub(crate) digest: StateDigest,
    pub(crate) entries: u64,
    pub(crate) list_version: u64,
    /// Bumped on every change of the blocklist (base or overlay); `Staged` remembers it.
    pub(crate) generation: u64,
    pub(crate) user: Arc<HashMap<Vec<u8>, UserList>>,
    pub(crate) protected: Arc<HashSet<Vec<u8>>>,
    pub(crate) policy: Policy,
    /// `Some(reason)` while degraded: the blocklist (base, overlay) is an empty placeholder and
    /// lookups that reach it answer [`Source::ListUnavailable`].
    pub(crate) unavailable: Option<Arc<str>>,
}

/// A key assembled on the stack (tag + canonical form): no allocation per lookup.
pub(crate) struct KeyBuf {
    buf: [u8; MAX_CANONICAL_LEN + 1],
    len: usize,
}

impl KeyBuf {
    pub(crate) fn new(kind: Kind, canonical: &str) -> Option<KeyBuf> {
        let c = canonical.as_bytes();
        if c.len() > MAX_CANONICAL_LEN {
            return None;
        }
        let mut buf = [0u8; MAX_CANONICAL_LEN + 1];
        buf[0] = kind.tag();
        buf[1..=c.len()].copy_from_slice(c);
        Some(KeyBuf {
            buf,
            len: c.len() + 1,
        })
    }
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// What the blocklist (base + overlay) holds for a key: its exact entry and the longest prefix
/// rule covering it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Hit {
    pub(crate) exact: Option<EntryValue>,
    pub(crate) prefix: Option<(usize, EntryValue)>,
}

impl View {
    /// The effective packed value of `key` (overlay first, then base).
    pub(crate) fn effective(&self, key: &[u8]) -> Option<u64> {
        match self.overlay.get(key) {
            Some(v) => v,
            None => self.base.get(key),
        }
    }

    /// One walk of the base FST plus O(key length) overlay probes.
    #[inline]
    pub(crate) fn lookup(&self, key: &[u8]) -> Hit {
        let mut hit = Hit::default();
        let full = key.len();
        let mut consider = |len: usize, packed: u64| {
            let Ok(e) = EntryValue::unpack(packed) else {
                return;
            };
            if e.prefix {
                if hit.prefix.is_none_or(|(l, _)| len >= l) {
                    hit.prefix = Some((len, e));
                }
            } else if len == full {
                hit.exact = Some(e);
            }
        };
        let overlay = &*self.overlay;
        self.base
            .walk(key, |len, packed| match overlay.get(&key[..len]) {
                // The overlay replaced or removed this base entry.
                Some(Some(v)) => consider(len, v),
                Some(None) => {}
                None => consider(len, packed),
            });
        // Overlay entries the base does not have (or replaced, seen twice: same value, harmless).
        overlay.prefix_rules(key, &mut consider);
        if let Some(Some(v)) = overlay.get(key) {
            consider(full, v);
        }
        hit
    }

    /// The verdict for a key, in the precedence order of DESIGN.md.
    pub(crate) fn verdict_for_key(&self, key: &[u8], direction: Direction) -> Verdict {
        let v = self.list_version;
        if self.protected.contains(key) {
            return Verdict::without_entry(
                self.policy.action(Source::Protected, None, direction),
                Source::Protected,
                v,
            );
        }
        let user = if self.user.is_empty() {
            None
        } else {
            self.user.get(key)
        };
        match user {
            Some(UserList::Allow) => {
                return Verdict::without_entry(
                    self.policy.action(Source::UserAllow, None, direction),
                    Source::UserAllow,
                    v,
                );
            }
            Some(UserList::Block) => {
                return Verdict::without_entry(
                    self.policy.action(Source::UserBlock, None, direction),
                    Source::UserBlock,
                    v,
                );
            }
            None => {}
        }
        if self.unavailable.is_some() {
            return Verdict::list_unavailable(v);
        }
        let hit = self.lookup(key);
        let (source, entry) = match (hit.exact, hit.prefix) {
            (Some(e), _) => (Source::Exact, e),
            (None, Some((_, e))) => (Source::Prefix, e),
            (None, None) => return self.no_entry(key, direction),
        };
        Verdict {
            action: self.policy.action(source, Some(entry.risk), direction),
            source,
            category: Some(entry.category),
            risk: Some(entry.risk),
            reports: Some(entry.reports),
            list_version: v,
        }
    }

    /// The verdict when no list holds `key`: an unallocated mobile range says so, anything
    /// else is allowed.
    fn no_entry(&self, key: &[u8], direction: Direction) -> Verdict {
        let unallocated = key.split_first().is_some_and(|(&tag, canonical)| {
            tag == Kind::Phone.tag()
                && std::str::from_utf8(canonical).is_ok_and(is_unallocated_mobile)
        });
        if !unallocated {
            return Verdict::none(self.list_version);
        }
        Verdict::without_entry(
            self.policy
                .action(Source::UnallocatedRange, None, direction),
            Source::UnallocatedRange,
            self.list_version,
        )
    }

    pub(crate) fn check(&self, id: &Identifier, direction: Direction) -> Verdict {
        match KeyBuf::new(id.kind(), id.canonical()) {
            Some(k) => self.verdict_for_key(k.as_bytes(), direction),
            // Longer than any key can be: it cannot be on any list.
            None if self.unavailable.is_some() => Verdict::list_unavailable(self.list_version),
            None => Verdict::none(self.list_version),
        }
    }
}
