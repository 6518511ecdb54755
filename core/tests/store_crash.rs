//! Crash safety: a child process applies batches, compacts (in the foreground and in the
//! background) and installs full snapshots in a loop; the parent kills it (SIGKILL) again and
//! again, and after every kill proves that the reopened store is exactly the state of one list
//! version — at least the last one the child reported committed — with a matching digest and a
//! clean full verification.
//!
//! When to kill is decided by progress, never by the clock: the child prints a line at every
//! step it starts, and the parent kills it right after a pseudo-random number of those lines,
//! so the kill lands inside the step that follows (an apply, a snapshot install, a foreground
//! or a background compaction). A slow machine changes where inside the step, never whether
//! the child made progress.
//!
//! The child is this test binary itself, started with `CRASH_CHILD_DIR` set (see
//! [`child_process_role`]).
#![allow(clippy::unwrap_used)]

use fraudshield_core::digest::LtHash;
use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::verdict::{Direction, Source};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "CRASH_CHILD_DIR";
const KILLS: usize = 60;
const KEY_SPACE: u64 = 300;

fn mix(mut x: u64) -> u64 {
    // splitmix64: a deterministic stream of batch contents.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The batch that produces list version `n`.
fn batch(n: u64) -> Vec<Change> {
    let mut out = Vec::new();
    for j in 0..30 {
        let h = mix(n * 1000 + j);
        let key = Key::new(Kind::Phone, &format!("+86138{:08}", h % KEY_SPACE));
        if (h >> 20).is_multiple_of(5) {
            out.push(Change::Remove(key));
        } else {
            out.push(Change::Upsert(
                key,
                EntryValue {
                    category: Category::from_code(((h >> 8) % 8) as u8),
                    risk: Risk::from_code(1 + ((h >> 12) % 3) as u8).unwrap(),
                    reports: ReportBucket::new(((h >> 16) % 8) as u8).unwrap(),
                    prefix: false,
                },
            ));
        }
    }
    let h = mix(n);
    let rule = Key::new(Kind::Phone, &format!("+8617{}", h % 10));
    if h.is_multiple_of(3) {
        out.push(Change::Remove(rule));
    } else {
        out.push(Change::Upsert(
            rule,
            EntryValue {
                category: Category::Loan,
                risk: Risk::from_code(1 + ((h >> 4) % 3) as u8).unwrap(),
                reports: ReportBucket::default(),
                prefix: true,
            },
        ));
    }
    out
}

/// The list at version `n`: batches 1..=n applied in order.
fn model(n: u64) -> BTreeMap<Vec<u8>, EntryValue> {
    let mut m = BTreeMap::new();
    for v in 1..=n {
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

fn options() -> StoreOptions {
    StoreOptions {
        // Background compactions start at unpredictable moments too.
        auto_compact_overlay_len: Some(150),
        ..StoreOptions::default()
    }
}

/// The child's role: runs only when `CRASH_CHILD_DIR` is set (the parent test starts this binary
/// with it); as a plain test it returns at once.
#[test]
fn child_process_role() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&dir), options()).unwrap();
    let mut n = store.list_version();
    let mut out = std::io::stdout().lock();
    // One line before each step; "committed N" once version N is durable.
    let mut say = |line: String| {
        writeln!(out, "progress {line}").unwrap();
        out.flush().unwrap();
    };
    loop {
        n += 1;
        if n.is_multiple_of(6) {
            say(format!("install {n}"));
            let entries: Vec<(Key, EntryValue)> = model(n)
                .into_iter()
                .map(|(k, v)| (Key::from_bytes(&k).unwrap(), v))
                .collect();
            store.install_snapshot(entries, n, None, &[]).unwrap();
        } else {
            say(format!("apply {n}"));
            store.apply(&batch(n), n).unwrap();
        }
        say(format!("committed {n}"));
        if n.is_multiple_of(4) {
            say(format!("compact {n}"));
            store.compact().unwrap();
        }
    }
}

/// A small deterministic generator for the kill points.
struct Delays(u64);
impl Delays {
    /// A number in `lo..hi`.
    fn next(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 = mix(self.0);
        lo + self.0 % (hi - lo)
    }
}

/// Longest wait for the child's next progress line: only a hung child gets near it.
const STALL: Duration = Duration::from_secs(120);

fn check_state(dir: &std::path::Path, version: u64) {
    let store = Store::open(dir, options()).unwrap();
    assert_eq!(store.status().degraded, None);
    assert_eq!(store.list_version(), version);
    let m = model(version);
    let full = LtHash::of_entries(m.iter().map(|(k, v)| (k.as_slice(), v.pack())));
    assert_eq!(store.digest(), full.digest(), "digest at version {version}");
    assert_eq!(store.status().entries, m.len() as u64);
    for i in 0..KEY_SPACE {
        let key = Key::new(Kind::Phone, &format!("+86138{i:08}"));
        let v = store.check_key(&key, Direction::Incoming);
        match m.get(key.as_bytes()) {
            Some(e) => {
                assert_eq!(v.source, Source::Exact);
                assert_eq!((v.category, v.risk), (Some(e.category), Some(e.risk)));
            }
            None => assert_eq!(v.source, Source::None),
        }
    }
    for d in 0..10 {
        let key = Key::new(Kind::Phone, &format!("+8617{d}00000000"));
        let rule = m.get(Key::new(Kind::Phone, &format!("+8617{d}")).as_bytes());
        let v = store.check_key(&key, Direction::Incoming);
        assert_eq!(v.source == Source::Prefix, rule.is_some());
        assert_eq!(v.risk, rule.map(|r| r.risk));
    }
    store.verify().unwrap();
    // Leftover temp files and old bases were cleaned on open.
    let bases = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("base-")
        })
        .count();
    assert_eq!(bases, 1);
}

#[test]
fn killed_writers_leave_the_old_or_the_new_state() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut delays = Delays(0x5EED);
    let mut version = 0u64;
    let started = Instant::now();
    for kill in 0..KILLS {
        let mut child = Command::new(&exe)
            .args([
                "child_process_role",
                "--exact",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The test harness prints `test child_process_role ... ` before the child's first
                // line: a prefix match would drop that line and shift every kill by one step.
                if let Some((_, p)) = line.split_once("progress ")
                    && tx.send(p.to_string()).is_err()
                {
                    break;
                }
            }
        });
        // Kill right after the k-th step line: inside the step that follows it.
        let steps = delays.next(1, 12);
        let mut committed = version;
        for _ in 0..steps {
            let line = match rx.recv_timeout(STALL) {
                Ok(line) => line,
                // The child died on its own (a failed unwrap): a failure, not a crash point.
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("child exited by itself at kill {kill}")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    panic!("child made no progress for {STALL:?} at kill {kill}")
                }
            };
            if let Some(n) = line.strip_prefix("committed ") {
                committed = n.parse().unwrap();
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        let store = Store::open(dir.path(), options()).unwrap();
        let now = store.list_version();
        drop(store);
        assert!(
            now >= committed,
            "list version {now} is older than the {committed} the child committed"
        );
        check_state(dir.path(), now);
        version = now;
    }
    // The children made real progress, so the kills landed inside writes.
    assert!(
        version >= KILLS as u64 / 2,
        "only reached version {version}"
    );
    eprintln!(
        "{KILLS} kills, final list version {version}, {:?}",
        started.elapsed()
    );
}
