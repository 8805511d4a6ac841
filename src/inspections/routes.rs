//! `/api/v1/inspections` and `/api/v1/enforcement-queue`.

use actix_web::{get, http::header, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::enforcement::{self, EnforcementItem};
use super::{
    store, Cancellation, Inspection, InspectionRow, NewInspection, Outcome, Record, Status,
};
use crate::auth::visible::resolve;
use crate::auth::{Principal, Role};
use crate::domain::record_id::{EnforcementItemId, UserId};
use crate::error::AppError;
use crate::http::idempotency::{self, Created};
use crate::http::{etag, ApiJson, IdempotencyKey, IfMatch, Page, PageParams, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InspectionFilter {
    pub site_id: Option<Uuid>,
    pub inspector_id: Option<Uuid>,
    pub status: Option<Status>,
    pub outcome: Option<Outcome>,
}

fn respond(row: super::InspectionRow, who: &Principal) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Inspection::view(row, who))
}

/// Schedule an inspection: regulators for any active inspector, inspectors for themselves.
#[utoipa::path(
    operation_id = "schedule_inspection",
    tag = "inspections",
    request_body = NewInspection,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255)),
    responses((status = 201, description = "Scheduled", body = Inspection,
        headers(("ETag" = String, description = "The strong ETag"), ("Location" = String, description = "The inspection")))),
    security(("bearer" = []))
)]
#[post("/inspections")]
pub async fn schedule(
    state: web::Data<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: ApiJson<NewInspection>,
) -> Result<HttpResponse, AppError> {
    idempotency::create_from(&state, key, body, move |conn, now, new| {
        let row = super::schedule(conn, now, &who, new)?;
        Created::new(
            format!("/api/v1/inspections/{}", row.id),
            row.version,
            &Inspection::view(row, &who),
        )
    })
    .await
}

/// List the inspections the caller may see.
#[utoipa::path(
    tag = "inspections",
    params(PageParams, InspectionFilter),
    responses((status = 200, description = "A page of inspections", body = Page<Inspection>)),
    security(("bearer" = []))
)]
#[get("/inspections")]
pub async fn list_inspections(
    state: web::Data<AppState>,
    who: Principal,
    page: Query<PageParams>,
    filter: Query<InspectionFilter>,
) -> Result<web::Json<Page<Inspection>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let f = filter.into_inner();
    let filter = store::Filter {
        inspector_scope: who.is(Role::Inspector).then(|| who.id.clone()),
        owner_scope: who.is(Role::Operator).then(|| who.id.clone()),
        site_id: f.site_id.map(|id| id.to_string()),
        inspector_id: f.inspector_id.map(|id| id.to_string()),
        status: f.status,
        outcome: f.outcome,
    };
    let rows = state.db.read(move |conn| store::list(conn, &filter, after, limit + 1)).await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), |r| Inspection::view(r, &who))))
}

/// Read an inspection (operators: recorded ones of their sites, without notes).
#[utoipa::path(
    tag = "inspections",
    params(("id" = Uuid, Path, description = "The inspection's id")),
    responses(
        (status = 200, description = "The inspection", body = Inspection, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such inspection, or not visible to the caller"),
    ),
    security(("bearer" = []))
)]
#[get("/inspections/{id}")]
pub async fn get_inspection(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.to_string();
    let w = who.clone();
    let row = state.db.read(move |conn| resolve::<InspectionRow>(conn, &w, &id)).await?;
    let row = row.into_inner();
    Ok(respond(row, &who))
}

/// Record the visit. The assigned inspector, once; needs `If-Match`.
#[utoipa::path(
    operation_id = "record_inspection",
    tag = "inspections",
    request_body = Record,
    params(("id" = Uuid, Path, description = "The inspection's id"), ("If-Match" = String, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "Recorded", body = Inspection, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such inspection, or not visible to the caller"),
        (status = 409, description = "Already recorded, or cancelled"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/inspections/{id}/record")]
pub async fn record(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Record>,
) -> Result<HttpResponse, AppError> {
    let (id, rec, now, w) = (id.to_string(), body.into_inner(), state.now(), who.clone());
    let row = state
        .db
        .write(move |conn| {
            let inspection = resolve::<InspectionRow>(conn, &w, &id)?;
            super::record_visit(conn, now, &w, inspection, |v| if_match.check(v), rec)
        })
        .await?;
    Ok(respond(row, &who))
}

/// Cancel a scheduled inspection. Regulators; needs `If-Match`.
#[utoipa::path(
    operation_id = "cancel_inspection",
    tag = "inspections",
    request_body = Cancellation,
    params(("id" = Uuid, Path, description = "The inspection's id"), ("If-Match" = String, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "Cancelled", body = Inspection, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such inspection"),
        (status = 409, description = "Not scheduled"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/inspections/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Cancellation>,
) -> Result<HttpResponse, AppError> {
    let (id, reason, now, w) = (id.to_string(), body.into_inner().reason, state.now(), who.clone());
    let row = state
        .db
        .write(move |conn| {
            let inspection = resolve::<InspectionRow>(conn, &w, &id)?;
            super::cancel(conn, now, &w, inspection, |v| if_match.check(v), reason)
        })
        .await?;
    Ok(respond(row, &who))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueFilter {
    /// `open` when absent.
    #[param(inline)]
    pub status: Option<QueueStatus>,
}

/// Which enforcement items to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    Open,
    Dismissed,
    Resolved,
    All,
}

/// The enforcement queue: licences flagged by critical inspections, overdue major or critical
/// violations, and public reports.
#[utoipa::path(
    operation_id = "list_enforcement_queue",
    tag = "inspections",
    params(PageParams, QueueFilter),
    responses((status = 200, description = "A page of items", body = Page<EnforcementItem>)),
    security(("bearer" = []))
)]
#[get("/enforcement-queue")]
pub async fn list_queue(
    state: web::Data<AppState>,
    page: Query<PageParams>,
    filter: Query<QueueFilter>,
) -> Result<web::Json<Page<EnforcementItem>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let status = match filter.status.unwrap_or(QueueStatus::Open) {
        QueueStatus::All => None,
        QueueStatus::Open => Some(enforcement::ItemStatus::Open),
        QueueStatus::Dismissed => Some(enforcement::ItemStatus::Dismissed),
        QueueStatus::Resolved => Some(enforcement::ItemStatus::Resolved),
    };
    let rows = state.db.read(move |conn| enforcement::list(conn, status, after, limit + 1)).await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), EnforcementItem::from)))
}

/// Take an item off the queue with a reason. Regulators; needs `If-Match`.
#[utoipa::path(
    operation_id = "dismiss_enforcement_item",
    tag = "inspections",
    request_body = Cancellation,
    params(("id" = Uuid, Path, description = "The item's id"), ("If-Match" = String, Header, description = "The ETag last read (the item's version)")),
    responses(
        (status = 200, description = "Dismissed", body = EnforcementItem, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such item"),
        (status = 409, description = "Not open"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/enforcement-queue/{id}/dismiss")]
pub async fn dismiss(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Cancellation>,
) -> Result<HttpResponse, AppError> {
    let id = EnforcementItemId::new(id.to_string());
    let (reason, now) = (body.into_inner().reason.into_string(), state.now());
    let actor = UserId::new(who.id);
    let row = state
        .db
        .write(move |conn| {
            enforcement::dismiss(conn, now, &actor, &id, |v| if_match.check(v), reason)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(EnforcementItem::from(row)))
}
