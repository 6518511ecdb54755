//! Tip intake with **group commit**: one writer thread, many tips per transaction, every tip
//! acknowledged only after the transaction holding it is on disk.
//!
//! ## Why
//! Each SQLite commit in WAL mode with `synchronous = FULL` ends with an fsync of the WAL
//! ([`crate::db`]). One transaction per tip makes intake as fast as the disk can fsync, and
//! concurrent requests fight over the write lock (SQLite's busy handler sleeps between
//! retries). Here the handlers never write: they hand their tip to the [`Intake`] queue and
//! await their own answer, while one thread takes everything waiting (up to
//! `intake.max_batch` tips), records it with [`tips::record_batch`] in one `BEGIN IMMEDIATE`
//! transaction, commits (one fsync), and only then answers each tip's request. A tip is never
//! acknowledged before its commit returned; a crash before that loses only tips nobody was
//! told were stored.
//!
//! ## Semantics kept
//! Tips are applied in arrival order, each in its own savepoint, so the evidence rule (one tip
//! per client per identifier per merge window; repeats merged) holds inside a batch as across
//! batches: two tips of one batch from the same client about the same identifier merge, and
//! both requests get the first tip's tracking id.
//!
//! ## Backpressure
//! The queue is bounded (`intake.queue_capacity`). When it is full the tip is refused at once
//! with `503` and `Retry-After: 1` (code `intake_busy`), never buffered without bound. If the
//! commit itself fails, every request of that batch gets `503` (`tip_store_unavailable`) and
//! nothing of the batch is stored; the detail is logged once.

use crate::db;
use crate::error::{AppError, AppResult};
use crate::tips::{self, NewTip, Pending, Recorded};
use rusqlite::Connection;
use std::path::Path;
use tokio::sync::{mpsc, oneshot};

/// One tip in the queue, with the way back to its request.
struct Job {
    pending: Pending,
    reply: oneshot::Sender<AppResult<Recorded>>,
}

/// The intake queue (cheap to share: the handlers hold it through the app state).
#[derive(Debug)]
pub struct Intake {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// The writer side of an [`Intake`]: owns the connection, runs on its own thread.
#[derive(Debug)]
pub struct Writer {
    conn: Connection,
    queue: mpsc::Receiver<Job>,
    merge_window: i64,
    max_batch: usize,
}

/// Builds the queue (at most `capacity` tips waiting) and its writer, which takes at most
/// `max_batch` tips per transaction. The writer does nothing until [`Writer::spawn`] or
/// [`Writer::run`]. Opens a database connection: blocking.
pub fn channel(
    database: &Path,
    capacity: usize,
    max_batch: usize,
    merge_window: i64,
) -> rusqlite::Result<(Intake, Writer)> {
    let conn = db::connect(database)?;
    let (tx, rx) = mpsc::channel(capacity.max(1));
    Ok((
        Intake { queue: tx },
        Writer {
            conn,
            queue: rx,
            merge_window,
            max_batch: max_batch.max(1),
        },
    ))
}

/// A tip handed to the queue; await [`Enqueued::recorded`] for its outcome.
#[derive(Debug)]
pub struct Enqueued(oneshot::Receiver<AppResult<Recorded>>);

impl Enqueued {
    /// Waits until the tip's batch is committed (or failed).
    pub async fn recorded(self) -> AppResult<Recorded> {
        self.0.await.unwrap_or_else(|_| {
            Err(AppError::internal(
                "the tip writer stopped before answering",
            ))
        })
    }
}

/// The error of a full queue: `503 intake_busy` with `Retry-After: 1`.
pub fn busy() -> AppError {
    AppError::unavailable(
        "intake_busy",
        1,
        "too many tips are waiting to be stored; retry shortly",
    )
}

impl Intake {
    /// Whether the queue has no room right now (checked before the rate limits, so a refused
    /// tip does not spend the client's allowance).
    pub fn is_full(&self) -> bool {
        self.queue.capacity() == 0
    }

    /// Queues a tip received at `now`, answer due at `due_at`, without waiting: `503
    /// intake_busy` when the queue is full.
    pub fn enqueue(&self, tip: NewTip, now: i64, due_at: i64) -> AppResult<Enqueued> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            pending: Pending { tip, now, due_at },
            reply,
        };
        match self.queue.try_send(job) {
            Ok(()) => Ok(Enqueued(answer)),
            Err(mpsc::error::TrySendError::Full(_)) => Err(busy()),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                Err(AppError::internal("the tip writer has stopped"))
            }
        }
    }

    /// Queues a tip and waits until it is durable: the tracking id, or why not.
    pub async fn record(&self, tip: NewTip, now: i64, due_at: i64) -> AppResult<Recorded> {
        self.enqueue(tip, now, due_at)?.recorded().await
    }
}

