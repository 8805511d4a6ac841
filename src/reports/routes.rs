//! `/api/v1/public/reports` and `/api/v1/reports`.

use actix_web::{get, http::header, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{store, NewReport, Received, Report, ReportStatus, Triage};
use crate::auth::Principal;
use crate::error::AppError;
use crate::http::{etag, ApiJson, IfMatch, Page, PageParams, Query};
use crate::state::AppState;

/// Report a call (anyone). The answer is the same whether or not the number is registered.
/// Rate limited like the public licence check.
#[utoipa::path(
    tag = "enforcement",
    request_body = NewReport,
    responses(
        (status = 202, description = "Received", body = Received),
        (status = 422, description = "A malformed number, a call in the future, or another invalid field"),
        (status = 429, description = "Too many requests from this address", headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[post("/public/reports")]
pub async fn report_call(
    state: web::Data<AppState>,
    body: ApiJson<NewReport>,
) -> Result<HttpResponse, AppError> {
    let (new, now) = (body.into_inner(), state.now());
    let id = state.db.write(move |conn| super::receive(conn, now, new)).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Received { id }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFilter {
    pub status: Option<ReportStatus>,
    /// The matched site.
    pub site_id: Option<Uuid>,
}

fn respond(report: Report) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, etag(report.version))).json(report)
}

/// Reports with what the registry knows of the number. Regulators and admins.
#[utoipa::path(
    tag = "enforcement",
    params(PageParams, ReportFilter),
    responses((status = 200, description = "A page of reports, oldest first", body = Page<Report>)),
    security(("bearer" = []))
)]
#[get("/reports")]
pub async fn list_reports(
    state: web::Data<AppState>,
    page: Query<PageParams>,
    filter: Query<ReportFilter>,
) -> Result<web::Json<Page<Report>>, AppError> {
    let (limit, after, now) = (page.limit()?, page.after()?, state.now());
    let f = filter.into_inner();
    let views = state
        .db
        .read(move |conn| {
            let site = f.site_id.map(|s| s.to_string());
            let rows = store::list(conn, f.status, site, after, limit + 1)?;
            super::views(conn, rows, now)
        })
        .await?;
    let more = views.len() as i64 > limit;
    let items = views.into_iter().take(limit as usize).collect();
    Ok(web::Json(Page::from_views(items, more, |r| r.id.clone())))
}

/// Read a report. Regulators and admins.
#[utoipa::path(
    tag = "enforcement",
    params(("id" = Uuid, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The report", body = Report, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such report"),
    ),
    security(("bearer" = []))
)]
#[get("/reports/{id}")]
pub async fn get_report(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.to_string(), state.now());
    let report = state
        .db
        .read(move |conn| {
            let row =
                store::find(conn, &id)?.ok_or_else(|| AppError::not_found("no such report"))?;
            super::view(conn, row, now)
        })
        .await?;
    Ok(respond(report))
}

/// Triage a new report: `inspect` schedules a `complaint` inspection of the matched site (422
/// when none matched), `dismiss` closes it. Regulators; needs `If-Match`.
#[utoipa::path(
    operation_id = "triage_report",
    tag = "enforcement",
    request_body = Triage,
    params(("id" = Uuid, Path, description = "The report's id"), ("If-Match" = String, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "Triaged or dismissed", body = Report, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such report"),
        (status = 409, description = "Triaged or dismissed already"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 422, description = "No matched site to inspect, or no active inspector"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/reports/{id}/triage")]
pub async fn triage(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Triage>,
) -> Result<HttpResponse, AppError> {
    let (id, t, now) = (id.to_string(), body.into_inner(), state.now());
    let report = state
        .db
        .write(move |conn| {
            let row = super::triage(conn, now, &who, &id, |v| if_match.check(v), t)?;
            super::view(conn, row, now)
        })
        .await?;
    Ok(respond(report))
}
