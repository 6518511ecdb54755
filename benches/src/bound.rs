//! The information-theoretic bound of a blocklist: how many bits *any* encoding needs.
//!
//! A list is a set of keys plus a value per key. The report divides our snapshot, delta and
//! on-disk sizes by this bound ("ours ÷ bound"): 1.0 would be a perfect encoder.
//!
//! ## How it is counted
//! - **Keys.** Keys are split into groups by kind, canonical length and a fixed leading part
//!   (phones: `+86` and the first national digits, or the country code's first digits; bank:
//!   the first two digits; Alipay: `2088` or `+86` and two digits, nothing for e-mails; QQ: the
//!   first digit). Inside a
//!   group every key has the same length `L` and the same leading part of length `p`; the
//!   universe of the group is every string of that shape, `U = a^(L-p)`, where `a` is the number
//!   of distinct characters the group uses in those positions (10 for digit strings). When every
//!   key of a bank group passes the Luhn check, the check digit carries no information and the
//!   universe shrinks tenfold. Choosing `n` keys of a group costs `log2 C(U, n)` bits.
//! - **Group table.** 64 bits per group (its shape and its count).
//! - **Values.** The empirical zero-order entropy of the packed values times the entry count.
//!
//! This is the bound for a source that draws each group's keys uniformly from its universe. The
//! synthetic lists cluster (number blocks, runs of SIM cards), as real lists do, so an encoder
//! that finds the clusters can come in *under* this bound; a ratio below 1 means exactly that.

use fraudshield_core::entry::EntryValue;
use fraudshield_core::identifier::bank::luhn_valid;
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Bits charged per group for its shape and count.
const GROUP_OVERHEAD_BITS: f64 = 64.0;

/// The bound of one list, in bits, split into its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InformationBound {
    /// Entries counted.
    pub entries: usize,
    /// Groups the keys fell into.
    pub groups: usize,
    /// Bits to choose the key set from the group universes.
    pub key_bits: f64,
    /// Bits of the group table.
    pub group_bits: f64,
    /// Bits of the values (zero-order entropy × entries).
    pub value_bits: f64,
}

impl InformationBound {
    /// Computes the bound of a sorted or unsorted list of unique entries.
    ///
    /// ```
    /// use fraudshield_benches::bound::InformationBound;
    /// use fraudshield_benches::synth::Blocklist;
    /// let list = Blocklist::generate(1_000, 1);
    /// let b = InformationBound::of(list.entries());
    /// assert!(b.bytes_per_entry() > 1.0 && b.bytes_per_entry() < 8.0);
    /// ```
    pub fn of(entries: &[(Key, EntryValue)]) -> InformationBound {
        // (tag, length, leading part) -> full canonical forms.
        let mut groups: BTreeMap<(u8, usize, &str), Vec<&str>> = BTreeMap::new();
        let mut values: HashMap<u64, u64> = HashMap::new();
        for (k, v) in entries {
            let c = k.canonical();
            let p = leading_len(k.kind(), c);
            groups
                .entry((k.kind().tag(), c.len(), &c[..p]))
                .or_default()
                .push(c);
            *values.entry(v.pack()).or_default() += 1;
        }
        let mut key_bits = 0.0;
        for ((tag, len, lead), members) in &groups {
            let p = lead.len();
            let alphabet: BTreeSet<u8> = members.iter().flat_map(|c| c[p..].bytes()).collect();
            let mut log2_universe = (len - p) as f64 * (alphabet.len().max(1) as f64).log2();
            // With 20 or more members, all passing Luhn by chance has odds of 10^-20.
            let luhn_checked = *tag == Kind::Bank.tag()
                && members.len() >= 20
                && members.iter().all(|c| luhn_valid(c));
            if luhn_checked {
                log2_universe -= 10f64.log2();
            }
            key_bits += log2_choose(log2_universe, members.len());
        }
        let n = entries.len() as f64;
        let value_bits = values
            .values()
            .map(|&c| {
                let p = c as f64 / n;
                -(c as f64) * p.log2()
            })
            .sum();
        InformationBound {
            entries: entries.len(),
            groups: groups.len(),
            key_bits,
            group_bits: groups.len() as f64 * GROUP_OVERHEAD_BITS,
            value_bits,
        }
    }

