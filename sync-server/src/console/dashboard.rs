//! The dashboard: tips per day, the share answered within the deadline (5 working days by
//! default), overdue tips, entries by kind and category, and the release history with the
//! bytes phones download — as charts, with the numbers in tables beside them.

use super::chart::{self, Bar, Segment, Svg};
use super::session::Session;
use super::{Chrome, PageResult, category_name_label, local_unix, render};
use crate::app::AppState;
use crate::calendar::DAY_SECS;
use crate::error::AppError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::Response;
use fraudshield_core::kind::Kind;
use rusqlite::{Connection, params};
use serde::Deserialize;

/// Days shown in "tips per day".
pub const DAYS: i64 = 30;
/// Releases shown in the history.
pub const RELEASES: u32 = 30;

/// How tips stand against their deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deadlines {
    /// Answered by the due date.
    pub in_time: u64,
    /// Answered after it.
    pub late: u64,
    /// Not answered, past due.
    pub overdue: u64,
    /// Not answered, still within the deadline.
    pub open: u64,
}

impl Deadlines {
    /// The share answered within the deadline among tips whose outcome is known (answered, or
    /// past due): `None` when there is none yet.
    pub fn share_in_time(&self) -> Option<f64> {
        let decided = self.in_time + self.late + self.overdue;
        (decided > 0).then(|| self.in_time as f64 / decided as f64)
    }
}

/// One release in the history.
#[derive(Debug, Clone)]
pub struct ReleaseRow {
    /// Number.
    pub release: u64,
    /// Local time.
    pub created: String,
    /// `publish`, `refresh`, `initial`.
    pub reason: String,
    /// Changes carried.
    pub changes: u64,
    /// Entries after it.
    pub entries: u64,
    /// Bytes of the delta from the previous release.
    pub delta_bytes: Option<u64>,
    /// Bytes of the snapshot, when one was cut.
    pub snapshot_bytes: Option<u64>,
    /// Bytes of the signed manifest.
    pub manifest_bytes: Option<u64>,
}

impl ReleaseRow {
    /// The delta's size for people.
    pub fn delta_text(&self) -> String {
        opt_bytes(&self.delta_bytes)
    }
    /// The snapshot's size for people.
    pub fn snapshot_text(&self) -> String {
        opt_bytes(&self.snapshot_bytes)
    }
    /// The manifest's size for people.
    pub fn manifest_text(&self) -> String {
        opt_bytes(&self.manifest_bytes)
    }
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// (local day start, tips received) for the last [`DAYS`] days, oldest first.
    pub per_day: Vec<(i64, u64)>,
    /// Tips against their deadline.
    pub deadlines: Deadlines,
    /// Entries by kind.
    pub by_kind: Vec<(Kind, u64)>,
    /// Entries by category name.
    pub by_category: Vec<(String, u64)>,
    /// The last [`RELEASES`] releases, newest first.
    pub releases: Vec<ReleaseRow>,
}

