//! The SDK facade: [`Shield`], the one object an app holds.
//!
//! A phone app (through the uniffi bindings in `fraudshield-ffi`) or any Rust program opens a
//! `Shield` on its state directory and asks it about calls, accounts and messages; a background
//! job calls [`Shield::sync`] now and then to bring the list up to date and send the citizen
//! reports the user queued. Everything crossing this API is a plain owned value (records, enums,
//! `String`, `Vec`), errors are one small enum, [`ShieldError`], and text spans are in UTF-16
//! code units, as Kotlin and Swift index strings.
//!
//! ## Threads, disk and network
//!
//! `Shield` is `Send + Sync`: open it once, share it (`Arc<Shield>`) with every thread.
//!
//! | method | disk | network | may wait for |
//! |---|---|---|---|
//! | [`open`](Shield::open) | reads and creates files | – | – |
//! | [`open_read_only`](Shield::open_read_only) | reads | – | – (works while another process writes) |
//! | `check_*`, [`check_message`](Shield::check_message), [`user_list`](Shield::user_list), [`user_list_entries`](Shield::user_list_entries), [`protected_entries`](Shield::protected_entries) | no (pages of the list file may fault in) | – | nothing: lock-free, safe on the main thread and in a call-screening callback |
//! | [`status`](Shield::status), [`reports`](Shield::reports) | a few small reads | – | a short SQLite read |
//! | [`allow`](Shield::allow), [`block`](Shield::block), [`protect`](Shield::protect)…, [`queue_report`](Shield::queue_report) | one small durable write | – | another write (a sync's commit) |
//! | [`set_policy`](Shield::set_policy) | – | – | another write |
//! | [`sync`](Shield::sync), [`send_reports`](Shield::send_reports) | writes | yes, through the app's [`Transport`] | one sync at a time |
//! | [`verify`](Shield::verify) | reads the whole list | – | other writes wait for it |
//! | [`call_directory_entries`](Shield::call_directory_entries) / [`call_directory_changes`](Shield::call_directory_changes) | reads | – | a running write |
//!
//! Keep everything but the lookups off the main thread. Lookups never wait for a sync: they see
//! the old list or the new one, never a mix.
//!
//! ## Example
//!
//! ```
//! use fraudshield_core::shield::{Shield, ShieldConfig, ShieldError};
//! use fraudshield_core::verdict::{Action, Direction, Source};
//!
//! let dir = tempfile::tempdir().unwrap();
//! // The publisher's key the app pins (normally a file shipped with the app).
//! let key = fraudshield_core::release::keys::SigningKey::generate().unwrap();
//! let trust = fraudshield_core::release::keys::KeySet::new(vec![key.public()], 1).unwrap();
//! let config = ShieldConfig::new("https://lists.example.org/cn/", &trust.to_trust_file());
//! let shield = Shield::open(dir.path(), config).unwrap();
//!
//! // An incoming call: nothing known about it yet.
//! let v = shield.check_call("+86 138 0013 8000", Direction::Incoming).unwrap();
//! assert_eq!((v.action, v.source), (Action::Allow, Source::None));
//! // The user blocks it; the police line stays protected whatever happens.
//! shield.block(fraudshield_core::kind::Kind::Phone, "13800138000").unwrap();
//! assert_eq!(shield.check_call("138-0013-8000", Direction::Incoming).unwrap().action, Action::Block);
//! assert_eq!(shield.check_call("110", Direction::Incoming).unwrap().source, Source::Protected);
//!
//! // A message: every identifier in it, with spans in UTF-16 code units.
//! let text = "😀退款请加QQ 87654321";
//! let found = shield.check_message(text);
//! assert_eq!(found.len(), 1);
//! let utf16: Vec<u16> = text.encode_utf16().collect();
//! let span = &utf16[found[0].start_utf16 as usize..found[0].end_utf16 as usize];
//! assert_eq!(String::from_utf16(span).unwrap(), "87654321");
//!
//! // Bad input is an error that says what was wrong, never the value.
//! assert!(matches!(shield.check_qq("0123"), Err(ShieldError::InvalidInput { .. })));
//! assert_eq!(shield.status().release, 0);
//! ```
//!
//! ## Personal data
//!
//! Nothing looked up leaves the device: lookups are local, and a sync's requests name only the
//! manifest and artifacts. Citizen reports leave it when the user sends one, and their content
//! is erased once the server acknowledged it. Internal error detail goes to the `log` facade
//! (the ffi crate forwards it to the host's logger) and, like every [`ShieldError`] message,
//! never contains an identifier, a report's text or contact, or a token.
//!
//! A sync needs a [`Transport`] (the app's HTTP stack); see [`crate::sync`] for one over a map
//! of files and `core/tests/shield.rs` for syncs against a loopback server.

