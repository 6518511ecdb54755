//! Releases: cutting the next one from approved proposals with core's
//! [`Publisher`](fraudshield_core::release::publisher::Publisher), and the manifest being
//! served.
//!
//! ## One publish, crash-safe
//! Publishes (and freshness refreshes) run one at a time under one lock, on a blocking
//! thread:
//!
//! 1. finish or discard any publish a crash interrupted (below);
//! 2. read the approved, unpublished proposals; veto (mark `vetoed`, audited) any that would
//!    now list a protected number, and any that core's publisher would refuse
//!    ([`Publisher::preview`]: `rules::check_change` at the publish level), so one refused
//!    change never blocks the others;
//! 3. record a **publish intent** (release number + proposal ids) and commit;
//! 4. `Publisher::publish`: artifacts, publisher state, then the signed manifest, each file
//!    written atomically (core's order); on failure the publisher is reopened from disk;
//! 5. hand the release to the [`ReleaseSink`] (an object store: artifacts, then the manifest);
//! 6. in one transaction: proposals → `published`, the `entries` table, the `releases` row,
//!    the audit row, and the intent deleted;
//! 7. swap the served manifest.
//!
//! A crash before the manifest is written leaves the previous release served and the
//! proposals approved and pending (the intent is discarded at the next start; a release number
//! may be skipped, which clients accept). A crash after the manifest but before step 6 is
//! finished at the next start: the manifest on disk names the intent's release, so its
//! proposals are marked published then.
//!
//! A failure in step 5 does not undo the local release: steps 6 and 7 still run, then the
//! publish returns 502 `object_store_failed` (the object store still serves the previous
//! release) and [`sync_sink`], run by the background job once a minute, retries the upload
//! until the copy holds the served release (and its latest re-signed manifest).
//!
//! ## Preview
//! [`preview`] shows exactly what core's publisher would do with the approved changes: it runs
//! [`Publisher::preview`] on them (no second implementation of the rules), lists the changes
//! it refuses with core's reason, and counts what the others add, change and remove.
//!
//! ## Freshness
//! A manifest expires `publish.validity_secs` after it is signed. [`refresh_if_due`] re-signs
//! the served release with [`Publisher::resign`] when less than `publish.refresh_before_secs`
//! remain: the same release, state digest and artifacts under a fresh manifest (no release is
//! cut, approved changes keep waiting for a publisher; the release history is unchanged, an
//! audit row `refresh` records it). `/healthz` fails when less than
//! `publish.alert_before_secs` remain.
//!
//! ## Publish duration
//! Every release cut records its wall time in the `releases` table, whoever cut it (the HTTP
//! API, the console, the admin `publish` command in its own process, a key rotation);
//! `fraudshield_publish_duration_seconds` is read from there at scrape time. A re-sign is not a
//! publish (no artifacts, milliseconds) and is not counted; the manifest age gauges show it.

use crate::app::App;
use crate::audit::{self, AuditRecord};
use crate::auth::Caller;
use crate::calendar::Calendar;
use crate::db::immediate;
use crate::error::{AppError, AppResult};
use crate::ident::{IdentifierView, key_from_db};
use crate::review::{self, Action, Entry};
use fraudshield_core::entry::{Category, Change, Risk};
use fraudshield_core::hex::encode as hex;
use fraudshield_core::key::Key;
use fraudshield_core::release::keys::{SigningKey, sha256};
use fraudshield_core::release::manifest::{ArtifactKind, Manifest};
use fraudshield_core::release::publisher::{PublishConfig, Publisher};
use fraudshield_core::release::signed::Bundle;
use fraudshield_core::rules::Protected;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// Where a cut release goes besides the local directory: an object store that a CDN fronts
/// ([`crate::objectstore::ObjectStoreSink`]).
pub trait ReleaseSink: Send + Sync + std::fmt::Debug {
    /// Called (on a blocking thread, with the publish lock held) after `manifest`'s release
    /// was written under `dir` (artifacts at the relative paths the manifest names, the bundle
    /// at `v1/manifest`). Copy the artifacts first and the manifest last, so a failure leaves
    /// the copy's previous manifest in place. An error fails the publish loudly after the
    /// local release is recorded; [`sync_sink`] retries.
    fn release_written(&self, dir: &Path, manifest: &Manifest) -> Result<(), String>;

