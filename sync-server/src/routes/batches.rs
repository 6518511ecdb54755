//! Bulk case data reviewed as a unit: `POST /v1/batches/{id}/approve` and `/reject` (analysts).
//! A batch is written by an import (see [`crate::batch`]).

use crate::app::AppState;
use crate::auth::Caller;
use crate::batch::{self, Reviewed};
use crate::error::AppResult;
use crate::extract::{Json, Path};
use crate::routes::review::ReviewRequest;
use axum::extract::State;

async fn decide(
    state: AppState,
    caller: Caller,
    id: i64,
    approve: bool,
    reason: Option<String>,
) -> AppResult<axum::Json<Reviewed>> {
    let now = state.clock.now();
    let single = state.config.single_reviewer;
    let r = state
        .db
        .call(move |c| batch::review(c, &caller, id, approve, reason.as_deref(), single, now))
        .await?;
    Ok(axum::Json(r))
}

/// `POST /v1/batches/{id}/approve`: every pending proposal of the batch, by an analyst other
/// than the importer.
#[utoipa::path(post, path = "/v1/batches/{id}/approve", tag = "analysts", params(("id" = i64, Path, description = "batch id")), request_body = ReviewRequest, responses((status = 200, body = Reviewed), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<ReviewRequest>,
) -> AppResult<axum::Json<Reviewed>> {
    decide(state, caller, id, true, req.reason).await
}

/// `POST /v1/batches/{id}/reject`: with a reason.
#[utoipa::path(post, path = "/v1/batches/{id}/reject", tag = "analysts", params(("id" = i64, Path, description = "batch id")), request_body = ReviewRequest, responses((status = 200, body = Reviewed), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<ReviewRequest>,
) -> AppResult<axum::Json<Reviewed>> {
    decide(state, caller, id, false, req.reason).await
}