mod call_directory;
mod config;
mod error;
mod message;

pub use crate::outbox::{CitizenReport, QueuedReport, ReportCounts, ReportState, ReportUploads};
pub use call_directory::{
    CallDirectoryChange, CallDirectoryCursor, CallDirectoryEntry, CallDirectoryUpdate,
};
pub use config::ShieldConfig;
pub use error::{Error, ShieldError};
pub use message::MessageFinding;

use crate::identifier::normalize;
use crate::key::Key;
use crate::kind::Kind;
use crate::outbox::{Outbox, ReportEndpoint};
use crate::protected::BUILTIN_PROTECTED;
use crate::release::keys::KeySet;
use crate::store::{CallDirectoryChanges, Store, StoreOptions, UserList};
use crate::sync::transport::Transport;
use crate::sync::{self, Freshness, SyncConfig, SyncReport};
use crate::verdict::{Direction, Policy, Verdict};
use message::Utf16Offsets;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// What the status screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ShieldStatus {
    /// Blocklist entries (exact entries and prefix rules).
    pub entries: u64,
    /// The list release held (0: never updated).
    pub release: u64,
    /// Fresh until the signed manifest expires, stale after (lookups keep working on the last
    /// good list), or never synced.
    pub freshness: Freshness,
    /// The list is damaged or missing: lookups answer "list unavailable"
    /// (`Source::ListUnavailable`) until a sync installs a full snapshot.
    pub degraded: bool,
    /// What was found damaged, while degraded (for support; never an identifier).
    pub degraded_reason: Option<String>,
    /// Identifiers on the user's allow list.
    pub user_allowed: u64,
    /// Identifiers on the user's block list.
    pub user_blocked: u64,
    /// Protected numbers, built-in ones included.
    pub protected: u64,
    /// Citizen reports by state.
    pub reports: ReportCounts,
    /// The state digest of the list (64 hex digits), for support.
    pub state_digest: String,
}

/// An identifier on the user's own lists, for a settings screen.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct UserListEntry {
    /// What it is.
    pub kind: Kind,
    /// Its canonical form.
    pub canonical: String,
    /// Which list.
    pub list: UserList,
}

impl std::fmt::Debug for UserListEntry {
    /// Without the identifier.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserListEntry")
            .field("kind", &self.kind)
            .field("list", &self.list)
            .finish_non_exhaustive()
    }
}

/// A protected identifier, for a settings screen.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProtectedEntry {
    /// What it is.
    pub kind: Kind,
    /// Its canonical form.
    pub canonical: String,
    /// One of the built-in emergency, police and government lines (cannot be removed).
    pub builtin: bool,
}

impl std::fmt::Debug for ProtectedEntry {
    /// Without the identifier.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtectedEntry")
            .field("kind", &self.kind)
            .field("builtin", &self.builtin)
            .finish_non_exhaustive()
    }
}

/// What one [`Shield::sync`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncSummary {
    /// The list update.
    pub list: SyncReport,
    /// The report uploads.
    pub reports: ReportUploads,
}

/// The report outbox of a shield.
enum OutboxSlot {
    Open(Outbox),
    /// Opened with [`Shield::open_read_only`]: no outbox.
    ReadOnly,
    /// `outbox.sqlite` could not be opened (a newer schema, I/O): report methods fail with this.
    Unavailable(ShieldError),
}

/// The one object an app holds. See the [module docs](self) for a guide, and each method for
/// what it touches. `Send + Sync`.
pub struct Shield {
    store: Store,
    outbox: OutboxSlot,
    sync_config: SyncConfig,
    reports: Option<ReportEndpoint>,
    /// One sync at a time (a second caller waits for the first to finish).
    syncing: Mutex<()>,
}

impl std::fmt::Debug for Shield {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shield")
            .field("dir", &self.store.dir())
            .finish_non_exhaustive()
    }
}

