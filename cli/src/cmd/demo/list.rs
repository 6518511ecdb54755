//! Act 1, the police side: a realistic list of flagged identifiers is imported, reviewed under
//! the four-eyes rule and published as the first signed release.
//!
//! The list comes from the benchmarks' deterministic generator
//! (`fraudshield_benches::synth::Blocklist::generate`): the same size and seed give the same
//! list on every machine, shaped like the real one (mostly Chinese mobiles, landlines, overseas
//! call centres, bank cards and accounts, QQ and Alipay accounts, and a few prefix rules).

use super::api::Api;
use super::server::Tokens;
use super::show::{self, Screen};
use crate::output::{Failure, say};
use fraudshield_benches::synth::{Blocklist, Class};
use fraudshield_core::entry::EntryValue;
use fraudshield_core::key::Key;
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
    /// Publishing the signed release (as the server measured it), milliseconds.
    pub publish_ms: u64,
}

/// Act 1.
pub fn run(
    screen: Screen,
    api: &Api,
    tokens: &Tokens,
    size: usize,
    seed: u64,
) -> Result<(Blocklist, FirstRelease), Failure> {
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
    import(screen, api, tokens, &list)?;
    let import = started.elapsed();
    let published = publish(screen, api, tokens, "the imported case data")?;
    if screen.text {
        say!(
            "  imported and approved by a second analyst in {}; release {} published and signed in {} ({} entries)",
            show::duration(import),
            published.release,
            show::duration(published.took),
            show::count(published.entries)
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
    /// The server's own publish time.
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
    let reply = api.post_ok(
        "publishing",
        "v1/publish",
        &tokens.publisher,
        &json!({ "reason": reason }),
    );
    spinner.finish_and_clear();
    let reply = reply?;
    Ok(Published {
        release: number(&reply, "release")?,
        entries: number(&reply, "entries")?,
        took: Duration::from_millis(number(&reply, "duration_ms")?),
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

/// Imports the list: analyst A proposes every entry, analyst B approves each.
fn import(screen: Screen, api: &Api, tokens: &Tokens, list: &Blocklist) -> Result<(), Failure> {
    let bar = screen.bar(list.len() as u64, "importing and reviewing");
    for (i, (key, value)) in list.entries().iter().enumerate() {
        let p = api.post_ok(
            "proposing an imported entry",
            "v1/proposals",
            &tokens.analyst_a,
            &proposal(key, value, "case data import"),
        )?;
        let id = number(&p, "id")?;
        api.post_ok(
            "approving an imported entry",
            &format!("v1/proposals/{id}/approve"),
            &tokens.analyst_b,
            &json!({}),
        )?;
        if i % 64 == 0 {
            bar.set_position(i as u64);
        }
    }
    bar.finish_and_clear();
    Ok(())
}
