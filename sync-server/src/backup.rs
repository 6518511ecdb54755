//! `backup DEST`: a consistent copy of a data directory, taken while the server serves.
//!
//! The database is copied with SQLite's online backup API (a consistent snapshot even while
//! tips arrive). The release files are copied **after** it, the manifest before the
//! publisher state, then the full-list file and the artifacts: whatever publish runs meanwhile, the copy is a state
//! the server can be in after a crash (the database never claims a release whose files are
//! missing; every artifact a copied manifest or state names was written before it), and the
//! start-up recovery of [`crate::release`] finishes it. The signing key keeps mode 0600.
//!
//! Restore: stop the server, replace the data directory with the copy, start the server.

use crate::datadir::{DataDir, write_secret};
use std::fs;
use std::path::Path;

/// What a backup copied.
#[derive(Debug, serde::Serialize)]
pub struct BackupReport {
    /// Bytes of the database copy.
    pub database_bytes: u64,
    /// Release files copied.
    pub files: u64,
}

/// Copies the data directory `src` into `dest` (which must not exist or be empty).
pub fn backup(src: &DataDir, dest: &Path) -> Result<BackupReport, String> {
    src.require_initialized().map_err(|e| e.to_string())?;
    if dest.exists()
        && fs::read_dir(dest)
            .map_err(|e| format!("{}: {e}", dest.display()))?
            .next()
            .is_some()
    {
        return Err(format!("{} is not empty", dest.display()));
    }
    let out = DataDir::new(dest);
    fs::create_dir_all(out.root().join("keys")).map_err(|e| e.to_string())?;
    // 1. The database, online.
    let conn = crate::db::connect(&src.database()).map_err(|e| e.to_string())?;
    conn.backup(
        rusqlite::MAIN_DB,
        out.database(),
        None::<fn(rusqlite::backup::Progress)>,
    )
    .map_err(|e| format!("database backup: {e}"))?;
    let database_bytes = fs::metadata(out.database()).map(|m| m.len()).unwrap_or(0);
    // 2. Manifest, then publisher state, then artifacts.
    let (from, to) = (src.releases(), out.releases());
    let mut files = 0;
    for rel in ["v1/manifest", "publisher/state"] {
        let s = from.join(rel);
        if s.exists() {
            let d = to.join(rel);
            fs::create_dir_all(d.parent().unwrap_or(&to)).map_err(|e| e.to_string())?;
            fs::copy(&s, &d).map_err(|e| format!("{rel}: {e}"))?;
            files += 1;
        }
    }
    // The full-list files the state names were written before it.
    if let Ok(entries) = fs::read_dir(from.join("publisher")) {
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let name = entry.file_name();
            if name.to_string_lossy().ends_with(".fsw") {
                fs::copy(entry.path(), to.join("publisher").join(&name))
                    .map_err(|e| format!("publisher list: {e}"))?;
                files += 1;
            }
        }
    }
    let art = from.join("artifacts");
    fs::create_dir_all(to.join("artifacts")).map_err(|e| e.to_string())?;
    for entry in fs::read_dir(&art).map_err(|e| format!("artifacts: {e}"))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".fsw") {
            fs::copy(entry.path(), to.join("artifacts").join(&name)).map_err(|e| e.to_string())?;
            files += 1;
        }
    }
    // 3. Keys: the secret keeps its mode.
    let key = fs::read(src.signing_key()).map_err(|e| format!("signing key: {e}"))?;
    write_secret(&out.signing_key(), &key).map_err(|e| format!("signing key: {e}"))?;
    fs::copy(src.trust_file(), out.trust_file()).map_err(|e| format!("trust file: {e}"))?;
    let toml = src.root().join("server.toml");
    if toml.exists() {
        fs::copy(&toml, out.root().join("server.toml")).map_err(|e| e.to_string())?;
    }
    Ok(BackupReport {
        database_bytes,
        files,
    })
}
