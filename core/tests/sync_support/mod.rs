//! Shared support for the sync tests: a loopback HTTP/1.1 server that serves a publisher's
//! directory and can misbehave on demand, and a deterministic generator of realistic list
//! entries (Chinese mobiles and landlines, bank cards, QQ numbers, Alipay ids).
//!
//! The server is plain `std::net`: one thread accepts, one thread per connection, every
//! response closes its connection. Misbehaviours are byte-level (trickling, endless bodies,
//! lying `Content-Length`), which a framework would smooth over. Every wait is bounded.
#![allow(dead_code, clippy::unwrap_used)]

use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// How the server answers one path.
#[derive(Clone, Debug)]
pub enum Behavior {
    /// A fixed response.
    Fixed {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A body with no length that never ends (stops after `max_bytes`, a bound in bytes rather
    /// than time so that a slow machine cannot end it early, or when the client leaves).
    Endless { max_bytes: u64 },
    /// Claims `Content-Length: declared`, sends `head` (shorter), then sends nothing more until
    /// the client leaves or the server stops: only the client's deadline can end the request.
    Stall { head: Vec<u8>, declared: u64 },
    /// Claims `Content-Length: declared` and sends that many zero bytes (or until the client
    /// leaves).
    Huge { declared: u64 },
}

#[derive(Default)]
struct State {
    overrides: HashMap<String, Behavior>,
    requests: Vec<String>,
    /// Responses written completely.
    served: usize,
    /// Requests from this position in the log on wait for [`Server::release`].
    hold_from: Option<usize>,
}

/// How long a test waits for the server to see something before it gives up: only a hung
/// client or server gets near it, so it bounds every wait without timing anything.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A loopback server over a directory.
pub struct Server {
    addr: std::net::SocketAddr,
    root: PathBuf,
    state: Arc<(Mutex<State>, Condvar)>,
    stop: Arc<AtomicBool>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Server {
    /// Serves `root` (files at their relative paths) on a free loopback port.
    pub fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp, rt) = (state.clone(), stop.clone(), root.to_path_buf());
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (st, sp, rt) = (st.clone(), sp.clone(), rt.clone());
                thread::spawn(move || handle(conn, &rt, &st, &sp));
            }
        });
        Server {
            addr,
            root: root.to_path_buf(),
            state,
            stop,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Answers `path` (e.g. `/v1/manifest`) with `b` from now on.
    pub fn set(&self, path: &str, b: Behavior) {
        self.lock().overrides.insert(path.to_owned(), b);
    }

    /// Serves `path` from the directory again.
    pub fn clear(&self, path: &str) {
        self.lock().overrides.remove(path);
    }

    /// Serves every path from the directory again.
    pub fn clear_all(&self) {
        self.lock().overrides.clear();
    }

    /// Every request head received so far (request line and headers).
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// Forgets the request log.
    pub fn reset_requests(&self) {
        self.lock().requests.clear();
    }

    /// The served directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.0.lock().unwrap()
    }

    /// Waits (at most [`PATIENCE`]) until `done(state)`; false if it never came.
    fn wait_until(&self, done: impl Fn(&State) -> bool) -> bool {
        let (lock, cv) = &*self.state;
        let guard = lock.lock().unwrap();
        let (guard, _) = cv
            .wait_timeout_while(guard, PATIENCE, |st| !done(st))
            .unwrap();
        done(&guard)
    }

    /// Requests from the `n`-th one on (0-based, counting every request received since the
    /// log was last reset) are held unanswered until [`Server::release`].
    pub fn hold_from(&self, n: usize) {
        self.lock().hold_from = Some(n);
    }

    /// Answers held requests and holds no more.
    pub fn release(&self) {
        self.lock().hold_from = None;
        self.state.1.notify_all();
    }

    /// Waits until `n` requests were received in all (at most [`PATIENCE`]).
    pub fn wait_requests(&self, n: usize) -> bool {
        self.wait_until(|st| st.requests.len() >= n)
    }

    /// Waits until `n` responses were written completely in all (at most [`PATIENCE`]).
    pub fn wait_served(&self, n: usize) -> bool {
        self.wait_until(|st| st.served >= n)
    }

    /// Responses written completely so far.
    pub fn served(&self) -> usize {
        self.lock().served
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.state.1.notify_all();
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn read_head(conn: &mut TcpStream) -> Option<String> {
    conn.set_read_timeout(Some(PATIENCE)).ok()?;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 || buf.len() > 16 * 1024 {
            return None;
        }
        buf.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

fn write_head(
    conn: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
) -> std::io::Result<()> {
    let mut s = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    conn.write_all(s.as_bytes())
}

fn etag_of(body: &[u8]) -> String {
    let d = fraudshield_core::release::keys::sha256(body);
    format!("\"{}\"", fraudshield_core::hex::encode(&d[..8]))
}

fn handle(mut conn: TcpStream, root: &Path, state: &(Mutex<State>, Condvar), stop: &AtomicBool) {
    let r = respond(&mut conn, root, state, stop);
    let (lock, cv) = state;
    if r.is_ok() {
        lock.lock().unwrap().served += 1;
    }
    cv.notify_all();
}

fn respond(
    conn: &mut TcpStream,
    root: &Path,
    state: &(Mutex<State>, Condvar),
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let Some(head) = read_head(conn) else {
        return Err(std::io::ErrorKind::InvalidData.into());
    };
    let path = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    let inm = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("if-none-match")
            .then(|| v.trim().to_owned())
    });
    let behavior = {
        let (lock, cv) = state;
        let mut st = lock.lock().unwrap();
        let index = st.requests.len();
        st.requests.push(head.clone());
        cv.notify_all();
        while st.hold_from.is_some_and(|h| index >= h) && !stop.load(Ordering::SeqCst) {
            st = cv.wait_timeout(st, PATIENCE).unwrap().0;
        }
        st.overrides.get(&path).cloned()
    };
    let _ = conn.set_write_timeout(Some(PATIENCE));
    let r = match behavior {
        None => {
            let file = root.join(path.trim_start_matches('/'));
            match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => {
                    let etag = etag_of(&body);
                    if inm.as_deref() == Some(etag.as_str()) {
                        write_head(conn, 304, &[("ETag".into(), etag)])
                    } else {
                        write_head(
                            conn,
                            200,
                            &[
                                ("Content-Length".into(), body.len().to_string()),
                                ("ETag".into(), etag),
                            ],
                        )
                        .and_then(|_| conn.write_all(&body))
                    }
                }
                _ => write_head(conn, 404, &[("Content-Length".into(), "0".into())]),
            }
        }
        Some(Behavior::Fixed {
            status,
            headers,
            body,
        }) => {
            let mut h = headers.clone();
            h.push(("Content-Length".into(), body.len().to_string()));
            write_head(conn, status, &h).and_then(|_| conn.write_all(&body))
        }
        Some(Behavior::Endless { max_bytes }) => {
            let mut r = write_head(conn, 200, &[]);
            let chunk = vec![0x41u8; 64 * 1024];
            let mut sent = 0u64;
            while r.is_ok() && sent < max_bytes && !stop.load(Ordering::SeqCst) {
                r = conn.write_all(&chunk);
                sent += chunk.len() as u64;
            }
            r
        }
        Some(Behavior::Stall { head, declared }) => {
            let h = [("Content-Length".to_string(), declared.to_string())];
            let r = write_head(conn, 200, &h)
                .and_then(|()| conn.write_all(&head))
                .and_then(|()| conn.flush());
            if r.is_ok() {
                // Wait for the client to hang up (a read returns 0 or fails) or the server to
                // stop; the short read timeout only lets this thread see the stop flag.
                let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
                let mut buf = [0u8; 64];
                while !stop.load(Ordering::SeqCst) {
                    match conn.read(&mut buf) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                            ) => {}
                        Err(_) => break,
                    }
                }
            }
            r
        }
        Some(Behavior::Huge { declared }) => {
            let h = [("Content-Length".to_string(), declared.to_string())];
            let mut r = write_head(conn, 200, &h);
            let chunk = vec![0u8; 64 * 1024];
            let mut sent = 0u64;
            while r.is_ok() && sent < declared && !stop.load(Ordering::SeqCst) {
                r = conn.write_all(&chunk);
                sent += chunk.len() as u64;
            }
            r
        }
    };
    r.and_then(|()| conn.flush())
}

