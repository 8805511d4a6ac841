//! `/api/v1/inspections` and `/api/v1/enforcement-queue`.

use actix_web::{get, http::header, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::enforcement::{self, EnforcementItem};
use super::evidence::{self, EvidenceFile, EvidenceForm, EvidenceUpload};
use super::{
    store, Cancellation, Inspection, InspectionRow, NewInspection, Outcome, Record, Status,
};
use crate::auth::visible::resolve;
use crate::auth::{Principal, Role};
use crate::documents::routes::{stored_file, DocumentBytes};
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

fn respond(view: Inspection) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, etag(view.version))).json(view)
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
        let (location, version) = (format!("/api/v1/inspections/{}", row.id), row.version);
        Created::new(location, version, &super::view_of(conn, row, &who)?)
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
    let (views, more) = state
        .db
        .read(move |conn| {
            let mut rows = store::list(conn, &filter, after, limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            Ok((super::views(conn, rows, &who)?, more))
        })
        .await?;
    Ok(web::Json(Page::from_views(views, more, |i| i.id.clone())))
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
    let view = state
        .db
        .read(move |conn| {
            let row = resolve::<InspectionRow>(conn, &who, &id)?.into_inner();
            super::view_of(conn, row, &who)
        })
        .await?;
    Ok(respond(view))
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
    let (id, rec, now) = (id.to_string(), body.into_inner(), state.now());
    let view = state
        .db
        .write(move |conn| {
            let inspection = resolve::<InspectionRow>(conn, &who, &id)?;
            let row = super::record_visit(conn, now, &who, inspection, |v| if_match.check(v), rec)?;
            super::view_of(conn, row, &who)
        })
        .await?;
    Ok(respond(view))
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
    let (id, reason, now) = (id.to_string(), body.into_inner().reason, state.now());
    let view = state
        .db
        .write(move |conn| {
            let inspection = resolve::<InspectionRow>(conn, &who, &id)?;
            let row = super::cancel(conn, now, &who, inspection, |v| if_match.check(v), reason)?;
            super::view_of(conn, row, &who)
        })
        .await?;
    Ok(respond(view))
}

/// Upload a photo as evidence of the visit (the assigned inspector, before or with the record):
/// `multipart/form-data` with the parts `file` (PNG or JPEG) and `description`.
#[utoipa::path(
    operation_id = "upload_inspection_evidence",
    tag = "inspections",
    request_body(content = EvidenceUpload, content_type = "multipart/form-data"),
    params(
        ("id" = Uuid, Path, description = "The inspection's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255),
    ),
    responses(
        (status = 201, description = "Stored; `content_type` as recognised from the bytes", body = EvidenceFile,
         headers(("Location" = String, description = "The evidence's bytes"))),
        (status = 400, description = "A malformed multipart body or header value"),
        (status = 403, description = "Not the inspector assigned to this inspection"),
        (status = 404, description = "No such inspection, or not visible to the caller"),
        (status = 409, description = "The inspection is recorded or cancelled: its evidence can no longer change"),
        (status = 413, description = "The file is over 10 MiB"),
        (status = 415, description = "The body is not multipart/form-data, or the file is not a PNG or JPEG"),
        (status = 422, description = "Missing, empty, unknown or invalid parts (each listed)"),
    ),
    security(("bearer" = []))
)]
#[post("/inspections/{id}/evidence")]
pub async fn upload_evidence(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    form: EvidenceForm,
) -> Result<HttpResponse, AppError> {
    let (id, now, fingerprint) = (id.to_string(), state.now(), form.fingerprint());
    idempotency::create(&state.db, state.clock.clone(), key, fingerprint, move |conn| {
        let inspection = resolve::<InspectionRow>(conn, &who, &id)?;
        let row = evidence::upload(conn, now, &who, &inspection, &form)?;
        let location = format!("/api/v1/inspections/{id}/evidence/{}", row.id);
        Created::new(location, 1, &EvidenceFile::from(row))
    })
    .await
}

/// Download an evidence photo's bytes (staff who may see the inspection; never operators or
/// agencies).
///
/// Every download, by anyone, is audited as `document.read` (who, which).
#[utoipa::path(
    operation_id = "get_inspection_evidence",
    tag = "inspections",
    params(
        ("id" = Uuid, Path, description = "The inspection's id"),
        ("evidence_id" = Uuid, Path, description = "The evidence's id"),
    ),
    responses(
        (status = 200, description = "The bytes, with the type recognised at upload",
         content((DocumentBytes = "image/png"), (DocumentBytes = "image/jpeg")),
         headers(
             ("ETag" = String, description = "The SHA-256 of the bytes (hex), in quotes"),
             ("Content-Disposition" = String, description = "inline"),
             ("X-Content-Type-Options" = String, description = "nosniff"),
         )),
        (status = 404, description = "No such inspection or evidence, or not visible to the caller"),
    ),
    security(("bearer" = []))
)]
#[get("/inspections/{id}/evidence/{evidence_id}")]
pub async fn get_evidence(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, evidence_id) = path.into_inner();
    let (id, evidence_id, now) = (id.to_string(), evidence_id.to_string(), state.now());
    let (row, bytes) = state
        .db
        .write(move |conn| {
            let inspection = resolve::<InspectionRow>(conn, &who, &id)?;
            evidence::read_content(conn, now, &who, &inspection, &evidence_id)
        })
        .await?;
    Ok(stored_file(row.content_type, &row.sha256)
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .body(bytes))
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
