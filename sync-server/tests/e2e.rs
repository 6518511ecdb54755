//! The whole loop over real processes: the `fraudshield-server` binary on 127.0.0.1 port 0,
//! the real `fraudshield` CLI syncing from it. A citizen reports, two analysts approve, a
//! publisher publishes, the phone syncs and the number is flagged; then revoked (an appeal),
//! published, synced, and clean again.
//!
//! The `fraudshield` binary is built by `cargo test --workspace` (the CLI's own tests need
//! it); run alone, build it first: `cargo build -p fraudshield-cli`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod process;
use process::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

struct Api {
    http: reqwest::blocking::Client,
    url: String,
}

impl Api {
    fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{}", self.url, path.trim_start_matches('/')))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }
    fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{}", self.url, path.trim_start_matches('/')))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }
}

#[test]
fn citizen_to_phone_and_back() {
    let cli = cli_binary();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let store = tmp.path().join("phone");
    let init = admin(&data, &["init"]);
    assert!(init.contains("admin token"));
    let trust = data.join("keys").join("trust.txt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("keys").join("signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let reporter = token(&data, "reporter", "police-app");
    let alice = token(&data, "analyst", "alice");
    let bob = token(&data, "analyst", "bob");
    let publisher = token(&data, "publisher", "pat");
    let listed = admin(&data, &["token", "list", "--json"]);
    assert!(!listed.contains(&alice), "token list never shows secrets");

    // reqwest is built without a default TLS provider (the workspace uses rustls on ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = Server::start(&data);
    let api = Api {
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        url: server.url.clone(),
    };
    let sync = |api: &Api| {
        phone(
            &cli,
            &store,
            &[
                "sync",
                "--server",
                &api.url,
                "--trust",
                trust.to_str().unwrap(),
            ],
        )
    };
    // A phone syncs the empty first release.
    assert_eq!(sync(&api)["release"], 1);
    let check = || phone(&cli, &store, &["check", "+86 138 0013 8000"]);
    assert_eq!(check()["action"], "allow");

    // A citizen reports.
    let (st, receipt) = api.post(
        "/v1/reports",
        &reporter,
        json!({"kind": "phone", "value": "138 0013 8000", "category": "police_impersonation",
               "text": "自称公安，要求转账到安全账户", "client_id": "install-42"}),
    );
    assert_eq!(st, 201, "{receipt}");
    let tid = receipt["tracking_id"].as_str().unwrap().to_owned();

    // Alice proposes, Bob approves, Pat publishes.
    let (st, p) = api.post(
        "/v1/proposals",
        &alice,
        json!({"action": "add", "kind": "phone", "value": "+8613800138000", "category": "police_impersonation",
               "risk": "high", "reason": "caller impersonates police; call-back confirmed", "tips": [tid]}),
    );
    assert_eq!(st, 201, "{p}");
    let id = p["id"].as_i64().unwrap();
    let (st, _) = api.post(&format!("/v1/proposals/{id}/approve"), &alice, json!({}));
    assert_eq!(st, 403, "the proposer cannot approve");
    let (st, _) = api.post(
        &format!("/v1/proposals/{id}/approve"),
        &bob,
        json!({"reason": "ok"}),
    );
    assert_eq!(st, 200);
    let (st, r) = api.post("/v1/publish", &publisher, json!({"reason": "e2e"}));
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["release"], 2);
    let (st, _) = api.post(
        &format!("/v1/tips/{tid}/answer"),
        &alice,
        json!({"outcome": "approved", "message": "已核实并加入预警名单"}),
    );
    assert_eq!(st, 200);
    assert_eq!(
        api.get(&format!("/v1/reports/{tid}")).1["answer"]["outcome"],
        "approved"
    );

    // The phone syncs and the number is flagged.
    let s = sync(&api);
    assert_eq!(s["release"], 2, "{s}");
    let v = check();
    assert_eq!(v["action"], "block", "{v}");
    assert_eq!(v["source"], "exact");
    assert_eq!(v["category"], "police_impersonation");
    // Nothing new: one conditional request.
    assert_eq!(sync(&api)["path"], "up_to_date");

    // An appeal revokes it; after publish and sync the number is clean again.
    let (st, a) = api.post(
        "/v1/appeals",
        &bob,
        json!({"kind": "phone", "value": "13800138000", "reason": "number reassigned to a new subscriber"}),
    );
    assert_eq!(st, 201, "{a}");
    let (st, _) = api.post(
        &format!("/v1/proposals/{}/approve", a["id"]),
        &alice,
        json!({}),
    );
    assert_eq!(st, 200);
    let (st, r) = api.post("/v1/publish", &publisher, json!({}));
    assert_eq!(st, 200, "{r}");
    assert_eq!(sync(&api)["release"], 3);
    let v = check();
    assert_eq!(v["action"], "allow", "{v}");
    assert_eq!(v["source"], "none");

    // SIGTERM: graceful shutdown, exit status 0; the data survives a restart.
    assert!(server.stop().success());
    let again = Server::start(&data);
    let api = Api {
        http: reqwest::blocking::Client::new(),
        url: again.url.clone(),
    };
    assert_eq!(
        api.get(&format!("/v1/reports/{tid}")).1["status"],
        "answered"
    );
    assert_eq!(sync(&api)["path"], "up_to_date");
    assert!(again.stop().success());
}

