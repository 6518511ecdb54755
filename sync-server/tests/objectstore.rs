//! Publishing to a real S3-compatible object store on loopback, and a real phone syncing from
//! the bucket instead of the server.
//!
//! The S3 server is `moto_server` (PyPI `moto[server]`), started by this test on 127.0.0.1
//! port 0 and killed when it ends. It is found through `FS_MOTO_SERVER` (a path; `.ci/run` and
//! `scripts/test.sh` install it into `target/s3-venv/` and set it) or `moto_server` on `PATH`.
//! Without it the test prints `skipped: no S3 server` and passes, **unless** `FS_S3_REQUIRED=1`
//! (set by `scripts/test.sh`): then a missing server fails the test, so CI cannot pass it
//! silently. Set it up by hand with `./scripts/s3-server.sh` (prints the `FS_MOTO_SERVER=…` to
//! export).
//!
//! The server reaches the bucket through a small TCP relay in this test, so the test can refuse
//! the manifest upload alone (proving, on the real store, that the artifacts went first),
//! while the phone keeps reading the bucket directly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod process;
use fraudshield_core::release::keys::sha256;
use fraudshield_core::release::manifest::Manifest;
use fraudshield_core::release::signed::Bundle;
use process::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BUCKET: &str = "fraudshield-releases";
const PREFIX: &str = "cn/police";
const SECRET: &str = "test-secret-never-printed";

fn moto_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FS_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("moto_server"))
            .find(|p| p.is_file())
    })
}

/// `moto_server` on 127.0.0.1, a free port; killed on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start(bin: &Path) -> Moto {
        let mut child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("http://127.0.0.1:") {
                    let _ = tx.send(line[i..].trim().to_owned());
                }
            }
        });
        // Bounded: moto prints its address once it listens (or exits, closing the pipe).
        let url = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("moto_server did not report its address");
        Moto { child, url }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the relay between the server and the store lets through.
const PASS: u8 = 0;
/// Uploads of the manifest are refused, everything else passes (the server keeps no idle
/// connection, so each request comes on a connection of its own).
const NO_MANIFEST: u8 = 1;

/// A TCP relay to `target`, switchable between [`PASS`] and [`NO_MANIFEST`].
struct Relay {
    port: u16,
    mode: Arc<AtomicU8>,
}

/// Whether the request waiting on `conn` is an upload of a manifest (bounded peek).
fn is_manifest_put(conn: &TcpStream) -> bool {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = [0u8; 512];
    for _ in 0..100 {
        let Ok(n) = conn.peek(&mut buf) else {
            return false;
        };
        let head = String::from_utf8_lossy(&buf[..n]);
        if let Some(line) = head.split("\r\n").next().filter(|_| head.contains("\r\n")) {
            return line.starts_with("PUT ") && line.contains("/v1/manifest");
        }
        if n == buf.len() || n == 0 {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

impl Relay {
    fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(PASS));
        let flag = mode.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                let refuse = match flag.load(Ordering::SeqCst) {
                    NO_MANIFEST => is_manifest_put(&client),
                    _ => false,
                };
                let _ = client.set_read_timeout(None);
                if refuse {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(&target) else {
                    continue;
                };
                let pipe = |mut from: TcpStream, mut to: TcpStream| {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Write);
                    });
                };
                pipe(client.try_clone().unwrap(), upstream.try_clone().unwrap());
                pipe(upstream, client);
            }
        });
        Relay { port, mode }
    }
}

struct Http {
    client: reqwest::blocking::Client,
}

