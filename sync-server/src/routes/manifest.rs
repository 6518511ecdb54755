//! The client protocol: `GET /v1/manifest` and the artifacts it names, exactly what
//! `fraudshield_core::sync` requests (`<base>v1/manifest`, then `<base>artifacts/<sha256>.fsw`).
//!
//! - The manifest: `Cache-Control: public, max-age=60`, a strong `ETag`, `304 Not Modified`
//!   for a matching `If-None-Match` (a poll with nothing new costs one tiny request).
//! - Artifacts: named by their SHA-256, never rewritten, so `Cache-Control: public,
//!   max-age=31536000, immutable`; a CDN can keep them forever.

use crate::app::{AppState, ClientPoll};
use crate::error::{AppError, AppResult};
use crate::extract::Path;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `Cache-Control` of the manifest.
pub const MANIFEST_CACHE: &str = "public, max-age=60";
/// `Cache-Control` of artifacts.
pub const ARTIFACT_CACHE: &str = "public, max-age=31536000, immutable";

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// `GET /v1/manifest`
#[utoipa::path(get, path = "/v1/manifest", tag = "client protocol", responses((status = 200, description = "the signed manifest bundle", content_type = "application/octet-stream"), (status = 304, description = "not modified (If-None-Match)"), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)))]
pub async fn manifest(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let m = state
        .releases
        .served()
        .ok_or_else(|| AppError::not_found("manifest"))?;
    let etag = HeaderValue::from_str(&m.etag).map_err(AppError::internal)?;
    let cache = HeaderValue::from_static(MANIFEST_CACHE);
    if etag_matches(&headers, &m.etag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
            Extension(ClientPoll),
        )
            .into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        Extension(ClientPoll),
        m.bytes.clone(),
    )
        .into_response())
}

fn valid_artifact_name(name: &str) -> bool {
    name.len() == 68
        && name.ends_with(".fsw")
        && name[..64]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `GET /artifacts/{name}`
#[utoipa::path(get, path = "/artifacts/{name}", tag = "client protocol", params(("name" = String, Path, description = "<sha256 hex>.fsw")), responses((status = 200, description = "the artifact", content_type = "application/octet-stream"), (status = 304, description = "not modified (If-None-Match)"), (status = "4XX", description = "client error", body = crate::error::Envelope), (status = "5XX", description = "server error", body = crate::error::Envelope)))]
pub async fn artifact(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if !valid_artifact_name(&name) {
        return Err(AppError::not_found("artifact"));
    }
    let etag = format!("\"{}\"", &name[..64]);
    let etag_value = HeaderValue::from_str(&etag).map_err(AppError::internal)?;
    let cache = HeaderValue::from_static(ARTIFACT_CACHE);
    if etag_matches(&headers, &etag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
            Extension(ClientPoll),
        )
            .into_response());
    }
    let path = state.releases.dir().join("artifacts").join(&name);
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(AppError::not_found("artifact"));
        }
        Err(e) => return Err(e.into()),
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
        ],
        Extension(ClientPoll),
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_names_are_content_hashes_only() {
        let good = format!("{}.fsw", "a".repeat(64));
        assert!(valid_artifact_name(&good));
        assert!(!valid_artifact_name(&format!("{}.fsw", "A".repeat(64))));
        assert!(!valid_artifact_name("../publisher/state"));
        assert!(!valid_artifact_name(&format!("{}.txt", "a".repeat(64))));
    }
}
