//! `fraudshield normalize --kind K RAW`

use crate::output::{Failure, Output};
use fraudshield_core::{identifier, kind::Kind};
use serde::Serialize;

/// Arguments of `normalize`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Identifier kind: phone, bank, qq or alipay.
    #[arg(long, short)]
    kind: Kind,
    /// The identifier as the user typed it or the phone reported it.
    raw: String,
}

#[derive(Serialize)]
struct Normalized<'a> {
    kind: Kind,
    canonical: &'a str,
}

/// Prints the canonical form of the identifier.
pub fn run(out: &Output, args: Args) -> Result<(), Failure> {
    let id = identifier::normalize(args.kind, &args.raw)
        .map_err(|e| Failure::new(format!("invalid {} identifier: {e}", args.kind)))?;
    out.emit(
        &Normalized {
            kind: id.kind(),
            canonical: id.canonical(),
        },
        || id.canonical().to_string(),
    )
}
