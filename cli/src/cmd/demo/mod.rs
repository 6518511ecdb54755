//! `fraudshield demo [--size N] [--seed S] [--keep DIR] [--json]`: the whole system, for real,
//! in one command.
//!
//! Everything runs here, on loopback, in a temporary directory, with no setup:
//!
//! 0. the real sync server starts in this process ([`server`]) with a fresh signing key;
//! 1. the police side imports a realistic list of `--size` flagged identifiers of every kind
//!    (the benchmarks' generator, deterministic from `--seed`), reviewed under the four-eyes
//!    rule, and publishes it as a signed release ([`list`]);
//! 2. a phone installs the SDK, syncs the whole list from scratch (verified, installed), and
//!    screens a stream of incoming and outgoing calls, payments and messages ([`phone`]);
//! 3. a citizen reports a number, the tip reaches the review queue, two analysts approve it
//!    (the server refuses the proposer's own approval), a release is published, the phone syncs
//!    a small delta and the same call is now warned; an appeal revokes it ([`tip`]);
//! 4. an update is tampered with on purpose, three ways: the phone refuses each and keeps
//!    answering from its list ([`tamper`]).
//!
//! The figures a person asks about are measured in the run and printed, never asserted:
//! publish time, bytes downloaded for the snapshot and the deltas, sync time, lookup latency.
//!
//! `--json` prints one JSON object instead: every step's outcome and the figures (the CI test
//! `cli/tests/demo.rs` checks the outcomes). `--keep DIR` leaves the server's data and the
//! phone's state in `DIR` (which must be empty or absent) and prints the commands to explore
//! them; otherwise the temporary directory is removed.

mod api;
mod list;
mod phone;
mod server;
mod show;
mod tamper;
mod tip;

use crate::output::{Failure, Output, say};
use fraudshield_benches::synth::DEFAULT_SEED;
use serde::Serialize;
use show::Screen;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many flagged identifiers the police list holds.
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    size: usize,
    /// Seed of the synthetic list (the same seed gives the same list everywhere).
    #[arg(long, default_value_t = DEFAULT_SEED, value_name = "SEED")]
    seed: u64,
    /// Keep the server's data and the phone's state in DIR (empty or absent) and print the
    /// commands to explore them.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

/// The smallest list the demo runs on: the stream needs listed numbers of every kind.
const MIN_SIZE: usize = 1_000;
/// The largest: the in-memory generator and the review of every entry.
const MAX_SIZE: usize = 10_000_000;

/// The machine-readable summary (`--json`).
#[derive(Serialize)]
struct Summary {
    ok: bool,
    size: usize,
    seed: u64,
    server: ServerInfo,
    first_release: list::FirstRelease,
    phone: phone::Screening,
    live_loop: tip::LiveLoop,
    tamper: tamper::TamperAct,
    figures: Figures,
    kept: Option<Kept>,
}

/// With `--keep`: where things are.
#[derive(Serialize)]
struct Kept {
    server_data: PathBuf,
    phone_state: PathBuf,
    trust_file: PathBuf,
}

#[derive(Serialize)]
struct ServerInfo {
    in_process: bool,
    loopback: bool,
}

/// The figures, gathered in one place.
#[derive(Serialize)]
struct Figures {
    publish_first_release_ms: u64,
    publish_change_ms: u64,
    snapshot_bytes: u64,
    snapshot_sync_ms: u64,
    delta_bytes: u64,
    delta_sync_ms: u64,
    lookup_p50_ns: u64,
    lookup_p99_ns: u64,
    total_ms: u64,
}

/// Runs the demo. `dir` (the global `--dir`) is taken as `--keep`.
pub fn run(out: &Output, json: bool, dir: Option<PathBuf>, args: Args) -> Result<(), Failure> {
    if !(MIN_SIZE..=MAX_SIZE).contains(&args.size) {
        return Err(Failure::new(format!(
            "--size must be between {MIN_SIZE} and {MAX_SIZE}"
        )));
    }
    let keep = match args.keep.or(dir) {
        Some(dir) => Some(prepare_kept(&dir)?),
        None => None,
    };
    let temp;
    let root: &Path = match &keep {
        Some(dir) => dir,
        None => {
            temp = tempfile::Builder::new()
                .prefix("fraudshield-demo-")
                .tempdir()
                .map_err(|e| Failure::new(format!("cannot create a temporary directory: {e}")))?;
            temp.path()
        }
    };
    let screen = Screen::new(json);
    let summary = tour(screen, root, args.size, args.seed, keep.is_some())?;
    if let Some(kept) = &summary.kept
        && screen.text
    {
        explore(kept)?;
    }
    out.emit(&summary, || {
        if summary.ok {
            format!(
                "\nDone in {}: a police list published, signed, synced and screened; a citizen's tip listed under four eyes and revoked on appeal; tampered updates refused.",
                show::duration(ms(summary.figures.total_ms))
            )
        } else {
            "\nA step did not behave as it must: see the lines above.".to_owned()
        }
    })?;
    if summary.ok {
        Ok(())
    } else {
        Err(Failure::new(
            "the demo found a step that did not behave as it must",
        ))
    }
}

