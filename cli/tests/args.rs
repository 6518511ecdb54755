//! How the real binary reads its arguments: identifiers and messages as several unquoted
//! words, values starting with `-`, options before or after them, and parse errors that are
//! one line and never repeat what was typed.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn run(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fraudshield"));
    if let Some(d) = dir {
        cmd.arg("--dir").arg(d);
    }
    cmd.args(args).output().unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A store with one entry, so `check` has something to find.
fn store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("list.csv");
    std::fs::write(
        &csv,
        "kind,value,category,risk\nphone,13800138000,police_impersonation,high\n",
    )
    .unwrap();
    let out = run(
        Some(&dir.path().join("s")),
        &["import", csv.to_str().unwrap()],
    );
    assert!(out.status.success());
    dir
}

/// Refused: the exit status, nothing on stdout, one line on stderr without any digit run of the
/// identifier typed.
fn assert_refused(dir: Option<&Path>, args: &[&str], status: i32) -> String {
    let out = run(dir, args);
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(out.status.code(), Some(status), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
    for secret in ["138", "0013", "8000", "13800138000"] {
        assert!(!err.contains(secret), "{args:?} echoed the value: {err}");
    }
    err
}

#[test]
fn check_takes_the_identifier_as_words_and_options_anywhere() {
    let dir = store();
    let s = dir.path().join("s");
    for args in [
        &["check", "+86", "138", "0013", "8000", "--json"][..],
        &["check", "--json", "+86", "138", "0013", "8000"],
        &["--json", "check", "138", "0013", "8000", "-k", "phone"],
        &["check", "138", "0013", "8000", "--kind=phone", "--json"],
        // Starting with `-`: a dash is a separator in a phone number.
        &["check", "-138-0013-8000", "--json"],
        &["check", "--json", "--", "-138", "0013", "8000"],
    ] {
        let v = json(&run(Some(&s), args));
        assert_eq!(v["source"], "exact", "{args:?}");
        assert_eq!(v["direction"], "incoming", "{args:?}");
    }
    let v = json(&run(
        Some(&s),
        &["check", "138", "0013", "8000", "--outgoing", "--json"],
    ));
    assert_eq!(
        (v["direction"].as_str(), v["action"].as_str()),
        (Some("outgoing"), Some("warn"))
    );
}

#[test]
fn scan_and_normalize_take_words_too() {
    let out = run(
        None,
        &["--json", "scan", "请拨打", "138", "0013", "8000", "核实"],
    );
    let v = json(&out);
    assert_eq!(v[0]["canonical"], "+8613800138000");
    // After `--` everything is the message, even `--json`: text output.
    let out = run(
        None,
        &["scan", "--", "-紧急通知-", "请拨打13800138000", "--json"],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success() && text.starts_with("phone"), "{text}");
    let out = run(
        None,
        &["scan", "--json", "--", "-紧急通知-", "请拨打13800138000"],
    );
    assert_eq!(json(&out)[0]["canonical"], "+8613800138000");
    let out = run(
        None,
        &["normalize", "-k", "phone", "+86", "138", "0013", "8000"],
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "+8613800138000\n");
}

#[test]
fn bad_identifiers_fail_with_one_line_and_status_1() {
    let dir = store();
    let s = dir.path().join("s");
    assert_refused(Some(&s), &["check", "-13800138000x"], 1);
    assert_refused(Some(&s), &["check", "138", "0013", "800O", "--outgoing"], 1);
    assert_refused(Some(&s), &["check", "--kind", "qq", "-", "013800138000"], 1);
    assert_refused(None, &["normalize", "-k", "phone", "-1380013800x"], 1);
}

#[test]
fn parse_errors_are_one_line_that_never_echoes_a_value() {
    let dir = store();
    let s = dir.path().join("s");
    // Each of these made clap print several lines quoting the argument.
    let err = assert_refused(Some(&s), &["check", "--kind", "13800138000"], 2);
    assert!(err.contains("--kind"), "{err}");
    assert!(
        err.contains("one of") || err.contains("invalid value"),
        "{err}"
    );
    let err = assert_refused(Some(&s), &["check", "--kind=13800138000", "138"], 2);
    assert!(err.contains("--kind"), "{err}");
    let err = assert_refused(Some(&s), &["check", "13800138000", "--bogus"], 2);
    assert!(err.contains("unknown option --bogus"), "{err}");
    let err = assert_refused(Some(&s), &["check", "--bogus=13800138000", "138"], 2);
    assert!(err.contains("--bogus"), "{err}");
    let err = assert_refused(Some(&s), &["13800138000"], 2);
    assert!(err.contains("unknown command"), "{err}");
    let err = assert_refused(None, &["--dir"], 2);
    assert!(err.contains("--dir"), "{err}");
    let err = assert_refused(Some(&s), &["check"], 2);
    assert!(err.contains("missing"), "{err}");
    assert_refused(Some(&s), &["import", "-13800138000"], 2);
    assert_refused(
        Some(&s),
        &["import", "--list-version", "-13800138000", "x.csv"],
        2,
    );
    assert_refused(Some(&s), &["status", "13800138000"], 2);
    assert_refused(Some(&s), &["-1380013800"], 2);
    // Help is still clap's own, on stdout.
    let out = run(None, &["check", "--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("Usage"));
}

#[test]
fn an_unallocated_mobile_range_is_checked_not_refused() {
    let dir = store();
    let s = dir.path().join("s");
    for raw in [
        &["143", "1234", "5678"][..],
        &["+86", "160", "1234", "5678"],
        &["19412345678"],
    ] {
        let mut args = vec!["--json", "check"];
        args.extend_from_slice(raw);
        let v = json(&run(Some(&s), &args));
        assert_eq!(v["source"], "unallocated_range", "{raw:?}");
        assert_eq!(v["action"], "warn", "{raw:?}");
        args.push("--outgoing");
        assert_eq!(json(&run(Some(&s), &args))["action"], "allow");
    }
    let out = run(Some(&s), &["check", "160", "1234", "5678"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("unallocated_range") && text.contains("spoofed"),
        "{text}"
    );
}

#[test]
fn the_citizen_hotline_cannot_be_blocked_by_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("list.csv");
    let mut list = String::from("kind,value,category,risk\n");
    for n in [
        "12345",
        "12110",
        "12315",
        "12321",
        "12381",
        "96110",
        "110",
        "+86 12345",
    ] {
        list.push_str(&format!("phone,{n},police_impersonation,high\n"));
    }
    std::fs::write(&csv, list).unwrap();
    let s = dir.path().join("s");
    json(&run(Some(&s), &["--json", "import", csv.to_str().unwrap()]));
    for n in ["12345", "12110", "12315", "12321", "12381", "96110", "110"] {
        let v = json(&run(Some(&s), &["--json", "check", n]));
        assert_eq!(
            (v["action"].as_str(), v["source"].as_str()),
            (Some("allow"), Some("protected")),
            "{n}"
        );
    }
}
