//! Citizens' tips: `POST /v1/reports` (reporter apps) and `GET /v1/reports/{tracking_id}`
//! (public: the tracking id is an unguessable capability).
//!
//! ## `POST /v1/reports` (fixed contract, implemented by the SDK)
//! Request (`Content-Type: application/json`):
//! ```json
//! {"kind": "phone", "value": "+86 138 0013 8000", "category": "police_impersonation",
//!  "text": "called saying my bank card was used for money laundering",
//!  "contact": "optional, how to reach me", "client_id": "optional opaque id, at most 64 chars"}
//! ```
//! - `kind`: `phone | bank | qq | alipay`; `value` as typed (normalized here with core);
//! - `category`: `police_impersonation | customer_service | refund | investment | loan |
//!   romance | job | other`;
//! - `text`: free text, at most `intake.max_text_chars` (2000) characters;
//! - `contact`, `client_id`: optional strings (`null` or absent).
//!
//! Answers `201 {"tracking_id": "<32 hex>", "status": "received"}` only after the tip is
//! committed to disk. A repeat from the same client about the same identifier within the
//! merge window (15 minutes) is merged into the first tip: the same 201 body with the first
//! tip's tracking id (and `"merged": true`), nothing stored twice. Bad input: 4xx with the
//! error envelope (never repeating the value); too many tips: `429` with `Retry-After`; the
//! intake queue full (the disk is behind): `503` with `Retry-After` ([`crate::intake`]).

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Path, PeerAddr};
use crate::limits::Limited;
use crate::tips::{self, NewTip, TipStatus, TipView};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fraudshield_core::entry::Category;
use fraudshield_core::identifier;
use fraudshield_core::kind::Kind;
use fraudshield_core::release::keys::sha256;
use serde::{Deserialize, Serialize};

/// The body of `POST /v1/reports`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReportRequest {
    /// `phone`, `bank`, `qq` or `alipay`.
    #[schema(value_type = KindName)]
    pub kind: String,
    /// The identifier as typed.
    pub value: String,
    /// The kind of fraud.
    #[schema(value_type = CategoryName)]
    pub category: String,
    /// The tipster's words (at most `intake.max_text_chars`, 2000 by default).
    #[serde(default)]
    pub text: String,
    /// How to reach the tipster (optional).
    #[serde(default)]
    pub contact: Option<String>,
    /// An opaque per-install id (optional, at most 64 characters).
    #[serde(default)]
    #[schema(max_length = 64)]
    pub client_id: Option<String>,
}

// The accepted words, for the OpenAPI document only: the handler parses the strings itself so
// that an unknown one gets the envelope with `invalid_kind` / `invalid_category`.
/// The kinds of identifier a tip can be about.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum KindName {
    Phone,
    Bank,
    Qq,
    Alipay,
}

/// The kinds of fraud.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum CategoryName {
    PoliceImpersonation,
    CustomerService,
    Refund,
    Investment,
    Loan,
    Romance,
    Job,
    Other,
}

/// The answer of `POST /v1/reports`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportReceipt {
    /// Keep it to ask for the answer.
    pub tracking_id: String,
    /// `received` (or `answered` for a merged repeat of an answered tip).
    pub status: TipStatus,
    /// The tip was merged into an earlier one from the same client.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub merged: bool,
}

fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')))
}

