//! The access log: one info line per request (target `ccreg::access`), written inside the
//! request's span. It names the method, the route template (never the concrete path, which may
//! hold a caller's phone number, nor the query, which may hold a token), the status, the time
//! to the response's head in milliseconds, the request id and the client address as
//! [`client_addr`] resolves it (`X-Forwarded-For` only from a trusted proxy). No header is
//! logged, so no credential is.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web;

use super::public::client_addr;
use crate::state::AppState;

/// Where the access lines go, for `RUST_LOG` (`warn,ccreg::access=info` keeps only them).
pub const TARGET: &str = "ccreg::access";

/// The status the client gets: the response's, or for an error its response's.
pub fn status<B>(outcome: &Result<ServiceResponse<B>, actix_web::Error>) -> StatusCode {
    match outcome {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    }
}

pub async fn log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let client = match req.app_data::<web::Data<AppState>>() {
        Some(state) => client_addr(req.request(), &state.settings.trusted_proxies),
        None => client_addr(req.request(), &[]),
    };
    let route = super::route::of(&req);
    let request_id = super::request_id::of(&req);
    let method = req.method().clone();
    let outcome = next.call(req).await;
    let micros = started.elapsed().as_micros() as f64;
    tracing::info!(
        target: TARGET,
        method = %method,
        route = %route.as_deref().unwrap_or("unmatched"),
        status = status(&outcome).as_u16(),
        duration_ms = (micros / 1_000.0),
        request_id = %request_id.as_deref().unwrap_or("-"),
        client = %client,
        "answered"
    );
    outcome
}
