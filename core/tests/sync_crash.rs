//! Crash mid-apply: a child process syncs and is killed (SIGKILL) at chosen points, again and
//! again; every time, the store must reopen, pass its full integrity check and answer lookups
//! exactly from either the release before or the release after, never anything else.
//!
//! The kill points are set by what the loopback server has seen (a held artifact request, a
//! response written), never by a delay, so a busy machine cannot change what a round proves.
#![allow(clippy::unwrap_used)]

mod sync_support;

use fraudshield_core::release::keys::KeySet;
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::sync::{SyncConfig, meta};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use sync_support::*;

/// Runs one sync in this process when started by the crash test (environment set); does
/// nothing otherwise.
#[test]
#[ignore = "child process of crash_mid_apply_child_killed_at_random_points"]
fn crash_child() {
    let (Ok(dir), Ok(url), Ok(trust)) = (
        std::env::var("FS_CRASH_STORE"),
        std::env::var("FS_CRASH_URL"),
        std::env::var("FS_CRASH_TRUST"),
    ) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&dir), StoreOptions::default()).unwrap();
    let config = SyncConfig::new(&url, KeySet::from_trust_file(&trust).unwrap());
    let transport = fraudshield_core::sync::http::HttpTransport::new().unwrap();
    fraudshield_core::sync::sync(&store, &transport, &config, NOW).unwrap();
}

fn spawn_child(w: &World, store_dir: &std::path::Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FS_CRASH_STORE", store_dir)
        .env("FS_CRASH_URL", w.server.url())
        .env("FS_CRASH_TRUST", w.trust().to_trust_file())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Where a round kills the child. Chosen by the round number, never by the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KillPoint {
    /// While the server holds the first artifact request unanswered: nothing was downloaded,
    /// so the old release must be intact.
    ArtifactHeld,
    /// As soon as the first artifact was sent: the child is verifying, staging or committing
    /// (or done); either release is right.
    AfterDownload,
    /// As soon as the child writes to the store (the SQLite WAL grows, a new base file
    /// appears): inside the commit or the snapshot install; either release is right.
    Writing,
    /// Not killed: the child finishes, and the new release must be live.
    Never,
}

/// What the child's writes change in the store directory: the WAL's size and the base files.
/// (The WAL of a freshly opened store is empty; a commit grows it.)
fn footprint(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let len = e.metadata().ok()?.len();
                    // Opening the store creates an empty WAL: only a written one counts.
                    let watched = (name.ends_with("-wal") && len > 0) || name.starts_with("base-");
                    watched.then_some((name, len))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn crash_mid_apply_child_killed_at_random_points() {
    let mut w = World::new(1000);
    let (mut old, mut new) = (0, 0);
    let start = Instant::now();
    for i in 0..48 {
        let point = [
            KillPoint::AfterDownload,
            KillPoint::ArtifactHeld,
            KillPoint::Writing,
            KillPoint::Never,
        ][i % 4];
        // Every fifth round starts from an empty store, so the snapshot path is killed too.
        let dir = w.tmp.path().join(format!("phone-{}", i / 5));
        let before = Store::open(&dir, StoreOptions::default())
            .unwrap()
            .list_version();
        let release = w.publish_random(30);
        // The child's requests: the manifest, then one or two artifacts.
        let first = w.server.request_count();
        if point == KillPoint::ArtifactHeld {
            w.server.hold_from(first + 1);
        }
        let written = footprint(&dir);
        let mut child = spawn_child(&w, &dir);
        match point {
            KillPoint::Writing => {
                // Watch without sleeping (bounded), so the kill lands inside the write.
                let deadline = Instant::now() + PATIENCE;
                while footprint(&dir) == written && child.try_wait().unwrap().is_none() {
                    assert!(
                        Instant::now() < deadline,
                        "round {i}: the child never wrote"
                    );
                    std::thread::yield_now();
                }
                let _ = child.kill();
            }
            KillPoint::ArtifactHeld => {
                assert!(
                    w.server.wait_requests(first + 2),
                    "round {i}: no artifact request"
                );
                let _ = child.kill();
            }
            KillPoint::AfterDownload => {
                let served = w.server.served();
                // The manifest and the first artifact written: kill at once.
                assert!(
                    w.server.wait_served(served + 2),
                    "round {i}: nothing served"
                );
                let _ = child.kill();
            }
            KillPoint::Never => {}
        }
        let status = wait_bounded(&mut child);
        w.server.release();
        if point == KillPoint::Never {
            assert!(status.success(), "round {i}: the child failed");
        }
        let store = Store::open(&dir, StoreOptions::default()).unwrap();
        store.verify().unwrap();
        let now = store.list_version();
        let expected: &[u64] = match point {
            KillPoint::ArtifactHeld => &[before],
            KillPoint::AfterDownload | KillPoint::Writing => &[before, release],
            KillPoint::Never => &[release],
        };
        assert!(
            expected.contains(&now),
            "round {i} ({point:?}): {before} -> {now}, expected one of {expected:?}"
        );
        let floor = store
            .meta(meta::RELEASE)
            .unwrap()
            .map_or(0, |b| u64::from_be_bytes(b.as_slice().try_into().unwrap()));
        assert_eq!(floor, now, "the floor is committed with the state");
        assert_serves(&store, &w.history, now);
        if now == release {
            new += 1;
        } else {
            old += 1;
        }
        drop(store);
        // Finish the interrupted sync: the survivor always converges.
        let store = Store::open(&dir, StoreOptions::default()).unwrap();
        w.sync(&store).unwrap();
        assert_serves(&store, &w.history, release);
    }
    println!(
        "{} rounds: {old} kept the old release, {new} had the new one; {:?}",
        old + new,
        start.elapsed()
    );
}

/// Waits for the child to exit, at most [`PATIENCE`] (a hung child is killed and fails the
/// test).
fn wait_bounded(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not exit within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