impl Writer {
    /// Runs the writer on a thread of its own (named `tip-writer`) until every [`Intake`]
    /// handle is dropped and the queue is drained.
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("tip-writer".into())
            .spawn(move || self.run())
    }

    /// The writer loop, on the calling thread (blocking; never call it from async code).
    pub fn run(mut self) {
        let mut batch: Vec<Job> = Vec::with_capacity(self.max_batch);
        while let Some(job) = self.queue.blocking_recv() {
            batch.push(job);
            while batch.len() < self.max_batch {
                match self.queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.commit(&mut batch);
        }
    }

    /// Records `batch` in one transaction and answers each request.
    fn commit(&mut self, batch: &mut Vec<Job>) {
        let pending: Vec<Pending> = batch.iter().map(|j| j.pending.clone()).collect();
        match tips::record_batch(&mut self.conn, &pending, self.merge_window) {
            Ok(results) => {
                for (job, result) in batch.drain(..).zip(results) {
                    // A request that gave up (timeout, closed connection) no longer listens.
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                // Logged once for the batch (the detail names no tip content).
                tracing::error!(tips = batch.len(), "storing a batch of tips failed: {e}");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(AppError::unavailable(
                        "tip_store_unavailable",
                        1,
                        "the tip could not be stored; retry shortly",
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::StatusCode;
    use fraudshield_core::entry::Category;
    use fraudshield_core::identifier::normalize;
    use fraudshield_core::kind::Kind;

    fn db() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let mut c = db::connect(&path).unwrap();
        crate::schema::migrate(&mut c).unwrap();
        (dir, path)
    }

    fn tip(number: &str, client: u8) -> NewTip {
        NewTip {
            key: normalize(Kind::Phone, number).unwrap().key(),
            category: Category::Refund,
            text: "asked for a refund fee".into(),
            contact: None,
            client_key: [client; 32],
            token_id: "t1".into(),
        }
    }

    fn count(path: &Path) -> (i64, i64) {
        db::connect(path)
            .unwrap()
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(repeats), 0) FROM tips",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    #[tokio::test]
    async fn repeats_inside_one_batch_merge_and_others_count() {
        let (_dir, path) = db();
        let (intake, writer) = channel(&path, 16, 16, 900).unwrap();
        // Everything is queued before the writer starts, so it lands in one batch.
        let a = intake.enqueue(tip("13800138000", 1), 1000, 5000).unwrap();
        let b = intake.enqueue(tip("13800138000", 1), 1001, 5001).unwrap();
        let c = intake.enqueue(tip("13800138000", 2), 1002, 5002).unwrap();
        let d = intake.enqueue(tip("13900139000", 1), 1003, 5003).unwrap();
        let thread = writer.spawn().unwrap();
        let (a, b, c, d) = (
            a.recorded().await.unwrap(),
            b.recorded().await.unwrap(),
            c.recorded().await.unwrap(),
            d.recorded().await.unwrap(),
        );
        assert!(!a.merged && b.merged && !c.merged && !d.merged);
        assert_eq!(a.tracking_id, b.tracking_id);
        assert_ne!(a.tracking_id, c.tracking_id);
        assert_ne!(a.tracking_id, d.tracking_id);
        assert_eq!(count(&path), (3, 1));
        drop(intake);
        thread.join().unwrap();
    }

    #[tokio::test]
    async fn a_full_queue_refuses_with_503_and_retry_after() {
        let (_dir, path) = db();
        let (intake, writer) = channel(&path, 2, 16, 900).unwrap();
        let first = intake.enqueue(tip("13800138001", 1), 1000, 5000).unwrap();
        let second = intake.enqueue(tip("13800138002", 1), 1000, 5000).unwrap();
        assert!(intake.is_full());
        let e = intake
            .enqueue(tip("13800138003", 1), 1000, 5000)
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.code(), "intake_busy");
        let resp = axum::response::IntoResponse::into_response(e);
        assert_eq!(resp.headers()[axum::http::header::RETRY_AFTER], "1");
        let thread = writer.spawn().unwrap();
        first.recorded().await.unwrap();
        second.recorded().await.unwrap();
        assert_eq!(count(&path).0, 2);
        drop(intake);
        thread.join().unwrap();
    }

    #[tokio::test]
    async fn a_batch_larger_than_max_batch_is_split_and_all_answered() {
        let (_dir, path) = db();
        let (intake, writer) = channel(&path, 64, 4, 900).unwrap();
        let waiting: Vec<Enqueued> = (0..10u8)
            .map(|i| {
                intake
                    .enqueue(tip(&format!("1380013800{i}"), i), 1000, 5000)
                    .unwrap()
            })
            .collect();
        let thread = writer.spawn().unwrap();
        for w in waiting {
            assert!(!w.recorded().await.unwrap().merged);
        }
        assert_eq!(count(&path), (10, 0));
        drop(intake);
        thread.join().unwrap();
    }

    #[tokio::test]
    async fn a_tip_that_fails_alone_takes_nothing_of_its_batch_with_it() {
        let (_dir, path) = db();
        let (intake, writer) = channel(&path, 16, 16, 900).unwrap();
        // Make the database refuse one kind of tip.
        db::connect(&path)
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON tips WHEN NEW.category = 'loan'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let a = intake.enqueue(tip("13800138000", 1), 1000, 5000).unwrap();
        let bad = NewTip {
            category: Category::Loan,
            ..tip("13800138001", 1)
        };
        let b = intake.enqueue(bad, 1000, 5000).unwrap();
        let c = intake.enqueue(tip("13800138002", 1), 1000, 5000).unwrap();
        let thread = writer.spawn().unwrap();
        assert!(a.recorded().await.is_ok());
        let e = b.recorded().await.unwrap_err();
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(c.recorded().await.is_ok());
        assert_eq!(count(&path), (2, 0));
        drop(intake);
        thread.join().unwrap();
    }
}
