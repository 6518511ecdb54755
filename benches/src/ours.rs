//! fraudshield's own store and wire format, measured the way the report measures the
//! alternatives.
//!
//! Every figure is a `Result`: `Err` carries the reason it is not measured (for example the
//! store or the wire format is not in this build yet), and the report prints it as pending.

use crate::alternatives::Lookup;
use crate::synth::{Blocklist, Dressed};
use crate::timing::{self, Latency};
use fraudshield_core::entry::{Change, EntryValue};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::release::keys::{SigningKey, sha256};
use fraudshield_core::release::wire::{self, Limits, WireHeader, WireKind};
use fraudshield_core::snapshot;
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::verdict::{Direction, Source};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What [`measure`] runs on.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The list.
    pub list: &'a Blocklist,
    /// Keys on the list.
    pub present: &'a [Key],
    /// Phone keys nothing on the list flags.
    pub absent: &'a [Key],
    /// Mobile keys only a prefix rule flags.
    pub prefix: &'a [Key],
    /// Raw dressed phone numbers.
    pub dressed: &'a [Dressed],
    /// A 1% delta against the list.
    pub changes: &'a [Change],
    /// Time budget per timed figure.
    pub budget: Duration,
}

/// A figure, or the reason it was not measured.
pub type Measured<T> = Result<T, String>;

/// Everything measured on our side. `Err` = not measured, with the reason.
#[derive(Debug, Clone)]
pub struct Figures {
    /// Check of present keys (pre-normalized).
    pub present: Result<Latency, String>,
    /// Check of absent keys (pre-normalized).
    pub absent: Result<Latency, String>,
    /// Check of keys only a prefix rule flags.
    pub prefix: Result<Latency, String>,
    /// Normalize a raw dressed number and check it.
    pub raw: Result<Latency, String>,
    /// Bytes of the snapshot file on disk.
    pub snapshot_bytes: Result<f64, String>,
    /// Building the snapshot file from the sorted list, in ms.
    pub snapshot_build_ms: Result<f64, String>,
    /// Opening a store this process has not opened yet and answering one check, in ms.
    pub cold_open_ms: Result<f64, String>,
    /// Opening the base snapshot alone: every byte checksummed and every FST node decoded once
    /// (the checks every open pays before the first lookup), in ms.
    pub open_verify_ms: Result<f64, String>,
    /// Applying the 1% delta (verify + durable + live), in ms.
    pub delta_apply_ms: Result<f64, String>,
    /// Folding the overlay into a new base, in ms.
    pub compaction_ms: Result<f64, String>,
    /// Lookup p99 while the delta applies ÷ lookup p99 at rest (same measuring thread).
    pub p99_during_delta_ratio: Result<f64, String>,
    /// Lookup p99 while compaction runs ÷ lookup p99 at rest.
    pub p99_during_compaction_ratio: Result<f64, String>,
    /// Lookup latency at rest, during the delta and during compaction (measuring thread).
    pub concurrent: Result<[Latency; 3], String>,
    /// Bytes of the full snapshot artifact on the wire.
    pub wire_snapshot_bytes: Result<f64, String>,
    /// Bytes of the delta artifact on the wire per changed entry.
    pub wire_delta_bytes_per_change: Result<f64, String>,
    /// Remarks the report prints under the tables.
    pub notes: Vec<String>,
}

impl Figures {
    /// Every figure pending for the same reason.
    pub fn pending(reason: &str) -> Figures {
        fn e<T>(reason: &str) -> Result<T, String> {
            Err(reason.to_string())
        }
        Figures {
            present: e(reason),
            absent: e(reason),
            prefix: e(reason),
            raw: e(reason),
            snapshot_bytes: e(reason),
            snapshot_build_ms: e(reason),
            cold_open_ms: e(reason),
            open_verify_ms: e(reason),
            delta_apply_ms: e(reason),
            compaction_ms: e(reason),
            p99_during_delta_ratio: e(reason),
            p99_during_compaction_ratio: e(reason),
            concurrent: e(reason),
            wire_snapshot_bytes: e(reason),
            wire_delta_bytes_per_change: e(reason),
            notes: Vec::new(),
        }
    }

    /// Lookup table rows: (name, (present, absent) latencies).
    pub fn rows(&self) -> Vec<(String, Measured<(Latency, Latency)>)> {
        let both = |a: &Result<Latency, String>, b: &Result<Latency, String>| match (a, b) {
            (Ok(a), Ok(b)) => Ok((*a, *b)),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        };
        vec![(
            "ours: `Store` check → verdict (exact + prefix walk + overlay)".to_string(),
            both(&self.present, &self.absent),
        )]
    }