    /// The whole bound in bits.
    pub fn total_bits(&self) -> f64 {
        self.key_bits + self.group_bits + self.value_bits
    }

    /// The whole bound in bytes.
    pub fn total_bytes(&self) -> f64 {
        self.total_bits() / 8.0
    }

    /// The bound per entry in bytes (0 for an empty list).
    pub fn bytes_per_entry(&self) -> f64 {
        if self.entries == 0 {
            0.0
        } else {
            self.total_bytes() / self.entries as f64
        }
    }
}

/// The length of the fixed leading part of a canonical form (see the module docs).
fn leading_len(kind: Kind, c: &str) -> usize {
    let n = match kind {
        Kind::Phone if c.starts_with("+86") => 5,
        Kind::Phone if c.starts_with('+') => 3,
        Kind::Phone => 2,
        Kind::Bank => 2,
        Kind::Qq => 1,
        Kind::Alipay if c.contains('@') => 0,
        Kind::Alipay if c.starts_with('+') => 5,
        Kind::Alipay => 4,
    };
    n.min(c.len())
}

/// `log2 C(U, n)` for a universe of `2^log2_u` items. Exact summation for n ≤ U/2 (with the
/// symmetric form when more than half the universe is taken).
pub fn log2_choose(log2_u: f64, n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let u = log2_u.exp2();
    let n = n as f64;
    if n >= u {
        return 0.0;
    }
    let k = if n > u / 2.0 { u - n } else { n };
    let k_int = k.round() as u64;
    let mut bits = 0.0;
    for i in 0..k_int {
        let i = i as f64;
        bits += (u - i).log2() - (k - i).log2();
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Blocklist;

    #[test]
    fn log2_choose_matches_small_cases() {
        assert!((log2_choose(10f64.log2() * 1.0, 3) - 120f64.log2()).abs() < 1e-9);
        assert!((log2_choose(2.0, 2) - 6f64.log2()).abs() < 1e-9);
        assert_eq!(log2_choose(10.0, 0), 0.0);
        assert_eq!(log2_choose(3f64.log2(), 3), 0.0);
        // C(10, 8) = C(10, 2) = 45.
        assert!((log2_choose(10f64.log2(), 8) - 45f64.log2()).abs() < 1e-9);
    }

    #[test]
    fn bound_is_plausible_for_a_generated_list() {
        let l = Blocklist::generate(20_000, 5);
        let b = InformationBound::of(l.entries());
        assert_eq!(b.entries, 20_000);
        // ~14-digit numbers out of a 10^9..10^11 universe per group: 2-5 bytes each, plus values.
        let per = b.bytes_per_entry();
        assert!((2.0..7.0).contains(&per), "{per}");
        assert!(b.value_bits / 20_000.0 > 2.0 && b.value_bits / 20_000.0 < 8.0);
        // Bigger list, smaller bound per entry (the universe is shared).
        let big = InformationBound::of(Blocklist::generate(80_000, 5).entries());
        assert!(big.bytes_per_entry() < per);
    }

    #[test]
    fn luhn_groups_are_recognised() {
        let l = Blocklist::generate(20_000, 6);
        let cards: Vec<(Key, EntryValue)> = l
            .entries()
            .iter()
            .filter(|(k, _)| k.kind() == Kind::Bank && luhn_valid(k.canonical()))
            .filter(|(k, _)| k.canonical().starts_with("62") && k.canonical().len() == 19)
            .cloned()
            .collect();
        assert!(cards.len() > 100);
        let with_luhn = InformationBound::of(&cards);
        // Same keys with their check digit altered: not Luhn-checked any more.
        let broken: Vec<(Key, EntryValue)> = cards
            .iter()
            .enumerate()
            .map(|(i, (k, v))| {
                let mut c = k.canonical().to_string();
                c.pop();
                c.push(char::from(b'0' + (i % 10) as u8));
                (Key::new(Kind::Bank, &c), *v)
            })
            .collect();
        let without = InformationBound::of(&broken);
        let saved = without.key_bits - with_luhn.key_bits;
        let expected = cards.len() as f64 * 10f64.log2();
        assert!(
            (saved - expected).abs() / expected < 0.01,
            "{saved} vs {expected}"
        );
    }
}
