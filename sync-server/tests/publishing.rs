//! The preview of the next release is core's `Publisher::preview`: a change core refuses shows
//! as refused (with core's reason) and is vetoed at publish without blocking the others.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use rusqlite::params;
use serde_json::json;
use support::{T0, TestServer};

/// An approved `add` written straight into the database, as a proposal accepted under older
/// rules would be: `value` is the key's text as stored.
fn approved_add(s: &TestServer, key: &Key) -> i64 {
    let key = key.as_bytes().to_vec();
    s.state
        .db
        .blocking(move |c| {
            c.execute(
                "INSERT INTO proposals(action, key, prefix, category, risk, reason, proposed_by, proposer, proposed_at, status, reviewed_by, reviewer, reviewed_at)
                 VALUES ('add', ?1, 0, 'refund', 'high', 'older rules', 't1', 'alice', ?2, 'approved', 't2', 'bob', ?2)",
                params![key, T0],
            )?;
            Ok(c.last_insert_rowid())
        })
        .unwrap()
}

#[tokio::test]
async fn a_change_core_refuses_shows_as_refused_and_is_vetoed_at_publish() {
    let s = TestServer::new();
    let publisher = s.tokens.publisher.clone();
    // Not the canonical form of a phone number (that is +8613800138000): core's publisher
    // refuses it, a phone would never match it.
    let bad = approved_add(&s, &Key::new(Kind::Phone, "13800138000"));
    let good = approved_add(&s, &Key::new(Kind::Qq, "87654321"));

    let p = s.get("/v1/publish/preview", Some(&publisher)).await.json();
    let refused = p["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{p}");
    assert_eq!(refused[0]["proposal_id"], bad);
    assert!(
        refused[0]["reason"].as_str().unwrap().contains("canonical"),
        "{p}"
    );
    assert!(
        !refused[0]["reason"]
            .as_str()
            .unwrap()
            .contains("13800138000")
    );
    let changes = p["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{p}");
    assert_eq!(changes[0]["proposal_id"], good);
    // Core's counts: one added, nothing else.
    assert_eq!(
        (
            &p["added"],
            &p["changed"],
            &p["removed"],
            &p["entries_after"]
        ),
        (&json!(1), &json!(0), &json!(0), &json!(1))
    );

    // Publishing vetoes the refused change with core's reason and publishes the other.
    let r = s.post("/v1/publish", Some(&publisher), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["changes"], 1);
    assert_eq!(r.json()["vetoed"], json!([bad]));
    let proposal = s
        .get(&format!("/v1/proposals/{bad}"), Some(&s.tokens.alice))
        .await
        .json();
    assert_eq!(proposal["status"], "vetoed");
    let p = s.get("/v1/publish/preview", Some(&publisher)).await.json();
    assert_eq!(p["refused"].as_array().unwrap().len(), 0);
    assert_eq!(p["changes"].as_array().unwrap().len(), 0);
}
