//! The configuration an app passes to [`Shield::open`](super::Shield::open): a plain record.

use crate::verdict::Policy;

/// Where the list comes from, whom to trust, how to decide, and where reports go.
///
/// A plain record: every field crosses the FFI as is. Building one does no I/O. Its `Debug`
/// never shows the reporter token.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ShieldConfig {
    /// Base URL of the list, e.g. `https://lists.example.org/cn/`: the manifest is at
    /// `<base>v1/manifest` (a missing trailing `/` is added). `http://` is accepted for tests on
    /// loopback; ship `https://`.
    pub server_url: String,
    /// The list this app follows. `None`: the first list accepted is remembered and every later
    /// manifest must name the same one.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub list_id: Option<String>,
    /// The publisher's public keys the app pins, as the text of a trust file: one
    /// `ed25519 <16-hex-digit key id> <base64 key>` line per key, an optional `threshold N` line,
    /// `#` comments (see [`crate::release::keys`]).
    pub trusted_keys: String,
    /// Base URL of the report intake (`<base>v1/reports`); `None`: `server_url` (when the list is
    /// served from a CDN, point this at the server itself).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub report_url: Option<String>,
    /// The reporter token the server issued to this app; without one, reports cannot be queued.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub reporter_token: Option<String>,
    /// Which action each kind of match leads to (see [`crate::verdict`] for the defaults and
    /// the two rules no policy can lift).
    pub policy: Policy,
    /// Deadline of each HTTP request (connect, headers and body), in milliseconds. Default
    /// 30 000.
    pub request_timeout_ms: u64,
    /// Tolerated difference between the device clock and the publisher's, in seconds. Default
    /// 600.
    pub clock_skew_secs: u32,
    /// Verify the whole local list (a full read) before applying a delta, so a damaged list is
    /// repaired from the full snapshot instead of patched. Default `false`.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub verify_before_delta: bool,
}

impl ShieldConfig {
    /// A configuration with the defaults above: the default policy, no reporter token, 30 s per
    /// request, 10 minutes of clock skew.
    pub fn new(server_url: &str, trusted_keys: &str) -> ShieldConfig {
        ShieldConfig {
            server_url: server_url.to_owned(),
            list_id: None,
            trusted_keys: trusted_keys.to_owned(),
            report_url: None,
            reporter_token: None,
            policy: Policy::default(),
            request_timeout_ms: 30_000,
            clock_skew_secs: crate::sync::DEFAULT_CLOCK_SKEW_SECS as u32,
            verify_before_delta: false,
        }
    }
}

impl std::fmt::Debug for ShieldConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShieldConfig")
            .field("server_url", &self.server_url)
            .field("list_id", &self.list_id)
            .field("report_url", &self.report_url)
            .field("reporter_token", &self.reporter_token.as_ref().map(|_| "…"))
            .field("policy", &self.policy)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("clock_skew_secs", &self.clock_skew_secs)
            .field("verify_before_delta", &self.verify_before_delta)
            .finish_non_exhaustive()
    }
}

/// A base URL checked and ending in `/`.
pub(crate) fn base_url(url: &str, what: &str) -> Result<String, String> {
    let url = url.trim();
    let ok = url.starts_with("https://") || url.starts_with("http://");
    if !ok || url.len() <= "https://".len() {
        return Err(format!("{what} must be an http(s) URL"));
    }
    let mut url = url.to_owned();
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token() {
        let mut c = ShieldConfig::new("https://x.example/", "");
        c.reporter_token = Some("secret-token".to_string());
        assert!(!format!("{c:?}").contains("secret-token"));
    }

    #[test]
    fn base_urls_end_in_a_slash() {
        assert_eq!(
            base_url("https://a.example/cn", "u").as_deref(),
            Ok("https://a.example/cn/")
        );
        assert!(base_url("ftp://a.example/", "u").is_err());
        assert!(base_url("https://", "u").is_err());
    }
}
