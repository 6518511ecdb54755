//! Bulk case data: one import is one **batch** of `add` proposals (a row in `batches` with its
//! provenance, and one proposal per identifier carrying the batch id and the case's report
//! count), approved or rejected **as a unit** by a second analyst under the same four-eyes rule
//! as single proposals.
//!
//! [`import`] writes the whole batch in one transaction: nothing half-done. Every row is first
//! checked ([`check`]) with the rules core's publisher applies (`rules::check_change` at the
//! publish level: canonical keys, prefix breadth, protected numbers) and the server's protected
//! list (a hard veto); a row repeating an identifier with another category or risk is bad too.
//! A **bad row** (found here or while reading the file) makes the import refuse the whole file
//! unless the caller asks to skip bad rows; either way every bad row is reported with its line.
//! Rows that are fine but need no proposal are counted: an identifier already listed or with an
//! open proposal, or a plain repeat inside the batch (the first row wins).
//!
//! [`review`] approves or rejects every pending proposal of the batch at once, with one audit
//! row; the next publish carries them like any approved proposal.

use crate::audit::{self, AuditRecord};
use crate::auth::{Caller, Role};
use crate::db::immediate;
use crate::error::{AppError, AppResult};
use crate::protected::ProtectedList;
use crate::review;
use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::hex::encode as hex;
use fraudshield_core::key::Key;
use fraudshield_core::rules::{self, Rules};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One identifier of a batch.
#[derive(Debug, Clone)]
pub struct BatchRow {
    /// Its line in the imported file (0 when it did not come from a file).
    pub line: u64,
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

impl From<&fraudshield_core::import::Row> for BatchRow {
    fn from(r: &fraudshield_core::import::Row) -> BatchRow {
        BatchRow {
            line: r.line,
            key: r.key.clone(),
            prefix: r.prefix,
            category: r.category,
            risk: r.risk,
            reports: r.reports,
        }
    }
}

impl BatchRow {
    /// The row as the change a release would carry.
    pub fn change(&self) -> Change {
        Change::Upsert(
            self.key.clone(),
            EntryValue {
                category: self.category,
                risk: self.risk,
                reports: ReportBucket::from_count(self.reports),
                prefix: self.prefix,
            },
        )
    }
}

/// A row that cannot become a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRow {
    /// Its line in the file.
    pub line: u64,
    /// What was wrong (never the identifier).
    pub reason: String,
}

/// One import: the rows and where they came from.
#[derive(Debug, Clone)]
pub struct Import<'a> {
    /// Where the data came from: the file's name (without its directory) or a case number.
    pub source: &'a str,
    /// SHA-256 of the file as it was read.
    pub sha256: [u8; 32],
    /// Rows read from the file, good and bad.
    pub rows_read: u64,
    /// The good rows read.
    pub rows: &'a [BatchRow],
    /// Bad rows found while reading the file (before [`check`]).
    pub bad_rows: &'a [BadRow],
    /// Why (required; recorded on every proposal).
    pub reason: &'a str,
    /// Import the good rows of a file with bad rows (they are still reported); without it a
    /// single bad row refuses the whole import.
    pub skip_bad_rows: bool,
}

/// What [`import`] did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Imported {
    /// The batch id (approve it with `POST /v1/batches/{id}/approve`).
    pub batch_id: i64,
    /// Proposals created, pending review.
    pub proposed: u64,
    /// Rows already listed or with an open proposal.
    pub skipped_listed: u64,
    /// Rows repeating an identifier earlier in the batch with the same category and risk.
    pub skipped_repeats: u64,
    /// Bad rows skipped (only with `skip_bad_rows`).
    pub skipped_bad_rows: u64,
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

/// Checks `rows` as [`import`] does: core's publishing rules, the protected list (a hard
/// veto), and repeats that disagree. Returns every bad row, in file order.
pub fn check(rows: &[BatchRow], protected: &ProtectedList) -> Vec<BadRow> {
    checked(rows, protected)
        .into_iter()
        .filter_map(|r| match r {
            Checked::Bad(b) => Some(b),
            _ => None,
        })
        .collect()
}

enum Checked {
    Propose,
    Repeat,
    Bad(BadRow),
}

