//! Sorted walks over the live state: the merged base + overlay stream (compaction, verify) and
//! the iOS Call Directory feeds.
//!
//! iOS never wakes the app at call time: its Call Directory extension is loaded ahead of time
//! with phone numbers as **ascending** 64-bit integers. Keys sort byte-wise (`+861…` before
//! `+9…`), which is not numeric order across lengths, so [`PhoneNumbers`] walks the list once per
//! number length present (numeric order is: shorter first, then byte-wise), in bounded batches.

use super::view::View;
use super::{StoreError, UserList};
use crate::entry::EntryValue;
use crate::kind::Kind;
use crate::snapshot::SnapshotStream;
use crate::verdict::{Direction, Source, Verdict};
use rusqlite::{Connection, params};
use std::collections::{BTreeSet, VecDeque};
use std::iter::Peekable;
use std::sync::Arc;

/// Every phone key with an E.164 canonical form starts with these two bytes.
const E164_START: [u8; 2] = [Kind::Phone.tag(), b'+'];

type OverlayIter<'a> = Box<dyn Iterator<Item = (&'a [u8], Option<u64>)> + 'a>;

/// The effective entries (base merged with overlay, removals applied) in ascending key order.
pub(crate) struct Merged<'a> {
    base: SnapshotStream<'a>,
    head: Option<(Vec<u8>, u64)>,
    overlay: Peekable<OverlayIter<'a>>,
}

impl<'a> Merged<'a> {
    pub(crate) fn new(view: &'a View) -> Merged<'a> {
        Merged::from(view, &[])
    }

    /// Entries with keys `>= from`.
    pub(crate) fn from(view: &'a View, from: &'a [u8]) -> Merged<'a> {
        let mut base = view.base.stream_from(from);
        let head = base.next().map(|(k, v)| (k.to_vec(), v));
        let overlay: OverlayIter<'a> = Box::new(view.overlay.iter_from(from));
        Merged {
            base,
            head,
            overlay: overlay.peekable(),
        }
    }

    fn advance_base(&mut self) -> Option<(Vec<u8>, u64)> {
        let next = self.base.next().map(|(k, v)| (k.to_vec(), v));
        std::mem::replace(&mut self.head, next)
    }
}

impl Iterator for Merged<'_> {
    type Item = (Vec<u8>, u64);

    fn next(&mut self) -> Option<(Vec<u8>, u64)> {
        loop {
            let order = match (&self.head, self.overlay.peek()) {
                (None, None) => return None,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some((bk, _)), Some((ok, _))) => bk.as_slice().cmp(ok),
            };
            match order {
                std::cmp::Ordering::Less => return self.advance_base(),
                std::cmp::Ordering::Greater => {
                    if let Some((k, Some(v))) = self.overlay.next() {
                        return Some((k.to_vec(), v));
                    }
                }
                std::cmp::Ordering::Equal => {
                    self.advance_base();
                    if let Some((k, Some(v))) = self.overlay.next() {
                        return Some((k.to_vec(), v));
                    }
                }
            }
        }
    }
}

