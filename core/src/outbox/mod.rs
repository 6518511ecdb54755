//! The citizen report outbox: reports the user chose to send, queued on the device and uploaded
//! on the next sync.
//!
//! Reports live in their own SQLite file, `outbox.sqlite` in the state directory (WAL, versioned
//! schema: [`schema`]), apart from the blocklist store: queueing a report never waits for a
//! list update and a damaged list never loses a report. The directory lock the store holds
//! covers this file too (one process owns a state directory).
//!
//! ## Lifecycle of a report
//!
//! ```text
//!  queue ──► pending ──(201)──────────────► sent   (text, value and contact erased; tracking id kept)
//!              │  ▲
//!              │  └─(network error, timeout, 429, 5xx, malformed 201: retried at a later sync,
//!              │     backing off 1 min, 2, 4 … up to 6 h; 429 holds the whole outbox for Retry-After)
//!              └──(4xx other than 429)─────► failed (server's code and message kept; `retry` or `remove`)
//! ```
//!
//! A report leaves the pending state only after the server answered `201`: a crash between
//! the upload and the local update, or an answer lost on the way back, leaves it pending, and a
//! later sync sends it again — never lost. The server recognises the repeat by this
//! installation's `client_id` and the identifier, and merges it into the first report (same
//! tracking id, not counted as new evidence) when it comes within its merge window (15 minutes
//! by default); the first retry after a transient failure is due a minute later, so an app that
//! syncs often enough (or calls `send_reports` again) never has a report counted twice.
//!
//! ## The client id
//! `client_id` is a random 128-bit id made when the outbox is first used, not derived from the
//! device, kept in `outbox.sqlite` and erased with the state directory. It lets the server count
//! one reporter once and rate-limit per installation, without knowing who or which device.
//!
//! ## The server contract
//! `POST <base>v1/reports` with `Authorization: Bearer <reporter token>`,
//! `Content-Type: application/json` and the body
//! `{"kind":"phone|bank|qq|alipay","value":"<raw as typed>","category":"police_impersonation|…|other",
//! "text":"<free text>","contact":"<optional>","client_id":"<32 hex digits, see below>"}`; `201
//! {"tracking_id":"…","status":"received"}` on success, `4xx {"error":{"code":"…","message":"…"}}`,
//! `429` with `Retry-After` seconds. See [`upload`].
//!
//! ## Personal data
//! What the citizen wrote stays on the device only until the server has it: a sent report keeps
//! its kind, category, times and tracking id, never its value, text or contact. Nothing here is
//! logged; error messages never contain a report's content.

pub mod schema;
pub mod upload;

use crate::entry::Category;
use crate::identifier;
use crate::kind::Kind;
use rusqlite::{Connection, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

pub use upload::{ReportEndpoint, ReportUploads};

/// Name of the outbox's SQLite file inside the state directory.
pub const OUTBOX_FILE: &str = "outbox.sqlite";

/// Longest report text accepted, in characters (the server's default limit).
pub const MAX_TEXT_CHARS: usize = 2_000;

/// Longest contact accepted, in characters.
pub const MAX_CONTACT_CHARS: usize = 200;

/// Why an outbox operation failed. Messages never contain a report's content.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// SQLite failed.
    #[error("report outbox database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The outbox file was written by a newer build.
    #[error(
        "report outbox has schema version {found}, newer than {}",
        schema::SCHEMA_VERSION
    )]
    TooNew {
        /// The version found.
        found: u32,
    },
    /// The report is not valid (what was wrong, never the value).
    #[error("{0}")]
    Invalid(String),
    /// A file operation failed.
    #[error("report outbox I/O error: {0}")]
    Io(std::io::Error),
    /// Stored data is not what this build wrote.
    #[error("report outbox holds an invalid row")]
    Corrupt,
}

/// A report the citizen writes: what they were contacted from and what happened.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CitizenReport {
    /// What `value` is.
    pub kind: Kind,
    /// The number or account as the citizen typed it (it must normalize as `kind`; it is sent
    /// as typed).
    pub value: String,
    /// The kind of fraud.
    pub category: Category,
    /// What happened, in the citizen's words (at most [`MAX_TEXT_CHARS`] characters).
    pub text: String,
    /// How the police may reach the citizen, if they agree (at most [`MAX_CONTACT_CHARS`]).
    pub contact: Option<String>,
}

impl std::fmt::Debug for CitizenReport {
    /// Kind and category only: the rest is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CitizenReport")
            .field("kind", &self.kind)
            .field("category", &self.category)
            .finish_non_exhaustive()
    }
}

