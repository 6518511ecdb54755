//! Bulk case data as one batch: imported in one transaction, skipped rows counted, approved as
//! a unit by a second analyst (the importer is refused), published like any approved change.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use fraudshield_core::entry::{Category, Risk};
use fraudshield_core::identifier;
use fraudshield_core::kind::Kind;
use fraudshield_server::auth;
use fraudshield_server::batch::{self, BatchRow};
use serde_json::json;
use support::{T0, TestServer};

fn row(kind: Kind, value: &str, reports: u32) -> BatchRow {
    BatchRow {
        key: identifier::normalize(kind, value).unwrap().key(),
        prefix: false,
        category: Category::Investment,
        risk: Risk::High,
        reports,
    }
}

#[tokio::test]
async fn a_batch_is_imported_whole_approved_as_a_unit_by_another_analyst_and_published() {
    let s = TestServer::new();
    let rows = vec![
        row(Kind::Phone, "+86 138 0013 8000", 12),
        row(Kind::Bank, "6222021234567890123", 0),
        row(Kind::Qq, "87654321", 3),
        row(Kind::Phone, "13800138000", 1), // the same number again
        row(Kind::Phone, "110", 0),         // protected: never listed
    ];
    let state = s.state.clone();
    let token = s.tokens.alice.clone();
    let imported = tokio::task::spawn_blocking(move || {
        state.db.blocking(|c| {
            let alice = auth::authenticate(c, &token, T0)?.unwrap();
            batch::import(
                c,
                &alice,
                "case 2026-117",
                &rows,
                "case data",
                &state.protected,
                T0,
            )
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(imported.proposed, 3);
    assert_eq!(imported.skipped_repeats, 1);
    assert_eq!(imported.skipped_protected, 1);
    let id = imported.batch_id;

    // Four eyes: the importer cannot approve; a rejection needs a reason.
    let r = s
        .post(
            &format!("/v1/batches/{id}/approve"),
            Some(&s.tokens.alice),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json());
    let r = s
        .post(
            &format!("/v1/batches/{id}/reject"),
            Some(&s.tokens.bob),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .post(
            &format!("/v1/batches/{id}/approve"),
            Some(&s.tokens.bob),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["proposals"], 3);
    assert_eq!(r.json()["status"], "approved");
    // Nothing left to approve twice.
    let r = s
        .post(
            &format!("/v1/batches/{id}/approve"),
            Some(&s.tokens.bob),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = s
        .post("/v1/batches/999/approve", Some(&s.tokens.bob), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = s
        .post("/v1/publish", Some(&s.tokens.publisher), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["changes"], 3);
    assert_eq!(r.json()["entries"], 3);

    // A second import of the same rows skips them all: they are listed now.
    let state = s.state.clone();
    let token = s.tokens.alice.clone();
    let again = tokio::task::spawn_blocking(move || {
        state.db.blocking(|c| {
            let alice = auth::authenticate(c, &token, T0)?.unwrap();
            let rows = vec![row(Kind::Qq, "87654321", 3)];
            batch::import(
                c,
                &alice,
                "case 2026-118",
                &rows,
                "again",
                &state.protected,
                T0,
            )
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!((again.proposed, again.skipped_listed), (0, 1));
}
