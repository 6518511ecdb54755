//! The server's SQLite schema and its migrations.
//!
//! One schema version ([`VERSION`], kept in `PRAGMA user_version`) and one
//! [`upgrade_from`] that walks an older database forward one version at a time, inside the
//! transaction that opens it. A database newer than this build is refused, never "repaired".
//!
//! ## Tables
//! | table | what it holds |
//! |---|---|
//! | `tokens` | API tokens: id, SHA-256 of the secret, role, holder name, expiry, revocation |
//! | `tips` | citizens' tips: tracking id, identifier key, category, text, hashed client, due date, answer |
//! | `tip_contacts` | tipsters' contact details, apart from the tips, with their deletion date |
//! | `entries` | the list as of the last release (what phones hold) |
//! | `proposals` | add / change / revoke proposals and their four-eyes review |
//! | `releases` | every release cut: number, times, sizes, who, how long it took |
//! | `publish_intents` | a publish in flight: which proposals it carries (crash recovery) |
//! | `audit` | the append-only audit log (triggers refuse UPDATE and DELETE) |
//! | `batches` | bulk imports: provenance of a batch proposal (version 2) |
//! | `console_sessions` | the analyst console's sign-ins: hashed session id, token id, CSRF token, expiry (version 3) |
//!
//! Version 3 also records in `releases` the bytes phones download for each release: the delta
//! from the previous release (`delta_bytes`), the snapshot when one was cut (`snapshot_bytes`)
//! and the signed manifest (`manifest_bytes`).

use rusqlite::{Connection, Transaction};

/// The schema version this build writes.
pub const VERSION: u32 = 3;

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The database was written by a newer server.
    #[error(
        "database schema version {found} is newer than this server ({VERSION}); upgrade the server"
    )]
    TooNew {
        /// The version found.
        found: u32,
    },
    /// SQLite failed.
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// Brings `conn` to [`VERSION`] in one transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(SchemaError::TooNew { found });
    }
    if found == VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Another process may have migrated between the read above and the lock.
    let found: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for version in found..VERSION {
        upgrade_from(&tx, version)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Upgrades the schema from `version` to `version + 1`.
pub fn upgrade_from(tx: &Transaction<'_>, version: u32) -> rusqlite::Result<()> {
    match version {
        0 => tx.execute_batch(V1),
        1 => tx.execute_batch(V2),
        2 => tx.execute_batch(V3),
        _ => Ok(()),
    }
}

const V1: &str = r#"
CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    hash        BLOB NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
);

CREATE TABLE tips (
    id           INTEGER PRIMARY KEY,
    tracking_id  TEXT NOT NULL UNIQUE,
    key          BLOB NOT NULL,
    category     TEXT NOT NULL,
    text         TEXT NOT NULL,
    client_key   BLOB NOT NULL,
    token_id     TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    repeats      INTEGER NOT NULL DEFAULT 0,
    due_at       INTEGER NOT NULL,
    answered_at  INTEGER,
    answered_by  TEXT,
    outcome      TEXT,
    answer       TEXT
);
CREATE INDEX tips_by_key ON tips(key);
CREATE INDEX tips_by_client ON tips(client_key, key, received_at);
CREATE INDEX tips_open ON tips(answered_at, due_at);

CREATE TABLE tip_contacts (
    tip_id        INTEGER PRIMARY KEY REFERENCES tips(id) ON DELETE CASCADE,
    contact       TEXT NOT NULL,
    delete_after  INTEGER
);

