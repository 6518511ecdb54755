//! Publishing: what the next release will hold ([`release::preview`], as
//! `GET /v1/publish/preview`) and cutting it ([`release::publish`], as `POST /v1/publish`,
//! publisher role only).

use super::session::{CsrfForm, Session};
use super::{Chrome, PageResult, category_label, identifier_href, render, risk_label};
use crate::app::AppState;
use crate::error::AppError;
use crate::release::{self, PublishKind};
use askama::Template;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// One change of the preview.
#[derive(Debug)]
pub struct ChangeRow {
    /// Proposal id.
    pub proposal_id: i64,
    /// add / change / revoke (appeal).
    pub action: String,
    /// Kind.
    pub kind: &'static str,
    /// Canonical value.
    pub value: String,
    /// Link to the identifier's page.
    pub href: String,
    /// Category · risk, for add and change.
    pub value_text: Option<String>,
    /// Distinct reporters.
    pub reports: Option<u32>,
}

#[derive(Template)]
#[template(path = "publish.html")]
struct PublishPage {
    chrome: Chrome,
    current_release: u64,
    next_release: u64,
    entries_now: u64,
    adds: usize,
    removals: usize,
    changes: Vec<ChangeRow>,
    /// Changes core's publisher refuses, with its reason.
    refused: Vec<(ChangeRow, String)>,
    vetoed: Vec<i64>,
    may_publish: bool,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::internal(format_args!("console task: {e}")))?
}

fn change_row(c: crate::release::PendingChange) -> ChangeRow {
    ChangeRow {
        proposal_id: c.proposal_id,
        action: if c.appeal {
            "revoke (appeal)".to_owned()
        } else {
            c.action.as_str().to_owned()
        },
        kind: c.identifier.kind.as_str(),
        href: identifier_href(&c.identifier),
        value: c.identifier.value,
        value_text: match (c.category, c.risk) {
            (Some(cat), Some(r)) => {
                Some(format!("{} · {} risk", category_label(cat), risk_label(r)))
            }
            _ => None,
        },
        reports: c.reports,
    }
}

/// `GET /console/publish`
pub async fn page(State(state): State<AppState>, session: Session) -> PageResult<Response> {
    session.require(&Method::GET, "/v1/publish/preview")?;
    let st = state.clone();
    let p = blocking(move || release::preview(&st)).await?;
    let changes: Vec<ChangeRow> = p.changes.into_iter().map(change_row).collect();
    let refused: Vec<(ChangeRow, String)> = p
        .refused
        .into_iter()
        .map(|r| (change_row(r.change), r.reason))
        .collect();
    let removals = changes.iter().filter(|c| c.value_text.is_none()).count();
    Ok(render(&PublishPage {
        chrome: Chrome::new(&session, "/console/publish"),
        current_release: p.current_release,
        next_release: p.next_release,
        entries_now: p.entries_now,
        adds: changes.len() - removals,
        removals,
        changes,
        refused,
        vetoed: p.vetoed,
        may_publish: super::may(session.caller.role, &Method::POST, "/v1/publish"),
    }))
}

/// The publish form.
#[derive(Debug, Deserialize)]
pub struct PublishForm {
    /// Why (recorded in the audit log).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /console/publish`: cuts the next release, then shows it on the dashboard.
pub async fn submit(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<PublishForm>,
) -> PageResult<Response> {
    session.require(&Method::POST, "/v1/publish")?;
    let st = state.clone();
    let caller = session.caller;
    let reason = form.reason.filter(|r| !r.trim().is_empty());
    let r =
        blocking(move || release::publish(&st, &caller, PublishKind::Publish, reason.as_deref()))
            .await?;
    tracing::info!(
        release = r.release,
        changes = r.changes,
        duration_ms = r.duration_ms,
        "published from the console"
    );
    Ok(Redirect::to(&format!("/console/?published={}", r.release)).into_response())
}
