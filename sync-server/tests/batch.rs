//! Bulk case data as one batch: imported in one transaction, skipped rows counted, approved as
//! a unit by a second analyst (the importer is refused), published like any approved change.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use fraudshield_core::entry::{Category, Risk};
use fraudshield_core::identifier;
use fraudshield_core::kind::Kind;
use fraudshield_server::auth;
use fraudshield_server::batch::{self, BatchRow, Import};
use serde_json::json;
use support::{T0, TestServer};

fn row(kind: Kind, value: &str, reports: u32) -> BatchRow {
    BatchRow {
        line: 0,
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
    let rows: Vec<BatchRow> = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| BatchRow {
            line: i as u64 + 2,
            ..r
        })
        .collect();
    let import = |skip_bad_rows: bool| {
        let state = s.state.clone();
        let token = s.tokens.alice.clone();
        let rows = rows.clone();
        tokio::task::spawn_blocking(move || {
            state.db.blocking(|c| {
                let alice = auth::authenticate(c, &token, T0)?.unwrap();
                let request = Import {
                    source: "case 2026-117",
                    sha256: [7; 32],
                    rows_read: rows.len() as u64,
                    rows: &rows,
                    bad_rows: &[],
                    reason: "case data",
                    skip_bad_rows,
                };
                batch::import(c, &alice, &request, &state.protected, T0)
            })
        })
    };
    // The protected number is a bad row: nothing is imported without skipping it.
    let refused = import(false).await.unwrap().unwrap_err();
    assert_eq!(refused.code(), "bad_rows");
    assert!(
        refused.message().contains("line 6"),
        "{}",
        refused.message()
    );
    let imported = import(true).await.unwrap().unwrap();
    assert_eq!(imported.proposed, 3);
    assert_eq!(imported.skipped_repeats, 1);
    assert_eq!(imported.skipped_bad_rows, 1);
    assert_eq!(imported.batch_id, 1, "the refused import wrote no batch");
    assert_eq!(
        batch::check(&rows, &s.state.protected)
            .iter()
            .map(|b| b.line)
            .collect::<Vec<_>>(),
        [6]
    );
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

    // A second import of the same rows proposes nothing: they are listed now, and an empty
    // batch is not written.
    let state = s.state.clone();
    let token = s.tokens.alice.clone();
    let again = tokio::task::spawn_blocking(move || {
        state.db.blocking(|c| {
            let alice = auth::authenticate(c, &token, T0)?.unwrap();
            let rows = vec![row(Kind::Qq, "87654321", 3)];
            let request = Import {
                source: "case 2026-118",
                sha256: [8; 32],
                rows_read: 1,
                rows: &rows,
                bad_rows: &[],
                reason: "again",
                skip_bad_rows: false,
            };
            batch::import(c, &alice, &request, &state.protected, T0)
        })
    })
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(again.code(), "nothing_to_import");
}
