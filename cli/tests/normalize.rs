//! `fraudshield normalize`, run as the real binary.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn fraudshield(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fraudshield"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Bad input: status 1, nothing on stdout, one line on stderr that does not repeat the input.
fn assert_rejected(args: &[&str], raw: &str) -> String {
    let out = fraudshield(args);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
    assert!(err.ends_with('\n'));
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    assert!(!err.contains(raw), "{err}");
    assert!(digits.len() < 5 || !err.contains(&digits), "{err}");
    err
}

#[test]
fn json_output_has_kind_and_canonical() {
    let out = fraudshield(&[
        "--json",
        "normalize",
        "--kind",
        "phone",
        "+86 138-0013-8000",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"kind": "phone", "canonical": "+8613800138000"})
    );
}

#[test]
fn json_flag_works_after_the_subcommand_and_for_every_kind() {
    for (kind, raw, canonical) in [
        ("bank", "6222 0212 3456 7890 128", "6222021234567890128"),
        ("qq", "８７６５４３２１", "87654321"),
        ("alipay", "User@Example.COM", "user@example.com"),
        ("phone", "95588", "95588"),
    ] {
        let out = fraudshield(&["normalize", "-k", kind, raw, "--json"]);
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(v, serde_json::json!({"kind": kind, "canonical": canonical}));
    }
}

#[test]
fn text_output_is_the_canonical_form() {
    let out = fraudshield(&["normalize", "--kind", "phone", "(0755)12345678"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "+8675512345678\n");
}

#[test]
fn prefix_rules_are_marked_in_json() {
    let out = fraudshield(&["--json", "normalize", "-k", "phone", "--prefix", "+86 170*"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"kind": "phone", "canonical": "+86170", "prefix": true})
    );
}

#[test]
fn bad_input_fails_with_one_line_that_hides_the_input() {
    let err = assert_rejected(&["normalize", "-k", "phone", "88889999"], "88889999");
    assert!(err.contains("area code"), "{err}");
    let err = assert_rejected(
        &["--json", "normalize", "-k", "phone", "138-0013-800O"],
        "138-0013-800O",
    );
    assert!(err.contains("position 12"), "{err}");
    let err = assert_rejected(&["normalize", "-k", "qq", "0123456"], "0123456");
    assert!(err.contains("start with 0"), "{err}");
    assert_rejected(
        &["normalize", "-k", "alipay", "user@@example.com"],
        "user@@example.com",
    );
    assert_rejected(&["normalize", "-k", "bank", "62220212345"], "62220212345");
}

#[test]
fn input_starting_with_a_dash_reaches_the_normalizer() {
    // Without `allow_hyphen_values` clap would reject this as an unknown flag and print it.
    assert_rejected(
        &["normalize", "-k", "phone", "-1380013800x"],
        "-1380013800x",
    );
}

#[test]
fn prefix_flag_is_for_phones_only() {
    let err = assert_rejected(&["normalize", "-k", "qq", "--prefix", "12345"], "12345");
    assert!(err.contains("phone"), "{err}");
}
