//! `fraudshield --dir D verify [--json]`: the full integrity check of the store in `D`.
//!
//! Checks every byte of the base snapshot, recomputes the state digest from every entry and
//! compares it with the recorded one, compares the stored overlay with the live one and runs
//! SQLite's own check (`Store::verify`). Opens the store read-only: it refuses a directory that
//! holds no store and runs alongside a writer. Exits 0 when the store is sound and 1 when it is
//! damaged or unavailable. JSON fields: `ok` (bool), `problem` (`null` or what is wrong, never an
//! identifier), `entries`, `list_version`, `digest` (hex).

use crate::cmd::check::{open_existing_store, require_dir};
use crate::output::{Failure, Output};
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// What `verify` found.
#[derive(Debug, Serialize)]
pub struct VerifyReport {
    /// The store is sound.
    pub ok: bool,
    /// What is wrong, if anything.
    pub problem: Option<String>,
    /// Blocklist entries.
    pub entries: u64,
    /// The list version.
    pub list_version: u64,
    /// The state digest (hex).
    pub digest: String,
}

/// Runs `verify`.
pub fn run(out: &Output, dir: Option<PathBuf>, _args: Args) -> Result<(), Failure> {
    let dir = require_dir(dir, "verify")?;
    let store = open_existing_store(&dir)?;
    let problem = store.verify().err().map(|e| e.to_string());
    let st = store.status();
    let report = VerifyReport {
        ok: problem.is_none(),
        problem,
        entries: st.entries,
        list_version: st.list_version,
        digest: st.digest.to_hex(),
    };
    out.emit(&report, || match &report.problem {
        None => format!(
            "ok: {} entries, list version {}, digest {}",
            report.entries, report.list_version, report.digest
        ),
        Some(p) => format!("DAMAGED: {p}"),
    })?;
    match report.problem {
        None => Ok(()),
        Some(p) => Err(Failure::new(format!("the store is damaged: {p}"))),
    }
}
