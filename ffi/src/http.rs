//! The built-in HTTP transport (cargo feature `http`): reqwest with rustls on ring, for apps
//! without an HTTP stack of their own. Adds about 1.4 MiB to the library; most apps should
//! implement `Transport` with OkHttp or URLSession instead (platform TLS, proxies, pinning).

use fraudshield_core::sync::http::HttpTransport;
use fraudshield_core::sync::transport::{Transport, TransportError};
use std::sync::Arc;

/// The built-in transport, to pass to `Shield.sync` and `Shield.send_reports`.
///
/// Thread-safety: any thread; the transport itself may be shared. Creating it loads the
/// system's root certificates (**disk I/O**: off the main thread).
#[uniffi::export]
pub fn builtin_http_transport() -> Result<Arc<dyn Transport>, TransportError> {
    Ok(Arc::new(HttpTransport::new()?))
}
