//! A kill -9 during compaction, at every step of it: a child process imports large batches into
//! a store and compacts after each, and the parent kills it (SIGKILL) while it is stopped at an
//! exact step inside the compaction, then proves on the reopened store that
//!
//! - it opens sound and answers every committed entry as committed (no "clean" for a flagged
//!   number) and nothing else, and a full `verify` passes;
//! - the compaction was recorded as due before it wrote anything, so a kill anywhere before its
//!   new base is live leaves the record;
//! - the overlay an open replays is bounded by one import whatever the history of kills (a
//!   structural count, the overlay rows, never a time), and the next writer that opens redoes
//!   the interrupted compaction, so every later open replays nothing.
//!
//! When to kill is decided by position, never by the clock: the store passes named points inside
//! every base write (`store::crash_point`, feature `crash-points`); the child's hook counts them
//! and, at the point and occurrence the parent asked for, prints `paused` and stops for good. The
//! parent kills it only after reading that line, so each kill lands exactly at its step, however
//! slow the machine. Half of the kills are not followed by a writer open in the parent: the next
//! child's own open then redoes the compaction, and its first kill points land inside that redo.
//!
//! The child is this test binary itself, started with `KILL_CHILD_DIR` set (see
//! [`child_process_role`]).
#![allow(clippy::unwrap_used)]

use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::crash_point;
use fraudshield_core::store::{DATABASE_FILE, Store, StoreOptions};
use fraudshield_core::verdict::{Direction, Source};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

const CHILD_ENV: &str = "KILL_CHILD_DIR";
const TARGET_ENV: &str = "KILL_AT";
/// Keys the lists are drawn from.
const KEY_SPACE: u64 = 24_000;
/// Changes per import (an import this size stays in the overlay until its compaction).
const BATCH: u64 = 2_500;
/// The version of the first (installed) list; imports start after it.
const FIRST: u64 = 1;

fn mix(mut x: u64) -> u64 {
    // splitmix64: deterministic list contents.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn key(i: u64) -> Key {
    Key::new(Kind::Phone, &format!("+86139{i:08}"))
}

fn value(h: u64) -> EntryValue {
    EntryValue {
        category: Category::from_code(((h >> 8) % 8) as u8),
        risk: Risk::from_code(1 + ((h >> 12) % 3) as u8).unwrap(),
        reports: ReportBucket::new(((h >> 16) % 8) as u8).unwrap(),
        prefix: false,
    }
}

/// The installed list: about half of the key space.
fn first_list() -> BTreeMap<Vec<u8>, EntryValue> {
    (0..KEY_SPACE)
        .filter(|i| mix(*i).is_multiple_of(2))
        .map(|i| (key(i).into_bytes(), value(mix(i))))
        .collect()
}

/// The import that produces list version `n` (> FIRST).
fn batch(n: u64) -> Vec<Change> {
    (0..BATCH)
        .map(|j| {
            let h = mix(n * 1_000_000 + j);
            let k = key(h % KEY_SPACE);
            if (h >> 40).is_multiple_of(5) {
                Change::Remove(k)
            } else {
                Change::Upsert(k, value(h >> 20))
            }
        })
        .collect()
}

/// The list at version `n`.
fn model(n: u64) -> BTreeMap<Vec<u8>, EntryValue> {
    let mut m = first_list();
    for v in FIRST + 1..=n {
        for c in batch(v) {
            match c {
                Change::Upsert(k, v) => {
                    m.insert(k.into_bytes(), v);
                }
                Change::Remove(k) => {
                    m.remove(k.as_bytes());
                }
            }
        }
    }
    m
}

/// A short-lived writer, as the CLI's import: no background compaction, so a compaction that is
/// due is redone inside `Store::open`, on the opening thread.
fn options() -> StoreOptions {
    StoreOptions {
        auto_compact_overlay_len: None,
        ..StoreOptions::default()
    }
}

/// The point (name, occurrence) the child stops at, and how often each point was passed.
static TARGET: Mutex<Option<(String, u64)>> = Mutex::new(None);
static PASSED: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

fn hook(name: &'static str) {
    let count = {
        let mut passed = PASSED.lock().unwrap();
        let c = passed.entry(name).or_insert(0);
        *c += 1;
        *c
    };
    let stop = TARGET
        .lock()
        .unwrap()
        .as_ref()
        .is_some_and(|(n, occurrence)| n == name && *occurrence == count);
    if stop {
        say(&format!("paused {name}"));
        // Stopped here for good: the parent kills the process now.
        loop {
            std::thread::park();
        }
    }
}

/// The child's role: runs only when `KILL_CHILD_DIR` is set (the parent test starts this binary
/// with it); as a plain test it returns at once.
#[test]
fn child_process_role() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let target = std::env::var(TARGET_ENV).unwrap();
    let (name, occurrence) = target.rsplit_once('#').unwrap();
    *TARGET.lock().unwrap() = Some((name.to_string(), occurrence.parse().unwrap()));
    assert!(crash_point::set_hook(hook));
    let store = Store::open(Path::new(&dir), options()).unwrap();
    say("opened");
    let mut n = store.list_version();
    loop {
        n += 1;
        store.apply(&batch(n), n).unwrap();
        say(&format!("committed {n}"));
        store.compact().unwrap();
    }
}

/// Longest wait for the child's next line: only a hung child gets near it.
const STALL: Duration = Duration::from_secs(300);

