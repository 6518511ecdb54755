//! The analyst console: the review queue, four-eyes approval, publishing, the audit log and a
//! dashboard, as server-rendered HTML under `/console`.
//!
//! ## One implementation of every rule
//! The console is a second face of the same service, not a second service. Every action calls
//! the domain function the JSON API calls — [`review::propose`](crate::review::propose),
//! [`review::review`](crate::review::review) (the four-eyes rule),
//! [`tips::answer`](crate::tips::answer), [`release::preview`](crate::release::preview) and
//! [`release::publish`](crate::release::publish) — and every page and action is allowed to
//! exactly the roles of its API endpoint, read from the one endpoint table
//! ([`crate::routes::endpoints`]) by [`api_roles`]. A rule changed there changes here.
//!
//! ## Pages (one file each)
//! | path | page | roles (from the API endpoint) |
//! |---|---|---|
//! | `/console/login`, `/console/logout` | [`login`]: sign in with a token, sign out | anyone with an analyst, publisher or admin token |
//! | `/console/` | [`dashboard`]: tips per day, answered within the deadline, overdue, entries, releases | as `GET /v1/releases` |
//! | `/console/queue` | [`queue`]: identifiers with unanswered tips, overdue first | as `GET /v1/review/queue` |
//! | `/console/identifier?kind=…&value=…` | [`identifier`]: tips, current entry, proposals, audit trail; propose, answer | as `GET /v1/review/queue` |
//! | `POST /console/tips/{tracking_id}/contact` | [`identifier::contact`]: "Show contact", the tipster's contact under its tip (audited) | as `GET /v1/tips/{tracking_id}/contact` (analysts) |
//! | `/console/proposals` | [`proposals`]: open proposals; approve, reject | as `GET /v1/proposals` |
//! | `/console/publish` | [`publish`]: preview of the next release; publish | as `GET /v1/publish/preview` / `POST /v1/publish` |
//! | `/console/audit` | [`audit`]: the audit log with filters, CSV export | as `GET /v1/audit` |
//!
//! ## Templates, charts, assets
//! HTML comes from askama templates in `sync-server/templates/`, compiled into the binary and
//! type-checked against their structs at build time (a missing field is a compile error, and
//! every value is HTML-escaped unless a template says `|safe`, which only the [`chart`] SVGs
//! use). Charts are inline SVG drawn by [`chart`]. The one stylesheet is compiled in with
//! `include_str!` and served from `/console/static/console.css`: nothing is fetched from
//! elsewhere, no web font, no script. Responses carry a strict Content-Security-Policy
//! (`default-src 'none'`, styles and images from the console only, forms to the console only),
//! `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and `Cache-Control: no-store`.
//!
//! ## Times
//! Every time is shown in the review time zone (`review.utc_offset_hours`, default UTC+8) and
//! labelled: `2026-12-01 12:43 CST` is China Standard Time, what analysts expect
//! ([`local_unix`]). The JSON API speaks RFC 3339 in UTC. (A release cut at 04:43 UTC shows as
//! 12:43 CST; before the label, that read like a wrong time.)
//!
//! ## Sessions
//! See [`session`]: a server-side session in SQLite behind an HttpOnly, SameSite=Strict cookie,
//! and a per-session CSRF token that every POST must carry.

pub mod audit;
pub mod chart;
pub mod dashboard;
pub mod identifier;
pub mod login;
pub mod proposals;
pub mod publish;
pub mod queue;
pub mod session;

use crate::app::AppState;
use crate::auth::Role;
use crate::calendar::parse_time;
use crate::error::AppError;
use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fraudshield_core::entry::{Category, Risk};
use session::Session;
use std::sync::OnceLock;

/// The stylesheet, compiled in.
const CSS: &str = include_str!("../../static/console.css");

/// The console's routes (merged into [`crate::app::app`]'s router, under its middleware).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(dashboard::page))
        .route("/console/login", get(login::form).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route("/console/queue", get(queue::page))
        .route("/console/identifier", get(identifier::page))
        .route("/console/propose", post(identifier::propose))
        .route(
            "/console/tips/{tracking_id}/answer",
            post(identifier::answer),
        )
        .route(
            "/console/tips/{tracking_id}/contact",
            post(identifier::contact),
        )
        .route("/console/proposals", get(proposals::page))
        .route("/console/proposals/{id}/approve", post(proposals::approve))
        .route("/console/proposals/{id}/reject", post(proposals::reject))
        .route("/console/publish", get(publish::page).post(publish::submit))
        .route("/console/audit", get(audit::page))
        .route("/console/audit.csv", get(audit::csv))
        .route("/console/static/console.css", get(stylesheet))
        .layer(axum::middleware::map_response(security_headers))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// Headers on every console response (see the module docs).
async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// The roles of the JSON API endpoint `method path`, read from [`crate::routes::endpoints`].
/// `None` for an endpoint that does not exist or is public: the console then allows no one.
pub fn api_roles(method: &Method, path: &str) -> Option<&'static [Role]> {
    type Table = Vec<(Method, &'static str, &'static [Role])>;
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            crate::routes::endpoints()
                .into_iter()
                .map(|(e, _)| (e.method, e.path, e.roles))
                .collect()
        })
        .iter()
        .find(|(m, p, roles)| m == method && *p == path && !roles.is_empty())
        .map(|(_, _, roles)| *roles)
}