/// Where a queued report stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ReportState {
    /// Waiting for a sync; not sent before `next_attempt_at` (Unix seconds; 0: at the next
    /// sync).
    Pending {
        /// Earliest next upload attempt (Unix seconds).
        next_attempt_at: i64,
    },
    /// The server has it.
    Sent {
        /// The server's tracking id: the citizen can quote it.
        tracking_id: String,
        /// When the server accepted it (Unix seconds, device clock).
        sent_at: i64,
    },
    /// The server refused it (a 4xx other than 429); kept so the app can show why, not retried
    /// unless the app calls `retry`.
    Failed {
        /// The server's error code (`http_<status>` when it gave none).
        code: String,
        /// The server's message.
        message: String,
    },
}

/// A report in the outbox, as the app shows it.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QueuedReport {
    /// Local id (for `remove` and `retry`).
    pub id: u64,
    /// What the report is about.
    pub kind: Kind,
    /// The kind of fraud.
    pub category: Category,
    /// The value as typed; `None` once sent (erased from the device).
    pub value: Option<String>,
    /// When it was queued (Unix seconds).
    pub queued_at: i64,
    /// Upload attempts so far.
    pub attempts: u32,
    /// Where it stands.
    pub state: ReportState,
}

impl std::fmt::Debug for QueuedReport {
    /// Without the value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedReport")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("category", &self.category)
            .field("queued_at", &self.queued_at)
            .field("attempts", &self.attempts)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// How many reports are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReportCounts {
    /// Waiting to be sent.
    pub pending: u64,
    /// Accepted by the server.
    pub sent: u64,
    /// Refused by the server.
    pub failed: u64,
}

/// A pending report as the uploader sends it.
pub(crate) struct Due {
    pub id: u64,
    pub kind: String,
    pub category: String,
    pub value: String,
    pub text: String,
    pub contact: Option<String>,
    pub attempts: u32,
}

/// The outbox. `Send + Sync`; every method takes a short lock on one SQLite connection (an
/// upload holds no lock while the network works).
pub struct Outbox {
    conn: Mutex<Connection>,
    /// Held for a whole upload round: two rounds never send the same report at once.
    uploading: Mutex<()>,
}

impl Outbox {
    /// Opens (creating if missing) `outbox.sqlite` in `dir`. Does disk I/O.
    pub fn open(dir: &Path) -> Result<Outbox, OutboxError> {
        let mut conn = Connection::open(dir.join(OUTBOX_FILE))?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;
        conn.execute(
            "INSERT OR IGNORE INTO installation (id, client_id) VALUES (1, ?1)",
            params![new_client_id()?],
        )?;
        Ok(Outbox {
            conn: Mutex::new(conn),
            uploading: Mutex::new(()),
        })
    }

    /// The connection. A panic elsewhere while it was held left nothing half-done (every write
    /// is one statement or one transaction), so a poisoned lock is taken over.
    /// [`Outbox::open`], but a file that is not a database or is corrupt is moved aside to
    /// `outbox.sqlite.damaged` (kept for support, replacing an older one) and a new outbox is
    /// created: a damaged outbox must not stop reports from being queued again. Any other
    /// failure (a newer schema, I/O) is returned and touches nothing.
    pub fn open_or_set_aside(dir: &Path) -> Result<Outbox, OutboxError> {
        match Outbox::open(dir) {
            Err(OutboxError::Database(e)) if is_damage(&e) => {
                log::warn!("fraudshield: report outbox damaged ({e}); set aside, starting anew");
                let path = dir.join(OUTBOX_FILE);
                for suffix in ["-wal", "-shm"] {
                    let side = dir.join(format!("{OUTBOX_FILE}{suffix}"));
                    if side.exists() {
                        std::fs::remove_file(side).map_err(io)?;
                    }
                }
                std::fs::rename(&path, dir.join(format!("{OUTBOX_FILE}.damaged"))).map_err(io)?;
                Outbox::open(dir)
            }
            other => other,
        }
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, OutboxError> {
        Ok(self.conn.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Validates and queues a report at time `now` (Unix seconds). Durable when it returns.
    pub fn queue(&self, report: &CitizenReport, now: i64) -> Result<QueuedReport, OutboxError> {
        validate(report)?;
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO report (kind, category, value, text, contact, queued_at, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
            params![
                report.kind.as_str(),
                report.category.as_str(),
                report.value,
                report.text,
                report.contact,
                now
            ],
        )?;
        let id = conn.last_insert_rowid();
        Ok(QueuedReport {
            id: id as u64,
            kind: report.kind,
            category: report.category,
            value: Some(report.value.clone()),
            queued_at: now,
            attempts: 0,
            state: ReportState::Pending { next_attempt_at: 0 },
        })
    }

    /// Every report, newest first.
    pub fn list(&self) -> Result<Vec<QueuedReport>, OutboxError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, kind, category, value, queued_at, attempts, state, next_attempt_at,
                    tracking_id, sent_at, error_code, error_message
             FROM report ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
                (
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<i64>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, Option<String>>(11)?,
                ),
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, category, value, queued_at, attempts, state, next, rest) = row?;
            let (tracking_id, sent_at, code, message) = rest;
            let state = match state.as_str() {
                "pending" => ReportState::Pending {
                    next_attempt_at: next,
                },
                "sent" => ReportState::Sent {
                    tracking_id: tracking_id.unwrap_or_default(),
                    sent_at: sent_at.unwrap_or(0),
                },
                _ => ReportState::Failed {
                    code: code.unwrap_or_default(),
                    message: message.unwrap_or_default(),
                },
            };
            out.push(QueuedReport {
                id: id as u64,
                kind: kind.parse().map_err(|_| OutboxError::Corrupt)?,
                category: category.parse().map_err(|_| OutboxError::Corrupt)?,
                value,
                queued_at,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                state,
            });
        }
        Ok(out)
    }