/// Reads the dashboard's numbers (blocking). `offset_secs` is the review time zone.
pub fn stats(
    state: &AppState,
    conn: &Connection,
    now: i64,
    offset_secs: i64,
) -> Result<Stats, AppError> {
    let today = (now + offset_secs).div_euclid(DAY_SECS);
    let first_day = today - (DAYS - 1);
    let mut per_day: Vec<(i64, u64)> = (first_day..=today)
        .map(|d| (d * DAY_SECS - offset_secs, 0))
        .collect();
    let mut st = conn.prepare(
        "SELECT (received_at + ?1) / 86400 AS day, COUNT(*) FROM tips
         WHERE received_at >= ?2 GROUP BY day",
    )?;
    for row in st.query_map(
        params![offset_secs, first_day * DAY_SECS - offset_secs],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
    )? {
        let (day, n) = row?;
        if let Some(slot) = usize::try_from(day - first_day)
            .ok()
            .and_then(|i| per_day.get_mut(i))
        {
            slot.1 = n as u64;
        }
    }
    let deadlines = conn.query_row(
        "SELECT COALESCE(SUM(answered_at IS NOT NULL AND answered_at <= due_at), 0),
                COALESCE(SUM(answered_at IS NOT NULL AND answered_at > due_at), 0),
                COALESCE(SUM(answered_at IS NULL AND due_at < ?1), 0),
                COALESCE(SUM(answered_at IS NULL AND due_at >= ?1), 0)
         FROM tips",
        params![now],
        |r| {
            Ok(Deadlines {
                in_time: r.get::<_, i64>(0)? as u64,
                late: r.get::<_, i64>(1)? as u64,
                overdue: r.get::<_, i64>(2)? as u64,
                open: r.get::<_, i64>(3)? as u64,
            })
        },
    )?;
    let mut by_kind: Vec<(Kind, u64)> = Kind::ALL.iter().map(|k| (*k, 0)).collect();
    let mut st = conn.prepare("SELECT substr(key, 1, 1), COUNT(*) FROM entries GROUP BY 1")?;
    for row in st.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))? {
        let (tag, n) = row?;
        if let Some(kind) = tag.first().and_then(|t| Kind::from_tag(*t))
            && let Some(slot) = by_kind.iter_mut().find(|(k, _)| *k == kind)
        {
            slot.1 = n as u64;
        }
    }
    let mut st = conn.prepare(
        "SELECT category, COUNT(*) FROM entries GROUP BY category ORDER BY COUNT(*) DESC, category",
    )?;
    let by_category = st
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut st = conn.prepare(
        "SELECT release, created_at, reason, changes, entries, delta_bytes, snapshot_bytes, manifest_bytes
         FROM releases ORDER BY release DESC LIMIT ?1",
    )?;
    let releases = st
        .query_map(params![RELEASES], |r| {
            Ok(ReleaseRow {
                release: r.get::<_, i64>(0)? as u64,
                created: local_unix(state, r.get(1)?),
                reason: r.get(2)?,
                changes: r.get::<_, i64>(3)? as u64,
                entries: r.get::<_, i64>(4)? as u64,
                delta_bytes: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
                snapshot_bytes: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
                manifest_bytes: r.get::<_, Option<i64>>(7)?.map(|v| v as u64),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Stats {
        per_day,
        deadlines,
        by_kind,
        by_category,
        releases,
    })
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    published: Option<u64>,
    working_days: u32,
    tips_chart: Svg,
    per_day: Vec<(String, u64)>,
    tips_total: u64,
    deadline_chart: Svg,
    deadlines: Deadlines,
    share_in_time: String,
    kind_chart: Svg,
    category_chart: Svg,
    by_kind: Vec<(&'static str, u64)>,
    by_category: Vec<(String, u64)>,
    entries: u64,
    release_chart: Svg,
    releases: Vec<ReleaseRow>,
    current_release: u64,
    /// The zone every time on the page is in, in words.
    zone: String,
    /// Its short label, as the times carry it.
    zone_short: String,
}

/// The query of the dashboard.
#[derive(Debug, Deserialize)]
pub struct DashQuery {
    /// A release just published from the console (shown as a notice).
    pub published: Option<u64>,
}

fn opt_bytes(v: &Option<u64>) -> String {
    v.map_or_else(|| "–".to_owned(), chart::bytes)
}

/// `GET /console/`
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<DashQuery>,
) -> PageResult<Response> {
    session.require(&Method::GET, "/v1/releases")?;
    let now = state.clock.now();
    let offset = i64::from(state.config.review.utc_offset_hours) * 3600;
    let st = state.clone();
    let s = state.db.call(move |c| stats(&st, c, now, offset)).await?;
    let day_label = |t: i64| {
        local_unix(&state, t)
            .get(5..10)
            .unwrap_or_default()
            .to_owned()
    };
    let per_day: Vec<(String, u64)> = s.per_day.iter().map(|(t, n)| (day_label(*t), *n)).collect();
    let tips_total = per_day.iter().map(|(_, n)| n).sum();
    let tips_chart = chart::columns(
        "tips-per-day",
        "Tips per day",
        &format!("Citizens' tips received per day over the last {DAYS} days; {tips_total} in all."),
        &per_day
            .iter()
            .map(|(d, n)| Bar::new(d.clone(), *n))
            .collect::<Vec<_>>(),
    );
    let d = s.deadlines;
    let working_days = state.config.review.answer_working_days;
    let share_in_time = d.share_in_time().map_or_else(
        || "no tip is due yet".to_owned(),
        |s| format!("{:.0} %", s * 100.0),
    );
    let deadline_chart = chart::share(
        "deadlines",
        &format!("Answered within {working_days} working days"),
        &format!(
            "Tips answered in time: {share_in_time}. {} in time, {} late, {} overdue, {} open within the deadline.",
            d.in_time, d.late, d.overdue, d.open
        ),
        &[
            Segment {
                label: "answered in time".into(),
                value: d.in_time,
                class: "seg-ok",
            },
            Segment {
                label: "answered late".into(),
                value: d.late,
                class: "seg-late",
            },
            Segment {
                label: "overdue (no answer)".into(),
                value: d.overdue,
                class: "seg-overdue",
            },
            Segment {
                label: "open, not yet due".into(),
                value: d.open,
                class: "seg-open",
            },
        ],
    );
    let by_kind: Vec<(&'static str, u64)> =
        s.by_kind.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    let entries: u64 = by_kind.iter().map(|(_, n)| n).sum();
    let kind_chart = chart::rows(
        "entries-by-kind",
        "Entries by kind",
        &format!("{entries} listed entries by identifier kind."),
        &by_kind
            .iter()
            .map(|(k, n)| Bar::new(*k, *n))
            .collect::<Vec<_>>(),
        chart::compact,
    );
    let by_category: Vec<(String, u64)> = s
        .by_category
        .iter()
        .map(|(c, n)| (category_name_label(c), *n))
        .collect();
    let category_chart = chart::rows(
        "entries-by-category",
        "Entries by category",
        &format!("{entries} listed entries by fraud category."),
        &by_category
            .iter()
            .map(|(c, n)| Bar::new(c.clone(), *n))
            .collect::<Vec<_>>(),
        chart::compact,
    );
    let mut oldest_first = s.releases.clone();
    oldest_first.reverse();
    let release_chart = chart::columns(
        "release-deltas",
        "Delta bytes per release",
        "Bytes of each release's delta from the one before: what a phone that is up to date downloads.",
        &oldest_first
            .iter()
            .map(|r| Bar::new(format!("#{}", r.release), r.delta_bytes.unwrap_or(0)))
            .collect::<Vec<_>>(),
    );
    let current_release = s.releases.first().map_or(0, |r| r.release);
    Ok(render(&DashboardPage {
        chrome: Chrome::new(&session, "/console/"),
        published: q.published,
        working_days,
        tips_chart,
        per_day,
        tips_total,
        deadline_chart,
        deadlines: d,
        share_in_time,
        kind_chart,
        category_chart,
        by_kind,
        by_category,
        entries,
        release_chart,
        releases: s.releases,
        current_release,
        zone: super::zone_name(state.config.review.utc_offset_hours),
        zone_short: super::zone_label(state.config.review.utc_offset_hours),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_counts_only_decided_tips() {
        let d = Deadlines {
            in_time: 3,
            late: 1,
            overdue: 0,
            open: 10,
        };
        assert_eq!(d.share_in_time(), Some(0.75));
        assert_eq!(
            Deadlines {
                open: 4,
                ..Deadlines::default()
            }
            .share_in_time(),
            None
        );
        let d = Deadlines {
            in_time: 1,
            late: 0,
            overdue: 1,
            open: 0,
        };
        assert_eq!(d.share_in_time(), Some(0.5));
    }
}
