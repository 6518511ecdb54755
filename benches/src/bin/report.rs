//! `report`: measures fraudshield against the alternatives and writes `benches/REPORT.md`.
//!
//! ```text
//! cargo run -p fraudshield-benches --release --bin report                 # 200k and 2M entries
//! cargo run -p fraudshield-benches --release --bin report -- --quick      # 200k, short budgets
//! cargo run -p fraudshield-benches --release --bin report -- --sizes 50000 --out /tmp/r.md
//! ```
//!
//! It uses its own timing loops (batched samples, percentiles; see `fraudshield_benches::timing`)
//! rather than criterion, so that one run of a few minutes measures everything side by side on
//! the same machine state. Ratios measured in one run are the figures to trust on a shared,
//! noisy machine; absolute times move with the load, which the report records.

use fraudshield_benches::alternatives::{
    FILTER_BITS_PER_ENTRY, FilteredFst, FstList, HashList, Lookup, SortedList, SqliteList,
    SqliteSetup, fst_ranked_bytes, fst_set_bytes,
};
use fraudshield_benches::bound::InformationBound;
use fraudshield_benches::ours;
use fraudshield_benches::synth::{self, Blocklist, DEFAULT_SEED};
use fraudshield_benches::timing::{self, BATCH, Latency};
use fraudshield_core::identifier;
use fraudshield_core::kind::Kind;
use fraudshield_core::scan;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Command-line options.
struct Options {
    sizes: Vec<usize>,
    budget: Duration,
    seed: u64,
    out: PathBuf,
    quick: bool,
}

