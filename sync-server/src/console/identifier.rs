//! An identifier's page: every tip about it, the entry as listed, its proposals, its audit
//! trail; and the forms that act on it — propose (add, change, revoke, appeal) with
//! [`review::propose`], and answer a tipster with [`tips::answer`], the functions behind
//! `POST /v1/proposals`, `POST /v1/appeals` and `POST /v1/tips/{tracking_id}/answer`.

use super::session::{CsrfForm, Session};
use super::{
    Chrome, PageError, PageResult, category_label, category_name_label, category_options,
    identifier_href, local_time, local_unix, render, risk_label,
};
use crate::app::AppState;
use crate::audit::{self, AuditFilter};
use crate::error::AppError;
use crate::ident::{self, IdentifierView};
use crate::review::{self, Action, NewProposal};
use crate::tips::{self, Outcome};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use fraudshield_core::entry::{Category, Risk};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use rusqlite::{Connection, params};
use serde::Deserialize;

/// Which identifier (the query of the page; hidden fields of its forms).
#[derive(Debug, Clone, Deserialize)]
pub struct Which {
    /// Kind.
    pub kind: Kind,
    /// Value in any usual spelling.
    pub value: String,
    /// A phone prefix rule.
    #[serde(default)]
    pub prefix: bool,
    /// What was just done (a fixed word shown as a notice).
    #[serde(default)]
    pub done: Option<String>,
}

impl Which {
    fn key(&self) -> Result<Key, AppError> {
        ident::normalize(self.kind, &self.value, self.prefix)
    }
}

/// One tip on the page.
#[derive(Debug)]
pub struct TipRow {
    /// Tracking id.
    pub tracking_id: String,
    /// Category for people.
    pub category: String,
    /// The tipster's words.
    pub text: String,
    /// Local time.
    pub received: String,
    /// Local time.
    pub due: String,
    /// Unanswered and past due.
    pub overdue: bool,
    /// Merged repeats.
    pub repeats: u32,
    /// `approved` / `rejected`, once answered.
    pub outcome: Option<String>,
    /// The answer the tipster sees.
    pub answer: Option<String>,
    /// Local time of the answer.
    pub answered: Option<String>,
    /// The tipster left a contact that is still kept (the contact itself is read only on
    /// request, audited: [`contact`]).
    pub has_contact: bool,
}

/// A contact an analyst asked to read, shown under its tip.
#[derive(Debug)]
pub struct Revealed {
    /// The tip.
    pub tracking_id: String,
    /// The contact, or `None` when none is kept (none given, or deleted after retention).
    pub contact: Option<String>,
}

/// Every tip about `key`, newest first (answered ones too).
fn tips_about(
    state: &AppState,
    conn: &Connection,
    key: &Key,
    now: i64,
) -> Result<Vec<TipRow>, AppError> {
    let mut st = conn.prepare(
        "SELECT tracking_id, category, text, received_at, due_at, repeats, answered_at, outcome, answer,
                EXISTS(SELECT 1 FROM tip_contacts c WHERE c.tip_id = tips.id)
         FROM tips WHERE key = ?1 ORDER BY received_at DESC, id DESC LIMIT 500",
    )?;
    let rows = st
        .query_map(params![key.as_bytes()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, u32>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, bool>(9)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .map(
            |(
                tracking_id,
                category,
                text,
                received,
                due,
                repeats,
                answered_at,
                outcome,
                answer,
                has_contact,
            )| TipRow {
                tracking_id,
                category: category_name_label(&category),
                text,
                received: local_unix(state, received),
                due: local_unix(state, due),
                overdue: answered_at.is_none() && due < now,
                repeats,
                outcome,
                answer,
                answered: answered_at.map(|t| local_unix(state, t)),
                has_contact,
            },
        )
        .collect())
}

/// A proposal on the page.
#[derive(Debug)]
pub struct ProposalRow {
    /// Id.
    pub id: i64,
    /// `add`, `change`, `revoke` (or `appeal`).
    pub action: String,
    /// Category · risk, for add and change.
    pub value: Option<String>,
    /// Why.
    pub reason: String,
    /// Proposer's name.
    pub proposer: String,
    /// Local time.
    pub proposed: String,
    /// Status.
    pub status: &'static str,
    /// Reviewer and their reason.
    pub reviewer: Option<String>,
    /// Reviewer's reason.
    pub review_reason: Option<String>,
    /// Release it went out in.
    pub release: Option<u64>,
    /// Pending: the page offers approve and reject.
    pub pending: bool,
    /// Approved by its proposer under `single_reviewer`.
    pub single_reviewer: bool,
}

/// Converts a proposal for the pages.
pub fn proposal_row(state: &AppState, p: review::Proposal) -> ProposalRow {
    ProposalRow {
        id: p.id,
        action: if p.appeal {
            "revoke (appeal)".to_owned()
        } else {
            p.action.as_str().to_owned()
        },
        value: match (p.category, p.risk) {
            (Some(c), Some(r)) => Some(format!("{} · {} risk", category_label(c), risk_label(r))),
            _ => None,
        },
        reason: p.reason,
        proposer: p.proposer,
        proposed: local_time(state, &p.proposed_at),
        status: p.status.as_str(),
        reviewer: p.reviewer,
        review_reason: p.review_reason,
        release: p.release,
        pending: p.status == review::Status::Pending,
        single_reviewer: p.single_reviewer,
    }
}

/// An audit row on the page.
#[derive(Debug)]
pub struct AuditRow {
    /// Local time.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Proposal.
    pub proposal_id: Option<i64>,
    /// Release.
    pub release: Option<u64>,
    /// Why.
    pub reason: Option<String>,
    /// Tips.
    pub tips: usize,
    /// Four eyes relaxed.
    pub single_reviewer: bool,
}

/// Converts an audit row for the pages.
pub fn audit_row(state: &AppState, a: audit::AuditEntry) -> AuditRow {
    AuditRow {
        at: local_time(state, &a.at),
        actor: a.actor,
        action: a.action,
        proposal_id: a.proposal_id,
        release: a.release,
        reason: a.reason,
        tips: a.tips.len(),
        single_reviewer: a.single_reviewer,
    }
}

#[derive(Template)]
#[template(path = "identifier.html")]
struct IdentifierPage {
    chrome: Chrome,
    kind: &'static str,
    value: String,
    prefix: bool,
    notice: Option<&'static str>,
    listed: Option<String>,
    listed_release: Option<u64>,
    tips: Vec<TipRow>,
    proposals: Vec<ProposalRow>,
    open_proposal: bool,
    audit: Vec<AuditRow>,
    categories: Vec<(&'static str, &'static str)>,
    may_propose: bool,
    may_review: bool,
    may_answer: bool,
    may_read_contact: bool,
    revealed: Option<Revealed>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "proposed" => "Proposal recorded. Another analyst must approve it.",
        "approved" => "Approved. It goes out with the next release.",
        "rejected" => "Rejected.",
        "answered" => "Answer recorded; the tipster sees it with their tracking id.",
        "contact" => "The tipster's contact is shown below its tip; this read is in the audit log.",
        _ => return None,
    })
}

