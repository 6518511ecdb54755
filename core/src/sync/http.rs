//! [`Transport`] over reqwest's blocking client with rustls on ring (feature `http`).
//!
//! Used by the CLI and the tests. Mobile builds leave the feature out and let the host app
//! supply HTTP (about half the size of a mobile build is an HTTP stack).

use super::transport::{Request, Response, Transport, TransportError, parse_retry_after};
use std::io::Read;
use std::time::Instant;

/// A blocking HTTP(S) transport.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::blocking::Client,
}

impl HttpTransport {
    /// Builds the client. Does no network I/O.
    pub fn new() -> Result<HttpTransport, TransportError> {
        // Installs ring as rustls' process-wide provider; an app may already have done so.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .user_agent(concat!("fraudshield/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| TransportError::Connection(e.to_string()))?;
        Ok(HttpTransport { client })
    }
}

fn classify(e: &reqwest::Error) -> TransportError {
    if e.is_timeout() {
        TransportError::Timeout
    } else {
        TransportError::Connection(e.to_string())
    }
}

impl Transport for HttpTransport {
    fn fetch(&self, request: &Request<'_>) -> Result<Response, TransportError> {
        let remaining = request
            .deadline
            .checked_duration_since(Instant::now())
            .ok_or(TransportError::Timeout)?;
        let mut rb = self.client.get(request.url).timeout(remaining);
        if let Some(etag) = request.if_none_match {
            rb = rb.header("If-None-Match", etag);
        }
        if let Some(lm) = request.if_modified_since {
            rb = rb.header("If-Modified-Since", lm);
        }
        let resp = rb.send().map_err(|e| classify(&e))?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = resp.status().as_u16();
        let etag = header("etag");
        let last_modified = header("last-modified");
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
        if resp.content_length().is_some_and(|n| n > request.max_bytes) {
            return Err(TransportError::TooLarge);
        }
        let mut body = Vec::new();
        let mut reader = resp.take(request.max_bytes.saturating_add(1));
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if Instant::now() >= request.deadline {
                return Err(TransportError::Timeout);
            }
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let timeout = e.kind() == std::io::ErrorKind::TimedOut
                        || Instant::now() >= request.deadline
                        || e.to_string().contains("timed out");
                    return Err(if timeout {
                        TransportError::Timeout
                    } else {
                        TransportError::Connection(e.to_string())
                    });
                }
            }
            if body.len() as u64 > request.max_bytes {
                return Err(TransportError::TooLarge);
            }
        }
        Ok(Response {
            status,
            etag,
            last_modified,
            retry_after,
            body,
        })
    }
}
