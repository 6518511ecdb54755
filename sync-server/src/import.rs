//! `fraudshield-server import FILE.csv`: bulk case data (a police export, 200,000 rows is
//! normal) as **one** batch proposal that a second analyst approves or rejects as a unit.
//!
//! 1. The file is read with core's reader ([`fraudshield_core::import`], the same one as the
//!    `fraudshield import` command): its format, encodings (`--encoding gb18030` for GBK),
//!    physical line numbers and the refusal of a broken file (an unclosed quote, a missing
//!    column) are documented there. A broken file is refused before anything is written.
//! 2. The rows go to [`batch::import`], the code path every batch takes: core's publishing
//!    rules and the protected list are checked on every row (a protected number is a hard
//!    veto), then one transaction writes the batch with its provenance (file name, SHA-256 of
//!    the file, rows read, the importing token and analyst, the time) and one audit row.
//! 3. **Nothing half-done:** a file with any bad row creates no proposal at all, unless
//!    `skip_bad_rows` is set; then the good rows are proposed. Either way the report lists
//!    every bad row with its line and the reason (never the identifier).
//!
//! It only writes the database (SQLite, WAL), so it may run while the server serves: the
//! batch is written in one short transaction that waits its turn behind the server's writes.

use crate::auth::Caller;
use crate::batch::{self, BadRow, BatchRow, Imported};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::protected::ProtectedList;
use fraudshield_core::hex::encode as hex;
use fraudshield_core::import::{FileSummary, TextEncoding, read_file};
use fraudshield_core::release::keys::sha256;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// What `import` is asked to do.
#[derive(Debug, Clone)]
pub struct ImportFile<'a> {
    /// The CSV file.
    pub path: &'a Path,
    /// Its text encoding.
    pub encoding: TextEncoding,
    /// Why (recorded on every proposal and in the audit log).
    pub reason: &'a str,
    /// Propose the good rows of a file with bad rows (see the module docs).
    pub skip_bad_rows: bool,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
}

/// What `import` did, printed as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The file's name (without its directory), as recorded in the batch.
    pub source: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// How the file was read: encoding, lines, rows, blank lines.
    pub file: FileSummary,
    /// The batch written; absent when the import was refused.
    pub batch: Option<Imported>,
    /// Why the import was refused (bad rows without `--skip-bad-rows`, or nothing to propose).
    pub refused: Option<String>,
    /// Every bad row, in file order.
    pub bad_rows: Vec<BadRow>,
    /// Wall time of the whole import, in milliseconds.
    pub duration_ms: u64,
}

/// Reads `file` and records its rows as one batch by `caller` (see the module docs).
/// `Err` when the file cannot be read or is refused whole; a refusal over bad rows is an
/// `Ok` report with no batch and every bad row listed.
pub fn import_file(
    db: &Db,
    caller: &Caller,
    protected: &ProtectedList,
    file: &ImportFile<'_>,
    now: i64,
) -> AppResult<ImportReport> {
    let started = Instant::now();
    let bytes = std::fs::read(file.path).map_err(|e| {
        AppError::bad_request("unreadable_file", format!("cannot read the file: {e}"))
    })?;
    let digest = sha256(&bytes);
    let source = file
        .path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let bar = file.progress.then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(bytes.len() as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg:10} {bar:40} {pos}/{len} ({eta})")
        {
            bar.set_style(style);
        }
        bar.set_message("reading");
        bar
    });
    let parsed = read_file(&bytes, file.encoding, &mut |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    })
    .map_err(|e| AppError::unprocessable("broken_file", e.to_string()))?;
    drop(bytes);
    let rows: Vec<BatchRow> = parsed.rows.iter().map(BatchRow::from).collect();
    let read_bad: Vec<BadRow> = parsed
        .errors
        .iter()
        .map(|e| BadRow {
            line: e.line,
            reason: e.reason.clone(),
        })
        .collect();
    let mut bad_rows = read_bad.clone();
    bad_rows.extend(batch::check(&rows, protected));
    bad_rows.sort_by_key(|b| b.line);
    if let Some(bar) = &bar {
        bar.set_message("writing");
        bar.set_length(rows.len() as u64);
        bar.set_position(0);
    }
    let request = batch::Import {
        source: &source,
        sha256: digest,
        rows_read: parsed.summary.rows,
        rows: &rows,
        bad_rows: &read_bad,
        reason: file.reason,
        skip_bad_rows: file.skip_bad_rows,
    };
    let outcome = db.blocking(|c| batch::import(c, caller, &request, protected, now));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let (batch, refused) = match outcome {
        Ok(done) => (Some(done), None),
        Err(e) if matches!(e.code(), "bad_rows" | "nothing_to_import") => {
            (None, Some(e.message().to_owned()))
        }
        Err(e) => return Err(e),
    };
    Ok(ImportReport {
        source,
        sha256: hex(&digest),
        file: parsed.summary,
        batch,
        refused,
        bad_rows,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}
