//! `fraudshield sync` end to end: a real publisher directory served on loopback.
#![allow(clippy::unwrap_used)]

#[path = "../../core/tests/sync_support/mod.rs"]
mod sync_support;

use std::process::Command;
use sync_support::*;

fn run(args: &[&str]) -> (bool, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fraudshield"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn sync_applies_verified_releases_and_refuses_forgeries() {
    let mut w = World::new(300);
    let trust = w.tmp.path().join("trust.txt");
    std::fs::write(&trust, w.trust().to_trust_file()).unwrap();
    let dir = w.store_dir();
    let url = w.server.url();
    let args = [
        "--dir",
        dir.to_str().unwrap(),
        "sync",
        "--server",
        &url,
        "--trust",
        trust.to_str().unwrap(),
        "--json",
    ];
    // The published manifest was cut at a fixed test time: publish one at the real time.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let changes = delta_changes(&mut w.rng, &w.publisher.entries().clone(), 20);
    w.publisher.publish(&changes, &[&w.key], now).unwrap();
    w.history.push(w.publisher.entries().clone());

    let (ok, json, _) = run(&args);
    assert!(ok, "{json}");
    assert_eq!(json["ok"], true);
    assert_eq!(json["release"], 2);
    assert_eq!(json["freshness"]["state"], "fresh");

    // Again: up to date with one conditional request.
    let (ok, json, _) = run(&args);
    assert!(ok);
    assert_eq!(json["path"], "up_to_date");
    assert_eq!(json["requests"], 1);

    // A forged manifest: exit 1, a one-line reason, the JSON error, the old list kept.
    let stranger = fraudshield_core::release::keys::SigningKey::generate().unwrap();
    let changes = delta_changes(&mut w.rng, &w.publisher.entries().clone(), 20);
    w.publisher.publish(&changes, &[&w.key], now).unwrap();
    w.history.push(w.publisher.entries().clone());
    let forged = resign(&w.manifest_bytes(), |_| {}, &[&stranger]);
    serve(&w.server, "/v1/manifest", forged);
    let (ok, json, stderr) = run(&args);
    assert!(!ok);
    assert_eq!(json["error"], "invalid_update");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let store = w.open_store();
    assert_serves(&store, &w.history, 2);
    drop(store);

    // The real one goes through.
    w.server.clear_all();
    let (ok, json, _) = run(&args);
    assert!(ok, "{json}");
    assert_eq!(json["release"], 3);
    assert_eq!(json["path"], "delta");
    let store = w.open_store();
    assert_serves(&store, &w.history, 3);
}

#[test]
fn sync_reports_a_bad_trust_file_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let trust = tmp.path().join("trust.txt");
    std::fs::write(&trust, "ed25519 0011223344556677 AAAA\n").unwrap();
    let dir = tmp.path().join("phone");
    let (ok, _, stderr) = run(&[
        "--dir",
        dir.to_str().unwrap(),
        "sync",
        "--server",
        "http://127.0.0.1:9/",
        "--trust",
        trust.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("invalid trust file"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1);
}
