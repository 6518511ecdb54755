//! `fraudshield demo`: the one-command tour on built-in examples.

use crate::output::{Failure, Output};
use fraudshield_core::{identifier, kind::Kind, scan};
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

/// Runs the tour. `dir` is unused until the on-device store lands.
pub fn run(out: &Output, dir: Option<PathBuf>, _args: Args) -> Result<(), Failure> {
    let _ = (out, dir);
    println!("== normalize: what the phone reports -> one canonical form");
    for (kind, raw) in RAW_NUMBERS {
        match identifier::normalize(*kind, raw) {
            Ok(id) => println!("  {kind:<7} {raw:<28} -> {}", id.canonical()),
            Err(e) => println!("  {kind:<7} {raw:<28} -> rejected: {e}"),
        }
    }
    println!("\n== scan: identifiers inside a fraud message");
    println!("  {MESSAGE}");
    for f in scan::scan_text(MESSAGE) {
        println!(
            "  found {:<7} {}",
            f.identifier.kind(),
            f.identifier.canonical()
        );
    }
    Ok(())
}
