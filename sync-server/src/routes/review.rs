//! Analysts: the review queue, proposals and their four-eyes review, appeals, answers to
//! tipsters and tipsters' contacts. All for the `analyst` role (proposals are also readable by
//! publishers).

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Path, Query};
use crate::ident::IdentifierInput;
use crate::review::{self, Action, NewProposal, Proposal, QueueRow, Status};
use crate::tips::{self, Outcome, TipView};
use axum::extract::State;
use axum::http::StatusCode;
use fraudshield_core::entry::{Category, Risk};
use serde::{Deserialize, Serialize};

/// Query of `GET /v1/review/queue`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Only identifiers with an overdue tip.
    #[serde(default)]
    pub overdue: bool,
    /// Rows per page (default 50, at most 500).
    pub limit: Option<u32>,
    /// Rows to skip.
    #[serde(default)]
    pub offset: u32,
}

/// `GET /v1/review/queue`: identifiers with unanswered tips, overdue first.
#[utoipa::path(get, path = "/v1/review/queue", tag = "analysts", params(QueueQuery), responses((status = 200, body = Vec<QueueRow>), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn queue(
    State(state): State<AppState>,
    Query(q): Query<QueueQuery>,
) -> AppResult<axum::Json<Vec<QueueRow>>> {
    let now = state.clock.now();
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let rows = state
        .db
        .call(move |c| review::queue(c, now, q.overdue, limit, q.offset))
        .await?;
    Ok(axum::Json(rows))
}

/// The body of `POST /v1/proposals`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProposalRequest {
    /// `add`, `change` or `revoke`.
    pub action: Action,
    /// The identifier.
    #[serde(flatten)]
    pub identifier: IdentifierInput,
    /// Category (add, change).
    #[schema(value_type = Option<String>)]
    pub category: Option<Category>,
    /// Risk (add, change).
    #[schema(value_type = Option<String>)]
    pub risk: Option<Risk>,
    /// Why.
    pub reason: String,
    /// Tracking ids of the tips this rests on.
    #[serde(default)]
    pub tips: Vec<String>,
}

/// `POST /v1/proposals`
#[utoipa::path(post, path = "/v1/proposals", tag = "analysts", request_body = ProposalRequest, responses((status = 201, body = Proposal), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<ProposalRequest>,
) -> AppResult<(StatusCode, axum::Json<Proposal>)> {
    let p = NewProposal {
        action: req.action,
        appeal: false,
        key: req.identifier.key()?,
        prefix: req.identifier.prefix,
        category: req.category,
        risk: req.risk,
        reason: req.reason,
        tips: req.tips,
    };
    create(state, caller, p).await
}

async fn create(
    state: AppState,
    caller: Caller,
    p: NewProposal,
) -> AppResult<(StatusCode, axum::Json<Proposal>)> {
    let now = state.clock.now();
    let st = state.clone();
    let proposal = state
        .db
        .call(move |c| review::propose(c, &caller, &p, &st.protected, now))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(proposal)))
}

/// The body of `POST /v1/appeals`: revoke a false positive.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AppealRequest {
    /// The listed identifier.
    #[serde(flatten)]
    pub identifier: IdentifierInput,
    /// Why it is a false positive.
    pub reason: String,
    /// Tips (e.g. the owner's complaint) it rests on.
    #[serde(default)]
    pub tips: Vec<String>,
}

/// `POST /v1/appeals`: a revocation of a false positive, reviewed like any proposal and sent
/// to phones as a removal.
#[utoipa::path(post, path = "/v1/appeals", tag = "analysts", request_body = AppealRequest, responses((status = 201, body = Proposal), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn appeal(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<AppealRequest>,
) -> AppResult<(StatusCode, axum::Json<Proposal>)> {
    let p = NewProposal {
        action: Action::Revoke,
        appeal: true,
        key: req.identifier.key()?,
        prefix: req.identifier.prefix,
        category: None,
        risk: None,
        reason: req.reason,
        tips: req.tips,
    };
    create(state, caller, p).await
}

/// Query of `GET /v1/proposals`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this status.
    #[param(value_type = Option<String>)]
    pub status: Option<Status>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// `GET /v1/proposals`
