//! Reads never create, never wait, and never answer from a damaged list — with the real binary.
//!
//! - `check`, `status` and `verify` against a directory that holds no store refuse it and
//!   create nothing;
//! - they work while a writer holds the store in another process (the writer is this test
//!   binary, started again as a child that opens the store and says so on stdout);
//! - a damaged base file is reported, never answered "clean", never deleted, and `verify` exits
//!   non-zero.
#![allow(clippy::unwrap_used)]

use fraudshield_core::store::{Store, StoreOptions};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const WRITER_ENV: &str = "FRAUDSHIELD_TEST_WRITER_DIR";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fraudshield"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const LIST: &str = "kind,value,category,risk
phone,+86 138-0013-8000,police_impersonation,high
qq,87654321,refund,low
";

fn imported(store: &Path) {
    let csv = store.with_extension("csv");
    std::fs::write(&csv, LIST).unwrap();
    let out = run(store, &["import", csv.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn reads_refuse_a_directory_without_a_store_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mistyped = dir.path().join("stroe");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for d in [&mistyped, &empty] {
        for args in [&["check", "13800138000"][..], &["status"], &["verify"]] {
            let out = run(d, args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("no store in this directory"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(out.stdout.is_empty());
        }
    }
    assert!(!mistyped.exists());
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
}

/// The writer's role: runs only when started by the test below with `WRITER_ENV` set.
#[test]
fn writer_child_role() {
    let Ok(dir) = std::env::var(WRITER_ENV) else {
        return;
    };
    let store = Store::open(Path::new(&dir), StoreOptions::default()).unwrap();
    println!("writer-ready");
    std::io::stdout().flush().unwrap();
    // Hold the store (and its writer lock) until the parent closes stdin.
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(store);
}

#[test]
fn check_and_status_work_while_another_process_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    imported(&store);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "writer_child_role",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER_ENV, &store)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the child holds the store (or exited: then the assertion below fails).
    let mut ready = false;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        // libtest prints its own prefix on the same line.
        if line.unwrap().contains("writer-ready") {
            ready = true;
            break;
        }
    }
    assert!(ready, "the writer child did not open the store");
    // A second writer is refused, readers are not.
    let out = run(
        &store,
        &["import", store.with_extension("csv").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let v = json(&run(&store, &["--json", "check", "+86 138 0013 8000"]));
    assert_eq!(
        (v["action"].as_str(), v["source"].as_str()),
        (Some("block"), Some("exact"))
    );
    let st = json(&run(&store, &["--json", "status"]));
    assert_eq!(st["entries"], 2);
    let ok = json(&run(&store, &["--json", "verify"]));
    assert_eq!(ok["ok"], true);
    drop(child.stdin.take());
    lines.for_each(drop);
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_damaged_base_is_reported_never_answered_clean_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    imported(&store);
    let ok = json(&run(&store, &["--json", "verify"]));
    assert_eq!(
        (ok["ok"].as_bool(), ok["entries"].as_u64()),
        (Some(true), Some(2))
    );
    let base = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "fst"))
        .unwrap();
    let b = std::fs::read(&base).unwrap();
    std::fs::write(&base, &b[..b.len() / 2]).unwrap();
    for _ in 0..2 {
        // Every time, not only the first.
        let v = json(&run(&store, &["--json", "check", "+86 138 0013 8000"]));
        assert_eq!(v["source"], "list_unavailable");
        let st = json(&run(&store, &["--json", "status"]));
        assert!(
            st["degraded"]
                .as_str()
                .is_some_and(|r| r.contains("damaged")),
            "{st}"
        );
        let text = run(&store, &["status"]);
        assert!(String::from_utf8_lossy(&text.stdout).contains("DEGRADED"));
    }
    let out = run(&store, &["--json", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("13800138000"));
    // The damaged file is still there, unchanged.
    assert_eq!(std::fs::read(&base).unwrap().len(), b.len() / 2);
    // A re-import repairs it.
    imported(&store);
    let v = json(&run(&store, &["--json", "check", "+86 138 0013 8000"]));
    assert_eq!(v["source"], "exact");
    let st = json(&run(&store, &["--json", "status"]));
    assert!(st["degraded"].is_null());
}