    /// What the copy holds, as far as this process knows.
    fn copy(&self) -> SinkCopy {
        SinkCopy::NotKept
    }
}

/// What a [`ReleaseSink`]'s copy holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkCopy {
    /// No copy is kept: the local directory is all there is.
    NotKept,
    /// Nothing confirmed yet by this process (it uploads the served release at start).
    Unknown,
    /// The copy serves this release.
    Holds {
        /// The release.
        release: u64,
        /// When its manifest expires (Unix seconds).
        expires_at: i64,
    },
}

impl SinkCopy {
    /// Whether the copy should be brought up to `release`.
    pub fn behind(self, release: u64) -> bool {
        match self {
            SinkCopy::NotKept => false,
            SinkCopy::Unknown => true,
            SinkCopy::Holds { release: r, .. } => r < release,
        }
    }

    /// Whether the copy should be brought up to `release` signed to expire at `expires_at`: it
    /// is [`behind`](SinkCopy::behind), or holds that release under an older manifest (a
    /// re-sign whose upload failed: the copy would expire first).
    pub fn older_than(self, release: u64, expires_at: i64) -> bool {
        match self {
            SinkCopy::Holds {
                release: r,
                expires_at: e,
            } if r == release => e < expires_at,
            copy => copy.behind(release),
        }
    }
}

/// The default sink: the local directory is all there is.
#[derive(Debug, Default)]
pub struct LocalOnly;

impl ReleaseSink for LocalOnly {
    fn release_written(&self, _dir: &Path, _manifest: &Manifest) -> Result<(), String> {
        Ok(())
    }
}

/// The manifest being served, with what the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct ServedManifest {
    /// The bundle bytes.
    pub bytes: axum::body::Bytes,
    /// `"<hex>"`: the first 16 bytes of its SHA-256.
    pub etag: String,
    /// Its release.
    pub release: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Entries in the list.
    pub entry_count: u64,
}

impl ServedManifest {
    /// Reads `<dir>/v1/manifest`.
    pub fn load(dir: &Path) -> AppResult<Option<ServedManifest>> {
        let path = dir.join("v1").join("manifest");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let bundle = Bundle::decode(&bytes)
            .map_err(|e| AppError::internal(format_args!("served manifest: {e}")))?;
        let m = Manifest::decode(&bundle.manifest.payload)
            .map_err(|e| AppError::internal(format_args!("served manifest: {e}")))?;
        Ok(Some(ServedManifest {
            etag: format!("\"{}\"", hex(&sha256(&bytes)[..16])),
            bytes: bytes.into(),
            release: m.release,
            created_at: m.created_at,
            expires_at: m.expires_at,
            entry_count: m.entry_count,
        }))
    }
}

/// The publishing side of the server: the publisher, the key, the served manifest.
#[derive(Debug)]
pub struct Releases {
    dir: PathBuf,
    signers: Vec<SigningKey>,
    publisher: Mutex<Publisher>,
    protected: Protected,
    served: RwLock<Option<Arc<ServedManifest>>>,
    sink: Arc<dyn ReleaseSink>,
}

/// Why publishing was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishKind {
    /// A publisher cut a release from approved changes.
    Publish,
    /// An empty release with no change (a key rotation signs one with the new key).
    Refresh,
    /// `init`: the empty first release.
    Initial,
}

impl PublishKind {
    fn as_str(self) -> &'static str {
        match self {
            PublishKind::Publish => "publish",
            PublishKind::Refresh => "refresh",
            PublishKind::Initial => "initial",
        }
    }
}

/// One change in a preview or a publish report.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PendingChange {
    /// The proposal.
    pub proposal_id: i64,
    /// Add, change or revoke.
    pub action: Action,
    /// An appeal.
    pub appeal: bool,
    /// Which identifier.
    pub identifier: IdentifierView,
    /// Category (add, change).
    #[schema(value_type = Option<String>)]
    pub category: Option<Category>,
    /// Risk (add, change).
    #[schema(value_type = Option<String>)]
    pub risk: Option<Risk>,
    /// Distinct reporters (add, change): stored as a log-scale bucket on phones.
    pub reports: Option<u32>,
}