/// Whether `role` may do what the API endpoint `method path` does.
pub fn may(role: Role, method: &Method, path: &str) -> bool {
    api_roles(method, path).is_some_and(|r| r.contains(&role))
}

impl Session {
    /// Refuses (403) unless the session's role may call the API endpoint `method path`.
    pub fn require(&self, method: &Method, path: &str) -> Result<(), PageError> {
        if may(self.caller.role, method, path) {
            Ok(())
        } else {
            Err(PageError::Forbidden(format!(
                "a {} cannot do this here (the same roles as {method} {path} in the API)",
                self.caller.role
            )))
        }
    }
}

/// Why a console request failed.
#[derive(Debug)]
pub enum PageError {
    /// No valid session: back to the sign-in form.
    SignIn,
    /// A POST without the session's CSRF token (403).
    Csrf,
    /// The role may not do this (403).
    Forbidden(String),
    /// What the domain function refused, or an internal error.
    App(AppError),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::App(e)
    }
}

/// Page results.
pub type PageResult<T> = Result<T, PageError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    heading: &'static str,
    message: String,
    code: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, message, code) = match self {
            PageError::SignIn => return Redirect::to("/console/login").into_response(),
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form refused",
                "This form did not carry this session's CSRF token, so it was not acted on. \
                 Reload the page and submit the form again."
                    .to_owned(),
                "csrf".to_owned(),
            ),
            PageError::Forbidden(m) => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                m,
                "forbidden".to_owned(),
            ),
            PageError::App(e) => {
                if e.status().is_server_error() {
                    // The one log line for it (the detail never reaches the page).
                    tracing::error!(code = e.code(), "{e}");
                }
                let heading = match e.status() {
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::CONFLICT => "Not possible now",
                    s if s.is_client_error() => "Not accepted",
                    _ => "Something went wrong",
                };
                (
                    e.status(),
                    heading,
                    e.message().to_owned(),
                    e.code().to_owned(),
                )
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            heading,
            message,
            code,
        };
        (status, render(&page)).into_response()
    }
}

/// Renders a template; a rendering failure is an internal error page.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering a console page failed: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(
                    "<!doctype html><title>Error</title><p>internal error; it has been logged</p>",
                ),
            )
                .into_response()
        }
    }
}

/// One link of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// The page being shown.
    pub current: bool,
}

/// What every page's frame shows: who is signed in, the navigation for their role, and the
/// CSRF token for the sign-out form.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The holder's name.
    pub name: String,
    /// Their role.
    pub role: &'static str,
    /// The session's CSRF token.
    pub csrf: String,
    /// The links this role may follow.
    pub nav: Vec<NavItem>,
}

impl Chrome {
    /// The frame for `session` with `current` (an href) highlighted.
    pub fn new(session: &Session, current: &str) -> Chrome {
        let role = session.caller.role;
        let pages: [(&'static str, &'static str, Method, &'static str); 5] = [
            ("/console/", "Dashboard", Method::GET, "/v1/releases"),
            (
                "/console/queue",
                "Review queue",
                Method::GET,
                "/v1/review/queue",
            ),
            (
                "/console/proposals",
                "Proposals",
                Method::GET,
                "/v1/proposals",
            ),
            (
                "/console/publish",
                "Publish",
                Method::GET,
                "/v1/publish/preview",
            ),
            ("/console/audit", "Audit log", Method::GET, "/v1/audit"),
        ];
        Chrome {
            name: session.caller.name.clone(),
            role: role.as_str(),
            csrf: session.csrf.clone(),
            nav: pages
                .into_iter()
                .filter(|(_, _, m, p)| may(role, m, p))
                .map(|(href, label, _, _)| NavItem {
                    href,
                    label,
                    current: href == current,
                })
                .collect(),
        }
    }
}

/// Local time for people (`2026-12-01 11:58 CST`), from an RFC 3339 time, in the review
/// calendar's time zone (`review.utc_offset_hours`), labelled with [`zone_label`].
pub fn local_time(state: &AppState, rfc3339: &str) -> String {
    parse_time(rfc3339).map_or_else(String::new, |t| local_unix(state, t))
}

/// Local time for people from Unix seconds, labelled with its zone: `2026-12-01 12:43 CST`.
/// Every time in the console is in the review time zone (default UTC+8, China Standard Time,
/// what analysts expect), never the browser's and never unlabelled UTC.
pub fn local_unix(state: &AppState, unix: i64) -> String {
    format_local(state.config.review.utc_offset_hours, unix)
}

/// [`local_unix`] for an offset in hours.
pub fn format_local(offset_hours: i8, unix: i64) -> String {
    let offset = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.to_offset(offset).format(&fmt).ok())
        .map(|t| format!("{t} {}", zone_label(offset_hours)))
        .unwrap_or_default()
}