    /// Size rows: (name, bytes). A name containing "per changed entry" is a per-change figure.
    pub fn sizes(&self) -> Vec<(String, Result<f64, String>)> {
        vec![
            (
                "ours: snapshot file on disk (header + FST + digest)".to_string(),
                self.snapshot_bytes.clone(),
            ),
            (
                "ours: full snapshot artifact on the wire".to_string(),
                self.wire_snapshot_bytes.clone(),
            ),
            (
                "ours: 1% delta on the wire, per changed entry".to_string(),
                self.wire_delta_bytes_per_change.clone(),
            ),
        ]
    }

    /// Operation rows: (name, formatted figure).
    pub fn operations(&self) -> Vec<(String, Result<String, String>)> {
        let ms = |r: &Result<f64, String>| r.clone().map(|v| format!("{v:.2} ms"));
        let lat = |r: &Result<Latency, String>| {
            r.clone().map(|l| {
                format!(
                    "p50 {:.3} µs / p99 {:.3} µs",
                    l.p50_ns / 1e3,
                    l.p99_ns / 1e3
                )
            })
        };
        let during = |i: usize| {
            self.concurrent.clone().map(|c| {
                format!(
                    "p50 {:.3} µs / p99 {:.3} µs (at rest: p99 {:.3} µs)",
                    c[i].p50_ns / 1e3,
                    c[i].p99_ns / 1e3,
                    c[0].p99_ns / 1e3
                )
            })
        };
        vec![
            (
                "ours: check of a number only a prefix rule flags".to_string(),
                lat(&self.prefix),
            ),
            (
                "ours: build the snapshot file from the sorted list".to_string(),
                ms(&self.snapshot_build_ms),
            ),
            (
                "ours: cold open to first verdict (file not yet mapped by this process)"
                    .to_string(),
                ms(&self.cold_open_ms),
            ),
            (
                "ours: open + verify of the base snapshot (every byte checksummed, every FST node decoded)"
                    .to_string(),
                ms(&self.open_verify_ms),
            ),
            (
                "ours: apply a 1% delta (verify + durable + live)".to_string(),
                ms(&self.delta_apply_ms),
            ),
            (
                "ours: compaction (overlay folded into a new base)".to_string(),
                ms(&self.compaction_ms),
            ),
            (
                "ours: lookups from another thread while the delta applies".to_string(),
                during(1),
            ),
            (
                "ours: lookups from another thread while compaction runs".to_string(),
                during(2),
            ),
        ]
    }
}

/// The list id written into wire artifacts.
const LIST_ID: &str = "bench";

/// Measures everything on `inputs` (what the report does, in one call; the report itself
/// interleaves the lookup figures with the alternatives'). Never panics: a failing step makes
/// its figures `Err` with the reason.
pub fn measure(inputs: &Inputs<'_>) -> Figures {
    match Session::open(inputs.list, inputs.changes) {
        Ok(session) => {
            let store = session.lookup();
            let present = timing::per_op(inputs.present, inputs.budget, |k| store.get(k));
            let absent = timing::per_op(inputs.absent, inputs.budget, |k| store.get(k));
            let raw = timing::per_op(inputs.dressed, inputs.budget, |d| session.check_raw(d));
            let mut f = session.finish(inputs);
            f.present = Ok(present);
            f.absent = Ok(absent);
            f.raw = Ok(raw);
            f
        }
        Err(e) => Figures::pending(&e),
    }
}

fn err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn options() -> StoreOptions {
    StoreOptions {
        // Compaction is timed on purpose below, not started behind the measurement's back.
        auto_compact_overlay_len: None,
        ..StoreOptions::default()
    }
}

/// A store holding the list as its base, in a temporary directory, plus the figures measured
/// while setting it up (snapshot build, wire sizes).
pub struct Session {
    _dir: tempfile::TempDir,
    store_dir: PathBuf,
    store: Store,
    delta_wire: Vec<u8>,
    figures: Figures,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("store_dir", &self.store_dir)
            .finish_non_exhaustive()
    }
}

/// The store seen through the alternatives' [`Lookup`] trait: a full check (protected
/// numbers, user lists, exact entry, prefix walk, overlay, policy → verdict), reported as the
/// packed value of an exact hit.
#[derive(Clone, Copy)]
pub struct StoreLookup<'a>(&'a Store);

