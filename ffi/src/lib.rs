//! # fraudshield-ffi
//!
//! The Kotlin (Android) and Swift (iOS) SDK of fraudshield: uniffi exports over the core's
//! facade, [`fraudshield_core::shield::Shield`], and nothing else. Every exported method is a
//! one-to-three-line delegation; the logic, and its tests, live in the core. The records,
//! enums, the error ([`ShieldError`]) and the [`Transport`] callback cross the FFI unchanged:
//! the core derives their uniffi traits behind its `uniffi` feature, so their Rust docs are the
//! Kotlin and Swift docs too.
//!
//! ## Threads, disk and network (the same for every platform)
//! - A [`Shield`] is thread-safe: open it once per state directory and share it.
//! - The `check*` methods and `user_list` are lock-free and do no I/O: safe on the main thread
//!   and inside a call-screening callback.
//! - `open`, `status`, the user-list and report edits, `call_directory_*` and `verify` touch
//!   the disk; `sync` and `send_reports` also use the network through the app's [`Transport`].
//!   Keep them off the main thread.
//!
//! ## Errors and panics
//! Every fallible method throws [`ShieldError`] (Kotlin: `ShieldException`; Swift: `ShieldError`):
//! a handful of cases an app can act on; no message contains an identifier, a report's text or
//! a token. The mobile profile keeps unwinding, so a Rust panic, should one happen, reaches the
//! app as an exception (uniffi's `InternalException`, Swift `InternalError`) instead of aborting
//! the process; its message is always the same fixed text, never the panic's own (which could
//! hold an identifier): see `panics.rs`. An exception thrown by the app's logger is swallowed.
//!
//! Generate the bindings with `scripts/bindings.sh`; `ffi/uniffi.toml` and `core/uniffi.toml`
//! name the Kotlin packages and the Swift module.

uniffi::setup_scaffolding!();

mod logging;
mod panics;

#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
pub use http::builtin_http_transport;

pub use logging::{LogLevel, Logger, set_logger};
use panics::guarded;

use fraudshield_core::entry::ReportBucket;
use fraudshield_core::kind::Kind;
use fraudshield_core::shield::{
    self as core, CallDirectoryEntry, CallDirectoryUpdate, CitizenReport, MessageFinding,
    ProtectedEntry, QueuedReport, ReportUploads, ShieldConfig, ShieldError, ShieldStatus,
    SyncSummary, UserListEntry,
};
use fraudshield_core::store::UserList;
use fraudshield_core::sync::transport::Transport;
use fraudshield_core::verdict::{Direction, Policy, Verdict};
use std::sync::Arc;

/// The SDK version, for an app's about screen and bug reports.
///
/// Thread-safety: any thread; no I/O.
#[uniffi::export]
pub fn sdk_version() -> String {
    guarded(|| env!("CARGO_PKG_VERSION").to_string())
}

/// A configuration with the defaults (30 s request timeout, 10 min clock-skew tolerance, the
/// default policy, no report uploads): change fields with `copy(...)` (Kotlin) or `var` (Swift).
/// `trusted_keys` is the text of the trust file shipped with the app.
///
/// Thread-safety: any thread; no I/O.
#[uniffi::export]
pub fn shield_config(server_url: &str, trusted_keys: &str) -> ShieldConfig {
    guarded(|| ShieldConfig::new(server_url, trusted_keys))
}

/// The default verdict policy (see the `Policy` docs for its table).
///
/// Thread-safety: any thread; no I/O.
#[uniffi::export]
pub fn default_policy() -> Policy {
    guarded(Policy::default)
}

/// The smallest report count of a report bucket (a verdict's `reports`): 0, 1, 2, 5, 10, 50,
/// 200 or 1000, for texts like "reported by 50+ people".
///
/// Thread-safety: any thread; no I/O.
#[uniffi::export]
pub fn min_reports(bucket: ReportBucket) -> u32 {
    guarded(|| bucket.min_reports())
}

/// The one object an app holds: the on-device blocklist, the user's lists, the report outbox
/// and the sync, for one state directory.
///
/// Thread-safety: every method may be called from any thread, concurrently. Lookups never wait
/// for a sync: they answer from the old list or the new one, never a mix.
#[derive(uniffi::Object)]
pub struct Shield(core::Shield);

