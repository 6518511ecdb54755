//! The application: its state, the router, the middleware, and serving with graceful shutdown.

use crate::auth::{self, Role};
use crate::calendar::Calendar;
use crate::clock::Clock;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::db::Db;
use crate::error::AppError;
use crate::intake::Intake;
use crate::limits::IntakeLimits;
use crate::metrics::{Metrics, RequestLabels, RouteLabels};
use crate::objectstore::ObjectStoreSink;
use crate::protected::ProtectedList;
use crate::release::{self, LocalOnly, ReleaseSink, Releases};
use crate::routes;
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use fraudshield_core::release::publisher::PublishConfig;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate as _};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

/// Everything a request handler may need. Built once at start.
#[derive(Debug)]
pub struct App {
    /// The effective configuration.
    pub config: Config,
    /// The data directory.
    pub dir: DataDir,
    /// The database.
    pub db: Db,
    /// Working days for answer deadlines.
    pub calendar: Calendar,
    /// Numbers that are never listed.
    pub protected: ProtectedList,
    /// Intake rate limits.
    pub limits: IntakeLimits,
    /// The tip queue of the group-commit writer.
    pub intake: Intake,
    /// Releases: publisher, key, served manifest.
    pub releases: Releases,
    /// The clock.
    pub clock: Clock,
    /// Metrics.
    pub metrics: Metrics,
}

/// The router's state: a cheap handle on [`App`].
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory is missing, uninitialized or unreadable.
    #[error(transparent)]
    DataDir(#[from] crate::datadir::DataDirError),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Schema(#[from] crate::schema::SchemaError),
    /// The configuration is inconsistent.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Anything else (opening the publisher, recovering a publish).
    #[error("{0}")]
    Other(String),
}

impl From<AppError> for StartError {
    fn from(e: AppError) -> Self {
        StartError::Other(e.to_string())
    }
}

impl App {
    /// Opens an initialized data directory: database (migrated), signing key, publisher,
    /// served manifest; finishes or discards an interrupted publish. Releases also go to the
    /// object store when `[object_store]` names a bucket. Blocking.
    pub fn open(config: Config, clock: Clock) -> Result<App, StartError> {
        let sink: Arc<dyn ReleaseSink> = match ObjectStoreSink::from_config(&config.object_store)
            .map_err(|e| StartError::Other(e.to_string()))?
        {
            Some(s) => Arc::new(s),
            None => Arc::new(LocalOnly),
        };
        Self::open_with_sink(config, clock, sink)
    }

    /// [`App::open`] with another [`ReleaseSink`] (an object store).
    pub fn open_with_sink(
        config: Config,
        clock: Clock,
        sink: Arc<dyn ReleaseSink>,
    ) -> Result<App, StartError> {
        config.validate()?;
        let dir = DataDir::new(&config.data_dir);
        dir.require_initialized()?;
        let db = Db::open(&dir.database())?;
        crate::keys::finish_interrupted(&dir, publish_config(&config))
            .map_err(StartError::Other)?;
        let key = dir.load_signing_key()?;
        let protected = ProtectedList::from_config(&config.protected)
            .map_err(|e| StartError::Other(e.to_string()))?;
        let releases = Releases::open(
            &dir.releases(),
            vec![key],
            publish_config(&config),
            protected.rules().clone(),
            sink,
        )?;
        let calendar =
            Calendar::from_config(&config.review).map_err(|e| StartError::Other(e.to_string()))?;
        let limits = IntakeLimits::new(
            config.intake.client_per_hour,
            config.intake.identifier_per_minute,
        );
        let (intake, writer) = crate::intake::channel(
            &dir.database(),
            config.intake.queue_capacity,
            config.intake.max_batch,
            config.intake.merge_window_secs,
        )
        .map_err(|e| StartError::Other(format!("opening the tip writer: {e}")))?;
        // The thread ends once the app (the last queue handle) is dropped.
        writer
            .spawn()
            .map_err(|e| StartError::Other(format!("starting the tip writer: {e}")))?;
        let app = App {
            config,
            dir,
            db,
            calendar,
            protected,
            limits,
            intake,
            releases,
            clock,
            metrics: Metrics::default(),
        };
        release::recover(&app)?;
        Ok(app)
    }
}

