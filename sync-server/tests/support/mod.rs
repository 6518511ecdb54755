//! In-process test server: a real data directory (`init`), a real SQLite file, the real
//! router driven with `tower::ServiceExt::oneshot`, a fixed clock, and one token per role.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use fraudshield_server::auth::{self, Role};
use fraudshield_server::clock::Clock;
use fraudshield_server::config::Config;
use fraudshield_server::{App, AppState};
use http_body_util::BodyExt as _;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt as _;

/// 2026-03-02 10:00 +08:00, a Monday.
pub const T0: i64 = 1_772_416_800;

pub struct Tokens {
    pub admin: String,
    pub reporter: String,
    pub alice: String,
    pub bob: String,
    pub publisher: String,
}

impl Tokens {
    pub fn for_role(&self, role: Role) -> &str {
        match role {
            Role::Admin => &self.admin,
            Role::Reporter => &self.reporter,
            Role::Analyst => &self.alice,
            Role::Publisher => &self.publisher,
        }
    }
}

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub clock: Clock,
    pub tokens: Tokens,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

impl TestServer {
    pub fn new() -> TestServer {
        Self::with(|_| {})
    }

    pub fn with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        Self::with_sink(tweak, Arc::new(fraudshield_server::release::LocalOnly))
    }

    /// With releases also handed to `sink` (an object store double).
    pub fn with_sink(
        tweak: impl FnOnce(&mut Config),
        sink: Arc<dyn fraudshield_server::release::ReleaseSink>,
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        tweak(&mut config);
        let clock = Clock::fixed(T0);
        let init = fraudshield_server::init(&config, &clock).unwrap();
        let app = App::open_with_sink(config, clock.clone(), sink).unwrap();
        let mk = |role, name: &str| {
            app.db
                .blocking(|c| auth::create(c, role, name, None, T0))
                .unwrap()
                .1
        };
        let tokens = Tokens {
            admin: init.admin_token.clone(),
            reporter: mk(Role::Reporter, "police-app"),
            alice: mk(Role::Analyst, "alice"),
            bob: mk(Role::Analyst, "bob"),
            publisher: mk(Role::Publisher, "pat"),
        };
        TestServer {
            dir,
            state: AppState(Arc::new(app)),
            clock,
            tokens,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Body>,
        content_type: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let req = req.body(body.unwrap_or_else(Body::empty)).unwrap();
        let resp = fraudshield_server::app(self.state.clone())
            .oneshot(req)
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::GET, path, token, None, None, &[])
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(
            Method::POST,
            path,
            token,
            Some(Body::from(body.to_string())),
            Some("application/json"),
            &[],
        )
        .await
    }

    /// Posts a tip; returns the reply.
    pub async fn report(&self, value: &str, client: &str) -> Reply {
        self.post(
            "/v1/reports",
            Some(&self.tokens.reporter),
            serde_json::json!({
                "kind": "phone", "value": value, "category": "police_impersonation",
                "text": "说是公安局的，要我转账到安全账户", "client_id": client
            }),
        )
        .await
    }
}
