//! Act 4, an attacker on the network: the next genuine release is published, and on its way to
//! the phone it is tampered with on purpose, three ways. The phone must refuse each, keep its
//! list and keep answering; then the untampered update goes through.
//!
//! The attacker sits in the phone's HTTP stack ([`Tampering`], a [`Transport`] around the real
//! one): every request really goes to the server over loopback, and the answer is altered
//! before the sync engine sees it — exactly the bytes a man-in-the-middle or a compromised
//! mirror would hand over. A separate proxy server would only add a second hop that alters the
//! same bytes.

use super::api::Api;
use super::list::{self, number, proposal};
use super::phone::{Phone, SyncFigures};
use super::server::Tokens;
use super::show::{self, Screen};
use super::tip::Seen;
use crate::output::{Failure, say};
use fraudshield_benches::synth::{self, Blocklist};
use fraudshield_core::entry::{Category, EntryValue, ReportBucket, Risk};
use fraudshield_core::kind::Kind;
use fraudshield_core::release::manifest::Manifest;
use fraudshield_core::release::signed::Bundle;
use fraudshield_core::shield::ShieldError;
use fraudshield_core::sync::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use fraudshield_core::verdict::Direction;
use serde::Serialize;
use serde_json::json;

/// How the attacker alters the update.
#[derive(Debug, Clone)]
enum Attack {
    /// One byte of the downloaded list change is altered.
    Artifact,
    /// The signed manifest's expiry is pushed a year ahead (a frozen list would look fresh).
    Expiry,
    /// The very first release, an empty list, is replayed to wipe the phone's list.
    Replay(Vec<u8>),
}

impl Attack {
    fn name(&self) -> &'static str {
        match self {
            Attack::Artifact => "altered_change",
            Attack::Expiry => "extended_expiry",
            Attack::Replay(_) => "replayed_empty_release",
        }
    }

    /// What the attacker did.
    fn text(&self) -> &'static str {
        match self {
            Attack::Artifact => "one byte of the downloaded list change altered",
            Attack::Expiry => "the signed manifest's expiry pushed a year ahead",
            Attack::Replay(_) => "the first release (an empty list) replayed to wipe the list",
        }
    }

    /// Why the phone can tell, in plain words.
    fn caught(&self) -> &'static str {
        match self {
            Attack::Artifact => {
                "the change no longer matches the fingerprint the signed manifest gives for it"
            }
            Attack::Expiry => "the publisher's signature no longer matches the manifest",
            Attack::Replay(_) => "the phone never goes back to an older release than it holds",
        }
    }
}

/// The phone's HTTP stack with an attacker in it.
struct Tampering<'a> {
    inner: &'a dyn Transport,
    attack: Attack,
}

impl Transport for Tampering<'_> {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let is_manifest = request.url.ends_with("v1/manifest");
        let mut response = self.inner.send(request)?;
        match &self.attack {
            Attack::Artifact if !is_manifest && !response.body.is_empty() => {
                let middle = response.body.len() / 2;
                response.body[middle] ^= 0x01;
            }
            Attack::Expiry if is_manifest && response.status == 200 => {
                if let Some(body) = extend_expiry(&response.body) {
                    response.body = body;
                }
            }
            Attack::Replay(old) if is_manifest => {
                response.status = 200;
                response.body = old.clone();
                response
                    .headers
                    .retain(|h| !h.name.eq_ignore_ascii_case("etag"));
            }
            _ => {}
        }
        Ok(response)
    }
}

/// The manifest bundle with its expiry a year later and the original signatures kept.
fn extend_expiry(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut bundle = Bundle::decode(bytes).ok()?;
    let mut manifest = Manifest::decode(&bundle.manifest.payload).ok()?;
    manifest.expires_at += 365 * 24 * 3600;
    bundle.manifest.payload = manifest.encode();
    Some(bundle.encode())
}

/// One tampered update and what the phone did.
#[derive(Debug, Serialize)]
pub struct Refusal {
    /// `altered_change`, `extended_expiry` or `replayed_empty_release`.
    pub attack: &'static str,
    /// The phone refused the update.
    pub refused: bool,
    /// Why, in the sync engine's words.
    pub reason: String,
    /// The release the phone holds afterwards.
    pub release_kept: u64,
    /// Entries on the phone afterwards.
    pub entries_kept: u64,
    /// The release and entry count are what they were before.
    pub list_kept: bool,
    /// A listed caller is still blocked or warned, from the kept release.
    pub still_answering: Seen,
}

