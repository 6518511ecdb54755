//! The facade an app holds, tested only through it: every check kind, message spans in UTF-16,
//! user lists and protected numbers, status and freshness, syncs against the loopback test
//! server (`sync_support`), the citizen report outbox against a scripted intake, the Call
//! Directory export, damage, and lookups from many threads while syncs land.
#![allow(clippy::unwrap_used)]

mod sync_support;

use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::scan::{Reason, Shape};
use fraudshield_core::shield::{
    CallDirectoryUpdate, CitizenReport, ReportState, Shield, ShieldConfig, ShieldError,
};
use fraudshield_core::store::UserList;
use fraudshield_core::sync::transport::{
    HttpHeader, HttpMethod, HttpRequest, HttpResponse, Transport, TransportError,
};
use fraudshield_core::sync::{Freshness, UpdatePath};
use fraudshield_core::verdict::{Action, Direction, Source};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use sync_support::{Behavior, NOW, PATIENCE, World};

const TOKEN: &str = "reporter-token-for-tests";

fn value(category: Category, risk: Risk, prefix: bool) -> EntryValue {
    EntryValue {
        category,
        risk,
        reports: ReportBucket::from_count(12),
        prefix,
    }
}

/// The entries the tests look up, next to the world's random ones.
fn known_changes() -> Vec<Change> {
    vec![
        Change::Upsert(
            Key::new(Kind::Phone, "+8613800138000"),
            value(Category::PoliceImpersonation, Risk::High, false),
        ),
        Change::Upsert(
            Key::new(Kind::Phone, "+8617100"),
            value(Category::Investment, Risk::High, true),
        ),
        Change::Upsert(
            Key::new(Kind::Bank, "6222021234567890123"),
            value(Category::Refund, Risk::High, false),
        ),
        Change::Upsert(
            Key::new(Kind::Qq, "87654321"),
            value(Category::Job, Risk::Medium, false),
        ),
        Change::Upsert(
            Key::new(Kind::Alipay, "2088123412341234"),
            value(Category::Loan, Risk::Low, false),
        ),
        Change::Upsert(
            Key::new(Kind::Phone, "+8613900139000"),
            value(Category::CustomerService, Risk::High, false),
        ),
    ]
}

/// A world whose release 2 holds `n` random entries plus the known ones.
fn world(n: usize) -> World {
    let mut w = World::new(n);
    w.publish(&known_changes());
    w
}

fn config(w: &World) -> ShieldConfig {
    let mut c = ShieldConfig::new(&w.server.url(), &w.trust().to_trust_file());
    // Generous: a busy machine must not turn a slow loopback answer into a failure.
    c.request_timeout_ms = PATIENCE.as_millis() as u64;
    c.reporter_token = Some(TOKEN.to_string());
    c
}

fn open(w: &World) -> Shield {
    Shield::open(w.store_dir(), config(w)).unwrap()
}

#[test]
fn every_check_kind_answers_from_the_synced_list() {
    let w = world(200);
    let shield = open(&w);
    let summary = shield.sync_at(&w.transport, NOW).unwrap();
    assert_eq!(summary.list.release, 2);
    assert_eq!(summary.list.path, UpdatePath::Snapshot);

    let v = shield
        .check_call("+86 138-0013-8000", Direction::Incoming)
        .unwrap();
    assert_eq!((v.action, v.source), (Action::Block, Source::Exact));
    assert_eq!(v.category, Some(Category::PoliceImpersonation));
    assert_eq!(v.list_version, 2);
    // Calling a flagged number yourself: a warning, never a silent drop.
    let v = shield
        .check_call("13800138000", Direction::Outgoing)
        .unwrap();
    assert_eq!(v.action, Action::Warn);
    // A prefix rule: softer than an exact entry.
    let v = shield
        .check_call("17100123456", Direction::Incoming)
        .unwrap();
    assert_eq!((v.action, v.source), (Action::Warn, Source::Prefix));

    let v = shield
        .check_bank_account("6222 0212 3456 7890 123")
        .unwrap();
    assert_eq!(
        (v.action, v.category),
        (Action::Block, Some(Category::Refund))
    );
    let v = shield.check_qq("87654321").unwrap();
    assert_eq!((v.action, v.risk), (Action::Warn, Some(Risk::Medium)));
    let v = shield.check_alipay("2088123412341234").unwrap();
    assert_eq!((v.action, v.source), (Action::Warn, Source::Exact));
    let v = shield
        .check(Kind::Qq, "12345", Direction::Incoming)
        .unwrap();
    assert_eq!((v.action, v.source), (Action::Allow, Source::None));
    assert_eq!(
        shield.canonical(Kind::Phone, "0086 138 0013 8000").unwrap(),
        "+8613800138000"
    );

    // Bad input: an error an app can act on, never holding the value.
    for (kind, raw) in [
        (Kind::Qq, "0123456"),
        (Kind::Bank, "77"),
        (Kind::Phone, "abc"),
        (Kind::Alipay, ""),
    ] {
        match shield.check(kind, raw, Direction::Incoming) {
            Err(ShieldError::InvalidInput { reason }) => {
                assert!(raw.is_empty() || !reason.contains(raw), "{reason}")
            }
            other => panic!("{kind} {raw:?}: {other:?}"),
        }
    }
}

