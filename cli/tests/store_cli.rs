//! The store commands end to end: `import`, `check`, `status` and the `demo` tour, run as the
//! real binary.
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

const LIST: &str = "kind,value,category,risk,reports,note
phone,+86 138-0013-8000,police_impersonation,high,57,case 1
phone,+86 170*,loan,medium,,virtual operator range
qq,87654321,refund,low,3,
phone,13912345678,nonsense,high,,bad category
phone,,loan,high,,missing value
bank,6222021234567890123,investment,extreme,,bad risk
phone,13700137000,job,medium,many,bad reports
";

fn imported(dir: &Path) {
    let csv = dir.join("list.csv");
    std::fs::write(&csv, LIST).unwrap();
    let out = run(Some(&dir.join("store")), &["import", csv.to_str().unwrap()]);
    assert!(out.status.success());
}

#[test]
fn store_commands_need_a_directory() {
    for args in [
        &["check", "13800138000"][..],
        &["status"],
        &["import", "x.csv"],
    ] {
        let out = run(None, args);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--dir"), "{err}");
        assert_eq!(err.lines().count(), 1);
    }
}

#[test]
fn import_reports_bad_rows_by_line_without_the_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("list.csv");
    std::fs::write(&csv, LIST).unwrap();
    let store = dir.path().join("store");
    let out = run(Some(&store), &["import", csv.to_str().unwrap()]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for line in ["line 5:", "line 6:", "line 7:", "line 8:"] {
        assert!(err.contains(line), "{err}");
    }
    assert!(err.contains("unknown category"), "{err}");
    assert!(
        !err.contains("13912345678") && !err.contains("13700137000"),
        "{err}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("imported 3 rows (4 skipped"), "{text}");
    // JSON report of a second import of the same file: nothing changes, version moves on.
    let out = run(Some(&store), &["--json", "import", csv.to_str().unwrap()]);
    let r = json(&out);
    assert_eq!(r["imported"], 3);
    assert_eq!(r["skipped"], 4);
    assert_eq!(r["changed"], 0);
    assert_eq!(r["list_version"], 2);
    assert_eq!(r["errors"][0]["line"], 5);
    // A file without the required columns fails with one line.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "number,risk\n13800138000,high\n").unwrap();
    let out = run(Some(&store), &["import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`kind`"));
}

#[test]
fn check_prints_the_verdict_as_json_and_text() {
    let dir = tempfile::tempdir().unwrap();
    imported(dir.path());
    let store = dir.path().join("store");
    let v = json(&run(
        Some(&store),
        &["--json", "check", "+86 138 0013 8000"],
    ));
    assert_eq!(v["action"], "block");
    assert_eq!(v["source"], "exact");
    assert_eq!(v["category"], "police_impersonation");
    assert_eq!(v["risk"], "high");
    assert_eq!(v["list_version"], 1);
    let v = json(&run(
        Some(&store),
        &["check", "--json", "--outgoing", "13800138000"],
    ));
    assert_eq!(
        (v["action"].as_str(), v["source"].as_str()),
        (Some("warn"), Some("exact"))
    );
    let v = json(&run(Some(&store), &["--json", "check", "17012345678"]));
    assert_eq!(v["source"], "prefix");
    assert_eq!(v["risk"], "medium");
    assert_eq!(v["action"], "warn");
    let v = json(&run(
        Some(&store),
        &["--json", "check", "--kind", "qq", "87654321"],
    ));
    assert_eq!(
        (v["source"].as_str(), v["category"].as_str()),
        (Some("exact"), Some("refund"))
    );
    let v = json(&run(Some(&store), &["--json", "check", "13600136000"]));
    assert_eq!(
        (v["action"].as_str(), v["source"].as_str()),
        (Some("allow"), Some("none"))
    );
    assert!(v["category"].is_null());
    let out = run(Some(&store), &["check", "13800138000"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("block"), "{text}");
    // Bad input: one line, exit 1, no echo of the input.
    let out = run(Some(&store), &["check", "--kind", "qq", "abc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("abc"));
}

#[test]
fn status_shows_entries_and_a_large_import_lands_in_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("kind,value,category,risk\n");
    for i in 0..12_000 {
        csv.push_str(&format!("phone,+86 150 {i:08},loan,high\n"));
    }
    let file = dir.path().join("big.csv");
    std::fs::write(&file, csv).unwrap();
    let store = dir.path().join("store");
    let r = json(&run(
        Some(&store),
        &["--json", "import", file.to_str().unwrap()],
    ));
    assert_eq!(r["imported"], 12_000);
    let s = json(&run(Some(&store), &["--json", "status"]));
    assert_eq!(
        s["freshness"]["state"], "never",
        "imported by hand, never synced"
    );
    assert_eq!(s["entries"], 12_000);
    assert_eq!(s["list_version"], 1);
    // Folded into the base right away: the overlay is empty.
    assert_eq!(s["overlay_len"], 0);
    assert_eq!(s["digest"].as_str().unwrap().len(), 64);
    let text = String::from_utf8_lossy(&run(Some(&store), &["status"]).stdout).to_string();
    assert!(text.contains("entries        12000"), "{text}");
}
