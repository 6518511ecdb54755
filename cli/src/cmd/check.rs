//! `fraudshield --dir D check [--kind K] [--outgoing] [--json] RAW`
//!
//! Checks one identifier against the store in `D` and prints the verdict. Without `--kind` the
//! input is read as a phone number (the common case: a call); bank accounts, QQ numbers and
//! Alipay accounts need `--kind`. The identifier may be given as several words
//! (`check +86 138 0013 8000`) and may start with `-`. JSON fields: `action`
//! (`allow`/`warn`/`block`), `source` (`protected`, `user_allow`, `user_block`, `exact`,
//! `prefix`, `unallocated_range` — a mobile number from a range that is not allocated, which
//! no list holds: likely spoofed —, `none`), `category` and `risk`
//! (`null` unless a blocklist entry matched), `reports` (the report-count bucket 0–7, or
//! `null`), `kind`, `direction` and `list_version`.

use crate::output::{Failure, Output};
use fraudshield_core::entry::{Category, Risk};
use fraudshield_core::identifier;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::verdict::{Action, Direction, Source, Verdict};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Identifier kind: phone (default), bank, qq or alipay.
    #[arg(long, short)]
    kind: Option<Kind>,
    /// The user is dialling this number (a flagged number warns, never blocks).
    #[arg(long)]
    outgoing: bool,
    /// The identifier as typed or as the phone reported it; several words are joined with
    /// spaces (`check +86 138 0013 8000` needs no quotes), and a value may start with `-`.
    #[arg(required = true, num_args = 1.., value_name = "RAW")]
    raw: Vec<String>,
}

/// The `--dir` every store command needs, or a one-line failure naming the flag.
pub fn require_dir(dir: Option<PathBuf>, command: &str) -> Result<PathBuf, Failure> {
    dir.ok_or_else(|| {
        Failure::new(format!(
            "`{command}` needs the store directory: pass --dir DIR (created if missing)"
        ))
    })
}

/// Opens the store for a short-lived command: no background compaction (the process would
/// exit under it).
pub fn open_store(dir: &Path) -> Result<Store, Failure> {
    Store::open(
        dir,
        StoreOptions {
            auto_compact_overlay_len: None,
            ..StoreOptions::default()
        },
    )
    .map_err(|e| Failure::new(format!("cannot open the store: {e}")))
}

/// Opens an existing store for reading only (`check`, `status`, `verify`): refuses a directory
/// that holds no store, creates nothing, and works while another process writes.
pub fn open_existing_store(dir: &Path) -> Result<Store, Failure> {
    Store::open_existing(dir, StoreOptions::default())
        .map_err(|e| Failure::new(format!("cannot open the store: {e}")))
}

/// A verdict as printed by `check --json` and `demo`.
#[derive(Serialize)]
pub struct VerdictJson {
    action: Action,
    source: Source,
    category: Option<Category>,
    risk: Option<Risk>,
    reports: Option<u8>,
    kind: Kind,
    direction: Direction,
    list_version: u64,
}

impl VerdictJson {
    /// The JSON form of `v` for an identifier of `kind`.
    pub fn new(v: &Verdict, kind: Kind, direction: Direction) -> VerdictJson {
        VerdictJson {
            action: v.action,
            source: v.source,
            category: v.category,
            risk: v.risk,
            reports: v.reports.map(|r| r.get()),
            kind,
            direction,
            list_version: v.list_version,
        }
    }
}

/// One line for people: `block  exact  police_impersonation, high risk, 5+ reports (list 3)`.
pub fn describe(v: &Verdict) -> String {
    let mut s = format!("{:<5}  {}", v.action.as_str(), v.source);
    if let (Some(c), Some(r)) = (v.category, v.risk) {
        s.push_str(&format!("  {c}, {r} risk"));
    }
    if let Some(b) = v.reports
        && b.get() > 0
    {
        s.push_str(&format!(", {}+ reports", b.min_reports()));
    }
    if v.source == Source::UnallocatedRange {
        s.push_str("  (a mobile range that is not allocated: likely a spoofed caller id)");
    }
    s.push_str(&format!("  (list version {})", v.list_version));
    s
}

/// Runs `check`.
pub fn run(out: &Output, dir: Option<PathBuf>, args: Args) -> Result<(), Failure> {
    let dir = require_dir(dir, "check")?;
    let kind = args.kind.unwrap_or(Kind::Phone);
    let raw = args.raw.join(" ");
    let id = identifier::normalize(kind, &raw).map_err(|e| {
        if args.kind.is_none() {
            Failure::new(format!(
                "not a valid phone number ({e}); use --kind bank|qq|alipay for other identifiers"
            ))
        } else {
            Failure::new(format!("invalid {kind} identifier: {e}"))
        }
    })?;
    let store = open_existing_store(&dir)?;
    let direction = if args.outgoing {
        Direction::Outgoing
    } else {
        Direction::Incoming
    };
    let v = store.check(&id, direction);
    out.emit(&VerdictJson::new(&v, kind, direction), || describe(&v))
}
