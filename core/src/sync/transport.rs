//! The network seen by fraudshield: one small trait with one method, so the host app can supply
//! HTTP.
//!
//! On a phone the host app usually implements [`Transport`] with its own HTTP stack (OkHttp,
//! URLSession: platform TLS, proxies and certificate pinning for free), through a uniffi callback
//! interface; the CLI and tests use the reqwest implementation behind the `http` feature
//! ([`super::http::HttpTransport`]). Every type here is a plain owned value (no lifetimes, no
//! `Instant`), so the same trait crosses the FFI unchanged.
//!
//! Two kinds of request go through it:
//! - `GET <base>v1/manifest` and the artifact paths the manifest names (list sync), with at most
//!   an `If-None-Match` header;
//! - `POST <base>v1/reports` with a JSON body, `Content-Type: application/json` and
//!   `Authorization: Bearer <reporter token>` (citizen reports the user chose to send).
//!
//! An implementation must:
//! - send exactly [`HttpRequest::method`], [`HttpRequest::url`], [`HttpRequest::headers`] and
//!   [`HttpRequest::body`] (nothing else about the user: no identifiers, no device ids);
//! - stop reading and return [`TransportError::TooLarge`] once the response body exceeds
//!   [`HttpRequest::max_response_bytes`] (check `Content-Length` first, then count while
//!   reading);
//! - give up with [`TransportError::Timeout`] once [`HttpRequest::timeout_ms`] has passed since
//!   the call began, however slowly the server trickles bytes;
//! - report every HTTP status as a response (304, 429, 5xx are answers, not errors) with the
//!   response headers (at least `ETag` and `Retry-After`);
//! - not follow redirects to another scheme, and never log bodies or the `Authorization` header.
//!
//! ```
//! use fraudshield_core::sync::transport::{HttpMethod, HttpRequest, HttpResponse, Transport, TransportError};
//!
//! /// A transport that answers every request with 404 (a stand-in for the host's HTTP stack).
//! struct Offline;
//! impl Transport for Offline {
//!     fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
//!         assert!(request.timeout_ms > 0);
//!         Ok(HttpResponse { status: 404, headers: vec![], body: vec![] })
//!     }
//! }
//! let r = Offline.send(HttpRequest::get("https://lists.example.org/v1/manifest", 1024, 5_000)).unwrap();
//! assert_eq!(r.status, 404);
//! assert_eq!(r.header("etag"), None);
//! ```

/// The HTTP method of a request: the protocol needs only these two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum HttpMethod {
    /// Fetch the manifest or an artifact.
    Get,
    /// Upload a citizen report.
    Post,
}

impl HttpMethod {
    /// `GET` or `POST`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// One header (name and value). Names compare case-insensitively.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HttpHeader {
    /// Header name, e.g. `If-None-Match`.
    pub name: String,
    /// Header value.
    pub value: String,
}

impl std::fmt::Debug for HttpHeader {
    /// Shows the name only: an `Authorization` value is a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpHeader({})", self.name)
    }
}

/// One request.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: HttpMethod,
    /// Absolute URL.
    pub url: String,
    /// Headers to send, exactly these (the transport adds only what its HTTP stack needs, such
    /// as `Host`, `Content-Length` and a user agent).
    pub headers: Vec<HttpHeader>,
    /// The request body (empty for `GET`).
    pub body: Vec<u8>,
    /// Largest response body accepted.
    pub max_response_bytes: u64,
    /// The whole exchange (connect, send, headers, body) must end within this many
    /// milliseconds.
    pub timeout_ms: u64,
}

impl std::fmt::Debug for HttpRequest {
    /// Method and URL only: bodies hold reports and headers may hold the reporter token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl HttpRequest {
    /// A `GET` with no headers.
    pub fn get(url: &str, max_response_bytes: u64, timeout_ms: u64) -> HttpRequest {
        HttpRequest {
            method: HttpMethod::Get,
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            max_response_bytes,
            timeout_ms,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> HttpRequest {
        self.headers.push(HttpHeader {
            name: name.to_owned(),
            value: value.to_owned(),
        });
        self
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// What came back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers (at least `ETag` and `Retry-After` when the server sent them).
    pub headers: Vec<HttpHeader>,
    /// The body (empty for 304).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// `Retry-After` in seconds, when given as a number of seconds (an HTTP date reads as
    /// absent).
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.header("retry-after").and_then(parse_retry_after)
    }
}

fn find_header<'a>(headers: &'a [HttpHeader], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Why a request produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error))]
pub enum TransportError {
    /// The timeout passed.
    #[error("request timed out")]
    Timeout,
    /// The response body is larger than allowed.
    #[error("response body larger than allowed")]
    TooLarge,
    /// Could not connect, or the connection broke. `reason` must not contain the URL's query or
    /// any header value.
    #[error("connection failed: {reason}")]
    Connection {
        /// What failed.
        reason: String,
    },
}

/// Sends HTTP requests. Implementations must be usable from any thread (`Send + Sync`); the
/// core calls [`Transport::send`] on the thread that called `sync`, one request at a time.
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait Transport: Send + Sync {
    /// Performs one request (see the [module docs](self) for what an implementation must
    /// enforce). Blocking: the core calls it from the app's background thread.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// A host transport that threw something other than a [`TransportError`] (a bug in the app's
/// HTTP code) reads as a broken connection; the exception's text is not kept (it could hold a
/// URL or a header).
#[cfg(feature = "uniffi")]
impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> TransportError {
        TransportError::Connection {
            reason: "the app's transport failed unexpectedly".to_string(),
        }
    }
}

/// Parses a `Retry-After` value given in seconds.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    value.trim().parse::<u64>().ok()
}
