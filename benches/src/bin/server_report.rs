//! `server_report`: the sync server's benchmark targets (issue 9), measured in one run on this
//! machine and written to `benches/SERVER.md`.
//!
//! ```text
//! scripts/bench-server.sh                                   # builds, then runs everything below
//! server_report --only manifest                             # GET /v1/manifest: ours vs nginx (wrk)
//! server_report --only publish                              # 20,000 changes on a 2M-entry list
//! nice -n 15 server_report --only publish --entries 10000000 --rounds 1   # the 10M list
//! server_report --only publish --entries 3000 --changes 60 --out /tmp/S.md  # seconds
//! ```
//!
//! - **manifest**: a data directory with a real published release; our server (the release
//!   binary next to this one, or `--server-bin`) and nginx (`worker_processes auto`, access log
//!   off: the strongest static baseline) serve the same manifest bytes on 127.0.0.1; `wrk` loads
//!   each in turn, alternating the order every round, with the same threads, connections and
//!   duration, plain and with `If-None-Match` (the 304 path). Min / median / max per side.
//! - **publish**: the server's real publish path, [`fraudshield_server::release::publish`]
//!   (the function behind `POST /v1/publish` and `fraudshield-server publish`): approved
//!   proposals in the server's SQLite → core's `Publisher` → artifacts + signed manifest →
//!   the release recorded in SQLite. The list and each round's changes come from
//!   `fraudshield_benches::synth`; they are written as approved proposals (setup), then each
//!   publish runs in a **fresh child process** (this binary, `--child-publish`) that opens the
//!   data directory like a starting server, so its time, CPU and peak RSS are the server's
//!   alone. The result is checked: the release holds exactly the generated list.
//!
//! Each run replaces only the sections it measured (by their `## ` title) and keeps every
//! other section of the file, e.g. the tip-intake section written by `benches/server/intake.sh`.

use fraudshield_benches::synth::{Blocklist, DEFAULT_SEED};
use fraudshield_core::digest::LtHash;
use fraudshield_core::entry::{Change, EntryValue};
use fraudshield_core::key::Key;
use fraudshield_server::auth::{Caller, Role};
use fraudshield_server::clock::Clock;
use fraudshield_server::config::Config;
use fraudshield_server::datadir::DataDir;
use fraudshield_server::release::{self, ArtifactSizes, PublishKind, ServedManifest};
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, String>;

/// Command-line options.
struct Options {
    manifest: bool,
    publish: bool,
    entries: usize,
    changes: usize,
    rounds: usize,
    http_rounds: usize,
    http_secs: u64,
    connections: usize,
    threads: usize,
    server_bin: Option<PathBuf>,
    baseline_bin: Option<PathBuf>,
    seed: u64,
    out: PathBuf,
    work: Option<PathBuf>,
}

