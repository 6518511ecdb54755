//! The `report` binary end to end on a small list: it writes a complete report and exits 0;
//! bad arguments exit 2.
//!
//! Only what holds on any machine is checked. Which targets are met depends on the machine,
//! and the two p99 ratios need enough lookup samples from the measuring thread inside the
//! short delta and compaction windows: on a busy machine that thread may not be scheduled
//! there, and the report then says so ("pending: too few lookup samples") instead of a number.
//! Every other figure must be measured.
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn report_writes_every_figure_on_a_small_list() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("REPORT.md");
    let run = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["--sizes", "3000", "--budget-ms", "5", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let md = std::fs::read_to_string(&out).unwrap();
    for section in [
        "## Machine",
        "## Summary",
        "## 3k entries",
        "### Targets",
        "### Lookup latency",
        "### Size",
        "### Operations",
        "## Reproduce",
    ] {
        assert!(md.contains(section), "missing {section}");
    }
    // The server's figures live in SERVER.md (written by the server's own benchmark).
    assert_eq!(
        md.matches("Server figures (issue 9): see [SERVER.md](SERVER.md).")
            .count(),
        1
    );
    // Nothing is pending except, under load, a p99 ratio for lack of samples.
    for line in md.lines().filter(|l| l.contains("pending:")) {
        assert!(
            line.contains("too few lookup samples"),
            "a figure was not measured: {line}\n{md}"
        );
    }
    let timing_pending = md
        .lines()
        .filter(|l| l.contains("| — | pending: too few lookup samples"))
        .count();
    assert!(timing_pending <= 2, "{md}");
    for row in [
        "SQLite, defaults",
        "SQLite, tuned",
        "`HashMap`",
        "sorted `Vec`",
        "`fst::Map`",
        // Issue 8: the cost of checking every byte of the base on open.
        "ours: open + verify of the base snapshot",
    ] {
        assert!(md.contains(row), "missing row {row}");
    }
    // Every one of the 10 targets has a verdict, or is one of the ratios pending above.
    assert_eq!(
        md.matches("**met**").count() + md.matches("**missed**").count() + timing_pending,
        10,
        "{md}"
    );
}

#[test]
fn bad_arguments_exit_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_report"))
        .arg("--sizes")
        .arg("many")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--sizes"));
}