#[uniffi::export]
impl Shield {
    /// Opens the state directory `dir` (created with an empty list on first use). **Disk I/O:
    /// call it off the main thread**, once per directory, and share the object.
    ///
    /// A damaged list does not fail the open: the shield opens degraded (`status().degraded`)
    /// and the next `sync` repairs it.
    ///
    /// Throws `InvalidInput` for a bad URL or trusted-keys text, `Storage` when the directory
    /// cannot be used (for example another process holds it).
    #[uniffi::constructor]
    pub fn open(dir: &str, config: ShieldConfig) -> Result<Arc<Shield>, ShieldError> {
        guarded(|| Ok(Arc::new(Shield(core::Shield::open(dir, config)?))))
    }

    /// Opens an existing state directory for lookups only, beside the process that owns it:
    /// the iOS Call Directory and message-filter extensions, or a second Android process.
    /// Never writes a file and takes no lock; answers from the list as it was when opened
    /// (open again to see a later sync). **Disk I/O: off the main thread.**
    ///
    /// Lookups, `status`, `verify` and the Call Directory export work; every write, report and
    /// sync throws `Storage`. A directory that holds no list yet throws `Storage` too.
    #[uniffi::constructor]
    pub fn open_read_only(dir: &str, config: ShieldConfig) -> Result<Arc<Shield>, ShieldError> {
        guarded(|| Ok(Arc::new(Shield(core::Shield::open_read_only(dir, config)?))))
    }

    /// Whether this shield was opened with `open_read_only`.
    ///
    /// No I/O, any thread.
    pub fn is_read_only(&self) -> bool {
        guarded(|| self.0.is_read_only())
    }

    /// The verdict for a phone number on an incoming or outgoing call, as dialled or shown
    /// (spaces, dashes, `+86`, `0086`, full-width digits are fine).
    ///
    /// Lock-free, no I/O, any thread: fit for a call-screening callback and the main thread.
    /// Throws `InvalidInput` when `number` is not a phone number.
    pub fn check_call(&self, number: &str, direction: Direction) -> Result<Verdict, ShieldError> {
        guarded(|| self.0.check_call(number, direction))
    }

    /// The verdict for a bank card or account number the user is about to pay.
    ///
    /// Lock-free, no I/O, any thread. Throws `InvalidInput` for a malformed account.
    pub fn check_bank_account(&self, account: &str) -> Result<Verdict, ShieldError> {
        guarded(|| self.0.check_bank_account(account))
    }

    /// The verdict for a QQ number.
    ///
    /// Lock-free, no I/O, any thread. Throws `InvalidInput` for a malformed QQ number.
    pub fn check_qq(&self, qq: &str) -> Result<Verdict, ShieldError> {
        guarded(|| self.0.check_qq(qq))
    }

    /// The verdict for an Alipay account (a `2088…` user id, a phone or an e-mail login).
    ///
    /// Lock-free, no I/O, any thread. Throws `InvalidInput` for a malformed account.
    pub fn check_alipay(&self, account: &str) -> Result<Verdict, ShieldError> {
        guarded(|| self.0.check_alipay(account))
    }

    /// The verdict for an identifier of any kind.
    ///
    /// Lock-free, no I/O, any thread. Throws `InvalidInput` when `value` is not a `kind`.
    pub fn check(
        &self,
        kind: Kind,
        value: &str,
        direction: Direction,
    ) -> Result<Verdict, ShieldError> {
        guarded(|| self.0.check(kind, value, direction))
    }

    /// Every phone number, bank account, QQ number and Alipay account in a message, in text
    /// order, each with its verdict and its span in UTF-16 code units (Kotlin `String` and
    /// `NSString` indices). Empty when there is nothing in it; never throws.
    ///
    /// Lock-free, no I/O, any thread.
    pub fn check_message(&self, text: &str) -> Vec<MessageFinding> {
        guarded(|| self.0.check_message(text))
    }

    /// The canonical form of `value` as `kind` (e.g. `+8613800138000`), to show the user which
    /// number was checked.
    ///
    /// No I/O, any thread. Throws `InvalidInput` when `value` is not a `kind`.
    pub fn canonical(&self, kind: Kind, value: &str) -> Result<String, ShieldError> {
        guarded(|| self.0.canonical(kind, value))
    }

