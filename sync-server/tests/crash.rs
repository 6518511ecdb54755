//! kill -9 over the real `fraudshield-server` binary (127.0.0.1, port 0, a real data
//! directory): what was acknowledged survives, and a publish killed at any step leaves a
//! served, verifiable release and loses nothing approved.
//!
//! No outcome depends on timing: tips are posted until a number of them has been acknowledged
//! (a bounded wait), then the server is SIGKILLed wherever it is, and the assertions hold for
//! every interleaving; the publish is stopped at named failpoints (`src/failpoint.rs`, built
//! with the `failpoints` feature, hence `required-features` in Cargo.toml): the child prints a
//! marker line and waits, and only then gets SIGKILL.
//!
//! The `fraudshield` CLI (the phone) verifies what is served: it is built by
//! `cargo test --workspace`; run alone, build it first (`cargo build -p fraudshield-cli`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod process;
use process::*;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn http() -> reqwest::blocking::Client {
    // reqwest is built without a default TLS provider (the workspace uses rustls on ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

fn post(http: &reqwest::blocking::Client, url: &str, token: &str, body: Value) -> (u16, Value) {
    let r = http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap();
    let st = r.status().as_u16();
    (st, r.json().unwrap_or(Value::Null))
}

fn get(http: &reqwest::blocking::Client, url: &str) -> (u16, Value, Vec<u8>) {
    let r = http.get(url).send().unwrap();
    let st = r.status().as_u16();
    let bytes = r.bytes().unwrap().to_vec();
    (
        st,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        bytes,
    )
}

#[test]
fn every_acknowledged_tip_survives_kill_9_under_concurrent_clients() {
    const CYCLES: usize = 3;
    const CLIENTS: usize = 4;
    const ACKS_PER_CYCLE: usize = 60;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    admin(&data, &["init"]);
    let reporter = token(&data, "reporter", "police-app");
    let http = http();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut failed_requests = 0;
    for cycle in 0..CYCLES {
        let server = Server::start(&data);
        let before = acked.lock().unwrap().len();
        let sent = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (http, url, token) = (http.clone(), server.url.clone(), reporter.clone());
                let (acked, sent) = (acked.clone(), sent.clone());
                std::thread::spawn(move || {
                    // Until the server is gone (bounded: a few thousand tips at most).
                    for i in 0..5_000u64 {
                        let n =
                            13_900_000_000u64 + cycle as u64 * 1_000_000 + c as u64 * 100_000 + i;
                        sent.fetch_add(1, Ordering::Relaxed);
                        let r = http
                            .post(format!("{url}v1/reports"))
                            .bearer_auth(&token)
                            .json(&json!({
                                "kind": "phone", "value": n.to_string(),
                                "category": "investment", "text": "guaranteed returns",
                                "client_id": format!("crash-{cycle}-{c}-{i}")
                            }))
                            .send();
                        let Ok(r) = r else { return 1 };
                        if r.status().as_u16() != 201 {
                            continue;
                        }
                        // Acknowledged only once the whole body arrived.
                        let Ok(body) = r.json::<Value>() else {
                            return 1;
                        };
                        let id = body["tracking_id"].as_str().unwrap().to_owned();
                        acked.lock().unwrap().push(id);
                    }
                    0
                })
            })
            .collect();
        // Bounded wait until this cycle has some acknowledged tips, then kill -9 mid-stream.
        let deadline = Instant::now() + WAIT;
        while acked.lock().unwrap().len() < before + ACKS_PER_CYCLE {
            assert!(
                Instant::now() < deadline,
                "no progress: {} acknowledged",
                acked.lock().unwrap().len() - before
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill9();
        for t in clients {
            failed_requests += t.join().unwrap();
        }
        assert!(sent.load(Ordering::Relaxed) >= ACKS_PER_CYCLE);
    }
    // Restart once more: every acknowledged tracking id is there.
    let server = Server::start(&data);
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= CYCLES * ACKS_PER_CYCLE);
    let mut missing = 0;
    for id in &acked {
        let (st, body, _) = get(&http, &format!("{}v1/reports/{id}", server.url));
        if st != 200 || body["tracking_id"] != id.as_str() {
            missing += 1;
        }
    }
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged tips are missing after kill -9",
        acked.len()
    );
    // And nothing acknowledged is stored twice (the ids are distinct tips).
    let distinct: std::collections::HashSet<_> = acked.iter().collect();
    assert_eq!(distinct.len(), acked.len());
    eprintln!(
        "{} tips acknowledged over {CYCLES} kill -9 cycles, all present; {failed_requests} client requests cut by the kills",
        acked.len()
    );
    server.kill9();
}

struct Tokens {
    alice: String,
    bob: String,
    publisher: String,
}

/// Proposes (alice) and approves (bob) listing `number`; returns the proposal id.
fn approve_listing(http: &reqwest::blocking::Client, url: &str, t: &Tokens, number: &str) -> i64 {
    let (st, p) = post(
        http,
        &format!("{url}v1/proposals"),
        &t.alice,
        json!({"action": "add", "kind": "phone", "value": number, "category": "loan",
               "risk": "high", "reason": "confirmed by call-back"}),
    );
    assert_eq!(st, 201, "{p}");
    let id = p["id"].as_i64().unwrap();
    let (st, a) = post(
        http,
        &format!("{url}v1/proposals/{id}/approve"),
        &t.bob,
        json!({"reason": "ok"}),
    );
    assert_eq!(st, 200, "{a}");
    id
}