impl Lookup for StoreLookup<'_> {
    fn get(&self, key: &Key) -> Option<u64> {
        let v = self.0.check_key(key, Direction::Incoming);
        match (v.source, v.category, v.risk, v.reports) {
            (Source::Exact, Some(category), Some(risk), Some(reports)) => Some(
                EntryValue {
                    category,
                    risk,
                    reports,
                    prefix: false,
                }
                .pack(),
            ),
            _ => None,
        }
    }
}

impl Session {
    /// Builds a standalone snapshot file (timed), encodes the wire artifacts for the list and
    /// for `changes`, and installs the list into a fresh store.
    pub fn open(list: &Blocklist, changes: &[Change]) -> Result<Session, String> {
        let mut figures = Figures::pending("not reached: an earlier step failed");
        let dir = tempfile::tempdir().map_err(err("temp dir"))?;
        let file = dir.path().join("standalone.fst");
        let t = Instant::now();
        snapshot::write_snapshot(
            &file,
            list.entries().iter().map(|(k, v)| (k.as_bytes(), v.pack())),
        )
        .map_err(err("snapshot build"))?;
        figures.snapshot_build_ms = Ok(ms(t.elapsed()));
        figures.snapshot_bytes = Ok(file_len(&file) as f64);
        figures.open_verify_ms = open_verify(&file);
        let _ = std::fs::remove_file(&file);

        let snapshot_wire =
            wire::encode_snapshot(LIST_ID, 1, list.entries().iter().map(|(k, v)| (k, v)), None);
        figures.wire_snapshot_bytes = Ok(snapshot_wire.len() as f64);
        let delta_wire = wire::encode_delta(LIST_ID, 1, 2, changes, None);
        if !changes.is_empty() {
            figures.wire_delta_bytes_per_change =
                Ok(delta_wire.len() as f64 / changes.len() as f64);
        }

        let store_dir = dir.path().join("store");
        let store = Store::open(&store_dir, options()).map_err(err("store open"))?;
        let t = Instant::now();
        store
            .install_snapshot(list.entries().iter().cloned(), 1, None, &[])
            .map_err(err("snapshot install"))?;
        figures.notes.push(format!(
            "installing the full list into the store (build + verify + rename + SQLite): {:.0} ms",
            ms(t.elapsed())
        ));
        Ok(Session {
            _dir: dir,
            store_dir,
            store,
            delta_wire,
            figures,
        })
    }

