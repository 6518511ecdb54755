//! `GET /v1/audit`: the audit log, filtered by identifier, analyst and time; JSON or CSV.
//!
//! Query: `kind` + `value` (+ `prefix=true`) for one identifier, `actor` (holder name or token
//! id), `since` / `until` (RFC 3339 or Unix seconds), `after_id` for paging, `limit` (default
//! 1000, at most 100000), `format=json|csv`.

use crate::app::AppState;
use crate::audit::{self, AuditFilter};
use crate::calendar::parse_time;
use crate::error::{AppError, AppResult};
use crate::extract::Query;
use crate::ident::normalize;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fraudshield_core::kind::Kind;
use serde::Deserialize;

/// The query of `GET /v1/audit`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Identifier kind (with `value`).
    #[param(value_type = Option<String>)]
    pub kind: Option<Kind>,
    /// Identifier value (with `kind`).
    pub value: Option<String>,
    /// The value is a phone prefix rule.
    #[serde(default)]
    pub prefix: bool,
    /// Holder name or token id.
    pub actor: Option<String>,
    /// From (inclusive).
    pub since: Option<String>,
    /// Until (exclusive).
    pub until: Option<String>,
    /// Rows after this id.
    pub after_id: Option<i64>,
    /// At most this many rows.
    pub limit: Option<u32>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// `GET /v1/audit`
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, description = "rows, oldest first (JSON, or CSV with format=csv)", body = Vec<crate::audit::AuditEntry>), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn query(
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let key = match (q.kind, q.value.as_deref()) {
        (Some(k), Some(v)) => Some(normalize(k, v, q.prefix)?.into_bytes()),
        (None, None) => None,
        _ => {
            return Err(AppError::bad_request(
                "invalid_query",
                "give both kind and value to filter by identifier",
            ));
        }
    };
    let time = |s: Option<&str>, name: &'static str| -> AppResult<Option<i64>> {
        s.map(|s| {
            parse_time(s).ok_or_else(|| {
                AppError::bad_request(
                    "invalid_query",
                    format!("{name} must be RFC 3339 or Unix seconds"),
                )
            })
        })
        .transpose()
    };
    let filter = AuditFilter {
        key,
        actor: q.actor,
        since: time(q.since.as_deref(), "since")?,
        until: time(q.until.as_deref(), "until")?,
        after_id: q.after_id,
        limit: q.limit.unwrap_or(1000).clamp(1, 100_000),
    };
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(AppError::bad_request(
                "invalid_query",
                "format must be json or csv",
            ));
        }
    };
    let rows = state.db.call(move |c| audit::query(c, &filter)).await?;
    if csv {
        let body = audit::to_csv(&rows)?;
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"audit.csv\""),
                ),
            ],
            body,
        )
            .into_response());
    }
    Ok(axum::Json(rows).into_response())
}
