//! `fraudshield --dir D sync --server URL --trust KEYFILE [--list ID] [--json]`
//!
//! Brings the on-device store in `D` up to the newest release the server offers, verifying
//! everything first (see `fraudshield_core::sync`). On any failure the previous state keeps
//! serving lookups and the command exits 1 with a one-line reason.
//!
//! ## Trust file
//! The publisher's public keys, one per line (`#` comments allowed):
//! ```text
//! ed25519 <16-hex-digit key id> <base64 of the 32-byte Ed25519 public key>
//! threshold 1
//! ```
//! The key id is the first 8 bytes of SHA-256 over the key; a mismatch is refused, so a
//! mistyped key cannot be pinned. A publisher creates a key pair with
//! `fraudshield_core::release::keys::SigningKey::generate` and hands out
//! `KeySet::to_trust_file` (see `fraudshield_core::release`).
//!
//! ## Output
//! Text by default; with `--json` one object: `{"ok":true,"release_before":…,"release":…,
//! "path":"delta"|"snapshot"|"delta_fell_back_to_snapshot"|"up_to_date","requests":…,
//! "bytes_downloaded":…,"freshness":{"state":"fresh"|"stale"|"never",…}}`, or on failure
//! `{"ok":false,"error":"network"|"backoff"|"invalid_update"|"stale"|"storage","reason":…,
//! "retry_after_secs"?:…,"stale_since"?:…}` (and exit status 1).

use crate::output::{Failure, Output};
use fraudshield_core::release::keys::KeySet;
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::sync::http::HttpTransport;
use fraudshield_core::sync::{Freshness, SyncConfig, SyncError, SyncReport, freshness, sync};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Arguments of `sync`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Base URL of the list (the manifest is at `<URL>/v1/manifest`).
    #[arg(long, value_name = "URL")]
    server: String,
    /// Trust file with the publisher's public keys (format in `fraudshield sync --help` docs).
    #[arg(long, value_name = "KEYFILE")]
    trust: PathBuf,
    /// The list id to follow; by default the first list accepted is remembered.
    #[arg(long, value_name = "ID")]
    list: Option<String>,
    /// Skip the full local integrity check before applying a delta.
    #[arg(long)]
    no_verify: bool,
    /// Deadline of each request, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    timeout: u64,
}

#[derive(Serialize)]
struct Done<'a> {
    ok: bool,
    #[serde(flatten)]
    report: &'a SyncReport,
    freshness: Freshness,
}

#[derive(Serialize)]
struct Failed {
    ok: bool,
    error: &'static str,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stale_since: Option<i64>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Runs one sync of the store in `dir`.
pub fn run(out: &Output, dir: Option<PathBuf>, args: Args) -> Result<(), Failure> {
    let dir = dir.ok_or_else(|| Failure::new("sync needs --dir DIR (the on-device store)"))?;
    let text = std::fs::read_to_string(&args.trust)
        .map_err(|e| Failure::new(format!("cannot read the trust file: {e}")))?;
    let trust = KeySet::from_trust_file(&text)
        .map_err(|e| Failure::new(format!("invalid trust file: {e}")))?;
    let store = Store::open(&dir, StoreOptions::default())
        .map_err(|e| Failure::new(format!("cannot open the store: {e}")))?;
    let mut config = SyncConfig::new(&args.server, trust);
    config.list_id = args.list;
    config.verify_local = !args.no_verify;
    config.request_timeout = Duration::from_secs(args.timeout.max(1));
    let transport = HttpTransport::new().map_err(|e| Failure::new(format!("http: {e}")))?;
    let now = now();
    match sync(&store, &transport, &config, now) {
        Ok(report) => {
            let fresh = freshness(&store, now, config.clock_skew_secs)?;
            out.emit(
                &Done {
                    ok: true,
                    report: &report,
                    freshness: fresh,
                },
                || {
                    let f = match fresh {
                        Freshness::Fresh { expires_at, .. } => format!("fresh until {expires_at}"),
                        Freshness::Stale { since, .. } => format!("STALE since {since}"),
                        Freshness::Never => "never synced".to_string(),
                    };
                    format!(
                        "release {} -> {} ({:?}, {} requests, {} bytes); {f}",
                        report.release_before,
                        report.release,
                        report.path,
                        report.requests,
                        report.bytes_downloaded
                    )
                },
            )
        }
        Err(e) => {
            let (error, retry, stale) = match &e {
                SyncError::Network(_) => ("network", None, None),
                SyncError::Backoff { seconds } => ("backoff", Some(*seconds), None),
                SyncError::InvalidUpdate(_) => ("invalid_update", None, None),
                SyncError::Stale { since } => ("stale", None, Some(*since)),
                SyncError::Storage(_) => ("storage", None, None),
            };
            if out.is_json() {
                out.emit(
                    &Failed {
                        ok: false,
                        error,
                        reason: e.to_string(),
                        retry_after_secs: retry,
                        stale_since: stale,
                    },
                    String::new,
                )?;
            }
            Err(Failure::new(format!(
                "sync failed, the previous list stays in use: {e}"
            )))
        }
    }
}