#[test]
fn the_policy_in_the_config_decides_and_unallocated_ranges_say_so() {
    let w = world(20);
    let mut c = config(&w);
    c.policy.exact_incoming.medium = Action::Block;
    c.policy.unallocated_incoming = Action::Block;
    let shield = Shield::open(w.store_dir(), c).unwrap();
    shield.sync_at(&w.transport, NOW).unwrap();
    assert_eq!(shield.check_qq("87654321").unwrap().action, Action::Block);
    // A caller id from a range no operator was given: looked up, never an error.
    let v = shield
        .check_call("143 1234 5678", Direction::Incoming)
        .unwrap();
    assert_eq!(
        (v.action, v.source),
        (Action::Block, Source::UnallocatedRange)
    );
    let v = shield
        .check_call("+86 160 1234 5678", Direction::Outgoing)
        .unwrap();
    assert_eq!(
        (v.action, v.source),
        (Action::Allow, Source::UnallocatedRange)
    );
}

#[test]
fn message_findings_carry_utf16_spans_and_verdicts() {
    let w = world(50);
    let shield = open(&w);
    shield.sync_at(&w.transport, NOW).unwrap();
    // Emoji and an astral symbol (surrogate pairs), Chinese (3 bytes, 1 unit), full-width digits.
    let text = "😀𝄞【通知】您好🎉请拨打 138 0013 8000 联系客服，或加QQ：87654321 👍转账到卡号 6222 0212 3456 7890 123，谢谢😊";
    let found = shield.check_message(text);
    let raws = ["138 0013 8000", "87654321", "6222 0212 3456 7890 123"];
    assert_eq!(found.len(), raws.len(), "{found:?}");
    let utf16: Vec<u16> = text.encode_utf16().collect();
    for (f, raw) in found.iter().zip(raws) {
        let byte = text.find(raw).unwrap();
        let start = text[..byte].encode_utf16().count() as u32;
        let end = start + raw.encode_utf16().count() as u32;
        assert_eq!((f.start_utf16, f.end_utf16), (start, end), "{raw}");
        let span = &utf16[f.start_utf16 as usize..f.end_utf16 as usize];
        assert_eq!(String::from_utf16(span).unwrap(), raw);
    }
    assert_eq!(found[0].kind, Kind::Phone);
    assert_eq!(found[0].canonical, "+8613800138000");
    assert_eq!(found[0].verdict.action, Action::Block);
    assert_eq!(
        found[0].reason,
        Reason::Shape {
            shape: Shape::Mobile
        }
    );
    assert_eq!(found[1].kind, Kind::Qq);
    assert_eq!(found[1].verdict.source, Source::Exact);
    assert!(matches!(&found[1].reason, Reason::Context { word } if word == "qq"));
    assert_eq!(found[2].kind, Kind::Bank);
    assert_eq!(found[2].verdict.category, Some(Category::Refund));
    // Full-width digits count one unit each; nothing found gives an empty list.
    let fw = shield.check_message("🙂电话１３８００１３８０００");
    assert_eq!((fw[0].start_utf16, fw[0].end_utf16), (4, 15));
    assert!(shield.check_message("你好😀，今天天气不错").is_empty());
}

#[test]
fn user_lists_and_protected_numbers() {
    let w = world(20);
    let shield = open(&w);
    shield.sync_at(&w.transport, NOW).unwrap();

    shield.allow(Kind::Phone, "13800138000").unwrap();
    let v = shield
        .check_call("+8613800138000", Direction::Incoming)
        .unwrap();
    assert_eq!((v.action, v.source), (Action::Allow, Source::UserAllow));
    assert_eq!(
        shield.user_list(Kind::Phone, "138 0013 8000").unwrap(),
        Some(UserList::Allow)
    );
    shield.block(Kind::Qq, "55555555").unwrap();
    assert_eq!(shield.check_qq("55555555").unwrap().action, Action::Block);
    assert!(
        shield
            .remove_from_user_lists(Kind::Phone, "13800138000")
            .unwrap()
    );
    assert!(
        !shield
            .remove_from_user_lists(Kind::Phone, "13800138000")
            .unwrap()
    );
    assert_eq!(
        shield
            .check_call("13800138000", Direction::Incoming)
            .unwrap()
            .source,
        Source::Exact
    );

    // Protection beats the list and the user's own block list.
    shield.block(Kind::Phone, "13900139000").unwrap();
    shield.protect(Kind::Phone, "13900139000").unwrap();
    let v = shield
        .check_call("13900139000", Direction::Incoming)
        .unwrap();
    assert_eq!((v.action, v.source), (Action::Allow, Source::Protected));
    assert!(shield.unprotect(Kind::Phone, "13900139000").unwrap());
    assert_eq!(
        shield
            .check_call("13900139000", Direction::Incoming)
            .unwrap()
            .source,
        Source::UserBlock
    );
    assert!(matches!(
        shield.unprotect(Kind::Phone, "110"),
        Err(ShieldError::InvalidInput { .. })
    ));
    let st = shield.status_at(NOW);
    assert_eq!((st.user_allowed, st.user_blocked), (0, 2));
    assert!(st.protected >= 6);
    // A settings screen lists them.
    shield.allow(Kind::Alipay, "User@Example.com").unwrap();
    let entries = shield.user_list_entries();
    let listed: Vec<(Kind, &str, UserList)> = entries
        .iter()
        .map(|e| (e.kind, e.canonical.as_str(), e.list))
        .collect();
    assert_eq!(
        listed,
        vec![
            (Kind::Phone, "+8613900139000", UserList::Block),
            (Kind::Qq, "55555555", UserList::Block),
            (Kind::Alipay, "user@example.com", UserList::Allow),
        ]
    );
    shield.protect(Kind::Bank, "6222021234567890123").unwrap();
    let protected = shield.protected_entries();
    assert!(protected.iter().any(|p| p.canonical == "110" && p.builtin));
    assert!(
        protected
            .iter()
            .any(|p| p.canonical == "12345" && p.builtin)
    );
    assert!(
        protected
            .iter()
            .any(|p| p.kind == Kind::Bank && p.canonical == "6222021234567890123" && !p.builtin)
    );
    assert_eq!(protected.iter().filter(|p| !p.builtin).count(), 1);
    assert!(!format!("{entries:?}{protected:?}").contains("55555555"));
}