    /// The store as a [`Lookup`].
    pub fn lookup(&self) -> StoreLookup<'_> {
        StoreLookup(&self.store)
    }

    /// Normalizes a raw dressed phone number and checks it (the call-screening path).
    pub fn check_raw(&self, d: &Dressed) -> Option<fraudshield_core::verdict::Action> {
        self.store
            .check_raw(Kind::Phone, &d.raw, Direction::Incoming)
            .ok()
            .map(|v| v.action)
    }

    /// Checks that the store answers the query sets right.
    pub fn verify_answers(&self, inputs: &Inputs<'_>) -> Result<(), String> {
        let source = |k: &Key| self.store.check_key(k, Direction::Incoming).source;
        if inputs.present.iter().any(|k| source(k) != Source::Exact) {
            return Err("the store missed a present key".to_string());
        }
        if inputs.absent.iter().any(|k| source(k) != Source::None) {
            return Err("the store flagged an absent key".to_string());
        }
        if inputs.prefix.iter().any(|k| source(k) != Source::Prefix) {
            return Err("the store missed a prefix rule".to_string());
        }
        Ok(())
    }

    /// Measures the rest — prefix-covered lookups, the 1% delta and a compaction while a
    /// measuring thread looks up, cold open — and returns every figure except `present`,
    /// `absent` and `raw`, which the caller times.
    pub fn finish(mut self, inputs: &Inputs<'_>) -> Figures {
        let mut f = std::mem::replace(&mut self.figures, Figures::pending(""));
        let result = self.verify_answers(inputs).and_then(|()| {
            let store = self.lookup();
            f.prefix = if inputs.prefix.is_empty() {
                Err("the list has no mobile prefix rule".to_string())
            } else {
                Ok(timing::per_op(inputs.prefix, inputs.budget, |k| {
                    store.0.check_key(k, Direction::Incoming).action
                }))
            };
            self.delta_and_compaction(inputs, &mut f)?;
            self.cold_open(inputs, &mut f)
        });
        if let Err(e) = result {
            f.notes.push(format!("store measurement stopped: {e}"));
        }
        f
    }

    fn delta_and_compaction(&self, inputs: &Inputs<'_>, f: &mut Figures) -> Result<(), String> {
        let store = &self.store;
        let delta_wire = &self.delta_wire;
        let key = SigningKey::generate().map_err(err("signing key"))?;
        let public = key.public();
        let signature = key.sign(&sha256(delta_wire));
        let expected = WireHeader {
            kind: WireKind::Delta,
            list_id: LIST_ID.to_string(),
            from_release: 1,
            release: 2,
            entry_count: inputs.changes.len() as u64,
        };
        let mixed: Vec<Key> = inputs
            .present
            .iter()
            .zip(inputs.absent)
            .flat_map(|(a, b)| [a.clone(), b.clone()])
            .collect();
        let stop = AtomicBool::new(false);
        let rest = inputs.budget.max(Duration::from_millis(200));
        let mut samples: Vec<(Instant, f64)> = Vec::with_capacity(1 << 20);
        let mut applies: Vec<[Duration; 3]> = Vec::new();
        let undo: Vec<Change> = inputs
            .changes
            .iter()
            .map(|c| match inputs.list.get(c.key().as_bytes()) {
                Some(old) => Change::Upsert(c.key().clone(), old),
                None => Change::Remove(c.key().clone()),
            })
            .collect();
        let phases = std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                timing::sample(
                    &mixed,
                    Duration::ZERO,
                    || stop.load(Ordering::Relaxed),
                    |k| store.check_key(k, Direction::Incoming).action,
                    |at, ns| samples.push((at, ns)),
                )
            });
            // Verify (signature over the artifact hash, the hash, decode with limits), then
            // durable + live (stage, SQLite commit, swap). Returns the three parts' times.
            let apply_delta = |release: u64| -> Result<[Duration; 3], String> {
                let t0 = Instant::now();
                if !public.verify(&sha256(delta_wire), &signature) {
                    return Err("delta signature did not verify".to_string());
                }
                let decoded = wire::decode(delta_wire, Some(&expected), &Limits::default())
                    .map_err(err("delta decode"))?;
                let changes = decoded.changes();
                let verified = Instant::now();
                let staged = store.stage(&changes).map_err(err("delta stage"))?;
                let staged_at = Instant::now();
                store
                    .commit(staged, release, &[])
                    .map_err(err("delta commit"))?;
                Ok([verified - t0, staged_at - verified, staged_at.elapsed()])
            };
            let result = (|| -> Result<[Instant; 4], String> {
                std::thread::sleep(rest);
                let d0 = Instant::now();
                applies.push(apply_delta(2)?);
                let d1 = Instant::now();
                std::thread::sleep(rest / 2);
                let c0 = Instant::now();
                store.compact().map_err(err("compaction"))?;
                let c1 = Instant::now();
                // Two more runs of the same delta (after undoing it) for a median.
                for round in 0..2u64 {
                    std::thread::sleep(Duration::from_millis(50));
                    store
                        .apply(&undo, 3 + 2 * round)
                        .map_err(err("delta undo"))?;
                    std::thread::sleep(Duration::from_millis(50));
                    applies.push(apply_delta(4 + 2 * round)?);
                }
                std::thread::sleep(Duration::from_millis(20));
                Ok([d0, d1, c0, c1])
            })();
            stop.store(true, Ordering::Relaxed);
            let _ = reader.join();
            result
        })?;
        let [d0, d1, c0, c1] = phases;
        let totals: Vec<f64> = applies
            .iter()
            .map(|parts| ms(parts.iter().sum::<Duration>()))
            .collect();
        let mut sorted = totals.clone();
        sorted.sort_by(f64::total_cmp);
        f.delta_apply_ms = Ok(sorted[sorted.len() / 2]);
        let median_run = totals
            .iter()
            .position(|t| *t == sorted[sorted.len() / 2])
            .unwrap_or(0);
        let parts = applies[median_run];
        f.notes.push(format!(
            "1% delta ({} changes, {} B on the wire), applied 3 times while a thread looks up \
             (median counts): {} ms; the median run: verify signature + SHA-256 + decode \
             {:.1} ms, stage (validate, new overlay, digest update) {:.1} ms, commit (SQLite \
             transaction, fsync, swap) {:.1} ms",
            inputs.changes.len(),
            delta_wire.len(),
            totals
                .iter()
                .map(|t| format!("{t:.1}"))
                .collect::<Vec<_>>()
                .join(" / "),
            ms(parts[0]),
            ms(parts[1]),
            ms(parts[2])
        ));
        f.compaction_ms = Ok(ms(c1 - c0));
        let window = |from: Instant, to: Instant| {
            let mut v: Vec<f64> = samples
                .iter()
                .filter(|(at, _)| *at >= from && *at <= to)
                .map(|(_, ns)| *ns)
                .collect();
            Latency::from_samples(&mut v)
        };
        let start = samples.first().map_or(d0, |s| s.0);
        let at_rest = window(start + Duration::from_millis(20), d0);
        let during_delta = window(d0, d1);
        let during_compaction = window(c0, c1);
        f.concurrent = Ok([at_rest, during_delta, during_compaction]);
        f.p99_during_delta_ratio = ratio(&during_delta, &at_rest, "the delta");
        f.p99_during_compaction_ratio = ratio(&during_compaction, &at_rest, "compaction");
        f.notes.push(format!(
            "lookup samples from the measuring thread: {} at rest, {} during the delta, {} \
             during compaction (each sample = {} lookups)",
            at_rest.samples,
            during_delta.samples,
            during_compaction.samples,
            timing::BATCH
        ));
        for c in inputs.changes {
            let v = store.check_key(c.key(), Direction::Incoming);
            let ok = match c {
                Change::Upsert(_, _) => v.source == Source::Exact,
                Change::Remove(_) => v.source != Source::Exact,
            };
            if !ok {
                return Err("a change of the delta is not visible".to_string());
            }
        }
        Ok(())
    }

    /// Closes the store and times open + first check, five times (median).
    fn cold_open(&mut self, inputs: &Inputs<'_>, f: &mut Figures) -> Result<(), String> {
        // Swap in a placeholder store in another directory so the measured one can close.
        let placeholder_dir = self.store_dir.with_file_name("placeholder");
        let placeholder = Store::open(&placeholder_dir, options()).map_err(err("store open"))?;
        drop(std::mem::replace(&mut self.store, placeholder));
        let mut opens = Vec::new();
        for i in 0..5 {
            let probe = &inputs.present[i % inputs.present.len().max(1)];
            let t = Instant::now();
            let s = Store::open(&self.store_dir, options()).map_err(err("store reopen"))?;
            let v = s.check_key(probe, Direction::Incoming);
            opens.push(t.elapsed());
            if v.source != Source::Exact {
                return Err("the reopened store missed a present key".to_string());
            }
        }
        opens.sort();
        f.cold_open_ms = Ok(ms(opens[opens.len() / 2]));
        Ok(())
    }
}

