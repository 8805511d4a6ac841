//! `/api/v1/clearances`: the agencies' decisions on an application.

use actix_web::{get, http::header, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{store, Clearance, ClearanceRow, ClearanceStatus, Grant, Objection, Verdict};
use crate::auth::visible::resolve;
use crate::auth::{Principal, Role};
use crate::error::AppError;
use crate::http::{etag, ApiJson, IfMatch, Page, PageParams, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClearanceFilter {
    /// An agency code.
    pub agency: Option<String>,
    pub status: Option<ClearanceStatus>,
    pub application_id: Option<Uuid>,
}

fn respond(row: ClearanceRow, who: &Principal) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Clearance::view(row, who))
}

/// List clearances: an agency client its own agency's, an operator its applications', staff
/// all. An operator never reads the security agency's reason.
#[utoipa::path(
    tag = "clearances",
    params(PageParams, ClearanceFilter),
    responses((status = 200, description = "A page of clearances", body = Page<Clearance>)),
    security(("bearer" = []))
)]
#[get("/clearances")]
pub async fn list_clearances(
    state: web::Data<AppState>,
    who: Principal,
    page: Query<PageParams>,
    filter: Query<ClearanceFilter>,
) -> Result<web::Json<Page<Clearance>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let f = filter.into_inner();
    let w = who.clone();
    let rows = state
        .db
        .read(move |conn| {
            // An agency client that clears for no agency sees none.
            let agency_scope = match w.role {
                Role::Agency => Some(super::agency_of(conn, &w.id)?.unwrap_or_default()),
                _ => None,
            };
            let filter = store::Filter {
                owner_id: w.is(Role::Operator).then(|| w.id.clone()),
                agency_scope,
                agency: f.agency.map(|a| a.trim().to_ascii_lowercase()),
                status: f.status,
                application_id: f.application_id.map(|id| id.to_string()),
            };
            store::list(conn, &filter, after, limit + 1)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), |r| Clearance::view(r, &who))))
}

/// Read a clearance.
#[utoipa::path(
    tag = "clearances",
    params(("id" = Uuid, Path, description = "The clearance's id")),
    responses(
        (status = 200, description = "The clearance", body = Clearance, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such clearance, or not visible to the caller"),
    ),
    security(("bearer" = []))
)]
#[get("/clearances/{id}")]
pub async fn get_clearance(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, w) = (id.to_string(), who.clone());
    let row = state.db.read(move |conn| resolve::<ClearanceRow>(conn, &w, &id)).await?;
    let row = row.into_inner();
    Ok(respond(row, &who))
}

async fn decide(
    state: web::Data<AppState>,
    who: Principal,
    id: String,
    if_match: IfMatch,
    verdict: Verdict,
) -> Result<HttpResponse, AppError> {
    let (now, w) = (state.now(), who.clone());
    let row = state
        .db
        .write(move |conn| {
            let clearance = super::for_decision(conn, &w, &id)?;
            super::decide(conn, now, &w, clearance, |v| if_match.check(v), verdict)
        })
        .await?;
    Ok(respond(row, &who))
}

/// Clear the applicant (a client of this clearance's agency only; final; `If-Match`).
#[utoipa::path(
    operation_id = "grant_clearance",
    tag = "clearances",
    request_body = Grant,
    params(("id" = Uuid, Path, description = "The clearance's id"), ("If-Match" = String, Header, description = "The clearance's ETag last read")),
    responses(
        (status = 200, description = "Granted", body = Clearance, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 403, description = "Not a client of this clearance's agency"),
        (status = 404, description = "No such clearance, or not visible to the caller"),
        (status = 409, description = "Already decided"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/clearances/{id}/grant")]
pub async fn grant(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Grant>,
) -> Result<HttpResponse, AppError> {
    let verdict = Verdict::Grant { reference: body.into_inner().reference };
    decide(state, who, id.to_string(), if_match, verdict).await
}

/// Object to the applicant, with a reason (a client of this clearance's agency only; final;
/// `If-Match`).
#[utoipa::path(
    operation_id = "object_to_clearance",
    tag = "clearances",
    request_body = Objection,
    params(("id" = Uuid, Path, description = "The clearance's id"), ("If-Match" = String, Header, description = "The clearance's ETag last read")),
    responses(
        (status = 200, description = "Objected", body = Clearance, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 403, description = "Not a client of this clearance's agency"),
        (status = 404, description = "No such clearance, or not visible to the caller"),
        (status = 409, description = "Already decided"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/clearances/{id}/object")]
pub async fn object(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Objection>,
) -> Result<HttpResponse, AppError> {
    let Objection { reason, reference } = body.into_inner();
    decide(state, who, id.to_string(), if_match, Verdict::Object { reason, reference }).await
}
