//! Bulk case data: one import is one **batch** of `add` proposals (a row in `batches` with its
//! provenance, and one proposal per identifier carrying the batch id and the case's report
//! count), approved or rejected **as a unit** by a second analyst under the same four-eyes rule
//! as single proposals.
//!
//! [`import`] writes the whole batch in one transaction: nothing half-done. Rows that cannot
//! become proposals are counted, not fatal: a protected number (never listed), an identifier
//! already listed or with an open proposal, a repeat inside the batch. [`review`] approves or
//! rejects every pending proposal of the batch at once, with one audit row; the next publish
//! carries them like any approved proposal.

use crate::audit::{self, AuditRecord};
use crate::auth::Caller;
use crate::db::immediate;
use crate::error::{AppError, AppResult};
use crate::protected::ProtectedList;
use fraudshield_core::entry::{Category, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::release::keys::sha256;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// One identifier of a batch.
#[derive(Debug, Clone)]
pub struct BatchRow {
    /// The identifier's key.
    pub key: Key,
    /// A phone prefix rule.
    pub prefix: bool,
    /// The kind of fraud.
    pub category: Category,
    /// The risk.
    pub risk: Risk,
    /// Reports in the case data (published as a log-scale bucket).
    pub reports: u32,
}

/// What [`import`] did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Imported {
    /// The batch id (approve it with `POST /v1/batches/{id}/approve`).
    pub batch_id: i64,
    /// Proposals created, pending review.
    pub proposed: u64,
    /// Rows for protected numbers: never listed.
    pub skipped_protected: u64,
    /// Rows already listed or with an open proposal.
    pub skipped_listed: u64,
    /// Rows repeating an identifier earlier in the batch.
    pub skipped_repeats: u64,
}

/// What [`review`] did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reviewed {
    /// The batch.
    pub batch_id: i64,
    /// `approved` or `rejected`.
    pub status: String,
    /// Proposals decided.
    pub proposals: u64,
}

/// Records `rows` as one batch of pending `add` proposals by `caller` (one transaction, one
/// audit row). `source` names where the data came from (a file name, a case number).
pub fn import(
    conn: &mut Connection,
    caller: &Caller,
    source: &str,
    rows: &[BatchRow],
    reason: &str,
    protected: &ProtectedList,
    now: i64,
) -> AppResult<Imported> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::unprocessable(
            "invalid_reason",
            "a reason of 1-2000 characters is required",
        ));
    }
    let mut provenance = Vec::with_capacity(rows.len() * 24);
    for r in rows {
        provenance.extend_from_slice(r.key.as_bytes());
        provenance.extend_from_slice(
            format!(
                "\0{}\0{}\0{}\0{}\n",
                r.prefix, r.category, r.risk, r.reports
            )
            .as_bytes(),
        );
    }
    let tx = immediate(conn)?;
    tx.execute(
        "INSERT INTO batches(source, sha256, rows, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![source, sha256(&provenance).to_vec(), rows.len() as i64, now, caller.token_id],
    )?;
    let batch_id = tx.last_insert_rowid();
    let mut done = Imported {
        batch_id,
        proposed: 0,
        skipped_protected: 0,
        skipped_listed: 0,
        skipped_repeats: 0,
    };
    {
        let mut listed = tx.prepare_cached(
            "SELECT 1 FROM entries WHERE key = ?1
             UNION ALL SELECT 1 FROM proposals WHERE key = ?1 AND status IN ('pending', 'approved')
             LIMIT 1",
        )?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO proposals(action, key, prefix, category, risk, reports, reason, batch_id, proposed_by, proposer, proposed_at, status)
             VALUES ('add', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending')",
        )?;
        let mut seen: HashSet<&[u8]> = HashSet::with_capacity(rows.len());
        for r in rows {
            if protected.vetoes(&r.key, r.prefix) {
                done.skipped_protected += 1;
            } else if !seen.insert(r.key.as_bytes()) {
                done.skipped_repeats += 1;
            } else if listed
                .query_row(params![r.key.as_bytes()], |_| Ok(()))
                .optional()?
                .is_some()
            {
                done.skipped_listed += 1;
            } else {
                insert.execute(params![
                    r.key.as_bytes(),
                    r.prefix,
                    r.category.as_str(),
                    r.risk.as_str(),
                    r.reports,
                    reason,
                    batch_id,
                    caller.token_id,
                    caller.name,
                    now
                ])?;
                done.proposed += 1;
            }
        }
    }
    audit::append(
        &tx,
        &AuditRecord {
            action: "import",
            reason: Some(reason),
            detail: Some(serde_json::json!({
                "batch_id": batch_id,
                "source": source,
                "rows": rows.len(),
                "proposed": done.proposed,
                "skipped_protected": done.skipped_protected,
                "skipped_listed": done.skipped_listed,
                "skipped_repeats": done.skipped_repeats,
            })),
            ..AuditRecord::by(caller, now)
        },
    )?;
    tx.commit()?;
    Ok(done)
}

/// Approves (`approve = true`) or rejects every pending proposal of batch `batch_id` as a unit
/// (one audit row). Four eyes: the importer may not approve their own batch (neither the same
/// token nor the same holder name) unless `single_reviewer`; they may reject (withdraw) it.
pub fn review(
    conn: &mut Connection,
    caller: &Caller,
    batch_id: i64,
    approve: bool,
    reason: Option<&str>,
    single_reviewer: bool,
    now: i64,
) -> AppResult<Reviewed> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !approve && reason.is_none() {
        return Err(AppError::unprocessable(
            "invalid_reason",
            "a rejection needs a reason",
        ));
    }
    let tx = immediate(conn)?;
    let importer: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT b.created_by, (SELECT proposer FROM proposals WHERE batch_id = b.id LIMIT 1)
             FROM batches b WHERE b.id = ?1",
            params![batch_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((created_by, proposer)) = importer else {
        return Err(AppError::not_found("batch"));
    };
    let own = created_by == caller.token_id || proposer.as_deref() == Some(caller.name.as_str());
    let relaxed = approve && own && single_reviewer;
    if approve && own && !single_reviewer {
        return Err(AppError::forbidden(
            "four eyes: the importer cannot approve their own batch; another analyst must",
        ));
    }
    let status = if approve { "approved" } else { "rejected" };
    let n = tx.execute(
        "UPDATE proposals SET status = ?2, reviewed_by = ?3, reviewer = ?4, reviewed_at = ?5, review_reason = ?6, single_reviewer = ?7
         WHERE batch_id = ?1 AND status = 'pending'",
        params![batch_id, status, caller.token_id, caller.name, now, reason, relaxed],
    )?;
    if n == 0 {
        return Err(AppError::conflict(
            "not_pending",
            format!("batch {batch_id} has no pending proposal"),
        ));
    }
    audit::append(
        &tx,
        &AuditRecord {
            action: if approve {
                "approve_batch"
            } else {
                "reject_batch"
            },
            reason,
            single_reviewer: relaxed,
            detail: Some(serde_json::json!({"batch_id": batch_id, "proposals": n})),
            ..AuditRecord::by(caller, now)
        },
    )?;
    tx.commit()?;
    Ok(Reviewed {
        batch_id,
        status: status.to_owned(),
        proposals: n as u64,
    })
}
