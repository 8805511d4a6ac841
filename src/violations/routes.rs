//! `/api/v1/violations`.

use actix_web::{get, http::header, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{store, Resolve, Violation, ViolationRow, ViolationStatus};
use crate::auth::visible;
use crate::auth::{Principal, Role};
use crate::error::AppError;
use crate::http::{etag, ApiJson, IfMatch, Page, PageParams, Query};
use crate::inspections::Severity;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViolationFilter {
    pub site_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    #[param(inline)]
    pub status: Option<ViolationStatus>,
    #[param(inline)]
    pub severity: Option<Severity>,
}

fn respond(row: ViolationRow, now: chrono::NaiveDateTime) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Violation::view(row, now))
}

/// List violations: staff all, operators their own sites'.
#[utoipa::path(
    tag = "enforcement",
    params(PageParams, ViolationFilter),
    responses((status = 200, description = "A page of violations", body = Page<Violation>)),
    security(("bearer" = []))
)]
#[get("/violations")]
pub async fn list_violations(
    state: web::Data<AppState>,
    who: Principal,
    page: Query<PageParams>,
    filter: Query<ViolationFilter>,
) -> Result<web::Json<Page<Violation>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let f = filter.into_inner();
    let filter = store::Filter {
        owner_scope: who.is(Role::Operator).then(|| who.id.clone()),
        site_id: f.site_id.map(|id| id.to_string()),
        organisation_id: f.organisation_id.map(|id| id.to_string()),
        status: f.status,
        severity: f.severity,
    };
    let now = state.now();
    let rows = state
        .db
        .read(move |conn| Ok(store::list(conn, &filter, now.date(), after, limit + 1)?))
        .await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), |r| Violation::view(r, now))))
}

/// Read a violation (operators: their own sites').
#[utoipa::path(
    tag = "enforcement",
    params(("id" = Uuid, Path, description = "The violation's id")),
    responses(
        (status = 200, description = "The violation", body = Violation, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such violation, or not visible to the caller"),
    ),
    security(("bearer" = []))
)]
#[get("/violations/{id}")]
pub async fn get_violation(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.to_string(), state.now());
    let row = state.db.read(move |conn| visible::resolve::<ViolationRow>(conn, &who, &id)).await?;
    let row = row.into_inner();
    Ok(respond(row, now))
}

/// Resolve an open or overdue violation with a reason. Regulators; needs `If-Match`.
#[utoipa::path(
    operation_id = "resolve_violation",
    tag = "enforcement",
    request_body = Resolve,
    params(("id" = Uuid, Path, description = "The violation's id"), ("If-Match" = String, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "Resolved", body = Violation, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such violation"),
        (status = 409, description = "Resolved already"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/violations/{id}/resolve")]
pub async fn resolve(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Resolve>,
) -> Result<HttpResponse, AppError> {
    let (id, reason, now) = (id.to_string(), body.into_inner().reason, state.now());
    let row = state
        .db
        .write(move |conn| {
            let violation = visible::resolve::<ViolationRow>(conn, &who, &id)?;
            super::resolve(conn, now, &who, violation, |v| if_match.check(v), reason)
        })
        .await?;
    Ok(respond(row, now))
}
