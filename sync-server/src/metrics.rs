//! Prometheus metrics (`GET /metrics`, text format), with the `prometheus-client` crate.
//!
//! | metric | type | what |
//! |---|---|---|
//! | `fraudshield_http_requests_total{route,method,status}` | counter | requests by route template (never the raw path: paths carry tracking ids) |
//! | `fraudshield_http_request_duration_seconds{route,method}` | histogram | latency by route |
//! | `fraudshield_tips_received` | gauge | tips stored (repeats merged) |
//! | `fraudshield_tips_answered` | gauge | tips answered |
//! | `fraudshield_tips_overdue` | gauge | unanswered tips past their due date |
//! | `fraudshield_release` | gauge | release being served |
//! | `fraudshield_manifest_age_seconds` | gauge | seconds since the served manifest was signed |
//! | `fraudshield_manifest_expires_in_seconds` | gauge | seconds until it expires (alert well before 0) |
//! | `fraudshield_publish_duration_seconds` | gauge | wall time of the last release cut, whoever cut it (API, console, admin `publish` command, key rotation); a re-sign is not a publish |
//! | `fraudshield_entries` | gauge | entries in the served list |
//! | `fraudshield_object_store_release` | gauge | release the object store serves (0: none confirmed yet, or no object store); alert when below `fraudshield_release` for long |
//!
//! The tip, release and publish-duration gauges are read from the database and the served
//! manifest at scrape, so what another process did (the admin `publish` command) shows too.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// Labels of a request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route template, e.g. `/v1/reports/{tracking_id}`.
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Status code.
    pub status: u16,
}

/// Labels of a latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Route template.
    pub route: String,
    /// HTTP method.
    pub method: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every metric the server keeps.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests by route, method, status.
    pub requests: Family<RequestLabels, Counter>,
    /// Latency by route and method.
    pub latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Tips stored.
    pub tips_received: Gauge,
    /// Tips answered.
    pub tips_answered: Gauge,
    /// Unanswered tips past due.
    pub tips_overdue: Gauge,
    /// Served release.
    pub release: Gauge,
    /// Entries in the served list.
    pub entries: Gauge,
    /// Seconds since the served manifest was signed.
    pub manifest_age_seconds: Gauge,
    /// Seconds until the served manifest expires.
    pub manifest_expires_in_seconds: Gauge,
    /// Wall time of the last release cut (set at scrape from the release history).
    pub publish_seconds: Gauge<f64, AtomicU64>,
    /// Release the object store serves (0: unknown or none).
    pub object_store_release: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("fraudshield");
        let m = Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            tips_received: Gauge::default(),
            tips_answered: Gauge::default(),
            tips_overdue: Gauge::default(),
            release: Gauge::default(),
            entries: Gauge::default(),
            manifest_age_seconds: Gauge::default(),
            manifest_expires_in_seconds: Gauge::default(),
            publish_seconds: Gauge::default(),
            object_store_release: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route template",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            m.latency.clone(),
        );
        registry.register(
            "tips_received",
            "Tips stored (repeats merged)",
            m.tips_received.clone(),
        );
        registry.register("tips_answered", "Tips answered", m.tips_answered.clone());
        registry.register(
            "tips_overdue",
            "Unanswered tips past their due date",
            m.tips_overdue.clone(),
        );
        registry.register("release", "Release being served", m.release.clone());
        registry.register("entries", "Entries in the served list", m.entries.clone());
        registry.register(
            "manifest_age_seconds",
            "Seconds since the served manifest was signed",
            m.manifest_age_seconds.clone(),
        );
        registry.register(
            "manifest_expires_in_seconds",
            "Seconds until the served manifest expires",
            m.manifest_expires_in_seconds.clone(),
        );
        registry.register(
            "publish_duration_seconds",
            "Wall time of the last release cut",
            m.publish_seconds.clone(),
        );
        registry.register(
            "object_store_release",
            "Release the object store serves (0: none confirmed yet, or no object store)",
            m.object_store_release.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }
}