    /// How many reports are pending, sent and failed.
    pub fn counts(&self) -> Result<ReportCounts, OutboxError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT state, COUNT(*) FROM report GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut c = ReportCounts::default();
        for row in rows {
            let (state, n) = row?;
            let n = n as u64;
            match state.as_str() {
                "pending" => c.pending = n,
                "sent" => c.sent = n,
                _ => c.failed = n,
            }
        }
        Ok(c)
    }

    /// Deletes a report whatever its state (a pending one is then never sent); `true` if it
    /// existed.
    pub fn remove(&self, id: u64) -> Result<bool, OutboxError> {
        let id = i64::try_from(id).unwrap_or(-1);
        let n = self
            .conn()?
            .execute("DELETE FROM report WHERE id = ?1", params![id])?;
        Ok(n > 0)
    }

    /// Makes a failed report pending again (sent at the next sync); `true` if it was failed.
    pub fn retry(&self, id: u64) -> Result<bool, OutboxError> {
        let id = i64::try_from(id).unwrap_or(-1);
        let n = self.conn()?.execute(
            "UPDATE report SET state = 'pending', next_attempt_at = 0, attempts = 0,
                    error_code = NULL, error_message = NULL
             WHERE id = ?1 AND state = 'failed'",
            params![id],
        )?;
        Ok(n > 0)
    }

    /// Pending reports due at `now`, oldest first.
    pub(crate) fn due(&self, now: i64) -> Result<Vec<Due>, OutboxError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, kind, category, value, text, contact, attempts FROM report
             WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![now], |r| {
            Ok(Due {
                id: r.get::<_, i64>(0)? as u64,
                kind: r.get(1)?,
                category: r.get(2)?,
                value: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                text: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                contact: r.get(5)?,
                attempts: u32::try_from(r.get::<_, i64>(6)?).unwrap_or(u32::MAX),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The server has the report: keep the receipt, erase the content.
    pub(crate) fn mark_sent(
        &self,
        id: u64,
        tracking_id: &str,
        now: i64,
    ) -> Result<(), OutboxError> {
        self.conn()?.execute(
            "UPDATE report SET state = 'sent', tracking_id = ?2, sent_at = ?3,
                    attempts = attempts + 1, value = NULL, text = NULL, contact = NULL
             WHERE id = ?1",
            params![id as i64, tracking_id, now],
        )?;
        Ok(())
    }

    /// The server refused the report for good.
    pub(crate) fn mark_failed(
        &self,
        id: u64,
        code: &str,
        message: &str,
    ) -> Result<(), OutboxError> {
        self.conn()?.execute(
            "UPDATE report SET state = 'failed', attempts = attempts + 1,
                    error_code = ?2, error_message = ?3
             WHERE id = ?1",
            params![id as i64, code, message],
        )?;
        Ok(())
    }

    /// Try again at `next_attempt_at` (one more attempt counted).
    pub(crate) fn retry_later(&self, id: u64, next_attempt_at: i64) -> Result<(), OutboxError> {
        self.conn()?.execute(
            "UPDATE report SET attempts = attempts + 1, next_attempt_at = ?2 WHERE id = ?1",
            params![id as i64, next_attempt_at],
        )?;
        Ok(())
    }

    /// This installation's `client_id` and the server's backoff for the whole outbox (Unix
    /// seconds; 0: none).
    pub(crate) fn installation(&self) -> Result<(String, i64), OutboxError> {
        Ok(self.conn()?.query_row(
            "SELECT client_id, not_before FROM installation WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    pub(crate) fn set_not_before(&self, at: i64) -> Result<(), OutboxError> {
        self.conn()?.execute(
            "UPDATE installation SET not_before = ?1 WHERE id = 1",
            params![at],
        )?;
        Ok(())
    }

    /// One upload round at a time; a round that panicked (in the host's transport) left every
    /// report in a state it may be retried from.
    pub(crate) fn upload_lock(&self) -> MutexGuard<'_, ()> {
        self.uploading
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

fn io(e: std::io::Error) -> OutboxError {
    OutboxError::Io(e)
}

fn validate(report: &CitizenReport) -> Result<(), OutboxError> {
    identifier::normalize(report.kind, &report.value)
        .map_err(|e| OutboxError::Invalid(format!("reported {}: {e}", report.kind)))?;
    if report.text.trim().is_empty() {
        return Err(OutboxError::Invalid(
            "the report needs a description of what happened".to_string(),
        ));
    }
    if report.text.chars().count() > MAX_TEXT_CHARS {
        return Err(OutboxError::Invalid(format!(
            "the description is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    if report
        .contact
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CONTACT_CHARS)
    {
        return Err(OutboxError::Invalid(format!(
            "the contact is longer than {MAX_CONTACT_CHARS} characters"
        )));
    }
    Ok(())
}

/// 128 random bits as 32 hex digits: this installation's `client_id`.
fn new_client_id() -> Result<String, OutboxError> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| OutboxError::Invalid("no random source for the client id".to_string()))?;
    Ok(crate::hex::encode(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(value: &str) -> CitizenReport {
        CitizenReport {
            kind: Kind::Phone,
            value: value.to_string(),
            category: Category::Refund,
            text: "说要给我退款".to_string(),
            contact: None,
        }
    }

    #[test]
    fn queue_validates_and_lists_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path()).unwrap();
        let a = outbox.queue(&report("138 0013 8000"), 10).unwrap();
        let b = outbox.queue(&report("+86 139 0013 9000"), 11).unwrap();
        assert!(matches!(
            outbox.queue(&report("12"), 12),
            Err(OutboxError::Invalid(m)) if !m.contains("12")
        ));
        let mut empty = report("13800138000");
        empty.text = "  ".to_string();
        assert!(matches!(
            outbox.queue(&empty, 12),
            Err(OutboxError::Invalid(_))
        ));
        let list = outbox.list().unwrap();
        assert_eq!(
            list.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![b.id, a.id]
        );
        assert_eq!(list[1], a);
        assert_eq!(outbox.counts().unwrap().pending, 2);
        assert_eq!(outbox.due(0).unwrap().len(), 2);
        // One client id per installation, kept across opens.
        let (client_id, not_before) = outbox.installation().unwrap();
        assert_eq!((client_id.len(), not_before), (32, 0));
        drop(outbox);
        assert_eq!(
            Outbox::open(dir.path()).unwrap().installation().unwrap().0,
            client_id
        );
    }

    #[test]
    fn sent_reports_keep_the_receipt_and_lose_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path()).unwrap();
        let a = outbox.queue(&report("13800138000"), 10).unwrap();
        outbox.mark_sent(a.id, "T-1", 20).unwrap();
        let list = outbox.list().unwrap();
        assert_eq!(list[0].value, None);
        assert_eq!(
            list[0].state,
            ReportState::Sent {
                tracking_id: "T-1".to_string(),
                sent_at: 20
            }
        );
        let conn = outbox.conn().unwrap();
        let text: Option<String> = conn
            .query_row(
                "SELECT text FROM report WHERE id = ?1",
                [a.id as i64],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(text, None);
    }

    #[test]
    fn a_damaged_file_is_set_aside_and_a_newer_one_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(OUTBOX_FILE), vec![0x5a; 4096]).unwrap();
        assert!(matches!(
            Outbox::open(dir.path()),
            Err(OutboxError::Database(_))
        ));
        let outbox = Outbox::open_or_set_aside(dir.path()).unwrap();
        outbox.queue(&report("13800138000"), 1).unwrap();
        let aside = std::fs::read(dir.path().join(format!("{OUTBOX_FILE}.damaged"))).unwrap();
        assert_eq!(aside, vec![0x5a; 4096]);
        drop(outbox);

        let conn = Connection::open(dir.path().join(OUTBOX_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            Outbox::open_or_set_aside(dir.path()),
            Err(OutboxError::TooNew { found: 99 })
        ));
        // Untouched: the report is still there for the newer build.
        let conn = Connection::open(dir.path().join(OUTBOX_FILE)).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM report", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn debug_output_holds_no_report_content() {
        let r = report("13800138000");
        let dbg = format!("{r:?}");
        assert!(
            !dbg.contains("13800138000") && !dbg.contains("退款"),
            "{dbg}"
        );
    }
}
