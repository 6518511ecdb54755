//! `fraudshield demo [--dir D]`: the one-command tour on built-in examples.
//!
//! Normalizes a few identifiers, scans a fraud message, then imports a small built-in blocklist
//! into a store (in `--dir D`, or a temporary directory removed afterwards) and checks numbers
//! against it: a protected emergency line that the list names, an exact hit, a prefix-rule hit,
//! an outgoing call, a clean number, and the identifiers of a message.

use crate::cmd::check::{VerdictJson, describe, open_store};
use crate::cmd::import::import_csv;
use crate::output::{Failure, Output};
use fraudshield_core::verdict::Direction;
use fraudshield_core::{identifier, kind::Kind, scan};
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

const RAW_NUMBERS: &[(Kind, &str)] = &[
    (Kind::Phone, "+86 138-0013-8000"),
    (Kind::Phone, "010-8888 9999"),
    (Kind::Phone, "17951 13800138000"),
    (Kind::Bank, "6222 0212 3456 7890 123"),
    (Kind::Qq, "12345678"),
    (Kind::Alipay, "User@Example.com"),
];

const MESSAGE: &str = "【客服】您的订单退款失败，请添加客服QQ 87654321，或拨打 400-123-4567，\
                       将保证金转账至卡号 6222 0212 3456 7890 123。";

/// The built-in blocklist (the same CSV format `import` reads). It even lists 110: an update
/// can never block a protected number.
const DEMO_LIST: &str = "kind,value,category,risk,reports
phone,+86 138-0013-8000,police_impersonation,high,57
phone,+86 170*,loan,high,
phone,+86 171*,loan,medium,
phone,400-123-4567,customer_service,medium,8
phone,+63 917 123 4567,investment,high,230
phone,110,other,high,
qq,87654321,refund,high,12
bank,6222 0212 3456 7890 123,refund,high,3
alipay,2088123412341234,job,low,1
phone,not a number,loan,high,
";

const CHECKS: &[(&str, &str, Direction)] = &[
    (
        "protected emergency line (listed, never blocked)",
        "110",
        Direction::Incoming,
    ),
    (
        "exact hit, incoming",
        "+86 138 0013 8000",
        Direction::Incoming,
    ),
    (
        "prefix rule hit (+86 170*)",
        "170 1234 5678",
        Direction::Incoming,
    ),
    (
        "the same number, outgoing",
        "13800138000",
        Direction::Outgoing,
    ),
    (
        "overseas call centre",
        "0063 917 123 4567",
        Direction::Incoming,
    ),
    ("a clean number", "13912345678", Direction::Incoming),
];

#[derive(Serialize)]
struct CheckJson<'a> {
    label: &'a str,
    verdict: VerdictJson,
}

#[derive(Serialize)]
struct TourJson<'a> {
    imported: usize,
    skipped: usize,
    checks: Vec<CheckJson<'a>>,
    message: Vec<VerdictJson>,
}

/// Runs the tour.
pub fn run(out: &Output, json: bool, dir: Option<PathBuf>, _args: Args) -> Result<(), Failure> {
    if !json {
        println!("== normalize: what the phone reports -> one canonical form");
        for (kind, raw) in RAW_NUMBERS {
            match identifier::normalize(*kind, raw) {
                Ok(id) => println!("  {:<7} {raw:<28} -> {}", kind.as_str(), id.canonical()),
                Err(e) => println!("  {:<7} {raw:<28} -> rejected: {e}", kind.as_str()),
            }
        }
        println!("\n== scan: identifiers inside a fraud message");
        println!("  {MESSAGE}");
        for f in scan::scan_text(MESSAGE) {
            println!(
                "  found {:<7} {}",
                f.identifier.kind().as_str(),
                f.identifier.canonical()
            );
        }
    }

    // The store: the given directory, or a temporary one removed at the end.
    let (store_dir, temporary) = match dir {
        Some(d) => (d, false),
        None => {
            let d = std::env::temp_dir().join(format!("fraudshield-demo-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            (d, true)
        }
    };
    let result = tour(out, json, &store_dir);
    if temporary {
        let _ = std::fs::remove_dir_all(&store_dir);
    }
    result
}

fn tour(out: &Output, json: bool, dir: &std::path::Path) -> Result<(), Failure> {
    let store = open_store(dir)?;
    let report = import_csv(&store, DEMO_LIST.as_bytes(), None, false, None)?;
    if !json {
        println!(
            "\n== import: a small built-in blocklist into {}",
            dir.display()
        );
        println!(
            "  {} rows imported, {} skipped, list version {}",
            report.imported, report.skipped, report.list_version
        );
        for e in &report.errors {
            println!("  line {}: {} (skipped)", e.line, e.reason);
        }
        println!("\n== check: incoming and outgoing calls");
    }
    let mut checks = Vec::new();
    for (label, raw, direction) in CHECKS {
        let v = store
            .check_raw(Kind::Phone, raw, *direction)
            .map_err(|e| Failure::new(format!("demo number rejected: {e}")))?;
        if !json {
            let dir = match direction {
                Direction::Incoming => "in ",
                Direction::Outgoing => "out",
            };
            println!("  {dir} {raw:<20} {}\n      ^ {label}", describe(&v));
        }
        checks.push(CheckJson {
            label,
            verdict: VerdictJson::new(&v, Kind::Phone, *direction),
        });
    }
    let found = store.check_text(MESSAGE);
    if !json {
        println!("\n== check a message: every identifier in it");
        if found.is_empty() {
            println!("  (no identifiers found)");
        }
        for (f, v) in &found {
            println!(
                "  {:<7} {:<22} {}",
                f.identifier.kind().as_str(),
                f.identifier.canonical(),
                describe(v)
            );
        }
        let st = store.status();
        println!(
            "\n== status: {} entries, list version {}, digest {}",
            st.entries, st.list_version, st.digest
        );
        return Ok(());
    }
    let message = found
        .iter()
        .map(|(f, v)| VerdictJson::new(v, f.identifier.kind(), Direction::Incoming))
        .collect();
    out.emit(
        &TourJson {
            imported: report.imported,
            skipped: report.skipped,
            checks,
            message,
        },
        String::new,
    )
}
