//! The `server_report` binary end to end on a tiny list: the publish path runs for real (the
//! server's data directory, approved proposals, child processes publishing), the section is
//! written, other sections of the file are kept; bad arguments exit 2.
//!
//! No figure is checked against a goal: which targets are met depends on the machine. The
//! manifest comparison needs nginx and wrk and a release server binary, so it is not run here
//! (its parsing and configuration are unit-tested in the binary).
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn publish_section_is_measured_and_other_sections_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("SERVER.md");
    std::fs::write(
        &out,
        "# fraudshield-server performance\n\n## Tip intake\n\nwritten by someone else\n",
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_server_report"))
        .args([
            "--only",
            "publish",
            "--entries",
            "3000",
            "--changes",
            "60",
            "--rounds",
            "2",
            "--out",
        ])
        .arg(&out)
        .arg("--work")
        .arg(dir.path().join("work"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(
        md.contains("## Tip intake\n\nwritten by someone else\n"),
        "{md}"
    );
    assert!(
        md.contains("## Publishing 60 approved changes on a 3k-entry list"),
        "{md}"
    );
    for row in [
        "| publish 60 approved changes on a 3k-entry list (wall) | ≤ 5 s |",
        "| delta on the wire per change | ≤ 4 B |",
        "| first publish: the whole list as release 2 (3,000 changes)",
        "| round 1: publish 60 changes as release 3",
        "| round 2: publish 60 changes as release 4",
        "same state digest",
    ] {
        assert!(md.contains(row), "missing {row}\n{md}");
    }
    assert_eq!(
        md.matches("**met**").count() + md.matches("**missed**").count(),
        2,
        "{md}"
    );
    // A second run replaces its own section instead of adding another.
    let again = Command::new(env!("CARGO_BIN_EXE_server_report"))
        .args([
            "--only",
            "publish",
            "--entries",
            "3000",
            "--changes",
            "60",
            "--rounds",
            "1",
            "--out",
        ])
        .arg(&out)
        .arg("--work")
        .arg(dir.path().join("work"))
        .output()
        .unwrap();
    assert!(again.status.success());
    let md = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        md.matches("## Publishing 60 approved changes").count(),
        1,
        "{md}"
    );
    assert!(!md.contains("round 2:"), "{md}");
    assert!(md.contains("## Tip intake"), "{md}");
}

#[test]
fn bad_arguments_exit_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_server_report"))
        .args(["--entries", "many"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--entries"));
}