#[test]
fn status_reports_entries_release_freshness_and_staleness() {
    let w = world(100);
    let shield = open(&w);
    let st = shield.status_at(NOW);
    assert_eq!((st.entries, st.release), (0, 0));
    assert_eq!(st.freshness, Freshness::Never);
    assert!(!st.degraded);

    shield.sync_at(&w.transport, NOW).unwrap();
    let st = shield.status_at(NOW);
    assert_eq!(st.release, 2);
    assert_eq!(st.entries, w.history[2].len() as u64);
    assert_eq!(st.state_digest.len(), 64);
    let Freshness::Fresh {
        release,
        expires_at,
    } = st.freshness
    else {
        panic!("{:?}", st.freshness)
    };
    assert_eq!(release, 2);
    // Past expiry plus the skew tolerance the list is stale; lookups keep working.
    let later = expires_at + 601;
    assert_eq!(
        shield.status_at(later).freshness,
        Freshness::Stale {
            release: 2,
            since: expires_at
        }
    );
    assert_eq!(
        shield
            .check_call("13800138000", Direction::Incoming)
            .unwrap()
            .action,
        Action::Block
    );
    // A sync that finds only the expired manifest says so, and keeps the list.
    assert!(matches!(
        shield.sync_at(&w.transport, later),
        Err(ShieldError::VerificationFailed { .. })
    ));
    assert_eq!(shield.status_at(later).release, 2);
    shield.verify().unwrap();
}

#[test]
fn sync_errors_map_to_what_an_app_acts_on() {
    let w = world(20);
    let shield = open(&w);
    // The server asks to wait: the app learns how long, and no request goes out meanwhile.
    w.server.set(
        "/v1/manifest",
        Behavior::Fixed {
            status: 429,
            headers: vec![("Retry-After".into(), "120".into())],
            body: vec![],
        },
    );
    assert_eq!(
        shield.sync_at(&w.transport, NOW).unwrap_err(),
        ShieldError::Backoff { seconds: 120 }
    );
    let before = w.server.request_count();
    assert_eq!(
        shield.sync_at(&w.transport, NOW + 60).unwrap_err(),
        ShieldError::Backoff { seconds: 60 }
    );
    assert_eq!(w.server.request_count(), before);
    // A tampered manifest is refused; the list stays as it was.
    let mut bytes = w.manifest_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    sync_support::serve(&w.server, "/v1/manifest", bytes);
    assert!(matches!(
        shield.sync_at(&w.transport, NOW + 121),
        Err(ShieldError::VerificationFailed { .. })
    ));
    assert_eq!(shield.status_at(NOW).release, 0);
    // A server error is a network problem.
    w.server.set(
        "/v1/manifest",
        Behavior::Fixed {
            status: 500,
            headers: vec![],
            body: vec![],
        },
    );
    assert!(matches!(
        shield.sync_at(&w.transport, NOW + 122),
        Err(ShieldError::Network { .. })
    ));
    w.server.clear_all();
    assert_eq!(
        shield
            .sync_at(&w.transport, NOW + 123)
            .unwrap()
            .list
            .release,
        2
    );
}

#[test]
fn bad_configuration_is_refused_before_touching_the_directory() {
    let w = world(1);
    let mut c = config(&w);
    c.trusted_keys = "ed25519 nonsense".to_string();
    assert!(matches!(
        Shield::open(w.store_dir(), c),
        Err(ShieldError::InvalidInput { .. })
    ));
    let mut c = config(&w);
    c.server_url = "lists.example.org".to_string();
    assert!(matches!(
        Shield::open(w.store_dir(), c),
        Err(ShieldError::InvalidInput { .. })
    ));
    assert!(!w.store_dir().exists());
    // One shield per directory.
    let first = open(&w);
    assert!(matches!(
        Shield::open(w.store_dir(), config(&w)),
        Err(ShieldError::Storage { .. })
    ));
    drop(first);
    open(&w);
}

// ---------------------------------------------------------------------------------------------
// Citizen reports

/// How the scripted intake answers the next POST.
enum Answer {
    /// The real contract: 201 with a tracking id; a repeated client id gets the same one.
    Created,
    Status(u16, &'static str, Vec<(&'static str, &'static str)>),
    /// Never reaches the server.
    NetworkDown,
    /// The server records the report, the answer is lost on the way back.
    ResponseLost,
    /// The server records the report, then the app dies before it hears back.
    CrashAfterUpload,
}

type MergeKey = (String, String, String);

/// A report intake that follows the server contract, with scripted misbehaviour; GETs go to
/// the loopback list server when there is one. Like the server, it merges a repeat from the
/// same client about the same identifier into the first report (its merge window is not
/// modelled: the tests retry within 15 minutes).
#[derive(Default)]
struct Intake {
    list: Option<sync_support::World>,
    script: Mutex<VecDeque<Answer>>,
    /// (client_id, kind, value) → (tracking id, the body the server kept).
    kept: Mutex<HashMap<MergeKey, (String, serde_json::Value)>>,
    posts: AtomicUsize,
    last_headers: Mutex<Vec<HttpHeader>>,
}

impl Intake {
    fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.script.lock().unwrap().extend(answers);
    }