fn usage() -> &'static str {
    "usage: report [--quick] [--sizes N[,N…]] [--budget-ms MS] [--seed S] [--out FILE]"
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        sizes: vec![200_000, 2_000_000],
        budget: Duration::from_millis(400),
        seed: DEFAULT_SEED,
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("REPORT.md"),
        quick: false,
    };
    let mut sizes_given = false;
    let mut budget_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--quick" => o.quick = true,
            "--sizes" => {
                o.sizes = value("--sizes")?
                    .split(',')
                    .map(|s| s.trim().replace('_', "").parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| "--sizes takes comma-separated entry counts".to_string())?;
                sizes_given = true;
            }
            "--budget-ms" => {
                let ms: u64 = value("--budget-ms")?
                    .parse()
                    .map_err(|_| "--budget-ms takes milliseconds".to_string())?;
                o.budget = Duration::from_millis(ms);
                budget_given = true;
            }
            "--seed" => {
                o.seed = value("--seed")?
                    .parse()
                    .map_err(|_| "--seed takes an integer".to_string())?;
            }
            "--out" => o.out = PathBuf::from(value("--out")?),
            "--help" | "-h" => return Err(usage().to_string()),
            // `cargo bench` passes `--bench` to every bench target; ignore it if run that way.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    if o.quick {
        if !sizes_given {
            o.sizes = vec![200_000];
        }
        if !budget_given {
            o.budget = Duration::from_millis(60);
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("report: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Everything measured at one list size.
struct SizeReport {
    entries: usize,
    bound: InformationBound,
    delta_bound_bytes_per_change: f64,
    lookups: Vec<LookupRow>,
    end_to_end: Vec<(String, Result<Latency, String>)>,
    sizes: Vec<(String, Result<f64, String>)>,
    operations: Vec<(String, Result<String, String>)>,
    ours: ours::Figures,
    notes: Vec<String>,
}

/// One structure's lookup latencies on pre-normalized keys.
struct LookupRow {
    name: String,
    present: Latency,
    absent: Latency,
}

fn log(msg: &str) {
    eprintln!(
        "[{:>7.1}s] {msg}",
        START.with(|s| s.elapsed().as_secs_f64())
    );
}

thread_local! {
    static START: Instant = Instant::now();
}

fn run(o: &Options) -> Result<(), String> {
    START.with(|_| ());
    let machine = Machine::read();
    let mut reports = Vec::new();
    for &n in &o.sizes {
        reports.push(measure_size(n, o)?);
    }
    let machine_after = Machine::read();
    let md = render(o, &machine, &machine_after, &reports);
    std::fs::write(&o.out, md).map_err(|e| format!("cannot write the report: {e}"))?;
    log(&format!("wrote {}", o.out.display()));
    Ok(())
}

/// How many times each lookup figure is measured, interleaved with the other structures', so
/// that a burst of load from other processes hits every row alike.
const ROUNDS: usize = 3;

fn measure_size(n: usize, o: &Options) -> Result<SizeReport, String> {
    log(&format!("generating {n} entries"));
    let t = Instant::now();
    let list = Blocklist::generate(n, o.seed);
    let generate_time = t.elapsed();
    let bound = InformationBound::of(list.entries());
    let queries = 100_000.min(n.max(1_000));
    let present = list.present_queries(queries, 1);
    let absent = list.absent_queries(queries, 2);
    let prefix = list.prefix_queries(queries.min(20_000), 7);
    let mut present_phones = list.present_queries(queries, 3);
    present_phones.retain(|k| k.kind() == Kind::Phone);
    present_phones.truncate(queries / 2);
    let mut mixed = present_phones.clone();
    mixed.extend(absent.iter().take(queries / 2).cloned());
    let dressed = synth::dress(&mixed, 4);
    let changes = list.delta((n / 100).max(1), 5);
    let delta_bound = delta_bound_bytes(&list, &changes);
    let inputs = ours::Inputs {
        list: &list,
        present: &present,
        absent: &absent,
        prefix: &prefix,
        dressed: &dressed,
        changes: &changes,
        budget: o.budget,
    };

    let mut sizes = Vec::new();
    let mut operations = Vec::new();
    let mut notes = Vec::new();
    operations.push((
        "generate the synthetic list (release build)".to_string(),
        Ok(format!("{:.0} ms", ms(generate_time))),
    ));

    log(&format!(
        "{n}: our store (snapshot build, wire encoding, install)"
    ));
    let session = ours::Session::open(&list, &changes);
    if let Ok(s) = &session {
        s.verify_answers(&inputs)?;
    }

    log(&format!("{n}: building the alternatives"));
    let t = Instant::now();
    let fst = FstList::build(list.entries()).map_err(|e| format!("fst build failed: {e}"))?;
    operations.push((
        "build a bare `fst::Map` in RAM (no header, no digest, no fsync)".to_string(),
        Ok(format!("{:.0} ms", ms(t.elapsed()))),
    ));
    sizes.push((
        "bare `fst::Map` with packed values".to_string(),
        Ok(fst.bytes() as f64),
    ));
    sizes.push((
        "bare `fst::Map`, values replaced by frequency rank (+ rank table)".to_string(),
        fst_ranked_bytes(list.entries())
            .map(|b| b as f64)
            .map_err(|e| e.to_string()),
    ));
    sizes.push((
        "bare `fst::Set`, keys only (no values)".to_string(),
        fst_set_bytes(list.entries())
            .map(|b| b as f64)
            .map_err(|e| e.to_string()),
    ));
    let filtered =
        FilteredFst::build(list.entries()).map_err(|e| format!("fst build failed: {e}"))?;
    sizes.push((
        format!("bare `fst::Map` + blocked Bloom filter ({FILTER_BITS_PER_ENTRY} bits/entry)"),
        Ok(filtered.bytes() as f64),
    ));
    let hash = HashList::build(list.entries());
    sizes.push((
        "`HashMap` in RAM (heap, estimated)".to_string(),
        Ok(hash.heap_bytes() as f64),
    ));
    let sorted = SortedList::build(list.entries());
    sizes.push((
        "sorted `Vec` in RAM (heap, estimated)".to_string(),
        Ok(sorted.heap_bytes() as f64),
    ));
    let dir = tempfile::tempdir().map_err(|e| format!("no temp dir: {e}"))?;
    operations.push((
        "this machine's disk: write 4 KiB to a new file + fsync (median of 9; every durable \
         commit pays at least this)"
            .to_string(),
        fsync_probe(dir.path()).map(|d| format!("{:.2} ms", ms(d))),
    ));
    let mut sqlite = Vec::new();
    for (setup, label) in [
        (SqliteSetup::Defaults, "SQLite, defaults"),
        (SqliteSetup::Tuned, "SQLite, tuned"),
    ] {
        let path = dir.path().join(format!("{setup:?}.sqlite"));
        let t = Instant::now();
        let db = SqliteList::build(&path, list.entries(), setup)
            .map_err(|e| format!("SQLite build failed: {e}"))?;
        operations.push((
            format!("load the list into {label} (one transaction)"),
            Ok(format!("{:.0} ms", ms(t.elapsed()))),
        ));
        sizes.push((
            format!("{label}: database file"),
            Ok(db.disk_bytes() as f64),
        ));
        sqlite.push((label, db));
    }

    let ours_lookup = session.as_ref().ok().map(|s| s.lookup());
    let mut contenders: Vec<(&str, &dyn Lookup)> = Vec::new();
    if let Some(l) = &ours_lookup {
        contenders.push(("ours", l));
    }
    contenders.push(("bare `fst::Map` (RAM)", &fst));
    let filtered_name = format!(
        "bare `fst::Map` + blocked Bloom filter, {FILTER_BITS_PER_ENTRY} bits/entry (RAM; the \
         proposed fix for absent keys)"
    );
    contenders.push((&filtered_name, &filtered));
    contenders.push(("`HashMap` (RAM)", &hash));
    contenders.push(("sorted `Vec` + binary search (RAM)", &sorted));
    for (label, db) in &sqlite {
        contenders.push((label, db));
    }
    for (name, alt) in &contenders {
        for k in present.iter().chain(&absent) {
            if alt.get(k) != list.get(k.as_bytes()).map(|v| v.pack()) {
                return Err(format!("{name} gave a wrong answer"));
            }
        }
    }
    log(&format!("{n}: timing lookups, {ROUNDS} interleaved rounds"));
    let slice = o.budget / ROUNDS as u32;
    let mut lookup_samples = vec![(Vec::new(), Vec::new()); contenders.len()];
    for _ in 0..ROUNDS {
        for (i, (_, alt)) in contenders.iter().enumerate() {
            lookup_samples[i]
                .0
                .extend(timing::samples(&present, slice, |k| alt.get(k)));
            lookup_samples[i]
                .1
                .extend(timing::samples(&absent, slice, |k| alt.get(k)));
        }
    }
    let mut lookups = Vec::new();
    let mut ours_figures = (None, None);
    for ((name, _), (mut p, mut a)) in contenders.iter().zip(lookup_samples) {
        let (p, a) = (Latency::from_samples(&mut p), Latency::from_samples(&mut a));
        if *name == "ours" {
            ours_figures = (Some(p), Some(a));
        } else {
            lookups.push(LookupRow {
                name: name.to_string(),
                present: p,
                absent: a,
            });
        }
    }

    log(&format!(
        "{n}: timing the raw-number path, {ROUNDS} interleaved rounds"
    ));
    let defaults = &sqlite[0].1;
    let mut raw_samples: [Vec<f64>; 3] = Default::default();
    for _ in 0..ROUNDS {
        if let Ok(s) = &session {
            raw_samples[0].extend(timing::samples(&dressed, slice, |d| s.check_raw(d)));
        }
        raw_samples[1].extend(timing::samples(&dressed, slice, |d| {
            identifier::normalize(Kind::Phone, &d.raw)
                .ok()
                .and_then(|id| defaults.get(&id.key()))
        }));
        raw_samples[2].extend(timing::samples(&dressed, slice, |d| {
            identifier::normalize(Kind::Phone, &d.raw).is_ok()
        }));
    }
    let [ours_raw, sqlite_raw, normalize_only] =
        raw_samples.map(|mut v| Latency::from_samples(&mut v));
    let end_to_end = vec![
        (
            "SQLite defaults: normalize + query".to_string(),
            Ok(sqlite_raw),
        ),
        ("normalization alone".to_string(), Ok(normalize_only)),
    ];
    drop(contenders);
    drop((fst, filtered, hash, sorted, sqlite, dir));

    // The state digest's per-change cost (one LtHash add; a value change is a remove + add).
    let digest_keys: Vec<&fraudshield_core::key::Key> =
        list.entries().iter().take(20_000).map(|(k, _)| k).collect();
    let mut lthash = fraudshield_core::digest::LtHash::new();
    let lthash_latency = timing::per_op(&digest_keys, o.budget, |k| {
        lthash.add(k.as_bytes(), 7);
    });
    operations.push((
        "state digest update per changed key (one `LtHash::add`, the store's digest)".to_string(),
        Ok(format!(
            "{:.2} µs (p99 {:.2} µs)",
            lthash_latency.p50_ns / 1e3,
            lthash_latency.p99_ns / 1e3
        )),
    ));

    log(&format!("{n}: normalization and scanning"));
    let messages = synth::messages(&list, 2_000, 6);
    let scan_latency = timing::per_op(&messages, o.budget, |m| scan::scan_text(m).len());
    operations.push((
        "`scan_text` on one SMS (synthetic Chinese messages, p50 / p99)".to_string(),
        Ok(format!(
            "{:.2} µs / {:.2} µs",
            scan_latency.p50_ns / 1e3,
            scan_latency.p99_ns / 1e3
        )),
    ));

    log(&format!(
        "{n}: our store (prefix rules, delta, compaction, cold open)"
    ));
    let ours = match session {
        Ok(s) => {
            let mut f = s.finish(&inputs);
            f.present = ours_figures.0.ok_or_else(|| "not measured".to_string());
            f.absent = ours_figures.1.ok_or_else(|| "not measured".to_string());
            f.raw = Ok(ours_raw);
            f
        }
        Err(e) => ours::Figures::pending(&e),
    };
    notes.extend(ours.notes.iter().cloned());
    Ok(SizeReport {
        entries: n,
        bound,
        delta_bound_bytes_per_change: delta_bound,
        lookups,
        end_to_end,
        sizes,
        operations,
        ours,
        notes,
    })
}

/// The information bound of a delta, in bytes per changed entry: which list entries are
/// removed or changed (a choice among the list's entries), which keys are added (a choice from
/// their group universes), and the new values.
fn delta_bound_bytes(list: &Blocklist, changes: &[fraudshield_core::entry::Change]) -> f64 {
    use fraudshield_benches::bound::log2_choose;
    use fraudshield_core::entry::Change;
    let n = list.len() as f64;
    let mut removed = 0usize;
    let mut updated = Vec::new();
    let mut added = Vec::new();
    for c in changes {
        match c {
            Change::Remove(_) => removed += 1,
            Change::Upsert(k, v) if list.get(k.as_bytes()).is_some() => {
                updated.push((k.clone(), *v))
            }
            Change::Upsert(k, v) => added.push((k.clone(), *v)),
        }
    }
    let added_bound = InformationBound::of(&added);
    let updated_values = InformationBound::of(&updated).value_bits;
    let bits = log2_choose(n.log2(), removed)
        + log2_choose(n.log2(), updated.len())
        + added_bound.key_bits
        + added_bound.value_bits
        + updated_values;
    if changes.is_empty() {
        0.0
    } else {
        bits / 8.0 / changes.len() as f64
    }
}

/// The median time to write 4 KiB to a new file in `dir` and fsync it.
fn fsync_probe(dir: &std::path::Path) -> Result<Duration, String> {
    use std::io::Write as _;
    let mut times = Vec::new();
    for i in 0..9 {
        let path = dir.join(format!("fsync-probe-{i}"));
        let t = Instant::now();
        let mut file = std::fs::File::create(&path).map_err(|e| format!("fsync probe: {e}"))?;
        file.write_all(&[0u8; 4096])
            .and_then(|()| file.sync_all())
            .map_err(|e| format!("fsync probe: {e}"))?;
        times.push(t.elapsed());
        let _ = std::fs::remove_file(&path);
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// What the machine was and how busy it was.
struct Machine {
    cpu: String,
    cores: usize,
    rustc: String,
    load: String,
    compilers: usize,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or("unknown".to_string(), |s| s.trim().to_string());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let rustc = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        let load = std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".to_string());
        Machine {
            cpu,
            cores,
            rustc,
            load,
            compilers: count_processes(&["rustc", "cargo", "cc1", "ld"]),
        }
    }
}

/// How many processes with one of these command names are running (other engineers' builds).
fn count_processes(names: &[&str]) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
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

fn us(ns: f64) -> String {
    if ns >= 10_000.0 {
        format!("{:.0} µs", ns / 1e3)
    } else {
        format!("{:.3} µs", ns / 1e3)
    }
}

fn bytes(b: f64) -> String {
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

fn thousands(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// One target of issue 5 and what was measured against it.
struct Target {
    what: &'static str,
    goal: &'static str,
    /// Measured figure and whether it met the goal, or why it is not measured.
    outcome: Result<(String, bool, String), String>,
    /// What would close the gap, printed when the target is missed.
    closes: &'static str,
}

fn targets(r: &SizeReport) -> Vec<Target> {
    let f = &r.ours;
    let sqlite_e2e = r
        .end_to_end
        .iter()
        .find(|(n, _)| n.starts_with("SQLite defaults"))
        .and_then(|(_, l)| l.as_ref().ok().copied());
    let le = |v: f64, goal: f64, unit: &str, fmt: &dyn Fn(f64) -> String| {
        let met = v <= goal;
        let by = if met {
            format!("{:.2}× the limit", v / goal)
        } else {
            format!("missed by {} ({:.2}× the limit)", fmt(v - goal), v / goal)
        };
        let _ = unit;
        (fmt(v), met, by)
    };
    let fmt_us = |v: f64| us(v);
    let fmt_ms = |v: f64| format!("{v:.2} ms");
    let fmt_b = |v: f64| format!("{v:.2} B");
    let fmt_x = |v: f64| format!("{v:.2}×");
    vec![
        Target {
            what: "lookup incl. normalization, p50",
            goal: "≤ 1 µs",
            outcome: f.raw.clone().map(|l| le(l.p50_ns, 1_000.0, "ns", &fmt_us)),
            closes: "The path is normalization (see *normalization alone*) plus the store check (see the lookup table). A fast path for input that is already canonical ASCII, and the absent-key filter below, shorten both halves.",
        },
        Target {
            what: "lookup incl. normalization, p99",
            goal: "≤ 2 µs",
            outcome: f.raw.clone().map(|l| le(l.p99_ns, 2_000.0, "ns", &fmt_us)),
            closes: "Tail latency on this box comes mostly from the other processes sharing its 2 cores (compare the p99 of the in-RAM structures measured in the same rounds). On the store side: keep the snapshot's pages resident (`madvise(WILLNEED)` on open for a list of this size) so a check never faults a page in.",
        },
        Target {
            what: "speed-up over SQLite defaults (same raw queries, p50)",
            goal: "≥ 5×",
            outcome: match (&f.raw, sqlite_e2e) {
                (Ok(ours), Some(sqlite)) => {
                    let x = sqlite.p50_ns / ours.p50_ns;
                    let met = x >= 5.0;
                    Ok((
                        fmt_x(x),
                        met,
                        if met {
                            format!("{:.1}× the floor", x / 5.0)
                        } else {
                            format!("missed: {:.2}× short", 5.0 / x)
                        },
                    ))
                }
                (Err(e), _) => Err(e.clone()),
                (_, None) => Err("SQLite not measured".to_string()),
            },
            closes: "Compare the rows of the raw-number table: the gap is the store check itself; see the absent-key filter below.",
        },
        Target {
            what: "absent key, p50",
            goal: "≤ 0.3 µs",
            outcome: f.absent.clone().map(|l| le(l.p50_ns, 300.0, "ns", &fmt_us)),
            closes: "An absent key still walks the FST until its first missing byte (about as long as a bare `fst::Map` miss: see the lookup table), then walks the prefix path and probes the overlay. A small filter in front of the FST answers most absent keys with one or two memory reads: the lookup table has it measured (a blocked Bloom filter, 10 bits/entry ≈ 2.4 MiB at 2M, in front of a bare `fst::Map`); a binary-fuse or xor filter does the same at ~9 bits/entry with fewer false positives; the few prefix rules (1 per 2,000 entries) can live in a small separate table consulted only for phone keys; the overlay probe can be skipped while the overlay is empty.",
        },
        Target {
            what: "on disk per entry (with verdict values)",
            goal: "≤ 8 B",
            outcome: f
                .snapshot_bytes
                .clone()
                .map(|b| le(b / r.entries as f64, 8.0, "B", &fmt_b)),
            closes: "Two parts, both in the size table. Values cost the difference between the `fst::Map` and `fst::Set` rows; frequency-ranked values (the *frequency rank* row) barely help, a bit-packed value array beside a key-only index would cost ~1.25 B/entry (10 bits) or the value entropy if coded. Keys cost the `fst::Set` row, about 2.5–3× their bound: an FST shares prefixes but pays per node for the random tails of phone numbers. An index that stores each (kind, length, leading digits) group as Elias-Fano-coded integers (as the wire format's gap coding does, close to the bound) with a small sampled directory for lookups would bring the file near the wire size, at the cost of a custom lookup path.",
        },
        Target {
            what: "cold open to first verdict (every byte of the base checked first)",
            goal: "≤ 300 ms",
            outcome: f.cold_open_ms.clone().map(|v| le(v, 300.0, "ms", &fmt_ms)),
            closes: "Open checks every byte of the base (BLAKE3) and decodes every FST node once before the first lookup, so that a damaged or crafted file is never answered from and cannot panic a lookup (issue 8); the *open + verify* row is that part alone, and it is nearly all of the cold open. It is paid once per process start (Android gives a CallScreeningService 5 s). To shorten it: hash with BLAKE3's multi-threaded mode (the hash is a few percent of it); skip the node walk for a file whose checksum the store recorded after it wrote and walked that file itself (only a file from elsewhere needs the walk); or answer the first lookups from protected numbers and user lists while the walk finishes on another thread.",
        },
        Target {
            what: "1% delta live (verify + durable + live)",
            goal: "≤ 100 ms",
            outcome: f
                .delta_apply_ms
                .clone()
                .map(|v| le(v, 100.0, "ms", &fmt_ms)),
            closes: "The note under the tables splits the time into verify + decode, stage and commit; staging dominates. Per changed key it pays one or two state-digest updates (the *state digest update* row: an LtHash add expands the element to 2 KiB of hash output and adds 1,024 lanes), two base lookups and an overlay insert, and it clones the overlay per batch. Spreading the digest updates of a batch over the cores (they commute), or a digest with fewer lanes per element, cuts the largest part; a persistent (structurally shared) overlay makes the clone proportional to the delta. The commit is one SQLite transaction with fsync (see the disk probe row).",
        },
        Target {
            what: "lookup p99 while the delta applies ÷ p99 at rest",
            goal: "≤ 1.5× (\"unchanged\" on a shared 2-core box)",
            outcome: f
                .p99_during_delta_ratio
                .clone()
                .map(|v| le(v, 1.5, "x", &fmt_x)),
            closes: "On 2 shared cores the writer thread takes CPU from the measuring thread; readers never wait on a lock. Running the stage step at a lower thread priority, or yielding in its loop, trades apply time for reader tail latency.",
        },
        Target {
            what: "full snapshot on the wire ÷ information bound",
            goal: "≤ 1.5×",
            outcome: f
                .wire_snapshot_bytes
                .clone()
                .map(|b| le(b / r.bound.total_bytes(), 1.5, "x", &fmt_x)),
            closes: "Code keys as gaps within (kind, length, leading digits) groups and compress values apart from keys.",
        },
        Target {
            what: "delta on the wire per changed entry",
            goal: "≤ 4 B",
            outcome: f
                .wire_delta_bytes_per_change
                .clone()
                .map(|v| le(v, 4.0, "B", &fmt_b)),
            closes: "Removals and value changes name keys the phone already holds: coding them as ranks in the sorted list costs about log2(N / changes) + 2 bits (≈ 1.2 B at 1%) instead of a key gap of 2–4 B; only additions need keys from their universe.",
        },
    ]
}

/// The one line that points to the sync server's figures, which another run writes to
/// `benches/SERVER.md`.
const SERVER_LINE: &str = "Server figures (issue 9): see [SERVER.md](SERVER.md).";

fn render(o: &Options, before: &Machine, after: &Machine, reports: &[SizeReport]) -> String {
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "# fraudshield performance report\n");
    let _ = writeln!(
        w,
        "Generated by `cargo run -p fraudshield-benches --release --bin report{}` \
         (sizes {}, {} ms per timed figure, seed {:#x}). Do not edit by hand: run the command \
         again.\n",
        if o.quick { " -- --quick" } else { "" },
        o.sizes
            .iter()
            .map(|&n| thousands(n))
            .collect::<Vec<_>>()
            .join(", "),
        o.budget.as_millis(),
        o.seed
    );
    let _ = writeln!(
        w,
        "This report compares ratios measured within one run: the machines it is run on are \
         shared (see *Machine*), so absolute times vary from run to run while the ratios \
         between rows hold.\n"
    );
    let _ = writeln!(w, "{SERVER_LINE}\n");
    let _ = writeln!(w, "## Machine\n");
    let _ = writeln!(w, "| | |\n|---|---|");
    let _ = writeln!(w, "| CPU | {} |", before.cpu);
    let _ = writeln!(w, "| cores available | {} |", before.cores);
    let _ = writeln!(w, "| rustc | {} |", before.rustc);
    let _ = writeln!(
        w,
        "| load average (1, 5, 15 min) at start / end | {} / {} |",
        before.load, after.load
    );
    let _ = writeln!(
        w,
        "| compiler processes (rustc, cargo, cc1, ld) seen at start / end | {} / {} |",
        before.compilers, after.compilers
    );
    let _ = writeln!(w);
    let busy = |m: &Machine| {
        m.compilers > 0
            || m.load
                .split_whitespace()
                .next()
                .and_then(|l| l.parse::<f64>().ok())
                .is_some_and(|l| l > 0.5 * m.cores as f64)
    };
    if busy(before) || busy(after) {
        let _ = writeln!(
            w,
            "The machine is shared and was busy (load average or other builds above): absolute \
             times are inflated and noisy, tail percentiles most of all. Ratios between rows \
             were measured in the same run, lookups in interleaved rounds, and are the figures \
             to compare.\n"
        );
    }
    let _ = writeln!(w, "## Summary\n");
    for r in reports {
        let ts = targets(r);
        let met: Vec<&str> = ts
            .iter()
            .filter(|t| matches!(t.outcome, Ok((_, true, _))))
            .map(|t| t.what)
            .collect();
        let missed: Vec<String> = ts
            .iter()
            .filter_map(|t| match &t.outcome {
                Ok((v, false, _)) => Some(format!("{} ({v}, goal {})", t.what, t.goal)),
                _ => None,
            })
            .collect();
        let pending = ts.iter().filter(|t| t.outcome.is_err()).count();
        let _ = writeln!(
            w,
            "- **{}**: {} of {} targets met{}{}.",
            thousands(r.entries),
            met.len(),
            ts.len(),
            if missed.is_empty() {
                String::new()
            } else {
                format!("; missed: {}", missed.join("; "))
            },
            if pending == 0 {
                String::new()
            } else {
                format!("; {pending} pending")
            }
        );
    }
    let _ = writeln!(
        w,
        "\nThe targets are set for 2M entries on a 2-core x86 machine; ratios count more than \
         absolute times.\n"
    );
    for r in reports {
        render_size(w, r);
    }
    render_method(w);
    md
}

fn render_size(w: &mut String, r: &SizeReport) {
    let n = r.entries;
    let _ = writeln!(w, "## {} entries\n", thousands(n));
    let _ = writeln!(w, "### Targets (issue 5; set for 2M entries)\n");
    let _ = writeln!(
        w,
        "| target | goal | measured | verdict |\n|---|---|---|---|"
    );
    let mut missed = Vec::new();
    for t in targets(r) {
        if matches!(t.outcome, Ok((_, false, _))) {
            missed.push((t.what, t.closes));
        }
        match t.outcome {
            Ok((v, met, by)) => {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} — {} |",
                    t.what,
                    t.goal,
                    v,
                    if met { "**met**" } else { "**missed**" },
                    by
                );
            }
            Err(e) => {
                let _ = writeln!(w, "| {} | {} | — | pending: {} |", t.what, t.goal, e);
            }
        }
    }
    let _ = writeln!(w);
    if !missed.is_empty() {
        let _ = writeln!(w, "What would close the missed targets:\n");
        for (what, closes) in missed {
            let _ = writeln!(w, "- *{what}*: {closes}");
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(
        w,
        "### Lookup latency, pre-normalized keys (per lookup; rows measured in {ROUNDS} interleaved rounds)\n"
    );
    let ours_present = r.ours.present.as_ref().ok().copied();
    let _ = writeln!(
        w,
        "| structure | present p50 | present p99 | absent p50 | absent p99 | ours ÷ this (present p50; < 1: ours faster) |\n|---|---|---|---|---|---|"
    );
    for row in r.ours.rows() {
        match row.1 {
            Ok((p, a)) => {
                let _ = writeln!(
                    w,
                    "| **{}** | {} | {} | {} | {} | — |",
                    row.0,
                    us(p.p50_ns),
                    us(p.p99_ns),
                    us(a.p50_ns),
                    us(a.p99_ns)
                );
            }
            Err(e) => {
                let _ = writeln!(w, "| **{}** | pending: {} | | | | |", row.0, e);
            }
        }
    }
    for l in &r.lookups {
        let ratio = ours_present.map_or("pending".to_string(), |o| {
            format!("{:.2}", o.p50_ns / l.present.p50_ns)
        });
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            l.name,
            us(l.present.p50_ns),
            us(l.present.p99_ns),
            us(l.absent.p50_ns),
            us(l.absent.p99_ns),
            ratio
        );
    }
    let _ = writeln!(w);

    let _ = writeln!(
        w,
        "### From a raw dressed number (`+86 138-0013-8000`, `0086…`, `17951 …`; half on the list, half not)\n"
    );
    let _ = writeln!(
        w,
        "| path | p50 | p99 | ours ÷ this (p50; < 1: ours faster) |\n|---|---|---|---|"
    );
    let ours_raw = r.ours.raw.as_ref().ok().copied();
    match &r.ours.raw {
        Ok(l) => {
            let _ = writeln!(
                w,
                "| **ours: normalize + check → verdict** | {} | {} | — |",
                us(l.p50_ns),
                us(l.p99_ns)
            );
        }
        Err(e) => {
            let _ = writeln!(
                w,
                "| **ours: normalize + check → verdict** | pending: {e} | | |"
            );
        }
    }
    for (name, l) in &r.end_to_end {
        match l {
            Ok(l) => {
                let ratio = ours_raw.map_or("pending".to_string(), |o| {
                    format!("{:.2}", o.p50_ns / l.p50_ns)
                });
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} |",
                    name,
                    us(l.p50_ns),
                    us(l.p99_ns),
                    ratio
                );
            }
            Err(e) => {
                let _ = writeln!(w, "| {name} | pending: {e} | | |");
            }
        }
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "### Size\n");
    let bound = r.bound.total_bytes();
    let _ = writeln!(
        w,
        "Information bound of this list: **{}** ({:.2} B/entry: keys {:.2}, values {:.2}, group table {:.3}; {} groups). Bound of the 1% delta: **{:.2} B per changed entry**.\n",
        bytes(bound),
        r.bound.bytes_per_entry(),
        r.bound.key_bits / 8.0 / n as f64,
        r.bound.value_bits / 8.0 / n as f64,
        r.bound.group_bits / 8.0 / n as f64,
        r.bound.groups,
        r.delta_bound_bytes_per_change
    );
    let _ = writeln!(w, "| what | bytes | B/entry | ÷ bound |\n|---|---|---|---|");
    for (name, b) in r.ours.sizes().iter().chain(r.sizes.iter()) {
        match b {
            Ok(b) => {
                let per = if name.contains("per changed entry") {
                    *b
                } else {
                    b / n as f64
                };
                let total = if name.contains("per changed entry") {
                    "—".to_string()
                } else {
                    bytes(*b)
                };
                let vs = if name.contains("per changed entry") {
                    b / r.delta_bound_bytes_per_change
                } else {
                    b / bound
                };
                let _ = writeln!(w, "| {name} | {total} | {per:.2} | {vs:.2} |");
            }
            Err(e) => {
                let _ = writeln!(w, "| {name} | pending: {e} | | |");
            }
        }
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "### Operations\n");
    let _ = writeln!(w, "| operation | time |\n|---|---|");
    for (name, v) in r.ours.operations().iter().chain(r.operations.iter()) {
        match v {
            Ok(v) => {
                let _ = writeln!(w, "| {name} | {v} |");
            }
            Err(e) => {
                let _ = writeln!(w, "| {name} | pending: {e} |");
            }
        }
    }
    let _ = writeln!(w);
    if !r.notes.is_empty() {
        let _ = writeln!(w, "Notes:\n");
        for note in &r.notes {
            let _ = writeln!(w, "- {note}");
        }
        let _ = writeln!(w);
    }
}

fn render_method(w: &mut String) {
    let _ = writeln!(
        w,
        "## How this was measured\n\n\
         - **Lists.** `fraudshield_benches::synth`: ~70% Chinese mobiles (virtual-operator ranges \
         over-represented, clustered in number blocks, runs of SIM cards), ~10% landlines / \
         400 / SMS ports, ~5% overseas numbers, ~10% bank cards (Luhn-valid UnionPay BINs) and \
         accounts, ~3% QQ, ~2% Alipay, 1 prefix rule per 2,000 entries; values skewed like a \
         real list. Deterministic from the seed.\n\
         - **Queries.** Present: keys drawn from the list (every kind). Absent: numbers from the \
         calling population (92% mobiles) that no entry or rule flags — most real calls. Raw: \
         the same phones dressed as diallers and people write them.\n\
         - **Timing.** Each figure runs its queries in batches of {BATCH}, cycling until its \
         time budget is spent, after a warm-up pass; one sample per batch (batch time ÷ \
         {BATCH}); p50/p99 are percentiles of those samples, so p99 is the 99th percentile of \
         32-lookup means and hides a single slow lookup inside a batch. On a shared machine \
         a batch that is preempted by another process shows up in p99: the longer a batch \
         (32 SQLite lookups ≈ 130 µs, 32 FST lookups ≈ 15 µs), the likelier, which is why the \
         slow structures show p99s of hundreds of µs. Lookup rows are measured in 3 rounds \
         interleaved across structures and pooled. Release build, one thread unless stated.\n\
         - **Alternatives.** SQLite: `CREATE TABLE list (key BLOB PRIMARY KEY, value INTEGER) \
         WITHOUT ROWID`; *defaults* = stock pragmas and `query_row` (a statement prepared per \
         query), *tuned* = WAL, `mmap_size` 256 MiB, `cache_size` 64 MiB, a cached prepared \
         statement; the file is in the OS page cache (warm). `HashMap<Box<[u8]>, u64>` with \
         the default hasher; sorted `Vec<(Box<[u8]>, u64)>`; a bare `fst::Map` in RAM; the same \
         map behind a blocked Bloom filter (one 64-byte block per key, 6 bits set, 10 bits per \
         entry) to measure the proposed fix for absent keys. RAM sizes of the hash map and \
         vector are estimates (slots + key allocations).\n\
         - **Bound.** `fraudshield_benches::bound`: log2 of the number of ways to choose the \
         list's keys from their group universes (kind, length, fixed leading digits; Luhn \
         check digits free), plus the zero-order entropy of the values, plus 64 bits per \
         group. A delta's bound counts the choice of removed and changed entries among the \
         list, the added keys in their universes and the new values.\n\
         - **Cold open.** Without root the page cache cannot be dropped: *cold open* is opening \
         the closed store directory again (SQLite open, the full check of the base snapshot: \
         header, BLAKE3 of every byte, every FST node decoded once; mmap of a file this process \
         no longer maps, overlay load) and answering one check, median of 5; the file's pages \
         may still be in the OS page cache. *Open + verify* is `Snapshot::open` of the \
         standalone snapshot file alone, median of 5.\n\
         - **Delta.** The 1% delta is the wire artifact the publisher format produces; *live* \
         counts the Ed25519 signature check over its SHA-256, decoding with limits, staging, \
         the durable SQLite commit and the swap; applied 3 times (undone in between) while a \
         measuring thread looks up; the median counts.\n\n\
         ## Reproduce\n\n\
         ```sh\n\
         cargo run -p fraudshield-benches --release --bin report            # 200k and 2M, a few minutes\n\
         cargo run -p fraudshield-benches --release --bin report -- --quick # 200k only, seconds\n\
         cargo bench -p fraudshield-benches                                 # criterion benches\n\
         ```\n"
    );
}
