//! Act 2, the phone: a fresh install syncs the whole list (verify, install), then screens a
//! stream of calls, payments and messages, and the demo measures how long a lookup takes.

use super::show::{self, Screen};
use crate::output::{Failure, say};
use fraudshield_benches::synth::{self, Blocklist};
use fraudshield_core::entry::Risk;
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::shield::{Shield, ShieldConfig, ShieldError, SyncSummary};
use fraudshield_core::sync::UpdatePath;
use fraudshield_core::sync::http::HttpTransport;
use fraudshield_core::sync::transport::Transport;
use fraudshield_core::verdict::{Action, Direction, Verdict};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// The phone: the SDK facade an app holds, and the app's HTTP stack.
pub struct Phone {
    /// The facade.
    pub shield: Shield,
    /// The app's HTTP stack.
    pub http: HttpTransport,
}

/// What one sync did, as the summary reports it.
#[derive(Debug, Clone, Serialize)]
pub struct SyncFigures {
    /// The release held before.
    pub release_before: u64,
    /// The release held after.
    pub release: u64,
    /// `snapshot`, `delta`, `up_to_date`…
    pub path: UpdatePath,
    /// Body bytes downloaded.
    pub bytes: u64,
    /// HTTP requests.
    pub requests: u32,
    /// Wall time, milliseconds.
    pub ms: u64,
    /// Citizens' reports uploaded in the same sync.
    pub reports_sent: u32,
}

impl SyncFigures {
    fn new(s: &SyncSummary, took: Duration) -> SyncFigures {
        SyncFigures {
            release_before: s.list.release_before,
            release: s.list.release,
            path: s.list.path,
            bytes: s.list.bytes_downloaded,
            requests: s.list.requests,
            ms: took.as_millis() as u64,
            reports_sent: s.reports.sent,
        }
    }

    /// `a 1.2 KB change (delta) in 12 ms`.
    pub fn text(&self) -> String {
        let what = match self.path {
            UpdatePath::Snapshot => "the whole list",
            UpdatePath::Delta => "only the changes",
            UpdatePath::DeltaFellBackToSnapshot => "the whole list (the change did not fit)",
            UpdatePath::UpToDate => "nothing (already up to date)",
        };
        let from = match self.release_before {
            0 => "nothing".to_owned(),
            n => format!("release {n}"),
        };
        format!(
            "{from} -> release {}: downloaded {} ({what}) in {}",
            self.release,
            show::bytes(self.bytes),
            show::duration(Duration::from_millis(self.ms))
        )
    }
}

impl Phone {
    /// A fresh install in `dir` pinned to the server's key, with the app's reporter token.
    pub fn install(
        dir: &Path,
        url: &str,
        trust: &str,
        reporter_token: &str,
    ) -> Result<Phone, Failure> {
        let mut config = ShieldConfig::new(url, trust);
        config.reporter_token = Some(reporter_token.to_owned());
        let shield = Shield::open(dir, config)
            .map_err(|e| Failure::new(format!("cannot open the phone's state: {e}")))?;
        let http =
            HttpTransport::new().map_err(|e| Failure::new(format!("cannot set up HTTP: {e}")))?;
        Ok(Phone { shield, http })
    }

    /// One sync through the app's own HTTP stack.
    pub fn sync(&self) -> Result<SyncFigures, Failure> {
        let started = Instant::now();
        let summary = self
            .shield
            .sync(&self.http)
            .map_err(|e| Failure::new(format!("the phone could not sync: {e}")))?;
        Ok(SyncFigures::new(&summary, started.elapsed()))
    }

    /// One sync through another transport (the tampering one); the facade's own error.
    pub fn sync_through(&self, transport: &dyn Transport) -> Result<SyncSummary, ShieldError> {
        self.shield.sync(transport)
    }

    /// The verdict on a call, or a failure if the demo built a bad number.
    pub fn call(&self, raw: &str, direction: Direction) -> Result<Verdict, Failure> {
        self.shield
            .check_call(raw, direction)
            .map_err(|e| Failure::new(format!("the demo checked a bad number: {e}")))
    }
}

/// What act 2 found.
#[derive(Debug, Serialize)]
pub struct Screening {
    /// The first sync, from an empty phone.
    pub first_sync: SyncFigures,
    /// Entries on the phone after it.
    pub entries_on_phone: u64,
    /// The events shown, one line each.
    pub shown: Vec<ShownEvent>,
    /// The bulk stream behind the latency figures.
    pub stream: StreamFigures,
}

