//! # fraudshield-server
//!
//! The service police analysts run: citizens' tips come in, analysts review them under the
//! four-eyes rule, and publishers cut **signed releases** that every phone pulls with
//! `GET /v1/manifest` and the content-addressed artifacts it names.
//!
//! ## Shape
//! - [`app::app`] builds the whole router from [`routes::endpoints`], the one table of
//!   endpoints and the roles that may call them; [`app::App`] is the state
//!   ([`app::AppState`] = `Arc<App>`), [`app::serve`] serves it with graceful shutdown.
//! - One file per resource in [`routes`]; the domain logic they call lives in [`tips`],
//!   [`review`], [`release`] and [`audit`], each a set of functions over a SQLite connection
//!   (the analyst console calls the same functions).
//! - One error type, [`error::AppError`], one JSON envelope
//!   `{"error":{"code":"…","message":"…"}}`; the extractors in [`extract`] use it for rejected
//!   JSON, queries and paths.
//! - State in one SQLite file ([`db`], [`schema`]: WAL, busy timeout, versioned migrations),
//!   every query on the blocking pool; files in the [`datadir`]. Tips are written by one
//!   group-commit thread ([`intake`]): many tips per fsync, each acknowledged after its commit.
//! - Releases are cut by core's `Publisher` (no second implementation of the format); see
//!   [`release`] for the crash-safe order.
//! - The analyst console ([`console`]): server-rendered pages under `/console` that call the
//!   same domain functions as the JSON API, with the roles of its endpoints.
//! - Configuration: [`config`] (defaults < TOML < `FRAUDSHIELD_*` environment < flags).
//!
//! ## Personal data
//! No log line contains an identifier, a tip text, a contact or a token: spans carry the
//! request id, the method and the route *template*; errors say what was wrong, never the
//! value. Tipsters' contacts are stored apart, readable by analysts only (each read audited),
//! and deleted after the answer plus `review.contact_retention_days`.

pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod batch;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod console;
pub mod datadir;
pub mod db;
pub mod error;
pub mod extract;
pub mod failpoint;
pub mod ident;
pub mod import;
pub mod intake;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod objectstore;
pub mod openapi;
pub mod protected;
pub mod release;
pub mod review;
pub mod routes;
pub mod schema;
pub mod tips;

pub use app::{App, AppState, app, serve};
pub use fraudshield_core as core;

use auth::Role;
use clock::Clock;
use config::Config;
use datadir::DataDir;
use db::Db;
use error::AppError;

/// What `init` created.
#[derive(Debug)]
pub struct Initialized {
    /// The public trust file for apps.
    pub trust_file: std::path::PathBuf,
    /// The first admin token (show it once).
    pub admin_token: String,
    /// The first (empty) release.
    pub release: u64,
}

/// Initializes a data directory: directories, signing key (owner-only), trust file, database,
/// the empty release 1 (so clients can sync at once) and a first admin token.
pub fn init(config: &Config, clock: &Clock) -> Result<Initialized, app::StartError> {
    config.validate()?;
    let dir = DataDir::new(&config.data_dir);
    let key = dir.create()?;
    let db = Db::open(&dir.database())?;
    let now = clock.now();
    let release = release::Releases::create(
        &dir.releases(),
        &config.list_id,
        &key,
        app::publish_config(config),
        now,
    )?;
    let served = release::ServedManifest::load(&dir.releases())?
        .ok_or_else(|| AppError::internal("the first manifest is missing"))?;
    let admin_token = db.blocking(|conn| {
        let tx = db::immediate(conn)?;
        tx.execute(
            "INSERT INTO releases(release, created_at, expires_at, changes, entries, manifest_sha256, published_by, duration_ms, reason)
             VALUES (?1, ?2, ?3, 0, 0, ?4, 'cli', 0, 'initial')",
            rusqlite::params![
                release as i64,
                served.created_at,
                served.expires_at,
                fraudshield_core::release::keys::sha256(&served.bytes).to_vec()
            ],
        )?;
        let (id, token) = auth::create(&tx, Role::Admin, "admin", None, now)?;
        audit::append(
            &tx,
            &audit::AuditRecord {
                at: now,
                token_id: "cli",
                actor: "cli",
                request_id: None,
                action: "init",
                key: None,
                proposal_id: None,
                release: Some(release),
                reason: None,
                tips: &[],
                single_reviewer: false,
                detail: Some(serde_json::json!({"admin_token_id": id, "list_id": config.list_id})),
            },
        )?;
        tx.commit()?;
        Ok(token)
    })?;
    Ok(Initialized {
        trust_file: dir.trust_file(),
        admin_token,
        release,
    })
}