    fn record(&self, body: &[u8]) -> String {
        let body: serde_json::Value = serde_json::from_slice(body).unwrap();
        let field = |f: &str| body[f].as_str().unwrap().to_string();
        let merge_key = (field("client_id"), field("kind"), field("value"));
        let mut kept = self.kept.lock().unwrap();
        let n = kept.len();
        kept.entry(merge_key)
            .or_insert_with(|| (format!("T-{}", n + 1), body))
            .0
            .clone()
    }

    fn created(tracking_id: &str) -> HttpResponse {
        HttpResponse {
            status: 201,
            headers: vec![],
            body: format!(r#"{{"tracking_id":"{tracking_id}","status":"received"}}"#).into_bytes(),
        }
    }
}

impl Transport for Intake {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if request.method == HttpMethod::Get {
            return match &self.list {
                Some(w) => w.transport.send(request),
                None => Ok(HttpResponse {
                    status: 404,
                    ..Default::default()
                }),
            };
        }
        assert!(request.url.ends_with("/v1/reports"), "{}", request.url);
        self.posts.fetch_add(1, Ordering::SeqCst);
        *self.last_headers.lock().unwrap() = request.headers.clone();
        let answer = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Answer::Created);
        match answer {
            Answer::Created => Ok(Intake::created(&self.record(&request.body))),
            Answer::Status(status, body, headers) => Ok(HttpResponse {
                status,
                headers: headers
                    .into_iter()
                    .map(|(n, v)| HttpHeader {
                        name: n.into(),
                        value: v.into(),
                    })
                    .collect(),
                body: body.as_bytes().to_vec(),
            }),
            Answer::NetworkDown => Err(TransportError::Connection {
                reason: "connection refused".into(),
            }),
            Answer::ResponseLost => {
                self.record(&request.body);
                Err(TransportError::Timeout)
            }
            Answer::CrashAfterUpload => {
                self.record(&request.body);
                panic!("the app died after the upload");
            }
        }
    }
}

fn report(kind: Kind, value: &str) -> CitizenReport {
    CitizenReport {
        kind,
        value: value.to_string(),
        category: Category::PoliceImpersonation,
        text: "自称公安局，说我涉嫌洗钱，要求转账到安全账户".to_string(),
        contact: None,
    }
}

fn state_of(shield: &Shield, id: u64) -> ReportState {
    shield
        .reports()
        .unwrap()
        .into_iter()
        .find(|r| r.id == id)
        .unwrap()
        .state
}

fn dir_and_config() -> (tempfile::TempDir, ShieldConfig) {
    let dir = tempfile::tempdir().unwrap();
    let trust = fraudshield_core::release::keys::KeySet::new(
        vec![
            fraudshield_core::release::keys::SigningKey::generate()
                .unwrap()
                .public(),
        ],
        1,
    )
    .unwrap();
    let mut c = ShieldConfig::new("http://127.0.0.1:9/", &trust.to_trust_file());
    c.reporter_token = Some(TOKEN.to_string());
    (dir, c)
}

#[test]
fn a_report_is_uploaded_per_the_contract_and_keeps_its_tracking_id() {
    let (dir, config) = dir_and_config();
    let shield = Shield::open(dir.path().join("s"), config).unwrap();
    let intake = Intake::default();
    let mut r = report(Kind::Phone, "+86 138-0013-8000");
    r.contact = Some("微信 wxid_abc".to_string());
    let queued = shield.queue_report(r).unwrap();
    assert_eq!(queued.state, ReportState::Pending { next_attempt_at: 0 });
    assert_eq!(shield.status_at(NOW).reports.pending, 1);

    let round = shield.send_reports_at(&intake, NOW).unwrap();
    assert_eq!((round.sent, round.failed, round.pending), (1, 0, 0));
    let kept = intake.kept.lock().unwrap();
    let (tracking_id, body) = kept.values().next().unwrap();
    // The body the contract names, the value as typed.
    assert_eq!(body["kind"], "phone");
    assert_eq!(body["value"], "+86 138-0013-8000");
    assert_eq!(body["category"], "police_impersonation");
    assert_eq!(body["text"], "自称公安局，说我涉嫌洗钱，要求转账到安全账户");
    assert_eq!(body["contact"], "微信 wxid_abc");
    assert!(body["client_id"].as_str().unwrap().len() <= 64);
    let client_id = body["client_id"].clone();
    let headers = intake.last_headers.lock().unwrap().clone();
    let header = |n: &str| {
        headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(n))
            .map(|h| h.value.clone())
    };
    assert_eq!(header("authorization"), Some(format!("Bearer {TOKEN}")));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));

    let sent = shield.reports().unwrap();
    assert_eq!(
        sent[0].state,
        ReportState::Sent {
            tracking_id: tracking_id.clone(),
            sent_at: NOW
        }
    );
    // What the citizen wrote left the device with the upload; the receipt stays.
    assert_eq!(sent[0].value, None);
    let st = shield.status_at(NOW).reports;
    assert_eq!((st.pending, st.sent, st.failed), (0, 1, 0));
    // Nothing more to send.
    drop(kept);
    shield.send_reports_at(&intake, NOW + 1).unwrap();
    assert_eq!(intake.posts.load(Ordering::SeqCst), 1);
    // Another report from this installation carries the same client id (one reporter).
    shield.queue_report(report(Kind::Qq, "87654321")).unwrap();
    shield.send_reports_at(&intake, NOW + 2).unwrap();
    let kept = intake.kept.lock().unwrap();
    assert_eq!(kept.len(), 2);
    assert!(kept.values().all(|(_, b)| b["client_id"] == client_id));
}