    /// Which of the user's lists an identifier is on, if any.
    ///
    /// Lock-free, no I/O, any thread. Throws `InvalidInput` when `value` is not a `kind`.
    pub fn user_list(&self, kind: Kind, value: &str) -> Result<Option<UserList>, ShieldError> {
        guarded(|| self.0.user_list(kind, value))
    }

    /// Everything on the user's own lists, ordered by kind and canonical form (a settings
    /// screen).
    ///
    /// No I/O, any thread.
    pub fn user_list_entries(&self) -> Vec<UserListEntry> {
        guarded(|| self.0.user_list_entries())
    }

    /// Every protected identifier, built-in ones included (`builtin`: cannot be removed),
    /// ordered by kind and canonical form.
    ///
    /// No I/O, any thread.
    pub fn protected_entries(&self) -> Vec<ProtectedEntry> {
        guarded(|| self.0.protected_entries())
    }

    /// Replaces the verdict policy (a "strict mode" switch); lookups use it from the next call.
    /// Not persisted: pass the same policy in the config at the next open.
    ///
    /// No I/O, any thread; waits for a running write.
    pub fn set_policy(&self, policy: Policy) -> Result<(), ShieldError> {
        guarded(|| self.0.set_policy(policy))
    }

    /// Puts an identifier on the user's allow list, replacing a block entry.
    ///
    /// **One durable disk write**: off the main thread. Any thread; waits for a running sync's
    /// commit. Throws `InvalidInput` or `Storage`.
    pub fn allow(&self, kind: Kind, value: &str) -> Result<(), ShieldError> {
        guarded(|| self.0.allow(kind, value))
    }

    /// Puts an identifier on the user's block list (incoming blocked, outgoing warned),
    /// replacing an allow entry.
    ///
    /// **One durable disk write**: off the main thread. Any thread. Throws `InvalidInput` or
    /// `Storage`.
    pub fn block(&self, kind: Kind, value: &str) -> Result<(), ShieldError> {
        guarded(|| self.0.block(kind, value))
    }

    /// Takes an identifier off the user's lists; `true` if it was on one.
    ///
    /// **One durable disk write**: off the main thread. Any thread. Throws `InvalidInput` or
    /// `Storage`.
    pub fn remove_from_user_lists(&self, kind: Kind, value: &str) -> Result<bool, ShieldError> {
        guarded(|| self.0.remove_from_user_lists(kind, value))
    }

    /// Protects an identifier (a relative's number, the user's bank hotline): always allowed,
    /// whatever the list or the user's block list say.
    ///
    /// **One durable disk write**: off the main thread. Any thread. Throws `InvalidInput` or
    /// `Storage`.
    pub fn protect(&self, kind: Kind, value: &str) -> Result<(), ShieldError> {
        guarded(|| self.0.protect(kind, value))
    }

    /// Removes a protection the app added; `true` if there was one. The built-in emergency and
    /// police numbers cannot be removed (`InvalidInput`).
    ///
    /// **One durable disk write**: off the main thread. Any thread.
    pub fn unprotect(&self, kind: Kind, value: &str) -> Result<bool, ShieldError> {
        guarded(|| self.0.unprotect(kind, value))
    }

    /// Queues a citizen report; it is uploaded (`POST v1/reports`) at the next `sync` or
    /// `send_reports`. Durable when it returns.
    ///
    /// **One durable disk write**: off the main thread. Any thread. Throws `InvalidInput` when
    /// the value does not match its kind, the text is empty or too long, or no reporter token
    /// is configured.
    pub fn queue_report(&self, report: CitizenReport) -> Result<QueuedReport, ShieldError> {
        guarded(|| self.0.queue_report(report))
    }

    /// Every report in the outbox, newest first: pending, sent (with its tracking id) or
    /// failed (with the server's reason).
    ///
    /// **Disk read**: off the main thread. Any thread.
    pub fn reports(&self) -> Result<Vec<QueuedReport>, ShieldError> {
        guarded(|| self.0.reports())
    }

    /// Makes a failed report pending again; `true` if it was failed.
    ///
    /// **One disk write**: off the main thread. Any thread.
    pub fn retry_report(&self, id: u64) -> Result<bool, ShieldError> {
        guarded(|| self.0.retry_report(id))
    }

