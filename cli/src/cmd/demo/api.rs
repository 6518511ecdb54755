//! The analysts' and the publisher's side of the server's HTTP API, as the demo calls it: JSON
//! over the same HTTP stack the phone uses (core's reqwest transport), with a bearer token.

use crate::output::Failure;
use fraudshield_core::sync::http::HttpTransport;
use fraudshield_core::sync::transport::{HttpMethod, HttpRequest, Transport};
use serde_json::Value;

/// Largest answer the demo reads (the review queue, a publish report).
const MAX_ANSWER: u64 = 64 << 20;
/// Deadline of one call: a publish of a large list is the slowest.
const TIMEOUT_MS: u64 = 120_000;

/// A JSON client of the server at one base URL.
pub struct Api {
    base: String,
    http: HttpTransport,
}

/// One answer: the status and the JSON body (`null` when there was none).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Reply {
    /// The error envelope's code (`{"error":{"code":…}}`), if any.
    pub fn error_code(&self) -> Option<&str> {
        self.body["error"]["code"].as_str()
    }

    /// The error envelope's message, or the status.
    fn error_text(&self) -> String {
        match (self.error_code(), self.body["error"]["message"].as_str()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            _ => format!("HTTP {}", self.status),
        }
    }
}

impl Api {
    /// A client of the server at `base` (`http://127.0.0.1:PORT/`).
    pub fn new(base: &str) -> Result<Api, Failure> {
        let http =
            HttpTransport::new().map_err(|e| Failure::new(format!("cannot set up HTTP: {e}")))?;
        Ok(Api {
            base: base.to_owned(),
            http,
        })
    }

    /// `GET path` with `token`.
    pub fn get(&self, path: &str, token: Option<&str>) -> Result<Reply, Failure> {
        self.send(HttpMethod::Get, path, token, None)
    }

    /// `POST path` with `token` and a JSON body.
    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Result<Reply, Failure> {
        self.send(HttpMethod::Post, path, token, Some(body))
    }

    /// `POST path` that must answer `status`; `what` names the step in the failure.
    pub fn post_ok(
        &self,
        what: &str,
        path: &str,
        token: &str,
        body: &Value,
    ) -> Result<Value, Failure> {
        let reply = self.post(path, Some(token), body)?;
        expect_success(what, reply)
    }

    /// `GET path` that must succeed; `what` names the step in the failure.
    pub fn get_ok(&self, what: &str, path: &str, token: Option<&str>) -> Result<Value, Failure> {
        let reply = self.get(path, token)?;
        expect_success(what, reply)
    }

    /// The raw bytes of `GET path` (the manifest, an artifact).
    pub fn get_bytes(&self, path: &str) -> Result<Vec<u8>, Failure> {
        let request = HttpRequest::get(&format!("{}{path}", self.base), MAX_ANSWER, TIMEOUT_MS);
        let response = self
            .http
            .send(request)
            .map_err(|e| Failure::new(format!("the demo server did not answer: {e}")))?;
        if response.status != 200 {
            return Err(Failure::new(format!(
                "the demo server answered HTTP {} for a published file",
                response.status
            )));
        }
        Ok(response.body)
    }

    fn send(
        &self,
        method: HttpMethod,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply, Failure> {
        let mut request = HttpRequest::get(&format!("{}{path}", self.base), MAX_ANSWER, TIMEOUT_MS);
        request.method = method;
        if let Some(token) = token {
            request = request.with_header("Authorization", &format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.with_header("Content-Type", "application/json");
            request.body = serde_json::to_vec(body)
                .map_err(|e| Failure::new(format!("cannot encode a request: {e}")))?;
        }
        let response = self
            .http
            .send(request)
            .map_err(|e| Failure::new(format!("the demo server did not answer: {e}")))?;
        let body = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body).unwrap_or(Value::Null)
        };
        Ok(Reply {
            status: response.status,
            body,
        })
    }
}

/// The body of a 2xx answer, or a failure naming the step and the server's reason.
fn expect_success(what: &str, reply: Reply) -> Result<Value, Failure> {
    if (200..300).contains(&reply.status) {
        Ok(reply.body)
    } else {
        Err(Failure::new(format!(
            "{what}: the server refused ({})",
            reply.error_text()
        )))
    }
}