impl Http {
    fn post(&self, url: String, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// Status, Cache-Control and body of an anonymous GET.
    fn get(&self, url: &str) -> (u16, String, Vec<u8>) {
        let r = self.client.get(url).send().unwrap();
        let status = r.status().as_u16();
        let cache = r
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (status, cache, r.bytes().unwrap().to_vec())
    }

    /// The manifest at `base` (`…/v1/manifest`), decoded, if there is one.
    fn try_manifest(&self, base: &str) -> Option<Manifest> {
        let (st, _, body) = self.get(&format!("{base}v1/manifest"));
        (st == 200)
            .then(|| Manifest::decode(&Bundle::decode(&body).unwrap().manifest.payload).unwrap())
    }

    fn manifest(&self, base: &str) -> Manifest {
        self.try_manifest(base)
            .unwrap_or_else(|| panic!("no manifest at {base}"))
    }

    /// Polls (bounded) until the manifest at `base` is at least `release`.
    fn wait_for_release(&self, base: &str, release: u64) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.try_manifest(base).is_none_or(|m| m.release < release) {
            assert!(
                Instant::now() < deadline,
                "the object store did not reach release {release} within 120 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn releases_reach_phones_through_the_object_store() {
    let Some(moto_bin) = moto_binary() else {
        assert!(
            std::env::var("FS_S3_REQUIRED").as_deref() != Ok("1"),
            "FS_S3_REQUIRED=1 but no moto_server: set FS_MOTO_SERVER or run ./scripts/s3-server.sh"
        );
        eprintln!(
            "skipped: no S3 server (moto_server); ./scripts/s3-server.sh installs it, scripts/test.sh requires it"
        );
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = cli_binary();
    let moto = Moto::start(&moto_bin);
    let http = Http {
        client: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
    };
    // The bucket, readable by anyone (what a CDN origin or a public-read bucket gives phones).
    let r = http
        .client
        .put(format!("{}/{BUCKET}", moto.url))
        .header("x-amz-acl", "public-read")
        .send()
        .unwrap();
    assert!(
        r.status().is_success(),
        "creating the bucket: {}",
        r.status()
    );
    let bucket_url = format!("{}/{BUCKET}/{PREFIX}/", moto.url);
    let relay = Relay::start(moto.url.trim_start_matches("http://").to_owned());

    // The server: the bucket in server.toml, the credentials in the environment.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let store = tmp.path().join("phone");
    admin(&data, &["init"]);
    std::fs::write(
        data.join("server.toml"),
        format!(
            "jobs_interval_secs = 1\n[object_store]\nbucket = \"{BUCKET}\"\nendpoint = \"http://127.0.0.1:{}\"\nprefix = \"{PREFIX}\"\ntimeout_secs = 5\n",
            relay.port
        ),
    )
    .unwrap();
    let env = [
        ("FRAUDSHIELD_OBJECT_STORE__ACCESS_KEY_ID", "test-key-id"),
        ("FRAUDSHIELD_OBJECT_STORE__SECRET_ACCESS_KEY", SECRET),
    ];
    let shown = admin_env(&data, &env, &["config"]);
    assert!(
        shown.contains("<redacted>") && shown.contains(BUCKET),
        "{shown}"
    );
    assert!(!shown.contains(SECRET) && !shown.contains("test-key-id"));
    let token = |role: &str, name: &str| token(&data, role, name);
    let (alice, bob, publisher) = (
        token("analyst", "alice"),
        token("analyst", "bob"),
        token("publisher", "pat"),
    );
    let trust = data.join("keys").join("trust.txt");
    let server = Server::start_env(&data, &env);
    let api = |path: &str| format!("{}{}", server.url, path.trim_start_matches('/'));
    let sync = || {
        phone(
            &cli,
            &store,
            &[
                "sync",
                "--server",
                &bucket_url,
                "--trust",
                trust.to_str().unwrap(),
            ],
        )
    };
    let check = || phone(&cli, &store, &["check", "+86 138 0013 8000"]);

    // At start the background job uploads the release being served (init's release 1).
    http.wait_for_release(&bucket_url, 1);
    assert_eq!(sync()["release"], 1);
    assert_eq!(check()["action"], "allow");

    // Two analysts list a number, a publisher publishes: the publish answers once the
    // release is in the bucket.
    let (st, p) = http.post(
        api("/v1/proposals"),
        &alice,
        json!({"action": "add", "kind": "phone", "value": "+8613800138000", "category": "police_impersonation",
               "risk": "high", "reason": "caller impersonates police; call-back confirmed"}),
    );
    assert_eq!(st, 201, "{p}");
    let (st, _) = http.post(
        api(&format!("/v1/proposals/{}/approve", p["id"])),
        &bob,
        json!({}),
    );
    assert_eq!(st, 200);
    let (st, r) = http.post(api("/v1/publish"), &publisher, json!({"reason": "s3"}));
    assert_eq!(st, 200, "{r}");
    let release = r["release"].as_u64().unwrap();

    // The bucket serves that release: every artifact it names is there, byte for byte, with
    // the long immutable cache lifetime; the manifest has the short one.
    let m = http.manifest(&bucket_url);
    assert_eq!(m.release, release);
    let (_, cache, _) = http.get(&format!("{bucket_url}v1/manifest"));
    assert_eq!(cache, "public, max-age=60");
    for a in &m.artifacts {
        let (st, cache, body) = http.get(&format!("{bucket_url}{}", a.path));
        assert_eq!(st, 200, "{}", a.path);
        assert_eq!(cache, "public, max-age=31536000, immutable");
        assert_eq!(sha256(&body), a.sha256);
    }

    // A phone syncing from the bucket alone: the number is flagged.
    assert_eq!(sync()["release"], release);
    let v = check();
    assert_eq!(v["action"], "block", "{v}");
    assert_eq!(v["category"], "police_impersonation");

    // The object store refuses manifests (the relay drops manifest uploads only); an appeal
    // revokes the number and is published: the publish fails loudly and the server serves the
    // new release itself. The new release's artifacts did reach the bucket — they go first —
    // but its manifest did not, so the bucket still serves the previous release in full and
    // the phone stays consistent.
    relay.mode.store(NO_MANIFEST, Ordering::SeqCst);
    let (st, a) = http.post(
        api("/v1/appeals"),
        &bob,
        json!({"kind": "phone", "value": "13800138000", "reason": "number reassigned to a new subscriber"}),
    );
    assert_eq!(st, 201, "{a}");
    let (st, _) = http.post(
        api(&format!("/v1/proposals/{}/approve", a["id"])),
        &alice,
        json!({}),
    );
    assert_eq!(st, 200);
    let (st, e) = http.post(api("/v1/publish"), &publisher, json!({}));
    assert_eq!(st, 502, "{e}");
    assert_eq!(e["error"]["code"], "object_store_failed", "{e}");
    assert!(!e.to_string().contains(SECRET));
    let local = http.manifest(&server.url);
    let revoked = local.release;
    assert!(revoked > release);
    assert_eq!(http.manifest(&bucket_url).release, release);
    let new: Vec<_> = local
        .artifacts
        .iter()
        .filter(|a| !m.artifacts.iter().any(|b| b.path == a.path))
        .collect();
    assert!(!new.is_empty());
    for a in new {
        let (st, _, body) = http.get(&format!("{bucket_url}{}", a.path));
        assert_eq!(
            st, 200,
            "artifact {} not uploaded before the manifest",
            a.path
        );
        assert_eq!(sha256(&body), a.sha256);
    }
    assert_eq!(sync()["release"], release);
    assert_eq!(check()["action"], "block");

    // Manifests pass again: the background job (every second here) uploads the served release.
    relay.mode.store(PASS, Ordering::SeqCst);
    http.wait_for_release(&bucket_url, revoked);
    for a in &http.manifest(&bucket_url).artifacts {
        assert_eq!(http.get(&format!("{bucket_url}{}", a.path)).0, 200);
    }
    assert!(sync()["release"].as_u64().unwrap() >= revoked);
    let v = check();
    assert_eq!(v["action"], "allow", "{v}");
    assert_eq!(v["source"], "none");
    drop(server);
    drop(moto);
}