/// The publisher settings from the configuration.
pub fn publish_config(config: &Config) -> PublishConfig {
    PublishConfig {
        max_delta_span: config.publish.max_delta_span,
        snapshot_interval: config.publish.snapshot_interval,
        validity_secs: config.publish.validity_secs,
        compression: None,
    }
}

fn bearer(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Authenticates the bearer token and checks its role against the endpoint's list.
async fn require_roles(
    State((state, roles)): State<(AppState, &'static [Role])>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer(&req) else {
        return AppError::unauthorized().into_response();
    };
    let now = state.clock.now();
    let caller = match state
        .db
        .call(move |c| auth::authenticate(c, &token, now))
        .await
    {
        Ok(Some(c)) => c,
        Ok(None) => return AppError::unauthorized().into_response(),
        Err(e) => return e.into_response(),
    };
    if !roles.contains(&caller.role) {
        return AppError::forbidden(format!(
            "a {} token cannot call this endpoint (allowed: {})",
            caller.role,
            roles_text(roles)
        ))
        .into_response();
    }
    let mut caller = caller;
    caller.request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    tracing::debug!(token_id = %caller.token_id, role = %caller.role, "authenticated");
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// Counts requests and their latency by route template.
async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
            method: method.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: random UUID-shaped values (version 4 layout) from a per-thread userspace
/// generator. A request id only has to be unique enough to find a request in the logs, not
/// unguessable, so it need not cost a `getrandom` system call per request as `Uuid::new_v4`
/// does (measured on `GET /v1/manifest`: one extra system call per request; see
/// `benches/SERVER.md`).
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeFastRequestId;

impl MakeRequestId for MakeFastRequestId {
    fn make_request_id<B>(&mut self, _req: &axum::http::Request<B>) -> Option<RequestId> {
        Some(RequestId::new(
            axum::http::HeaderValue::from_bytes(&request_id(fastrand::u128(..))).ok()?,
        ))
    }
}

/// Formats 128 random bits as a hyphenated version-4 UUID (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`).
fn request_id(random: u128) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Version 4, variant 10xx: the layout log tools expect of a random UUID.
    let bits = (random & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let bytes = bits.to_be_bytes();
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[usize::from(b >> 4)];
        out[at + 1] = HEX[usize::from(b & 0xf)];
        at += 2;
    }
    out
}

/// Marks a response of the client protocol (`GET /v1/manifest`, artifacts): every phone polls
/// these, so a successful one is logged at `debug`, not `info` (the request metrics count them
/// by route and status). Errors are logged at `info` like every other request.
#[derive(Debug, Clone, Copy)]
pub struct ClientPoll;

/// The request log line: `info` for every response except successful client polls
/// ([`ClientPoll`]), which are `debug`.
fn log_response<B>(resp: &axum::http::Response<B>, latency: Duration, _span: &tracing::Span) {
    let status = resp.status().as_u16();
    let latency_ms = latency.as_millis() as u64;
    if resp.extensions().get::<ClientPoll>().is_some() && status < 400 {
        tracing::debug!(status, latency_ms, "finished processing request");
    } else {
        tracing::info!(status, latency_ms, "finished processing request");
    }
}

/// Builds the router: every endpoint of [`routes::endpoints`] behind its role check, then
/// the middleware stack.
pub fn app(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    for (endpoint, handler) in routes::endpoints() {
        let handler = if endpoint.roles.is_empty() {
            handler
        } else {
            handler.route_layer(middleware::from_fn_with_state(
                (state.clone(), endpoint.roles),
                require_roles,
            ))
        };
        router = router.route(endpoint.path, handler);
    }
    let router = router
        .merge(crate::console::router())
        .fallback(|| async { AppError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            AppError::bad_request("method_not_allowed", "this method is not allowed here")
                .into_response()
        })
        .layer(middleware::from_fn_with_state(state.clone(), track));
    stack(router, &state.config).with_state(state)
}

/// The middleware, outermost first. The order matters:
///
/// 1. **request id** first, so every layer below, every log line and the response carry it;
/// 2. **trace**: one span per request with the id, the method and the route *template* (never
///    the raw URI: paths and queries can carry tracking ids and identifiers), and one line per
///    response ([`log_response`]: client polls at `debug`);
/// 3. **propagate** the id to the response;
/// 4. **catch-panic** inside the trace, so a panic is logged in its request's span and becomes
///    the generic 500 envelope;
/// 5. **timeout** (with its error turned into the 503 envelope), covering the body limit,
///    compression and the handler;
/// 6. **compression** of responses (JSON, CSV, metrics; not the artifacts, already compressed);
/// 7. **body limit** innermost, read by the JSON extractor (413 envelope).
fn stack(router: Router<AppState>, config: &Config) -> Router<AppState> {
    let timeout = Duration::from_secs(config.request_timeout_secs.max(1));
    let compress_when =
        DefaultPredicate::new().and(NotForContentType::new("application/octet-stream"));
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeFastRequestId))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|req: &Request| {
                        let id = req
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        let route = req
                            .extensions()
                            .get::<MatchedPath>()
                            .map_or("unmatched", |m| m.as_str());
                        tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route)
                    })
                    .on_response(log_response),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
                // The payload is not logged: it could quote request data.
                AppError::internal("a handler panicked").into_response()
            }))
            .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                AppError::timeout()
            }))
            .layer(tower::timeout::TimeoutLayer::new(timeout))
            .layer(CompressionLayer::new().compress_when(compress_when))
            .layer(DefaultBodyLimit::max(config.body_limit_bytes)),
    )
}