/// An approved change core's publisher refuses: publishing vetoes it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefusedChange {
    /// The change.
    #[serde(flatten)]
    pub change: PendingChange,
    /// Core's reason (never the identifier).
    pub reason: String,
}

/// What the next release would hold: core's [`Publisher::preview`] of the approved changes.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Preview {
    /// The release being served.
    pub current_release: u64,
    /// The number the next release gets (at least; a crash may skip one).
    pub next_release: u64,
    /// Entries listed now.
    pub entries_now: u64,
    /// The changes the release will carry (core accepts them).
    pub changes: Vec<PendingChange>,
    /// Approved proposals that a publish would veto (protected numbers).
    pub vetoed: Vec<i64>,
    /// Approved changes core's publisher refuses, with its reason: a publish vetoes them.
    pub refused: Vec<RefusedChange>,
    /// Identifiers the release adds (core's count).
    pub added: u64,
    /// Identifiers whose entry it changes.
    pub changed: u64,
    /// Identifiers it takes off the list.
    pub removed: u64,
    /// Changes that change nothing (the same value again, a removal of an absent entry).
    pub unchanged: u64,
    /// Entries on the list after it.
    pub entries_after: u64,
}

/// What a publish did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishReport {
    /// The release cut.
    pub release: u64,
    /// Changes it carries.
    pub changes: usize,
    /// Proposals vetoed instead of published.
    pub vetoed: Vec<i64>,
    /// Entries in the list now.
    pub entries: u64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: String,
    /// Wall time of the publish, in milliseconds.
    pub duration_ms: u64,
}

struct Planned {
    changes: Vec<(PendingChange, Change)>,
    vetoed: Vec<(i64, Vec<u8>)>,
}

fn plan(conn: &Connection, app: &App) -> AppResult<Planned> {
    let mut st = conn.prepare(
        "SELECT id, action, appeal, key, prefix, category, risk, reports FROM proposals
         WHERE status = 'approved' AND release IS NULL ORDER BY reviewed_at, id",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<u32>>(7)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut planned = Planned {
        changes: Vec::new(),
        vetoed: Vec::new(),
    };
    for (id, action, appeal, key_bytes, prefix, category, risk, batch_reports) in rows {
        let key = key_from_db(&key_bytes)?;
        let identifier = IdentifierView::of(&key, prefix);
        if action == "revoke" {
            planned.changes.push((
                PendingChange {
                    proposal_id: id,
                    action: Action::Revoke,
                    appeal,
                    identifier,
                    category: None,
                    risk: None,
                    reports: None,
                },
                Change::Remove(key),
            ));
            continue;
        }
        if app.protected.vetoes(&key, prefix) {
            planned.vetoed.push((id, key_bytes));
            continue;
        }
        let category: Category = category
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| AppError::internal("approved proposal without category"))?;
        let risk: Risk = risk
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| AppError::internal("approved proposal without risk"))?;
        let (value, reports) =
            review::entry_value(conn, &key, category, risk, prefix, batch_reports)?;
        planned.changes.push((
            PendingChange {
                proposal_id: id,
                action: if action == "add" {
                    Action::Add
                } else {
                    Action::Change
                },
                appeal,
                identifier,
                category: Some(category),
                risk: Some(risk),
                reports: Some(reports),
            },
            Change::Upsert(key, value),
        ));
    }
    Ok(planned)
}

/// The planned changes as core's publisher sees them.
struct Screened {
    /// What it accepts.
    accepted: Vec<(PendingChange, Change)>,
    /// What it refuses, with its reason.
    refused: Vec<(RefusedChange, Change)>,
    /// Its counts for the accepted ones.
    verdict: fraudshield_core::release::publisher::Preview,
}

