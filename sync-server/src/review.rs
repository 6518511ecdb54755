//! Review: the queue of tips grouped by identifier, and proposals under the four-eyes rule.
//!
//! ## Proposals
//! An analyst proposes `add` (a new entry), `change` (another category or risk for a listed
//! entry) or `revoke` (take a listed entry off; an **appeal** is a revocation of a false
//! positive, proposed through its own endpoint and marked as such). At most one open proposal
//! (pending or approved, not yet published) exists per identifier, so the list changes through
//! one reviewed decision at a time.
//!
//! ## Four eyes
//! A second analyst approves or rejects. The approver may not be the proposer: neither the
//! same token nor the same holder name. `single_reviewer` (development and the demo) lets the
//! proposer approve and marks the approval's audit row. The proposer may reject (withdraw)
//! their own proposal.
//!
//! ## Protected numbers
//! An add or change for a protected number, or a prefix rule covering one, is refused at
//! proposal; publishing checks again (the protected list may have grown since).

use crate::audit::{self, AuditRecord};
use crate::auth::Caller;
use crate::calendar::Calendar;
use crate::db::immediate;
use crate::error::{AppError, AppResult};
use crate::ident::{IdentifierView, key_from_db};
use crate::protected::ProtectedList;
use fraudshield_core::entry::{Category, EntryValue, ReportBucket, Risk};
use fraudshield_core::key::Key;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

/// What a proposal does to the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// List a new identifier.
    Add,
    /// Change a listed entry's category or risk.
    Change,
    /// Take a listed entry off the list (travels to phones as a removal).
    Revoke,
}

impl Action {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Change => "change",
            Action::Revoke => "revoke",
        }
    }

    fn parse(s: &str) -> rusqlite::Result<Action> {
        match s {
            "add" => Ok(Action::Add),
            "change" => Ok(Action::Change),
            "revoke" => Ok(Action::Revoke),
            _ => Err(rusqlite::Error::InvalidColumnType(
                0,
                "action".into(),
                rusqlite::types::Type::Text,
            )),
        }
    }
}

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for a second analyst.
    Pending,
    /// Approved; goes out with the next release.
    Approved,
    /// Rejected (or withdrawn).
    Rejected,
    /// Out in release `release`.
    Published,
    /// Refused at publish: it would list a protected number.
    Vetoed,
}

impl Status {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Published => "published",
            Status::Vetoed => "vetoed",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "pending" => Status::Pending,
            "approved" => Status::Approved,
            "rejected" => Status::Rejected,
            "published" => Status::Published,
            _ => Status::Vetoed,
        }
    }
}

/// A proposal as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Proposal {
    /// Id.
    pub id: i64,
    /// Add, change or revoke.
    pub action: Action,
    /// A revocation of a false positive.
    pub appeal: bool,
    /// Which identifier.
    pub identifier: IdentifierView,
    /// New category (add, change).
    #[schema(value_type = Option<String>)]
    pub category: Option<Category>,
    /// New risk (add, change).
    #[schema(value_type = Option<String>)]
    pub risk: Option<Risk>,
    /// Why.
    pub reason: String,
    /// Tips it rests on.
    pub tips: Vec<String>,
    /// The import batch it belongs to.
    pub batch_id: Option<i64>,
    /// Proposer's token id.
    pub proposed_by: String,
    /// Proposer's name.
    pub proposer: String,
    /// RFC 3339.
    pub proposed_at: String,
    /// Where it stands.
    pub status: Status,
    /// Reviewer's token id.
    pub reviewed_by: Option<String>,
    /// Reviewer's name.
    pub reviewer: Option<String>,
    /// RFC 3339.
    pub reviewed_at: Option<String>,
    /// The reviewer's reason.
    pub review_reason: Option<String>,
    /// Approved under `single_reviewer`.
    pub single_reviewer: bool,
    /// The release it went out in.
    pub release: Option<u64>,
}

const PROPOSAL_COLUMNS: &str = "id, action, appeal, key, category, risk, reason, tips, batch_id, proposed_by, proposer, proposed_at, status, reviewed_by, reviewer, reviewed_at, review_reason, single_reviewer, release, prefix";

