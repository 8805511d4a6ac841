//! `/api/v1/public/stats`.

use actix_web::{get, http::header, web, HttpResponse};

use super::Statistics;
use crate::error::AppError;
use crate::state::AppState;

/// Anonymous statistics by city and for the country: sites, licensed sites, suspended and
/// revoked licences, recorded inspections, critical findings, reports of the last 30 days.
/// Rate limited like the public licence check.
#[utoipa::path(
    tag = "enforcement",
    responses(
        (status = 200, description = "The figures now", body = Statistics,
            headers(("Cache-Control" = String, description = "no-store"))),
        (status = 429, description = "Too many look-ups from this address", headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[get("/public/stats")]
pub async fn public_stats(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let stats = state.db.read(move |conn| super::compute(conn, now)).await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(stats))
}
