//! What an app developer would use instead of fraudshield's store, built from the same list.
//!
//! - [`SqliteList`]: a SQLite table `(key BLOB PRIMARY KEY, value INTEGER) WITHOUT ROWID`, as
//!   shipped (default pragmas, a statement prepared per query as `query_row` does) and tuned
//!   (WAL, 256 MiB `mmap_size`, 64 MiB `cache_size`, one cached prepared statement).
//! - [`HashList`]: `std::collections::HashMap` in RAM (SipHash, the default hasher).
//! - [`SortedList`]: a sorted `Vec` searched by binary search.
//! - [`FstList`]: a bare `fst::Map` in RAM with the packed values: the upper bound of what an
//!   FST-based store can do, with no overlay, no prefix walk and no verdict.
//! - [`FilteredFst`]: the same map behind a blocked Bloom filter — not an alternative a user
//!   would pick, but the measured effect of the "filter in front of the FST" that the report
//!   proposes for absent keys.
//!
//! Every one answers "the packed value under this exact key, if any" through [`Lookup`].

use fraudshield_core::entry::EntryValue;
use fraudshield_core::key::Key;
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// An exact-key lookup over a list, the common shape of every alternative.
pub trait Lookup {
    /// The packed value ([`EntryValue::pack`]) stored under exactly `key`, if any.
    fn get(&self, key: &Key) -> Option<u64>;
}

/// How a SQLite list is opened and queried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSetup {
    /// SQLite as it comes: rollback journal, default page cache, no mmap, and a statement
    /// prepared for every query (what `Connection::query_row` does).
    Defaults,
    /// WAL, `mmap_size` 256 MiB, `cache_size` 64 MiB, `synchronous = NORMAL`, and one prepared
    /// statement kept in the connection's cache.
    Tuned,
}

/// A blocklist in a SQLite `WITHOUT ROWID` table.
#[derive(Debug)]
pub struct SqliteList {
    conn: Connection,
    setup: SqliteSetup,
    path: PathBuf,
}

const SELECT: &str = "SELECT value FROM list WHERE key = ?1";

impl SqliteList {
    /// Creates the database file at `path` (which must not exist), loads `entries` in one
    /// transaction, closes it and opens it again for queries with `setup`.
    pub fn build(
        path: &Path,
        entries: &[(Key, EntryValue)],
        setup: SqliteSetup,
    ) -> rusqlite::Result<SqliteList> {
        {
            let mut conn = Connection::open(path)?;
            if setup == SqliteSetup::Tuned {
                conn.pragma_update(None, "journal_mode", "WAL")?;
            }
            conn.execute_batch(
                "CREATE TABLE list (key BLOB PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;",
            )?;
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare("INSERT INTO list (key, value) VALUES (?1, ?2)")?;
                for (k, v) in entries {
                    insert.execute(rusqlite::params![k.as_bytes(), v.pack() as i64])?;
                }
            }
            tx.commit()?;
            if setup == SqliteSetup::Tuned {
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            }
        }
        SqliteList::open(path, setup)
    }

    /// Opens an existing list database with `setup`.
    pub fn open(path: &Path, setup: SqliteSetup) -> rusqlite::Result<SqliteList> {
        let conn = Connection::open(path)?;
        if setup == SqliteSetup::Tuned {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "mmap_size", 256i64 << 20)?;
            conn.pragma_update(None, "cache_size", -65_536i64)?;
        }
        Ok(SqliteList {
            conn,
            setup,
            path: path.to_path_buf(),
        })
    }

    /// The value under `key`, or the SQLite error.
    pub fn try_get(&self, key: &[u8]) -> rusqlite::Result<Option<u64>> {
        let value: Option<i64> = match self.setup {
            SqliteSetup::Defaults => self
                .conn
                .query_row(SELECT, [key], |row| row.get(0))
                .optional()?,
            SqliteSetup::Tuned => self
                .conn
                .prepare_cached(SELECT)?
                .query_row([key], |row| row.get(0))
                .optional()?,
        };
        Ok(value.map(|v| v as u64))
    }

    /// Bytes of the database file (and its WAL, if any) on disk.
    pub fn disk_bytes(&self) -> u64 {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        file_len(&self.path) + file_len(Path::new(&wal))
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

impl Lookup for SqliteList {
    /// A SQLite error reads as "not found"; the report checks every alternative's answers
    /// against the list before timing it, so an error cannot go unnoticed.
    fn get(&self, key: &Key) -> Option<u64> {
        self.try_get(key.as_bytes()).ok().flatten()
    }
}

/// A blocklist in a `HashMap` in RAM.
#[derive(Debug, Default)]
pub struct HashList {
    map: HashMap<Box<[u8]>, u64>,
}

impl HashList {
    /// Loads `entries`.
    pub fn build(entries: &[(Key, EntryValue)]) -> HashList {
        HashList {
            map: entries
                .iter()
                .map(|(k, v)| (Box::from(k.as_bytes()), v.pack()))
                .collect(),
        }
    }

    /// An estimate of the heap it holds: the table (key pointer, length and value per slot
    /// plus one control byte) and one allocation per key rounded up to 16 bytes.
    pub fn heap_bytes(&self) -> u64 {
        let table = self.map.capacity() as u64 * (16 + 8 + 1);
        let keys: u64 = self
            .map
            .keys()
            .map(|k| (k.len() as u64).div_ceil(16) * 16)
            .sum();
        table + keys
    }
}

impl Lookup for HashList {
    fn get(&self, key: &Key) -> Option<u64> {
        self.map.get(key.as_bytes()).copied()
    }
}

/// A blocklist as a sorted `Vec`, searched by binary search.
#[derive(Debug, Default)]
pub struct SortedList {
    entries: Vec<(Box<[u8]>, u64)>,
}

impl SortedList {
    /// Loads `entries` (sorted by key, as a generated list is).
    pub fn build(entries: &[(Key, EntryValue)]) -> SortedList {
        SortedList {
            entries: entries
                .iter()
                .map(|(k, v)| (Box::from(k.as_bytes()), v.pack()))
                .collect(),
        }
    }

    /// An estimate of the heap it holds: 24 bytes per slot plus each key rounded up to 16.
    pub fn heap_bytes(&self) -> u64 {
        let keys: u64 = self
            .entries
            .iter()
            .map(|(k, _)| (k.len() as u64).div_ceil(16) * 16)
            .sum();
        self.entries.capacity() as u64 * 24 + keys
    }
}

impl Lookup for SortedList {
    fn get(&self, key: &Key) -> Option<u64> {
        let key = key.as_bytes();
        self.entries
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| self.entries[i].1)
    }
}