/// Reads a proposal from a row of [`PROPOSAL_COLUMNS`].
fn proposal_from_row(r: &Row<'_>) -> rusqlite::Result<Proposal> {
    let key = key_from_db(&r.get::<_, Vec<u8>>(3)?)?;
    let category: Option<String> = r.get(4)?;
    let risk: Option<String> = r.get(5)?;
    let tips: String = r.get(7)?;
    let action = Action::parse(&r.get::<_, String>(1)?)?;
    Ok(Proposal {
        id: r.get(0)?,
        action,
        appeal: r.get(2)?,
        identifier: IdentifierView::of(&key, r.get(19)?),
        category: category.and_then(|c| c.parse().ok()),
        risk: risk.and_then(|c| c.parse().ok()),
        reason: r.get(6)?,
        tips: serde_json::from_str(&tips).unwrap_or_default(),
        batch_id: r.get(8)?,
        proposed_by: r.get(9)?,
        proposer: r.get(10)?,
        proposed_at: Calendar::rfc3339(r.get(11)?),
        status: Status::parse(&r.get::<_, String>(12)?),
        reviewed_by: r.get(13)?,
        reviewer: r.get(14)?,
        reviewed_at: r.get::<_, Option<i64>>(15)?.map(Calendar::rfc3339),
        review_reason: r.get(16)?,
        single_reviewer: r.get(17)?,
        release: r.get::<_, Option<i64>>(18)?.map(|v| v as u64),
    })
}

/// A proposal by id.
pub fn get(conn: &Connection, id: i64) -> AppResult<Option<Proposal>> {
    let p = conn
        .query_row(
            &format!("SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE id = ?1"),
            params![id],
            proposal_from_row,
        )
        .optional()?;
    Ok(p)
}

