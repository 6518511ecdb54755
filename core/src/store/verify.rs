//! The full integrity check on demand: [`Store::verify`].

use super::call_directory::Merged;
use super::open::read_state;
use super::view::View;
use super::{Store, StoreError};
use crate::digest::LtHash;
use crate::snapshot;
use rusqlite::Connection;

impl Store {
    /// Full integrity check against local damage or tampering: every byte of the base file
    /// (checksums), every entry (the digest recomputed from scratch over base + overlay, each key
    /// and value valid), the recorded digest, the overlay rows in SQLite against memory, and
    /// SQLite's own `quick_check`. A degraded store fails with the reason it is degraded.
    ///
    /// Costs a full read and one element hash per entry: run it in the background. A writing
    /// store holds its write lock meanwhile (writers wait; readers do not). A read-only store
    /// compares with the database only while no writer has changed the state since it opened.
    pub fn verify(&self) -> Result<(), StoreError> {
        let view = self.load_full_view();
        if let Some(reason) = &view.unavailable {
            return Err(StoreError::Corrupt(format!(
                "blocklist unavailable: {reason}"
            )));
        }
        if self.inner.writer.is_some() {
            let w = self.writer()?;
            let view = self.load_full_view();
            check_entries(&view)?;
            return check_database(&w.conn, &view);
        }
        check_entries(&view)?;
        let conn = self.inner.reader.lock().map_err(|_| StoreError::Poisoned)?;
        let row = read_state(&conn)?.ok_or(StoreError::NoStore)?;
        let unchanged = row.list_version == view.list_version
            && view.base.path().file_name().and_then(|n| n.to_str()) == Some(&row.base_file);
        if unchanged {
            check_database(&conn, &view)?;
        }
        Ok(())
    }
}

/// Every byte of the base, then one pass over base + overlay: each entry valid, and the digest
/// recomputed from scratch equal to the live one.
fn check_entries(view: &View) -> Result<(), StoreError> {
    view.base.verify_bytes()?;
    let (full, checked) = LtHash::compute(|sink| -> Result<(), StoreError> {
        for (n, (k, v)) in Merged::new(view).enumerate() {
            snapshot::check_entry(&k, v, n as u64)?;
            sink.add(&k, v);
        }
        Ok(())
    });
    checked?;
    if full != *view.lthash {
        return Err(StoreError::Corrupt(
            "blocklist entries do not match the live digest".to_string(),
        ));
    }
    Ok(())
}

/// The recorded digest, the stored overlay rows and SQLite's own check.
fn check_database(conn: &Connection, view: &View) -> Result<(), StoreError> {
    let recorded: Vec<u8> =
        conn.query_row("SELECT digest FROM state WHERE id = 1", [], |r| r.get(0))?;
    if recorded.as_slice() != view.digest.0.as_slice() {
        return Err(StoreError::Corrupt(
            "recorded digest does not match the blocklist".to_string(),
        ));
    }
    let differs = || StoreError::Corrupt("stored overlay differs from the live one".to_string());
    let mut stmt = conn.prepare("SELECT key, value FROM overlay ORDER BY key")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<i64>>(1)?))
    })?;
    let mut mem = view.overlay.iter();
    for row in rows {
        let (k, v) = row?;
        match mem.next() {
            Some((mk, mv)) if mk == k.as_slice() && mv == v.map(|v| v as u64) => {}
            _ => return Err(differs()),
        }
    }
    if mem.next().is_some() {
        return Err(differs());
    }
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(StoreError::Corrupt(
            "database quick_check failed".to_string(),
        ));
    }
    Ok(())
}
