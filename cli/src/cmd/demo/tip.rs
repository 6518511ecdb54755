//! Act 3, the live loop: a citizen reports a number from the app, the tip reaches the review
//! queue, one analyst proposes to list it, the server refuses to let the same analyst approve
//! it (four eyes), a second analyst approves, the publisher cuts a release, the phone syncs a
//! small delta and the same call is now warned. Then the number's owner appeals, the listing is
//! revoked the same reviewed way, and the call is clean again.

use super::api::Api;
use super::list::{self, number};
use super::phone::{Phone, SyncFigures};
use super::server::{ANALYST_A, ANALYST_B, PUBLISHER, Tokens};
use super::show::{self, Screen};
use crate::output::{Failure, say};
use fraudshield_benches::synth::{self, Blocklist};
use fraudshield_core::entry::Category;
use fraudshield_core::kind::Kind;
use fraudshield_core::shield::{CitizenReport, ReportState};
use fraudshield_core::verdict::{Action, Direction, Source, Verdict};
use serde::Serialize;
use serde_json::{Value, json};

/// A verdict as the summary records it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Seen {
    /// The action.
    pub action: Action,
    /// Where the answer came from.
    pub source: Source,
    /// The list release that answered.
    pub release: u64,
}

impl From<&Verdict> for Seen {
    fn from(v: &Verdict) -> Seen {
        Seen {
            action: v.action,
            source: v.source,
            release: v.list_version,
        }
    }
}

/// One reviewed change, from proposal to the phone.
#[derive(Debug, Serialize)]
pub struct Review {
    /// The proposer's attempt to approve their own proposal: the HTTP status the server gave.
    pub self_approval_status: u16,
    /// The server refused it (four eyes enforced).
    pub self_approval_refused: bool,
    /// A second analyst approved it.
    pub approved_by_second_analyst: bool,
    /// The release that carries it.
    pub release: u64,
    /// Publishing it (the publisher's request until the server answered), milliseconds.
    pub publish_ms: u64,
    /// The phone's sync that fetched it.
    pub sync: SyncFigures,
    /// The verdict on the same call afterwards.
    pub after: Seen,
}

/// What act 3 did.
#[derive(Debug, Serialize)]
pub struct LiveLoop {
    /// The verdict before anyone reported the number.
    pub before: Seen,
    /// The report was queued on the phone.
    pub report_queued: bool,
    /// The next sync uploaded it and the server gave a tracking id.
    pub report_uploaded: bool,
    /// The tip showed up in the analysts' review queue, grouped under its number.
    pub tip_in_queue: bool,
    /// Listing the number.
    pub listing: Review,
    /// The citizen's app can read the analysts' answer.
    pub citizen_answered: bool,
    /// The owner's appeal and the revocation.
    pub appeal: Review,
}

