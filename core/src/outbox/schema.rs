//! The SQLite schema of the report outbox (`outbox.sqlite`) and its migrations.
//!
//! WAL mode with `synchronous=FULL`: a queued report is on disk before `queue` returns, and the
//! "sent" mark is durable before the app is told. The schema version is SQLite's
//! `user_version`; [`migrate`] brings an older file to [`SCHEMA_VERSION`] in one transaction
//! through [`upgrade_from`], and a newer file (an app downgrade) is refused rather than damaged.
//!
//! | table | what it holds |
//! |---|---|
//! | `report` | one row per report: what the citizen wrote (cleared once the server has it), its state (`pending`, `sent`, `failed`), attempts and the next attempt time, the server's tracking id or error |
//! | `installation` | one row: this installation's random `client_id` (made on first use) and `not_before`, the server's `Retry-After` backoff for the whole outbox |

use super::OutboxError;
use rusqlite::{Connection, Transaction};

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Applies the connection settings (WAL, FULL sync, busy timeout).
pub fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// Brings the database to [`SCHEMA_VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<(), OutboxError> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(OutboxError::TooNew { found });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    upgrade_from(&tx, found)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Runs every migration from `version` up to [`SCHEMA_VERSION`] inside `tx`.
pub fn upgrade_from(tx: &Transaction<'_>, version: u32) -> Result<(), OutboxError> {
    let mut v = version;
    while v < SCHEMA_VERSION {
        match v {
            0 => tx.execute_batch(V1)?,
            _ => return Err(OutboxError::TooNew { found: v }),
        }
        v += 1;
    }
    Ok(())
}

const V1: &str = "
CREATE TABLE report (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    value TEXT,
    text TEXT,
    contact TEXT,
    queued_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    tracking_id TEXT,
    sent_at INTEGER,
    error_code TEXT,
    error_message TEXT
);
CREATE INDEX report_due ON report (state, next_attempt_at);
CREATE TABLE installation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    client_id TEXT NOT NULL,
    not_before INTEGER NOT NULL DEFAULT 0
);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_an_empty_database_and_refuses_a_newer_one() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        // Idempotent.
        migrate(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(OutboxError::TooNew { found }) if found == SCHEMA_VERSION + 1
        ));
    }
}
