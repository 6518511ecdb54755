//! Citizens' tips: intake, merging of repeats, status for the tipster, answers, contacts.
//!
//! ## What is stored
//! A tip is the identifier's key, the category, the free text, the due date of its answer,
//! and a **client key**: SHA-256 over the reporting token id and the app's `client_id` (or the
//! peer address when the app sends none), so distinct reporters can be counted without keeping
//! any device identifier. The tipster's contact, when given, is stored in its own table
//! (`tip_contacts`), readable only through the analysts' contact endpoint (each read is
//! audited), never logged, and deleted `review.contact_retention_days` after the answer.
//!
//! ## Evidence and repeats
//! One tip per client per identifier per merge window (15 minutes by default) counts as
//! evidence. A repeat inside the window is merged into the first tip (its `repeats` counter and
//! `last_seen` move; its text is not stored again) and the same tracking id is returned.

use crate::audit::{self, AuditRecord};
use crate::auth::{Caller, random_bytes};
use crate::calendar::{Calendar, DAY_SECS};
use crate::db::immediate;
use crate::error::{AppError, AppResult};
use fraudshield_core::entry::Category;
use fraudshield_core::hex::encode as hex;
use fraudshield_core::key::Key;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// A tip ready to be recorded (already validated and normalized).
#[derive(Debug, Clone)]
pub struct NewTip {
    /// The identifier's key.
    pub key: Key,
    /// What the tipster says it is.
    pub category: Category,
    /// The tipster's words.
    pub text: String,
    /// How to reach the tipster, if they want an answer by other means.
    pub contact: Option<String>,
    /// SHA-256 of the reporting token id and the client id (or address).
    pub client_key: [u8; 32],
    /// The reporting app's token id.
    pub token_id: String,
}

/// What intake did with a tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The tracking id (the earlier tip's when merged).
    pub tracking_id: String,
    /// Whether it was merged into an earlier tip from the same client.
    pub merged: bool,
    /// `received` or `answered`.
    pub status: TipStatus,
}

/// Where a tip stands, as the tipster sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TipStatus {
    /// Received, not answered yet.
    Received,
    /// Answered.
    Answered,
}

/// The analyst's verdict on a tip, as the tipster sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The tip was confirmed (the identifier is or will be listed).
    Approved,
    /// The tip was not confirmed.
    Rejected,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
        }
    }
}

/// The answer to a tip.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    /// Approved or rejected.
    pub outcome: Outcome,
    /// The message the tipster sees.
    pub message: String,
    /// RFC 3339.
    pub answered_at: String,
}

/// What `GET /v1/reports/{tracking_id}` shows.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TipView {
    /// The tracking id.
    pub tracking_id: String,
    /// Received or answered.
    pub status: TipStatus,
    /// RFC 3339.
    pub received_at: String,
    /// When the answer is due (RFC 3339).
    pub answer_due_by: String,
    /// The answer, once given.
    pub answer: Option<Answer>,
}

/// A new random tracking id: 128 bits, 32 lower-case hex digits.
pub fn new_tracking_id() -> AppResult<String> {
    let mut b = [0u8; 16];
    random_bytes(&mut b)?;
    Ok(hex(&b))
}

/// Whether `s` has the shape of a tracking id (checked before touching the database).
pub fn is_tracking_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Records a tip durably (or merges it into the same client's tip about the same identifier
/// from the last `merge_window` seconds). Returns only after the commit. The server's intake
/// goes through [`crate::intake`] instead (many tips per commit); this is the one-tip form.
pub fn record(
    conn: &mut Connection,
    tip: &NewTip,
    now: i64,
    merge_window: i64,
    calendar: &Calendar,
) -> AppResult<Recorded> {
    let tx = immediate(conn)?;
    let recorded = record_in(&tx, tip, now, merge_window, calendar.due_at(now))?;
    tx.commit()?;
    Ok(recorded)
}

/// One tip waiting in a batch: the tip, when it was received, when its answer is due.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The tip.
    pub tip: NewTip,
    /// Unix seconds at which the tip was received.
    pub now: i64,
    /// Unix seconds by which it must be answered ([`Calendar::due_at`]).
    pub due_at: i64,
}

/// Records a batch of tips in **one** transaction (one fsync for all of them): the group
/// commit behind [`crate::intake`]. Tips are taken in order, each inside its own savepoint, so
/// a later tip from the same client about the same identifier merges into an earlier one of
/// the same batch exactly as it would across batches, and one tip that fails (its own error in
/// the result) takes nothing of the others with it. The outer error means nothing was stored.
pub fn record_batch(
    conn: &mut Connection,
    batch: &[Pending],
    merge_window: i64,
) -> AppResult<Vec<AppResult<Recorded>>> {
    let mut tx = immediate(conn)?;
    let mut out = Vec::with_capacity(batch.len());
    for p in batch {
        let sp = tx.savepoint()?;
        match record_in(&sp, &p.tip, p.now, merge_window, p.due_at) {
            Ok(r) => {
                sp.commit()?;
                out.push(Ok(r));
            }
            // Dropping the savepoint rolls back this tip's statements only.
            Err(e) => out.push(Err(e)),
        }
    }
    tx.commit()?;
    Ok(out)
}

