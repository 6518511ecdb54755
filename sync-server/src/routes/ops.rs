//! Operations: `/healthz`, `/readyz`, `/metrics`.
//!
//! - `/healthz` fails (503) when the served manifest expires within
//!   `publish.alert_before_secs` (or has expired, or is missing): phones would soon call their
//!   list stale. Loud on purpose: an expired manifest is the outage that bit remote-settings
//!   and TUF deployments. With an object store, the same holds for the manifest it serves
//!   (the last one uploaded): failing uploads turn into a failing health check before phones
//!   see an expired list.
//! - `/readyz`: the database answers and a manifest is being served.
//! - `/metrics`: Prometheus text ([`crate::metrics`]).

use crate::app::AppState;
use crate::error::AppResult;
use crate::release::SinkCopy;
use crate::tips;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::OptionalExtension as _;
use serde_json::json;

/// `GET /healthz`
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "ok", body = Object), (status = 503, description = "manifest missing or close to expiry", body = Object), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let now = state.clock.now();
    let alert = state.config.publish.alert_before_secs;
    // Phones reading the object store see its manifest: it must not near expiry either.
    if let SinkCopy::Holds {
        release,
        expires_at,
    } = state.releases.sink_copy()
        && expires_at - now <= alert
    {
        tracing::error!(
            release,
            expires_in_secs = expires_at - now,
            "the object store's manifest is about to expire (or has): uploads are failing"
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({
                "status": "object_store_manifest_expiring",
                "object_store_release": release,
                "manifest_expires_in_secs": expires_at - now,
            })),
        )
            .into_response();
    }
    match state.releases.served() {
        Some(m) if m.expires_at - now > alert => axum::Json(json!({
            "status": "ok",
            "release": m.release,
            "manifest_expires_in_secs": m.expires_at - now,
        }))
        .into_response(),
        Some(m) => {
            tracing::error!(
                release = m.release,
                expires_in_secs = m.expires_at - now,
                "served manifest is about to expire (or has): the freshness job is not re-signing"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({
                    "status": "manifest_expiring",
                    "release": m.release,
                    "manifest_expires_in_secs": m.expires_at - now,
                })),
            )
                .into_response()
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "no_manifest"})),
        )
            .into_response(),
    }
}

/// `GET /readyz`
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "ready", body = Object), (status = 503, description = "not ready", body = Object), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let db_ok = state
        .db
        .call(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await
        .is_ok();
    let manifest = state.releases.served().is_some();
    let status = if db_ok && manifest {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(json!({"database": db_ok, "manifest": manifest})),
    )
        .into_response()
}

/// `GET /metrics`
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text", content_type = "application/openmetrics-text", body = String), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)))]
pub async fn metrics(State(state): State<AppState>) -> AppResult<Response> {
    let now = state.clock.now();
    let (counts, last_publish_ms) = state
        .db
        .call(move |c| {
            let counts = tips::counts(c, now)?;
            // From the release history, so a release cut by the admin `publish` command (its
            // own process) counts too; a re-sign is not a release and is not in it.
            let ms: Option<i64> = c
                .query_row(
                    "SELECT duration_ms FROM releases ORDER BY release DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            Ok((counts, ms))
        })
        .await?;
    let (received, answered, overdue) = counts;
    let m = &state.metrics;
    if let Some(ms) = last_publish_ms {
        m.publish_seconds.set(ms as f64 / 1000.0);
    }
    m.tips_received.set(received as i64);
    m.tips_answered.set(answered as i64);
    m.tips_overdue.set(overdue as i64);
    if let Some(s) = state.releases.served() {
        m.release.set(s.release as i64);
        m.entries.set(s.entry_count as i64);
        m.manifest_age_seconds.set(now - s.created_at);
        m.manifest_expires_in_seconds.set(s.expires_at - now);
    }
    if let SinkCopy::Holds { release, .. } = state.releases.sink_copy() {
        m.object_store_release.set(release as i64);
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        m.encode(),
    )
        .into_response())
}

/// `GET /v1/openapi.json`: this API, generated from the code.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi() -> Response {
    axum::Json(crate::openapi::document()).into_response()
}
