//! The real server, started in this process on loopback.
//!
//! In-process, through the server library (`init`, `App::open`, `serve` on a listener bound to
//! `127.0.0.1:0`), rather than by spawning the `fraudshield-server` binary: `cargo run -p
//! fraudshield-cli -- demo` builds only this binary, so a separate server binary might be
//! missing or stale, and finding its path is guesswork. In-process it is the same router, the
//! same database and the same publisher; only the process boundary is saved. Its tokio runtime
//! runs on its own thread, and the demo talks to it over real HTTP like any client.

use crate::output::Failure;
use fraudshield_server::auth::{self, Role};
use fraudshield_server::batch::{self, BatchRow, Imported};
use fraudshield_server::clock::Clock;
use fraudshield_server::config::Config;
use fraudshield_server::error::AppError;
use fraudshield_server::{App, AppState};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The API tokens the demo's people hold. Each is a real token stored hashed by the server.
pub struct Tokens {
    /// The phone app's reporter token (uploads citizens' reports).
    pub reporter: String,
    /// The first analyst (proposes).
    pub analyst_a: String,
    /// The second analyst (approves: four eyes).
    pub analyst_b: String,
    /// The publisher (cuts releases).
    pub publisher: String,
}

/// Names of the demo's analysts and publisher, as their tokens and the audit log record them.
pub const ANALYST_A: &str = "Wang";
/// The second analyst.
pub const ANALYST_B: &str = "Li";
/// The publisher.
pub const PUBLISHER: &str = "Zhao";

/// A running server.
pub struct Server {
    /// Base URL, `http://127.0.0.1:PORT/`.
    pub url: String,
    /// The trust file apps pin (the publisher's public key).
    pub trust: String,
    /// Where the trust file is.
    pub trust_file: PathBuf,
    /// The tokens.
    pub tokens: Tokens,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Initializes a data directory in `data` (signing key, database, empty first release),
    /// creates the demo's tokens and serves on `127.0.0.1:0`.
    pub fn start(data: &Path) -> Result<Server, Failure> {
        let config = Config {
            data_dir: data.to_path_buf(),
            listen: "127.0.0.1:0".to_owned(),
            ..Config::default()
        };
        let clock = Clock::system();
        let init = fraudshield_server::init(&config, &clock)
            .map_err(|e| Failure::new(format!("cannot initialize the demo server: {e}")))?;
        let trust = std::fs::read_to_string(&init.trust_file)
            .map_err(|e| Failure::new(format!("cannot read the server's trust file: {e}")))?;
        let app = App::open(config, clock.clone())
            .map_err(|e| Failure::new(format!("cannot open the demo server: {e}")))?;
        let now = clock.now();
        let token = |role: Role, name: &'static str| {
            app.db
                .blocking(move |c| auth::create(c, role, name, None, now))
                .map(|(_, token)| token)
                .map_err(|e| Failure::new(format!("cannot create a demo token: {e}")))
        };
        let tokens = Tokens {
            reporter: token(Role::Reporter, "fraudshield demo app")?,
            analyst_a: token(Role::Analyst, ANALYST_A)?,
            analyst_b: token(Role::Analyst, ANALYST_B)?,
            publisher: token(Role::Publisher, PUBLISHER)?,
        };
        let state = AppState(Arc::new(app));
        let serving = state.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Failure::new(format!("cannot start the server's runtime: {e}")))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| Failure::new(format!("cannot listen on loopback: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Failure::new(format!("cannot read the bound address: {e}")))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("demo-server".to_owned())
            .spawn(move || {
                runtime.block_on(fraudshield_server::serve(serving, listener, async {
                    let _ = stopped.await;
                }))
            })
            .map_err(|e| Failure::new(format!("cannot start the server thread: {e}")))?;
        Ok(Server {
            url: format!("http://{addr}/"),
            trust,
            trust_file: init.trust_file,
            tokens,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Imports `rows` as one batch of proposals by the holder of `token`, on the server's own
    /// database: the server's bulk import of case data (a local operation on its data, like the
    /// admin commands, not an HTTP endpoint). The batch is then reviewed over HTTP.
    pub fn import_batch(
        &self,
        token: &str,
        source: &str,
        rows: &[BatchRow],
        reason: &str,
    ) -> Result<Imported, Failure> {
        let now = self.state.clock.now();
        // No file: the provenance digest covers the rows' keys instead.
        let mut keys = Vec::new();
        for r in rows {
            keys.extend_from_slice(r.key.as_bytes());
            keys.push(b'\n');
        }
        let request = batch::Import {
            source,
            sha256: fraudshield_core::release::keys::sha256(&keys),
            rows_read: rows.len() as u64,
            rows,
            bad_rows: &[],
            reason,
            // A synthetic list may hold a protected number: it is reported and left out.
            skip_bad_rows: true,
        };
        self.state
            .db
            .blocking(|c| {
                let caller =
                    auth::authenticate(c, token, now)?.ok_or_else(AppError::unauthorized)?;
                batch::import(c, &caller, &request, &self.state.protected, now)
            })
            .map_err(|e| Failure::new(format!("the server could not import the case data: {e}")))
    }

    /// Stops serving (in-flight requests finish) and waits for the server thread.
    pub fn stop(mut self) -> Result<(), Failure> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), Failure> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(Err(e))) => Err(Failure::new(format!("the demo server failed: {e}"))),
            Some(Err(_)) => Err(Failure::new("the demo server thread panicked")),
            _ => Ok(()),
        }
    }
}

impl Drop for Server {
    /// A demo that fails half-way still stops its server.
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