#[test]
fn a_refused_report_is_kept_failed_and_not_retried_until_asked() {
    let (dir, config) = dir_and_config();
    let shield = Shield::open(dir.path(), config).unwrap();
    let intake = Intake::default();
    let a = shield.queue_report(report(Kind::Qq, "87654321")).unwrap();
    let b = shield
        .queue_report(report(Kind::Bank, "6222021234567890123"))
        .unwrap();
    intake.script([Answer::Status(
        400,
        r#"{"error":{"code":"invalid_category","message":"unknown category"}}"#,
        vec![],
    )]);
    let round = shield.send_reports_at(&intake, NOW).unwrap();
    // The refusal does not stop the round: the next report goes through.
    assert_eq!((round.sent, round.failed, round.pending), (1, 1, 0));
    assert_eq!(
        state_of(&shield, a.id),
        ReportState::Failed {
            code: "invalid_category".into(),
            message: "unknown category".into()
        }
    );
    assert!(matches!(state_of(&shield, b.id), ReportState::Sent { .. }));
    shield.send_reports_at(&intake, NOW + 3600).unwrap();
    assert_eq!(
        intake.posts.load(Ordering::SeqCst),
        2,
        "a failed report is not retried"
    );
    // The app may send it again on the user's word, or remove it.
    assert!(shield.retry_report(a.id).unwrap());
    assert_eq!(shield.send_reports_at(&intake, NOW + 3601).unwrap().sent, 1);
    assert!(matches!(state_of(&shield, a.id), ReportState::Sent { .. }));
    assert!(shield.remove_report(a.id).unwrap());
    assert_eq!(shield.reports().unwrap().len(), 1);
}

#[test]
fn rate_limits_network_errors_and_server_errors_retry_later_with_backoff() {
    let (dir, config) = dir_and_config();
    let shield = Shield::open(dir.path(), config).unwrap();
    let intake = Intake::default();
    let a = shield
        .queue_report(report(Kind::Phone, "13800138000"))
        .unwrap();
    shield
        .queue_report(report(Kind::Alipay, "2088123412341234"))
        .unwrap();

    // 429: the whole outbox waits Retry-After; nothing is lost or failed.
    intake.script([Answer::Status(429, "", vec![("Retry-After", "120")])]);
    let round = shield.send_reports_at(&intake, NOW).unwrap();
    assert_eq!(
        (round.sent, round.pending, round.retry_after_secs),
        (0, 2, Some(120))
    );
    assert_eq!(
        shield
            .send_reports_at(&intake, NOW + 60)
            .unwrap()
            .retry_after_secs,
        Some(60)
    );
    assert_eq!(
        intake.posts.load(Ordering::SeqCst),
        1,
        "no request during the backoff"
    );

    // A network error: this report waits a minute, the round stops (the network is down).
    intake.script([Answer::NetworkDown]);
    let round = shield.send_reports_at(&intake, NOW + 121).unwrap();
    assert_eq!((round.sent, round.pending), (0, 2));
    assert_eq!(intake.posts.load(Ordering::SeqCst), 2);
    assert_eq!(
        state_of(&shield, a.id),
        ReportState::Pending {
            next_attempt_at: NOW + 121 + 60
        }
    );
    // A 5xx on the other report, which was not tried yet; the first is not due.
    intake.script([Answer::Status(503, "", vec![])]);
    let round = shield.send_reports_at(&intake, NOW + 122).unwrap();
    assert_eq!((round.sent, round.pending), (0, 2));
    assert_eq!(intake.posts.load(Ordering::SeqCst), 3);
    // A second network failure of the first report doubles its wait.
    intake.script([Answer::NetworkDown]);
    shield.send_reports_at(&intake, NOW + 181).unwrap();
    assert_eq!(
        state_of(&shield, a.id),
        ReportState::Pending {
            next_attempt_at: NOW + 181 + 120
        }
    );
    // Later, both go.
    let round = shield.send_reports_at(&intake, NOW + 400).unwrap();
    assert_eq!((round.sent, round.pending, round.failed), (2, 0, 0));
    assert_eq!(intake.kept.lock().unwrap().len(), 2);
    let r = shield.reports().unwrap();
    assert!(
        r.iter()
            .all(|r| matches!(r.state, ReportState::Sent { .. }))
    );
    assert_eq!(r.iter().find(|x| x.id == a.id).unwrap().attempts, 3);
}

#[test]
fn an_upload_whose_answer_is_lost_is_sent_again_and_merged_by_the_server() {
    let (dir, config) = dir_and_config();
    let shield = Shield::open(dir.path(), config).unwrap();
    let intake = Intake::default();
    let a = shield
        .queue_report(report(Kind::Phone, "13800138000"))
        .unwrap();
    intake.script([Answer::ResponseLost]);
    shield.send_reports_at(&intake, NOW).unwrap();
    assert!(matches!(
        state_of(&shield, a.id),
        ReportState::Pending { .. }
    ));
    // Not due yet, then due a minute later (well inside the server's merge window).
    shield.send_reports_at(&intake, NOW + 30).unwrap();
    assert_eq!(intake.posts.load(Ordering::SeqCst), 1);
    shield.send_reports_at(&intake, NOW + 61).unwrap();
    assert_eq!(intake.posts.load(Ordering::SeqCst), 2);
    // The server saw one report (twice), the phone holds its tracking id.
    let kept = intake.kept.lock().unwrap();
    assert_eq!(kept.len(), 1);
    let tracking = kept.values().next().unwrap().0.clone();
    assert_eq!(
        state_of(&shield, a.id),
        ReportState::Sent {
            tracking_id: tracking,
            sent_at: NOW + 61
        }
    );
}

