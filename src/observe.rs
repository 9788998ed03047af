//! What an operator sees: one log line a request (text or JSON) with its request id,
//! the same id in `X-Request-Id`, and Prometheus metrics on a listener of their own
//! (`--metrics-bind`), off the public site.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// For people: one line of text an event.
    #[default]
    Text,
    /// For log collectors: one JSON object a line.
    Json,
}

/// Sets up logging to standard error, filtered by `RUST_LOG` (default `info`).
///
/// Lines are handed to a thread of their own that writes them out, so that a request
/// never waits for a write to standard error (unbuffered: one system call a line, which
/// was a tenth of the time of a cached answer). When that thread falls behind by more
/// lines than its queue holds, requests wait rather than lose lines. The guard writes out
/// what is queued when it is dropped: keep it until the process ends.
pub fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use tracing_subscriber::EnvFilter;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
    guard
}

/// Latency buckets in seconds: a page from the cache is well under a millisecond, a
/// network feed of a large database a second or more.
const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's metrics recorder, installed on first use. `metrics`' macros write to
/// one global recorder, so every server in a process (the tests start many) shares it.
pub fn metrics() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), SECONDS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "no metrics recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// `X-Request-Id`.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id a proxy in front gave the request, if it is a sane one (letters, digits, `-`,
/// `_`, `.`, at most 64), so that one id follows a request through every log; a new one
/// otherwise.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_owned)
        .unwrap_or_else(new_request_id)
}

/// 32 hex digits: a random number drawn once per process, then a count. Unique across
/// servers and restarts like a random id, without asking the system for randomness on
/// every request; an id names a log line and grants nothing, so it need not be secret.
fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static PROCESS: OnceLock<u64> = OnceLock::new();
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let process = PROCESS.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    format!("{process:016x}{n:016x}")
}

/// Logs every request once it is answered (route, status, latency, request id), counts
/// it by route and status, and gives the response its `X-Request-Id`.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let mut res = next.call(req).await?;
    // The route's pattern, not the path: `/events/{id}` is one series, not a million.
    let known = res
        .request()
        .extensions()
        .get::<crate::web::cache::RoutePattern>()
        .map(|r| r.0.to_owned());
    let route = known
        .or_else(|| res.request().match_pattern())
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    tracing::info!(
        target: "http",
        request_id = %id,
        method = %method,
        route = %route,
        path = %path,
        status,
        latency_ms = (seconds * 1000.0 * 1000.0).round() / 1000.0,
        "request"
    );
    let status_label = status.to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "status" => status_label)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route).record(seconds);
    Ok(res)
}

/// The text of `/metrics`, with the pool's state read at the moment of the scrape.
pub fn render_metrics(pool: &crate::db::DbPool) -> String {
    let state = pool.state();
    metrics::gauge!("db_pool_connections").set(f64::from(state.connections));
    metrics::gauge!("db_pool_idle_connections").set(f64::from(state.idle_connections));
    metrics::gauge!("db_pool_size").set(f64::from(pool.max_size()));
    metrics().map(|h| h.render()).unwrap_or_default()
}