/// One event of the shown stream.
#[derive(Debug, Serialize)]
pub struct ShownEvent {
    /// `incoming call`, `outgoing call`, `payment`, `qq`, `alipay`, `message`.
    pub what: &'static str,
    /// Identifier kind.
    pub kind: Kind,
    /// The action taken.
    pub action: Action,
    /// Where the answer came from.
    pub source: fraudshield_core::verdict::Source,
    /// The list release that answered.
    pub release: u64,
}

/// The bulk stream: counts and lookup latency.
#[derive(Debug, Serialize)]
pub struct StreamFigures {
    /// Calls screened.
    pub calls: u64,
    /// Blocked.
    pub blocked: u64,
    /// Warned.
    pub warned: u64,
    /// Allowed.
    pub allowed: u64,
    /// Median lookup time (normalize + look up + decide), nanoseconds.
    pub lookup_p50_ns: u64,
    /// 99th percentile, nanoseconds.
    pub lookup_p99_ns: u64,
    /// Mean, nanoseconds.
    pub lookup_mean_ns: u64,
}

/// Calls in the measured stream.
const STREAM: usize = 50_000;
/// Share of the stream (per cent) that comes from numbers on the list: most calls are clean.
const FLAGGED_PERCENT: usize = 10;

/// Act 2.
pub fn run(
    screen: Screen,
    phone: &Phone,
    list: &Blocklist,
    seed: u64,
) -> Result<Screening, Failure> {
    if screen.text {
        say!("\n== 2. A phone installs the app: its first sync fetches and checks the whole list");
    }
    let spinner = screen.spinner("downloading, verifying and installing the list");
    let first_sync = phone.sync();
    spinner.finish_and_clear();
    let first_sync = first_sync?;
    let entries = phone.shield.status().entries;
    if screen.text {
        say!("  {}", first_sync.text());
        say!(
            "  signature, size and fingerprint of every byte checked before use; {} entries on the phone, no network needed to look them up",
            show::count(entries)
        );
        say!("\n   A stream of calls, payments and messages, screened on the phone:");
    }
    let shown = show_stream(screen, phone, list, seed)?;
    let stream = measure(screen, phone, list, seed)?;
    if screen.text {
        say!(
            "\n  {} more calls screened (one in {} from a listed number): {} blocked, {} warned, {} allowed",
            show::count(stream.calls),
            100 / FLAGGED_PERCENT,
            show::count(stream.blocked),
            show::count(stream.warned),
            show::count(stream.allowed)
        );
        say!(
            "  one lookup (normalize the number as shown, look it up, decide): median {}, 99th percentile {}",
            nanos(stream.lookup_p50_ns),
            nanos(stream.lookup_p99_ns)
        );
    }
    Ok(Screening {
        first_sync,
        entries_on_phone: entries,
        shown,
        stream,
    })
}

/// `850 ns`, `1.2 µs`.
pub fn nanos(ns: u64) -> String {
    if ns >= 1_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{ns} ns")
    }
}

/// A listed phone number of the wanted risk, dressed as a dialler shows it.
fn listed_phone(list: &Blocklist, seed: u64, risk: &[Risk], skip: usize) -> Option<(Key, String)> {
    let keys: Vec<Key> = list
        .present_queries(2_000, seed)
        .into_iter()
        .filter(|k| k.kind() == Kind::Phone)
        .filter(|k| {
            list.get(k.as_bytes())
                .is_some_and(|v| risk.contains(&v.risk))
        })
        .skip(skip)
        .take(1)
        .collect();
    let dressed = synth::dress(&keys, seed).into_iter().next()?;
    Some((dressed.key, dressed.raw))
}

/// One line per event: what, who (masked), the action, why, and the release that answered.
fn line(
    screen: Screen,
    what: &'static str,
    kind: Kind,
    canonical: &str,
    v: &Verdict,
    direction: Direction,
) -> Result<ShownEvent, Failure> {
    if screen.text {
        say!(
            "  {what:<14} {:<20} {:<10} {}  (list release {})",
            show::mask(kind, canonical),
            show::action(v, direction),
            show::why(v),
            v.list_version
        );
    }
    Ok(ShownEvent {
        what,
        kind,
        action: v.action,
        source: v.source,
        release: v.list_version,
    })
}

