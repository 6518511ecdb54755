//! `fraudshield demo` end to end with the real binary: a small list (`--size 2000 --json`),
//! the real server in-process on loopback, and every step's outcome checked from the JSON
//! summary — outcomes only, never timings.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::process::Command;

fn demo(args: &[&str]) -> (bool, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fraudshield"))
        .arg("demo")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_whole_system_in_one_command() {
    let tmp = tempfile::tempdir().unwrap();
    let kept = tmp.path().join("kept");
    let (ok, s, stderr) = demo(&["--size", "2000", "--json", "--keep", kept.to_str().unwrap()]);
    assert!(ok, "demo failed: {stderr}\n{s}");
    assert_eq!(s["ok"], true, "{s}");
    assert_eq!(s["server"]["in_process"], true);

    // Act 1: the list, imported, reviewed and published as one signed release.
    let first = &s["first_release"];
    assert_eq!(first["list"]["entries"], 2000);
    for kind in ["phone", "phone_prefix_rules", "bank", "qq", "alipay"] {
        assert!(
            first["list"][kind].as_u64().unwrap() > 0,
            "no {kind} in the list"
        );
    }
    assert_eq!(first["entries_published"], 2000);
    let first_release = first["release"].as_u64().unwrap();

    // Act 2: a fresh phone syncs the whole list and answers from it.
    let phone = &s["phone"];
    assert_eq!(phone["first_sync"]["release_before"], 0);
    assert_eq!(phone["first_sync"]["release"], first_release);
    assert_eq!(phone["first_sync"]["path"], "snapshot");
    assert!(phone["first_sync"]["bytes"].as_u64().unwrap() > 0);
    assert_eq!(phone["entries_on_phone"], 2000);
    let shown = phone["shown"].as_array().unwrap();
    let actions: Vec<&str> = shown
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["block", "warn", "allow"] {
        assert!(actions.contains(&action), "no {action} among {actions:?}");
    }
    assert!(
        shown
            .iter()
            .any(|e| e["source"] == "protected" && e["action"] == "allow"),
        "the emergency line was not shown as protected"
    );
    for kind in ["bank", "qq", "alipay"] {
        assert!(
            shown
                .iter()
                .any(|e| e["kind"] == kind && e["action"] != "allow"),
            "no flagged {kind} shown"
        );
    }
    let stream = &phone["stream"];
    assert!(stream["blocked"].as_u64().unwrap() + stream["warned"].as_u64().unwrap() > 0);
    assert!(stream["allowed"].as_u64().unwrap() > 0);

    // Act 3: the citizen's tip, four eyes, publish, delta, warned; the appeal, clean again.
    let live = &s["live_loop"];
    assert_eq!(live["before"]["action"], "allow");
    assert_eq!(live["report_uploaded"], true);
    assert_eq!(live["tip_in_queue"], true);
    let listing = &live["listing"];
    assert_eq!(
        listing["self_approval_refused"], true,
        "four eyes not enforced"
    );
    assert_eq!(listing["self_approval_status"], 403);
    assert_eq!(listing["approved_by_second_analyst"], true);
    assert_eq!(listing["sync"]["path"], "delta");
    assert_eq!(listing["sync"]["release"], listing["release"]);
    assert_eq!(listing["after"]["action"], "warn");
    assert_eq!(listing["after"]["source"], "exact");
    assert_eq!(listing["after"]["release"], listing["release"]);
    assert!(
        listing["sync"]["bytes"].as_u64().unwrap() < phone["first_sync"]["bytes"].as_u64().unwrap(),
        "the delta is not smaller than the whole list"
    );
    assert_eq!(live["citizen_answered"], true);
    let appeal = &live["appeal"];
    assert_eq!(
        appeal["self_approval_refused"], true,
        "four eyes not enforced on appeal"
    );
    assert_eq!(appeal["approved_by_second_analyst"], true);
    assert_eq!(appeal["sync"]["path"], "delta");
    assert_eq!(appeal["after"]["action"], "allow");
    assert_eq!(appeal["after"]["source"], "none");
    let held = appeal["release"].as_u64().unwrap();

    // Act 4: each tampered update refused, the list kept and still answering.
    let tamper = &s["tamper"];
    let refusals = tamper["refusals"].as_array().unwrap();
    let attacks: Vec<&str> = refusals
        .iter()
        .map(|r| r["attack"].as_str().unwrap())
        .collect();
    assert_eq!(
        attacks,
        [
            "altered_change",
            "extended_expiry",
            "replayed_empty_release"
        ]
    );
    for r in refusals {
        assert_eq!(r["refused"], true, "{r}");
        assert_eq!(r["list_kept"], true, "{r}");
        assert_eq!(r["release_kept"], held, "{r}");
        assert_eq!(r["entries_kept"], 2000, "{r}");
        assert_ne!(r["still_answering"]["action"], "allow", "{r}");
        assert_eq!(r["still_answering"]["release"], held, "{r}");
    }
    assert_eq!(tamper["honest_sync"]["release"], tamper["release"]);
    assert_eq!(tamper["new_listing"]["action"], "block");

    // --keep left the phone's state: the ordinary CLI reads it.
    assert_eq!(
        s["kept"]["phone_state"],
        kept.join("phone").to_str().unwrap()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_fraudshield"))
        .args([
            "--json",
            "--dir",
            kept.join("phone").to_str().unwrap(),
            "status",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["list_version"], tamper["release"]);
    assert!(kept.join("server").is_dir());
}

#[test]
fn bad_arguments_are_refused_before_anything_starts() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("something"), b"x").unwrap();
    let (ok, _, stderr) = demo(&["--keep", tmp.path().to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("not empty"), "{stderr}");
    let (ok, _, stderr) = demo(&["--size", "10"]);
    assert!(!ok);
    assert!(stderr.contains("--size"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}