/// A small deterministic random generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "170", "171", "173", "176", "177", "178", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
];
const AREA_CODES: &[&str] = &["10", "21", "20", "755", "571", "28", "27", "23", "25", "29"];

/// One realistic entry: 70% mobiles, 10% landlines, 12% bank cards, 6% QQ, 2% Alipay ids.
pub fn random_key(rng: &mut Rng) -> Key {
    let p = rng.below(100);
    if p < 70 {
        let pre = MOBILE_PREFIXES[rng.below(MOBILE_PREFIXES.len() as u64) as usize];
        Key::new(
            Kind::Phone,
            &format!("+86{pre}{:08}", rng.below(100_000_000)),
        )
    } else if p < 80 {
        let area = AREA_CODES[rng.below(AREA_CODES.len() as u64) as usize];
        let local = if area.len() == 2 {
            8
        } else {
            7 + rng.below(2) as usize
        };
        let first = 2 + rng.below(7);
        let rest = rng.below(10u64.pow(local as u32 - 1));
        Key::new(
            Kind::Phone,
            &format!("+86{area}{first}{rest:0w$}", w = local - 1),
        )
    } else if p < 92 {
        let len = [16usize, 19][rng.below(2) as usize];
        let bin = ["622202", "621700", "622848", "623668"][rng.below(4) as usize];
        let rest = (rng.next() as u128) << 64 | rng.next() as u128;
        let rest = rest % 10u128.pow((len - 6) as u32);
        Key::new(Kind::Bank, &format!("{bin}{rest:0w$}", w = len - 6))
    } else if p < 98 {
        let digits = 6 + rng.below(5) as u32;
        let lo = 10u64.pow(digits - 1);
        Key::new(Kind::Qq, &(lo + rng.below(9 * lo)).to_string())
    } else {
        Key::new(
            Kind::Alipay,
            &format!("2088{:012}", rng.below(1_000_000_000_000)),
        )
    }
}

