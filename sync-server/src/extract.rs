//! Extractors whose rejections use the one error envelope.
//!
//! axum's own `Json`, `Query` and `Path` reject with plain text (and serde's messages can quote
//! the submitted value); these wrappers answer with [`AppError`] and never repeat a value.

use crate::auth::Caller;
use crate::error::AppError;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// A JSON body (`Content-Type: application/json`), parsed with serde.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

fn is_json(parts_ct: Option<&axum::http::HeaderValue>) -> bool {
    parts_ct
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.split(';').next())
        .is_some_and(|m| {
            let m = m.trim();
            m.eq_ignore_ascii_case("application/json")
                || (m.len() > 5 && m[m.len() - 5..].eq_ignore_ascii_case("+json"))
        })
}

/// Maps a serde_json error to a client error that names the place, not the content.
pub fn json_error(e: &serde_json::Error) -> AppError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io | Category::Syntax | Category::Eof => AppError::bad_request(
            "malformed_json",
            format!(
                "the body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        ),
        Category::Data => {
            let text = e.to_string();
            // `missing field `x`` names our own field: safe and useful to repeat.
            let message = match text.strip_prefix("missing field `") {
                Some(rest) => match rest.split_once('`') {
                    Some((field, _)) if field.len() <= 32 => {
                        format!("missing field `{field}`")
                    }
                    _ => "a required field is missing".to_owned(),
                },
                None => format!(
                    "a field has the wrong type or an unknown value (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            };
            AppError::unprocessable("invalid_body", message)
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(AppError::unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::too_large()
            } else {
                AppError::bad_request("unreadable_body", "the request body could not be read")
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| json_error(&e))
    }
}

/// A query string parsed with serde.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|_| {
                AppError::bad_request(
                    "invalid_query",
                    "a query parameter has the wrong type or an unknown value",
                )
            })
    }
}

/// A path parameter; a malformed one is a 404 (the resource cannot exist).
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|_| AppError::not_found("resource"))
    }
}

/// The peer's address, when the server was started with connect info (tests driving the
/// router in-process have none).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(AppError::unauthorized)
    }
}
