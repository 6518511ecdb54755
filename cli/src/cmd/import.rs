//! `fraudshield --dir D import [--list-version N] [--encoding E] FILE.csv`: adds blocklist
//! entries from a CSV file (case data, a police export) in one durable batch.
//!
//! The file is read by [`fraudshield_core::import`] (the same reader as the server's
//! `fraudshield-server import`): its docs describe the CSV format (`kind,value,category,risk
//! [,reports]` with any other columns ignored), the encodings (UTF-8 with or without a BOM,
//! UTF-16 with a BOM, GBK with `--encoding gb18030`), the line ends and how every line of the
//! file is accounted for.
//!
//! ## What is imported: good rows, and nothing from a broken file
//!
//! Two kinds of problems are told apart:
//!
//! - **A bad row** (an unknown category, a value that is not an identifier, a missing field) is
//!   reported on stderr with its line number and the reason (never the identifier) and
//!   skipped; the good rows are imported. The summary says how many rows were skipped, and
//!   `--json` lists them. Fix them and import the file again: the rows already imported come
//!   out the same, a later row for the same identifier wins.
//! - **A broken file** is refused whole and nothing is imported (exit status 1): an encoding
//!   that is not UTF-8, a header without the required columns, or a **quote that is not
//!   closed**. A field that opens with `"` runs until the next `"`, across line ends: one stray
//!   quote in a value or a note silently swallows the rows after it into one field. A row
//!   whose kind, value, category, risk or reports field holds a line break, or whose other
//!   quoted field holds lines that look like rows of this file, is such a case: the message
//!   names the lines the quote swallowed. A note with a line break in it (Alt+Enter in
//!   Excel, quoted) is fine.
//!
//! Every line of the file is accounted for: the header, blank lines (and lines of empty fields,
//! `,,,,`, which Excel writes for formatted empty rows), the rows read and the extra lines of
//! quoted fields add up to the lines of the file, and the summary prints them.
//!
//! The good rows land in **one** batch, committed durably as list version `N` (default: the
//! current version + 1). `N` must be larger than the store's current version (a list version
//! never goes backwards) and at most 2^63 − 1 (what the store can record). A large import is
//! then folded into the base snapshot at once, so later opens stay fast. A progress bar is
//! drawn on stderr for files over 1 MiB when stderr is a terminal and `--json` is off.

use crate::cmd::check::{open_store, require_dir};
use crate::output::{Failure, Output};
use fraudshield_core::entry::Change;
use fraudshield_core::import::{self, FileSummary, ParsedFile, RowError, plural};
use fraudshield_core::store::Store;
use serde::Serialize;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The list version to record: larger than the store's current one, at most 2^63-1
    /// (default: the current one + 1).
    #[arg(long, value_name = "N")]
    list_version: Option<u64>,
    /// The file's text encoding: utf-8 (default; a byte-order mark and UTF-16 with one are
    /// recognised) or gb18030 (also reads GBK, Excel's "CSV" on a Chinese system).
    #[arg(long, value_enum, default_value_t = TextEncoding::Utf8)]
    encoding: TextEncoding,
    /// The CSV file.
    file: PathBuf,
}

/// The encodings `--encoding` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TextEncoding {
    /// UTF-8 (with or without a byte-order mark), or UTF-16 with a byte-order mark.
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// GB18030, which contains GBK and GB2312.
    #[value(name = "gb18030", alias = "gbk")]
    Gb18030,
}

impl From<TextEncoding> for import::TextEncoding {
    fn from(e: TextEncoding) -> Self {
        match e {
            TextEncoding::Utf8 => import::TextEncoding::Utf8,
            TextEncoding::Gb18030 => import::TextEncoding::Gb18030,
        }
    }
}

/// The largest list version the store can record (SQLite integers are signed 64-bit).
pub const MAX_LIST_VERSION: u64 = i64::MAX as u64;

/// Files at least this large get a progress bar.
const PROGRESS_MIN_BYTES: u64 = 1 << 20;
/// An overlay larger than this after the import is compacted into the base at once.
const COMPACT_AFTER: usize = 10_000;
/// Row errors printed in text mode (all are counted).
const SHOWN_ERRORS: usize = 20;
/// Row errors kept for the JSON report (all are counted).
const KEPT_ERRORS: usize = 1000;

/// What an import did.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    /// Good rows.
    pub imported: usize,
    /// Bad rows, skipped.
    pub skipped: usize,
    /// Entries whose value changed.
    pub changed: usize,
    /// The list version recorded.
    pub list_version: u64,
    /// Blocklist entries after the import.
    pub entries: u64,
    /// How the file was read and that every line was accounted for.
    pub file: FileSummary,
    /// The skipped rows (at most 1000 are kept).
    pub errors: Vec<RowError>,
}