#[test]
fn a_crash_between_upload_and_bookkeeping_neither_loses_nor_duplicates_a_report() {
    let (dir, config) = dir_and_config();
    let intake = Intake::default();
    let id = {
        let shield = Shield::open(dir.path(), config.clone()).unwrap();
        let a = shield
            .queue_report(report(Kind::Phone, "13800138000"))
            .unwrap();
        intake.script([Answer::CrashAfterUpload]);
        let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            shield.send_reports_at(&intake, NOW)
        }));
        assert!(crashed.is_err());
        // Through the FFI the panic becomes an exception and the app carries on: the report is
        // still pending and the outbox still works.
        assert!(matches!(
            state_of(&shield, a.id),
            ReportState::Pending { .. }
        ));
        shield.queue_report(report(Kind::Qq, "87654321")).unwrap();
        assert!(shield.remove_report(a.id + 1).unwrap());
        a.id
        // The shield is dropped here, as the process would be.
    };
    let shield = Shield::open(dir.path(), config).unwrap();
    assert!(matches!(state_of(&shield, id), ReportState::Pending { .. }));
    let round = shield.send_reports_at(&intake, NOW + 10).unwrap();
    assert_eq!(round.sent, 1);
    let kept = intake.kept.lock().unwrap();
    assert_eq!(intake.posts.load(Ordering::SeqCst), 2);
    assert_eq!(kept.len(), 1, "one report at the server");
    assert!(
        matches!(state_of(&shield, id), ReportState::Sent { ref tracking_id, .. } if tracking_id == "T-1")
    );
}

#[test]
fn reports_are_validated_and_need_a_token() {
    let (dir, mut config) = dir_and_config();
    {
        let shield = Shield::open(dir.path(), config.clone()).unwrap();
        for bad in [
            report(Kind::Qq, "0123"),
            CitizenReport {
                text: " ".into(),
                ..report(Kind::Qq, "87654321")
            },
            CitizenReport {
                text: "长".repeat(2_001),
                ..report(Kind::Qq, "87654321")
            },
        ] {
            match shield.queue_report(bad) {
                Err(ShieldError::InvalidInput { reason }) => assert!(!reason.contains("0123")),
                other => panic!("{other:?}"),
            }
        }
        assert!(shield.reports().unwrap().is_empty());
    }
    config.reporter_token = None;
    let shield = Shield::open(dir.path(), config).unwrap();
    assert!(matches!(
        shield.queue_report(report(Kind::Qq, "87654321")),
        Err(ShieldError::InvalidInput { .. })
    ));
}

#[test]
fn sync_uploads_queued_reports_and_updates_the_list() {
    let w = world(30);
    let mut c = config(&w);
    c.report_url = Some("http://127.0.0.1:1/intake".to_string());
    let shield = Shield::open(w.store_dir(), c).unwrap();
    let a = shield
        .queue_report(report(Kind::Phone, "13800138000"))
        .unwrap();
    let intake = Intake {
        list: Some(w),
        ..Default::default()
    };
    let summary = shield.sync_at(&intake, NOW).unwrap();
    assert_eq!(summary.list.release, 2);
    assert_eq!(summary.reports.sent, 1);
    assert!(matches!(state_of(&shield, a.id), ReportState::Sent { .. }));
}

// ---------------------------------------------------------------------------------------------
// Call Directory, damage, threads

