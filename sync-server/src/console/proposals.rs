//! Open proposals and their four-eyes review: approve and reject go through
//! [`review::review`], the function behind `POST /v1/proposals/{id}/approve` and `…/reject`,
//! so the rule "the approver is never the proposer" is enforced once, there.

use super::identifier::{ProposalRow, back, proposal_row};
use super::session::{CsrfForm, Session};
use super::{Chrome, PageResult, identifier_href, render};
use crate::app::AppState;
use crate::extract::Path;
use crate::review::{self, Status};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::Response;
use serde::Deserialize;

/// A proposal in the list, with the link to its identifier.
#[derive(Debug)]
pub struct Listed {
    /// The proposal.
    pub p: ProposalRow,
    /// Kind.
    pub kind: &'static str,
    /// Canonical value.
    pub value: String,
    /// Link to the identifier's page.
    pub href: String,
}

#[derive(Template)]
#[template(path = "proposals.html")]
struct ProposalsPage {
    chrome: Chrome,
    status: &'static str,
    statuses: [&'static str; 5],
    rows: Vec<Listed>,
    may_review: bool,
}

/// The query of `/console/proposals`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Which status (default `pending`).
    pub status: Option<Status>,
}

/// `GET /console/proposals`
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ListQuery>,
) -> PageResult<Response> {
    session.require(&Method::GET, "/v1/proposals")?;
    let status = q.status.unwrap_or(Status::Pending);
    let rows = state
        .db
        .call(move |c| review::list(c, Some(status), 200))
        .await?;
    let rows = rows
        .into_iter()
        .map(|p| Listed {
            kind: p.identifier.kind.as_str(),
            value: p.identifier.value.clone(),
            href: identifier_href(&p.identifier),
            p: proposal_row(&state, p),
        })
        .collect();
    Ok(render(&ProposalsPage {
        chrome: Chrome::new(&session, "/console/proposals"),
        status: status.as_str(),
        statuses: ["pending", "approved", "published", "rejected", "vetoed"],
        rows,
        may_review: super::may(
            session.caller.role,
            &Method::POST,
            "/v1/proposals/{id}/approve",
        ),
    }))
}

/// The form of approve and reject.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    /// Why (required to reject).
    #[serde(default)]
    pub reason: Option<String>,
}

async fn decide(
    state: AppState,
    session: Session,
    id: i64,
    approve: bool,
    reason: Option<String>,
) -> PageResult<Response> {
    session.require(
        &Method::POST,
        if approve {
            "/v1/proposals/{id}/approve"
        } else {
            "/v1/proposals/{id}/reject"
        },
    )?;
    let now = state.clock.now();
    let single = state.config.single_reviewer;
    let caller = session.caller;
    let p = state
        .db
        .call(move |c| review::review(c, &caller, id, approve, reason.as_deref(), single, now))
        .await?;
    Ok(back(
        &p.identifier,
        if approve { "approved" } else { "rejected" },
    ))
}

/// `POST /console/proposals/{id}/approve`
pub async fn approve(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm<ReviewForm>,
) -> PageResult<Response> {
    decide(state, session, id, true, form.reason).await
}

/// `POST /console/proposals/{id}/reject`
pub async fn reject(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { session, form }: CsrfForm<ReviewForm>,
) -> PageResult<Response> {
    decide(state, session, id, false, form.reason).await
}