/// Proposals with `status` (all when `None`), newest first.
pub fn list(conn: &Connection, status: Option<Status>, limit: u32) -> AppResult<Vec<Proposal>> {
    let mut st = conn.prepare(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM proposals
         WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = st.query_map(
        params![status.map(|s| s.as_str()), limit],
        proposal_from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every proposal about `key` (any status), newest first: an identifier's history.
pub fn for_key(conn: &Connection, key: &Key, limit: u32) -> AppResult<Vec<Proposal>> {
    let mut st = conn.prepare(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE key = ?1 ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = st.query_map(params![key.as_bytes(), limit], proposal_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A new proposal, validated.
#[derive(Debug, Clone)]
pub struct NewProposal {
    /// Add, change or revoke.
    pub action: Action,
    /// An appeal (revocations only).
    pub appeal: bool,
    /// The identifier's key.
    pub key: Key,
    /// A phone prefix rule.
    pub prefix: bool,
    /// Category (add, change).
    pub category: Option<Category>,
    /// Risk (add, change).
    pub risk: Option<Risk>,
    /// Why.
    pub reason: String,
    /// Tracking ids of the tips it rests on.
    pub tips: Vec<String>,
}

/// The listed entry for `key`, if any.
pub fn current_entry(conn: &Connection, key: &Key) -> AppResult<Option<Entry>> {
    Ok(conn
        .query_row(
            "SELECT category, risk, reports, prefix, release FROM entries WHERE key = ?1",
            params![key.as_bytes()],
            |r| {
                Ok(Entry {
                    category: r.get::<_, String>(0)?.parse().unwrap_or(Category::Other),
                    risk: r.get::<_, String>(1)?.parse().unwrap_or(Risk::Low),
                    reports: r.get(2)?,
                    prefix: r.get(3)?,
                    release: r.get::<_, i64>(4)? as u64,
                })
            },
        )
        .optional()?)
}

/// A listed entry as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    /// Category.
    #[schema(value_type = String)]
    pub category: Category,
    /// Risk.
    #[schema(value_type = String)]
    pub risk: Risk,
    /// Citizens' reports counted when it was published.
    pub reports: u32,
    /// A prefix rule.
    pub prefix: bool,
    /// The release that last changed it.
    pub release: u64,
}

/// Records a proposal (audited) after checking it against the list, open proposals, the
/// protected numbers and the tips it cites.
pub fn propose(
    conn: &mut Connection,
    caller: &Caller,
    p: &NewProposal,
    protected: &ProtectedList,
    now: i64,
) -> AppResult<Proposal> {
    let reason = p.reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::unprocessable(
            "invalid_reason",
            "a reason of 1-2000 characters is required",
        ));
    }
    if p.appeal && p.action != Action::Revoke {
        return Err(AppError::unprocessable(
            "invalid_proposal",
            "only a revocation can be an appeal",
        ));
    }
    let (category, risk) = match p.action {
        Action::Add | Action::Change => match (p.category, p.risk) {
            (Some(c), Some(r)) => (Some(c), Some(r)),
            _ => {
                return Err(AppError::unprocessable(
                    "invalid_proposal",
                    "add and change need a category and a risk",
                ));
            }
        },
        Action::Revoke => (None, None),
    };
    if p.action != Action::Revoke && protected.vetoes(&p.key, p.prefix) {
        return Err(AppError::unprocessable(
            "protected_number",
            "a protected number (emergency or anti-fraud line) can never be listed",
        ));
    }
    if p.tips.len() > 1000 {
        return Err(AppError::unprocessable(
            "invalid_proposal",
            "at most 1000 tips per proposal",
        ));
    }
    let tx = immediate(conn)?;
    let listed = current_entry(&tx, &p.key)?;
    match (p.action, &listed) {
        (Action::Add, Some(_)) => {
            return Err(AppError::conflict(
                "already_listed",
                "this identifier is already listed: propose a change or a revocation",
            ));
        }
        (Action::Change | Action::Revoke, None) => {
            return Err(AppError::conflict(
                "not_listed",
                "this identifier is not listed",
            ));
        }
        (Action::Change, Some(e)) if e.prefix != p.prefix => {
            return Err(AppError::conflict(
                "not_listed",
                "the listed entry is not of this shape (prefix rule or exact number)",
            ));
        }
        _ => {}
    }
    let open: Option<i64> = tx
        .query_row(
            "SELECT id FROM proposals WHERE key = ?1 AND status IN ('pending', 'approved') LIMIT 1",
            params![p.key.as_bytes()],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = open {
        return Err(AppError::conflict(
            "open_proposal_exists",
            format!("proposal {id} for this identifier is still open; approve or reject it first"),
        ));
    }
    for t in &p.tips {
        let tip_key: Option<Vec<u8>> = tx
            .query_row(
                "SELECT key FROM tips WHERE tracking_id = ?1",
                params![t],
                |r| r.get(0),
            )
            .optional()?;
        if tip_key.as_deref() != Some(p.key.as_bytes()) {
            return Err(AppError::unprocessable(
                "tip_mismatch",
                "a cited tip does not exist or is about another identifier",
            ));
        }
    }
    let tips_json = serde_json::to_string(&p.tips).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO proposals(action, appeal, key, prefix, category, risk, reason, tips, proposed_by, proposer, proposed_at, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending')",
        params![
            p.action.as_str(),
            p.appeal,
            p.key.as_bytes(),
            p.prefix,
            category.map(|c| c.as_str()),
            risk.map(|r| r.as_str()),
            reason,
            tips_json,
            caller.token_id,
            caller.name,
            now
        ],
    )?;
    let id = tx.last_insert_rowid();
    audit::append(
        &tx,
        &AuditRecord {
            action: if p.appeal { "appeal" } else { "propose" },
            key: Some(p.key.as_bytes()),
            proposal_id: Some(id),
            reason: Some(reason),
            tips: &p.tips,
            detail: Some(serde_json::json!({
                "proposal_action": p.action.as_str(),
                "category": category.map(|c| c.as_str()),
                "risk": risk.map(|r| r.as_str()),
                "prefix": p.prefix,
            })),
            ..AuditRecord::by(caller, now)
        },
    )?;
    tx.commit()?;
    get(conn, id)?.ok_or_else(|| AppError::internal("new proposal vanished"))
}

/// Approves (`approve = true`) or rejects a pending proposal, enforcing four eyes on
/// approval. Audited.
pub fn review(
    conn: &mut Connection,
    caller: &Caller,
    id: i64,
    approve: bool,
    reason: Option<&str>,
    single_reviewer: bool,
    now: i64,
) -> AppResult<Proposal> {
    let reason = review_reason(approve, reason)?;
    let tx = immediate(conn)?;
    let row: Option<(String, String, String, Vec<u8>, i64)> = tx
        .query_row(
            "SELECT status, proposed_by, proposer, key, batch_id IS NOT NULL FROM proposals WHERE id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((status, proposed_by, proposer, key, _batch)) = row else {
        return Err(AppError::not_found("proposal"));
    };
    if status != "pending" {
        return Err(AppError::conflict(
            "not_pending",
            format!("proposal {id} is {status}, not pending"),
        ));
    }
    let relaxed = four_eyes(
        caller,
        (&proposed_by, &proposer),
        approve,
        single_reviewer,
        "four eyes: the proposer cannot approve their own proposal; another analyst must",
    )?;
    let new_status = if approve { "approved" } else { "rejected" };
    tx.execute(
        "UPDATE proposals SET status = ?2, reviewed_by = ?3, reviewer = ?4, reviewed_at = ?5, review_reason = ?6, single_reviewer = ?7
         WHERE id = ?1",
        params![id, new_status, caller.token_id, caller.name, now, reason, relaxed],
    )?;
    audit::append(
        &tx,
        &AuditRecord {
            action: if approve { "approve" } else { "reject" },
            key: Some(&key),
            proposal_id: Some(id),
            reason,
            single_reviewer: relaxed,
            detail: relaxed.then(|| {
                serde_json::json!({"note": "four-eyes rule relaxed by --single-reviewer: approved by its proposer"})
            }),
            ..AuditRecord::by(caller, now)
        },
    )?;
    tx.commit()?;
    get(conn, id)?.ok_or_else(|| AppError::internal("proposal vanished"))
}

/// The reason given with an approval or a rejection (of a proposal or a batch): trimmed,
/// required to reject, at most 2000 characters.
pub fn review_reason(approve: bool, reason: Option<&str>) -> AppResult<Option<&str>> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !approve && reason.is_none() {
        return Err(AppError::unprocessable(
            "invalid_reason",
            "a rejection needs a reason",
        ));
    }
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::unprocessable(
            "invalid_reason",
            "a reason has at most 2000 characters",
        ));
    }
    Ok(reason)
}

/// The four-eyes rule for a decision by `caller` on what `proposer` (token id, holder name)
/// proposed: approving one's own proposal (same token or same name) is refused with `refusal`
/// unless `single_reviewer`; rejecting (withdrawing) it is allowed. Returns whether the rule
/// was relaxed, which the audit row must say.
pub fn four_eyes(
    caller: &Caller,
    (token_id, name): (&str, &str),
    approve: bool,
    single_reviewer: bool,
    refusal: &'static str,
) -> AppResult<bool> {
    let own = token_id == caller.token_id || name == caller.name;
    if approve && own && !single_reviewer {
        return Err(AppError::forbidden(refusal));
    }
    Ok(approve && own)
}

/// One tip in a queue row.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueTip {
    /// Tracking id.
    pub tracking_id: String,
    /// The tipster's category.
    pub category: String,
    /// The tipster's words.
    pub text: String,
    /// RFC 3339.
    pub received_at: String,
    /// RFC 3339.
    pub due_at: String,
    /// Past its due date.
    pub overdue: bool,
    /// Merged repeats from the same client.
    pub repeats: u32,
    /// A contact was left (read it through the contact endpoint).
    pub has_contact: bool,
}