/// Splits the planned changes into those core's publisher accepts and those it refuses (with
/// its reason), by asking it: [`Publisher::preview`].
fn screen(publisher: &Publisher, planned: Vec<(PendingChange, Change)>) -> Screened {
    let changes: Vec<Change> = planned.iter().map(|(_, c)| c.clone()).collect();
    let verdict = publisher.preview(&changes);
    let mut reasons: std::collections::HashMap<usize, String> = verdict
        .refusals
        .iter()
        .map(|r| (r.index, r.error.to_string()))
        .collect();
    let mut accepted = Vec::with_capacity(planned.len());
    let mut refused = Vec::new();
    for (i, (p, c)) in planned.into_iter().enumerate() {
        match reasons.remove(&i) {
            Some(reason) => refused.push((RefusedChange { change: p, reason }, c)),
            None => accepted.push((p, c)),
        }
    }
    Screened {
        accepted,
        refused,
        verdict,
    }
}

impl Releases {
    /// Opens the publisher in `dir` (written by `init`), loads the served manifest and keeps
    /// `signers` for signing and `protected` for core's publishing rules. Blocking.
    pub fn open(
        dir: &Path,
        signers: Vec<SigningKey>,
        config: PublishConfig,
        protected: Protected,
        sink: Arc<dyn ReleaseSink>,
    ) -> AppResult<Releases> {
        let mut publisher = Publisher::open(dir)
            .map_err(|e| AppError::internal(format_args!("opening the publisher: {e}")))?;
        publisher.set_protected(protected.clone());
        // The publisher saves its configuration; the server's configuration file wins, as an
        // explicit change from the next release on.
        if publisher.config() != config {
            publisher
                .set_config(config)
                .map_err(|e| AppError::internal(format_args!("publisher configuration: {e}")))?;
        }
        let served = ServedManifest::load(dir)?.map(Arc::new);
        Ok(Releases {
            dir: dir.to_path_buf(),
            signers,
            publisher: Mutex::new(publisher),
            protected,
            served: RwLock::new(served),
            sink,
        })
    }

    /// Starts a new list in `dir` and publishes its empty release 1 (used by `init`).
    pub fn create(
        dir: &Path,
        list_id: &str,
        signer: &SigningKey,
        config: PublishConfig,
        now: i64,
    ) -> AppResult<u64> {
        let mut p = Publisher::create(dir, list_id, config)
            .map_err(|e| AppError::internal(format_args!("creating the publisher: {e}")))?;
        p.publish(&[], &[signer], now)
            .map(|report| report.release)
            .map_err(|e| AppError::internal(format_args!("first release: {e}")))
    }

    /// The directory served (`v1/manifest`, `artifacts/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest being served.
    pub fn served(&self) -> Option<Arc<ServedManifest>> {
        self.served.read().ok().and_then(|g| g.clone())
    }

    /// The publisher as on disk, after a failed write (it is all-or-nothing; anything kept
    /// in memory only is dropped), with the protected numbers set again.
    fn reopen(&self, publisher: &mut Publisher) {
        if let Ok(mut p) = Publisher::open(&self.dir) {
            p.set_protected(self.protected.clone());
            *publisher = p;
        }
    }

    fn reload_served(&self) -> AppResult<()> {
        let m = ServedManifest::load(&self.dir)?.map(Arc::new);
        if let Ok(mut g) = self.served.write() {
            *g = m;
        }
        Ok(())
    }
}

/// What the next publish would hold, as core's publisher sees it (blocking).
pub fn preview(app: &App) -> AppResult<Preview> {
    let (planned, entries_now) = app.db.blocking(|conn| {
        let planned = plan(conn, app)?;
        let entries_now =
            conn.query_row("SELECT COUNT(*) FROM entries", [], |r| r.get::<_, i64>(0))? as u64;
        Ok((planned, entries_now))
    })?;
    let served = app.releases.served();
    let current = served.as_ref().map_or(0, |m| m.release);
    let publisher = app
        .releases
        .publisher
        .lock()
        .map_err(|_| AppError::internal("publisher lock poisoned"))?;
    let Screened {
        accepted,
        refused,
        verdict,
    } = screen(&publisher, planned.changes);
    Ok(Preview {
        current_release: current,
        next_release: publisher.release().max(current) + 1,
        entries_now,
        changes: accepted.into_iter().map(|(p, _)| p).collect(),
        vetoed: planned.vetoed.into_iter().map(|(id, _)| id).collect(),
        refused: refused.into_iter().map(|(r, _)| r).collect(),
        added: verdict.added,
        changed: verdict.changed,
        removed: verdict.removed,
        unchanged: verdict.unchanged,
        entries_after: verdict.entries_after,
    })
}

