//! Every endpoint, the roles that may call it, and its handler: the one table the router,
//! the role tests and the API summary read.
//!
//! | method | path | roles |
//! |---|---|---|
//! | POST | `/v1/reports` | reporter |
//! | GET | `/v1/reports/{tracking_id}` | public (the tracking id is the capability) |
//! | GET | `/v1/review/queue` | analyst |
//! | POST | `/v1/proposals` | analyst |
//! | GET | `/v1/proposals` | analyst, publisher |
//! | GET | `/v1/proposals/{id}` | analyst, publisher |
//! | POST | `/v1/proposals/{id}/approve` | analyst |
//! | POST | `/v1/proposals/{id}/reject` | analyst |
//! | POST | `/v1/appeals` | analyst |
//! | POST | `/v1/batches/{id}/approve`, `/v1/batches/{id}/reject` | analyst |
//! | POST | `/v1/tips/{tracking_id}/answer` | analyst |
//! | GET | `/v1/tips/{tracking_id}/contact` | analyst |
//! | GET | `/v1/audit` | analyst, admin |
//! | GET | `/v1/publish/preview` | publisher, analyst |
//! | POST | `/v1/publish` | publisher |
//! | GET | `/v1/releases` | publisher, analyst, admin |
//! | GET | `/v1/manifest` | public |
//! | GET | `/artifacts/{name}` | public |
//! | GET | `/healthz`, `/readyz`, `/metrics`, `/v1/openapi.json` | public |

pub mod audit;
pub mod batches;
pub mod manifest;
pub mod ops;
pub mod publish;
pub mod reports;
pub mod review;

use crate::app::AppState;
use crate::auth::Role;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};

/// One endpoint: method, path template and who may call it (empty: public).
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// HTTP method.
    pub method: Method,
    /// Path template (axum syntax, `{param}`).
    pub path: &'static str,
    /// Roles allowed; empty means public.
    pub roles: &'static [Role],
    /// One line for people.
    pub summary: &'static str,
}

const PUBLIC: &[Role] = &[];
const REPORTER: &[Role] = &[Role::Reporter];
const ANALYST: &[Role] = &[Role::Analyst];
const PUBLISHER: &[Role] = &[Role::Publisher];
const READ_PROPOSALS: &[Role] = &[Role::Analyst, Role::Publisher];
const AUDITORS: &[Role] = &[Role::Analyst, Role::Admin];
const RELEASE_READERS: &[Role] = &[Role::Publisher, Role::Analyst, Role::Admin];

fn ep(
    method: Method,
    path: &'static str,
    roles: &'static [Role],
    summary: &'static str,
    handler: MethodRouter<AppState>,
) -> (Endpoint, MethodRouter<AppState>) {
    (
        Endpoint {
            method,
            path,
            roles,
            summary,
        },
        handler,
    )
}

/// Every endpoint with its handler.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    use Method as M;
    vec![
        ep(
            M::POST,
            "/v1/reports",
            REPORTER,
            "Submit a citizen's tip",
            post(reports::submit),
        ),
        ep(
            M::GET,
            "/v1/reports/{tracking_id}",
            PUBLIC,
            "A tip's status and answer",
            get(reports::status),
        ),
        ep(
            M::GET,
            "/v1/review/queue",
            ANALYST,
            "Unanswered tips grouped by identifier, overdue first",
            get(review::queue),
        ),
        ep(
            M::POST,
            "/v1/proposals",
            ANALYST,
            "Propose adding, changing or revoking an entry",
            post(review::propose),
        ),
        ep(
            M::GET,
            "/v1/proposals",
            READ_PROPOSALS,
            "List proposals",
            get(review::list),
        ),
        ep(
            M::GET,
            "/v1/proposals/{id}",
            READ_PROPOSALS,
            "One proposal",
            get(review::get),
        ),
        ep(
            M::POST,
            "/v1/proposals/{id}/approve",
            ANALYST,
            "Approve (another analyst than the proposer)",
            post(review::approve),
        ),
        ep(
            M::POST,
            "/v1/proposals/{id}/reject",
            ANALYST,
            "Reject with a reason",
            post(review::reject),
        ),
        ep(
            M::POST,
            "/v1/appeals",
            ANALYST,
            "Propose revoking a false positive",
            post(review::appeal),
        ),
        ep(
            M::POST,
            "/v1/batches/{id}/approve",
            ANALYST,
            "Approve an imported batch as a unit (another analyst than the importer)",
            post(batches::approve),
        ),
        ep(
            M::POST,
            "/v1/batches/{id}/reject",
            ANALYST,
            "Reject an imported batch with a reason",
            post(batches::reject),
        ),
        ep(
            M::POST,
            "/v1/tips/{tracking_id}/answer",
            ANALYST,
            "Answer a tipster",
            post(review::answer),
        ),
        ep(
            M::GET,
            "/v1/tips/{tracking_id}/contact",
            ANALYST,
            "Read a tipster's contact (audited)",
            get(review::contact),
        ),
        ep(
            M::GET,
            "/v1/audit",
            AUDITORS,
            "Query or export the audit log",
            get(audit::query),
        ),
        ep(
            M::GET,
            "/v1/publish/preview",
            RELEASE_READERS_NO_ADMIN,
            "What the next release would hold",
            get(publish::preview),
        ),
        ep(
            M::POST,
            "/v1/publish",
            PUBLISHER,
            "Cut the next release from approved changes",
            post(publish::publish),
        ),
        ep(
            M::GET,
            "/v1/releases",
            RELEASE_READERS,
            "Release history",
            get(publish::list),
        ),
        ep(
            M::GET,
            "/v1/manifest",
            PUBLIC,
            "The signed manifest (client protocol)",
            get(manifest::manifest),
        ),
        ep(
            M::GET,
            "/artifacts/{name}",
            PUBLIC,
            "An immutable artifact named by its SHA-256",
            get(manifest::artifact),
        ),
        ep(
            M::GET,
            "/healthz",
            PUBLIC,
            "Liveness; fails when the manifest nears expiry",
            get(ops::healthz),
        ),
        ep(
            M::GET,
            "/readyz",
            PUBLIC,
            "Readiness: database and manifest",
            get(ops::readyz),
        ),
        ep(
            M::GET,
            "/metrics",
            PUBLIC,
            "Prometheus metrics",
            get(ops::metrics),
        ),
        ep(
            M::GET,
            "/v1/openapi.json",
            PUBLIC,
            "This API as OpenAPI 3.1, generated from the code",
            get(ops::openapi),
        ),
    ]
}

const RELEASE_READERS_NO_ADMIN: &[Role] = &[Role::Publisher, Role::Analyst];
