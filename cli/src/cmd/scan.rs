//! `fraudshield scan [TEXT…]` (reads stdin when TEXT is absent)
//!
//! The message may be given as several words, unquoted (they are joined with spaces), and may
//! start with `-`.
//!
//! Prints one line per identifier found: kind, canonical form, byte span and why. With `--json`
//! prints one JSON array of `{"kind","canonical","start","end","reason"}` objects (`start`/`end`
//! are byte offsets into the message as given, UTF-8).

use crate::output::{Failure, Output};
use fraudshield_core::{kind::Kind, scan};
use serde::Serialize;
use std::io::Read;

/// Arguments of `scan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The message text, several words joined with spaces (quotes are optional), which may
    /// start with `-`; read from standard input when absent.
    #[arg(num_args = 0.., value_name = "TEXT")]
    text: Vec<String>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    kind: Kind,
    canonical: &'a str,
    start: usize,
    end: usize,
    /// Why: `context <word>` or `shape <rule>`.
    reason: String,
}

/// Reads the message: the words given, joined with spaces, or stdin when there are none.
pub fn read_text(words: Vec<String>) -> Result<String, Failure> {
    match words.is_empty() {
        false => Ok(words.join(" ")),
        true => {
            let mut buf = String::new();
            std::io::stdin()
                .read_to_string(&mut buf)
                .map_err(|e| Failure::new(format!("cannot read the message from stdin: {e}")))?;
            Ok(buf)
        }
    }
}

/// Prints every identifier found in the message.
pub fn run(out: &Output, args: Args) -> Result<(), Failure> {
    let text = read_text(args.text)?;
    let findings = scan::scan_text(&text);
    let json: Vec<FindingJson> = findings
        .iter()
        .map(|f| FindingJson {
            kind: f.identifier.kind(),
            canonical: f.identifier.canonical(),
            start: f.span.start,
            end: f.span.end,
            reason: f.reason.to_string(),
        })
        .collect();
    out.emit(&json, || {
        if findings.is_empty() {
            return "no identifiers found".to_string();
        }
        findings
            .iter()
            .map(|f| {
                format!(
                    "{:<7} {:<22} bytes {}..{}  ({})",
                    f.identifier.kind().as_str(),
                    f.identifier.canonical(),
                    f.span.start,
                    f.span.end,
                    f.reason
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}
