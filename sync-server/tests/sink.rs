//! The release sink seam, in process: a publish whose copy to the object store fails is
//! recorded and served locally, answers 502, and the retry job (`release::sync_sink`) brings
//! the copy up to date; `/healthz` and `/metrics` report the copy. The real S3 path is in
//! `objectstore.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use fraudshield_core::release::manifest::Manifest;
use fraudshield_server::release::{self, ReleaseSink, SinkCopy};
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use support::TestServer;

/// Records the releases handed to it; fails while `down`.
#[derive(Debug, Default)]
struct Double {
    down: AtomicBool,
    copies: Mutex<Vec<(u64, i64)>>,
}

impl ReleaseSink for Double {
    fn release_written(&self, _dir: &Path, m: &Manifest) -> Result<(), String> {
        if self.down.load(Ordering::SeqCst) {
            return Err("store unreachable".into());
        }
        self.copies.lock().unwrap().push((m.release, m.expires_at));
        Ok(())
    }

    fn copy(&self) -> SinkCopy {
        match self.copies.lock().unwrap().last() {
            Some(&(release, expires_at)) => SinkCopy::Holds {
                release,
                expires_at,
            },
            None => SinkCopy::Unknown,
        }
    }
}

async fn approved_change(s: &TestServer, value: &str) {
    let p = s
        .post(
            "/v1/proposals",
            Some(&s.tokens.alice),
            json!({"action": "add", "kind": "phone", "value": value, "category": "police_impersonation",
                   "risk": "high", "reason": "confirmed"}),
        )
        .await;
    assert_eq!(p.status, 201, "{:?}", p.json());
    let r = s
        .post(
            &format!("/v1/proposals/{}/approve", p.json()["id"]),
            Some(&s.tokens.bob),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_failed_copy_fails_the_publish_loudly_and_the_job_retries() {
    let sink = Arc::new(Double::default());
    let s = TestServer::with_sink(|_| {}, sink.clone());
    let state = s.state.clone();
    let sync_sink = || {
        let st = state.clone();
        async move {
            tokio::task::spawn_blocking(move || release::sync_sink(&st))
                .await
                .unwrap()
        }
    };

    // At start the copy is unknown: the job uploads the served release 1.
    assert_eq!(sync_sink().await.unwrap(), Some(1));
    assert_eq!(
        sync_sink().await.unwrap(),
        None,
        "nothing to do when up to date"
    );

    // The store is down: the publish is recorded and served here, and answers 502.
    sink.down.store(true, Ordering::SeqCst);
    approved_change(&s, "+8613800138000").await;
    let r = s
        .post("/v1/publish", Some(&s.tokens.publisher), json!({}))
        .await;
    assert_eq!(r.status, 502, "{:?}", r.json());
    assert_eq!(r.code(), "object_store_failed");
    assert_eq!(s.state.releases.served().unwrap().release, 2);
    assert_eq!(
        s.post("/v1/publish", Some(&s.tokens.publisher), json!({}))
            .await
            .code(),
        "nothing_to_publish",
        "the change was published locally, not left pending"
    );
    let metrics = String::from_utf8(s.get("/metrics", None).await.body).unwrap();
    assert!(
        metrics.contains("fraudshield_object_store_release 1"),
        "{metrics}"
    );
    assert!(sync_sink().await.is_err(), "still down: the job fails");

    // Back up: the job copies release 2.
    sink.down.store(false, Ordering::SeqCst);
    assert_eq!(sync_sink().await.unwrap(), Some(2));
    let metrics = String::from_utf8(s.get("/metrics", None).await.body).unwrap();
    assert!(
        metrics.contains("fraudshield_object_store_release 2"),
        "{metrics}"
    );
    assert_eq!(s.get("/healthz", None).await.status, 200);

    // The copy's manifest nearing expiry fails the health check even if the local one is
    // fresh (the store stays down while the local manifest is re-signed).
    sink.down.store(true, Ordering::SeqCst);
    let expires = sink.copies.lock().unwrap().last().unwrap().1;
    let alert = s.state.config.publish.alert_before_secs;
    s.clock.set(expires - alert + 1);
    let refreshed = {
        let st = s.state.clone();
        tokio::task::spawn_blocking(move || release::refresh_if_due(&st))
            .await
            .unwrap()
    };
    assert!(refreshed.is_err(), "the refresh's copy failed");
    assert!(s.state.releases.served().unwrap().expires_at > expires);
    let h = s.get("/healthz", None).await;
    assert_eq!(h.status, 503);
    assert_eq!(h.json()["status"], "object_store_manifest_expiring");
}