/// Opens (and so fully checks) the snapshot file five times: the median, in ms.
fn open_verify(file: &Path) -> Result<f64, String> {
    let mut opens = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let s = snapshot::Snapshot::open(file).map_err(err("snapshot open"))?;
        opens.push(t.elapsed());
        std::hint::black_box(s);
    }
    opens.sort();
    Ok(ms(opens[opens.len() / 2]))
}

fn ratio(during: &Latency, rest: &Latency, what: &str) -> Result<f64, String> {
    if during.samples < 10 || rest.samples < 10 {
        Err(format!(
            "too few lookup samples during {what} ({}) to judge a p99",
            during.samples
        ))
    } else {
        Ok(during.p99_ns / rest.p99_ns)
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_is_measured_on_a_small_list() {
        let list = Blocklist::generate(3_000, 3);
        let present = list.present_queries(500, 1);
        let absent = list.absent_queries(500, 2);
        let prefix = list.prefix_queries(100, 3);
        let dressed = crate::synth::dress(&absent, 4);
        let changes = list.delta(30, 5);
        let f = measure(&Inputs {
            list: &list,
            present: &present,
            absent: &absent,
            prefix: &prefix,
            dressed: &dressed,
            changes: &changes,
            budget: Duration::from_millis(5),
        });
        assert!(f.prefix.is_ok(), "{:?}", f.notes);
        assert!(f.present.is_ok() && f.absent.is_ok() && f.raw.is_ok());
        assert!(f.snapshot_bytes.as_ref().is_ok_and(|b| *b > 3_000.0));
        assert!(f.wire_snapshot_bytes.is_ok() && f.wire_delta_bytes_per_change.is_ok());
        assert!(f.cold_open_ms.is_ok() && f.delta_apply_ms.is_ok() && f.compaction_ms.is_ok());
        assert!(f.concurrent.is_ok());
    }

    #[test]
    fn the_store_lookup_agrees_with_the_list() {
        let list = Blocklist::generate(2_000, 4);
        let session = Session::open(&list, &[]).unwrap();
        for k in list.present_queries(200, 1) {
            assert_eq!(
                session.lookup().get(&k),
                list.get(k.as_bytes()).map(|v| v.pack())
            );
        }
        for k in list.absent_queries(200, 1) {
            assert_eq!(session.lookup().get(&k), None);
        }
    }
}
