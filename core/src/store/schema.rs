//! The SQLite schema of the on-device state and its migrations.
//!
//! One database file, `state.sqlite`, in WAL mode with `synchronous=FULL`: a committed
//! transaction is on disk before `commit` returns, so the store can make a change visible only
//! once it is durable. (`NORMAL` would be enough for the WAL's own consistency, but could lose
//! the last transactions on power loss *after* the app was told they were applied — and a
//! blocklist update that silently rolls back is what this store exists to prevent. Writes are
//! rare, so FULL costs nothing that matters.)
//!
//! | table | what it holds |
//! |---|---|
//! | `state` | one row: the live base snapshot file, the next base file number, the list version, the state digest, and the oldest list version the change log covers |
//! | `overlay` | blocklist changes since the base: key → packed value, `NULL` for a removal |
//! | `change_log` | the effective change of each applied batch, by list version, for the iOS Call Directory's incremental loads |
//! | `user_list` | the user's own allow and block lists |
//! | `protected` | numbers the app protects in addition to the built-in emergency lines |
//! | `meta` | small named values other components keep with the state (the sync engine's rollback floor, ETags…) so they commit in the same transaction |
//!
//! The schema version is SQLite's `user_version`. [`migrate`] brings any older database to
//! [`SCHEMA_VERSION`] in one transaction through [`upgrade_from`]; a newer database (an app
//! downgrade) is refused rather than damaged.

use rusqlite::{Connection, Transaction};

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The database was written by a newer build.
    #[error("state database has schema version {found}, newer than {SCHEMA_VERSION}")]
    TooNew {
        /// The version found.
        found: u32,
    },
    /// SQLite failed.
    #[error("state database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Applies the connection settings every store connection uses (WAL, FULL sync, busy timeout).
pub fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// Brings the database to [`SCHEMA_VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(SchemaError::TooNew { found });
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
pub fn upgrade_from(tx: &Transaction<'_>, version: u32) -> Result<(), SchemaError> {
    let mut v = version;
    while v < SCHEMA_VERSION {
        match v {
            0 => tx.execute_batch(V1)?,
            _ => return Err(SchemaError::TooNew { found: v }),
        }
        v += 1;
    }
    Ok(())
}

const V1: &str = "
CREATE TABLE state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    base_file TEXT NOT NULL,
    next_base_id INTEGER NOT NULL,
    list_version INTEGER NOT NULL,
    digest BLOB NOT NULL,
    log_floor INTEGER NOT NULL
);
CREATE TABLE overlay (
    key BLOB PRIMARY KEY,
    value INTEGER
) WITHOUT ROWID;
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY,
    list_version INTEGER NOT NULL,
    key BLOB NOT NULL,
    value INTEGER
);
CREATE INDEX change_log_by_version ON change_log (list_version);
CREATE TABLE user_list (
    key BLOB PRIMARY KEY,
    list TEXT NOT NULL CHECK (list IN ('allow', 'block'))
) WITHOUT ROWID;
CREATE TABLE protected (
    key BLOB PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn migrates_an_empty_database_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let n: i64 = conn
            .query_row("SELECT count(*) FROM overlay", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn refuses_a_newer_database() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(SchemaError::TooNew { .. })
        ));
    }
}