/// The device clock in Unix seconds.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Shield {
    /// Opens the state directory `dir` (creating it and an empty list on first use) with
    /// `config`. **Disk I/O**: call it off the main thread, once, and share the result.
    ///
    /// Opening checks every byte of the list file before it answers (BLAKE3 and the FST
    /// structure; the cost at two million entries is in `benches/REPORT.md`, "open + verify")
    /// and then memory-maps it. A damaged list does not fail the open: the shield opens degraded
    /// ([`ShieldStatus::degraded`], lookups answer `Source::ListUnavailable`) and the next sync
    /// repairs it with a full snapshot.
    ///
    /// Errors: [`ShieldError::InvalidInput`] for a bad URL or trusted-keys text,
    /// [`ShieldError::Storage`] when the directory cannot be used (e.g. another process holds
    /// it).
    pub fn open(dir: impl AsRef<Path>, config: ShieldConfig) -> Result<Shield, ShieldError> {
        let dir = dir.as_ref();
        let (sync_config, reports) = parse_config(&config)?;
        let options = StoreOptions {
            policy: config.policy,
            ..StoreOptions::default()
        };
        let store = Store::open(dir, options)?;
        // A failing outbox must not stop the protection: lookups and syncs go on, and report
        // methods answer with the outbox's error.
        let outbox = match Outbox::open_or_set_aside(dir) {
            Ok(outbox) => OutboxSlot::Open(outbox),
            Err(e) => OutboxSlot::Unavailable(ShieldError::from(e)),
        };
        Ok(Shield {
            store,
            outbox,
            sync_config,
            reports,
            syncing: Mutex::new(()),
        })
    }

    /// Opens an existing state directory for lookups only, alongside the process that owns it:
    /// the iOS Call Directory and message-filter extensions (separate processes sharing the
    /// app group's directory), or any second process. **Disk I/O**, never writes a file, takes
    /// no lock; answers from the list as it was when opened (open again to see a later sync).
    ///
    /// Lookups, [`status`](Shield::status), [`verify`](Shield::verify) and the Call Directory
    /// export work; every write, report and sync fails with [`ShieldError::Storage`]. A
    /// directory that holds no list yet (the app has not run) fails with
    /// [`ShieldError::Storage`] too: answer "list unavailable" in that case.
    pub fn open_read_only(
        dir: impl AsRef<Path>,
        config: ShieldConfig,
    ) -> Result<Shield, ShieldError> {
        let (sync_config, _) = parse_config(&config)?;
        let options = StoreOptions {
            policy: config.policy,
            ..StoreOptions::default()
        };
        let store = Store::open_existing(dir.as_ref(), options)?;
        Ok(Shield {
            store,
            outbox: OutboxSlot::ReadOnly,
            sync_config,
            reports: None,
            syncing: Mutex::new(()),
        })
    }

    /// The outbox, or the error a read-only shield or an unavailable outbox answers with.
    fn outbox(&self) -> Result<&Outbox, ShieldError> {
        match &self.outbox {
            OutboxSlot::Open(outbox) => Ok(outbox),
            OutboxSlot::ReadOnly => Err(read_only()),
            OutboxSlot::Unavailable(e) => Err(e.clone()),
        }
    }

    /// Whether this shield was opened with [`Shield::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        matches!(self.outbox, OutboxSlot::ReadOnly)
    }

    // ---- Lookups: lock-free, no I/O, any thread -------------------------------------------

    /// The verdict for a phone number on an incoming or outgoing call (`number` as dialled or
    /// shown: spaces, dashes, `+86`, `0086`, full-width digits are fine). Lock-free, no I/O:
    /// fit for a call-screening callback.
    ///
    /// Errors: [`ShieldError::InvalidInput`] when `number` is not a phone number.
    pub fn check_call(&self, number: &str, direction: Direction) -> Result<Verdict, ShieldError> {
        self.check(Kind::Phone, number, direction)
    }

    /// The verdict for a bank card or account number the user is about to pay. Read with the
    /// incoming policy (an account is never "dialled"). Lock-free, no I/O.
    pub fn check_bank_account(&self, account: &str) -> Result<Verdict, ShieldError> {
        self.check(Kind::Bank, account, Direction::Incoming)
    }

    /// The verdict for a QQ number. Lock-free, no I/O.
    pub fn check_qq(&self, qq: &str) -> Result<Verdict, ShieldError> {
        self.check(Kind::Qq, qq, Direction::Incoming)
    }

    /// The verdict for an Alipay account (user id, phone or e-mail login). Lock-free, no I/O.
    pub fn check_alipay(&self, account: &str) -> Result<Verdict, ShieldError> {
        self.check(Kind::Alipay, account, Direction::Incoming)
    }

    /// The verdict for any kind of identifier. Lock-free, no I/O.
    pub fn check(
        &self,
        kind: Kind,
        value: &str,
        direction: Direction,
    ) -> Result<Verdict, ShieldError> {
        Ok(self.store.check(&normalize(kind, value)?, direction))
    }

    /// Every phone number, bank account, QQ number and Alipay account in a message, each with
    /// its verdict (as incoming; all against the same list state) and its span in UTF-16 code
    /// units. Never fails: a message with nothing in it gives an empty list. Lock-free, no I/O.
    pub fn check_message(&self, text: &str) -> Vec<MessageFinding> {
        let mut offsets = Utf16Offsets::new(text);
        self.store
            .check_text(text)
            .into_iter()
            .map(|(finding, verdict)| MessageFinding {
                kind: finding.identifier.kind(),
                start_utf16: offsets.at(finding.span.start),
                end_utf16: offsets.at(finding.span.end),
                canonical: finding.identifier.into_canonical(),
                reason: finding.reason,
                verdict,
            })
            .collect()
    }

    /// Which of the user's lists an identifier is on, if any. Lock-free, no I/O.
    pub fn user_list(&self, kind: Kind, value: &str) -> Result<Option<UserList>, ShieldError> {
        Ok(self.store.user_entry(&normalize(kind, value)?))
    }

    /// Everything on the user's own lists, ordered by kind and canonical form. No I/O.
    pub fn user_list_entries(&self) -> Vec<UserListEntry> {
        let view = self.store.view();
        let mut out: Vec<UserListEntry> = view
            .0
            .user
            .iter()
            .filter_map(|(key, list)| {
                let key = Key::from_bytes(key).ok()?;
                Some(UserListEntry {
                    kind: key.kind(),
                    canonical: key.canonical().to_owned(),
                    list: *list,
                })
            })
            .collect();
        out.sort_by(|a, b| (a.kind, &a.canonical).cmp(&(b.kind, &b.canonical)));
        out
    }

    /// Every protected identifier, built-in ones included, ordered by kind and canonical form.
    /// No I/O.
    pub fn protected_entries(&self) -> Vec<ProtectedEntry> {
        let builtin: std::collections::HashSet<Key> = BUILTIN_PROTECTED
            .iter()
            .flat_map(|c| {
                let normalized = normalize(Kind::Phone, c).ok().map(|id| id.key());
                std::iter::once(Key::new(Kind::Phone, c)).chain(normalized)
            })
            .collect();
        let view = self.store.view();
        let mut out: Vec<ProtectedEntry> = view
            .0
            .protected
            .iter()
            .filter_map(|key| {
                let key = Key::from_bytes(key).ok()?;
                Some(ProtectedEntry {
                    kind: key.kind(),
                    canonical: key.canonical().to_owned(),
                    builtin: builtin.contains(&key),
                })
            })
            .collect();
        out.sort_by(|a, b| (a.kind, &a.canonical).cmp(&(b.kind, &b.canonical)));
        out.dedup();
        out
    }

    // ---- The user's own lists: one small durable write each --------------------------------

    /// Puts an identifier on the user's allow list (always allowed, unless a protected number
    /// rule says more), replacing a block entry. One durable write. After editing the user's
    /// lists, reload the iOS Call Directory in full.
    pub fn allow(&self, kind: Kind, value: &str) -> Result<(), ShieldError> {
        Ok(self.store.allow_user(&normalize(kind, value)?)?)
    }

    /// Puts an identifier on the user's block list (incoming blocked, outgoing warned),
    /// replacing an allow entry. One durable write.
    pub fn block(&self, kind: Kind, value: &str) -> Result<(), ShieldError> {
        Ok(self.store.block_user(&normalize(kind, value)?)?)
    }

    /// Takes an identifier off the user's lists; `true` if it was on one. One durable write.
    pub fn remove_from_user_lists(&self, kind: Kind, value: &str) -> Result<bool, ShieldError> {
        Ok(self.store.remove_user_entry(&normalize(kind, value)?)?)
    }

    /// Protects an identifier (a family member's number, the user's bank's hotline): always
    /// allowed, whatever the list or the user's block list say. One durable write.
    pub fn protect(&self, kind: Kind, value: &str) -> Result<(), ShieldError> {
        Ok(self.store.add_protected(&normalize(kind, value)?)?)
    }

    /// Removes an identifier the app protected; `true` if it was. The built-in emergency and
    /// police numbers cannot be removed ([`ShieldError::InvalidInput`]). One durable write.
    pub fn unprotect(&self, kind: Kind, value: &str) -> Result<bool, ShieldError> {
        Ok(self.store.remove_protected(&normalize(kind, value)?)?)
    }

    /// Replaces the verdict policy (e.g. a "strict mode" switch in the app's settings); lookups
    /// use it from the next call. Not persisted: pass the same policy in [`ShieldConfig`] on the
    /// next open. No I/O; waits for a running write.
    pub fn set_policy(&self, policy: Policy) -> Result<(), ShieldError> {
        Ok(self.store.set_policy(policy)?)
    }

    // ---- Citizen reports -------------------------------------------------------------------

    /// Queues a report the user chose to send; it is uploaded at the next [`Shield::sync`] (or
    /// [`Shield::send_reports`]). Durable when it returns. One small write to `outbox.sqlite`.
    ///
    /// Errors: [`ShieldError::InvalidInput`] when the value does not normalize as its kind, the
    /// text is empty or too long, or no reporter token is configured.
    pub fn queue_report(&self, report: CitizenReport) -> Result<QueuedReport, ShieldError> {
        let outbox = self.outbox()?;
        if self.reports.is_none() {
            return Err(ShieldError::InvalidInput {
                reason: "no reporter token is configured: reports cannot be sent".to_string(),
            });
        }
        Ok(outbox.queue(&report, unix_now())?)
    }

    /// Every report in the outbox, newest first: pending, sent (with the tracking id) and
    /// failed (with the server's reason). A short SQLite read.
    pub fn reports(&self) -> Result<Vec<QueuedReport>, ShieldError> {
        Ok(self.outbox()?.list()?)
    }

    /// Makes a failed report pending again; `true` if it was failed. One small write.
    pub fn retry_report(&self, id: u64) -> Result<bool, ShieldError> {
        Ok(self.outbox()?.retry(id)?)
    }

    /// Deletes a report (a pending one is then never sent); `true` if it existed.
    pub fn remove_report(&self, id: u64) -> Result<bool, ShieldError> {
        Ok(self.outbox()?.remove(id)?)
    }

    /// Uploads the due reports now, without a list sync. **Network I/O** through `transport`;
    /// one sync or upload at a time. Errors only when the outbox itself fails: network failures
    /// and refusals are recorded on each report.
    ///
    /// ```
    /// use fraudshield_core::entry::Category;
    /// use fraudshield_core::kind::Kind;
    /// use fraudshield_core::shield::{CitizenReport, ReportState, Shield, ShieldConfig};
    /// use fraudshield_core::sync::transport::*;
    ///
    /// /// Stands in for the app's HTTP stack and the server: every report is received.
    /// struct Intake;
    /// impl Transport for Intake {
    ///     fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportError> {
    ///         assert_eq!((req.method, req.url.as_str()), (HttpMethod::Post, "https://tips.example.org/v1/reports"));
    ///         assert_eq!(req.header("authorization"), Some("Bearer my-app-token"));
    ///         let body = br#"{"tracking_id":"2026-000042","status":"received"}"#.to_vec();
    ///         Ok(HttpResponse { status: 201, headers: vec![], body })
    ///     }
    /// }
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let key = fraudshield_core::release::keys::SigningKey::generate().unwrap();
    /// # let trust = fraudshield_core::release::keys::KeySet::new(vec![key.public()], 1).unwrap().to_trust_file();
    /// let mut config = ShieldConfig::new("https://tips.example.org/", &trust);
    /// config.reporter_token = Some("my-app-token".to_string());
    /// let shield = Shield::open(dir.path(), config).unwrap();
    /// let queued = shield.queue_report(CitizenReport {
    ///     kind: Kind::Phone,
    ///     value: "138 0013 8000".to_string(),
    ///     category: Category::PoliceImpersonation,
    ///     text: "自称公安局，要求转账到安全账户".to_string(),
    ///     contact: None,
    /// }).unwrap();
    /// assert_eq!(shield.send_reports(&Intake).unwrap().sent, 1);
    /// let sent = &shield.reports().unwrap()[0];
    /// assert_eq!(sent.id, queued.id);
    /// assert!(matches!(&sent.state, ReportState::Sent { tracking_id, .. } if tracking_id == "2026-000042"));
    /// assert_eq!(sent.value, None); // erased from the device once the server has it
    /// ```
    pub fn send_reports(&self, transport: &dyn Transport) -> Result<ReportUploads, ShieldError> {
        self.send_reports_at(transport, unix_now())
    }

    /// [`Shield::send_reports`] at a given time (Unix seconds), for tests and hosts with a
    /// trusted clock.
    pub fn send_reports_at(
        &self,
        transport: &dyn Transport,
        now: i64,
    ) -> Result<ReportUploads, ShieldError> {
        let _one = self.sync_guard()?;
        self.outbox()?;
        self.upload(transport, now)
    }

    fn upload(&self, transport: &dyn Transport, now: i64) -> Result<ReportUploads, ShieldError> {
        match &self.reports {
            Some(endpoint) => Ok(self.outbox()?.upload_due(transport, endpoint, now)?),
            None => Ok(ReportUploads::default()),
        }
    }

    // ---- Sync ------------------------------------------------------------------------------

    /// Uploads the due citizen reports, then brings the list up to the newest release the
    /// server offers, verifying everything first (see [`crate::sync`]). **Network and disk
    /// I/O**: call it from a background job. One sync at a time; lookups go on meanwhile and
    /// switch to the new list atomically.
    ///
    /// Errors (the list keeps serving the last good state): [`ShieldError::Network`],
    /// [`ShieldError::Backoff`] (schedule the next sync after `seconds`),
    /// [`ShieldError::VerificationFailed`] (a refused or expired update),
    /// [`ShieldError::Storage`]. Report uploads are recorded on each report whatever happens to
    /// the list, and the list is updated whatever happens to the uploads: a failing outbox does
    /// not fail the sync (it is logged, counted as nothing sent in [`SyncSummary::reports`], and
    /// [`Shield::reports`] answers with its error).
    pub fn sync(&self, transport: &dyn Transport) -> Result<SyncSummary, ShieldError> {
        self.sync_at(transport, unix_now())
    }

    /// [`Shield::sync`] at a given time (Unix seconds), for tests and hosts with a trusted
    /// clock.
    pub fn sync_at(&self, transport: &dyn Transport, now: i64) -> Result<SyncSummary, ShieldError> {
        let _one = self.sync_guard()?;
        if self.is_read_only() {
            return Err(read_only());
        }
        // Both run whatever the other does: a broken outbox never holds back a list update,
        // nor makes it look failed (its error was logged by the mapping, and the report methods
        // answer with it).
        let reports = self.upload(transport, now).unwrap_or_default();
        let list = sync::sync(&self.store, transport, &self.sync_config, now)?;
        Ok(SyncSummary { list, reports })
    }

    fn sync_guard(&self) -> Result<std::sync::MutexGuard<'_, ()>, ShieldError> {
        // A panic in an earlier sync (e.g. in the host's transport) left nothing half-done:
        // every write is one transaction. Carry on.
        Ok(self
            .syncing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// How long to wait before the next sync: `base_secs` ± 20% jitter, never before a backoff
    /// the server asked for. A short read.
    pub fn next_sync_delay_secs(&self, base_secs: u64) -> Result<u64, ShieldError> {
        let d =
            sync::next_poll_delay(&self.store, Duration::from_secs(base_secs), 0.2, unix_now())?;
        Ok(d.as_secs())
    }

    // ---- Status and integrity --------------------------------------------------------------

    /// Entries, release, freshness, degraded or not, the user's lists and the reports. A few
    /// small reads; never fails (a value that cannot be read shows as its empty default).
    pub fn status(&self) -> ShieldStatus {
        self.status_at(unix_now())
    }

    /// [`Shield::status`] with freshness judged at `now` (Unix seconds).
    pub fn status_at(&self, now: i64) -> ShieldStatus {
        let st = self.store.status();
        let freshness = sync::freshness(&self.store, now, self.sync_config.clock_skew_secs)
            .unwrap_or(Freshness::Never);
        ShieldStatus {
            entries: st.entries,
            release: st.list_version,
            freshness,
            // The list's files were found damaged: lookups answer `ListUnavailable` until a
            // full snapshot (the next sync) or a re-import repairs it.
            degraded: st.degraded.is_some(),
            degraded_reason: st.degraded,
            user_allowed: st.user_allowed as u64,
            user_blocked: st.user_blocked as u64,
            protected: st.protected as u64,
            reports: self
                .outbox()
                .ok()
                .and_then(|o| o.counts().ok())
                .unwrap_or_default(),
            state_digest: st.digest.to_hex(),
        }
    }

    /// Checks every byte and every entry of the local list against its digest (a full read:
    /// seconds on a large list; run it in the background). Other writes wait; lookups do not.
    ///
    /// Errors: [`ShieldError::Degraded`] when damage is found.
    pub fn verify(&self) -> Result<(), ShieldError> {
        Ok(self.store.verify()?)
    }

    // ---- iOS Call Directory ----------------------------------------------------------------

    /// Every flagged phone number of the current list (exact entries and the user's block
    /// list; no prefix rules, no protected or allowed numbers), ascending, through a cursor the
    /// extension drains in batches. Cheap to create; reads the list as it goes.
    pub fn call_directory_entries(&self) -> CallDirectoryCursor {
        // Read before pinning: the version is never newer than what the cursor lists.
        let list_version = self.store.list_version();
        CallDirectoryCursor::new(self.store.phone_numbers_ascending(), list_version)
    }

    /// What changed for the Call Directory since `list_version` (the version of its last
    /// load): changes to apply, or a full reload. A short read; waits for a running write.
    pub fn call_directory_changes(
        &self,
        list_version: u64,
    ) -> Result<CallDirectoryUpdate, ShieldError> {
        // Read before: the version is never newer than the changes listed.
        let current = self.store.list_version();
        Ok(match self.store.changes_since(list_version)? {
            CallDirectoryChanges::Reload => CallDirectoryUpdate::Reload {
                list_version: current,
            },
            CallDirectoryChanges::Incremental(changes) => CallDirectoryUpdate::Incremental {
                list_version: current,
                changes: changes
                    .into_iter()
                    .map(|(phone_number, verdict)| CallDirectoryChange {
                        phone_number,
                        verdict,
                    })
                    .collect(),
            },
        })
    }

    // ---- Escape hatch ----------------------------------------------------------------------

    /// The store underneath, for Rust callers that need more than the facade (the CLI, tests).
    /// Not part of the FFI.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The canonical form of a value as `kind` (e.g. `+8613800138000`), to show the user which
    /// number was checked. Pure: no I/O.
    pub fn canonical(&self, kind: Kind, value: &str) -> Result<String, ShieldError> {
        Ok(normalize(kind, value)?.into_canonical())
    }
}

