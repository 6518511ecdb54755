//! `fraudshield scan`, run as the real binary: message as an argument and on stdin, text and
//! JSON output.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

const MESSAGE: &str = "【客服】退款请加QQ 87654321，或拨打 400-123-4567，\
                       保证金转账至卡号 6222 0212 3456 7890 123。";

fn fraudshield(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fraudshield"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// Checks the JSON array printed for [`MESSAGE`].
fn check_json(out: &Output) {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v.as_array().unwrap();
    let got: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap(),
                f["canonical"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("qq", "87654321"),
            ("phone", "+864001234567"),
            ("bank", "6222021234567890123")
        ]
    );
    // Byte offsets into the message as given.
    let raws: Vec<&str> = findings
        .iter()
        .map(|f| {
            let start = usize::try_from(f["start"].as_u64().unwrap()).unwrap();
            let end = usize::try_from(f["end"].as_u64().unwrap()).unwrap();
            &MESSAGE[start..end]
        })
        .collect();
    assert_eq!(
        raws,
        ["87654321", "400-123-4567", "6222 0212 3456 7890 123"]
    );
    assert_eq!(findings[0]["reason"], "context qq");
    assert_eq!(findings[1]["reason"], "shape service-line");
    assert_eq!(findings[2]["reason"], "context 卡号");
}

#[test]
fn json_from_argument() {
    check_json(&fraudshield(&["scan", "--json", MESSAGE], None));
}

#[test]
fn json_from_stdin() {
    check_json(&fraudshield(&["--json", "scan"], Some(MESSAGE)));
}

#[test]
fn text_output_lists_each_finding() {
    let out = fraudshield(&["scan", MESSAGE], None);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("qq") && lines[0].contains("87654321"));
    assert!(lines[2].contains("6222021234567890123") && lines[2].contains("卡号"));
}

#[test]
fn clean_message_gives_an_empty_array() {
    let out = fraudshield(
        &["--json", "scan"],
        Some("【美团】您的验证码是 836142，5分钟内有效。"),
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "[]");
    let out = fraudshield(&["scan", "今晚7点吃饭"], None);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "no identifiers found"
    );
}

#[test]
fn invalid_utf8_on_stdin_fails_with_one_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fraudshield"))
        .args(["scan"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(&[0x31, 0x33, 0xff, 0xfe]).unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