/// The E.164 digits of a phone key as an integer, or `None` for keys without an E.164 form.
fn e164_number(key: &[u8]) -> Option<u64> {
    let digits = key.strip_prefix(&E164_START)?;
    if digits.is_empty() || digits.len() > 15 || digits[0] == b'0' {
        return None;
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn is_exact(packed: u64) -> bool {
    EntryValue::unpack(packed).is_ok_and(|e| !e.prefix)
}

/// What the Call Directory should list for a phone key in `view`: its incoming verdict when it
/// comes from an exact entry or the user's block list.
fn listed(view: &View, key: &[u8]) -> Option<Verdict> {
    let v = view.verdict_for_key(key, Direction::Incoming);
    matches!(v.source, Source::Exact | Source::UserBlock).then_some(v)
}

/// Iterator over flagged phone numbers in ascending numeric order (see
/// [`Store::phone_numbers_ascending`](super::Store::phone_numbers_ascending)).
pub struct PhoneNumbers {
    view: Arc<View>,
    /// Key lengths present, ascending; the walk handles `lens[pass]`.
    lens: Vec<usize>,
    pass: usize,
    /// Last key examined in the current pass.
    resume: Option<Vec<u8>>,
    user_blocks: Vec<Vec<u8>>,
    buf: VecDeque<(u64, Verdict)>,
}

/// Keys examined per batch.
const BATCH_SCAN: usize = 4_096;

impl PhoneNumbers {
    pub(crate) fn new(view: Arc<View>) -> PhoneNumbers {
        let mut user_blocks: Vec<Vec<u8>> = view
            .user
            .iter()
            .filter(|(k, l)| **l == UserList::Block && e164_number(k).is_some())
            .map(|(k, _)| k.clone())
            .collect();
        user_blocks.sort();
        let mut present = [false; 256];
        for k in &user_blocks {
            present[k.len()] = true;
        }
        for (k, v) in Merged::from(&view, &E164_START) {
            if !k.starts_with(&E164_START) {
                break;
            }
            if is_exact(v) && e164_number(&k).is_some() {
                present[k.len()] = true;
            }
        }
        let lens = (0..256).filter(|&l| present[l]).collect();
        PhoneNumbers {
            view,
            lens,
            pass: 0,
            resume: None,
            user_blocks,
            buf: VecDeque::new(),
        }
    }

    fn refill(&mut self) {
        while self.buf.is_empty() && self.pass < self.lens.len() {
            let len = self.lens[self.pass];
            let start = match &self.resume {
                Some(k) => {
                    let mut s = k.clone();
                    s.push(0);
                    s
                }
                None => E164_START.to_vec(),
            };
            let mut candidates = BTreeSet::new();
            let mut last: Option<Vec<u8>> = None;
            let mut finished = true;
            for (scanned, (k, v)) in Merged::from(&self.view, &start).enumerate() {
                if !k.starts_with(&E164_START) {
                    break;
                }
                if scanned >= BATCH_SCAN {
                    finished = false;
                    break;
                }
                if k.len() == len && is_exact(v) {
                    candidates.insert(k.clone());
                }
                last = Some(k);
            }
            // User blocks in the same key range.
            for k in &self.user_blocks {
                let after_start = k.as_slice() >= start.as_slice();
                let before_end = finished || last.as_ref().is_some_and(|l| k <= l);
                if k.len() == len && after_start && before_end {
                    candidates.insert(k.clone());
                }
            }
            for k in candidates {
                if let (Some(n), Some(v)) = (e164_number(&k), listed(&self.view, &k)) {
                    self.buf.push_back((n, v));
                }
            }
            if finished {
                self.pass += 1;
                self.resume = None;
            } else {
                self.resume = last;
            }
        }
    }
}

impl Iterator for PhoneNumbers {
    type Item = (u64, Verdict);

    fn next(&mut self) -> Option<(u64, Verdict)> {
        if self.buf.is_empty() {
            self.refill();
        }
        self.buf.pop_front()
    }
}

/// What changed for the iOS Call Directory since a list version. `Debug` shows only the count
/// (phone numbers are personal data).
#[derive(Clone, PartialEq, Eq)]
pub enum CallDirectoryChanges {
    /// Numbers to update, ascending: `Some(verdict)` to add or replace, `None` to remove.
    Incremental(Vec<(u64, Option<Verdict>)>),
    /// The change log does not reach back that far: reload everything from
    /// [`Store::phone_numbers_ascending`](super::Store::phone_numbers_ascending).
    Reload,
}

impl std::fmt::Debug for CallDirectoryChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallDirectoryChanges::Incremental(u) => write!(f, "Incremental({} updates)", u.len()),
            CallDirectoryChanges::Reload => f.write_str("Reload"),
        }
    }
}

pub(crate) fn changes_since(
    conn: &Connection,
    log_floor: u64,
    view: &View,
    since: u64,
) -> Result<CallDirectoryChanges, StoreError> {
    if since < log_floor || since > view.list_version || view.unavailable.is_some() {
        return Ok(CallDirectoryChanges::Reload);
    }
    let since = i64::try_from(since).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare("SELECT key FROM change_log WHERE list_version > ?1")?;
    let rows = stmt.query_map(params![since], |r| r.get::<_, Vec<u8>>(0))?;
    let mut keys = BTreeSet::new();
    for row in rows {
        keys.insert(row?);
    }
    let mut out: Vec<(u64, Option<Verdict>)> = keys
        .iter()
        .filter_map(|k| e164_number(k).map(|n| (n, listed(view, k))))
        .collect();
    out.sort_by_key(|(n, _)| *n);
    Ok(CallDirectoryChanges::Incremental(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers() {
        assert_eq!(e164_number(b"\x01+8613800138000"), Some(8613800138000));
        assert_eq!(e164_number(b"\x01110"), None);
        assert_eq!(e164_number(b"\x03123456"), None);
        assert_eq!(e164_number(b"\x01+0123"), None);
        assert_eq!(e164_number(b"\x01+1234567890123456"), None);
    }
}