/// `GET /console/identifier?kind=…&value=…[&prefix=true]`
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(w): Query<Which>,
) -> PageResult<Response> {
    session.require(&Method::GET, "/v1/review/queue")?;
    let key = w.key()?;
    let page = build(&state, &session, key, w.prefix, notice(w.done.as_deref())).await?;
    Ok(render(&page))
}

/// The form of `POST /console/tips/{tracking_id}/contact`: which page to show it on.
#[derive(Debug, Deserialize)]
pub struct ContactForm {
    /// Kind of the identifier.
    pub kind: Kind,
    /// Its value.
    pub value: String,
    /// A prefix rule.
    #[serde(default)]
    pub prefix: bool,
}

/// `POST /console/tips/{tracking_id}/contact`: the "Show contact" action (analysts, as
/// `GET /v1/tips/{tracking_id}/contact`). Reads the contact with [`tips::contact`], which
/// writes the audit row, and shows the identifier's page with the contact under its tip. A
/// POST, not a link: reading personal data is an action (never prefetched, CSRF-checked), and
/// the contact is never put in a URL; the page is `no-store` like every console page.
pub async fn contact(
    State(state): State<AppState>,
    crate::extract::Path(tracking_id): crate::extract::Path<String>,
    CsrfForm { session, form }: CsrfForm<ContactForm>,
) -> PageResult<Response> {
    session.require(&Method::GET, "/v1/tips/{tracking_id}/contact")?;
    if !tips::is_tracking_id(&tracking_id) {
        return Err(AppError::not_found("tip").into());
    }
    let key = ident::normalize(form.kind, &form.value, form.prefix)?;
    let now = state.clock.now();
    let caller = session.caller.clone();
    let tid = tracking_id.clone();
    let contact = state
        .db
        .call(move |c| tips::contact(c, &caller, &tid, now))
        .await?;
    let mut page = build(&state, &session, key, form.prefix, notice(Some("contact"))).await?;
    page.revealed = Some(Revealed {
        tracking_id,
        contact,
    });
    Ok(render(&page))
}

