//! Act 1, the police side: a realistic list of flagged identifiers is imported, reviewed under
//! the four-eyes rule and published as the first signed release.
//!
//! The list comes from the benchmarks' deterministic generator
//! (`fraudshield_benches::synth::Blocklist::generate`): the same size and seed give the same
//! list on every machine, shaped like the real one (mostly Chinese mobiles, landlines, overseas
//! call centres, bank cards and accounts, QQ and Alipay accounts, and a few prefix rules).

use super::api::Api;
use super::server::{ANALYST_A, ANALYST_B, Server, Tokens};
use super::show::{self, Screen};
use crate::output::{Failure, say};
use fraudshield_benches::synth::{Blocklist, Class};
use fraudshield_core::entry::EntryValue;
use fraudshield_core::key::Key;
use fraudshield_server::batch::{BatchRow, Imported};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// What the list holds, by kind.
#[derive(Debug, Default, Serialize)]
pub struct ListShape {
    /// Entries in all.
    pub entries: u64,
    /// Phone numbers (mobile, landline, service, overseas).
    pub phone: u64,
    /// Phone prefix rules (number ranges).
    pub phone_prefix_rules: u64,
    /// Bank cards and accounts.
    pub bank: u64,
    /// QQ numbers.
    pub qq: u64,
    /// Alipay accounts.
    pub alipay: u64,
}

impl ListShape {
    fn of(list: &Blocklist) -> ListShape {
        let mut shape = ListShape {
            entries: list.len() as u64,
            ..ListShape::default()
        };
        for (class, n) in Class::ALL.iter().zip(list.class_counts()) {
            let n = n as u64;
            match class {
                Class::Mobile | Class::Landline | Class::International => shape.phone += n,
                Class::PrefixRule => shape.phone_prefix_rules += n,
                Class::BankCard | Class::BankAccount => shape.bank += n,
                Class::Qq => shape.qq += n,
                Class::Alipay => shape.alipay += n,
            }
        }
        shape
    }
}

/// What act 1 did.
#[derive(Debug, Serialize)]
pub struct FirstRelease {
    /// The list's shape.
    pub list: ListShape,
    /// Entries the server lists after the publish.
    pub entries_published: u64,
    /// The release published.
    pub release: u64,
    /// Generating the list, milliseconds.
    pub generate_ms: u64,
    /// Importing and reviewing it, milliseconds.
    pub import_ms: u64,
    /// Publishing the signed release (the publisher's request until the server answered),
    /// milliseconds.
    pub publish_ms: u64,
}

/// Act 1.
pub fn run(
    screen: Screen,
    server: &Server,
    api: &Api,
    size: usize,
    seed: u64,
) -> Result<(Blocklist, FirstRelease), Failure> {
    let tokens = &server.tokens;
    if screen.text {
        say!("\n== 1. The police import a list of flagged identifiers and publish it, signed");
    }
    let started = Instant::now();
    let spinner = screen.spinner("generating a realistic list");
    let list = Blocklist::generate(size, seed);
    spinner.finish_and_clear();
    let generate = started.elapsed();
    let shape = ListShape::of(&list);
    if screen.text {
        say!(
            "  {} flagged identifiers (synthetic, seed {seed}): {} phone numbers, {} number ranges, {} bank cards and accounts, {} QQ and {} Alipay accounts",
            show::count(shape.entries),
            show::count(shape.phone),
            show::count(shape.phone_prefix_rules),
            show::count(shape.bank),
            show::count(shape.qq),
            show::count(shape.alipay)
        );
    }
    let started = Instant::now();
    let imported = import(screen, server, api, &list)?;
    let import = started.elapsed();
    if screen.text {
        say!(
            "  analyst {ANALYST_A} imports them as one batch of {} proposals; analyst {ANALYST_B} approves the batch as a unit ({})",
            show::count(imported.proposed),
            show::duration(import)
        );
    }
    let published = publish(screen, api, tokens, "the imported case data")?;
    if screen.text {
        say!(
            "  release {} published: {} entries, built, signed with the server's key and written in {}",
            published.release,
            show::count(published.entries),
            show::duration(published.took)
        );
    }
    Ok((
        list,
        FirstRelease {
            list: shape,
            entries_published: published.entries,
            release: published.release,
            generate_ms: generate.as_millis() as u64,
            import_ms: import.as_millis() as u64,
            publish_ms: published.took.as_millis() as u64,
        },
    ))
}

/// A release the publisher cut.
pub struct Published {
    /// Its number.
    pub release: u64,
    /// Entries listed after it.
    pub entries: u64,
    /// From the publisher's request to the answer: the release built, signed, written, served
    /// and recorded.
    pub took: Duration,
}

/// The publisher cuts the next release from every approved change.
pub fn publish(
    screen: Screen,
    api: &Api,
    tokens: &Tokens,
    reason: &str,
) -> Result<Published, Failure> {
    let spinner = screen.spinner("publishing: building, signing and writing the release");
    let started = Instant::now();
    let reply = api.post_ok(
        "publishing",
        "v1/publish",
        &tokens.publisher,
        &json!({ "reason": reason }),
    );
    let took = started.elapsed();
    spinner.finish_and_clear();
    let reply = reply?;
    Ok(Published {
        release: number(&reply, "release")?,
        entries: number(&reply, "entries")?,
        took,
    })
}

/// A number field of a server answer.
pub fn number(v: &Value, field: &str) -> Result<u64, Failure> {
    v[field].as_u64().ok_or_else(|| {
        Failure::new(format!(
            "the server's answer lacks the number `{field}` the demo expects"
        ))
    })
}

/// The JSON the proposal endpoint takes for one entry.
pub fn proposal(key: &Key, value: &EntryValue, reason: &str) -> Value {
    json!({
        "action": "add",
        "kind": key.kind(),
        "value": key.canonical(),
        "prefix": value.prefix,
        "category": value.category,
        "risk": value.risk,
        "reason": reason,
    })
}

/// Imports the list as case data: one batch of proposals by analyst A, approved as a unit by
/// analyst B (four eyes) over HTTP.
fn import(
    screen: Screen,
    server: &Server,
    api: &Api,
    list: &Blocklist,
) -> Result<Imported, Failure> {
    let rows: Vec<BatchRow> = list
        .entries()
        .iter()
        .enumerate()
        .map(|(i, (key, value))| BatchRow {
            // As if read from a file with a header line.
            line: i as u64 + 2,
            key: key.clone(),
            prefix: value.prefix,
            category: value.category,
            risk: value.risk,
            reports: value.reports.min_reports(),
        })
        .collect();
    let spinner = screen.spinner("importing the case data as one batch");
    let imported = server.import_batch(
        &server.tokens.analyst_a,
        "synthetic case data",
        &rows,
        "case data import",
    );
    spinner.finish_and_clear();
    let imported = imported?;
    let spinner = screen.spinner("the second analyst approves the batch");
    let approved = api.post_ok(
        "approving the imported batch",
        &format!("v1/batches/{}/approve", imported.batch_id),
        &server.tokens.analyst_b,
        &json!({}),
    );
    spinner.finish_and_clear();
    approved?;
    Ok(imported)
}
