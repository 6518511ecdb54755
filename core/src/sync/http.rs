//! [`Transport`] over reqwest's blocking client with rustls on ring (feature `http`).
//!
//! Used by the CLI and the tests. Mobile builds leave the feature out and let the host app
//! supply HTTP (about half the size of a mobile build is an HTTP stack).

use super::transport::{
    HttpHeader, HttpMethod, HttpRequest, HttpResponse, Transport, TransportError,
};
use std::io::Read;
use std::time::{Duration, Instant};

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
            .map_err(|e| TransportError::Connection {
                reason: e.to_string(),
            })?;
        Ok(HttpTransport { client })
    }
}

fn classify(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        TransportError::Timeout
    } else {
        // Without the URL: it may name an artifact, and the error text is shown to users.
        TransportError::Connection {
            reason: e.without_url().to_string(),
        }
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let deadline = Instant::now() + Duration::from_millis(request.timeout_ms);
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut rb = self
            .client
            .request(method, &request.url)
            .timeout(Duration::from_millis(request.timeout_ms));
        for h in &request.headers {
            rb = rb.header(&h.name, &h.value);
        }
        if request.method == HttpMethod::Post {
            rb = rb.body(request.body);
        }
        let resp = rb.send().map_err(classify)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some(HttpHeader {
                    name: name.as_str().to_owned(),
                    value: value.to_str().ok()?.to_owned(),
                })
            })
            .collect();
        let max = request.max_response_bytes;
        if resp.content_length().is_some_and(|n| n > max) {
            return Err(TransportError::TooLarge);
        }
        let body = read_capped(resp, max, deadline)?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// Reads a body of at most `max` bytes before `deadline`.
fn read_capped(
    resp: reqwest::blocking::Response,
    max: u64,
    deadline: Instant,
) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    let mut reader = resp.take(max.saturating_add(1));
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if Instant::now() >= deadline {
            return Err(TransportError::Timeout);
        }
        match reader.read(&mut chunk) {
            Ok(0) => return Ok(body),
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let timeout = e.kind() == std::io::ErrorKind::TimedOut
                    || Instant::now() >= deadline
                    || e.to_string().contains("timed out");
                return Err(if timeout {
                    TransportError::Timeout
                } else {
                    TransportError::Connection {
                        reason: e.to_string(),
                    }
                });
            }
        }
        if body.len() as u64 > max {
            return Err(TransportError::TooLarge);
        }
    }
}
