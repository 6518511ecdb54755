//! Data-driven normalization tests: every case in `core/testdata/identifiers.tsv`.
//!
//! Each line names a kind, a raw input and the expected canonical form or error variant (the
//! file's header explains the format). Every failing line is reported with its line number, so
//! one run shows all disagreements. Valid cases are also checked for idempotence and key
//! validity; invalid ones for error messages that do not repeat the input.
#![allow(clippy::unwrap_used)]

use fraudshield_core::identifier::{Identifier, NormalizeError, normalize, normalize_phone_prefix};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;

const CASES: &str = include_str!("../testdata/identifiers.tsv");

/// One line of the data file.
struct Case {
    line: usize,
    kind: String,
    input: String,
    expected: String,
}

/// Decodes `\t`, `\\` and `\u{XXXX}` in the input column.
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                let rest: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let hex = rest
                    .strip_prefix('{')
                    .ok_or_else(|| format!("bad \\u escape in {s:?}"))?;
                let code = u32::from_str_radix(hex, 16).map_err(|e| format!("{e} in {s:?}"))?;
                out.push(char::from_u32(code).ok_or_else(|| format!("bad code point in {s:?}"))?);
            }
            other => return Err(format!("unknown escape \\{other:?} in {s:?}")),
        }
    }
    Ok(out)
}

fn parse_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, line) in CASES.lines().enumerate() {
        let line_no = i + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            (3..=4).contains(&cols.len()),
            "identifiers.tsv:{line_no}: expected 3 or 4 tab-separated columns, found {}",
            cols.len()
        );
        let input = unescape(cols[1]).unwrap_or_else(|e| panic!("identifiers.tsv:{line_no}: {e}"));
        cases.push(Case {
            line: line_no,
            kind: cols[0].to_string(),
            input,
            expected: cols[2].to_string(),
        });
    }
    cases
}

fn run(kind: &str, input: &str) -> Result<Identifier, NormalizeError> {
    match kind {
        "phone-prefix" => normalize_phone_prefix(input),
        other => normalize(other.parse::<Kind>().unwrap(), input),
    }
}

/// `TooShort { kind: Phone, .. }` -> `TooShort`.
fn variant_name(e: &NormalizeError) -> String {
    let debug = format!("{e:?}");
    debug
        .split([' ', '(', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Checks one case; `Err` describes what went wrong.
fn check(case: &Case) -> Result<(), String> {
    let got = run(&case.kind, &case.input);
    if let Some(want) = case.expected.strip_prefix('!') {
        let err = match got {
            Ok(id) => return Err(format!("expected error {want}, got {:?}", id.canonical())),
            Err(e) => e,
        };
        let matches = if want.contains(' ') {
            format!("{err:?}") == want
        } else {
            variant_name(&err) == want
        };
        if !matches {
            return Err(format!("expected error {want}, got {err:?}"));
        }
        let message = err.to_string();
        let raw = case.input.trim();
        if raw.chars().count() >= 5 && message.contains(raw) {
            return Err(format!("error message repeats the input: {message}"));
        }
        return Ok(());
    }
    let id = got.map_err(|e| format!("expected {:?}, got error {e:?} ({e})", case.expected))?;
    if id.canonical() != case.expected {
        return Err(format!(
            "expected {:?}, got {:?}",
            case.expected,
            id.canonical()
        ));
    }
    let again = run(&case.kind, id.canonical())
        .map_err(|e| format!("canonical form does not normalize again: {e:?}"))?;
    if again.canonical() != id.canonical() {
        return Err(format!(
            "not idempotent: {:?} -> {:?}",
            id.canonical(),
            again.canonical()
        ));
    }
    Key::from_bytes(id.key().as_bytes()).map_err(|e| format!("invalid key: {e}"))?;
    Ok(())
}

#[test]
fn every_case_in_the_data_file_holds() {
    let cases = parse_cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            check(c).err().map(|why| {
                format!(
                    "identifiers.tsv:{} [{}] {:?}: {why}",
                    c.line, c.kind, c.input
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_data_file_covers_every_kind_both_ways() {
    let cases = parse_cases();
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    for kind in ["phone", "phone-prefix", "bank", "qq", "alipay"] {
        let of_kind = || cases.iter().filter(|c| c.kind == kind);
        let valid = of_kind().filter(|c| !c.expected.starts_with('!')).count();
        let invalid = of_kind().filter(|c| c.expected.starts_with('!')).count();
        assert!(
            valid >= 5 && invalid >= 5,
            "{kind}: {valid} valid, {invalid} invalid"
        );
    }
    for c in &cases {
        assert!(
            c.kind == "phone-prefix" || c.kind.parse::<Kind>().is_ok(),
            "identifiers.tsv:{}: unknown kind {:?}",
            c.line,
            c.kind
        );
    }
}

#[test]
fn unescape_reads_the_escapes_the_file_uses() {
    assert_eq!(unescape(r"a\tb").unwrap(), "a\tb");
    assert_eq!(unescape(r"\u{202A}1\u{FF10}").unwrap(), "\u{202A}1\u{FF10}");
    assert_eq!(unescape(r"\\").unwrap(), "\\");
    assert!(unescape(r"\q").is_err());
}
