//! The SQLite database: one file in the data directory, WAL mode, a busy timeout, and a small
//! pool of connections used only on blocking threads.
//!
//! Every handler reaches the database through [`Db::call`], which runs the closure on tokio's
//! blocking pool (`spawn_blocking`): no SQLite call ever runs on an async worker thread.
//! Writes open `BEGIN IMMEDIATE` transactions ([`immediate`]) so two writers queue on the
//! busy timeout instead of failing half-way.
//!
//! Durability: `synchronous = FULL`, so a transaction that returned has been fsynced (a tip
//! is acknowledged only after that).

use crate::error::AppError;
use crate::schema;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "server.sqlite";

/// How long a connection waits for another writer before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle connections kept for reuse.
const POOL_SIZE: usize = 8;

/// The database handle shared by the whole server. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Opens a connection with the server's settings.
pub fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Starts a write transaction that takes the write lock at once.
pub fn immediate(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

impl Db {
    /// Opens (creating if needed) the database at `path` and migrates it. Blocking: call it
    /// before the runtime serves requests, or from a blocking thread.
    pub fn open(path: &Path) -> Result<Db, schema::SchemaError> {
        let mut conn = connect(path)?;
        schema::migrate(&mut conn)?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                idle: Mutex::new(vec![conn]),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn take(&self) -> rusqlite::Result<Connection> {
        let pooled = self.inner.idle.lock().ok().and_then(|mut v| v.pop());
        match pooled {
            Some(c) => Ok(c),
            None => connect(&self.inner.path),
        }
    }

    fn give(&self, conn: Connection) {
        if let Ok(mut idle) = self.inner.idle.lock()
            && idle.len() < POOL_SIZE
        {
            idle.push(conn);
        }
    }

    /// Runs `f` with a connection, on the calling thread. Only for blocking contexts (the admin
    /// commands, `spawn_blocking` closures).
    pub fn blocking<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, AppError>,
    ) -> Result<R, AppError> {
        let mut conn = self.take()?;
        let r = f(&mut conn);
        // A connection left inside a transaction by a panic-free error path is rolled back
        // by rusqlite's Transaction drop; keep it.
        self.give(conn);
        r
    }

    /// Runs `f` with a connection on tokio's blocking pool and awaits the result.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, AppError> + Send + 'static,
    ) -> Result<R, AppError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.blocking(f))
            .await
            .map_err(|e| AppError::internal(format_args!("database task failed: {e}")))?
    }
}