fn usage() -> &'static str {
    "usage: server_report [--only manifest|publish] [--entries N] [--changes N] [--rounds N]\n\
     \x20      [--http-rounds N] [--http-secs S] [--connections N] [--threads N]\n\
     \x20      [--server-bin PATH] [--baseline-bin PATH] [--seed S] [--work DIR] [--out FILE]"
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut o = Options {
        manifest: true,
        publish: true,
        entries: 2_000_000,
        changes: 20_000,
        rounds: 3,
        http_rounds: 5,
        http_secs: 3,
        connections: 32,
        threads: 2,
        server_bin: None,
        baseline_bin: None,
        seed: DEFAULT_SEED,
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("SERVER.md"),
        work: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        let number = |name: &str, v: String| -> Result<usize> {
            v.replace('_', "")
                .parse()
                .map_err(|_| format!("{name} takes a number"))
        };
        match a.as_str() {
            "--only" => match value("--only")?.as_str() {
                "manifest" => o.publish = false,
                "publish" => o.manifest = false,
                _ => return Err("--only takes manifest or publish".into()),
            },
            "--entries" => o.entries = number("--entries", value("--entries")?)?,
            "--changes" => o.changes = number("--changes", value("--changes")?)?,
            "--rounds" => o.rounds = number("--rounds", value("--rounds")?)?.max(1),
            "--http-rounds" => {
                o.http_rounds = number("--http-rounds", value("--http-rounds")?)?.max(1)
            }
            "--http-secs" => {
                o.http_secs = number("--http-secs", value("--http-secs")?)?.max(1) as u64
            }
            "--connections" => {
                o.connections = number("--connections", value("--connections")?)?.max(1)
            }
            "--threads" => o.threads = number("--threads", value("--threads")?)?.max(1),
            "--server-bin" => o.server_bin = Some(PathBuf::from(value("--server-bin")?)),
            "--baseline-bin" => o.baseline_bin = Some(PathBuf::from(value("--baseline-bin")?)),
            "--seed" => o.seed = number("--seed", value("--seed")?)? as u64,
            "--work" => o.work = Some(PathBuf::from(value("--work")?)),
            "--out" => o.out = PathBuf::from(value("--out")?),
            "--bench" => {}
            "--help" | "-h" => return Err(usage().into()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child-publish") {
        return match args
            .get(1)
            .map(PathBuf::from)
            .ok_or("no data directory".to_string())
        {
            Ok(dir) => match child_publish(&dir) {
                Ok(line) => {
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("server_report child: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        };
    }
    let options = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server_report: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(o: &Options) -> Result<()> {
    let tmp;
    let work = match &o.work {
        Some(w) => {
            std::fs::create_dir_all(w).map_err(|e| format!("work directory: {e}"))?;
            w.clone()
        }
        None => {
            tmp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
            tmp.path().to_path_buf()
        }
    };
    let mut sections = Vec::new();
    if o.publish {
        sections.push(publish_section(o, &work.join("publish"))?);
    }
    if o.manifest {
        sections.push(manifest_section(o, &work.join("manifest"))?);
    }
    let existing = std::fs::read_to_string(&o.out).unwrap_or_default();
    let md = merge_sections(&existing, &sections);
    std::fs::write(&o.out, md).map_err(|e| format!("writing {}: {e}", o.out.display()))?;
    eprintln!("wrote {}", o.out.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SERVER.md: sections by title

const TITLE: &str = "# fraudshield-server performance";

const PREAMBLE: &str = "The sync server's targets (issue 9). Each section is written by the tool it names \
and says how to reproduce it; the client-side report is [REPORT.md](REPORT.md).";

/// One `## ` section: its title line (without `## `) and its body.
struct Section {
    title: String,
    body: String,
}

/// Replaces the sections of `existing` whose titles are in `new` and appends the others, keeping
/// every other section (and the order) as it was.
fn merge_sections(existing: &str, new: &[Section]) -> String {
    let mut head = String::new();
    let mut kept: Vec<(String, String)> = Vec::new();
    for line in existing.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            kept.push((title.trim().to_string(), String::new()));
        } else if let Some((_, body)) = kept.last_mut() {
            body.push_str(line);
            body.push('\n');
        } else {
            head.push_str(line);
            head.push('\n');
        }
    }
    if head.trim().is_empty() {
        head = format!("{TITLE}\n\n{PREAMBLE}\n\n");
    }
    let mut out = head;
    let mut done = vec![false; new.len()];
    for (title, body) in kept {
        match new.iter().position(|s| s.title == title) {
            Some(i) => {
                done[i] = true;
                write_section(&mut out, &new[i]);
            }
            None => {
                let _ = write!(out, "## {title}\n{body}");
            }
        }
    }
    for (s, done) in new.iter().zip(done) {
        if !done {
            if !out.ends_with("\n\n") {
                out.push('\n');
            }
            write_section(&mut out, s);
        }
    }
    out
}

fn write_section(out: &mut String, s: &Section) {
    let _ = write!(out, "## {}\n\n{}\n", s.title, s.body.trim_end());
    out.push('\n');
}

// ---------------------------------------------------------------------------------------------
// The machine

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// How many processes with one of these command names are running (other people's builds).
fn count_processes(names: &[&str]) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(std::result::Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .filter(|comm| names.contains(&comm.trim()))
        .count()
}

fn machine_line(start: &(String, usize)) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "Machine: {cores} cores available; load average (1, 5, 15 min) at start / end: {} / {}; \
         compiler processes (rustc, cargo, cc1, ld) at start / end: {} / {}.",
        start.0,
        load_average(),
        start.1,
        count_processes(&["rustc", "cargo", "cc1", "ld"])
    )
}

fn machine_now() -> (String, usize) {
    (
        load_average(),
        count_processes(&["rustc", "cargo", "cc1", "ld"]),
    )
}

fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    fraudshield_server::calendar::Calendar::rfc3339(secs)
}

// ---------------------------------------------------------------------------------------------
// Publishing

/// What one child process measured (one `key=value` line on its stdout).
#[derive(Debug, Default, Clone)]
struct ChildRun {
    open_ms: f64,
    rss_after_open_kb: u64,
    peak_open_kb: u64,
    publish_ms: f64,
    publish_cpu_ms: f64,
    peak_publish_kb: u64,
    /// Whether the peak during the publish was measured apart from the open (Linux
    /// `clear_refs`); otherwise `peak_publish_kb` is the whole process's peak.
    peak_reset: bool,
    release: u64,
    changes: u64,
    entries: u64,
}

impl ChildRun {
    fn to_line(&self) -> String {
        format!(
            "open_ms={} rss_after_open_kb={} peak_open_kb={} publish_ms={} publish_cpu_ms={} \
             peak_publish_kb={} peak_reset={} release={} changes={} entries={}",
            self.open_ms,
            self.rss_after_open_kb,
            self.peak_open_kb,
            self.publish_ms,
            self.publish_cpu_ms,
            self.peak_publish_kb,
            u8::from(self.peak_reset),
            self.release,
            self.changes,
            self.entries
        )
    }

    fn parse(line: &str) -> Result<ChildRun> {
        let mut r = ChildRun::default();
        for pair in line.split_whitespace() {
            let (k, v) = pair.split_once('=').ok_or("malformed child output")?;
            let f = || v.parse::<f64>().map_err(|_| format!("child output {k}"));
            let u = || v.parse::<u64>().map_err(|_| format!("child output {k}"));
            match k {
                "open_ms" => r.open_ms = f()?,
                "rss_after_open_kb" => r.rss_after_open_kb = u()?,
                "peak_open_kb" => r.peak_open_kb = u()?,
                "publish_ms" => r.publish_ms = f()?,
                "publish_cpu_ms" => r.publish_cpu_ms = f()?,
                "peak_publish_kb" => r.peak_publish_kb = u()?,
                "peak_reset" => r.peak_reset = u()? == 1,
                "release" => r.release = u()?,
                "changes" => r.changes = u()?,
                "entries" => r.entries = u()?,
                _ => {}
            }
        }
        Ok(r)
    }
}

/// `VmRSS` or `VmHWM` of this process, in KiB (0 where `/proc` has none).
fn proc_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU time of this process so far, in milliseconds (`/proc/self/stat`).
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command name (which is in parentheses and may hold spaces), from
    // field 3 (the state): utime and stime are fields 14 and 15, so 11 and 12 here.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (tick(11) + tick(12)) as f64 * 10.0 // USER_HZ is 100 on Linux.
}

/// Resets this process's peak RSS (`VmHWM`) to its current RSS (Linux ≥ 4.0).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn bench_config(dir: &Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    }
}

/// The child: open the data directory like a starting server, publish every approved change.
fn child_publish(dir: &Path) -> Result<String> {
    let started = Instant::now();
    let app = fraudshield_server::App::open(bench_config(dir), Clock::system())
        .map_err(|e| format!("opening the server: {e}"))?;
    let mut run = ChildRun {
        open_ms: started.elapsed().as_secs_f64() * 1e3,
        rss_after_open_kb: proc_status_kb("VmRSS:"),
        peak_open_kb: proc_status_kb("VmHWM:"),
        ..ChildRun::default()
    };
    run.peak_reset = reset_peak();
    let caller = Caller {
        token_id: "bench".into(),
        name: "bench publisher".into(),
        role: Role::Publisher,
        request_id: None,
    };
    let cpu = cpu_ms();
    let started = Instant::now();
    let report = release::publish(&app, &caller, PublishKind::Publish, Some("benchmark"))
        .map_err(|e| format!("publish: {e}"))?;
    run.publish_ms = started.elapsed().as_secs_f64() * 1e3;
    run.publish_cpu_ms = cpu_ms() - cpu;
    run.peak_publish_kb = proc_status_kb("VmHWM:");
    run.release = report.release;
    run.changes = report.changes as u64;
    run.entries = report.entries;
    Ok(run.to_line())
}

fn spawn_child_publish(dir: &Path) -> Result<ChildRun> {
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let out = Command::new(exe)
        .arg("--child-publish")
        .arg(dir)
        .env("FRAUDSHIELD_LOG", "warn")
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("starting the publishing process: {e}"))?;
    if !out.status.success() {
        return Err(format!("the publishing process failed ({})", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    ChildRun::parse(text.lines().last().unwrap_or_default())
}

/// Writes `changes` as approved proposals (setup: what analysts' four-eyes review leaves).
/// `list` is the list before them (none: empty), to tell additions from changes.
fn approve(db: &Path, list: Option<&Blocklist>, changes: &[Change], now: i64) -> Result<()> {
    let mut conn = fraudshield_server::db::connect(db).map_err(|e| format!("database: {e}"))?;
    let tx = conn.transaction().map_err(|e| format!("database: {e}"))?;
    {
        let mut st = tx
            .prepare(
                "INSERT INTO proposals(action, key, prefix, category, risk, reports, reason, proposed_by, proposer,
                    proposed_at, status, reviewed_by, reviewer, reviewed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'benchmark', 'bench-a', 'analyst a', ?7, 'approved', 'bench-b', 'analyst b', ?7)",
            )
            .map_err(|e| format!("database: {e}"))?;
        for c in changes {
            let r = match c {
                Change::Upsert(k, v) => {
                    let action = if list.is_some_and(|l| l.get(k.as_bytes()).is_some()) {
                        "change"
                    } else {
                        "add"
                    };
                    st.execute(rusqlite::params![
                        action,
                        k.as_bytes(),
                        v.prefix,
                        v.category.as_str(),
                        v.risk.as_str(),
                        v.reports.min_reports(),
                        now
                    ])
                }
                Change::Remove(k) => st.execute(rusqlite::params![
                    "revoke",
                    k.as_bytes(),
                    false,
                    None::<String>,
                    None::<String>,
                    None::<u32>,
                    now
                ]),
            };
            r.map_err(|e| format!("database: {e}"))?;
        }
    }
    tx.commit().map_err(|e| format!("database: {e}"))
}

/// The list's state digest as phones compute it.
fn digest(entries: &[(Key, EntryValue)]) -> [u8; 32] {
    let mut h = LtHash::new();
    for (k, v) in entries {
        h.add(k.as_bytes(), v.pack());
    }
    h.digest().0
}

fn count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n.is_multiple_of(1_000_000) => format!("{}M", n / 1_000_000),
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 1_000 && n.is_multiple_of(1_000) => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kb: u64) -> String {
    format!("{:.0} MiB", kb as f64 / 1024.0)
}

fn secs(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1e3)
    } else {
        format!("{:.2} s", ms / 1e3)
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn publish_section(o: &Options, work: &Path) -> Result<Section> {
    let machine = machine_now();
    let dir = work.join(format!("data-{}", o.entries));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("clearing {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(work).map_err(|e| format!("work directory: {e}"))?;
    let clock = Clock::system();
    let config = bench_config(&dir);
    fraudshield_server::init(&config, &clock).map_err(|e| format!("init: {e}"))?;
    let db = DataDir::new(&dir).database();
    let releases = DataDir::new(&dir).releases();

    eprintln!("publish: generating {} entries", count(o.entries));
    let t = Instant::now();
    let mut list = Blocklist::generate(o.entries, o.seed);
    let generate_ms = t.elapsed().as_secs_f64() * 1e3;
    let generated = list.len();
    let whole: Vec<Change> = list
        .entries()
        .iter()
        .map(|(k, v)| Change::Upsert(k.clone(), *v))
        .collect();
    let t = Instant::now();
    approve(&db, None, &whole, clock.now())?;
    drop(whole);
    let seed_ms = t.elapsed().as_secs_f64() * 1e3;
    eprintln!("publish: first release of the whole list");
    let first = spawn_child_publish(&dir)?;
    if first.entries != list.len() as u64 {
        return Err(format!(
            "the first release holds {} entries, the generated list {}",
            first.entries,
            list.len()
        ));
    }

    let mut rounds = Vec::new();
    for round in 0..o.rounds {
        let changes = list.delta(o.changes, o.seed ^ (round as u64 + 1));
        approve(&db, Some(&list), &changes, clock.now())?;
        eprintln!("publish: round {} ({} changes)", round + 1, changes.len());
        let run = spawn_child_publish(&dir)?;
        let served = ServedManifest::load(&releases)
            .map_err(|e| format!("reading the manifest: {e}"))?
            .ok_or("no manifest after publishing")?;
        let delta = ArtifactSizes::of(&served).delta.unwrap_or(0);
        list = list.apply(&changes);
        if run.entries != list.len() as u64 || run.changes != changes.len() as u64 {
            return Err(format!(
                "round {}: release has {} entries from {} changes, expected {} from {}",
                round + 1,
                run.entries,
                run.changes,
                list.len(),
                changes.len()
            ));
        }
        rounds.push((run, delta));
    }
    let served = ServedManifest::load(&releases)
        .map_err(|e| format!("reading the manifest: {e}"))?
        .ok_or("no manifest after publishing")?;
    let bundle = fraudshield_core::release::signed::Bundle::decode(&served.bytes)
        .map_err(|e| format!("manifest: {e}"))?;
    let manifest = fraudshield_core::release::manifest::Manifest::decode(&bundle.manifest.payload)
        .map_err(|e| format!("manifest: {e}"))?;
    let digest_ok = manifest.state_digest == digest(list.entries());
    if !digest_ok {
        return Err("the last release's state digest is not the generated list's".into());
    }

    let title = format!(
        "Publishing {} approved changes on a {}-entry list",
        thousands(o.changes as u64),
        count(o.entries)
    );
    let mut b = String::new();
    let _ = writeln!(
        b,
        "Written by `server_report --only publish --entries {} --changes {} --rounds {}` on {} (release build). {}\n",
        o.entries,
        o.changes,
        o.rounds,
        now_utc(),
        machine_line(&machine)
    );
    let mut walls: Vec<f64> = rounds.iter().map(|(r, _)| r.publish_ms).collect();
    let mut cpus: Vec<f64> = rounds.iter().map(|(r, _)| r.publish_cpu_ms).collect();
    let mut per_change: Vec<f64> = rounds
        .iter()
        .map(|(r, d)| *d as f64 / r.changes.max(1) as f64)
        .collect();
    let wall = median(&mut walls);
    let cpu = median(&mut cpus);
    let bpc = median(&mut per_change);
    let verdict = |ok: bool| if ok { "**met**" } else { "**missed**" };
    let _ = writeln!(
        b,
        "| target | goal | measured (median of {} rounds) | verdict |",
        rounds.len()
    );
    let _ = writeln!(b, "|---|---|---|---|");
    let _ = writeln!(
        b,
        "| publish {} approved changes on a {}-entry list (wall) | ≤ 5 s | {} (CPU {}) | {} |",
        thousands(o.changes as u64),
        count(o.entries),
        secs(wall),
        secs(cpu),
        verdict(wall <= 5_000.0)
    );
    let _ = writeln!(
        b,
        "| delta on the wire per change | ≤ 4 B | {:.2} B | {} |",
        bpc,
        verdict(bpc <= 4.0)
    );
    let peak = rounds
        .iter()
        .map(|(r, _)| r.peak_publish_kb)
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        b,
        "| peak RSS of the server process while publishing | report | {} | — |",
        mib(peak)
    );
    let _ = writeln!(
        b,
        "\n| step | wall | CPU | server process memory |\n|---|---|---|---|"
    );
    let _ = writeln!(
        b,
        "| setup: generate the list ({} entries) | {} | — | — |",
        thousands(generated as u64),
        secs(generate_ms)
    );
    let _ = writeln!(
        b,
        "| setup: the whole list as approved proposals in the server's SQLite (one transaction) | {} | — | — |",
        secs(seed_ms)
    );
    let _ = writeln!(
        b,
        "| server start: open database and publisher (list file → memory), as before each publish below | {} | — | RSS after {} (peak {}) |",
        secs(first.open_ms),
        mib(first.rss_after_open_kb),
        mib(first.peak_open_kb)
    );
    let _ = writeln!(
        b,
        "| first publish: the whole list as release {} ({} changes) | {} | {} | peak {} |",
        first.release,
        thousands(first.changes),
        secs(first.publish_ms),
        secs(first.publish_cpu_ms),
        mib(first.peak_publish_kb)
    );
    for (i, (r, delta)) in rounds.iter().enumerate() {
        let _ = writeln!(
            b,
            "| round {}: publish {} changes as release {} (delta {} B, {:.2} B/change; server start {}) | {} | {} | peak {} (RSS after start {}) |",
            i + 1,
            thousands(r.changes),
            r.release,
            thousands(*delta),
            *delta as f64 / r.changes.max(1) as f64,
            secs(r.open_ms),
            secs(r.publish_ms),
            secs(r.publish_cpu_ms),
            mib(r.peak_publish_kb),
            mib(r.rss_after_open_kb)
        );
    }
    let _ = writeln!(
        b,
        "\nChecked: after the last round the release holds exactly the generated list ({} entries, same state digest).",
        thousands(list.len() as u64)
    );
    let peak_note = if rounds.iter().all(|(r, _)| r.peak_reset) {
        "the process's peak RSS is reset after the start (`/proc/self/clear_refs`), so *peak* counts the publish alone (on top of what the open left resident)"
    } else {
        "this kernel does not let the peak RSS be reset: *peak* is the whole process's high-water mark, open included"
    };
    let _ = writeln!(
        b,
        "\nHow: each round, {} changes from `synth::Blocklist::delta` (half additions, 30% removals, 20% value changes) are written as approved proposals; then a fresh process opens the data directory like a starting server and calls `release::publish`, the path of `POST /v1/publish`: read the approved proposals, record the publish intent, core's `Publisher` (deltas, skip deltas, snapshot when due, the list file, the signed manifest, each written durably), then the proposals, the `entries` table, the release row and the audit row in one transaction. *Wall* and *CPU* (user + system) are of that call; {}. Delta = the size of the artifact from the previous release.",
        thousands(o.changes as u64),
        peak_note
    );
    Ok(Section { title, body: b })
}

// ---------------------------------------------------------------------------------------------
// GET /v1/manifest: ours vs nginx

/// A process that is stopped when dropped: with `stop` if given (nginx's master must stop
/// its workers itself: killing it would leave them running), waiting up to 10 s, then killed.
struct Running {
    name: &'static str,
    child: Child,
    stop: Option<Command>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = &mut self.stop {
            let _ = stop.stdout(Stdio::null()).stderr(Stdio::null()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(name: &str, extra: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .chain(extra.iter().map(PathBuf::from))
        .find(|p| p.is_file())
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("finding a free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// An HTTP response: status, headers (lower-cased names), body.
type Reply = (u16, Vec<(String, String)>, Vec<u8>);

/// A minimal HTTP/1.1 GET (`Connection: close`).
fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Result<Reply> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        let _ = write!(req, "{k}: {v}\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())
        .map_err(|e| format!("request to {addr}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("response from {addr}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("response without a header end")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or("response without a status")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        return Err("chunked response (expected a Content-Length)".into());
    }
    Ok((status, headers, body))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Waits (bounded) until `addr` answers `path` with 200.
fn wait_ready(addr: SocketAddr, path: &str, p: &mut Running) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _, _)) = http_get(addr, path, &[]) {
            return Ok(());
        }
        if let Ok(Some(status)) = p.child.try_wait() {
            return Err(format!("{} exited before serving ({status})", p.name));
        }
        if Instant::now() > deadline {
            return Err(format!("{} did not answer within 30 s", p.name));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn nginx_config(root: &Path, prefix: &Path, port: u16) -> String {
    format!(
        "worker_processes auto;\n\
         daemon off;\n\
         pid {prefix}/nginx.pid;\n\
         error_log {prefix}/error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n\
         \x20 access_log off;\n\
         \x20 client_body_temp_path {prefix}/body;\n\
         \x20 proxy_temp_path {prefix}/proxy;\n\
         \x20 fastcgi_temp_path {prefix}/fastcgi;\n\
         \x20 uwsgi_temp_path {prefix}/uwsgi;\n\
         \x20 scgi_temp_path {prefix}/scgi;\n\
         \x20 server {{\n\
         \x20   listen 127.0.0.1:{port};\n\
         \x20   location = /v1/manifest {{\n\
         \x20     root {root};\n\
         \x20     default_type application/octet-stream;\n\
         \x20     add_header Cache-Control \"public, max-age=60\";\n\
         \x20   }}\n\
         \x20 }}\n\
         }}\n",
        prefix = prefix.display(),
        root = root.display(),
    )
}

/// One wrk run: requests per second, and whether every response had the expected status.
#[derive(Debug, Clone, Copy, PartialEq)]
struct WrkRun {
    requests_per_sec: f64,
    requests: u64,
    bad: u64,
}

/// Reads wrk's summary: `Requests/sec:`, `N requests in …`, `Non-2xx or 3xx responses:` and
/// `Socket errors:` (counted as bad).
fn parse_wrk(out: &str) -> Result<WrkRun> {
    let mut rps = None;
    let mut requests = 0;
    let mut bad = 0;
    for line in out.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            rps = v.trim().parse::<f64>().ok();
        } else if let Some((n, _)) = line.split_once(" requests in ") {
            requests = n.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            bad += v.trim().parse::<u64>().unwrap_or(1);
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            bad += v
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    let requests_per_sec = rps.ok_or("no Requests/sec line in wrk's output")?;
    Ok(WrkRun {
        requests_per_sec,
        requests,
        bad,
    })
}

fn run_wrk(wrk: &Path, o: &Options, url: &str, etag: Option<&str>) -> Result<WrkRun> {
    let mut cmd = Command::new(wrk);
    cmd.arg(format!("-t{}", o.threads))
        .arg(format!("-c{}", o.connections))
        .arg(format!("-d{}s", o.http_secs));
    if let Some(e) = etag {
        cmd.arg("-H").arg(format!("If-None-Match: {e}"));
    }
    let out = cmd
        .arg(url)
        .output()
        .map_err(|e| format!("running wrk: {e}"))?;
    if !out.status.success() {
        return Err(format!("wrk failed ({})", out.status));
    }
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

/// One side of the comparison.
struct Side {
    label: String,
    addr: SocketAddr,
    etag: String,
    _process: Running,
    /// Requests/s of each round: plain 200, and 304.
    ok: Vec<f64>,
    not_modified: Vec<f64>,
}

fn start_server(bin: &Path, data: &Path, work: &Path, tag: &str) -> Result<(Running, SocketAddr)> {
    let addr_file = work.join(format!("{tag}.addr"));
    let _ = std::fs::remove_file(&addr_file);
    let log = std::fs::File::create(work.join(format!("{tag}.log")))
        .map_err(|e| format!("server log: {e}"))?;
    let child = Command::new(bin)
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0", "--addr-file"])
        .arg(&addr_file)
        .env_remove("FRAUDSHIELD_LOG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;
    let mut p = Running {
        name: "fraudshield-server",
        child,
        stop: None,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        if let Ok(text) = std::fs::read_to_string(&addr_file)
            && let Ok(a) = text.trim().parse::<SocketAddr>()
        {
            break a;
        }
        if let Ok(Some(status)) = p.child.try_wait() {
            return Err(format!("fraudshield-server exited at start ({status})"));
        }
        if Instant::now() > deadline {
            return Err("fraudshield-server did not start within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    wait_ready(addr, "/v1/manifest", &mut p)?;
    Ok((p, addr))
}

fn manifest_section(o: &Options, work: &Path) -> Result<Section> {
    let machine = machine_now();
    let wrk = find_program("wrk", &[]).ok_or("wrk not found (Debian: apt-get install wrk)")?;
    let nginx = find_program("nginx", &["/usr/sbin/nginx"])
        .ok_or("nginx not found (Debian: apt-get install nginx-light)")?;
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let server_bin = match &o.server_bin {
        Some(b) => b.clone(),
        None => exe
            .parent()
            .map(|d| d.join("fraudshield-server"))
            .ok_or("no directory for the server binary")?,
    };
    if !server_bin.is_file() {
        return Err(format!(
            "{} not found: build it (cargo build --release -p fraudshield-server) or pass --server-bin",
            server_bin.display()
        ));
    }
    if work.exists() {
        std::fs::remove_dir_all(work).map_err(|e| format!("clearing {}: {e}", work.display()))?;
    }
    std::fs::create_dir_all(work).map_err(|e| format!("work directory: {e}"))?;

    // A data directory with a real release: 10k entries published, then a 1% delta on top,
    // so the manifest names a delta, skip deltas and a snapshot like a live one.
    let data = work.join("data");
    let clock = Clock::system();
    fraudshield_server::init(&bench_config(&data), &clock).map_err(|e| format!("init: {e}"))?;
    let db = DataDir::new(&data).database();
    let list = Blocklist::generate(10_000, o.seed);
    let whole: Vec<Change> = list
        .entries()
        .iter()
        .map(|(k, v)| Change::Upsert(k.clone(), *v))
        .collect();
    approve(&db, None, &whole, clock.now())?;
    spawn_child_publish(&data)?;
    approve(&db, Some(&list), &list.delta(100, o.seed), clock.now())?;
    let published = spawn_child_publish(&data)?;
    let releases = DataDir::new(&data).releases();
    let manifest_bytes = std::fs::read(releases.join("v1").join("manifest"))
        .map_err(|e| format!("reading the manifest: {e}"))?;

    let mut sides = Vec::new();
    let (p, addr) = start_server(&server_bin, &data, work, "ours")?;
    sides.push(("fraudshield-server (this build)".to_string(), p, addr));
    if let Some(b) = &o.baseline_bin {
        // A second server on the same data directory would be refused (its lock): copy it.
        let copy = work.join("data-baseline");
        copy_dir(&data, &copy)?;
        let (p, addr) = start_server(b, &copy, work, "baseline")?;
        sides.push((
            format!("baseline build (`--baseline-bin {}`)", b.display()),
            p,
            addr,
        ));
    }
    let port = free_port()?;
    let prefix = work.join("nginx");
    std::fs::create_dir_all(&prefix).map_err(|e| format!("nginx directory: {e}"))?;
    let conf = prefix.join("nginx.conf");
    std::fs::write(&conf, nginx_config(&releases, &prefix, port))
        .map_err(|e| format!("nginx config: {e}"))?;
    let child = Command::new(&nginx)
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting nginx: {e}"))?;
    let mut stop = Command::new(&nginx);
    stop.arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(&conf)
        .args(["-s", "stop"]);
    let mut np = Running {
        name: "nginx",
        child,
        stop: Some(stop),
    };
    let naddr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_ready(naddr, "/v1/manifest", &mut np)?;
    let nginx_version = Command::new(&nginx)
        .arg("-v")
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stderr)
                .trim()
                .replace("nginx version: ", "")
        })
        .unwrap_or_default();
    sides.insert(
        0,
        (format!("nginx ({nginx_version}, static file)"), np, naddr),
    );

    let mut all: Vec<Side> = Vec::new();
    for (label, process, addr) in sides {
        let (status, headers, body) = http_get(addr, "/v1/manifest", &[])?;
        if status != 200 || body != manifest_bytes {
            return Err(format!(
                "{label} does not serve the published manifest bytes"
            ));
        }
        let etag = header(&headers, "etag")
            .ok_or(format!("{label}: no ETag"))?
            .to_string();
        let (status, _, _) = http_get(addr, "/v1/manifest", &[("If-None-Match", &etag)])?;
        if status != 304 {
            return Err(format!("{label}: If-None-Match gave {status}, not 304"));
        }
        all.push(Side {
            label,
            addr,
            etag,
            _process: process,
            ok: Vec::new(),
            not_modified: Vec::new(),
        });
    }
    let mut total_bad = 0;
    for round in 0..o.http_rounds {
        let mut order: Vec<usize> = (0..all.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for &i in &order {
            let url = format!("http://{}/v1/manifest", all[i].addr);
            let r = run_wrk(&wrk, o, &url, None)?;
            eprintln!(
                "manifest round {}: {} 200: {:.0} req/s",
                round + 1,
                all[i].label,
                r.requests_per_sec
            );
            total_bad += r.bad;
            all[i].ok.push(r.requests_per_sec);
        }
        for &i in order.iter().rev() {
            let url = format!("http://{}/v1/manifest", all[i].addr);
            let r = run_wrk(&wrk, o, &url, Some(&all[i].etag.clone()))?;
            eprintln!(
                "manifest round {}: {} 304: {:.0} req/s",
                round + 1,
                all[i].label,
                r.requests_per_sec
            );
            total_bad += r.bad;
            all[i].not_modified.push(r.requests_per_sec);
        }
    }
    let summary = |v: &[f64]| {
        let mut v = v.to_vec();
        let med = median(&mut v);
        (
            v.first().copied().unwrap_or(f64::NAN),
            med,
            v.last().copied().unwrap_or(f64::NAN),
        )
    };
    let mut b = String::new();
    let _ = writeln!(
        b,
        "Written by `server_report --only manifest` on {} (release build): `wrk -t{} -c{} -d{}s`, {} rounds, the sides alternating order every round; 304 = the same request with `If-None-Match` set to the side's own ETag. {}\n",
        now_utc(),
        o.threads,
        o.connections,
        o.http_secs,
        o.http_rounds,
        machine_line(&machine)
    );
    let _ = writeln!(
        b,
        "Manifest: {} bytes (release {} of a 10k-entry list, as the publisher wrote it), byte-identical from every side. Our server runs with its defaults (log level `info`, every middleware of `app::stack`); nginx with `worker_processes auto` and `access_log off`. Server, nginx and wrk share this machine's cores.\n",
        manifest_bytes.len(),
        published.release
    );
    let (nginx_ok, nginx_nm) = (summary(&all[0].ok), summary(&all[0].not_modified));
    let _ = writeln!(
        b,
        "| target | goal | measured (medians) | verdict |\n|---|---|---|---|"
    );
    let ours = &all[1];
    let (ok, nm) = (summary(&ours.ok), summary(&ours.not_modified));
    let verdict = |r: f64| if r >= 0.5 { "**met**" } else { "**missed**" };
    let _ = writeln!(
        b,
        "| `GET /v1/manifest` (200) ÷ nginx | ≥ 0.5× | {:.2}× ({:.0} ÷ {:.0} req/s) | {} |",
        ok.1 / nginx_ok.1,
        ok.1,
        nginx_ok.1,
        verdict(ok.1 / nginx_ok.1)
    );
    let _ = writeln!(
        b,
        "| `GET /v1/manifest` with `If-None-Match` (304) ÷ nginx | ≥ 0.5× | {:.2}× ({:.0} ÷ {:.0} req/s) | {} |",
        nm.1 / nginx_nm.1,
        nm.1,
        nginx_nm.1,
        verdict(nm.1 / nginx_nm.1)
    );
    let _ = writeln!(
        b,
        "\n| server | 200: min / median / max req/s | 304: min / median / max req/s | ÷ nginx (medians, 200 / 304) |\n|---|---|---|---|"
    );
    for s in &all {
        let (a, c) = (summary(&s.ok), summary(&s.not_modified));
        let _ = writeln!(
            b,
            "| {} | {:.0} / {:.0} / {:.0} | {:.0} / {:.0} / {:.0} | {:.2} / {:.2} |",
            s.label,
            a.0,
            a.1,
            a.2,
            c.0,
            c.1,
            c.2,
            a.1 / nginx_ok.1,
            c.1 / nginx_nm.1
        );
    }
    let _ = writeln!(
        b,
        "\nEvery response had the expected status: {}.",
        if total_bad == 0 {
            "yes".to_string()
        } else {
            format!("no, {total_bad} did not")
        }
    );
    Ok(Section {
        title: "GET /v1/manifest: fraudshield-server vs nginx".into(),
        body: b,
    })
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| format!("copying {}: {e}", from.display()))?;
    for e in std::fs::read_dir(from).map_err(|e| format!("copying {}: {e}", from.display()))? {
        let e = e.map_err(|e| format!("copying: {e}"))?;
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target).map_err(|e| format!("copying: {e}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_by_title_and_others_kept() {
        let existing = "# title\n\nintro\n\n## Tip intake\n\ntheirs\n\n## Publishing X\n\nold\n";
        let md = merge_sections(
            existing,
            &[
                Section {
                    title: "Publishing X".into(),
                    body: "new".into(),
                },
                Section {
                    title: "Other".into(),
                    body: "added".into(),
                },
            ],
        );
        assert_eq!(
            md,
            "# title\n\nintro\n\n## Tip intake\n\ntheirs\n\n## Publishing X\n\nnew\n\n## Other\n\nadded\n\n"
        );
        let fresh = merge_sections(
            "",
            &[Section {
                title: "A".into(),
                body: "b\n".into(),
            }],
        );
        assert!(fresh.starts_with(TITLE), "{fresh}");
        assert!(fresh.ends_with("## A\n\nb\n\n"), "{fresh}");
        // Idempotent: a second run with the same section changes nothing.
        assert_eq!(
            merge_sections(
                &fresh,
                &[Section {
                    title: "A".into(),
                    body: "b\n".into()
                }]
            ),
            fresh
        );
    }

    #[test]
    fn wrk_summary_is_parsed() {
        let out = "Running 3s test @ http://127.0.0.1:1/v1/manifest\n  2 threads and 32 connections\n  \
                   Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency   527.25us  399.13us  11.30ms   91.13%\n  \
                   172862 requests in 3.00s, 98.73MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  \
                   Non-2xx or 3xx responses: 5\nRequests/sec:  57576.59\nTransfer/sec:     32.88MB\n";
        let r = parse_wrk(out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r,
            WrkRun {
                requests_per_sec: 57576.59,
                requests: 172862,
                bad: 8
            }
        );
        assert!(parse_wrk("garbage").is_err());
    }

    #[test]
    fn child_lines_round_trip() {
        let run = ChildRun {
            open_ms: 1.5,
            rss_after_open_kb: 2,
            peak_open_kb: 3,
            publish_ms: 4.25,
            publish_cpu_ms: 5.0,
            peak_publish_kb: 6,
            peak_reset: true,
            release: 7,
            changes: 8,
            entries: 9,
        };
        let back = ChildRun::parse(&run.to_line()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.to_line(), run.to_line());
        assert!(ChildRun::parse("open_ms=x").is_err());
    }

    #[test]
    fn counts_read_like_the_targets() {
        assert_eq!(count(2_000_000), "2M");
        assert_eq!(count(10_000_000), "10M");
        assert_eq!(count(3_000), "3k");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(999), "999");
        assert!(nginx_config(Path::new("/r"), Path::new("/p"), 8).contains("listen 127.0.0.1:8;"));
    }

    #[test]
    fn arguments() {
        let o = parse_args(&[
            "--only".into(),
            "publish".into(),
            "--entries".into(),
            "3_000".into(),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.publish && !o.manifest);
        assert_eq!(o.entries, 3000);
        assert!(parse_args(&["--entries".into(), "many".into()]).is_err());
        assert!(parse_args(&["--only".into(), "x".into()]).is_err());
    }
}
