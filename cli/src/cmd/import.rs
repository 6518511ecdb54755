//! `fraudshield --dir D import [--list-version N] FILE.csv`: adds blocklist entries from a CSV
//! file (case data, a police export) in one durable batch.
//!
//! ## CSV format
//!
//! A header row names the columns, in any order, case-insensitively:
//!
//! | column | required | content |
//! |---|---|---|
//! | `kind` | yes | `phone`, `bank`, `qq` or `alipay` |
//! | `value` | yes | the identifier in any usual spelling (`+86 138-0013-8000`); a phone value ending in `*` (`+86 170*`) is a **prefix rule** flagging every number that starts with it |
//! | `category` | yes | `police_impersonation`, `customer_service`, `refund`, `investment`, `loan`, `romance`, `job` or `other` |
//! | `risk` | yes | `low`, `medium` or `high` |
//! | `reports` | no | how many citizens reported it (a number, default 0); stored as a log-scale bucket |
//!
//! Other columns (notes, case numbers) are ignored. Fields are trimmed.
//!
//! ```text
//! kind,value,category,risk,reports
//! phone,+86 138 0013 8000,police_impersonation,high,12
//! phone,+86 170*,loan,medium,
//! qq,87654321,customer_service,low,3
//! ```
//!
//! A bad row is reported on stderr with its line number and the reason (never the identifier)
//! and skipped. The good rows land in **one** batch, committed durably as list version `N`
//! (default: the current version + 1); a later row for the same identifier wins. A large
//! import is then folded into the base snapshot at once, so later opens stay fast. A progress
//! bar is drawn on stderr for files over 1 MiB when stderr is a terminal and `--json` is off.

use crate::cmd::check::{open_store, require_dir};
use crate::output::{Failure, Output};
use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::identifier;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::Store;
use serde::Serialize;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

/// Arguments of `import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The list version to record (default: the current one + 1).
    #[arg(long, value_name = "N")]
    list_version: Option<u64>,
    /// The CSV file.
    file: PathBuf,
}

/// Files at least this large get a progress bar.
const PROGRESS_MIN_BYTES: u64 = 1 << 20;
/// An overlay larger than this after the import is compacted into the base at once.
const COMPACT_AFTER: usize = 10_000;
/// Row errors printed in text mode (all are counted).
const SHOWN_ERRORS: usize = 20;

/// A skipped row.
#[derive(Debug, Serialize)]
pub struct RowError {
    /// 1-based line number in the file.
    pub line: u64,
    /// What was wrong (never the identifier itself).
    pub reason: String,
}

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
    /// The skipped rows (at most 1000 are kept).
    pub errors: Vec<RowError>,
}

struct Columns {
    kind: usize,
    value: usize,
    category: usize,
    risk: usize,
    reports: Option<usize>,
}

fn columns(headers: &csv::StringRecord) -> Result<Columns, Failure> {
    let find = |name: &str| {
        headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    let need = |name: &str| {
        find(name).ok_or_else(|| {
            Failure::new(format!(
                "the CSV header has no `{name}` column (expected kind,value,category,risk[,reports])"
            ))
        })
    };
    Ok(Columns {
        kind: need("kind")?,
        value: need("value")?,
        category: need("category")?,
        risk: need("risk")?,
        reports: find("reports"),
    })
}

fn parse_row(record: &csv::StringRecord, c: &Columns) -> Result<Change, String> {
    let field = |i: usize, name: &str| {
        record
            .get(i)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("missing {name}"))
    };
    let kind: Kind = field(c.kind, "kind")?
        .parse()
        .map_err(|e: fraudshield_core::kind::UnknownKind| e.to_string())?;
    let raw = field(c.value, "value")?;
    let category: Category = field(c.category, "category")?
        .parse()
        .map_err(|e: fraudshield_core::entry::ValueError| e.to_string())?;
    let risk: Risk = field(c.risk, "risk")?
        .parse()
        .map_err(|e: fraudshield_core::entry::ValueError| e.to_string())?;
    let reports = match c
        .reports
        .and_then(|i| record.get(i))
        .filter(|s| !s.is_empty())
    {
        None => 0,
        Some(s) => s
            .parse::<u32>()
            .map_err(|_| "reports is not a whole number".to_string())?,
    };
    let prefix = kind == Kind::Phone && raw.ends_with('*');
    let id = if prefix {
        identifier::normalize_phone_prefix(raw)
    } else {
        identifier::normalize(kind, raw)
    }
    .map_err(|e| format!("invalid {kind} value: {e}"))?;
    Ok(Change::Upsert(
        id.key(),
        EntryValue {
            category,
            risk,
            reports: ReportBucket::from_count(reports),
            prefix,
        },
    ))
}

