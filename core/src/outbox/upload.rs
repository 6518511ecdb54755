//! Uploading due reports: one `POST <base>v1/reports` per report through the app's
//! [`Transport`], and what each answer means for the report.
//!
//! | answer | report becomes | the rest of this round |
//! |---|---|---|
//! | `201` with a tracking id | sent | continues |
//! | `4xx` other than 429 | failed (code and message kept) | continues |
//! | `429` | pending; the whole outbox waits `Retry-After` (default 5 min, at most 1 day) | stops |
//! | `5xx`, another status, a `201` without a tracking id, a transport error | pending, next attempt after a backoff (1 min, doubling per attempt, at most 6 h) | stops |
//!
//! A round stops at the first transient failure: the network or the server is down, and the
//! next report would fail the same way.

use super::{Due, Outbox, OutboxError};
use crate::sync::transport::{HttpMethod, HttpRequest, HttpResponse, Transport};

/// Largest response body read from the report endpoint.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;
/// Backoff after the first transient failure; doubles per attempt.
const FIRST_RETRY_SECS: i64 = 60;
/// Longest backoff between attempts of one report.
const MAX_RETRY_SECS: i64 = 6 * 3600;
/// The outbox-wide wait after a 429 without `Retry-After`.
const DEFAULT_RETRY_AFTER_SECS: u64 = 300;
/// Longest `Retry-After` honoured.
const MAX_RETRY_AFTER_SECS: u64 = 24 * 3600;
/// Longest tracking id, error code and message kept from a server answer.
const MAX_SERVER_TEXT: usize = 256;

/// Where and as whom reports are sent. Its `Debug` never shows the token.
#[derive(Clone)]
pub struct ReportEndpoint {
    /// Base URL ending in `/`; reports go to `<base>v1/reports`.
    pub base_url: String,
    /// The reporter token the server issued to this app.
    pub token: String,
    /// Deadline of each request, in milliseconds.
    pub timeout_ms: u64,
}

impl std::fmt::Debug for ReportEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportEndpoint")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// What one upload round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReportUploads {
    /// Reports the server accepted in this round.
    pub sent: u32,
    /// Reports the server refused in this round.
    pub failed: u32,
    /// Reports still pending after the round.
    pub pending: u32,
    /// When the server asked the outbox to wait (429): seconds from now.
    pub retry_after_secs: Option<u64>,
}

/// What one answer means for a report.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Sent {
        tracking_id: String,
    },
    Failed {
        code: String,
        message: String,
    },
    /// Transient: try this report again later, stop the round.
    Later,
    /// The server asked the whole outbox to wait this long.
    Backoff {
        seconds: u64,
    },
}

impl Outbox {
    /// Sends every due report to `endpoint` through `transport`, at time `now` (Unix seconds).
    /// Blocking network I/O; holds no lock on the outbox while a request runs. Errors only when
    /// the outbox itself fails: answers and transport failures are recorded per report.
    pub fn upload_due(
        &self,
        transport: &dyn Transport,
        endpoint: &ReportEndpoint,
        now: i64,
    ) -> Result<ReportUploads, OutboxError> {
        let _round = self.upload_lock();
        let mut done = ReportUploads::default();
        let (client_id, not_before) = self.installation()?;
        if not_before > now {
            done.retry_after_secs = Some((not_before - now) as u64);
        } else {
            for report in self.due(now)? {
                let req = request(endpoint, &client_id, &report);
                match outcome(transport.send(req).ok()) {
                    Outcome::Sent { tracking_id } => {
                        self.mark_sent(report.id, &tracking_id, now)?;
                        done.sent += 1;
                    }
                    Outcome::Failed { code, message } => {
                        self.mark_failed(report.id, &code, &message)?;
                        done.failed += 1;
                    }
                    Outcome::Later => {
                        self.retry_later(report.id, now.saturating_add(backoff(report.attempts)))?;
                        break;
                    }
                    Outcome::Backoff { seconds } => {
                        self.set_not_before(now.saturating_add(seconds as i64))?;
                        done.retry_after_secs = Some(seconds);
                        break;
                    }
                }
            }
        }
        done.pending = u32::try_from(self.counts()?.pending).unwrap_or(u32::MAX);
        Ok(done)
    }
}

/// The backoff before attempt `attempts + 1`: 1 min, 2, 4 … at most 6 h.
fn backoff(attempts: u32) -> i64 {
    FIRST_RETRY_SECS
        .saturating_mul(1i64 << attempts.min(20))
        .min(MAX_RETRY_SECS)
}

fn request(endpoint: &ReportEndpoint, client_id: &str, r: &Due) -> HttpRequest {
    let mut body = serde_json::json!({
        "kind": r.kind,
        "value": r.value,
        "category": r.category,
        "text": r.text,
        "client_id": client_id,
    });
    if let (Some(contact), Some(map)) = (&r.contact, body.as_object_mut()) {
        map.insert("contact".to_string(), contact.clone().into());
    }
    HttpRequest {
        method: HttpMethod::Post,
        url: format!("{}v1/reports", endpoint.base_url),
        headers: Vec::new(),
        body: body.to_string().into_bytes(),
        max_response_bytes: MAX_RESPONSE_BYTES,
        timeout_ms: endpoint.timeout_ms,
    }
    .with_header("Authorization", &format!("Bearer {}", endpoint.token))
    .with_header("Content-Type", "application/json")
    .with_header("Accept", "application/json")
}

