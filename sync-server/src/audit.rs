//! The audit log: who (token id and holder name), when, which request, what, why, which tips.
//!
//! Append-only: the only write is [`append`], inside the transaction of the action it records
//! (an action and its audit row commit together or not at all), and SQLite triggers refuse any
//! UPDATE or DELETE of the table. Rows written while `single_reviewer` relaxed the four-eyes
//! rule say so in their own column.

use crate::auth::Caller;
use crate::calendar::Calendar;
use crate::error::AppResult;
use crate::ident::{IdentifierView, key_from_db};
use rusqlite::{Connection, params, types::Value};
use serde::Serialize;

/// One row to append.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    /// Unix seconds.
    pub at: i64,
    /// The acting token's id (`system` for scheduled jobs, `cli` for admin commands).
    pub token_id: &'a str,
    /// The acting token's holder name.
    pub actor: &'a str,
    /// The request id, when the action came over HTTP.
    pub request_id: Option<&'a str>,
    /// What was done, e.g. `propose`, `approve`, `publish`.
    pub action: &'a str,
    /// The identifier's key, when the action is about one.
    pub key: Option<&'a [u8]>,
    /// The proposal acted on.
    pub proposal_id: Option<i64>,
    /// The release cut.
    pub release: Option<u64>,
    /// Why (the analyst's words).
    pub reason: Option<&'a str>,
    /// Tracking ids of the tips the action rests on.
    pub tips: &'a [String],
    /// The four-eyes rule was relaxed for this action.
    pub single_reviewer: bool,
    /// Anything else, as JSON.
    pub detail: Option<serde_json::Value>,
}

impl<'a> AuditRecord<'a> {
    /// A record of an action by `caller` at `now`; fill in the rest with struct update syntax.
    pub fn by(caller: &'a Caller, now: i64) -> AuditRecord<'a> {
        AuditRecord {
            at: now,
            token_id: &caller.token_id,
            actor: &caller.name,
            request_id: caller.request_id.as_deref(),
            action: "",
            key: None,
            proposal_id: None,
            release: None,
            reason: None,
            tips: &[],
            single_reviewer: false,
            detail: None,
        }
    }
}

/// Appends a row (call inside the action's transaction).
pub fn append(conn: &Connection, r: &AuditRecord<'_>) -> AppResult<()> {
    conn.execute(
        "INSERT INTO audit(at, token_id, actor, request_id, action, key, proposal_id, release, reason, tips, single_reviewer, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            r.at,
            r.token_id,
            r.actor,
            r.request_id,
            r.action,
            r.key,
            r.proposal_id,
            r.release.map(|v| v as i64),
            r.reason,
            serde_json::to_string(r.tips).unwrap_or_else(|_| "[]".into()),
            r.single_reviewer,
            r.detail.as_ref().map(|d| d.to_string()),
        ],
    )?;
    Ok(())
}

/// An audit row as the API shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Row id (increasing).
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// Acting token id.
    pub token_id: String,
    /// Acting holder name.
    pub actor: String,
    /// Request id.
    pub request_id: Option<String>,
    /// What was done.
    pub action: String,
    /// About which identifier.
    pub identifier: Option<IdentifierView>,
    /// Which proposal.
    pub proposal_id: Option<i64>,
    /// Which release.
    pub release: Option<u64>,
    /// Why.
    pub reason: Option<String>,
    /// Which tips.
    pub tips: Vec<String>,
    /// The four-eyes rule was relaxed.
    pub single_reviewer: bool,
    /// More, as JSON.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

/// Filters for [`query`]; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Rows about this key.
    pub key: Option<Vec<u8>>,
    /// Rows by this holder name or token id.
    pub actor: Option<String>,
    /// Rows at or after (Unix seconds).
    pub since: Option<i64>,
    /// Rows before (Unix seconds).
    pub until: Option<i64>,
    /// Rows after this id (paging).
    pub after_id: Option<i64>,
    /// At most this many rows.
    pub limit: u32,
}

/// Rows matching `f`, oldest first.
pub fn query(conn: &Connection, f: &AuditFilter) -> AppResult<Vec<AuditEntry>> {
    let mut sql = String::from(
        "SELECT id, at, token_id, actor, request_id, action, key, proposal_id, release, reason, tips, single_reviewer, detail
         FROM audit WHERE 1=1",
    );
    let mut args: Vec<Value> = Vec::new();
    if let Some(k) = &f.key {
        sql.push_str(" AND key = ?");
        args.push(Value::Blob(k.clone()));
    }
    if let Some(a) = &f.actor {
        sql.push_str(" AND (actor = ? OR token_id = ?)");
        args.push(Value::Text(a.clone()));
        args.push(Value::Text(a.clone()));
    }
    if let Some(s) = f.since {
        sql.push_str(" AND at >= ?");
        args.push(Value::Integer(s));
    }
    if let Some(u) = f.until {
        sql.push_str(" AND at < ?");
        args.push(Value::Integer(u));
    }
    if let Some(a) = f.after_id {
        sql.push_str(" AND id > ?");
        args.push(Value::Integer(a));
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    args.push(Value::Integer(i64::from(f.limit)));
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
        let key: Option<Vec<u8>> = r.get(6)?;
        let identifier = match key {
            Some(k) => Some(IdentifierView::of(&key_from_db(&k)?, false)),
            None => None,
        };
        let tips: String = r.get(10)?;
        let detail: Option<String> = r.get(12)?;
        Ok(AuditEntry {
            id: r.get(0)?,
            at: Calendar::rfc3339(r.get(1)?),
            token_id: r.get(2)?,
            actor: r.get(3)?,
            request_id: r.get(4)?,
            action: r.get(5)?,
            identifier,
            proposal_id: r.get(7)?,
            release: r.get::<_, Option<i64>>(8)?.map(|v| v as u64),
            reason: r.get(9)?,
            tips: serde_json::from_str(&tips).unwrap_or_default(),
            single_reviewer: r.get(11)?,
            detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The rows as CSV (header + one line per row).
pub fn to_csv(rows: &[AuditEntry]) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| crate::error::AppError::internal(format_args!("csv: {e}"));
    w.write_record([
        "id",
        "at",
        "token_id",
        "actor",
        "request_id",
        "action",
        "kind",
        "value",
        "proposal_id",
        "release",
        "reason",
        "tips",
        "single_reviewer",
        "detail",
    ])
    .map_err(err)?;
    for r in rows {
        let (kind, value) = r
            .identifier
            .as_ref()
            .map(|i| (i.kind.as_str().to_owned(), i.value.clone()))
            .unwrap_or_default();
        w.write_record([
            r.id.to_string(),
            r.at.clone(),
            r.token_id.clone(),
            r.actor.clone(),
            r.request_id.clone().unwrap_or_default(),
            r.action.clone(),
            kind,
            value,
            r.proposal_id.map(|v| v.to_string()).unwrap_or_default(),
            r.release.map(|v| v.to_string()).unwrap_or_default(),
            r.reason.clone().unwrap_or_default(),
            r.tips.join(" "),
            r.single_reviewer.to_string(),
            r.detail.as_ref().map(|d| d.to_string()).unwrap_or_default(),
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| crate::error::AppError::internal(format_args!("csv: {e}")))
}
