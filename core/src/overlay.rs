//! The overlay: blocklist changes made since the base snapshot was built.
//!
//! A delta from the server changes a few hundred or thousand keys; rebuilding a two-million-entry
//! FST for each would cost seconds. Changes therefore land in a small sorted map that shadows the
//! base (persisted row by row in SQLite by the store), and a compaction folds it into a new base
//! now and then.
//!
//! Each overlay entry says what a key's value is *now*, whatever the base says:
//! `Some(value)` (added or replaced) or `None` (a tombstone: removed although the base has it).
//! A key whose value equals the base again is dropped from the overlay, so the overlay only holds
//! real differences.
//!
//! ## Lookups without allocation, in O(key length)
//!
//! Besides the map, the overlay keeps two bit sets over key lengths (0–255): the lengths of all
//! its keys, and the lengths of its prefix rules. A lookup probes the map only at the prefix
//! lengths present (usually one or two), and asks about a base entry at length `n` only when some
//! overlay key has length `n`. Probes go to a hash index (the sorted map serves ordered walks)
//! with the borrowed `&[u8]` slices of the key being looked up: nothing is allocated.

use crate::entry::EntryValue;
use std::collections::{BTreeMap, HashMap};

/// A set of key lengths 0..=255.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LenSet([u64; 4]);

impl LenSet {
    fn insert(&mut self, len: usize) {
        if len < 256 {
            self.0[len / 64] |= 1 << (len % 64);
        }
    }
    fn contains(&self, len: usize) -> bool {
        len < 256 && self.0[len / 64] & (1 << (len % 64)) != 0
    }
}

/// Changes since the base snapshot: key → new packed value, or `None` for a removal.
///
/// Its `Debug` output shows only counts: keys are identifiers (personal data).
#[derive(Clone, Default)]
pub struct Overlay {
    /// Ordered, for merging with the base (compaction, verification, Call Directory walks).
    entries: BTreeMap<Vec<u8>, Option<u64>>,
    /// The same entries hashed, for point lookups on the hot path: one hash probe instead of a
    /// dozen cache-missing tree comparisons when the overlay holds tens of thousands of changes.
    index: HashMap<Vec<u8>, Option<u64>>,
    lens: LenSet,
    prefix_lens: LenSet,
}

impl std::fmt::Debug for Overlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let removed = self.entries.values().filter(|v| v.is_none()).count();
        f.debug_struct("Overlay")
            .field("entries", &self.entries.len())
            .field("removals", &removed)
            .finish()
    }
}

impl Overlay {
    /// An empty overlay.
    pub fn new() -> Overlay {
        Overlay::default()
    }

    /// Number of overlay entries (upserts and tombstones).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when the overlay holds no change.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the overlay says about `key`: `None` (nothing: ask the base), `Some(None)` (removed),
    /// `Some(Some(value))` (added or replaced).
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<Option<u64>> {
        if !self.lens.contains(key.len()) {
            return None;
        }
        self.index.get(key).copied()
    }

    /// Sets what the overlay says about `key` (see [`Overlay::get`]); `None` forgets the key
    /// (the base is right again).
    pub(crate) fn set(&mut self, key: &[u8], state: Option<Option<u64>>) {
        match state {
            None => {
                self.entries.remove(key);
                self.index.remove(key);
                // The length sets may now over-approximate: that only costs a probe.
            }
            Some(v) => {
                self.lens.insert(key.len());
                if let Some(packed) = v
                    && EntryValue::unpack(packed).is_ok_and(|e| e.prefix)
                {
                    self.prefix_lens.insert(key.len());
                }
                self.entries.insert(key.to_vec(), v);
                self.index.insert(key.to_vec(), v);
            }
        }
    }

    /// Calls `on_rule(len, value)` for every overlay prefix rule that is a prefix of `key`
    /// (including `key` itself). No allocation.
    #[inline]
    pub fn prefix_rules(&self, key: &[u8], mut on_rule: impl FnMut(usize, u64)) {
        for len in 1..=key.len() {
            if self.prefix_lens.contains(len)
                && let Some(Some(v)) = self.index.get(&key[..len])
            {
                on_rule(len, *v);
            }
        }
    }

    /// The overlay entries with keys in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], Option<u64>)> + '_ {
        self.entries.iter().map(|(k, v)| (k.as_slice(), *v))
    }

    /// The overlay entries with keys `>= from`, ascending.
    pub fn iter_from<'a>(
        &'a self,
        from: &'a [u8],
    ) -> impl Iterator<Item = (&'a [u8], Option<u64>)> + 'a {
        use std::ops::Bound;
        self.entries
            .range::<[u8], _>((Bound::Included(from), Bound::Unbounded))
            .map(|(k, v)| (k.as_slice(), *v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Category, ReportBucket, Risk};

    #[test]
    fn get_set_and_prefix_rules() {
        let rule = EntryValue {
            category: Category::Other,
            risk: Risk::High,
            reports: ReportBucket::default(),
            prefix: true,
        }
        .pack();
        let mut o = Overlay::new();
        o.set(b"\x01+86170", Some(Some(rule)));
        o.set(b"\x01+8613800138000", Some(None));
        assert_eq!(o.get(b"\x01+86170"), Some(Some(rule)));
        assert_eq!(o.get(b"\x01+8613800138000"), Some(None));
        assert_eq!(o.get(b"\x01+8613800138001"), None);
        let mut hits = Vec::new();
        o.prefix_rules(b"\x01+8617012345678", |l, v| hits.push((l, v)));
        assert_eq!(hits, vec![(7, rule)]);
        o.set(b"\x01+86170", None);
        hits.clear();
        o.prefix_rules(b"\x01+8617012345678", |l, v| hits.push((l, v)));
        assert!(hits.is_empty());
        assert_eq!(o.len(), 1);
        assert_eq!(o.iter_from(b"\x01+86").count(), 1);
        assert_eq!(o.iter_from(b"\x01+9").count(), 0);
        let shown = format!("{o:?}");
        assert!(
            !shown.contains("138") && !shown.contains("43, 56"),
            "{shown}"
        );
    }
}