/// The short name of the review time zone: `CST` (China Standard Time) for UTC+8, `UTC`, or
/// `UTC+5` / `UTC-3` for any other offset.
pub fn zone_label(offset_hours: i8) -> String {
    match offset_hours {
        8 => "CST".to_owned(),
        0 => "UTC".to_owned(),
        h => format!("UTC{h:+}"),
    }
}

/// The review time zone in words, for page notes: `China Standard Time (CST, UTC+8)`.
pub fn zone_name(offset_hours: i8) -> String {
    match offset_hours {
        8 => "China Standard Time (CST, UTC+8)".to_owned(),
        h => zone_label(h),
    }
}

/// A category for people, in English and Chinese.
pub fn category_label(c: Category) -> &'static str {
    match c {
        Category::Other => "Other · 其他",
        Category::PoliceImpersonation => "Police impersonation · 冒充公检法",
        Category::CustomerService => "Fake customer service · 冒充客服",
        Category::Refund => "Refund · 退款诈骗",
        Category::Investment => "Investment · 投资理财",
        Category::Loan => "Loan · 贷款诈骗",
        Category::Romance => "Romance · 网络交友",
        Category::Job => "Job · 刷单兼职",
    }
}

/// A category name as stored (`police_impersonation`) for people.
pub fn category_name_label(name: &str) -> String {
    name.parse::<Category>()
        .map_or_else(|_| name.to_owned(), |c| category_label(c).to_owned())
}

/// A risk for people.
pub fn risk_label(r: Risk) -> &'static str {
    match r {
        Risk::Low => "low",
        Risk::Medium => "medium",
        Risk::High => "high",
    }
}

/// The link to an identifier's page.
pub fn identifier_href(view: &crate::ident::IdentifierView) -> String {
    let q = serde_urlencoded::to_string([
        ("kind", view.kind.as_str()),
        ("value", view.value.as_str()),
        ("prefix", if view.prefix { "true" } else { "false" }),
    ])
    .unwrap_or_default();
    format!("/console/identifier?{q}")
}

/// `(value, label)` of every category, for select boxes.
pub fn category_options() -> Vec<(&'static str, &'static str)> {
    Category::ALL
        .into_iter()
        .map(|c| (c.as_str(), category_label(c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_roles_come_from_the_api_table() {
        assert!(may(Role::Publisher, &Method::POST, "/v1/publish"));
        assert!(!may(Role::Analyst, &Method::POST, "/v1/publish"));
        assert!(may(
            Role::Analyst,
            &Method::POST,
            "/v1/proposals/{id}/approve"
        ));
        assert!(!may(
            Role::Publisher,
            &Method::POST,
            "/v1/proposals/{id}/approve"
        ));
        // Unknown or public endpoints allow no one.
        assert!(!may(Role::Admin, &Method::GET, "/v1/nothing"));
        assert!(!may(Role::Admin, &Method::GET, "/v1/manifest"));
    }

    #[test]
    fn every_page_and_action_names_an_existing_endpoint() {
        let uses: &[(Method, &str)] = &[
            (Method::GET, "/v1/releases"),
            (Method::GET, "/v1/review/queue"),
            (Method::GET, "/v1/proposals"),
            (Method::POST, "/v1/proposals"),
            (Method::POST, "/v1/appeals"),
            (Method::POST, "/v1/proposals/{id}/approve"),
            (Method::POST, "/v1/proposals/{id}/reject"),
            (Method::POST, "/v1/tips/{tracking_id}/answer"),
            (Method::GET, "/v1/tips/{tracking_id}/contact"),
            (Method::GET, "/v1/publish/preview"),
            (Method::POST, "/v1/publish"),
            (Method::GET, "/v1/audit"),
        ];
        for (m, p) in uses {
            assert!(api_roles(m, p).is_some(), "{m} {p}");
        }
    }
}