/// `DIR` for `--keep`, absolute (the printed commands work from anywhere): created if absent,
/// refused if it holds anything.
fn prepare_kept(dir: &Path) -> Result<PathBuf, Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::new(format!("cannot create the --keep directory: {e}")))?;
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::new(format!("cannot read the --keep directory: {e}")))?;
    if entries.next().is_some() {
        return Err(Failure::new(
            "the --keep directory is not empty: give a new or empty directory",
        ));
    }
    std::fs::canonicalize(dir)
        .map_err(|e| Failure::new(format!("cannot resolve the --keep directory: {e}")))
}

fn tour(
    screen: Screen,
    root: &Path,
    size: usize,
    seed: u64,
    keep: bool,
) -> Result<Summary, Failure> {
    let started = Instant::now();
    if screen.text {
        say!("fraudshield demo: the police server and a phone, for real, on this machine");
        say!("\n== 0. The police's sync server starts on loopback with a fresh signing key");
    }
    let server = server::Server::start(&root.join("server"))?;
    let api = api::Api::new(&server.url)?;
    // The first release (empty) as served, for the replay attack in act 4.
    let first_manifest = api.get_bytes("v1/manifest")?;
    if screen.text {
        say!(
            "  listening on {}; two analysts ({} and {}), a publisher ({}) and the phone app each hold their own token",
            server.url,
            server::ANALYST_A,
            server::ANALYST_B,
            server::PUBLISHER
        );
        say!("  the app pins the server's public key: it will trust nothing else");
    }
    let (list, first_release) = list::run(screen, &server, &api, size, seed)?;
    let phone = phone::Phone::install(
        &root.join("phone"),
        &server.url,
        &server.trust,
        &server.tokens.reporter,
    )?;
    let screening = phone::run(screen, &phone, &list, seed)?;
    let live_loop = tip::run(screen, &api, &server.tokens, &phone, &list, seed)?;
    let tamper = tamper::run(
        screen,
        &api,
        &server.tokens,
        &phone,
        &list,
        seed,
        first_manifest,
    )?;
    drop(phone);
    let kept = keep.then(|| Kept {
        server_data: root.join("server"),
        phone_state: root.join("phone"),
        trust_file: server.trust_file.clone(),
    });
    server.stop()?;
    let figures = Figures {
        publish_first_release_ms: first_release.publish_ms,
        publish_change_ms: live_loop.listing.publish_ms,
        snapshot_bytes: screening.first_sync.bytes,
        snapshot_sync_ms: screening.first_sync.ms,
        delta_bytes: live_loop.listing.sync.bytes,
        delta_sync_ms: live_loop.listing.sync.ms,
        lookup_p50_ns: screening.stream.lookup_p50_ns,
        lookup_p99_ns: screening.stream.lookup_p99_ns,
        total_ms: started.elapsed().as_millis() as u64,
    };
    if screen.text {
        say!("\n== The figures");
        say!(
            "  publish: the first release ({} entries) in {}; a one-change release in {}",
            show::count(first_release.entries_published),
            show::duration(ms(figures.publish_first_release_ms)),
            show::duration(ms(figures.publish_change_ms))
        );
        say!(
            "  download: the whole list {} (synced in {}); a one-change update {} (synced in {})",
            show::bytes(figures.snapshot_bytes),
            show::duration(ms(figures.snapshot_sync_ms)),
            show::bytes(figures.delta_bytes),
            show::duration(ms(figures.delta_sync_ms))
        );
        say!(
            "  lookup on the phone: median {}, 99th percentile {}",
            phone::nanos(figures.lookup_p50_ns),
            phone::nanos(figures.lookup_p99_ns)
        );
    }
    let ok = live_loop.before.action == fraudshield_core::verdict::Action::Allow
        && live_loop.listing.after.action != fraudshield_core::verdict::Action::Allow
        && live_loop.appeal.after.action == fraudshield_core::verdict::Action::Allow
        && live_loop.listing.self_approval_refused
        && live_loop.appeal.self_approval_refused
        && tamper.refusals.iter().all(|r| r.refused && r.list_kept);
    Ok(Summary {
        ok,
        size,
        seed,
        server: ServerInfo {
            in_process: true,
            loopback: true,
        },
        first_release,
        phone: screening,
        live_loop,
        tamper,
        figures,
        kept,
    })
}

fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}

/// With `--keep`: where everything is and how to look at it.
fn explore(kept: &Kept) -> Result<(), Failure> {
    let phone = kept.phone_state.display();
    let server = kept.server_data.display();
    let trust = kept.trust_file.display();
    say!("\n== Kept: the server's data and the phone's state");
    say!("  the phone:   fraudshield --dir {phone} status");
    say!("               fraudshield --dir {phone} check 138 0013 8000");
    say!("  the server:  fraudshield-server --data-dir {server} token list");
    say!("               fraudshield-server --data-dir {server} serve --listen 127.0.0.1:8080");
    say!("  and, while it serves, the phone follows it:");
    say!(
        "               fraudshield --dir {phone} sync --server http://127.0.0.1:8080/ --trust {trust}"
    );
    Ok(())
}
