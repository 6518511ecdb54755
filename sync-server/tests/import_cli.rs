//! `fraudshield-server import` as the real binary, on the CLI's fixture files (Windows line
//! ends, GBK, a stray quote) and on a generated 200,000-row file: one batch, approved as a unit
//! by a second analyst over HTTP, published by the admin `publish` command, and synced by the
//! real `fraudshield` CLI, which then flags the imported numbers.
//!
//! The `fraudshield` binary is built by `cargo test --workspace` (the CLI's own tests need
//! it); run alone, build it first: `cargo build -p fraudshield-cli`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod process;
use process::*;
use serde_json::{Value, json};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "cli",
        "tests",
        "data",
        name,
    ]
    .iter()
    .collect()
}

fn server(data: &Path, token: Option<&str>, args: &[&str]) -> Output {
    let mut c = server_command(data, args);
    if let Some(t) = token {
        c.env("FRAUDSHIELD_TOKEN", t);
    }
    c.output().unwrap()
}

/// Runs `import`; returns (success, the JSON report if one was printed, stderr).
fn import(data: &Path, token: &str, args: &[&str], file: &Path) -> (bool, Value, String) {
    let mut all = vec!["import", "--reason", "case data from the provincial centre"];
    all.extend_from_slice(args);
    let path = file.to_str().unwrap();
    all.push(path);
    let out = server(data, Some(token), &all);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let report = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (out.status.success(), report, stderr)
}