#[test]
fn call_directory_export_is_ascending_in_batches_and_changes_are_incremental() {
    let mut w = world(3_000);
    let shield = open(&w);
    shield.sync_at(&w.transport, NOW).unwrap();
    shield.block(Kind::Phone, "+8613700137000").unwrap();

    let cursor = shield.call_directory_entries();
    assert_eq!(cursor.list_version(), 2);
    let mut all = Vec::new();
    loop {
        let batch = cursor.next_batch(500);
        assert!(batch.len() <= 500);
        if batch.is_empty() {
            break;
        }
        all.extend(batch);
    }
    assert!(
        all.windows(2)
            .all(|p| p[0].phone_number < p[1].phone_number)
    );
    // Exactly the exact phone entries and the user's block, never a prefix rule.
    let numbers: Vec<u64> = all.iter().map(|e| e.phone_number).collect();
    let mut expected: Vec<u64> = w.history[2]
        .iter()
        .filter(|(k, v)| k.kind() == Kind::Phone && !v.prefix)
        .filter_map(|(k, _)| k.canonical().strip_prefix('+')?.parse().ok())
        .chain([8613700137000])
        .collect();
    expected.sort_unstable();
    assert_eq!(numbers, expected);
    assert!(!numbers.contains(&8617100));
    assert!(all.iter().all(|e| e.verdict.action != Action::Allow));

    // A small release applies as a delta: the changes since the loaded version are incremental.
    let removed = Key::new(Kind::Phone, "+8613800138000");
    let added = Key::new(Kind::Phone, "+8613600136000");
    w.publish(&[
        Change::Remove(removed),
        Change::Upsert(added, value(Category::Romance, Risk::High, false)),
    ]);
    let s = shield.sync_at(&w.transport, NOW).unwrap();
    assert_eq!(s.list.path, UpdatePath::Delta);
    match shield
        .call_directory_changes(cursor.list_version())
        .unwrap()
    {
        CallDirectoryUpdate::Incremental {
            list_version,
            changes,
        } => {
            assert_eq!(list_version, 3);
            assert_eq!(changes.len(), 2);
            assert_eq!(changes[0].phone_number, 8613600136000);
            assert_eq!(changes[0].verdict.map(|v| v.action), Some(Action::Block));
            assert_eq!(changes[1].phone_number, 8613800138000);
            assert_eq!(changes[1].verdict, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        shield.call_directory_changes(0).unwrap(),
        CallDirectoryUpdate::Reload { list_version: 3 }
    ));
}

#[test]
fn a_damaged_list_shows_degraded_until_a_sync_repairs_it() {
    let w = world(500);
    {
        let shield = open(&w);
        shield.sync_at(&w.transport, NOW).unwrap();
        assert!(!shield.status_at(NOW).degraded);
    }
    for e in std::fs::read_dir(w.store_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "fst") {
            let len = std::fs::metadata(&p).unwrap().len();
            std::fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .unwrap()
                .set_len(len / 2)
                .unwrap();
        }
    }
    let shield = open(&w);
    let st = shield.status_at(NOW);
    assert!(st.degraded);
    assert!(st.degraded_reason.is_some());
    // Never a silent "known clean": lookups say the list is unavailable, every time.
    for _ in 0..2 {
        let v = shield
            .check_call("13800138000", Direction::Incoming)
            .unwrap();
        assert_eq!(v.source, Source::ListUnavailable);
        let found = shield.check_message("请拨打 138 0013 8000");
        assert_eq!(found[0].verdict.source, Source::ListUnavailable);
    }
    // Protected numbers still answer.
    assert_eq!(
        shield
            .check_call("110", Direction::Incoming)
            .unwrap()
            .source,
        Source::Protected
    );
    assert!(matches!(shield.verify(), Err(ShieldError::Degraded { .. })));
    let s = shield.sync_at(&w.transport, NOW).unwrap();
    assert_eq!(s.list.release, 2);
    let st = shield.status_at(NOW);
    assert!(!st.degraded);
    assert_eq!(st.entries, w.history[2].len() as u64);
    shield.verify().unwrap();
    assert_eq!(
        shield
            .check_call("13800138000", Direction::Incoming)
            .unwrap()
            .action,
        Action::Block
    );
}

#[test]
fn lookups_from_many_threads_see_one_release_at_a_time_while_syncs_land() {
    let mut w = world(5_000);
    let shield = Arc::new(open(&w));
    shield.sync_at(&w.transport, NOW).unwrap();
    let phone = Key::new(Kind::Phone, "+8613800138000");
    // Release → the category the known number has in it; a release is entered before it syncs.
    let expected = Arc::new(Mutex::new(HashMap::from([(
        2u64,
        w.history[2][&phone].category,
    )])));
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|t| {
            let (shield, done, expected) = (shield.clone(), done.clone(), expected.clone());
            std::thread::spawn(move || {
                let mut seen = std::collections::BTreeSet::new();
                let mut checks = 0u64;
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    let v = shield
                        .check_call("13800138000", Direction::Incoming)
                        .unwrap();
                    // The verdict's release and its content agree: never a mix of two states.
                    let want = expected.lock().unwrap().get(&v.list_version).copied();
                    assert_eq!(v.category, want, "release {}", v.list_version);
                    let found = shield.check_message("请联系 138 0013 8000");
                    assert_eq!(found[0].verdict.source, Source::Exact);
                    assert!(shield.check_qq(&format!("{}", 10_000 + t)).is_ok());
                    seen.insert(v.list_version);
                    checks += 1;
                    if finished && checks >= 100 {
                        return seen;
                    }
                }
            })
        })
        .collect();
    // Four releases land one by one, each moving the known number to another category.
    for c in [
        Category::Loan,
        Category::Job,
        Category::Romance,
        Category::Refund,
    ] {
        let mut changes = vec![Change::Upsert(phone.clone(), value(c, Risk::High, false))];
        let current = w.publisher.entries().clone();
        changes.extend(
            sync_support::delta_changes(&mut w.rng, &current, 50)
                .into_iter()
                .filter(|ch| *ch.key() != phone),
        );
        let release = w.publish(&changes);
        expected.lock().unwrap().insert(release, c);
        assert_eq!(
            shield.sync_at(&w.transport, NOW).unwrap().list.release,
            release
        );
    }
    // Syncs from several threads at once are serialised, not an error.
    let again: Vec<_> = (0..2)
        .map(|_| {
            let (shield, t) = (shield.clone(), w.transport.clone());
            std::thread::spawn(move || shield.sync_at(&t, NOW).map(|s| s.list.path))
        })
        .collect();
    for h in again {
        assert_eq!(h.join().unwrap().unwrap(), UpdatePath::UpToDate);
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        let seen = r.join().unwrap();
        assert!(seen.iter().all(|v| (2..=6).contains(v)), "{seen:?}");
        assert!(seen.contains(&6), "{seen:?}");
    }
}

#[test]
fn reports_go_out_even_when_the_list_cannot_be_updated() {
    let (dir, config) = dir_and_config();
    let shield = Shield::open(dir.path(), config).unwrap();
    let a = shield
        .queue_report(report(Kind::Phone, "13800138000"))
        .unwrap();
    // The intake has no list to serve: the manifest request answers 404.
    let intake = Intake::default();
    assert!(matches!(
        shield.sync_at(&intake, NOW),
        Err(ShieldError::Network { .. })
    ));
    assert!(matches!(state_of(&shield, a.id), ReportState::Sent { .. }));
}