/// A bare `fst::Map` in RAM holding the packed values.
#[derive(Debug)]
pub struct FstList {
    map: fst::Map<Vec<u8>>,
}

impl FstList {
    /// Builds the map from `entries` (sorted by key and unique, as a generated list is).
    pub fn build(entries: &[(Key, EntryValue)]) -> Result<FstList, fst::Error> {
        let map = fst::Map::from_iter(entries.iter().map(|(k, v)| (k.as_bytes(), v.pack())))?;
        Ok(FstList { map })
    }

    /// Bytes of the FST.
    pub fn bytes(&self) -> u64 {
        self.map.as_fst().as_bytes().len() as u64
    }
}

/// Bytes of a bare `fst::Set` of the keys alone: what the values cost in [`FstList`] is the
/// difference.
pub fn fst_set_bytes(entries: &[(Key, EntryValue)]) -> Result<u64, fst::Error> {
    let set = fst::Set::from_iter(entries.iter().map(|(k, _)| k.as_bytes()))?;
    Ok(set.as_fst().as_bytes().len() as u64)
}

/// Bytes of an `fst::Map` whose values are replaced by their frequency rank (the most common
/// value becomes 0, the next 1, …, with a 1,024-entry table on the side to map ranks back):
/// how much a value encoding that the FST's output sharing likes would save.
pub fn fst_ranked_bytes(entries: &[(Key, EntryValue)]) -> Result<u64, fst::Error> {
    let mut counts: HashMap<u64, u64> = HashMap::new();
    for (_, v) in entries {
        *counts.entry(v.pack()).or_default() += 1;
    }
    let mut by_count: Vec<(u64, u64)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let rank: HashMap<u64, u64> = by_count
        .iter()
        .enumerate()
        .map(|(i, (v, _))| (*v, i as u64))
        .collect();
    let map = fst::Map::from_iter(
        entries
            .iter()
            .map(|(k, v)| (k.as_bytes(), rank.get(&v.pack()).copied().unwrap_or(0))),
    )?;
    Ok(map.as_fst().as_bytes().len() as u64 + 1024 * 2)
}

impl Lookup for FstList {
    fn get(&self, key: &Key) -> Option<u64> {
        self.map.get(key.as_bytes())
    }
}

/// A bare `fst::Map` behind a blocked Bloom filter: one 64-byte block per key, 6 bits set per
/// key, 10 bits per entry in total (about 1–2% false positives). A key the filter rules out never
/// touches the FST.
#[derive(Debug)]
pub struct FilteredFst {
    blocks: Vec<[u64; 8]>,
    fst: FstList,
}

/// Bits per entry of [`FilteredFst`]'s filter.
pub const FILTER_BITS_PER_ENTRY: usize = 10;
const FILTER_PROBES: u32 = 6;