#[utoipa::path(get, path = "/v1/proposals", tag = "analysts", params(ListQuery), responses((status = 200, body = Vec<Proposal>), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> AppResult<axum::Json<Vec<Proposal>>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state
        .db
        .call(move |c| review::list(c, q.status, limit))
        .await?;
    Ok(axum::Json(rows))
}

/// `GET /v1/proposals/{id}`
#[utoipa::path(get, path = "/v1/proposals/{id}", tag = "analysts", params(("id" = i64, Path, description = "proposal id")), responses((status = 200, body = Proposal), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> AppResult<axum::Json<Proposal>> {
    state
        .db
        .call(move |c| review::get(c, id))
        .await?
        .map(axum::Json)
        .ok_or_else(|| AppError::not_found("proposal"))
}

/// The body of approve and reject.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ReviewRequest {
    /// Why (required to reject).
    #[serde(default)]
    pub reason: Option<String>,
}

async fn decide(
    state: AppState,
    caller: Caller,
    id: i64,
    approve: bool,
    reason: Option<String>,
) -> AppResult<axum::Json<Proposal>> {
    let now = state.clock.now();
    let single = state.config.single_reviewer;
    let p = state
        .db
        .call(move |c| review::review(c, &caller, id, approve, reason.as_deref(), single, now))
        .await?;
    Ok(axum::Json(p))
}

/// `POST /v1/proposals/{id}/approve`: by an analyst other than the proposer.
#[utoipa::path(post, path = "/v1/proposals/{id}/approve", tag = "analysts", params(("id" = i64, Path, description = "proposal id")), request_body = ReviewRequest, responses((status = 200, body = Proposal), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<ReviewRequest>,
) -> AppResult<axum::Json<Proposal>> {
    decide(state, caller, id, true, req.reason).await
}

/// `POST /v1/proposals/{id}/reject`: with a reason.
#[utoipa::path(post, path = "/v1/proposals/{id}/reject", tag = "analysts", params(("id" = i64, Path, description = "proposal id")), request_body = ReviewRequest, responses((status = 200, body = Proposal), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<ReviewRequest>,
) -> AppResult<axum::Json<Proposal>> {
    decide(state, caller, id, false, req.reason).await
}

/// The body of `POST /v1/tips/{tracking_id}/answer`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AnswerRequest {
    /// `approved` or `rejected`.
    pub outcome: Outcome,
    /// What the tipster reads (1-1000 characters).
    pub message: String,
}

/// `POST /v1/tips/{tracking_id}/answer`
#[utoipa::path(post, path = "/v1/tips/{tracking_id}/answer", tag = "analysts", params(("tracking_id" = String, Path, description = "32 lower-case hex digits")), request_body = AnswerRequest, responses((status = 200, body = TipView), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(tracking_id): Path<String>,
    Json(req): Json<AnswerRequest>,
) -> AppResult<axum::Json<TipView>> {
    if !tips::is_tracking_id(&tracking_id) {
        return Err(AppError::not_found("tip"));
    }
    let message = req.message;
    let now = state.clock.now();
    let retention = state.config.review.contact_retention_days;
    let v = state
        .db
        .call(move |c| {
            tips::answer(
                c,
                &caller,
                &tracking_id,
                req.outcome,
                &message,
                retention,
                now,
            )
        })
        .await?;
    Ok(axum::Json(v))
}

/// The answer of `GET /v1/tips/{tracking_id}/contact`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactView {
    /// The contact, or null when none was left or it was deleted after its retention.
    pub contact: Option<String>,
}

/// `GET /v1/tips/{tracking_id}/contact`: audited.
#[utoipa::path(get, path = "/v1/tips/{tracking_id}/contact", tag = "analysts", params(("tracking_id" = String, Path, description = "32 lower-case hex digits")), responses((status = 200, body = ContactView), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(tracking_id): Path<String>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse as _;
    if !tips::is_tracking_id(&tracking_id) {
        return Err(AppError::not_found("tip"));
    }
    let now = state.clock.now();
    let contact = state
        .db
        .call(move |c| tips::contact(c, &caller, &tracking_id, now))
        .await?;
    let mut resp = axum::Json(ContactView { contact }).into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}