fn checked(rows: &[BatchRow], protected: &ProtectedList) -> Vec<Checked> {
    let publish = Rules::Publish {
        protected: protected.rules(),
    };
    let mut first: HashMap<&[u8], &BatchRow> = HashMap::with_capacity(rows.len());
    rows.iter()
        .map(|r| {
            let bad = |reason: String| {
                Checked::Bad(BadRow {
                    line: r.line,
                    reason,
                })
            };
            if protected.vetoes(&r.key, r.prefix) {
                return bad(
                    "a protected number (emergency or anti-fraud line) can never be listed"
                        .to_owned(),
                );
            }
            if let Err(e) = rules::check_change(&r.change(), publish) {
                return bad(e.to_string());
            }
            match first.get(r.key.as_bytes()) {
                None => {
                    first.insert(r.key.as_bytes(), r);
                    Checked::Propose
                }
                Some(f) if f.category == r.category && f.risk == r.risk && f.prefix == r.prefix => {
                    Checked::Repeat
                }
                Some(f) => bad(format!(
                    "the same identifier as line {} with another category or risk",
                    f.line
                )),
            }
        })
        .collect()
}

/// Records the good rows of `import` as one batch of pending `add` proposals by `caller` (an
/// analyst), in one transaction with one audit row holding the provenance. Refuses the whole
/// import when any row is bad, unless `import.skip_bad_rows`.
pub fn import(
    conn: &mut Connection,
    caller: &Caller,
    import: &Import<'_>,
    protected: &ProtectedList,
    now: i64,
) -> AppResult<Imported> {
    if caller.role != Role::Analyst {
        return Err(AppError::forbidden(
            "only an analyst may import case data as proposals",
        ));
    }
    let reason = import.reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::unprocessable(
            "invalid_reason",
            "a reason of 1-2000 characters is required",
        ));
    }
    let verdicts = checked(import.rows, protected);
    let bad = import.bad_rows.len()
        + verdicts
            .iter()
            .filter(|v| matches!(v, Checked::Bad(_)))
            .count();
    if bad > 0 && !import.skip_bad_rows {
        let first = import
            .bad_rows
            .iter()
            .chain(verdicts.iter().filter_map(|v| match v {
                Checked::Bad(b) => Some(b),
                _ => None,
            }))
            .map(|b| b.line)
            .min()
            .unwrap_or(0);
        return Err(AppError::unprocessable(
            "bad_rows",
            format!(
                "{bad} bad row(s), the first on line {first}: nothing was imported; fix them, \
                 or import the good rows only with --skip-bad-rows"
            ),
        ));
    }
    let tx = immediate(conn)?;
    tx.execute(
        "INSERT INTO batches(source, sha256, rows, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![import.source, import.sha256.to_vec(), import.rows_read as i64, now, caller.token_id],
    )?;
    let batch_id = tx.last_insert_rowid();
    let mut done = Imported {
        batch_id,
        proposed: 0,
        skipped_listed: 0,
        skipped_repeats: 0,
        skipped_bad_rows: bad as u64,
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
        for (r, verdict) in import.rows.iter().zip(&verdicts) {
            match verdict {
                Checked::Bad(_) => {}
                Checked::Repeat => done.skipped_repeats += 1,
                Checked::Propose => {
                    if listed
                        .query_row(params![r.key.as_bytes()], |_| Ok(()))
                        .optional()?
                        .is_some()
                    {
                        done.skipped_listed += 1;
                        continue;
                    }
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
    }
    if done.proposed == 0 {
        // Dropping the transaction rolls the empty batch back.
        return Err(AppError::conflict(
            "nothing_to_import",
            "no row needs a proposal: every identifier is listed already, has an open \
             proposal, or was bad; nothing was imported",
        ));
    }
    audit::append(
        &tx,
        &AuditRecord {
            action: "import",
            reason: Some(reason),
            detail: Some(serde_json::json!({
                "batch_id": batch_id,
                "source": import.source,
                "sha256": hex(&import.sha256),
                "rows": import.rows_read,
                "proposed": done.proposed,
                "skipped_listed": done.skipped_listed,
                "skipped_repeats": done.skipped_repeats,
                "skipped_bad_rows": done.skipped_bad_rows,
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
    let reason = review::review_reason(approve, reason)?;
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
    let relaxed = review::four_eyes(
        caller,
        (&created_by, proposer.as_deref().unwrap_or_default()),
        approve,
        single_reviewer,
        "four eyes: the importer cannot approve their own batch; another analyst must",
    )?;
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
