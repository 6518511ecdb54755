//! Output to a reader that went away (`fraudshield demo | head -1`) ends quietly, not with a
//! panic.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    for args in [
        &["demo"][..],
        &["--json", "scan", "请加QQ 87654321 办理退款"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fraudshield"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the only read end before the child writes: its first write fails with EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
    }
}