fn bad_lines(report: &Value) -> Vec<u64> {
    report["bad_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["line"].as_u64().unwrap())
        .collect()
}

/// The HTTP calls these tests make of a running server.
impl Server {
    fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .unwrap()
            .post(format!("{}{}", self.url, path.trim_start_matches('/')))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    fn get_text(&self, path: &str) -> String {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
            .get(format!("{}{}", self.url, path.trim_start_matches('/')))
            .send()
            .unwrap()
            .text()
            .unwrap()
    }
}

#[test]
fn fixtures_report_physical_lines_and_a_bad_row_imports_nothing() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    admin(&data, &["init"]);
    let alice = token(&data, "analyst", "alice");
    let bob = token(&data, "analyst", "bob");
    let publisher = token(&data, "publisher", "pat");
    // Imports run while the server serves the same directory.
    let running = Server::start(&data);

    // Windows line ends: bad rows on lines 4 (category) and 8 (risk), as an editor numbers
    // them; without --skip-bad-rows nothing is proposed.
    let (ok, r, err) = import(&data, &alice, &[], &fixture("crlf.csv"));
    assert!(!ok, "{err}");
    assert_eq!(bad_lines(&r), [4, 8], "{r}");
    assert!(r["batch"].is_null());
    assert!(
        r["refused"]
            .as_str()
            .unwrap()
            .contains("nothing was imported"),
        "{r}"
    );
    assert_eq!(r["file"]["lines"], 10);
    assert_eq!(r["file"]["encoding"], "UTF-8");
    assert!(
        err.contains("line 4: ") && err.contains("line 8: "),
        "{err}"
    );
    for secret in ["13912345678", "6222021234567890123", "0013"] {
        assert!(!err.contains(secret), "echoed a value: {err}");
    }
    // Nothing was written: approving the first batch finds none.
    let (st, _) = running.post("/v1/batches/1/approve", &bob, json!({}));
    assert_eq!(st, 404);

    // With --skip-bad-rows the good rows become one batch, the bad ones are still listed.
    let (ok, r, err) = import(&data, &alice, &["--skip-bad-rows"], &fixture("crlf.csv"));
    assert!(ok, "{err}");
    assert_eq!(bad_lines(&r), [4, 8]);
    let batch = &r["batch"];
    assert_eq!(batch["proposed"], 5, "{r}");
    assert_eq!(batch["skipped_bad_rows"], 2);
    assert_eq!(r["source"], "crlf.csv");
    let sha = r["sha256"].as_str().unwrap();
    let bytes = std::fs::read(fixture("crlf.csv")).unwrap();
    assert_eq!(
        sha,
        fraudshield_core::hex::encode(&fraudshield_core::release::keys::sha256(&bytes))
    );

    // GBK: refused with a hint, then read with the encoding named (rows already proposed are
    // not proposed twice; line 8 is bad).
    let (ok, r, err) = import(&data, &alice, &[], &fixture("excel_gbk.csv"));
    assert!(!ok && r.is_null());
    assert!(
        err.contains("GBK") && err.contains("--encoding gb18030"),
        "{err}"
    );
    let (ok, r, err) = import(
        &data,
        &alice,
        &["--encoding", "gb18030", "--skip-bad-rows"],
        &fixture("excel_gbk.csv"),
    );
    assert!(ok, "{err}");
    assert_eq!(r["file"]["encoding"], "GB18030");
    assert_eq!(bad_lines(&r), [8], "{r}");
    assert_eq!(r["batch"]["proposed"], 3, "{r}");
    assert_eq!(
        r["batch"]["skipped_listed"], 2,
        "two numbers are proposed already"
    );

    // A stray quote would swallow 100 rows: the whole file is refused, the lines named.
    let (ok, r, err) = import(
        &data,
        &alice,
        &["--skip-bad-rows"],
        &fixture("stray_quote.csv"),
    );
    assert!(!ok && r.is_null());
    assert!(
        err.contains("line 3:") && err.contains("nothing was imported"),
        "{err}"
    );

    // Protected numbers are a hard veto, also with --skip-bad-rows (reported, never proposed).
    let protected = tmp.path().join("protected.csv");
    std::fs::write(
        &protected,
        "kind,value,category,risk\nphone,110,other,high\nphone,+86 96110,other,high\nqq,55554444,refund,low\n",
    )
    .unwrap();
    let (ok, r, _) = import(&data, &alice, &[], &protected);
    assert!(!ok);
    assert_eq!(bad_lines(&r), [2, 3], "{r}");
    assert!(
        r["bad_rows"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("protected")
    );
    let (ok, r, err) = import(&data, &alice, &["--skip-bad-rows"], &protected);
    assert!(ok, "{err}");
    assert_eq!(r["batch"]["proposed"], 1);

    // Only an analyst's token imports; the token never comes from the command line.
    let (ok, _, err) = import(&data, &publisher, &[], &protected);
    assert!(!ok && err.contains("analyst"), "{err}");
    let out = server(
        &data,
        None,
        &["import", "--reason", "x", protected.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FRAUDSHIELD_TOKEN"));
    assert!(running.stop().success());
}

#[test]
fn a_200k_row_file_is_one_batch_approved_by_another_analyst_published_and_synced() {
    const ROWS: u64 = 200_000;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = cli_binary();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    admin(&data, &["init"]);
    let alice = token(&data, "analyst", "alice");
    let bob = token(&data, "analyst", "bob");

    let file = tmp.path().join("case-2026-117.csv");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        writeln!(w, "kind,value,category,risk,reports,note\r").unwrap();
        for i in 0..ROWS {
            let n = 1_000_000 + i;
            writeln!(
                w,
                "phone,+86 139 {:04} {:04},投资理财,高,{},\"case {i}, batch 7\"\r",
                n / 10_000 % 10_000,
                n % 10_000,
                i % 50
            )
            .unwrap();
        }
    }
    let running = Server::start(&data);
    let (ok, r, err) = import(&data, &alice, &[], &file);
    assert!(ok, "{err}");
    assert_eq!(r["batch"]["proposed"], ROWS, "{r}");
    assert_eq!(r["file"]["rows"], ROWS);
    assert_eq!(r["file"]["lines"], ROWS + 1);
    assert_eq!(r["bad_rows"].as_array().unwrap().len(), 0);
    eprintln!(
        "imported {ROWS} rows in {} ms (debug build)",
        r["duration_ms"]
    );
    let id = r["batch"]["batch_id"].as_i64().unwrap();

    // Four eyes: the importer cannot approve; another analyst approves all rows as a unit.
    let (st, _) = running.post(&format!("/v1/batches/{id}/approve"), &alice, json!({}));
    assert_eq!(st, 403);
    let (st, a) = running.post(
        &format!("/v1/batches/{id}/approve"),
        &bob,
        json!({"reason": "checked against the case file"}),
    );
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["proposals"], ROWS);
    assert!(running.stop().success());

    // The admin publish command cuts the release.
    let p: Value =
        serde_json::from_str(admin(&data, &["publish", "--reason", "case 2026-117"]).trim())
            .unwrap();
    assert_eq!(p["release"], 2, "{p}");
    assert_eq!(p["changes"], ROWS);
    assert_eq!(p["entries"], ROWS);

    // A phone syncs it: the imported numbers are flagged, others are not.
    let running = Server::start(&data);
    // The publish duration metric covers the admin command's publish (another process).
    let metrics = running.get_text("/metrics");
    let seconds: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("fraudshield_publish_duration_seconds "))
        .unwrap_or_else(|| panic!("{metrics}"))
        .trim()
        .parse()
        .unwrap();
    let ms = p["duration_ms"].as_f64().unwrap();
    assert!(ms > 0.0, "{p}");
    assert!((seconds - ms / 1000.0).abs() < 1e-9, "{seconds} vs {ms} ms");
    let store = tmp.path().join("phone");
    let trust = data.join("keys").join("trust.txt");
    let phone = |args: &[&str]| -> Value {
        let out = Command::new(&cli)
            .arg("--dir")
            .arg(&store)
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let s = phone(&[
        "sync",
        "--server",
        &running.url,
        "--trust",
        trust.to_str().unwrap(),
    ]);
    assert_eq!(s["release"], 2, "{s}");
    assert_eq!(phone(&["status"])["entries"], ROWS);
    for raw in ["+86 139 0100 0000", "13901199999", "+8613901123456"] {
        let v = phone(&["check", raw]);
        assert_eq!(v["action"], "block", "{raw}: {v}");
        assert_eq!(v["category"], "investment");
    }
    assert_eq!(phone(&["check", "13901200000"])["action"], "allow");
    assert!(running.stop().success());
}