/// Cuts the next release (blocking; see the module docs). `Publish` needs at least one change;
/// `Refresh` publishes no change at all.
pub fn publish(
    app: &App,
    caller: &Caller,
    kind: PublishKind,
    reason: Option<&str>,
) -> AppResult<PublishReport> {
    let started = Instant::now();
    let rel = &app.releases;
    let mut publisher = rel
        .publisher
        .lock()
        .map_err(|_| AppError::internal("publisher lock poisoned"))?;
    recover_locked(app, &mut publisher)?;
    let now = app.clock.now();
    let mut planned = if kind == PublishKind::Publish {
        app.db.blocking(|c| plan(c, app))?
    } else {
        Planned {
            changes: Vec::new(),
            vetoed: Vec::new(),
        }
    };
    // What core's publisher would refuse is vetoed like a protected number, with its reason:
    // one refused change must not block every other approved change.
    let Screened {
        accepted, refused, ..
    } = screen(&publisher, std::mem::take(&mut planned.changes));
    planned.changes = accepted;
    let mut vetoes: Vec<(i64, Vec<u8>, String)> = planned
        .vetoed
        .iter()
        .map(|(id, key)| {
            (
                *id,
                key.clone(),
                "protected number: refused at publish".to_owned(),
            )
        })
        .collect();
    for (r, change) in &refused {
        let key = match change {
            Change::Upsert(k, _) | Change::Remove(k) => k.as_bytes().to_vec(),
        };
        vetoes.push((
            r.change.proposal_id,
            key,
            format!("refused at publish by the publishing rules: {}", r.reason),
        ));
        planned.vetoed.push((r.change.proposal_id, Vec::new()));
    }
    if !vetoes.is_empty() {
        app.db.blocking(|conn| {
            let tx = immediate(conn)?;
            for (id, key, reason) in &vetoes {
                tx.execute(
                    "UPDATE proposals SET status = 'vetoed' WHERE id = ?1",
                    params![id],
                )?;
                audit::append(
                    &tx,
                    &AuditRecord {
                        action: "veto",
                        key: Some(key),
                        proposal_id: Some(*id),
                        reason: Some(reason),
                        ..AuditRecord::by(caller, now)
                    },
                )?;
            }
            tx.commit()?;
            Ok(())
        })?;
    }
    if kind == PublishKind::Publish && planned.changes.is_empty() {
        return Err(AppError::conflict(
            "nothing_to_publish",
            "no approved change is waiting to be published",
        ));
    }
    let release = publisher.release() + 1;
    let ids: Vec<i64> = planned.changes.iter().map(|(p, _)| p.proposal_id).collect();
    app.db.blocking(|conn| {
        conn.execute(
            "INSERT OR REPLACE INTO publish_intents(release, proposal_ids, started_at) VALUES (?1, ?2, ?3)",
            params![release as i64, serde_json::to_string(&ids).unwrap_or_default(), now],
        )?;
        Ok(())
    })?;
    crate::failpoint::hit("publish:intent");
    let changes: Vec<Change> = planned.changes.iter().map(|(_, c)| c.clone()).collect();
    let signers: Vec<&SigningKey> = rel.signers.iter().collect();
    // `Publisher::publish` is `prepare` (artifacts, list, state: its commit point) then sign
    // and write the manifest; called in two steps so a crash test can stop between them.
    let cut = publisher.prepare(&changes, now).and_then(|manifest| {
        crate::failpoint::hit("publish:prepared");
        publisher
            .sign_and_write(&manifest, &signers)
            .map(|_| manifest.release)
    });
    let cut = match cut {
        Ok(release) => release,
        Err(e) => {
            rel.reopen(&mut publisher);
            let _ = app.db.blocking(|c| {
                c.execute(
                    "DELETE FROM publish_intents WHERE release = ?1",
                    params![release as i64],
                )?;
                Ok(())
            });
            return Err(AppError::internal(format_args!("publishing failed: {e}")));
        }
    };
    crate::failpoint::hit("publish:manifest");
    let served = ServedManifest::load(&rel.dir)?
        .ok_or_else(|| AppError::internal("the manifest just written is missing"))?;
    let copied = copy_to_sink(rel, cut);
    let duration_ms = started.elapsed().as_millis() as u64;
    let entries = app.db.blocking(|conn| {
        let tx = immediate(conn)?;
        finalize(
            &tx,
            app,
            caller,
            Finalize {
                release: cut,
                intent_release: release,
                ids: &ids,
                served: &served,
                kind,
                reason,
                duration_ms,
                vetoed: planned.vetoed.len(),
            },
        )?;
        let n = tx.query_row("SELECT COUNT(*) FROM entries", [], |r| r.get::<_, i64>(0))? as u64;
        tx.commit()?;
        Ok(n)
    })?;
    crate::failpoint::hit("publish:finalized");
    rel.reload_served()?;
    copied?;
    Ok(PublishReport {
        release: cut,
        changes: ids.len(),
        vetoed: planned.vetoed.into_iter().map(|(id, _)| id).collect(),
        entries,
        created_at: Calendar::rfc3339(served.created_at),
        expires_at: Calendar::rfc3339(served.expires_at),
        duration_ms,
    })
}

