//! `fraudshield normalize --kind K [--prefix] RAW`
//!
//! Prints the canonical form of one identifier, or with `--json`
//! `{"kind":"phone","canonical":"+8613800138000"}` (plus `"prefix":true` for a prefix rule).
//! Bad input exits with status 1 and a one-line reason on stderr that never repeats the input.

use crate::output::{Failure, Output};
use fraudshield_core::{identifier, kind::Kind};
use serde::Serialize;

/// Arguments of `normalize`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Identifier kind: phone, bank, qq or alipay.
    #[arg(long, short)]
    kind: Kind,
    /// Normalize a phone prefix rule (`+86 170*`, `0755`) instead of a whole number.
    #[arg(long)]
    prefix: bool,
    /// The identifier as the user typed it or the phone reported it; several words are joined
    /// with spaces (`normalize -k phone +86 138 0013 8000`).
    // Values may start with `-` (a typo such as `-138…`): `main` moves the words behind a `--`
    // so they reach the normalizer, which rejects them without echoing them.
    #[arg(required = true, num_args = 1.., value_name = "RAW")]
    raw: Vec<String>,
}

#[derive(Serialize)]
struct Normalized<'a> {
    kind: Kind,
    canonical: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    prefix: bool,
}

/// Prints the canonical form of the identifier.
pub fn run(out: &Output, args: Args) -> Result<(), Failure> {
    let raw = args.raw.join(" ");
    let result = if args.prefix {
        if args.kind != Kind::Phone {
            return Err(Failure::new(format!(
                "--prefix applies to phone numbers only, not to {}",
                args.kind
            )));
        }
        identifier::normalize_phone_prefix(&raw)
    } else {
        identifier::normalize(args.kind, &raw)
    };
    let what = if args.prefix { " prefix" } else { "" };
    let id = result.map_err(|e| Failure::new(format!("invalid {}{what}: {e}", args.kind)))?;
    out.emit(
        &Normalized {
            kind: id.kind(),
            canonical: id.canonical(),
            prefix: args.prefix,
        },
        || id.canonical().to_string(),
    )
}