impl FilteredFst {
    /// Builds the map and the filter from `entries` (sorted by key and unique).
    pub fn build(entries: &[(Key, EntryValue)]) -> Result<FilteredFst, fst::Error> {
        let n_blocks = (entries.len() * FILTER_BITS_PER_ENTRY).div_ceil(512).max(1);
        let mut blocks = vec![[0u64; 8]; n_blocks];
        for (k, _) in entries {
            let (block, bits) = Self::probe(k.as_bytes(), n_blocks);
            for bit in bits {
                blocks[block][(bit / 64) as usize] |= 1 << (bit % 64);
            }
        }
        Ok(FilteredFst {
            blocks,
            fst: FstList::build(entries)?,
        })
    }

    /// The block of `key` and the bit positions within it (one 64-bit hash: FNV-1a, then the
    /// SplitMix64 mixer; the block from its high half, six 9-bit positions from a second mix).
    fn probe(key: &[u8], n_blocks: usize) -> (usize, impl Iterator<Item = u32>) {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in key {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let h = crate::rng::mix(h);
        let block = (((h >> 32) * n_blocks as u64) >> 32) as usize;
        let positions = crate::rng::mix(h ^ 0x9e37_79b9_7f4a_7c15);
        let bits = (0..FILTER_PROBES).map(move |i| ((positions >> (i * 9)) & 511) as u32);
        (block, bits)
    }

    /// Bytes of the FST plus the filter.
    pub fn bytes(&self) -> u64 {
        self.fst.bytes() + self.blocks.len() as u64 * 64
    }
}

impl Lookup for FilteredFst {
    fn get(&self, key: &Key) -> Option<u64> {
        let (block, mut bits) = Self::probe(key.as_bytes(), self.blocks.len());
        let words = &self.blocks[block];
        if bits.all(|bit| words[(bit / 64) as usize] & (1 << (bit % 64)) != 0) {
            self.fst.get(key)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Blocklist;

    #[test]
    fn every_alternative_gives_the_same_answers() {
        let list = Blocklist::generate(3_000, 8);
        let dir = tempfile::tempdir().unwrap();
        let alternatives: Vec<Box<dyn Lookup>> = vec![
            Box::new(
                SqliteList::build(
                    &dir.path().join("d.sqlite"),
                    list.entries(),
                    SqliteSetup::Defaults,
                )
                .unwrap(),
            ),
            Box::new(
                SqliteList::build(
                    &dir.path().join("t.sqlite"),
                    list.entries(),
                    SqliteSetup::Tuned,
                )
                .unwrap(),
            ),
            Box::new(HashList::build(list.entries())),
            Box::new(SortedList::build(list.entries())),
            Box::new(FstList::build(list.entries()).unwrap()),
            Box::new(FilteredFst::build(list.entries()).unwrap()),
        ];
        let present = list.present_queries(200, 1);
        let absent = list.absent_queries(200, 1);
        for alt in &alternatives {
            for k in &present {
                assert_eq!(alt.get(k), list.get(k.as_bytes()).map(|v| v.pack()));
            }
            for k in &absent {
                assert_eq!(alt.get(k), None);
            }
        }
    }

    #[test]
    fn the_filter_rules_out_most_absent_keys() {
        let list = Blocklist::generate(20_000, 8);
        let f = FilteredFst::build(list.entries()).unwrap();
        let absent = list.absent_queries(10_000, 3);
        let passed = absent
            .iter()
            .filter(|k| {
                let (block, mut bits) = FilteredFst::probe(k.as_bytes(), f.blocks.len());
                bits.all(|bit| f.blocks[block][(bit / 64) as usize] & (1 << (bit % 64)) != 0)
            })
            .count();
        assert!(
            passed < 300,
            "false positive rate too high: {passed} of 10000"
        );
        assert!(f.bytes() > FstList::build(list.entries()).unwrap().bytes());
    }

    #[test]
    fn sizes_are_reported() {
        let list = Blocklist::generate(2_000, 8);
        let dir = tempfile::tempdir().unwrap();
        let s =
            SqliteList::build(&dir.path().join("s"), list.entries(), SqliteSetup::Tuned).unwrap();
        assert!(s.disk_bytes() > 2_000 * 10);
        let f = FstList::build(list.entries()).unwrap();
        assert!(f.bytes() > 2_000 && f.bytes() < s.disk_bytes());
        assert!(HashList::build(list.entries()).heap_bytes() > 2_000 * 24);
        assert!(SortedList::build(list.entries()).heap_bytes() > 2_000 * 24);
        let set = fst_set_bytes(list.entries()).unwrap();
        assert!(set < f.bytes(), "values cost bytes");
        assert!(fst_ranked_bytes(list.entries()).unwrap() > set);
    }
}