fn read_only() -> ShieldError {
    ShieldError::from(Error::Store(crate::store::StoreError::ReadOnly))
}

/// The sync configuration and the report endpoint from the app's record.
fn parse_config(
    config: &ShieldConfig,
) -> Result<(SyncConfig, Option<ReportEndpoint>), ShieldError> {
    let invalid = |reason: String| ShieldError::from(Error::Invalid(reason));
    let server = config::base_url(&config.server_url, "the server URL").map_err(invalid)?;
    let trust = KeySet::from_trust_file(&config.trusted_keys)?;
    if config.request_timeout_ms == 0 {
        return Err(invalid("the request timeout must be positive".to_string()));
    }
    let mut sync_config = SyncConfig::new(&server, trust);
    sync_config.list_id = config.list_id.clone();
    sync_config.clock_skew_secs = i64::from(config.clock_skew_secs);
    sync_config.request_timeout = Duration::from_millis(config.request_timeout_ms);
    sync_config.verify_local = config.verify_before_delta;
    let reports = match config.reporter_token.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(token) => {
            let base = match &config.report_url {
                Some(url) => config::base_url(url, "the report URL").map_err(invalid)?,
                None => server,
            };
            Some(ReportEndpoint {
                base_url: base,
                token: token.to_owned(),
                timeout_ms: config.request_timeout_ms,
            })
        }
    };
    Ok((sync_config, reports))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn the_objects_an_app_holds_are_send_and_sync() {
        assert_send_sync::<Shield>();
        assert_send_sync::<CallDirectoryCursor>();
    }
}