/// What act 4 did.
#[derive(Debug, Serialize)]
pub struct TamperAct {
    /// The genuine release the attacker intercepted.
    pub release: u64,
    /// Each attack.
    pub refusals: Vec<Refusal>,
    /// The untampered sync afterwards.
    pub honest_sync: SyncFigures,
    /// The number that release listed, checked after it arrived.
    pub new_listing: Seen,
}

/// Act 4. `first_manifest` is the bundle of the first (empty) release, kept for the replay.
pub fn run(
    screen: Screen,
    api: &Api,
    tokens: &Tokens,
    phone: &Phone,
    list: &Blocklist,
    seed: u64,
    first_manifest: Vec<u8>,
) -> Result<TamperAct, Failure> {
    if screen.text {
        say!("\n== 4. Someone on the network tampers with an update");
    }
    // A genuine release: a number from a new case, reviewed by two analysts.
    let keys = list.absent_queries(1, seed ^ 0xca5e);
    let key = keys
        .first()
        .ok_or_else(|| Failure::new("the generator gave no clean number"))?;
    let value = EntryValue {
        category: Category::PoliceImpersonation,
        risk: Risk::High,
        reports: ReportBucket::default(),
        prefix: false,
    };
    let p = api.post_ok(
        "proposing a listing from a case",
        "v1/proposals",
        &tokens.analyst_a,
        &proposal(
            key,
            &value,
            "police case: caller impersonating a prosecutor",
        ),
    )?;
    api.post_ok(
        "approving the listing",
        &format!("v1/proposals/{}/approve", number(&p, "id")?),
        &tokens.analyst_b,
        &json!({}),
    )?;
    let published = list::publish(screen, api, tokens, "new case")?;
    if screen.text {
        say!(
            "  release {} (a number from a new police case, reviewed by two analysts) is on its way to the phone",
            published.release
        );
        say!(
            "  the demo now tampers with this update on purpose, three ways, between the server and the phone:"
        );
    }
    // A listed caller the phone answers for throughout.
    let listed = synth::dress(
        &list
            .present_queries(500, seed ^ 0x7a3)
            .into_iter()
            .filter(|k| k.kind() == Kind::Phone)
            .take(1)
            .collect::<Vec<_>>(),
        seed,
    );
    let listed = listed
        .first()
        .ok_or_else(|| Failure::new("the generator gave no listed number"))?;
    let before = phone.shield.status();
    let mut refusals = Vec::new();
    for attack in [
        Attack::Artifact,
        Attack::Expiry,
        Attack::Replay(first_manifest),
    ] {
        let tampering = Tampering {
            inner: &phone.http,
            attack: attack.clone(),
        };
        let outcome = phone.sync_through(&tampering);
        let (refused, reason) = match outcome {
            Err(ShieldError::VerificationFailed { reason }) => (true, reason),
            Err(other) => (false, format!("not refused as tampered: {other}")),
            Ok(_) => (false, "accepted".to_owned()),
        };
        let after = phone.shield.status();
        let v = phone.call(&listed.raw, Direction::Incoming)?;
        let list_kept = after.release == before.release && after.entries == before.entries;
        if screen.text {
            say!("  - {}:", attack.text());
            if refused && list_kept {
                say!(
                    "    this update was tampered with on purpose; the phone refused it ({}) and kept its list",
                    attack.caught()
                );
            } else {
                say!("    THE PHONE DID NOT REFUSE IT AS IT MUST ({reason})");
            }
            say!(
                "    still release {} with {} entries: a call from a listed number ({}) is still {}",
                after.release,
                show::count(after.entries),
                show::mask(Kind::Phone, listed.key.canonical()),
                show::action(&v, Direction::Incoming)
            );
        }
        refusals.push(Refusal {
            attack: attack.name(),
            refused,
            reason,
            release_kept: after.release,
            entries_kept: after.entries,
            list_kept,
            still_answering: Seen::from(&v),
        });
    }
    let honest_sync = phone.sync()?;
    let v = phone
        .shield
        .check_call(key.canonical(), Direction::Incoming)
        .map_err(|e| Failure::new(format!("the demo checked a bad number: {e}")))?;
    if screen.text {
        say!(
            "  the untampered update then arrives: {}",
            honest_sync.text()
        );
        say!(
            "  incoming call  {:<20} {:<10} {}  (list release {})",
            show::mask(Kind::Phone, key.canonical()),
            show::action(&v, Direction::Incoming),
            show::why(&v),
            v.list_version
        );
    }
    Ok(TamperAct {
        release: published.release,
        refusals,
        honest_sync,
        new_listing: Seen::from(&v),
    })
}
