//! fraudshield's own store and wire format, measured the way the report measures the
//! alternatives.
//!
//! Every figure is a `Result`: `Err` carries the reason it is not measured (for example the
//! store or the wire format is not in this build yet), and the report prints it as pending.

use crate::synth::{Blocklist, Dressed};
use crate::timing::Latency;
use fraudshield_core::entry::Change;
use fraudshield_core::key::Key;
use std::time::Duration;

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

/// Measures the store on `inputs`.
pub fn measure(inputs: &Inputs<'_>) -> Figures {
    let _ = inputs;
    Figures::pending("store not merged")
}
