//! The built-in HTTP transport (cargo feature `http`), for apps without an HTTP stack of their
//! own: ureq (a small blocking client, no async runtime) with rustls on ring and Mozilla's root
//! certificates compiled in. Most apps should implement `Transport` with OkHttp or URLSession
//! instead: platform TLS and trust store, proxies, pinning, and a smaller library.
//!
//! Size (x86_64 `mobile` build, stripped): about 0.9 MiB on top of the library without it,
//! where reqwest with rustls on ring (hyper, tokio, URL and IDNA tables) added 2.2 MiB.

use fraudshield_core::sync::transport::{
    HttpHeader, HttpMethod, HttpRequest, HttpResponse, Transport, TransportError,
};
use std::sync::Arc;
use std::time::Duration;

/// The built-in transport, to pass to `Shield.sync` and `Shield.send_reports`.
///
/// Thread-safety: any thread; the transport itself may be shared. No I/O until a request.
#[uniffi::export]
pub fn builtin_http_transport() -> Result<Arc<dyn Transport>, TransportError> {
    crate::guarded(|| Ok(Arc::new(BuiltinTransport::new()) as Arc<dyn Transport>))
}

/// [`Transport`] over a ureq agent (connections are pooled between requests).
pub(crate) struct BuiltinTransport {
    agent: ureq::Agent,
}

impl BuiltinTransport {
    /// A transport with its own connection pool. Does no I/O.
    pub(crate) fn new() -> BuiltinTransport {
        let config = ureq::Agent::config_builder()
            .user_agent(concat!("fraudshield/", env!("CARGO_PKG_VERSION")))
            // 304, 429 and 5xx are answers the sync reads, not errors.
            .http_status_as_error(false)
            .max_redirects(3)
            .build();
        BuiltinTransport {
            agent: config.into(),
        }
    }
}

impl Default for BuiltinTransport {
    fn default() -> Self {
        BuiltinTransport::new()
    }
}

impl Transport for BuiltinTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let timeout = Some(Duration::from_millis(request.timeout_ms));
        // An https URL never follows a redirect to plain http.
        let https_only = request.url.starts_with("https://");
        let response = match request.method {
            HttpMethod::Get => {
                let mut builder = self.agent.get(&request.url);
                for h in &request.headers {
                    builder = builder.header(&h.name, &h.value);
                }
                let builder = builder
                    .config()
                    .timeout_global(timeout)
                    .https_only(https_only);
                builder.build().call()
            }
            HttpMethod::Post => {
                let mut builder = self.agent.post(&request.url);
                for h in &request.headers {
                    builder = builder.header(&h.name, &h.value);
                }
                let builder = builder
                    .config()
                    .timeout_global(timeout)
                    .https_only(https_only);
                builder.build().send(&request.body[..])
            }
        }
        .map_err(classify)?;

        let status = response.status().as_u16();
        let headers = response
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
        let mut body = response.into_body();
        if body.content_length().is_some_and(|n| n > max) {
            return Err(TransportError::TooLarge);
        }
        // The global timeout above also bounds reading the body, however slowly it trickles.
        let body = body
            .with_config()
            .limit(max)
            .read_to_vec()
            .map_err(classify)?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// Maps ureq's error to the transport's. The text never holds the URL (it may name an
/// artifact) or a header value.
fn classify(e: ureq::Error) -> TransportError {
    match e {
        ureq::Error::Timeout(_) => TransportError::Timeout,
        ureq::Error::BodyExceedsLimit(_) => TransportError::TooLarge,
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => TransportError::Timeout,
        ureq::Error::Io(io) => TransportError::Connection {
            reason: format!("{:?}", io.kind()),
        },
        ureq::Error::HostNotFound => TransportError::Connection {
            reason: "host not found".to_owned(),
        },
        ureq::Error::ConnectionFailed => TransportError::Connection {
            reason: "connection failed".to_owned(),
        },
        ureq::Error::RequireHttpsOnly(_) => TransportError::Connection {
            reason: "redirected from https to http".to_owned(),
        },
        ureq::Error::TooManyRedirects => TransportError::Connection {
            reason: "too many redirects".to_owned(),
        },
        ureq::Error::Tls(reason) => TransportError::Connection {
            reason: format!("TLS: {reason}"),
        },
        ureq::Error::Rustls(e) => TransportError::Connection {
            reason: format!("TLS: {e}"),
        },
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => TransportError::Connection {
            reason: "malformed request URL or header".to_owned(),
        },
        _ => TransportError::Connection {
            reason: "HTTP protocol error".to_owned(),
        },
    }
}
