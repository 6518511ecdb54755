//! The audit log with filters (identifier, analyst, time), as `GET /v1/audit`, and its CSV
//! export ([`audit::to_csv`], the same columns as the API's).

use super::identifier::{AuditRow, audit_row};
use super::session::Session;
use super::{Chrome, PageResult, render};
use crate::app::AppState;
use crate::audit::{self, AuditFilter};
use crate::calendar::parse_time;
use crate::error::AppError;
use crate::ident;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use fraudshield_core::kind::Kind;
use serde::Deserialize;

/// Rows per page.
pub const PAGE_ROWS: u32 = 200;

/// The filters (an empty field means "any").
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// Identifier kind.
    pub kind: Option<String>,
    /// Identifier value.
    pub value: Option<String>,
    /// Holder name or token id.
    pub actor: Option<String>,
    /// From this day (`YYYY-MM-DD`, local) or time (RFC 3339).
    pub since: Option<String>,
    /// Until this day, inclusive (`YYYY-MM-DD`, local), or before this time (RFC 3339).
    pub until: Option<String>,
    /// Rows after this id.
    pub after_id: Option<i64>,
}

fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Start of a local day `YYYY-MM-DD`, or an RFC 3339 / Unix time, as Unix seconds.
fn parse_day(state: &AppState, s: &str, end_of_day: bool) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &fmt) {
        let offset = time::UtcOffset::from_hms(state.config.review.utc_offset_hours, 0, 0).ok()?;
        let d = if end_of_day { d.next_day()? } else { d };
        return Some(d.midnight().assume_offset(offset).unix_timestamp());
    }
    parse_time(s)
}

fn filter(state: &AppState, f: &Filters, limit: u32) -> Result<AuditFilter, AppError> {
    let bad = |m: &'static str| AppError::bad_request("invalid_query", m);
    let key = match (given(&f.kind), given(&f.value)) {
        (Some(k), Some(v)) => {
            let kind: Kind = k.parse().map_err(|_| bad("unknown identifier kind"))?;
            Some(ident::normalize(kind, v, false)?.into_bytes())
        }
        (_, None) => None,
        (None, Some(_)) => return Err(bad("choose the identifier's kind")),
    };
    Ok(AuditFilter {
        key,
        actor: given(&f.actor).map(str::to_owned),
        since: given(&f.since)
            .map(|s| parse_day(state, s, false).ok_or_else(|| bad("from: a date YYYY-MM-DD")))
            .transpose()?,
        until: given(&f.until)
            .map(|s| parse_day(state, s, true).ok_or_else(|| bad("until: a date YYYY-MM-DD")))
            .transpose()?,
        after_id: f.after_id,
        limit,
    })
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    kinds: [&'static str; 4],
    kind: String,
    value: String,
    actor: String,
    since: String,
    until: String,
    rows: Vec<(i64, AuditRow, Option<String>)>,
    next: Option<String>,
    csv: String,
}

/// `GET /console/audit`
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(f): Query<Filters>,
) -> PageResult<Response> {
    session.require(&Method::GET, "/v1/audit")?;
    let af = filter(&state, &f, PAGE_ROWS + 1)?;
    let rows = state.db.call(move |c| audit::query(c, &af)).await?;
    let more = rows.len() > PAGE_ROWS as usize;
    let rows: Vec<_> = rows.into_iter().take(PAGE_ROWS as usize).collect();
    let last = rows.last().map(|r| r.id);
    let query = |after: Option<i64>| {
        let mut q: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("kind", &f.kind),
            ("value", &f.value),
            ("actor", &f.actor),
            ("since", &f.since),
            ("until", &f.until),
        ] {
            if let Some(v) = given(v) {
                q.push((k, v.to_owned()));
            }
        }
        if let Some(a) = after {
            q.push(("after_id", a.to_string()));
        }
        serde_urlencoded::to_string(q).unwrap_or_default()
    };
    let page = AuditPage {
        chrome: Chrome::new(&session, "/console/audit"),
        kinds: ["phone", "bank", "qq", "alipay"],
        kind: given(&f.kind).unwrap_or_default().to_owned(),
        value: given(&f.value).unwrap_or_default().to_owned(),
        actor: given(&f.actor).unwrap_or_default().to_owned(),
        since: given(&f.since).unwrap_or_default().to_owned(),
        until: given(&f.until).unwrap_or_default().to_owned(),
        next: if more {
            Some(format!("/console/audit?{}", query(last)))
        } else {
            None
        },
        csv: format!("/console/audit.csv?{}", query(f.after_id)),
        rows: rows
            .into_iter()
            .map(|a| {
                let id = a.id;
                let who = a
                    .identifier
                    .as_ref()
                    .map(|i| format!("{} {}", i.kind, i.value));
                (id, audit_row(&state, a), who)
            })
            .collect(),
    };
    Ok(render(&page))
}

/// `GET /console/audit.csv`: the filtered rows (up to 100,000) as CSV.
pub async fn csv(
    State(state): State<AppState>,
    session: Session,
    Query(f): Query<Filters>,
) -> PageResult<Response> {
    session.require(&Method::GET, "/v1/audit")?;
    let af = filter(&state, &f, 100_000)?;
    let body = state
        .db
        .call(move |c| audit::to_csv(&audit::query(c, &af)?))
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"audit.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}