/// `POST /v1/reports`
#[utoipa::path(post, path = "/v1/reports", tag = "citizens", request_body = ReportRequest, responses((status = 201, description = "durably recorded (or merged into the same client's tip)", body = ReportReceipt), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)), security(("bearer" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    peer: PeerAddr,
    Json(req): Json<ReportRequest>,
) -> AppResult<Response> {
    let cfg = &state.config.intake;
    let kind: Kind = req
        .kind
        .parse()
        .map_err(|e: fraudshield_core::kind::UnknownKind| {
            AppError::unprocessable("invalid_kind", e.to_string())
        })?;
    let category: Category =
        req.category
            .parse()
            .map_err(|e: fraudshield_core::entry::ValueError| {
                AppError::unprocessable("invalid_category", e.to_string())
            })?;
    let id = identifier::normalize(kind, &req.value).map_err(|e| {
        AppError::unprocessable("invalid_identifier", format!("invalid {kind}: {e}"))
    })?;
    if req.text.chars().count() > cfg.max_text_chars || has_control(&req.text, true) {
        return Err(AppError::unprocessable(
            "invalid_text",
            format!(
                "text must be at most {} characters without control characters",
                cfg.max_text_chars
            ),
        ));
    }
    let contact = req
        .contact
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if contact
        .as_deref()
        .is_some_and(|c| c.chars().count() > cfg.max_contact_chars || has_control(c, false))
    {
        return Err(AppError::unprocessable(
            "invalid_contact",
            format!(
                "contact must be at most {} characters without control characters",
                cfg.max_contact_chars
            ),
        ));
    }
    let client = match req.client_id.as_deref().filter(|c| !c.is_empty()) {
        Some(c) if c.chars().count() > 64 || has_control(c, false) => {
            return Err(AppError::unprocessable(
                "invalid_client_id",
                "client_id must be at most 64 characters without control characters",
            ));
        }
        Some(c) => format!("client:{c}"),
        None => match peer.0 {
            Some(ip) => format!("addr:{ip}"),
            None => "unknown".to_owned(),
        },
    };
    let client_key = sha256(format!("{}\0{client}", caller.token_id).as_bytes());
    let key = id.key();
    // Refuse before the rate limits when the queue is full, so the retry is not also refused.
    if state.intake.is_full() {
        return Err(crate::intake::busy());
    }
    if let Err(limited) = state.limits.check(&client_key, key.as_bytes()) {
        return Err(match limited {
            Limited::Client { retry_after } => {
                AppError::rate_limited(retry_after, "too many tips from this client; retry later")
            }
            Limited::Identifier { retry_after } => AppError::rate_limited(
                retry_after,
                "too many tips about this identifier right now; retry later",
            ),
        });
    }
    let tip = NewTip {
        key,
        category,
        text: req.text,
        contact,
        client_key,
        token_id: caller.token_id,
    };
    let now = state.clock.now();
    // Group commit: answered once the batch holding this tip is on disk.
    let recorded = state
        .intake
        .record(tip, now, state.calendar.due_at(now))
        .await?;
    let receipt = ReportReceipt {
        tracking_id: recorded.tracking_id,
        status: recorded.status,
        merged: recorded.merged,
    };
    Ok((StatusCode::CREATED, axum::Json(receipt)).into_response())
}

/// `GET /v1/reports/{tracking_id}`
#[utoipa::path(get, path = "/v1/reports/{tracking_id}", tag = "citizens", params(("tracking_id" = String, Path, description = "32 lower-case hex digits")), responses((status = 200, description = "status and answer", body = TipView), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)))]
pub async fn status(
    State(state): State<AppState>,
    Path(tracking_id): Path<String>,
) -> AppResult<Response> {
    if !tips::is_tracking_id(&tracking_id) {
        return Err(AppError::not_found("tip"));
    }
    let view: Option<TipView> = state.db.call(move |c| tips::view(c, &tracking_id)).await?;
    let view = view.ok_or_else(|| AppError::not_found("tip"))?;
    let mut resp = axum::Json(view).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn documented(schema: &str) -> Vec<String> {
        let doc = serde_json::to_value(crate::openapi::document()).unwrap();
        doc["components"]["schemas"][schema]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_documented_words_are_exactly_the_ones_core_parses() {
        let kinds: Vec<String> = Kind::ALL.iter().map(|k| k.to_string()).collect();
        assert_eq!(documented("KindName"), kinds);
        let categories: Vec<String> = Category::ALL
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        let mut documented_categories = documented("CategoryName");
        documented_categories.sort();
        let mut categories = categories;
        categories.sort();
        assert_eq!(documented_categories, categories);
    }
}