/// Step 5: hands the release on disk to the sink. The error (for after step 7) says what
/// happened without the store's detail, which was logged.
fn copy_to_sink(rel: &Releases, release: u64) -> AppResult<()> {
    let manifest = std::fs::read(rel.dir.join("v1").join("manifest"))
        .ok()
        .and_then(|bytes| Bundle::decode(&bytes).ok())
        .and_then(|bundle| Manifest::decode(&bundle.manifest.payload).ok())
        .ok_or_else(|| AppError::internal("the manifest just written is unreadable"))?;
    rel.sink.release_written(&rel.dir, &manifest).map_err(|e| {
        tracing::error!(release, "copying the release to the object store failed: {e}");
        AppError::bad_gateway(
            "object_store_failed",
            format!(
                "release {release} is cut and served by this server, but copying it to the object store failed \
                 (it still serves the previous release); the upload is retried every minute and by the next publish"
            ),
        )
    })
}

/// Brings the sink's copy up to the served release when it is behind (a failed upload, or
/// the first run after start); returns the release copied, if any. Blocking; run by the
/// background job.
pub fn sync_sink(app: &App) -> AppResult<Option<u64>> {
    let rel = &app.releases;
    // The publish lock keeps uploads in release order. A publish running now uploads its
    // own release: skip this round rather than wait for it.
    let _publisher = match rel.publisher.try_lock() {
        Ok(p) => p,
        Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
        Err(std::sync::TryLockError::Poisoned(_)) => {
            return Err(AppError::internal("publisher lock poisoned"));
        }
    };
    let Some(served) = rel.served() else {
        return Ok(None);
    };
    if !rel
        .sink
        .copy()
        .older_than(served.release, served.expires_at)
    {
        return Ok(None);
    }
    copy_to_sink(rel, served.release)?;
    Ok(Some(served.release))
}

impl Releases {
    /// What the sink's copy holds.
    pub fn sink_copy(&self) -> SinkCopy {
        self.sink.copy()
    }
}

struct Finalize<'a> {
    release: u64,
    intent_release: u64,
    ids: &'a [i64],
    served: &'a ServedManifest,
    kind: PublishKind,
    reason: Option<&'a str>,
    duration_ms: u64,
    vetoed: usize,
}

/// action, key, prefix, category, risk, batch reports
type ApprovedRow = (
    String,
    Vec<u8>,
    bool,
    Option<String>,
    Option<String>,
    Option<u32>,
);