#[test]
fn a_second_process_reads_alongside_the_writer_and_writes_nothing() {
    let w = world(100);
    // No list yet: refused, and nothing is created.
    assert!(matches!(
        Shield::open_read_only(w.store_dir(), config(&w)),
        Err(ShieldError::Storage { .. })
    ));
    assert!(!w.store_dir().exists());

    let writer = open(&w);
    writer.sync_at(&w.transport, NOW).unwrap();
    writer.block(Kind::Qq, "55555555").unwrap();
    // An extension opens the same directory while the app holds it.
    let reader = Shield::open_read_only(w.store_dir(), config(&w)).unwrap();
    assert!(reader.is_read_only() && !writer.is_read_only());
    assert_eq!(
        reader
            .check_call("13800138000", Direction::Incoming)
            .unwrap()
            .action,
        Action::Block
    );
    assert_eq!(
        reader.check_qq("55555555").unwrap().source,
        Source::UserBlock
    );
    assert_eq!(reader.status_at(NOW).release, 2);
    assert_eq!(reader.call_directory_entries().next_batch(10).len(), 10);
    reader.verify().unwrap();
    // Every write is refused.
    for refused in [
        reader.block(Kind::Qq, "66666666").map(|_| ()),
        reader
            .queue_report(report(Kind::Qq, "87654321"))
            .map(|_| ()),
        reader.sync_at(&w.transport, NOW).map(|_| ()),
        reader.send_reports_at(&w.transport, NOW).map(|_| ()),
        reader.reports().map(|_| ()),
    ] {
        assert!(
            matches!(refused, Err(ShieldError::Storage { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(writer.check_qq("66666666").unwrap().source, Source::None);
}

#[test]
fn a_broken_outbox_never_stops_the_protection() {
    let w = world(20);
    std::fs::create_dir_all(w.store_dir()).unwrap();
    // Garbage: set aside, a new outbox takes reports again.
    std::fs::write(
        w.store_dir().join("outbox.sqlite"),
        b"not a database at all",
    )
    .unwrap();
    {
        let shield = open(&w);
        shield
            .queue_report(report(Kind::Phone, "13800138000"))
            .unwrap();
        assert!(w.store_dir().join("outbox.sqlite.damaged").exists());
    }
    // Written by a newer app version: left alone; reports are unavailable, the rest works.
    let conn = rusqlite::Connection::open(w.store_dir().join("outbox.sqlite")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let shield = open(&w);
    assert!(matches!(shield.reports(), Err(ShieldError::Storage { .. })));
    assert_eq!(shield.sync_at(&w.transport, NOW).unwrap().list.release, 2);
    assert_eq!(
        shield
            .check_call("13800138000", Direction::Incoming)
            .unwrap()
            .action,
        Action::Block
    );
    assert_eq!(shield.status_at(NOW).reports.pending, 0);
}

/// Answers one HTTP request on loopback with `response`, and returns what it received (head and
/// body). Every wait is bounded.
fn serve_once(response: &'static str) -> (String, std::thread::JoinHandle<(String, Vec<u8>)>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            assert_eq!(conn.read(&mut byte).unwrap(), 1, "client closed early");
            buf.push(byte[0]);
        }
        let head = String::from_utf8(buf).unwrap();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        conn.read_exact(&mut body).unwrap();
        conn.write_all(response.as_bytes()).unwrap();
        (head, body)
    });
    (url, handle)
}

#[test]
fn the_built_in_http_transport_posts_a_report_over_a_real_socket() {
    let (url, server) = serve_once(
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 43\r\nConnection: close\r\n\r\n{\"tracking_id\":\"TIP-7\",\"status\":\"received\"}",
    );
    let (dir, mut config) = dir_and_config();
    config.report_url = Some(url);
    let shield = Shield::open(dir.path(), config).unwrap();
    let a = shield.queue_report(report(Kind::Qq, "87654321")).unwrap();
    let transport = fraudshield_core::sync::http::HttpTransport::new().unwrap();
    assert_eq!(shield.send_reports_at(&transport, NOW).unwrap().sent, 1);
    let (head, body) = server.join().unwrap();
    assert!(head.starts_with("POST /v1/reports HTTP/1.1\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains(&format!(
        "authorization: bearer {}",
        TOKEN.to_ascii_lowercase()
    )));
    assert!(lower.contains("content-type: application/json"));
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["kind"], "qq");
    assert_eq!(body["value"], "87654321");
    assert_eq!(
        state_of(&shield, a.id),
        ReportState::Sent {
            tracking_id: "TIP-7".into(),
            sent_at: NOW
        }
    );
}

#[test]
fn the_next_sync_delay_of_a_huge_base_saturates_instead_of_panicking() {
    // The app passes any u64; `Duration::mul_f64` panicked whenever the jitter drew a factor
    // above 1 (half the draws: 20 draws all miss it with odds of one in a million).
    let (dir, config) = dir_and_config();
    let shield = Shield::open(dir.path().join("s"), config).unwrap();
    let floor = (u64::MAX as f64 * 0.8) as u64;
    for _ in 0..20 {
        let d = shield.next_sync_delay_secs(u64::MAX).unwrap();
        assert!(d >= floor, "{d}");
    }
    let d = shield.next_sync_delay_secs(100).unwrap();
    assert!((80..=120).contains(&d), "{d}");
}
