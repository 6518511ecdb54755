//! `fraudshield --dir D status [--json]`: entries, list version, digest, overlay, file sizes and
//! freshness of the list.
//!
//! JSON fields are those of `fraudshield_core::store::Status`: `entries`, `base_entries`,
//! `overlay_len`, `list_version`, `digest` (hex), `base_file_bytes`, `database_bytes`,
//! `user_allowed`, `user_blocked`, `protected`, `degraded` (`null`, or why the list is unavailable); plus `freshness`:
//! `{"state":"never"}`, `{"state":"fresh","release":…,"expires_at":…}` or
//! `{"state":"stale","release":…,"since":…}` (Unix seconds). A stale list still answers
//! lookups from its last good data; it only means no valid manifest has been seen for longer
//! than its expiry (plus the tolerated clock skew).

use crate::cmd::check::{open_existing_store, require_dir};
use crate::output::{Failure, Output};
use fraudshield_core::store::Status;
use fraudshield_core::sync::{DEFAULT_CLOCK_SKEW_SECS, Freshness, freshness};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// Arguments of `status`.
#[derive(Debug, clap::Args)]
pub struct Args {}

#[derive(Serialize)]
struct StatusJson<'a> {
    #[serde(flatten)]
    status: &'a Status,
    freshness: Freshness,
}

/// Runs `status`.
pub fn run(out: &Output, dir: Option<PathBuf>, _args: Args) -> Result<(), Failure> {
    let dir = require_dir(dir, "status")?;
    let store = open_existing_store(&dir)?;
    let st = store.status();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let fresh = freshness(&store, now, DEFAULT_CLOCK_SKEW_SECS)?;
    let json = StatusJson {
        status: &st,
        freshness: fresh,
    };
    out.emit(&json, || {
        let mut s = format!(
            "entries        {}\nlist version   {}\ndigest         {}\noverlay        {} changes\nbase file      {} bytes ({} entries)\ndatabase       {} bytes\nuser lists     {} allowed, {} blocked\nprotected      {}\nfreshness      {}",
            st.entries,
            st.list_version,
            st.digest,
            st.overlay_len,
            st.base_file_bytes,
            st.base_entries,
            st.database_bytes,
            st.user_allowed,
            st.user_blocked,
            st.protected,
            describe(&fresh, now),
        );
        if let Some(reason) = &st.degraded {
            s.push_str(&format!("\nDEGRADED       {reason}: the list is unavailable until a sync installs a full snapshot or the list is re-imported"));
        }
        s
    })
}

fn describe(fresh: &Freshness, now: i64) -> String {
    match fresh {
        Freshness::Never => "never synced".to_string(),
        Freshness::Fresh {
            release,
            expires_at,
        } => format!(
            "fresh: release {release}, manifest valid for {} more minutes",
            (expires_at - now).max(0) / 60
        ),
        Freshness::Stale { release, since } => format!(
            "STALE: release {release}, manifest expired {} minutes ago; lookups use the last good list",
            (now - since).max(0) / 60
        ),
    }
}