CREATE TABLE entries (
    key         BLOB PRIMARY KEY,
    category    TEXT NOT NULL,
    risk        TEXT NOT NULL,
    reports     INTEGER NOT NULL,
    prefix      INTEGER NOT NULL,
    release     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE proposals (
    id              INTEGER PRIMARY KEY,
    action          TEXT NOT NULL,
    appeal          INTEGER NOT NULL DEFAULT 0,
    key             BLOB NOT NULL,
    prefix          INTEGER NOT NULL DEFAULT 0,
    category        TEXT,
    risk            TEXT,
    reports         INTEGER,
    reason          TEXT NOT NULL,
    tips            TEXT NOT NULL DEFAULT '[]',
    batch_id        INTEGER,
    proposed_by     TEXT NOT NULL,
    proposer        TEXT NOT NULL,
    proposed_at     INTEGER NOT NULL,
    status          TEXT NOT NULL,
    reviewed_by     TEXT,
    reviewer        TEXT,
    reviewed_at     INTEGER,
    review_reason   TEXT,
    single_reviewer INTEGER NOT NULL DEFAULT 0,
    release         INTEGER
);
CREATE INDEX proposals_by_status ON proposals(status, id);
CREATE INDEX proposals_by_key ON proposals(key, status);

CREATE TABLE releases (
    release          INTEGER PRIMARY KEY,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    changes          INTEGER NOT NULL,
    entries          INTEGER NOT NULL,
    manifest_sha256  BLOB NOT NULL,
    published_by     TEXT NOT NULL,
    duration_ms      INTEGER NOT NULL,
    reason           TEXT NOT NULL
);

CREATE TABLE publish_intents (
    release       INTEGER PRIMARY KEY,
    proposal_ids  TEXT NOT NULL,
    started_at    INTEGER NOT NULL
);

CREATE TABLE audit (
    id              INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    token_id        TEXT NOT NULL,
    actor           TEXT NOT NULL,
    request_id      TEXT,
    action          TEXT NOT NULL,
    key             BLOB,
    proposal_id     INTEGER,
    release         INTEGER,
    reason          TEXT,
    tips            TEXT NOT NULL DEFAULT '[]',
    single_reviewer INTEGER NOT NULL DEFAULT 0,
    detail          TEXT
);
CREATE INDEX audit_by_key ON audit(key, at);
CREATE INDEX audit_by_actor ON audit(actor, at);
CREATE INDEX audit_by_time ON audit(at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#;

const V2: &str = r#"
CREATE TABLE batches (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    sha256      BLOB NOT NULL,
    rows        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX proposals_by_batch ON proposals(batch_id);
"#;

const V3: &str = r#"
CREATE TABLE console_sessions (
    id_hash     BLOB PRIMARY KEY,
    token_id    TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX console_sessions_by_expiry ON console_sessions(expires_at);
ALTER TABLE releases ADD COLUMN delta_bytes INTEGER;
ALTER TABLE releases ADD COLUMN snapshot_bytes INTEGER;
ALTER TABLE releases ADD COLUMN manifest_bytes INTEGER;
"#;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn migrates_from_empty_and_from_every_version() {
        for start in 0..VERSION {
            let mut c = Connection::open_in_memory().unwrap();
            let tx = c.transaction().unwrap();
            for v in 0..start {
                upgrade_from(&tx, v).unwrap();
            }
            tx.pragma_update(None, "user_version", start).unwrap();
            tx.commit().unwrap();
            migrate(&mut c).unwrap();
            let v: u32 = c
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(v, VERSION);
            c.execute("INSERT INTO batches(source, sha256, rows, created_at, created_by) VALUES ('x', x'00', 0, 0, 't')", [])
                .unwrap();
        }
    }

    #[test]
    fn refuses_a_newer_database() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "user_version", VERSION + 1).unwrap();
        assert!(matches!(migrate(&mut c), Err(SchemaError::TooNew { .. })));
    }

    #[test]
    fn audit_rows_cannot_be_changed_or_deleted() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        c.execute(
            "INSERT INTO audit(at, token_id, actor, action) VALUES (1, 't', 'a', 'x')",
            [],
        )
        .unwrap();
        assert!(c.execute("UPDATE audit SET actor = 'b'", []).is_err());
        assert!(c.execute("DELETE FROM audit", []).is_err());
    }
}