#[test]
fn backup_while_serving_and_cli_publish_only_on_a_stopped_server() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    admin(&data, &["init"]);
    let reporter = token(&data, "reporter", "app");
    let alice = token(&data, "analyst", "alice");
    let bob = token(&data, "analyst", "bob");
    let server = Server::start(&data);
    let api = Api {
        http: reqwest::blocking::Client::new(),
        url: server.url.clone(),
    };
    let (st, r) = api.post(
        "/v1/reports",
        &reporter,
        json!({"kind": "qq", "value": "87654321", "category": "customer_service", "text": "fake refund", "contact": "me@example.com"}),
    );
    assert_eq!(st, 201);
    let tid = r["tracking_id"].as_str().unwrap().to_owned();
    // The CLI cannot cut a release while the server holds the directory.
    let busy = Command::new(SERVER)
        .arg("--data-dir")
        .arg(&data)
        .arg("publish")
        .output()
        .unwrap();
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use by a running server"));
    // A backup while serving is a directory the server starts from, holding the tip.
    let copy = tmp.path().join("copy");
    let out = admin(&data, &["backup", copy.to_str().unwrap()]);
    assert!(out.contains("database_bytes"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(copy.join("keys").join("signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (_, p) = api.post(
        "/v1/proposals",
        &alice,
        json!({"action": "add", "kind": "qq", "value": "87654321", "category": "customer_service", "risk": "medium", "reason": "r", "tips": [tid]}),
    );
    let (st, _) = api.post(
        &format!("/v1/proposals/{}/approve", p["id"]),
        &bob,
        json!({}),
    );
    assert_eq!(st, 200);
    assert!(server.stop().success());
    // Stopped: the CLI publishes the approved change.
    let out = admin(&data, &["publish", "--reason", "nightly", "--name", "ops"]);
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["release"], 2);
    assert_eq!(report["changes"], 1);
    // The backup serves the state it was taken in: the tip, release 1.
    let restored = Server::start(&copy);
    let api = Api {
        http: reqwest::blocking::Client::new(),
        url: restored.url.clone(),
    };
    assert_eq!(
        api.get(&format!("/v1/reports/{tid}")).1["status"],
        "received"
    );
    assert_eq!(api.get("/healthz").1["release"], 1);
    assert!(restored.stop().success());
}

#[test]
fn key_rotation_keeps_phones_that_pinned_the_root_key() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = cli_binary();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    admin(&data, &["init"]);
    let trust = data.join("keys").join("trust.txt");
    let trust_before = std::fs::read_to_string(&trust).unwrap();
    let old_key = std::fs::read_to_string(data.join("keys").join("signing.key")).unwrap();
    let (phone_a, phone_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let sync = |url: &str, store: &Path| {
        phone(
            &cli,
            store,
            &["sync", "--server", url, "--trust", trust.to_str().unwrap()],
        )
    };
    let server = Server::start(&data);
    assert_eq!(sync(&server.url, &phone_a)["release"], 1);
    assert!(server.stop().success());

    let out = admin(&data, &["keys", "rotate"]);
    let rotated: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(rotated["release"], 2);
    assert_ne!(rotated["old_key"], rotated["new_key"]);
    let new_key = std::fs::read_to_string(data.join("keys").join("signing.key")).unwrap();
    assert_ne!(new_key, old_key);
    assert_eq!(
        std::fs::read_to_string(&trust).unwrap(),
        trust_before,
        "apps keep the root"
    );

    let server = Server::start(&data);
    // The phone that trusted the old key follows the chain; a new phone pinning the root too.
    assert_eq!(sync(&server.url, &phone_a)["release"], 2);
    assert_eq!(sync(&server.url, &phone_b)["release"], 2);
    assert!(server.stop().success());
}

#[test]
fn sigterm_right_after_start_is_a_graceful_stop() {
    // The signal handlers are installed before the address is announced: a SIGTERM at once
    // is a clean exit (status 0), never the default kill.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    admin(&data, &["init"]);
    for _ in 0..3 {
        let server = Server::start(&data);
        assert!(server.stop().success());
    }
}