/// Reads a CSV blocklist from `input` and applies its good rows to `store` as one batch.
/// `size` (bytes, if known) drives the progress bar, drawn only when `progress` is set.
pub fn import_csv(
    store: &Store,
    input: impl Read,
    size: Option<u64>,
    progress: bool,
    list_version: Option<u64>,
) -> Result<ImportReport, Failure> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| Failure::new(format!("cannot read the CSV header: {e}")))?
        .clone();
    let cols = columns(&headers)?;
    let bar = match (progress, size) {
        (true, Some(len)) => {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(len),
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "importing {bar:40} {bytes}/{total_bytes} ({eta})",
            ) {
                bar.set_style(style);
            }
            Some(bar)
        }
        _ => None,
    };
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    let mut skipped = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                match parse_row(&record, &cols) {
                    Ok(change) => changes.push(change),
                    Err(reason) => {
                        skipped += 1;
                        if errors.len() < 1000 {
                            errors.push(RowError { line, reason });
                        }
                    }
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let reason = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
                    csv::ErrorKind::Io(_) => {
                        return Err(Failure::new(format!("cannot read the CSV file: {e}")));
                    }
                    _ => "unreadable row".to_string(),
                };
                skipped += 1;
                if errors.len() < 1000 {
                    errors.push(RowError { line, reason });
                }
                // After a UTF-8 error the reader has moved past the row: keep going.
            }
        }
        if let Some(bar) = &bar
            && (changes.len() + skipped).is_multiple_of(4096)
        {
            bar.set_position(reader.position().byte());
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let version = list_version.unwrap_or_else(|| store.list_version() + 1);
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
    Ok(ImportReport {
        imported: changes.len(),
        skipped,
        changed,
        list_version: version,
        entries: store.status().entries,
        errors,
    })
}

/// Runs `import`.
pub fn run(out: &Output, json: bool, dir: Option<PathBuf>, args: Args) -> Result<(), Failure> {
    let dir = require_dir(dir, "import")?;
    let file = std::fs::File::open(&args.file)
        .map_err(|e| Failure::new(format!("cannot open {}: {e}", args.file.display())))?;
    let size = file.metadata().ok().map(|m| m.len());
    let progress =
        !json && std::io::stderr().is_terminal() && size.is_some_and(|s| s >= PROGRESS_MIN_BYTES);
    let store = open_store(&dir)?;
    let report = import_csv(
        &store,
        std::io::BufReader::new(file),
        size,
        progress,
        args.list_version,
    )?;
    if !json {
        for e in report.errors.iter().take(SHOWN_ERRORS) {
            eprintln!("line {}: {} (row skipped)", e.line, e.reason);
        }
        if report.skipped > SHOWN_ERRORS {
            eprintln!("… and {} more skipped rows", report.skipped - SHOWN_ERRORS);
        }
    }
    out.emit(&report, || {
        format!(
            "imported {} rows ({} skipped, {} entries changed) as list version {}; {} entries in the list",
            report.imported, report.skipped, report.changed, report.list_version, report.entries
        )
    })
}