fn show_stream(
    screen: Screen,
    phone: &Phone,
    list: &Blocklist,
    seed: u64,
) -> Result<Vec<ShownEvent>, Failure> {
    let mut shown = Vec::new();
    let mut call = |what, raw: &str, key: Option<&Key>, direction| -> Result<(), Failure> {
        let v = phone.call(raw, direction)?;
        let canonical = match key {
            Some(k) => k.canonical().to_owned(),
            None => phone
                .shield
                .canonical(Kind::Phone, raw)
                .map_err(|e| Failure::new(format!("the demo built a bad number: {e}")))?,
        };
        shown.push(line(screen, what, Kind::Phone, &canonical, &v, direction)?);
        Ok(())
    };
    let clean = synth::dress(&list.absent_queries(3, seed), seed);
    if let Some((key, raw)) = listed_phone(list, seed, &[Risk::High], 0) {
        call("incoming call", &raw, Some(&key), Direction::Incoming)?;
    }
    if let Some(d) = clean.first() {
        call("incoming call", &d.raw, Some(&d.key), Direction::Incoming)?;
    }
    if let Some((key, raw)) = listed_phone(list, seed, &[Risk::Medium, Risk::Low], 0) {
        call("incoming call", &raw, Some(&key), Direction::Incoming)?;
    }
    if let Some(key) = list.prefix_queries(1, seed).first() {
        call(
            "incoming call",
            key.canonical(),
            Some(key),
            Direction::Incoming,
        )?;
    }
    call("incoming call", "110", None, Direction::Incoming)?;
    if let Some((key, raw)) = listed_phone(list, seed, &[Risk::High], 1) {
        call("outgoing call", &raw, Some(&key), Direction::Outgoing)?;
    }
    if let Some(d) = clean.get(1) {
        call("outgoing call", &d.raw, Some(&d.key), Direction::Outgoing)?;
    }
    // Accounts: a payment to a listed card, a QQ contact, an Alipay payee.
    for (what, kind) in [
        ("payment to", Kind::Bank),
        ("QQ contact", Kind::Qq),
        ("Alipay payee", Kind::Alipay),
    ] {
        let key = list
            .present_queries(2_000, seed)
            .into_iter()
            .find(|k| k.kind() == kind);
        if let Some(key) = key {
            let v = phone
                .shield
                .check(kind, key.canonical(), Direction::Incoming)
                .map_err(|e| Failure::new(format!("the demo checked a bad identifier: {e}")))?;
            shown.push(line(
                screen,
                what,
                kind,
                key.canonical(),
                &v,
                Direction::Incoming,
            )?);
        }
    }
    // Messages: every identifier found in them, each with its verdict. Two that name a listed
    // identifier (about half the generated messages do).
    let messages = synth::messages(list, 16, seed);
    let flagged = messages.iter().filter_map(|text| {
        let found = phone.shield.check_message(text);
        found
            .iter()
            .any(|f| f.verdict.action != Action::Allow)
            .then_some((text, found))
    });
    for (text, found) in flagged.take(2) {
        if screen.text {
            say!("  message        \"{}\"", show::preview(text, 28));
        }
        for f in found {
            shown.push(line(
                screen,
                "  in message",
                f.kind,
                &f.canonical,
                &f.verdict,
                Direction::Incoming,
            )?);
        }
    }
    Ok(shown)
}

/// Screens [`STREAM`] calls as numbers are shown (dressed), timing each lookup.
fn measure(
    screen: Screen,
    phone: &Phone,
    list: &Blocklist,
    seed: u64,
) -> Result<StreamFigures, Failure> {
    let flagged = STREAM * FLAGGED_PERCENT / 100;
    let mut keys: Vec<Key> = list
        .present_queries(flagged * 2, seed ^ 1)
        .into_iter()
        .filter(|k| k.kind() == Kind::Phone)
        .take(flagged)
        .collect();
    keys.extend(list.absent_queries(STREAM - keys.len(), seed ^ 1));
    let calls = synth::dress(&keys, seed ^ 1);
    let bar = screen.bar(calls.len() as u64, "screening a stream of calls");
    let mut times = Vec::with_capacity(calls.len());
    let (mut blocked, mut warned, mut allowed) = (0, 0, 0);
    let started = Instant::now();
    for (i, c) in calls.iter().enumerate() {
        let t = Instant::now();
        let v = phone.shield.check_call(&c.raw, Direction::Incoming);
        times.push(t.elapsed().as_nanos() as u64);
        match v.map(|v| v.action) {
            Ok(Action::Block) => blocked += 1,
            Ok(Action::Warn) => warned += 1,
            Ok(Action::Allow) => allowed += 1,
            Err(e) => return Err(Failure::new(format!("the demo built a bad number: {e}"))),
        }
        if i.is_multiple_of(1024) {
            bar.set_position(i as u64);
        }
    }
    let total = started.elapsed();
    bar.finish_and_clear();
    times.sort_unstable();
    let at = |q: f64| {
        times
            .get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Ok(StreamFigures {
        calls: calls.len() as u64,
        blocked,
        warned,
        allowed,
        lookup_p50_ns: at(0.5),
        lookup_p99_ns: at(0.99),
        lookup_mean_ns: (total.as_nanos() / calls.len().max(1) as u128) as u64,
    })
}
