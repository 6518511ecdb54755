//! Publishing: the preview of the next release, cutting it, and the release history.

use crate::app::AppState;
use crate::auth::Caller;
use crate::calendar::Calendar;
use crate::error::{AppError, AppResult};
use crate::extract::Json;
use crate::release::{self, Preview, PublishKind, PublishReport};
use axum::extract::State;
use serde::{Deserialize, Serialize};

/// `GET /v1/publish/preview`: what the next release would hold.
#[utoipa::path(get, path = "/v1/publish/preview", tag = "publishing", responses((status = 200, body = Preview), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn preview(State(state): State<AppState>) -> AppResult<axum::Json<Preview>> {
    let st = state.clone();
    let p = tokio::task::spawn_blocking(move || release::preview(&st))
        .await
        .map_err(|e| AppError::internal(format_args!("preview task: {e}")))??;
    Ok(axum::Json(p))
}

/// The body of `POST /v1/publish`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PublishRequest {
    /// Why (recorded in the audit log).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /v1/publish`: cuts the next release from every approved change.
#[utoipa::path(post, path = "/v1/publish", tag = "publishing", request_body = PublishRequest, responses((status = 200, body = PublishReport), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<PublishRequest>,
) -> AppResult<axum::Json<PublishReport>> {
    let st = state.clone();
    let r = tokio::task::spawn_blocking(move || {
        release::publish(&st, &caller, PublishKind::Publish, req.reason.as_deref())
    })
    .await
    .map_err(|e| AppError::internal(format_args!("publish task: {e}")))??;
    tracing::info!(
        release = r.release,
        changes = r.changes,
        duration_ms = r.duration_ms,
        "published"
    );
    Ok(axum::Json(r))
}

/// One release in the history.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleaseRow {
    /// Number.
    pub release: u64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: String,
    /// Changes carried.
    pub changes: u64,
    /// Entries after it.
    pub entries: u64,
    /// Token id of who cut it (`system` for refreshes).
    pub published_by: String,
    /// Milliseconds.
    pub duration_ms: u64,
    /// `publish`, `refresh` or `initial`.
    pub reason: String,
}

/// `GET /v1/releases`: the last 100 releases, newest first.
#[utoipa::path(get, path = "/v1/releases", tag = "publishing", responses((status = 200, body = Vec<ReleaseRow>), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>) -> AppResult<axum::Json<Vec<ReleaseRow>>> {
    let rows = state
        .db
        .call(|c| {
            let mut st = c.prepare(
                "SELECT release, created_at, expires_at, changes, entries, published_by, duration_ms, reason
                 FROM releases ORDER BY release DESC LIMIT 100",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok(ReleaseRow {
                        release: r.get::<_, i64>(0)? as u64,
                        created_at: Calendar::rfc3339(r.get(1)?),
                        expires_at: Calendar::rfc3339(r.get(2)?),
                        changes: r.get::<_, i64>(3)? as u64,
                        entries: r.get::<_, i64>(4)? as u64,
                        published_by: r.get(5)?,
                        duration_ms: r.get::<_, i64>(6)? as u64,
                        reason: r.get(7)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?;
    Ok(axum::Json(rows))
}