/// The statements of [`record`] inside a transaction the caller commits.
fn record_in(
    tx: &Connection,
    tip: &NewTip,
    now: i64,
    merge_window: i64,
    due_at: i64,
) -> AppResult<Recorded> {
    let earlier: Option<(i64, String, Option<i64>)> = tx
        .prepare_cached(
            "SELECT id, tracking_id, answered_at FROM tips
             WHERE client_key = ?1 AND key = ?2 AND received_at > ?3
             ORDER BY received_at DESC LIMIT 1",
        )?
        .query_row(
            params![&tip.client_key[..], tip.key.as_bytes(), now - merge_window],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((id, tracking_id, answered)) = earlier {
        tx.prepare_cached("UPDATE tips SET repeats = repeats + 1, last_seen = ?2 WHERE id = ?1")?
            .execute(params![id, now])?;
        return Ok(Recorded {
            tracking_id,
            merged: true,
            status: if answered.is_some() {
                TipStatus::Answered
            } else {
                TipStatus::Received
            },
        });
    }
    let tracking_id = new_tracking_id()?;
    tx.prepare_cached(
        "INSERT INTO tips(tracking_id, key, category, text, client_key, token_id, received_at, last_seen, due_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
    )?
    .execute(params![
        tracking_id,
        tip.key.as_bytes(),
        tip.category.as_str(),
        tip.text,
        &tip.client_key[..],
        tip.token_id,
        now,
        due_at
    ])?;
    if let Some(contact) = &tip.contact {
        let id = tx.last_insert_rowid();
        tx.prepare_cached("INSERT INTO tip_contacts(tip_id, contact) VALUES (?1, ?2)")?
            .execute(params![id, contact])?;
    }
    Ok(Recorded {
        tracking_id,
        merged: false,
        status: TipStatus::Received,
    })
}

/// The tipster's view of a tip, if the tracking id exists.
pub fn view(conn: &Connection, tracking_id: &str) -> AppResult<Option<TipView>> {
    let row = conn
        .query_row(
            "SELECT received_at, due_at, answered_at, outcome, answer FROM tips WHERE tracking_id = ?1",
            params![tracking_id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((received, due, answered_at, outcome, message)) = row else {
        return Ok(None);
    };
    let answer = match (answered_at, outcome, message) {
        (Some(at), Some(outcome), Some(message)) => Some(Answer {
            outcome: if outcome == "approved" {
                Outcome::Approved
            } else {
                Outcome::Rejected
            },
            message,
            answered_at: Calendar::rfc3339(at),
        }),
        _ => None,
    };
    Ok(Some(TipView {
        tracking_id: tracking_id.to_owned(),
        status: if answer.is_some() {
            TipStatus::Answered
        } else {
            TipStatus::Received
        },
        received_at: Calendar::rfc3339(received),
        answer_due_by: Calendar::rfc3339(due),
        answer,
    }))
}

/// Answers a tip: the tipster sees `outcome` and `message` (trimmed, 1-1000 characters); the contact is scheduled for
/// deletion `retention_days` from now. Audited.
pub fn answer(
    conn: &mut Connection,
    caller: &Caller,
    tracking_id: &str,
    outcome: Outcome,
    message: &str,
    retention_days: u32,
    now: i64,
) -> AppResult<TipView> {
    let message = message.trim();
    if message.is_empty() || message.chars().count() > 1000 {
        return Err(AppError::unprocessable(
            "invalid_message",
            "the answer needs a message of 1-1000 characters",
        ));
    }
    let tx = immediate(conn)?;
    let row: Option<(i64, Vec<u8>, Option<i64>)> = tx
        .query_row(
            "SELECT id, key, answered_at FROM tips WHERE tracking_id = ?1",
            params![tracking_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((id, key, answered)) = row else {
        return Err(AppError::not_found("tip"));
    };
    if answered.is_some() {
        return Err(AppError::conflict(
            "already_answered",
            "this tip has already been answered",
        ));
    }
    tx.execute(
        "UPDATE tips SET answered_at = ?2, answered_by = ?3, outcome = ?4, answer = ?5 WHERE id = ?1",
        params![id, now, caller.token_id, outcome.as_str(), message],
    )?;
    tx.execute(
        "UPDATE tip_contacts SET delete_after = ?2 WHERE tip_id = ?1",
        params![id, now + i64::from(retention_days) * DAY_SECS],
    )?;
    audit::append(
        &tx,
        &AuditRecord {
            action: "answer_tip",
            key: Some(&key),
            reason: Some(message),
            tips: &[tracking_id.to_owned()],
            detail: Some(serde_json::json!({ "outcome": outcome.as_str() })),
            ..AuditRecord::by(caller, now)
        },
    )?;
    tx.commit()?;
    view(conn, tracking_id)?.ok_or_else(|| AppError::internal("answered tip vanished"))
}

/// The tipster's contact (analysts only; each read is audited). `None` when none was given
/// or it has been deleted after its retention period.
pub fn contact(
    conn: &mut Connection,
    caller: &Caller,
    tracking_id: &str,
    now: i64,
) -> AppResult<Option<String>> {
    let tx = immediate(conn)?;
    let row: Option<(Vec<u8>, Option<String>)> = tx
        .query_row(
            "SELECT t.key, c.contact FROM tips t LEFT JOIN tip_contacts c ON c.tip_id = t.id
             WHERE t.tracking_id = ?1",
            params![tracking_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((key, contact)) = row else {
        return Err(AppError::not_found("tip"));
    };
    audit::append(
        &tx,
        &AuditRecord {
            action: "read_contact",
            key: Some(&key),
            tips: &[tracking_id.to_owned()],
            ..AuditRecord::by(caller, now)
        },
    )?;
    tx.commit()?;
    Ok(contact)
}

/// Deletes contacts whose retention ended; returns how many.
pub fn sweep_contacts(conn: &Connection, now: i64) -> AppResult<usize> {
    Ok(conn.execute(
        "DELETE FROM tip_contacts WHERE delete_after IS NOT NULL AND delete_after <= ?1",
        params![now],
    )?)
}

/// Counts for metrics: (received total, answered total, open and overdue now).
pub fn counts(conn: &Connection, now: i64) -> AppResult<(u64, u64, u64)> {
    Ok(conn.query_row(
        "SELECT COUNT(*), COUNT(answered_at),
                COALESCE(SUM(answered_at IS NULL AND due_at < ?1), 0) FROM tips",
        params![now],
        |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
            ))
        },
    )?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::ReviewConfig;
    use fraudshield_core::identifier::normalize;
    use fraudshield_core::kind::Kind;

    fn setup() -> (Connection, Calendar, NewTip) {
        let mut c = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut c).unwrap();
        let cal = Calendar::from_config(&ReviewConfig::default()).unwrap();
        let tip = NewTip {
            key: normalize(Kind::Phone, "13800138000").unwrap().key(),
            category: Category::PoliceImpersonation,
            text: "said he was police".into(),
            contact: Some("wechat: abc".into()),
            client_key: [7; 32],
            token_id: "t1".into(),
        };
        (c, cal, tip)
    }

    #[test]
    fn a_repeat_inside_the_window_is_merged_and_after_it_counts_again() {
        let (mut c, cal, tip) = setup();
        let a = record(&mut c, &tip, 1000, 900, &cal).unwrap();
        assert!(!a.merged && is_tracking_id(&a.tracking_id));
        let b = record(&mut c, &tip, 1800, 900, &cal).unwrap();
        assert!(b.merged);
        assert_eq!(a.tracking_id, b.tracking_id);
        let c2 = record(&mut c, &tip, 1000 + 901, 900, &cal).unwrap();
        assert!(!c2.merged, "the window counts from the first tip");
        let other = NewTip {
            client_key: [8; 32],
            ..tip.clone()
        };
        assert!(!record(&mut c, &other, 1900, 900, &cal).unwrap().merged);
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM tips", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
        let contacts: i64 = c
            .query_row("SELECT COUNT(*) FROM tip_contacts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(contacts, 3);
    }

    #[test]
    fn answering_schedules_the_contact_for_deletion() {
        let (mut c, cal, tip) = setup();
        let r = record(&mut c, &tip, 1000, 900, &cal).unwrap();
        let who = Caller {
            token_id: "a1".into(),
            name: "alice".into(),
            role: crate::auth::Role::Analyst,
            request_id: None,
        };
        assert_eq!(
            contact(&mut c, &who, &r.tracking_id, 1001)
                .unwrap()
                .as_deref(),
            Some("wechat: abc")
        );
        let v = answer(
            &mut c,
            &who,
            &r.tracking_id,
            Outcome::Approved,
            "listed",
            30,
            2000,
        )
        .unwrap();
        assert_eq!(v.status, TipStatus::Answered);
        assert!(
            answer(
                &mut c,
                &who,
                &r.tracking_id,
                Outcome::Rejected,
                "x",
                30,
                2001
            )
            .is_err()
        );
        assert_eq!(sweep_contacts(&c, 2000 + 30 * DAY_SECS - 1).unwrap(), 0);
        assert_eq!(sweep_contacts(&c, 2000 + 30 * DAY_SECS).unwrap(), 1);
        assert_eq!(contact(&mut c, &who, &r.tracking_id, 1).unwrap(), None);
    }
}