/// What phones download for one release, recorded with it for the release history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArtifactSizes {
    /// Bytes of the delta from the previous release.
    pub delta: Option<u64>,
    /// Bytes of the snapshot, when this release cut one.
    pub snapshot: Option<u64>,
}

impl ArtifactSizes {
    /// Reads the sizes from the served manifest (they are in its signed artifact list).
    pub fn of(served: &ServedManifest) -> ArtifactSizes {
        let Some(m) = Bundle::decode(&served.bytes)
            .ok()
            .and_then(|b| Manifest::decode(&b.manifest.payload).ok())
        else {
            return ArtifactSizes::default();
        };
        let find = |kind: ArtifactKind, from: u64| {
            m.artifacts
                .iter()
                .find(|a| a.kind == kind && a.from_release == from)
                .map(|a| a.size)
        };
        ArtifactSizes {
            delta: find(ArtifactKind::Delta, m.release.saturating_sub(1)),
            snapshot: find(ArtifactKind::Snapshot, m.release),
        }
    }
}

/// Step 6: records a release whose manifest is on disk.
fn finalize(tx: &Connection, app: &App, caller: &Caller, f: Finalize<'_>) -> AppResult<()> {
    let now = f.served.created_at;
    for id in f.ids {
        let row: Option<ApprovedRow> = tx
            .prepare_cached(
                "SELECT action, key, prefix, category, risk, reports FROM proposals WHERE id = ?1 AND status = 'approved'",
            )?
            .query_row(
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()?;
        let Some((action, key_bytes, prefix, category, risk, batch_reports)) = row else {
            continue;
        };
        let key: Key = key_from_db(&key_bytes)?;
        tx.prepare_cached("UPDATE proposals SET status = 'published', release = ?2 WHERE id = ?1")?
            .execute(params![id, f.release as i64])?;
        if action == "revoke" {
            tx.execute(
                "DELETE FROM entries WHERE key = ?1",
                params![key.as_bytes()],
            )?;
        } else {
            let category: Category = category
                .and_then(|c| c.parse().ok())
                .unwrap_or(Category::Other);
            let risk: Risk = risk.and_then(|c| c.parse().ok()).unwrap_or(Risk::Low);
            let (_, reports) =
                review::entry_value(tx, &key, category, risk, prefix, batch_reports)?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO entries(key, category, risk, reports, prefix, release, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![key.as_bytes(), category.as_str(), risk.as_str(), reports, prefix, f.release as i64, now],
            )?;
        }
    }
    let entries = tx.query_row("SELECT COUNT(*) FROM entries", [], |r| r.get::<_, i64>(0))? as u64;
    let sizes = ArtifactSizes::of(f.served);
    tx.execute(
        "INSERT OR REPLACE INTO releases(release, created_at, expires_at, changes, entries, manifest_sha256, published_by, duration_ms, reason, delta_bytes, snapshot_bytes, manifest_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            f.release as i64,
            f.served.created_at,
            f.served.expires_at,
            f.ids.len() as i64,
            entries as i64,
            sha256(&f.served.bytes).to_vec(),
            caller.token_id,
            f.duration_ms as i64,
            f.kind.as_str(),
            sizes.delta.map(|v| v as i64),
            sizes.snapshot.map(|v| v as i64),
            f.served.bytes.len() as i64
        ],
    )?;
    audit::append(
        tx,
        &AuditRecord {
            action: f.kind.as_str(),
            release: Some(f.release),
            reason: f.reason,
            detail: Some(serde_json::json!({
                "changes": f.ids.len(),
                "proposals": f.ids,
                "vetoed": f.vetoed,
                "entries": entries,
                "duration_ms": f.duration_ms,
            })),
            ..AuditRecord::by(caller, app.clock.now())
        },
    )?;
    tx.execute(
        "DELETE FROM publish_intents WHERE release <= ?1",
        params![f.intent_release.max(f.release) as i64],
    )?;
    Ok(())
}

/// Finishes or discards publishes a crash interrupted (see the module docs). Runs at start
/// and before every publish.
pub fn recover(app: &App) -> AppResult<()> {
    let mut publisher = app
        .releases
        .publisher
        .lock()
        .map_err(|_| AppError::internal("publisher lock poisoned"))?;
    recover_locked(app, &mut publisher)
}