fn overlay_rows(dir: &Path) -> i64 {
    let db = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    db.query_row("SELECT count(*) FROM overlay", [], |r| r.get(0))
        .unwrap()
}

fn compaction_recorded_due(dir: &Path) -> bool {
    let db = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    db.query_row(
        "SELECT count(*) FROM meta WHERE name = 'store.compaction_due'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}

fn base_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("base-") && name.ends_with(".fst")
        })
        .count()
}

/// Every key of the key space answers as the list at `version` says.
fn check_answers(store: &Store, version: u64) {
    let m = model(version);
    assert_eq!(store.status().degraded, None);
    assert_eq!(store.list_version(), version);
    assert_eq!(store.status().entries, m.len() as u64);
    for i in 0..KEY_SPACE {
        let k = key(i);
        let v = store.check_key(&k, Direction::Incoming);
        match m.get(k.as_bytes()) {
            Some(e) => {
                assert_eq!(v.source, Source::Exact, "a committed entry answered {v:?}");
                assert_eq!((v.category, v.risk), (Some(e.category), Some(e.risk)));
            }
            None => assert_eq!(v.source, Source::None),
        }
    }
    store.verify().unwrap();
}

/// The kill points: every step of a compaction, each at its first three occurrences in a child
/// (the first often inside the redo of the previous kill's compaction), and several places in
/// the middle of writing the new base's entries.
fn kill_points() -> Vec<(&'static str, u64)> {
    let steps = [
        crash_point::COMPACTION_DUE,
        crash_point::TEMP_WRITTEN,
        crash_point::TEMP_CHECKED,
        crash_point::RENAMED,
        crash_point::RECORDED,
        crash_point::OLD_REMOVED,
    ];
    let mut points = Vec::new();
    for occurrence in 1..=3 {
        for step in steps {
            points.push((step, occurrence));
        }
        points.push((crash_point::ENTRIES, occurrence * 4 - 2));
    }
    points.push((crash_point::ENTRIES, 1));
    points.push((crash_point::ENTRIES, 17));
    points
}

/// Points before the new base is named live: a kill there leaves the compaction due.
fn before_live(point: &str) -> bool {
    [
        crash_point::COMPACTION_DUE,
        crash_point::ENTRIES,
        crash_point::TEMP_WRITTEN,
        crash_point::TEMP_CHECKED,
        crash_point::RENAMED,
    ]
    .contains(&point)
}

#[test]
fn a_kill_at_any_step_of_a_compaction_leaves_a_sound_store_that_replays_a_bounded_overlay() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), options()).unwrap();
        let entries = first_list()
            .into_iter()
            .map(|(k, v)| (Key::from_bytes(&k).unwrap(), v));
        store.install_snapshot(entries, FIRST, None, &[]).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let points = kill_points();
    let mut version = FIRST;
    let mut redone_by_parent = 0;
    for (kill, (point, occurrence)) in points.iter().enumerate() {
        let mut child = Command::new(&exe)
            .args([
                "child_process_role",
                "--exact",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD_ENV, dir.path())
            .env(TARGET_ENV, format!("{point}#{occurrence}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Read up to the pause; every import the child reported is durable.
        loop {
            let line = match rx.recv_timeout(STALL) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("child exited by itself before {point} #{occurrence}")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    panic!("child made no progress for {STALL:?} before {point} #{occurrence}")
                }
            };
            // The test harness may print `test child_process_role ... ` before the first line.
            if let Some((_, n)) = line.split_once("committed ") {
                version = n.parse().unwrap();
            } else if let Some((_, p)) = line.split_once("paused ") {
                assert_eq!(p, *point);
                break;
            }
        }
        // SIGKILL while the child is stopped at the point.
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();

        // The record of a due compaction is durable before the compaction writes anything, and
        // gone once its base is live.
        assert_eq!(
            compaction_recorded_due(dir.path()),
            before_live(point),
            "kill {kill} at {point} #{occurrence}"
        );
        // A reader (changes nothing) sees exactly the last committed import, and replays at most
        // one import's overlay, however many kills came before.
        let store = Store::open_existing(dir.path(), options()).unwrap();
        check_answers(&store, version);
        let replayed = store.status().overlay_len;
        assert!(
            replayed as u64 <= BATCH,
            "kill {kill}: {replayed} overlay rows replayed on open"
        );
        drop(store);
        if kill % 2 == 1 {
            // The next writer redoes an interrupted compaction once; then no open replays
            // anything and the debris is gone.
            let store = Store::open(dir.path(), options()).unwrap();
            assert_eq!(store.status().overlay_len, 0);
            drop(store);
            if before_live(point) {
                redone_by_parent += 1;
            }
            assert_eq!(overlay_rows(dir.path()), 0);
            assert!(!compaction_recorded_due(dir.path()));
            assert_eq!(base_files(dir.path()), 1);
            let store = Store::open_existing(dir.path(), options()).unwrap();
            assert_eq!(store.status().overlay_len, 0);
            check_answers(&store, version);
        }
    }
    // The children made progress, and the parent's writer opens redid compactions.
    assert!(version >= FIRST + 8, "only reached version {version}");
    assert!(redone_by_parent >= 4, "{redone_by_parent}");
    eprintln!(
        "{} kills, final list version {version}, {redone_by_parent} compactions redone by a writer open in the parent",
        points.len()
    );
}
