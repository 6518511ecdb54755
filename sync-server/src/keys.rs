//! `keys rotate`: hands trust from the current signing key to a new one.
//!
//! Apps pin the **root** key set (`keys/trust.txt`, written by `init`, never changed): every
//! manifest carries the chain of rotation statements, each signed by the keys it replaces, and
//! core's sync client walks it from the pinned root (see `fraudshield_core::release::signed`).
//! So a rotation is:
//!
//! 1. write the new key to `keys/signing.next` (0600);
//! 2. append a rotation statement signed by the current key to the publisher's state;
//! 3. retire the current key (`keys/retired-<key id>.key`) and move the new one to
//!    `keys/signing.key`;
//! 4. cut an empty release signed by the new key, so the served manifest carries the chain.
//!
//! A crash between 2 and 3 is finished when the server next opens the directory
//! ([`finish_interrupted`]): the statement names the new key, so the swap completes; a crash
//! before 2 leaves a `signing.next` no statement names, which is deleted.

use crate::datadir::{DataDir, write_secret};
use fraudshield_core::release::keys::{KeySet, SigningKey};
use fraudshield_core::release::publisher::{PublishConfig, Publisher};
use fraudshield_core::release::signed::RotationStatement;
use std::fs;

fn next_path(dir: &DataDir) -> std::path::PathBuf {
    dir.root().join("keys").join("signing.next")
}

fn open_publisher(dir: &DataDir, config: PublishConfig) -> Result<Publisher, String> {
    let mut publisher = Publisher::open(&dir.releases()).map_err(|e| e.to_string())?;
    if publisher.config() != config {
        publisher.set_config(config).map_err(|e| e.to_string())?;
    }
    Ok(publisher)
}

fn swap(dir: &DataDir, old: &SigningKey) -> Result<(), String> {
    let keys = dir.root().join("keys");
    let retired = keys.join(format!("retired-{}.key", old.public().id()));
    fs::rename(dir.signing_key(), &retired).map_err(|e| format!("retiring the old key: {e}"))?;
    fs::rename(next_path(dir), dir.signing_key())
        .map_err(|e| format!("installing the new key: {e}"))?;
    fs::File::open(&keys)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("keys directory: {e}"))
}

/// Steps 1-3 of a rotation (the caller holds the directory lock and then cuts a release with
/// the new key). Returns (old key id, new key id).
pub fn rotate(dir: &DataDir, config: PublishConfig) -> Result<(String, String), String> {
    finish_interrupted(dir, config)?;
    let old = dir.load_signing_key().map_err(|e| e.to_string())?;
    let new = SigningKey::generate().map_err(|e| e.to_string())?;
    write_secret(&next_path(dir), new.to_file_text().as_bytes())
        .map_err(|e| format!("writing the new key: {e}"))?;
    let mut publisher = open_publisher(dir, config)?;
    let current = KeySet::new(vec![old.public()], 1).map_err(|e| e.to_string())?;
    let next = KeySet::new(vec![new.public()], 1).map_err(|e| e.to_string())?;
    publisher
        .rotate(&current, next, &[&old])
        .map_err(|e| format!("signing the rotation statement: {e}"))?;
    swap(dir, &old)?;
    Ok((old.public().id().to_string(), new.public().id().to_string()))
}

/// Completes or discards a rotation a crash interrupted (see the module docs).
pub fn finish_interrupted(dir: &DataDir, config: PublishConfig) -> Result<(), String> {
    let next = next_path(dir);
    if !next.exists() {
        return Ok(());
    }
    let text = fs::read_to_string(&next).map_err(|e| format!("signing.next: {e}"))?;
    let new = SigningKey::from_file_text(&text).map_err(|e| format!("signing.next: {e}"))?;
    let publisher = open_publisher(dir, config)?;
    let named = publisher.rotations().iter().any(|env| {
        RotationStatement::decode(&env.payload)
            .is_ok_and(|st| st.next.keys().contains(&new.public()))
    });
    if named {
        tracing::warn!("finishing a key rotation interrupted after its statement was signed");
        let old = dir.load_signing_key().map_err(|e| e.to_string())?;
        swap(dir, &old)
    } else {
        tracing::warn!("discarding a key rotation interrupted before its statement was signed");
        fs::remove_file(&next).map_err(|e| format!("signing.next: {e}"))
    }
}