fn recover_locked(app: &App, _publisher: &mut Publisher) -> AppResult<()> {
    let intents: Vec<(i64, String)> = app.db.blocking(|c| {
        let mut st =
            c.prepare("SELECT release, proposal_ids FROM publish_intents ORDER BY release")?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })?;
    if intents.is_empty() {
        return Ok(());
    }
    let served = ServedManifest::load(&app.releases.dir)?;
    let system = Caller {
        token_id: "system".into(),
        name: "recovery".into(),
        role: crate::auth::Role::Publisher,
        request_id: None,
    };
    for (release, ids) in intents {
        let ids: Vec<i64> = serde_json::from_str(&ids).unwrap_or_default();
        let written = served.as_ref().filter(|m| m.release >= release as u64);
        app.db.blocking(|conn| {
            let tx = immediate(conn)?;
            match written {
                Some(m) => {
                    tracing::warn!(release, "finishing a publish interrupted after its manifest was written");
                    finalize(
                        &tx,
                        app,
                        &system,
                        Finalize {
                            release: m.release,
                            intent_release: release as u64,
                            ids: &ids,
                            served: m,
                            kind: PublishKind::Publish,
                            reason: Some("recovered after an interrupted publish"),
                            duration_ms: 0,
                            vetoed: 0,
                        },
                    )?;
                }
                None => {
                    tracing::warn!(release, "discarding a publish interrupted before its manifest: its changes stay approved");
                    tx.execute(
                        "DELETE FROM publish_intents WHERE release = ?1",
                        params![release],
                    )?;
                }
            }
            tx.commit()?;
            Ok(())
        })?;
    }
    app.releases.reload_served()
}

/// Re-signs the served release ([`resign`]) when its manifest expires within
/// `publish.refresh_before_secs`; returns the release re-signed, if it was due.
pub fn refresh_if_due(app: &App) -> AppResult<Option<u64>> {
    let now = app.clock.now();
    let due = app
        .releases
        .served()
        .is_none_or(|m| m.expires_at - now < app.config.publish.refresh_before_secs);
    if !due {
        return Ok(None);
    }
    let system = Caller {
        token_id: "system".into(),
        name: "freshness".into(),
        role: crate::auth::Role::Publisher,
        request_id: None,
    };
    resign(
        app,
        &system,
        "manifest close to expiry: re-signed with no change",
    )
    .map(Some)
}

/// Signs a fresh manifest for the served release with core's [`Publisher::resign`] (blocking):
/// the same release, digest and artifacts, new creation and expiry times. Written like a
/// publish (manifest atomically, then the sink), audited as `refresh`; no release is cut.
pub fn resign(app: &App, caller: &Caller, reason: &str) -> AppResult<u64> {
    let rel = &app.releases;
    let mut publisher = rel
        .publisher
        .lock()
        .map_err(|_| AppError::internal("publisher lock poisoned"))?;
    recover_locked(app, &mut publisher)?;
    let now = app.clock.now();
    let signers: Vec<&SigningKey> = rel.signers.iter().collect();
    let report = match publisher.resign(&signers, now) {
        Ok(r) => r,
        Err(e) => {
            rel.reopen(&mut publisher);
            return Err(AppError::internal(format_args!("re-signing failed: {e}")));
        }
    };
    let copied = copy_to_sink(rel, report.release);
    rel.reload_served()?;
    app.db.blocking(|conn| {
        let tx = immediate(conn)?;
        audit::append(
            &tx,
            &AuditRecord {
                action: "refresh",
                release: Some(report.release),
                reason: Some(reason),
                detail: Some(serde_json::json!({
                    "expires_at": Calendar::rfc3339(report.expires_at),
                })),
                ..AuditRecord::by(caller, now)
            },
        )?;
        tx.commit()?;
        Ok(())
    })?;
    copied?;
    Ok(report.release)
}

/// The listed entry as of the last release (for the console and the queue).
pub fn entry(conn: &Connection, key: &Key) -> AppResult<Option<Entry>> {
    review::current_entry(conn, key)
}