/// Decodes and parses a whole file: every row, or the reason the file is refused. Touches no
/// store, so a refused file changes nothing, not even by creating an empty store.
pub fn read_file(
    bytes: &[u8],
    encoding: TextEncoding,
    progress: bool,
) -> Result<ParsedFile, Failure> {
    let bar = progress_bar(progress, bytes.len() as u64);
    let parsed = import::read_file(bytes, encoding.into(), &mut |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    parsed.map_err(|e| Failure::new(e.to_string()))
}

/// Commits the good rows of a parsed file as one batch.
pub fn apply(
    store: &Store,
    parsed: ParsedFile,
    list_version: Option<u64>,
) -> Result<ImportReport, Failure> {
    let version = next_list_version(store.list_version(), list_version)?;
    let changes: Vec<Change> = parsed.rows.iter().map(import::Row::change).collect();
    let staged = store
        .stage(&changes)
        .map_err(|e| Failure::new(format!("cannot stage the import: {e}")))?;
    let changed = staged.changed();
    store
        .commit(staged, version, &[])
        .map_err(|e| Failure::new(format!("cannot save the import: {e}")))?;
    if store.status().overlay_len > COMPACT_AFTER {
        store
            .compact()
            .map_err(|e| Failure::new(format!("imported, but compaction failed: {e}")))?;
    }
    let skipped = parsed.errors.len();
    let mut errors = parsed.errors;
    errors.truncate(KEPT_ERRORS);
    Ok(ImportReport {
        imported: changes.len(),
        skipped,
        changed,
        list_version: version,
        entries: store.status().entries,
        file: parsed.summary,
        errors,
    })
}

/// The version an import records: `requested`, or `current + 1`; never at or below `current`
/// (a list version never goes backwards) and never above [`MAX_LIST_VERSION`].
pub fn next_list_version(current: u64, requested: Option<u64>) -> Result<u64, Failure> {
    match requested {
        None => current
            .checked_add(1)
            .filter(|v| *v <= MAX_LIST_VERSION)
            .ok_or_else(|| {
                Failure::new(format!(
                    "the store's list version {current} is the largest it can record: \
                     nothing can be imported after it; nothing was imported"
                ))
            }),
        Some(v) if v > MAX_LIST_VERSION => Err(too_large()),
        Some(v) if v <= current => Err(Failure::new(format!(
            "--list-version {v} would not move the list forward: the store is at list version \
             {current}, and a list version never goes backwards; pass a larger one or leave \
             it out (default: {}); nothing was imported",
            current.saturating_add(1)
        ))),
        Some(v) => Ok(v),
    }
}

fn too_large() -> Failure {
    Failure::new(format!(
        "--list-version is too large: at most {MAX_LIST_VERSION} (2^63-1) can be recorded; \
         nothing was imported"
    ))
}

fn progress_bar(progress: bool, len: u64) -> Option<indicatif::ProgressBar> {
    if !progress {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("importing {bar:40} {bytes}/{total_bytes} ({eta})")
    {
        bar.set_style(style);
    }
    Some(bar)
}

/// Runs `import`.
pub fn run(out: &Output, json: bool, dir: Option<PathBuf>, args: Args) -> Result<(), Failure> {
    let dir = require_dir(dir, "import")?;
    let bytes = std::fs::read(&args.file)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", args.file.display())))?;
    let progress =
        !json && std::io::stderr().is_terminal() && bytes.len() as u64 >= PROGRESS_MIN_BYTES;
    // A list version that can never be recorded is refused before the file is even read.
    if args.list_version.is_some_and(|v| v > MAX_LIST_VERSION) {
        return Err(too_large());
    }
    let parsed = read_file(&bytes, args.encoding, progress)?;
    drop(bytes);
    let store = open_store(&dir)?;
    let report = apply(&store, parsed, args.list_version)?;
    if !json {
        for e in report.errors.iter().take(SHOWN_ERRORS) {
            eprintln!("line {}: {} (row skipped)", e.line, e.reason);
        }
        if report.skipped > SHOWN_ERRORS {
            eprintln!("… and {} more skipped rows", report.skipped - SHOWN_ERRORS);
        }
    }
    out.emit(&report, || {
        let mut s = format!(
            "imported {} rows ({} skipped, {} entries changed) as list version {}; {} entries in \
             the list\n{}",
            report.imported,
            report.skipped,
            report.changed,
            report.list_version,
            report.entries,
            report.file.describe()
        );
        if report.skipped > 0 {
            s.push_str(&format!(
                "\n{} not imported (see the lines above): fix them and import the file again",
                plural(report.skipped as u64, "row")
            ));
        }
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_versions_only_move_forward() {
        assert_eq!(next_list_version(3, None).ok(), Some(4));
        assert_eq!(next_list_version(3, Some(9)).ok(), Some(9));
        assert!(next_list_version(3, Some(3)).is_err());
        assert!(next_list_version(3, Some(0)).is_err());
        assert!(next_list_version(3, Some(MAX_LIST_VERSION + 1)).is_err());
        assert_eq!(
            next_list_version(3, Some(MAX_LIST_VERSION)).ok(),
            Some(MAX_LIST_VERSION)
        );
        assert!(next_list_version(MAX_LIST_VERSION, None).is_err());
    }
}
