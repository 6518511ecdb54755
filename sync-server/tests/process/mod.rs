//! The real binaries as child processes, shared by the integration tests that run them
//! (`e2e`, `crash`, `import_cli`, `objectstore`): the `fraudshield-server` binary for admin
//! commands and as a server on 127.0.0.1 port 0, and the `fraudshield` CLI as a phone.
//!
//! Every wait on a child is bounded ([`WAIT`]); a child still running when its handle drops is
//! killed and reaped. The `fraudshield` binary is built by `cargo test --workspace` (the CLI's
//! own tests need it); run alone, build it first: `cargo build -p fraudshield-cli`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The server binary cargo built for this test.
pub const SERVER: &str = env!("CARGO_BIN_EXE_fraudshield-server");

/// Bound of every wait for a child (a busy CI machine is slow, never this slow).
pub const WAIT: Duration = Duration::from_secs(180);

/// The `fraudshield` CLI beside this test executable (`target/<profile>/fraudshield`).
pub fn cli_binary() -> PathBuf {
    // target/<profile>/deps/<test>-… → target/<profile>/fraudshield
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join(format!("fraudshield{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p fraudshield-cli` (cargo test --workspace does)",
        bin.display()
    );
    bin
}

/// `fraudshield-server --data-dir DATA ARGS…`, with warnings-only logs and none of the
/// variables a developer's shell might carry into it (token, failpoint).
pub fn server_command(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(SERVER);
    c.arg("--data-dir")
        .arg(data)
        .args(args)
        .env("FRAUDSHIELD_LOG", "warn")
        .env_remove("FRAUDSHIELD_TOKEN")
        .env_remove("FRAUDSHIELD_FAILPOINT");
    c
}

/// Runs an admin command with `env` added; asserts it succeeded and returns its stdout.
pub fn admin_env(data: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let out = server_command(data, args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs an admin command; asserts it succeeded and returns its stdout.
pub fn admin(data: &Path, args: &[&str]) -> String {
    admin_env(data, &[], args)
}

/// A new token for `role`, as `token create` prints it (once).
pub fn token(data: &Path, role: &str, name: &str) -> String {
    admin(data, &["token", "create", "--role", role, "--name", name])
        .trim()
        .to_owned()
}

/// Runs the phone CLI on `store` with `--json`; asserts it succeeded and returns its answer.
pub fn phone(cli: &Path, store: &Path, args: &[&str]) -> Value {
    let out = Command::new(cli)
        .arg("--dir")
        .arg(store)
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "fraudshield {args:?}: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.trim()).unwrap()
}

/// The server binary serving a data directory on a free loopback port; its stdout lines
/// arrive on a channel; killed (SIGKILL) and reaped on drop.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT/`, as the server announced it.
    pub url: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Starts serving `data`; returns once the server announced its address.
    pub fn start(data: &Path) -> Server {
        Server::start_env(data, &[])
    }

    /// Starts serving `data` with `env` added to its environment.
    pub fn start_env(data: &Path, env: &[(&str, &str)]) -> Server {
        let mut child = server_command(data, &["serve", "--listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Server {
            child: Some(child),
            url: String::new(),
            lines,
        };
        let first = s.line_starting("listening on ");
        s.url = first.trim_start_matches("listening on ").to_owned();
        s
    }

    /// The next stdout line starting with `prefix` (bounded wait; the pipe closing fails it).
    pub fn line_starting(&self, prefix: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(e) => panic!("the server never printed `{prefix}…`: {e}"),
            }
        }
    }

    /// SIGTERM, then wait (bounded) for its exit; returns how it exited.
    pub fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(st) = child.try_wait().unwrap() {
                return st;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("server did not stop within {WAIT:?} of SIGTERM");
    }

    /// SIGKILL, and reap it (its lock on the data directory goes with it).
    pub fn kill9(mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