/// Act 3.
pub fn run(
    screen: Screen,
    api: &Api,
    tokens: &Tokens,
    phone: &Phone,
    list: &Blocklist,
    seed: u64,
) -> Result<LiveLoop, Failure> {
    if screen.text {
        say!(
            "\n== 3. A citizen reports a number; two analysts review it; the phones get it at their next sync"
        );
    }
    // A number on no list yet, written as the caller id shows it.
    let keys = list.absent_queries(1, seed ^ 0x71b5);
    let dressed = synth::dress(&keys, seed ^ 0x71b5);
    let (key, raw) = match dressed.first() {
        Some(d) => (d.key.clone(), d.raw.clone()),
        None => return Err(Failure::new("the generator gave no clean number")),
    };
    let who = show::mask(Kind::Phone, key.canonical());
    let call = |label: &str| -> Result<Seen, Failure> {
        let v = phone.call(&raw, Direction::Incoming)?;
        if screen.text {
            say!(
                "  {label:<14} {who:<20} {:<10} {}  (list release {})",
                show::action(&v, Direction::Incoming),
                show::why(&v),
                v.list_version
            );
        }
        Ok(Seen::from(&v))
    };
    let before = call("incoming call")?;

    // The citizen reports it from the app: queued on the phone, sent with the next sync.
    let report = CitizenReport {
        kind: Kind::Phone,
        value: raw.clone(),
        category: Category::CustomerService,
        text: "自称快递客服，说我的包裹丢了要理赔，让我下载会议软件共享屏幕。".to_owned(),
        contact: None,
    };
    let queued = phone
        .shield
        .queue_report(report)
        .map_err(|e| Failure::new(format!("the phone could not queue the report: {e}")))?;
    let uploaded = phone.sync()?;
    let tracking_id = phone
        .shield
        .reports()
        .map_err(|e| Failure::new(format!("cannot read the phone's outbox: {e}")))?
        .into_iter()
        .find(|r| r.id == queued.id)
        .and_then(|r| match r.state {
            ReportState::Sent { tracking_id, .. } => Some(tracking_id),
            _ => None,
        });
    let report_uploaded = uploaded.reports_sent == 1 && tracking_id.is_some();
    let tracking_id = tracking_id
        .ok_or_else(|| Failure::new("the server did not accept the citizen's report"))?;
    if screen.text {
        say!(
            "  the citizen reports it in the app (\"fake courier customer service\"); the report waits on the phone and goes out with the next sync: the server answers with a tracking number"
        );
    }

    // The review queue groups tips by identifier.
    let queue = api.get_ok(
        "reading the review queue",
        "v1/review/queue",
        Some(&tokens.analyst_a),
    )?;
    let row = queue.as_array().and_then(|rows| {
        rows.iter()
            .find(|r| r["identifier"]["value"].as_str() == Some(key.canonical()))
    });
    let tip_in_queue = row.is_some_and(|r| {
        r["tips"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["tracking_id"] == tracking_id.as_str()))
    });
    if screen.text {
        let due = row
            .and_then(|r| r["due_at"].as_str())
            .map(|d| d.chars().take(10).collect::<String>())
            .unwrap_or_default();
        let tips = row.and_then(|r| r["evidence"].as_u64()).unwrap_or(0);
        let plural = if tips == 1 { "" } else { "s" };
        say!(
            "  analyst {ANALYST_A}'s review queue shows the number with {tips} tip{plural}; the citizen's answer is due by {due}"
        );
    }

    let listing = review(
        screen,
        api,
        tokens,
        phone,
        "v1/proposals",
        &json!({
            "action": "add",
            "kind": "phone",
            "value": key.canonical(),
            "category": "customer_service",
            "risk": "medium",
            "reason": "citizen's report: fake courier customer service asking for screen sharing",
            "tips": [tracking_id],
        }),
        &format!("analyst {ANALYST_A} proposes to list it (fake customer service, medium risk)"),
        (&tokens.analyst_a, &tokens.analyst_b, ANALYST_A, ANALYST_B),
        &call,
    )?;

    // The citizen gets an answer, readable with the tracking id alone.
    api.post_ok(
        "answering the citizen",
        &format!("v1/tips/{tracking_id}/answer"),
        &tokens.analyst_a,
        &json!({"outcome": "approved", "message": "Thank you: the number is now flagged for every user."}),
    )?;
    let status = api.get_ok(
        "reading the tip's status",
        &format!("v1/reports/{tracking_id}"),
        None,
    )?;
    let citizen_answered = status["status"] == "answered";
    if screen.text && citizen_answered {
        say!(
            "  the citizen's app, asking with the tracking number, now reads the analysts' answer"
        );
    }

    if screen.text {
        say!("\n   An appeal: the number's owner shows it was flagged by mistake");
    }
    let appeal = review(
        screen,
        api,
        tokens,
        phone,
        "v1/appeals",
        &json!({
            "kind": "phone",
            "value": key.canonical(),
            "reason": "the owner showed the number was reassigned to them last month",
        }),
        &format!("analyst {ANALYST_B} files the appeal: revoke the listing"),
        (&tokens.analyst_b, &tokens.analyst_a, ANALYST_B, ANALYST_A),
        &call,
    )?;
    Ok(LiveLoop {
        before,
        report_queued: true,
        report_uploaded,
        tip_in_queue,
        listing,
        citizen_answered,
        appeal,
    })
}

/// One change through review: proposed by the first analyst of `who`, self-approval tried
/// and refused, approved by the second, published, synced, and the call checked again.
#[allow(clippy::too_many_arguments)]
fn review(
    screen: Screen,
    api: &Api,
    tokens: &Tokens,
    phone: &Phone,
    path: &str,
    body: &Value,
    proposed_text: &str,
    who: (&str, &str, &str, &str),
    call: &dyn Fn(&str) -> Result<Seen, Failure>,
) -> Result<Review, Failure> {
    let (proposer, approver, proposer_name, approver_name) = who;
    let proposal = api.post_ok("proposing a change", path, proposer, body)?;
    let id = number(&proposal, "id")?;
    if screen.text {
        say!("  {proposed_text}");
    }
    let own = api.post(
        &format!("v1/proposals/{id}/approve"),
        Some(proposer),
        &json!({}),
    )?;
    let self_approval_refused = own.status == 403;
    if screen.text {
        if self_approval_refused {
            say!(
                "  analyst {proposer_name} tries to approve it too: the server refuses (four eyes: another analyst must approve)"
            );
        } else {
            say!(
                "  analyst {proposer_name} tries to approve it too: the server answered HTTP {} (four eyes NOT enforced)",
                own.status
            );
        }
    }
    let approved = if self_approval_refused {
        api.post_ok(
            "approving the change",
            &format!("v1/proposals/{id}/approve"),
            approver,
            &json!({}),
        )?
    } else {
        own.body
    };
    let approved_by_second_analyst = approved["status"] == "approved" && self_approval_refused;
    if screen.text {
        say!("  analyst {approver_name} approves it");
    }
    let published = list::publish(screen, api, tokens, "reviewed change")?;
    if screen.text {
        say!(
            "  publisher {PUBLISHER} publishes release {} in {}",
            published.release,
            show::duration(published.took)
        );
    }
    let sync = phone.sync()?;
    if screen.text {
        say!("  the phone syncs: {}", sync.text());
    }
    let after = call("same call")?;
    Ok(Review {
        self_approval_status: own.status,
        self_approval_refused,
        approved_by_second_analyst,
        release: published.release,
        publish_ms: published.took.as_millis() as u64,
        sync,
        after,
    })
}
