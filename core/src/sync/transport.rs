//! The network seen by `sync`: one small trait, so the host app can supply HTTP.
//!
//! On a phone the host app usually implements [`Transport`] with its own HTTP stack (OkHttp,
//! URLSession: platform TLS, proxies and certificate pinning for free); the CLI and tests use
//! the reqwest implementation behind the `http` feature ([`super::http::HttpTransport`]).
//!
//! An implementation must:
//! - stop reading and return [`TransportError::TooLarge`] once the body exceeds
//!   [`Request::max_bytes`] (check `Content-Length` first, then count while reading);
//! - give up with [`TransportError::Timeout`] when [`Request::deadline`] passes, however
//!   slowly the server trickles bytes;
//! - send `If-None-Match` / `If-Modified-Since` when given and report 304 as is;
//! - send nothing else about the user: no identifiers, no device ids (the request is the URL
//!   and those two headers).

use std::time::{Duration, Instant};

/// One GET request.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Absolute URL.
    pub url: &'a str,
    /// Largest body accepted.
    pub max_bytes: u64,
    /// The whole exchange (connect, headers, body) must end before this instant.
    pub deadline: Instant,
    /// ETag from the last 200 response, for `If-None-Match`.
    pub if_none_match: Option<&'a str>,
    /// `Last-Modified` from the last 200 response, for `If-Modified-Since`.
    pub if_modified_since: Option<&'a str>,
}

/// What came back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// `ETag` header.
    pub etag: Option<String>,
    /// `Last-Modified` header.
    pub last_modified: Option<String>,
    /// `Retry-After`, when given in seconds (an HTTP date is read as absent).
    pub retry_after: Option<Duration>,
    /// The body (empty for 304).
    pub body: Vec<u8>,
}

/// Why a request produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The deadline passed.
    #[error("request timed out")]
    Timeout,
    /// The body is larger than the cap.
    #[error("response body larger than allowed")]
    TooLarge,
    /// Could not connect, or the connection broke.
    #[error("connection failed: {0}")]
    Connection(String),
}

/// Fetches URLs. Implementations must be usable from any thread.
pub trait Transport: Send + Sync {
    /// Performs one GET (see the module docs for what an implementation must enforce).
    fn fetch(&self, request: &Request<'_>) -> Result<Response, TransportError>;
}

/// Parses a `Retry-After` value given in seconds.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}