/// Reads an answer (`None`: the transport failed).
fn outcome(resp: Option<HttpResponse>) -> Outcome {
    let Some(resp) = resp else {
        return Outcome::Later;
    };
    let json: Option<serde_json::Value> = serde_json::from_slice(&resp.body).ok();
    let field = |v: Option<&serde_json::Value>| -> Option<String> {
        v.and_then(serde_json::Value::as_str)
            .map(|s| s.chars().take(MAX_SERVER_TEXT).collect())
    };
    match resp.status {
        201 => match field(json.as_ref().and_then(|j| j.get("tracking_id"))) {
            Some(tracking_id) if !tracking_id.is_empty() => Outcome::Sent { tracking_id },
            // The server took it but said nothing usable: sending it again with the same
            // client id is safe and gets the tracking id.
            _ => Outcome::Later,
        },
        429 => Outcome::Backoff {
            seconds: resp
                .retry_after_secs()
                .unwrap_or(DEFAULT_RETRY_AFTER_SECS)
                .min(MAX_RETRY_AFTER_SECS),
        },
        400..=499 => {
            let error = json.as_ref().and_then(|j| j.get("error"));
            Outcome::Failed {
                code: field(error.and_then(|e| e.get("code")))
                    .unwrap_or_else(|| format!("http_{}", resp.status)),
                message: field(error.and_then(|e| e.get("message"))).unwrap_or_default(),
            }
        }
        _ => Outcome::Later,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::transport::HttpHeader;

    fn resp(status: u16, body: &str, headers: &[(&str, &str)]) -> Option<HttpResponse> {
        Some(HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| HttpHeader {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            body: body.as_bytes().to_vec(),
        })
    }

    #[test]
    fn answers_map_to_outcomes() {
        assert_eq!(
            outcome(resp(
                201,
                r#"{"tracking_id":"T-9","status":"received"}"#,
                &[]
            )),
            Outcome::Sent {
                tracking_id: "T-9".to_string()
            }
        );
        assert_eq!(outcome(resp(201, "oops", &[])), Outcome::Later);
        assert_eq!(
            outcome(resp(
                400,
                r#"{"error":{"code":"invalid_value","message":"value does not normalize"}}"#,
                &[]
            )),
            Outcome::Failed {
                code: "invalid_value".to_string(),
                message: "value does not normalize".to_string()
            }
        );
        assert_eq!(
            outcome(resp(403, "", &[])),
            Outcome::Failed {
                code: "http_403".to_string(),
                message: String::new()
            }
        );
        assert_eq!(
            outcome(resp(429, "", &[("Retry-After", "42")])),
            Outcome::Backoff { seconds: 42 }
        );
        assert_eq!(
            outcome(resp(429, "", &[("retry-after", "99999999")])),
            Outcome::Backoff {
                seconds: MAX_RETRY_AFTER_SECS
            }
        );
        assert_eq!(outcome(resp(503, "", &[])), Outcome::Later);
        assert_eq!(outcome(resp(200, "{}", &[])), Outcome::Later);
        assert_eq!(outcome(None), Outcome::Later);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), 60);
        assert_eq!(backoff(1), 120);
        assert_eq!(backoff(5), 1920);
        assert_eq!(backoff(30), MAX_RETRY_SECS);
        assert_eq!(backoff(u32::MAX), MAX_RETRY_SECS);
    }

    #[test]
    fn request_follows_the_contract() {
        let endpoint = ReportEndpoint {
            base_url: "https://intake.example.org/".to_string(),
            token: "tok".to_string(),
            timeout_ms: 5_000,
        };
        let due = Due {
            id: 1,
            kind: "qq".to_string(),
            category: "refund".to_string(),
            value: "12345678".to_string(),
            text: "退款 \"quoted\"".to_string(),
            contact: None,
            attempts: 0,
        };
        let req = request(&endpoint, &"c".repeat(32), &due);
        assert_eq!(req.method, HttpMethod::Post);
        assert_eq!(req.url, "https://intake.example.org/v1/reports");
        assert_eq!(req.header("authorization"), Some("Bearer tok"));
        assert_eq!(req.header("content-type"), Some("application/json"));
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["kind"], "qq");
        assert_eq!(body["value"], "12345678");
        assert_eq!(body["category"], "refund");
        assert_eq!(body["text"], "退款 \"quoted\"");
        assert_eq!(body["client_id"], "c".repeat(32));
        assert!(body.get("contact").is_none());
        assert!(!format!("{req:?}").contains("tok") && !format!("{endpoint:?}").contains("tok"));
    }
}