async fn build(
    state: &AppState,
    session: &Session,
    key: Key,
    prefix: bool,
    notice: Option<&'static str>,
) -> Result<IdentifierPage, PageError> {
    let now = state.clock.now();
    let st = state.clone();
    let k = key.clone();
    let (tips, entry, proposals, audit) = state
        .db
        .call(move |c| {
            let tips = tips_about(&st, c, &k, now)?;
            let entry = review::current_entry(c, &k)?;
            let proposals = review::for_key(c, &k, 100)?;
            let audit = audit::query(
                c,
                &AuditFilter {
                    key: Some(k.as_bytes().to_vec()),
                    limit: 500,
                    ..AuditFilter::default()
                },
            )?;
            Ok((tips, entry, proposals, audit))
        })
        .await?;
    let open_proposal = proposals
        .iter()
        .any(|p| matches!(p.status, review::Status::Pending | review::Status::Approved));
    let role = session.caller.role;
    Ok(IdentifierPage {
        chrome: Chrome::new(session, "/console/queue"),
        kind: key.kind().as_str(),
        value: key.canonical().to_owned(),
        prefix,
        notice,
        listed: entry.as_ref().map(|e| {
            format!(
                "{} · {} risk · {} reports",
                category_label(e.category),
                risk_label(e.risk),
                e.reports
            )
        }),
        listed_release: entry.as_ref().map(|e| e.release),
        tips,
        proposals: proposals
            .into_iter()
            .map(|p| proposal_row(state, p))
            .collect(),
        open_proposal,
        audit: audit.into_iter().map(|a| audit_row(state, a)).collect(),
        categories: category_options(),
        may_propose: super::may(role, &Method::POST, "/v1/proposals"),
        may_review: super::may(role, &Method::POST, "/v1/proposals/{id}/approve"),
        may_answer: super::may(role, &Method::POST, "/v1/tips/{tracking_id}/answer"),
        may_read_contact: super::may(role, &Method::GET, "/v1/tips/{tracking_id}/contact"),
        revealed: None,
    })
}

/// A 303 back to an identifier's page with a notice of what was `done` (a fixed word).
pub(super) fn back(view: &IdentifierView, done: &str) -> Response {
    Redirect::to(&format!("{}&done={done}", identifier_href(view))).into_response()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn invalid(what: &'static str) -> PageError {
    PageError::App(AppError::bad_request("invalid_form", what))
}

/// `POST /console/propose`: fields `kind`, `value`, `prefix`, `action` (`add`, `change`,
/// `revoke`, `appeal`), `category`, `risk`, `reason`, and one `tip` per cited tip.
pub async fn propose(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let kind: Kind = field(&form, "kind")
        .and_then(|k| k.parse().ok())
        .ok_or_else(|| invalid("the identifier kind is missing"))?;
    let prefix = field(&form, "prefix") == Some("true");
    let value = field(&form, "value").ok_or_else(|| invalid("the identifier is missing"))?;
    let key = ident::normalize(kind, value, prefix)?;
    let (action, appeal) = match field(&form, "action") {
        Some("add") => (Action::Add, false),
        Some("change") => (Action::Change, false),
        Some("revoke") => (Action::Revoke, false),
        Some("appeal") => (Action::Revoke, true),
        _ => return Err(invalid("choose add, change, revoke or appeal")),
    };
    session.require(
        &Method::POST,
        if appeal {
            "/v1/appeals"
        } else {
            "/v1/proposals"
        },
    )?;
    let parse_opt = |name: &str| field(&form, name).map(str::to_owned);
    let category = match parse_opt("category") {
        Some(c) => Some(
            c.parse::<Category>()
                .map_err(|_| invalid("unknown category"))?,
        ),
        None => None,
    };
    let risk = match parse_opt("risk") {
        Some(r) => Some(r.parse::<Risk>().map_err(|_| invalid("unknown risk"))?),
        None => None,
    };
    let (category, risk) = if action == Action::Revoke {
        (None, None)
    } else {
        (category, risk)
    };
    let p = NewProposal {
        action,
        appeal,
        key: key.clone(),
        prefix,
        category,
        risk,
        reason: field(&form, "reason").unwrap_or_default().to_owned(),
        tips: form
            .iter()
            .filter(|(k, _)| k == "tip")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    let now = state.clock.now();
    let st = state.clone();
    let caller = session.caller;
    state
        .db
        .call(move |c| review::propose(c, &caller, &p, &st.protected, now))
        .await?;
    Ok(back(&IdentifierView::of(&key, prefix), "proposed"))
}

/// The form of `POST /console/tips/{tracking_id}/answer`.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    /// Kind of the identifier (to come back to its page).
    pub kind: Kind,
    /// Its value.
    pub value: String,
    /// A prefix rule.
    #[serde(default)]
    pub prefix: bool,
    /// `approved` or `rejected`.
    pub outcome: Outcome,
    /// What the tipster reads.
    pub message: String,
}

/// `POST /console/tips/{tracking_id}/answer`
pub async fn answer(
    State(state): State<AppState>,
    crate::extract::Path(tracking_id): crate::extract::Path<String>,
    CsrfForm { session, form }: CsrfForm<AnswerForm>,
) -> PageResult<Response> {
    session.require(&Method::POST, "/v1/tips/{tracking_id}/answer")?;
    if !tips::is_tracking_id(&tracking_id) {
        return Err(AppError::not_found("tip").into());
    }
    let key = ident::normalize(form.kind, &form.value, form.prefix)?;
    let now = state.clock.now();
    let retention = state.config.review.contact_retention_days;
    let caller = session.caller;
    let (outcome, message) = (form.outcome, form.message);
    state
        .db
        .call(move |c| tips::answer(c, &caller, &tracking_id, outcome, &message, retention, now))
        .await?;
    Ok(back(&IdentifierView::of(&key, form.prefix), "answered"))
}
