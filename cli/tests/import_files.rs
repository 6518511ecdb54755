//! `import` on files made the way users make them (`tests/data/`, see its README): Windows line
//! ends, Excel's UTF-8 with a byte-order mark, GBK, UTF-16 "Unicode text", and stray quotes;
//! and `--list-version` checks. Run as the real binary.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fraudshield"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn data(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", name]
        .iter()
        .collect();
    p.to_str().unwrap().to_string()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn import(store: &Path, file: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--json", "import"];
    args.extend_from_slice(extra);
    let path = data(file);
    args.push(&path);
    json(&run(store, &args))
}

fn status(store: &Path) -> Value {
    json(&run(store, &["--json", "status"]))
}

fn check(store: &Path, kind: &str, raw: &str) -> Value {
    json(&run(store, &["--json", "check", "--kind", kind, "--", raw]))
}

/// Lines of the skipped rows, from the JSON report.
fn error_lines(report: &Value) -> Vec<u64> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect()
}

/// A refused file: status 1, one line naming no identifier of the fixtures.
fn refused(out: &Output) -> String {
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    for secret in ["0013", "8000", "87654321", "1234"] {
        assert!(!err.contains(secret), "echoed a value: {err}");
    }
    assert!(err.contains("nothing was imported"), "{err}");
    err
}

/// A store holding one good import (list version 1), to prove a refused file changes nothing.
fn store_with_one_import() -> (tempfile::TempDir, PathBuf, Value) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    import(&store, "crlf.csv", &[]);
    let before = status(&store);
    assert_eq!(before["list_version"], 1);
    (dir, store, before)
}

#[test]
fn windows_line_ends_give_the_lines_an_editor_shows() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let r = import(&store, "crlf.csv", &[]);
    assert_eq!(error_lines(&r), [4, 8]);
    assert_eq!(
        (r["imported"].as_u64(), r["skipped"].as_u64()),
        (Some(5), Some(2))
    );
    let f = &r["file"];
    assert_eq!(f["lines"], 10);
    assert_eq!(f["rows"], 7);
    // Line 7 is empty, line 10 is `,,,,,` as Excel writes a formatted empty row.
    assert_eq!(f["blank_lines"], 2);
    assert_eq!(f["encoding"], "UTF-8");
    // The same file in text mode: bad rows on stderr by line, the line count in the summary.
    let out = run(&store, &["import", &data("crlf.csv")]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("line 4: unknown category"), "{err}");
    assert!(err.contains("line 8: unknown risk"), "{err}");
    assert!(
        !err.contains("13912345678") && !err.contains("6222"),
        "{err}"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("read 7 rows from 10 lines"), "{text}");
    assert!(text.contains("2 rows not imported"), "{text}");
}

#[test]
fn an_unallocated_mobile_range_is_imported_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    import(&store, "crlf.csv", &[]);
    // crlf.csv lines 6 and 9: +86 143… and +86 160…, ranges that are not allocated.
    let v = check(&store, "phone", "+86 143 1234 5678");
    assert_eq!(
        (v["source"].as_str(), v["action"].as_str()),
        (Some("exact"), Some("block"))
    );
    assert_eq!(check(&store, "phone", "16012345678")["source"], "exact");
    assert_eq!(
        check(&store, "phone", "19412345678")["source"],
        "unallocated_range"
    );
}

#[test]
fn excel_utf8_with_a_bom_quoted_commas_and_a_line_break_in_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let r = import(&store, "excel_utf8_bom.csv", &[]);
    assert_eq!(r["file"]["encoding"], "UTF-8 with BOM");
    assert_eq!(r["file"]["multiline_rows"], 1);
    assert_eq!(r["file"]["lines"], 8);
    // The bad row comes after a two-line row: its line is still the file's.
    assert_eq!(error_lines(&r), [8]);
    assert_eq!(r["imported"], 5);
    assert_excel_rows(&store);
}

/// The rows of the Excel fixtures, with their Chinese category and risk names.
fn assert_excel_rows(store: &Path) {
    let v = check(store, "phone", "+86 138 0013 8000");
    assert_eq!(
        (v["category"].as_str(), v["risk"].as_str()),
        (Some("police_impersonation"), Some("high"))
    );
    let v = check(store, "phone", "400-123-4567");
    assert_eq!(
        (v["category"].as_str(), v["risk"].as_str()),
        (Some("customer_service"), Some("medium"))
    );
    assert_eq!(check(store, "qq", "87654321")["category"], "job");
    assert_eq!(
        check(store, "bank", "6222021234567890123")["category"],
        "investment"
    );
    assert_eq!(
        check(store, "alipay", "2088123412341234")["category"],
        "romance"
    );
}