    /// Deletes a report (a pending one is then never sent); `true` if it existed.
    ///
    /// **One disk write**: off the main thread. Any thread.
    pub fn remove_report(&self, id: u64) -> Result<bool, ShieldError> {
        guarded(|| self.0.remove_report(id))
    }

    /// Uploads the due reports now, without a list update. Failures are recorded on each
    /// report; it throws only when the outbox itself fails (`Storage`).
    ///
    /// **Network and disk I/O** through `transport`, blocking: call it from a background
    /// job. Any thread; one sync or upload at a time (a second caller waits).
    pub fn send_reports(
        &self,
        transport: Arc<dyn Transport>,
    ) -> Result<ReportUploads, ShieldError> {
        guarded(|| self.0.send_reports(transport.as_ref()))
    }

    /// Uploads the due reports, then brings the list up to the newest signed release,
    /// verifying everything before it is used. Lookups go on meanwhile and switch to the new
    /// list atomically.
    ///
    /// **Network and disk I/O** through `transport`, blocking: call it from a background job
    /// (WorkManager, BGTaskScheduler). Any thread; one sync at a time (a second caller waits).
    /// Throws (the last good list keeps serving) `Network`, `Backoff` (sync again after
    /// `seconds`), `VerificationFailed` (a refused or expired update) or `Storage`.
    pub fn sync(&self, transport: Arc<dyn Transport>) -> Result<SyncSummary, ShieldError> {
        guarded(|| self.0.sync(transport.as_ref()))
    }

    /// Seconds to wait before the next sync: `base_secs` ± 20% jitter, never before a backoff
    /// the server asked for.
    ///
    /// **Short disk read**: off the main thread. Any thread.
    pub fn next_sync_delay_secs(&self, base_secs: u64) -> Result<u64, ShieldError> {
        guarded(|| self.0.next_sync_delay_secs(base_secs))
    }

    /// Entries, release, freshness (fresh, stale, never synced), degraded or not, the user's
    /// lists and the reports. Never throws.
    ///
    /// **A few small disk reads**: off the main thread. Any thread.
    pub fn status(&self) -> ShieldStatus {
        guarded(|| self.0.status())
    }

    /// Checks every byte and every entry of the local list against its digest. Throws
    /// `Degraded` when damage is found (lookups then answer "list unavailable" until a sync
    /// repairs it).
    ///
    /// **Reads the whole list (seconds on a large one)**: a background job. Any thread; other
    /// writes wait for it, lookups do not.
    pub fn verify(&self) -> Result<(), ShieldError> {
        guarded(|| self.0.verify())
    }

    /// Every flagged phone number (exact entries and the user's block list), in ascending
    /// numeric order as iOS's Call Directory requires, through a cursor drained in batches.
    ///
    /// Cheap to create; the cursor **reads the list from disk** as it goes (off the main
    /// thread). Any thread.
    pub fn call_directory_entries(&self) -> Arc<CallDirectoryCursor> {
        guarded(|| Arc::new(CallDirectoryCursor(self.0.call_directory_entries())))
    }

    /// What changed for the Call Directory since `list_version` (the version of its last
    /// load): changes to apply in ascending order, or a full reload.
    ///
    /// **Short disk read**: off the main thread. Any thread.
    pub fn call_directory_changes(
        &self,
        list_version: u64,
    ) -> Result<CallDirectoryUpdate, ShieldError> {
        guarded(|| self.0.call_directory_changes(list_version))
    }
}

/// Flagged phone numbers in ascending order, handed out in batches (iOS Call Directory loads).
/// It lists one state of the list, the one current when it was created.
///
/// Thread-safety: any thread; concurrent callers get consecutive batches.
#[derive(uniffi::Object)]
pub struct CallDirectoryCursor(core::CallDirectoryCursor);

#[uniffi::export]
impl CallDirectoryCursor {
    /// The next at most `max` entries, ascending; empty when done.
    ///
    /// **Reads the list (disk pages may fault in)**: off the main thread.
    pub fn next_batch(&self, max: u32) -> Vec<CallDirectoryEntry> {
        guarded(|| self.0.next_batch(max))
    }

    /// The list version the cursor lists: pass it to `call_directory_changes` next time.
    ///
    /// No I/O, any thread.
    pub fn list_version(&self) -> u64 {
        guarded(|| self.0.list_version())
    }
}
