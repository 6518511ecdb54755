//! Router tests, in process (`oneshot`) over a real data directory and SQLite file.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use fraudshield_server::auth::Role;
use fraudshield_server::routes::endpoints;
use serde_json::json;
use support::{T0, TestServer};

fn concrete(path: &str) -> String {
    path.replace("{tracking_id}", &"0".repeat(32))
        .replace("{id}", "1")
        .replace("{name}", &format!("{}.fsw", "0".repeat(64)))
}

#[tokio::test]
async fn every_endpoint_refuses_no_token_with_401_and_other_roles_with_403() {
    let s = TestServer::new();
    let mut checked = 0;
    for (ep, _) in endpoints() {
        if ep.roles.is_empty() {
            continue;
        }
        let path = concrete(ep.path);
        let body = (ep.method == Method::POST).then(|| Body::from("{}"));
        let ct = (ep.method == Method::POST).then_some("application/json");
        let r = s
            .request(ep.method.clone(), &path, None, body, ct, &[])
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{} {} without token",
            ep.method,
            ep.path
        );
        assert_eq!(r.code(), "unauthorized");
        let r = s
            .request(
                ep.method.clone(),
                &path,
                Some("fs1.000000000000.not-a-token"),
                (ep.method == Method::POST).then(|| Body::from("{}")),
                ct,
                &[],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{} {} bad token",
            ep.method,
            ep.path
        );
        for role in Role::ALL {
            let r = s
                .request(
                    ep.method.clone(),
                    &path,
                    Some(s.tokens.for_role(role)),
                    (ep.method == Method::POST).then(|| Body::from("{}")),
                    ct,
                    &[],
                )
                .await;
            if ep.roles.contains(&role) {
                assert!(
                    r.status != StatusCode::UNAUTHORIZED && r.status != StatusCode::FORBIDDEN,
                    "{} {} as {role}: {}",
                    ep.method,
                    ep.path,
                    r.status
                );
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{} {} as {role}",
                    ep.method,
                    ep.path
                );
                assert_eq!(r.code(), "forbidden");
            }
            checked += 1;
        }
    }
    assert!(checked >= 4 * 12, "walked {checked} endpoint x role pairs");
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_refused() {
    let s = TestServer::new();
    let (id, token) = s
        .state
        .db
        .blocking(|c| {
            fraudshield_server::auth::create(c, Role::Analyst, "carol", Some(T0 + 10), T0)
        })
        .unwrap();
    assert_eq!(
        s.get("/v1/review/queue", Some(&token)).await.status,
        StatusCode::OK
    );
    s.clock.advance(10);
    assert_eq!(
        s.get("/v1/review/queue", Some(&token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let _ = id;
    let bob = s.tokens.bob.clone();
    assert_eq!(
        s.get("/v1/review/queue", Some(&bob)).await.status,
        StatusCode::OK
    );
    let bob_id = &bob[4..16];
    assert!(
        s.state
            .db
            .blocking(|c| fraudshield_server::auth::revoke(c, bob_id, T0))
            .unwrap()
    );
    assert_eq!(
        s.get("/v1/review/queue", Some(&bob)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_tip_is_acknowledged_tracked_and_merged_when_repeated() {
    let s = TestServer::new();
    let r = s.report("+86 138-0013-8000", "install-1").await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let receipt = r.json();
    let tid = receipt["tracking_id"].as_str().unwrap().to_owned();
    assert_eq!(receipt["status"], "received");
    assert_eq!(tid.len(), 32);

    // Public status, no token needed; nothing cacheable.
    let st = s.get(&format!("/v1/reports/{tid}"), None).await;
    assert_eq!(st.status, StatusCode::OK);
    assert_eq!(st.json()["status"], "received");
    assert!(st.json()["answer"].is_null());
    assert_eq!(st.headers[header::CACHE_CONTROL], "no-store");
    // 2026-03-02 (Mon) + 5 working days = Mon 2026-03-09 23:59:59 +08:00.
    assert_eq!(st.json()["answer_due_by"], "2026-03-09T15:59:59Z");

    // Same client, same number (another spelling) inside 15 minutes: merged.
    s.clock.advance(600);
    let again = s.report("13800138000", "install-1").await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json()["tracking_id"], tid.as_str());
    assert_eq!(again.json()["merged"], true);
    // Another client: new evidence.
    let other = s.report("13800138000", "install-2").await;
    assert_ne!(other.json()["tracking_id"], tid.as_str());
    // After the window the same client counts again.
    s.clock.advance(301);
    let later = s.report("13800138000", "install-1").await;
    assert_ne!(later.json()["tracking_id"], tid.as_str());

    let q = s.get("/v1/review/queue", Some(&s.tokens.alice)).await;
    assert_eq!(q.status, StatusCode::OK);
    let rows = q.json();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["identifier"]["value"], "+8613800138000");
    assert_eq!(rows[0]["distinct_reporters"], 2);
    assert_eq!(rows[0]["evidence"], 3);
    assert_eq!(rows[0]["tips"][0]["repeats"], 1);

    assert_eq!(
        s.get(&format!("/v1/reports/{}", "f".repeat(32)), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("/v1/reports/not-an-id", None).await.code(),
        "not_found"
    );
}

#[tokio::test]
async fn bad_tips_get_a_clear_4xx_that_never_repeats_the_value_and_store_nothing() {
    let s = TestServer::new();
    let reporter = s.tokens.reporter.clone();
    let secret = "1380013800";
    let cases = [
        (
            json!({"kind": "fax", "value": secret, "category": "loan", "text": ""}),
            422,
            "invalid_kind",
        ),
        (
            json!({"kind": "phone", "value": secret, "category": "loan", "text": ""}),
            422,
            "invalid_identifier",
        ),
        (
            json!({"kind": "phone", "value": "١٣٨٠٠١٣٨٠٠٠", "category": "loan", "text": ""}),
            422,
            "invalid_identifier",
        ),
        (
            json!({"kind": "phone", "value": "13800138000", "category": "spam", "text": ""}),
            422,
            "invalid_category",
        ),
        (
            json!({"kind": "phone", "category": "loan", "text": ""}),
            422,
            "invalid_body",
        ),
        (
            json!({"kind": "phone", "value": "13800138000", "category": "loan", "text": "x".repeat(2001)}),
            422,
            "invalid_text",
        ),
        (
            json!({"kind": "phone", "value": "13800138000", "category": "loan", "text": "", "client_id": "c".repeat(65)}),
            422,
            "invalid_client_id",
        ),
        (
            json!({"kind": "phone", "value": 13800138000u64, "category": "loan", "text": ""}),
            422,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let r = s.post("/v1/reports", Some(&reporter), body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}");
        assert_eq!(r.code(), code, "{body}");
        let text = String::from_utf8_lossy(&r.body);
        assert!(
            !text.contains(secret) && !text.contains("13800138000"),
            "{text}"
        );
    }
    let raw = |body: &'static [u8], ct: &'static str| {
        let s = &s;
        let reporter = reporter.clone();
        async move {
            s.request(
                Method::POST,
                "/v1/reports",
                Some(&reporter),
                Some(Body::from(body)),
                Some(ct),
                &[],
            )
            .await
        }
    };
    assert_eq!(
        raw(b"{\"kind\":", "application/json").await.code(),
        "malformed_json"
    );
    assert_eq!(
        raw(b"{\"kind\":\"phone\"}", "text/plain").await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        raw(b"{\"kind\":\"\xff\xfe\"}", "application/json")
            .await
            .code(),
        "malformed_json"
    );
    let deep: &'static [u8] = Box::leak(
        ("[".repeat(10_000) + &"]".repeat(10_000))
            .into_bytes()
            .into_boxed_slice(),
    );
    // Nesting is refused at the first value of the wrong shape (serde's recursion limit backs it).
    let r = raw(deep, "application/json").await;
    assert!(r.status.is_client_error(), "{}", r.status);
    let deep_obj: &'static [u8] = Box::leak(
        (r#"{"kind":"phone","value":"13800138000","category":"loan","text":"","contact":"#
            .to_owned()
            + &"[".repeat(5000)
            + &"]".repeat(5000)
            + "}")
            .into_bytes()
            .into_boxed_slice(),
    );
    assert!(
        raw(deep_obj, "application/json")
            .await
            .status
            .is_client_error()
    );
    let big: &'static [u8] = Box::leak(
        format!("{{\"text\":\"{}\"}}", "a".repeat(70_000))
            .into_bytes()
            .into_boxed_slice(),
    );
    let r = raw(big, "application/json").await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.code(), "body_too_large");
    let n: i64 = s
        .state
        .db
        .blocking(|c| Ok(c.query_row("SELECT COUNT(*) FROM tips", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn floods_get_429_with_retry_after() {
    let s = TestServer::with(|c| {
        c.intake.client_per_hour = 2;
        c.intake.identifier_per_minute = 3;
    });
    assert_eq!(
        s.report("13800138001", "a").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        s.report("13800138002", "a").await.status,
        StatusCode::CREATED
    );
    let r = s.report("13800138003", "a").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "rate_limited");
    let secs: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(secs >= 1);
    // Per identifier, across clients.
    assert_eq!(
        s.report("13800138009", "b").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        s.report("13800138009", "c").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        s.report("13800138009", "d").await.status,
        StatusCode::CREATED
    );
    let r = s.report("13800138009", "e").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
}

async fn propose_add(s: &TestServer, token: &str, value: &str, tips: &[&str]) -> serde_json::Value {
    let r = s
        .post(
            "/v1/proposals",
            Some(token),
            json!({"action": "add", "kind": "phone", "value": value, "category": "police_impersonation",
                   "risk": "high", "reason": "three tips, confirmed by call-back", "tips": tips}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

#[tokio::test]
async fn four_eyes_approval_then_publish_serves_a_new_signed_manifest() {
    let s = TestServer::new();
    let tip = s.report("13800138000", "x").await.json()["tracking_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (alice, bob, publisher) = (
        s.tokens.alice.clone(),
        s.tokens.bob.clone(),
        s.tokens.publisher.clone(),
    );
    let p = propose_add(&s, &alice, "+86 138 0013 8000", &[&tip]).await;
    let id = p["id"].as_i64().unwrap();
    assert_eq!(p["status"], "pending");
    // A second open proposal for the same number is refused.
    let dup = s
        .post(
            "/v1/proposals",
            Some(&bob),
            json!({"action": "add", "kind": "phone", "value": "13800138000",
            "category": "loan", "risk": "low", "reason": "again"}),
        )
        .await;
    assert_eq!(dup.code(), "open_proposal_exists");
    // The proposer cannot approve.
    let own = s
        .post(
            &format!("/v1/proposals/{id}/approve"),
            Some(&alice),
            json!({}),
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    // Nothing to publish yet.
    assert_eq!(
        s.post("/v1/publish", Some(&publisher), json!({}))
            .await
            .code(),
        "nothing_to_publish"
    );
    let ok = s
        .post(
            &format!("/v1/proposals/{id}/approve"),
            Some(&bob),
            json!({"reason": "checked"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json()["status"], "approved");
    assert_eq!(ok.json()["reviewer"], "bob");

    let before = s.get("/v1/manifest", None).await;
    assert_eq!(before.status, StatusCode::OK);
    let etag = before.headers[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(before.headers[header::CACHE_CONTROL], "public, max-age=60");

    let preview = s.get("/v1/publish/preview", Some(&publisher)).await.json();
    assert_eq!(preview["current_release"], 1);
    assert_eq!(preview["changes"].as_array().unwrap().len(), 1);
    assert_eq!(
        preview["changes"][0]["identifier"]["value"],
        "+8613800138000"
    );
    assert_eq!(preview["changes"][0]["reports"], 1);

    let r = s
        .post("/v1/publish", Some(&publisher), json!({"reason": "daily"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["release"], 2);
    assert_eq!(r.json()["changes"], 1);
    assert_eq!(r.json()["entries"], 1);
    assert_eq!(
        s.get(&format!("/v1/proposals/{id}"), Some(&publisher))
            .await
            .json()["status"],
        "published"
    );

    // The manifest changed; the old ETag now gets the new body, the new one a 304.
    let m = s
        .request(
            Method::GET,
            "/v1/manifest",
            None,
            None,
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(m.status, StatusCode::OK);
    let new_etag = m.headers[header::ETAG].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let m304 = s
        .request(
            Method::GET,
            "/v1/manifest",
            None,
            None,
            None,
            &[("if-none-match", &new_etag)],
        )
        .await;
    assert_eq!(m304.status, StatusCode::NOT_MODIFIED);
    assert!(m304.body.is_empty());

    // Every artifact the manifest names is served, immutable, byte-exact.
    let bundle = fraudshield_core::release::signed::Bundle::decode(&m.body).unwrap();
    let manifest =
        fraudshield_core::release::manifest::Manifest::decode(&bundle.manifest.payload).unwrap();
    assert_eq!(manifest.release, 2);
    for a in &manifest.artifacts {
        let r = s.get(&format!("/{}", a.path), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", a.path);
        assert_eq!(r.body.len() as u64, a.size);
        assert_eq!(fraudshield_core::release::keys::sha256(&r.body), a.sha256);
        assert_eq!(
            r.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
    }
    assert_eq!(
        s.get("/artifacts/../publisher/state", None).await.status,
        StatusCode::NOT_FOUND
    );

    // The audit trail names who did what, and why.
    let audit = s
        .get(
            "/v1/audit?kind=phone&value=13800138000",
            Some(&s.tokens.admin),
        )
        .await
        .json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["propose", "approve"]);
    assert_eq!(audit[0]["actor"], "alice");
    assert_eq!(audit[0]["tips"][0], tip.as_str());
    assert!(
        audit[1]["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    let csv = s.get("/v1/audit?actor=bob&format=csv", Some(&alice)).await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = String::from_utf8(csv.body).unwrap();
    assert!(text.starts_with("id,at,token_id,actor"));
    assert_eq!(text.lines().count(), 2, "{text}");
    let releases = s.get("/v1/releases", Some(&publisher)).await.json();
    assert_eq!(releases[0]["release"], 2);
    assert_eq!(releases[1]["reason"], "initial");
}

#[tokio::test]
async fn protected_numbers_are_vetoed_and_revocations_travel_as_appeals() {
    let s = TestServer::with(|c| c.protected = vec!["+86 10 8888 9999".into()]);
    let (alice, bob) = (s.tokens.alice.clone(), s.tokens.bob.clone());
    for (value, prefix) in [
        ("110", false),
        ("96110", false),
        ("010-8888-9999", false),
        ("+86 10 8888", true),
    ] {
        let r = s
            .post(
                "/v1/proposals",
                Some(&alice),
                json!({"action": "add", "kind": "phone", "value": value, "prefix": prefix,
                "category": "other", "risk": "high", "reason": "x"}),
            )
            .await;
        assert_eq!(r.code(), "protected_number", "{value}");
    }
    // Revoke of something not listed is refused; after listing it works as an appeal.
    let r = s
        .post(
            "/v1/appeals",
            Some(&alice),
            json!({"kind": "qq", "value": "87654321", "reason": "owner complained"}),
        )
        .await;
    assert_eq!(r.code(), "not_listed");
    let p = s
        .post(
            "/v1/proposals",
            Some(&alice),
            json!({"action": "add", "kind": "qq", "value": "87654321",
            "category": "customer_service", "risk": "medium", "reason": "case 2026-113"}),
        )
        .await
        .json();
    s.post(
        &format!("/v1/proposals/{}/approve", p["id"]),
        Some(&bob),
        json!({}),
    )
    .await;
    s.post("/v1/publish", Some(&s.tokens.publisher), json!({}))
        .await;
    let appeal = s
        .post("/v1/appeals", Some(&alice), json!({"kind": "qq", "value": "87654321", "reason": "false positive: the owner's account was spoofed"}))
        .await;
    assert_eq!(appeal.status, StatusCode::CREATED);
    assert_eq!(appeal.json()["appeal"], true);
    assert_eq!(appeal.json()["action"], "revoke");
    let id = appeal.json()["id"].as_i64().unwrap();
    // Rejecting needs a reason.
    assert_eq!(
        s.post(&format!("/v1/proposals/{id}/reject"), Some(&bob), json!({}))
            .await
            .code(),
        "invalid_reason"
    );
    s.post(
        &format!("/v1/proposals/{id}/approve"),
        Some(&bob),
        json!({}),
    )
    .await;
    let r = s
        .post("/v1/publish", Some(&s.tokens.publisher), json!({}))
        .await
        .json();
    assert_eq!(r["release"], 3);
    assert_eq!(r["entries"], 0);
}

#[tokio::test]
async fn single_reviewer_mode_lets_the_proposer_approve_and_says_so() {
    let s = TestServer::with(|c| c.single_reviewer = true);
    let alice = s.tokens.alice.clone();
    let p = propose_add(&s, &alice, "13800138000", &[]).await;
    let r = s
        .post(
            &format!("/v1/proposals/{}/approve", p["id"]),
            Some(&alice),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["single_reviewer"], true);
    let audit = s.get("/v1/audit?action=approve", Some(&alice)).await.json();
    let approve = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "approve")
        .unwrap();
    assert_eq!(approve["single_reviewer"], true);
}

#[tokio::test]
async fn answering_a_tip_shows_the_citizen_the_answer_and_audits_contact_reads() {
    let s = TestServer::new();
    let r = s
        .post("/v1/reports", Some(&s.tokens.reporter), json!({"kind": "bank", "value": "6222 0212 3456 7890 123",
            "category": "investment", "text": "fake trading platform", "contact": "138 0000 0000 (evenings)"}))
        .await;
    let tid = r.json()["tracking_id"].as_str().unwrap().to_owned();
    let alice = s.tokens.alice.clone();
    let q = s.get("/v1/review/queue", Some(&alice)).await.json();
    assert_eq!(q[0]["tips"][0]["has_contact"], true);
    assert!(
        !q.to_string().contains("evenings"),
        "the queue does not carry contacts"
    );
    let c = s
        .get(&format!("/v1/tips/{tid}/contact"), Some(&alice))
        .await;
    assert_eq!(c.json()["contact"], "138 0000 0000 (evenings)");
    let a = s
        .post(
            &format!("/v1/tips/{tid}/answer"),
            Some(&alice),
            json!({"outcome": "approved", "message": "已核实，已加入预警名单"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let st = s.get(&format!("/v1/reports/{tid}"), None).await.json();
    assert_eq!(st["status"], "answered");
    assert_eq!(st["answer"]["outcome"], "approved");
    assert_eq!(st["answer"]["message"], "已核实，已加入预警名单");
    assert_eq!(
        s.post(
            &format!("/v1/tips/{tid}/answer"),
            Some(&alice),
            json!({"outcome": "rejected", "message": "x"})
        )
        .await
        .code(),
        "already_answered"
    );
    // Answered tips leave the queue.
    assert_eq!(
        s.get("/v1/review/queue", Some(&alice))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // After the retention period the jobs delete the contact.
    s.clock.advance(31 * 86_400);
    fraudshield_server::app::run_jobs_once(&s.state).await;
    assert!(
        s.get(&format!("/v1/tips/{tid}/contact"), Some(&alice))
            .await
            .json()["contact"]
            .is_null()
    );
    let audit = s.get("/v1/audit", Some(&alice)).await.json();
    let reads = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "read_contact")
        .count();
    assert_eq!(reads, 2);
}

#[tokio::test]
async fn health_fails_loudly_near_expiry_and_the_freshness_job_re_signs() {
    let s = TestServer::new();
    assert_eq!(s.get("/healthz", None).await.status, StatusCode::OK);
    assert_eq!(s.get("/readyz", None).await.status, StatusCode::OK);
    let etag = s.get("/v1/manifest", None).await.headers[header::ETAG].clone();
    // Validity 2 days, alert 6 h before: move to 1 h before expiry.
    s.clock.advance(2 * 86_400 - 3600);
    let h = s.get("/healthz", None).await;
    assert_eq!(h.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h.json()["status"], "manifest_expiring");
    let metrics = String::from_utf8(s.get("/metrics", None).await.body).unwrap();
    assert!(
        metrics.contains("fraudshield_manifest_expires_in_seconds 3600"),
        "{metrics}"
    );
    fraudshield_server::app::run_jobs_once(&s.state).await;
    // Core's Publisher::resign: the same release under a fresh manifest, valid 2 days from now.
    let h = s.get("/healthz", None).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["release"], 1);
    assert_eq!(h.json()["manifest_expires_in_secs"], 2 * 86_400);
    assert_ne!(
        s.get("/v1/manifest", None).await.headers[header::ETAG],
        etag,
        "a new manifest is served"
    );
    let metrics = String::from_utf8(s.get("/metrics", None).await.body).unwrap();
    assert!(
        metrics.contains("fraudshield_manifest_age_seconds 0"),
        "{metrics}"
    );
    // No release was cut: the history still holds release 1 only; the audit log says why.
    let releases = s
        .get("/v1/releases", Some(&s.tokens.publisher))
        .await
        .json();
    assert_eq!(releases.as_array().unwrap().len(), 1, "{releases}");
    let audit = s.get("/v1/audit", Some(&s.tokens.alice)).await.json();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "refresh" && r["release"] == 1),
        "{audit}"
    );
    // Nothing is due again right away.
    fraudshield_server::app::run_jobs_once(&s.state).await;
    assert_eq!(s.get("/healthz", None).await.json()["release"], 1);
    assert_eq!(
        s.get("/v1/releases", Some(&s.tokens.publisher))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_use_the_envelope() {
    let s = TestServer::new();
    let r = s.get("/nope", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");
    let r = s
        .request(Method::DELETE, "/v1/manifest", None, None, None, &[])
        .await;
    assert!(r.status.is_client_error());
    assert_eq!(r.code(), "method_not_allowed");
    let m = String::from_utf8(s.get("/metrics", None).await.body).unwrap();
    assert!(m.contains("fraudshield_http_requests_total"), "{m}");
    assert!(m.contains("route=\"/nope\"") || m.contains("route=\"unmatched\""));
}

#[tokio::test]
async fn openapi_describes_every_endpoint_with_its_security() {
    let s = TestServer::new();
    let r = s.get("/v1/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (_, p) in paths {
        operations += p.as_object().unwrap().len();
    }
    let eps = endpoints();
    assert_eq!(operations, eps.len(), "one operation per endpoint, no more");
    for (ep, _) in eps {
        let op = &doc["paths"][ep.path][ep.method.as_str().to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from openapi.json",
            ep.method,
            ep.path
        );
        let secured = op["security"].as_array().is_some_and(|a| !a.is_empty());
        assert_eq!(
            secured,
            !ep.roles.is_empty(),
            "{} {} security",
            ep.method,
            ep.path
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["ReportRequest"].is_object());
}