/// A new phone syncs from `url` (verifying signature, sizes, hashes, digest) and checks
/// `number`; returns (release, action).
fn fresh_phone(cli: &Path, dir: &Path, url: &str, trust: &Path, number: &str) -> (u64, String) {
    let store = tempfile::tempdir_in(dir).unwrap();
    let s = phone(
        cli,
        store.path(),
        &["sync", "--server", url, "--trust", trust.to_str().unwrap()],
    );
    let v = phone(cli, store.path(), &["check", number]);
    (
        s["release"].as_u64().unwrap(),
        v["action"].as_str().unwrap().to_owned(),
    )
}

fn pending_ids(http: &reqwest::blocking::Client, url: &str, t: &Tokens) -> Vec<i64> {
    let r = http
        .get(format!("{url}v1/publish/preview"))
        .bearer_auth(&t.publisher)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().unwrap();
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["proposal_id"].as_i64().unwrap())
        .collect()
}

/// Kills a publish at `point`; returns what the test checks afterwards.
fn kill_publish_at(point: &str, manifest_replaced: bool) {
    let cli = cli_binary();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    admin(&data, &["init"]);
    let trust = data.join("keys").join("trust.txt");
    let t = Tokens {
        alice: token(&data, "analyst", "alice"),
        bob: token(&data, "analyst", "bob"),
        publisher: token(&data, "publisher", "pat"),
    };
    let http = http();
    let (first, second) = ("+8613800138000", "+8613900139000");

    // Release 1 (from init) is served; one approved listing waits.
    let server = Server::start(&data);
    let id = approve_listing(&http, &server.url, &t, first);
    let (st, _, old_manifest) = get(&http, &format!("{}v1/manifest", server.url));
    assert_eq!(st, 200);
    server.kill9();

    // Publish, stopped at `point`, then kill -9.
    let server = Server::start_env(&data, &[("FRAUDSHIELD_FAILPOINT", point)]);
    let publishing = {
        let (http, url, token) = (http.clone(), server.url.clone(), t.publisher.clone());
        std::thread::spawn(move || {
            // Never answered: the server stops at the failpoint and is killed.
            http.post(format!("{url}v1/publish"))
                .bearer_auth(token)
                .json(&json!({"reason": "crash test"}))
                .send()
                .map(|r| r.status().as_u16())
                .ok()
        })
    };
    server.line_starting(&format!("failpoint {point} reached"));
    server.kill9();
    assert_eq!(
        publishing.join().unwrap(),
        None,
        "the publish must not have answered"
    );

    // Restarted: a served release verifies on a new phone, and nothing approved is lost.
    let server = Server::start(&data);
    let url = server.url.clone();
    let (st, _, manifest) = get(&http, &format!("{url}v1/manifest"));
    assert_eq!(st, 200);
    let (release, action) = fresh_phone(&cli, tmp.path(), &url, &trust, first);
    if manifest_replaced {
        // The manifest was on disk: the release stands and the restart finished recording it.
        assert_eq!((release, action.as_str()), (2, "block"), "{point}");
        assert_eq!(pending_ids(&http, &url, &t), Vec::<i64>::new(), "{point}");
    } else {
        // The old release, byte for byte; the change still approved and pending.
        assert_eq!(
            manifest, old_manifest,
            "{point}: the old manifest is served"
        );
        assert_eq!((release, action.as_str()), (1, "allow"), "{point}");
        assert_eq!(pending_ids(&http, &url, &t), vec![id], "{point}");
    }

    // The next publish succeeds and carries everything approved.
    let id2 = approve_listing(&http, &url, &t, second);
    let (st, r) = post(
        &http,
        &format!("{url}v1/publish"),
        &t.publisher,
        json!({"reason": "after the crash"}),
    );
    assert_eq!(st, 200, "{point}: {r}");
    let expected: Vec<i64> = if manifest_replaced {
        vec![id2]
    } else {
        vec![id, id2]
    };
    assert_eq!(r["changes"], expected.len(), "{point}: {r}");
    assert_eq!(pending_ids(&http, &url, &t), Vec::<i64>::new(), "{point}");
    let (release_after, a) = fresh_phone(&cli, tmp.path(), &url, &trust, first);
    let (_, b) = fresh_phone(&cli, tmp.path(), &url, &trust, second);
    assert_eq!((a.as_str(), b.as_str()), ("block", "block"), "{point}");
    assert!(release_after > release, "{point}");
    assert_eq!(r["release"], release_after, "{point}");
    server.kill9();
}

#[test]
fn kill_9_after_the_publish_intent_keeps_the_old_release() {
    kill_publish_at("publish:intent", false);
}

#[test]
fn kill_9_after_the_publisher_state_but_before_the_manifest_keeps_the_old_release() {
    kill_publish_at("publish:prepared", false);
}

#[test]
fn kill_9_after_the_manifest_is_written_finishes_the_publish_at_restart() {
    kill_publish_at("publish:manifest", true);
}

#[test]
fn kill_9_after_the_database_recorded_the_release_loses_nothing() {
    kill_publish_at("publish:finalized", true);
}