/// One identifier in the review queue.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueRow {
    /// The identifier.
    pub identifier: IdentifierView,
    /// Distinct reporting clients.
    pub distinct_reporters: u32,
    /// Tips counted as evidence (repeats inside the merge window are not).
    pub evidence: u32,
    /// RFC 3339 of the first tip.
    pub first_seen: String,
    /// RFC 3339 of the latest tip or repeat.
    pub last_seen: String,
    /// RFC 3339 of the earliest due date among unanswered tips.
    pub due_at: String,
    /// An unanswered tip is past its due date.
    pub overdue: bool,
    /// The unanswered tips (at most 50, oldest first).
    pub tips: Vec<QueueTip>,
    /// The listed entry, if any.
    pub entry: Option<Entry>,
    /// The open proposal, if any.
    pub open_proposal: Option<Proposal>,
}

/// The review queue: identifiers with unanswered tips, overdue first (earliest due first),
/// then by distinct reporters.
pub fn queue(
    conn: &Connection,
    now: i64,
    overdue_only: bool,
    limit: u32,
    offset: u32,
) -> AppResult<Vec<QueueRow>> {
    let mut st = conn.prepare(
        "SELECT key, COUNT(DISTINCT client_key), COUNT(*), MIN(received_at), MAX(last_seen), MIN(due_at)
         FROM tips WHERE answered_at IS NULL GROUP BY key
         HAVING ?1 = 0 OR MIN(due_at) < ?2
         ORDER BY MIN(due_at) < ?2 DESC, MIN(due_at), COUNT(DISTINCT client_key) DESC
         LIMIT ?3 OFFSET ?4",
    )?;
    let groups = st
        .query_map(params![overdue_only, now, limit, offset], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut tips_st = conn.prepare(
        "SELECT t.tracking_id, t.category, t.text, t.received_at, t.due_at, t.repeats, c.tip_id IS NOT NULL
         FROM tips t LEFT JOIN tip_contacts c ON c.tip_id = t.id
         WHERE t.key = ?1 AND t.answered_at IS NULL ORDER BY t.received_at LIMIT 50",
    )?;
    let mut out = Vec::with_capacity(groups.len());
    for (key, reporters, evidence, first, last, due) in groups {
        let key = key_from_db(&key)?;
        let tips = tips_st
            .query_map(params![key.as_bytes()], |r| {
                let due: i64 = r.get(4)?;
                Ok(QueueTip {
                    tracking_id: r.get(0)?,
                    category: r.get(1)?,
                    text: r.get(2)?,
                    received_at: Calendar::rfc3339(r.get(3)?),
                    due_at: Calendar::rfc3339(due),
                    overdue: due < now,
                    repeats: r.get(5)?,
                    has_contact: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let entry = current_entry(conn, &key)?;
        let open_id: Option<i64> = conn
            .query_row(
                "SELECT id FROM proposals WHERE key = ?1 AND status IN ('pending', 'approved') LIMIT 1",
                params![key.as_bytes()],
                |r| r.get(0),
            )
            .optional()?;
        let open_proposal = match open_id {
            Some(id) => get(conn, id)?,
            None => None,
        };
        out.push(QueueRow {
            identifier: IdentifierView::of(&key, entry.as_ref().is_some_and(|e| e.prefix)),
            distinct_reporters: reporters,
            evidence,
            first_seen: Calendar::rfc3339(first),
            last_seen: Calendar::rfc3339(last),
            due_at: Calendar::rfc3339(due),
            overdue: due < now,
            tips,
            entry,
            open_proposal,
        });
    }
    Ok(out)
}

/// The value an approved add/change publishes: its category and risk, and the report bucket
/// of the distinct clients that reported the identifier (or the batch's count, if larger).
pub fn entry_value(
    conn: &Connection,
    key: &Key,
    category: Category,
    risk: Risk,
    prefix: bool,
    batch_reports: Option<u32>,
) -> AppResult<(EntryValue, u32)> {
    let reporters: u32 = conn
        .prepare_cached("SELECT COUNT(DISTINCT client_key) FROM tips WHERE key = ?1")?
        .query_row(params![key.as_bytes()], |r| r.get(0))?;
    let reports = reporters.max(batch_reports.unwrap_or(0));
    Ok((
        EntryValue {
            category,
            risk,
            reports: ReportBucket::from_count(reports),
            prefix,
        },
        reports,
    ))
}