/// A realistic value: mostly high-risk fraud categories, few report buckets.
pub fn random_value(rng: &mut Rng) -> EntryValue {
    EntryValue {
        category: Category::ALL[1 + rng.below(7) as usize],
        risk: [Risk::High, Risk::High, Risk::Medium, Risk::Low][rng.below(4) as usize],
        reports: ReportBucket::new([0u8, 1, 1, 2, 2, 3, 4][rng.below(7) as usize]).unwrap(),
        prefix: false,
    }
}

/// `n` distinct upserts.
pub fn initial_changes(rng: &mut Rng, n: usize) -> Vec<Change> {
    let mut seen = std::collections::BTreeMap::new();
    while seen.len() < n {
        seen.insert(random_key(rng), random_value(rng));
    }
    seen.into_iter()
        .map(|(k, v)| Change::Upsert(k, v))
        .collect()
}

/// A batch of `n` changes against `current`: 60% new entries, 25% value changes, 15% removals.
pub fn delta_changes(
    rng: &mut Rng,
    current: &std::collections::BTreeMap<Key, EntryValue>,
    n: usize,
) -> Vec<Change> {
    let keys: Vec<&Key> = current.keys().collect();
    let mut out = std::collections::BTreeMap::new();
    while out.len() < n {
        let p = rng.below(100);
        if p < 60 || keys.is_empty() {
            out.insert(
                random_key(rng),
                Change::Upsert(Key::new(Kind::Qq, "10000"), random_value(rng)),
            );
        } else {
            let k = keys[rng.below(keys.len() as u64) as usize].clone();
            let c = if p < 85 {
                Change::Upsert(k.clone(), random_value(rng))
            } else {
                Change::Remove(k.clone())
            };
            out.insert(k, c);
        }
    }
    out.into_iter()
        .map(|(k, c)| match c {
            Change::Upsert(_, v) => Change::Upsert(k, v),
            Change::Remove(_) => Change::Remove(k),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// A publisher, a server over its directory and a client store: the whole update path.

use fraudshield_core::digest::LtHash;
use fraudshield_core::identifier::normalize;
use fraudshield_core::release::keys::{KeySet, SigningKey};
use fraudshield_core::release::publisher::{PublishConfig, Publisher};
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::sync::http::HttpTransport;
use fraudshield_core::sync::{SyncConfig, SyncError, SyncReport};
use fraudshield_core::verdict::{Direction, Source};
use std::collections::BTreeMap;

/// Gives every world of a test binary its own content.
static SEEDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Fixed "now" for tests: 2026-01-01T00:00:00Z.
pub const NOW: i64 = 1_767_225_600;

pub struct World {
    pub tmp: tempfile::TempDir,
    pub key: SigningKey,
    pub publisher: Publisher,
    pub server: Server,
    pub transport: HttpTransport,
    /// Full list after each release (index = release).
    pub history: Vec<BTreeMap<Key, EntryValue>>,
    pub rng: Rng,
}

impl World {
    /// A publisher with release 1 of `n` entries, served on loopback.
    pub fn new(n: usize) -> World {
        World::with_config(n, PublishConfig::default())
    }

    pub fn with_config(n: usize, config: PublishConfig) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let key = SigningKey::generate().unwrap();
        let publisher = Publisher::create(&tmp.path().join("pub"), "cn-test", config).unwrap();
        let server = Server::start(&tmp.path().join("pub"));
        let mut w = World {
            tmp,
            key,
            publisher,
            server,
            transport: HttpTransport::new().unwrap(),
            history: vec![BTreeMap::new()],
            rng: Rng::new(n as u64 ^ 0x5eed ^ SEEDS.fetch_add(1, Ordering::SeqCst) << 32),
        };
        let changes = initial_changes(&mut w.rng, n);
        w.publish(&changes);
        w
    }

    pub fn trust(&self) -> KeySet {
        KeySet::new(vec![self.key.public()], 1).unwrap()
    }

    pub fn config(&self) -> SyncConfig {
        let mut c = SyncConfig::new(&self.server.url(), self.trust());
        // Generous: a busy machine must not turn a slow answer into a failure. The tests of
        // the deadline itself set their own.
        c.request_timeout = PATIENCE;
        c
    }

    /// Publishes `changes` as the next release at time NOW.
    pub fn publish(&mut self, changes: &[Change]) -> u64 {
        let r = self
            .publisher
            .publish(changes, &[&self.key], NOW)
            .unwrap()
            .release;
        self.history.push(self.publisher.entries().clone());
        assert_eq!(self.history.len() as u64, r + 1);
        r
    }

    /// Publishes a batch of `n` random changes.
    pub fn publish_random(&mut self, n: usize) -> u64 {
        let cur = self.publisher.entries().clone();
        let changes = delta_changes(&mut self.rng, &cur, n);
        self.publish(&changes)
    }

    pub fn store_dir(&self) -> PathBuf {
        self.tmp.path().join("phone")
    }

    pub fn open_store(&self) -> Store {
        Store::open(&self.store_dir(), StoreOptions::default()).unwrap()
    }

    pub fn sync(&self, store: &Store) -> Result<SyncReport, SyncError> {
        fraudshield_core::sync::sync(store, &self.transport, &self.config(), NOW)
    }

    pub fn sync_with(
        &self,
        store: &Store,
        config: &SyncConfig,
        now: i64,
    ) -> Result<SyncReport, SyncError> {
        fraudshield_core::sync::sync(store, &self.transport, config, now)
    }

    /// Serves release `publisher.release() + 1` made of `changes` as one delta, signed by the
    /// world's key but cut without the publisher (and so without its rules): what a buggy or
    /// compromised publisher could send. The publisher itself does not change.
    pub fn forge_release(&mut self, changes: &[Change]) -> u64 {
        use fraudshield_core::release::keys::sha256;
        use fraudshield_core::release::manifest::{ArtifactKind, ArtifactRef};
        use fraudshield_core::release::wire;
        let from = self.publisher.release();
        let n = from + 1;
        let mut next = self.history.last().unwrap().clone();
        for c in changes {
            match c {
                Change::Upsert(k, v) => next.insert(k.clone(), *v),
                Change::Remove(k) => next.remove(k),
            };
        }
        let bytes = wire::encode_delta("cn-test", from, n, changes, None);
        let sha = sha256(&bytes);
        let path = format!(
            "artifacts/forged-{}.fsw",
            fraudshield_core::hex::encode(&sha)
        );
        std::fs::write(self.pub_dir().join(&path), &bytes).unwrap();
        let lt = LtHash::of_entries(next.iter().map(|(k, v)| (k.as_bytes(), v.pack())));
        let m = Manifest {
            list_id: "cn-test".into(),
            release: n,
            created_at: NOW,
            expires_at: NOW + 86_400,
            state_digest: lt.digest().0,
            entry_count: next.len() as u64,
            artifacts: vec![ArtifactRef {
                kind: ArtifactKind::Delta,
                from_release: from,
                size: bytes.len() as u64,
                sha256: sha,
                path,
            }],
        };
        let bundle = Bundle {
            rotations: self.publisher.rotations().to_vec(),
            manifest: Envelope::sign(PayloadType::Manifest, m.encode(), &[&self.key]),
        };
        serve(&self.server, "/v1/manifest", bundle.encode());
        self.history.push(next);
        n
    }

    pub fn pub_dir(&self) -> PathBuf {
        self.tmp.path().join("pub")
    }

    pub fn manifest_bytes(&self) -> Vec<u8> {
        std::fs::read(self.pub_dir().join("v1/manifest")).unwrap()
    }
}

/// Lookups answer exactly from release `release`: version, digest, and per-entry verdicts for
/// a sample of mobile numbers (on the list, and removed since `previous` releases).
pub fn assert_serves(store: &Store, history: &[BTreeMap<Key, EntryValue>], release: u64) {
    let expected = &history[release as usize];
    assert_eq!(store.list_version(), release, "list version");
    let lt = LtHash::of_entries(expected.iter().map(|(k, v)| (k.as_bytes(), v.pack())));
    assert_eq!(
        store.digest(),
        lt.digest(),
        "state digest of release {release}"
    );
    let view = store.view();
    let mobiles = expected
        .iter()
        .filter(|(k, v)| k.kind() == Kind::Phone && k.canonical().len() == 14 && !v.prefix);
    for (k, v) in mobiles.take(100) {
        let id = normalize(Kind::Phone, k.canonical()).unwrap();
        let verdict = view.check(&id, Direction::Incoming);
        if verdict.source == Source::Protected {
            continue; // protected numbers answer "protected" whatever the list says
        }
        assert_eq!(verdict.source, Source::Exact);
        assert_eq!(verdict.risk, Some(v.risk));
    }
    // Keys of other releases that this one does not hold answer "none".
    let mut absent = 0;
    for h in history {
        for k in h.keys().filter(|k| {
            k.kind() == Kind::Phone
                && k.canonical().starts_with("+861")
                && !expected.contains_key(*k)
        }) {
            let id = normalize(Kind::Phone, k.canonical()).unwrap();
            assert_eq!(view.check(&id, Direction::Incoming).source, Source::None);
            absent += 1;
            if absent > 50 {
                return;
            }
        }
    }
}

use fraudshield_core::release::manifest::Manifest;
use fraudshield_core::release::signed::{Bundle, Envelope, PayloadType};

/// Re-signs the bundle `bytes` after `edit`ing its manifest, with `signers`.
pub fn resign(bytes: &[u8], edit: impl FnOnce(&mut Manifest), signers: &[&SigningKey]) -> Vec<u8> {
    let mut bundle = Bundle::decode(bytes).unwrap();
    let mut m = Manifest::decode(&bundle.manifest.payload).unwrap();
    edit(&mut m);
    bundle.manifest = Envelope::sign(PayloadType::Manifest, m.encode(), signers);
    bundle.encode()
}

/// Serves `body` with status 200 at `path`.
pub fn serve(server: &Server, path: &str, body: Vec<u8>) {
    server.set(
        path,
        Behavior::Fixed {
            status: 200,
            headers: vec![],
            body,
        },
    );
}

/// The manifest in the bundle `bytes`.
pub fn manifest_of(bytes: &[u8]) -> Manifest {
    Manifest::decode(&Bundle::decode(bytes).unwrap().manifest.payload).unwrap()
}
