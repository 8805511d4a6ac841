//! Service endpoints: liveness, readiness, Prometheus metrics (requests, in flight, the
//! database pool, the verification-log queue, build and process), and the request metrics
//! middleware.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{get, http::header, web, HttpResponse};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;
use crate::state::AppState;
use crate::verify::log::VerificationLog;

/// ccreg's own series are `ccreg_*`; the process collector's keep their standard `process_*`
/// names, so ready-made dashboards find them.
const NAMESPACE: &str = "ccreg";

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    in_flight: IntGauge,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    verification_log_queued: IntGauge,
}

fn gauge(registry: &Registry, name: &str, help: &str) -> anyhow::Result<IntGauge> {
    let g = IntGauge::with_opts(Opts::new(name, help).namespace(NAMESPACE))?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered").namespace(NAMESPACE),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer a request")
                .namespace(NAMESPACE)
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ]),
            &["method", "route"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        let build = IntGaugeVec::new(
            Opts::new("build_info", "The running build: always 1, its version as a label")
                .namespace(NAMESPACE),
            &["version"],
        )?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        registry.register(Box::new(build))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
        Ok(Metrics {
            in_flight: gauge(
                &registry,
                "http_requests_in_flight",
                "Requests being answered now (this one included)",
            )?,
            pool_connections: gauge(
                &registry,
                "db_pool_connections",
                "Database connections open in the pool",
            )?,
            pool_idle: gauge(
                &registry,
                "db_pool_idle_connections",
                "Open database connections not in use",
            )?,
            pool_max: gauge(&registry, "db_pool_max_connections", "The pool's limit")?,
            verification_log_queued: gauge(
                &registry,
                "verification_log_queued_entries",
                "Agency verifications answered but not yet written to the verification log",
            )?,
            registry,
            requests,
            latency,
        })
    }

    fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The method as a metric label: the standard ones by name, anything else `other` (a client
/// may send any token as a method, and each would otherwise be a new series).
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Holds one place in the in-flight gauge; given back when the request ends, however it ends
/// (a client that hangs up drops the request's future).
struct InFlight(IntGauge);

impl InFlight {
    fn enter(gauge: &IntGauge) -> Self {
        gauge.inc();
        InFlight(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Counts and times every request by its route pattern (not its concrete path, which would
/// let clients grow the label set without bound; unmatched paths are one `unmatched` value)
/// and its method (unknown methods are one `other` value).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = crate::http::route::of(&req);
    let route = route.as_deref().unwrap_or("unmatched").to_string();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let _in_flight = metrics.as_ref().map(|m| InFlight::enter(&m.in_flight));
    let outcome = next.call(req).await;
    if let Some(m) = metrics {
        let status = crate::http::access::status(&outcome).as_u16().to_string();
        m.requests.with_label_values(&[method, route.as_str(), status.as_str()]).inc();
        m.latency
            .with_label_values(&[method, route.as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    outcome
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: String,
}

/// Liveness: the process is up.
#[utoipa::path(tag = "service", responses((status = 200, description = "Up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok".into() })
}

/// Readiness: the database answers.
#[utoipa::path(
    tag = "service",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database is not reachable"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Health>, AppError> {
    state.db.ping().await.map_err(|e| AppError::unavailable(e.to_string()))?;
    Ok(web::Json(Health { status: "ready".into() }))
}

/// Prometheus metrics, in the text exposition format.
#[utoipa::path(
    operation_id = "get_metrics",
    tag = "service",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
pub async fn serve_metrics(
    metrics: web::Data<Metrics>,
    state: web::Data<AppState>,
    log: web::Data<VerificationLog>,
) -> HttpResponse {
    let pool = state.db.pool_state();
    metrics.pool_connections.set(i64::from(pool.connections));
    metrics.pool_idle.set(i64::from(pool.idle));
    metrics.pool_max.set(i64::from(pool.max));
    metrics.verification_log_queued.set(i64::try_from(log.queued()).unwrap_or(i64::MAX));
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .body(metrics.render())
}
