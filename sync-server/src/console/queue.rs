//! The review queue: identifiers with unanswered tips, grouped by canonical identifier,
//! overdue first — [`review::queue`], the function behind `GET /v1/review/queue`.

use super::session::Session;
use super::{Chrome, PageResult, category_name_label, identifier_href, local_time, render};
use crate::app::AppState;
use crate::review::{self, QueueRow};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::Response;
use serde::Deserialize;

/// Rows per page.
pub const PAGE_ROWS: u32 = 50;

/// One tip as the queue shows it.
#[derive(Debug)]
pub struct TipLine {
    /// The tipster's category, for people.
    pub category: String,
    /// The tipster's words.
    pub text: String,
    /// Local time.
    pub received: String,
    /// Past its due date.
    pub overdue: bool,
}

/// One identifier as the queue shows it.
#[derive(Debug)]
pub struct Row {
    /// Link to its page.
    pub href: String,
    /// Kind.
    pub kind: &'static str,
    /// Canonical form.
    pub value: String,
    /// Distinct reporters.
    pub reporters: u32,
    /// Evidence count.
    pub evidence: u32,
    /// Local times.
    pub first_seen: String,
    /// Local time.
    pub last_seen: String,
    /// Local time of the earliest due answer.
    pub due: String,
    /// An answer is overdue.
    pub overdue: bool,
    /// The entry as listed, if any (`category · risk`).
    pub listed: Option<String>,
    /// The open proposal, if any (`#id action status`).
    pub proposal: Option<String>,
    /// Unanswered tips.
    pub tips: Vec<TipLine>,
}

fn row(state: &AppState, r: QueueRow) -> Row {
    Row {
        href: identifier_href(&r.identifier),
        kind: r.identifier.kind.as_str(),
        value: r.identifier.value,
        reporters: r.distinct_reporters,
        evidence: r.evidence,
        first_seen: local_time(state, &r.first_seen),
        last_seen: local_time(state, &r.last_seen),
        due: local_time(state, &r.due_at),
        overdue: r.overdue,
        listed: r
            .entry
            .map(|e| format!("{} · {}", e.category, super::risk_label(e.risk))),
        proposal: r
            .open_proposal
            .map(|p| format!("#{} {} ({})", p.id, p.action.as_str(), p.status.as_str())),
        tips: r
            .tips
            .into_iter()
            .map(|t| TipLine {
                category: category_name_label(&t.category),
                text: t.text,
                received: local_time(state, &t.received_at),
                overdue: t.overdue,
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<Row>,
    overdue_only: bool,
    page: u32,
    more: bool,
}

/// The query of `/console/queue`.
#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    /// Only identifiers with an overdue tip.
    #[serde(default)]
    pub overdue: bool,
    /// Page number from 0.
    #[serde(default)]
    pub page: u32,
}

/// `GET /console/queue`
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<QueueQuery>,
) -> PageResult<Response> {
    session.require(&Method::GET, "/v1/review/queue")?;
    let now = state.clock.now();
    let offset = q.page.saturating_mul(PAGE_ROWS);
    let rows = state
        .db
        .call(move |c| review::queue(c, now, q.overdue, PAGE_ROWS + 1, offset))
        .await?;
    let more = rows.len() > PAGE_ROWS as usize;
    let rows = rows
        .into_iter()
        .take(PAGE_ROWS as usize)
        .map(|r| row(&state, r))
        .collect();
    Ok(render(&QueuePage {
        chrome: Chrome::new(&session, "/console/queue"),
        rows,
        overdue_only: q.overdue,
        page: q.page,
        more,
    }))
}