#[test]
fn a_gbk_file_is_refused_with_a_hint_and_read_with_the_encoding_named() {
    let (_dir, store, before) = store_with_one_import();
    let out = run(&store, &["import", &data("excel_gbk.csv")]);
    let err = refused(&out);
    assert!(
        err.contains("line 1:") && err.contains("not UTF-8"),
        "{err}"
    );
    assert!(
        err.contains("GBK") && err.contains("--encoding gb18030"),
        "{err}"
    );
    assert!(err.contains("CSV UTF-8"), "{err}");
    assert_eq!(status(&store), before);
    for name in ["gb18030", "gbk"] {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s");
        let r = import(&store, "excel_gbk.csv", &["--encoding", name]);
        assert_eq!(r["file"]["encoding"], "GB18030");
        assert_eq!(error_lines(&r), [8]);
        assert_eq!(r["imported"], 5);
        assert_excel_rows(&store);
    }
    // A UTF-8 file read as GBK would decode to other characters: refused.
    for file in ["excel_utf8_bom.csv", "excel_unicode_text.txt"] {
        let out = run(&store, &["import", "--encoding", "gbk", &data(file)]);
        if file.ends_with(".txt") {
            // UTF-16 carries its byte-order mark: read as what it is, whatever the flag says.
            assert!(out.status.success());
            continue;
        }
        let err = refused(&out);
        assert!(err.contains("without --encoding"), "{err}");
    }
    // Not GBK either: refused even with the flag.
    let out = run(
        &store,
        &["import", "--encoding", "gbk", &data("not_text.csv")],
    );
    let err = refused(&out);
    assert!(err.contains("GB18030"), "{err}");
}

#[test]
fn excel_unicode_text_is_utf16_and_tab_separated() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let r = import(&store, "excel_unicode_text.txt", &[]);
    assert_eq!(r["file"]["encoding"], "UTF-16LE");
    assert_eq!(r["file"]["delimiter"], "\t");
    assert_eq!(error_lines(&r), [4]);
    assert_eq!(r["imported"], 2);
    assert_eq!(
        check(&store, "phone", "13800138000")["category"],
        "police_impersonation"
    );
    // Without a byte-order mark UTF-16 is not guessed: refused with a hint.
    let bytes = std::fs::read(data("excel_unicode_text.txt")).unwrap();
    let bare = dir.path().join("no_bom.txt");
    std::fs::write(&bare, &bytes[2..]).unwrap();
    let err = refused(&run(&store, &["import", bare.to_str().unwrap()]));
    assert!(err.contains("UTF-16"), "{err}");
}

#[test]
fn a_stray_quote_refuses_the_file_and_names_the_lines_it_swallowed() {
    let (_dir, store, before) = store_with_one_import();
    let err = refused(&run(&store, &["import", &data("stray_quote.csv")]));
    assert!(err.starts_with("fraudshield: line 3:"), "{err}");
    assert!(
        err.contains("until line 104") && err.contains("101 lines"),
        "{err}"
    );
    assert_eq!(status(&store), before);
    let err = refused(&run(&store, &["import", &data("stray_quote_in_note.csv")]));
    assert!(err.starts_with("fraudshield: line 7:"), "{err}");
    assert!(
        err.contains("until line 9") && err.contains("look like rows"),
        "{err}"
    );
    assert_eq!(status(&store), before);
}

#[test]
fn a_list_version_must_move_forward_and_fit_the_store() {
    let (_dir, store, before) = store_with_one_import();
    let file = data("crlf.csv");
    for bad in ["9223372036854775808", "18446744073709551615"] {
        let err = refused(&run(&store, &["import", "--list-version", bad, &file]));
        assert!(err.contains("too large"), "{err}");
    }
    assert_eq!(status(&store), before);
    let r = import(
        &store,
        "crlf.csv",
        &["--list-version", "9223372036854775806"],
    );
    assert_eq!(r["list_version"], 9223372036854775806u64);
    // Every import after it still works, until the very last version.
    let r = import(&store, "crlf.csv", &[]);
    assert_eq!(r["list_version"], 9223372036854775807u64);
    let err = refused(&run(&store, &["import", &file]));
    assert!(err.contains("largest"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    import(&store, "crlf.csv", &["--list-version", "5"]);
    for back in ["0", "4", "5"] {
        let err = refused(&run(&store, &["import", "--list-version", back, &file]));
        assert!(
            err.contains("never goes backwards") && err.contains("version 5"),
            "{err}"
        );
    }
    assert_eq!(status(&store)["list_version"], 5);
    assert_eq!(import(&store, "crlf.csv", &[])["list_version"], 6);
}