/// Background jobs: the freshness job (re-sign before expiry), the object store catching up
/// with the served release, contact deletion after
/// retention, forgetting idle rate-limit keys. One round every `jobs_interval_secs` (a
/// minute), the first at start.
pub fn spawn_jobs(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.config.jobs_interval_secs.max(1));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            run_jobs_once(&state).await;
        }
    })
}

/// One round of the background jobs (tests call it directly).
pub async fn run_jobs_once(state: &AppState) {
    let st = state.clone();
    let refreshed = tokio::task::spawn_blocking(move || release::refresh_if_due(&st)).await;
    match refreshed {
        Ok(Ok(Some(r))) => tracing::info!(release = r, "manifest re-signed before expiry"),
        Ok(Ok(None)) => {}
        Ok(Err(e)) => tracing::error!("freshness job failed: {e}"),
        Err(e) => tracing::error!("freshness job panicked: {e}"),
    }
    // After the freshness job: a copy that is behind (a failed upload, or just started) is
    // brought up to the served release.
    let st = state.clone();
    match tokio::task::spawn_blocking(move || release::sync_sink(&st)).await {
        Ok(Ok(Some(r))) => tracing::info!(release = r, "release copied to the object store"),
        Ok(Ok(None)) => {}
        Ok(Err(e)) => tracing::error!("object store upload still failing: {e}"),
        Err(e) => tracing::error!("object store job panicked: {e}"),
    }
    let now = state.clock.now();
    match state
        .db
        .call(move |c| crate::tips::sweep_contacts(c, now))
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "tipster contacts deleted after retention"),
        Err(e) => tracing::error!("contact retention job failed: {e}"),
    }
    state.limits.forget_idle();
}

/// Serves `state` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let jobs = spawn_jobs(state.clone());
    let router = app(state);
    let r = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    jobs.abort();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_version_4_uuids() {
        for random in [0, u128::MAX, 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef] {
            let id = request_id(random);
            let text = std::str::from_utf8(&id).unwrap_or_default();
            assert_eq!(text.len(), 36);
            let groups: Vec<&str> = text.split('-').collect();
            assert_eq!(
                groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12],
                "{text}"
            );
            assert!(groups[2].starts_with('4'), "{text}");
            assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "{text}");
            assert!(text.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
        }
        assert_eq!(
            &request_id(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            b"01234567-89ab-4def-8123-456789abcdef"
        );
        let mut make = MakeFastRequestId;
        let req = axum::http::Request::new(());
        let a = make.make_request_id(&req).map(|r| r.into_header_value());
        let b = make.make_request_id(&req).map(|r| r.into_header_value());
        assert!(a.is_some() && a != b);
    }
}
