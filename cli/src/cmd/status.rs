//! `fraudshield --dir D status [--json]`: entries, list version, digest, overlay and file sizes.
//!
//! JSON fields are those of `fraudshield_core::store::Status`: `entries`, `base_entries`,
//! `overlay_len`, `list_version`, `digest` (hex), `base_file_bytes`, `database_bytes`,
//! `user_allowed`, `user_blocked`, `protected`, `recovered_from_corruption`.

use crate::cmd::check::{open_store, require_dir};
use crate::output::{Failure, Output};
use std::path::PathBuf;

/// Arguments of `status`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `status`.
pub fn run(out: &Output, dir: Option<PathBuf>, _args: Args) -> Result<(), Failure> {
    let dir = require_dir(dir, "status")?;
    let store = open_store(&dir)?;
    let st = store.status();
    out.emit(&st, || {
        let mut s = format!(
            "entries        {}\nlist version   {}\ndigest         {}\noverlay        {} changes\nbase file      {} bytes ({} entries)\ndatabase       {} bytes\nuser lists     {} allowed, {} blocked\nprotected      {}",
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
        );
        if st.recovered_from_corruption {
            s.push_str("\nwarning        the blocklist was damaged and has been reset: sync a full snapshot");
        }
        s
    })
}
