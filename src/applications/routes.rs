//! `/api/v1/applications` and their transitions.

use actix_web::{get, http::header, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{store, Application, ApplicationRow, Approval, NewApplication, Status};
use crate::auth::visible::{resolve, Visible};
use chrono::NaiveDateTime;

use crate::auth::{Principal, Role};
use crate::barred::Flag;
use crate::config::Licensing;
use crate::db::DbConn;
use crate::domain::Reason;
use crate::error::AppError;
use crate::http::idempotency::{self, Created};
use crate::http::{
    etag, ApiJson, IdempotencyKey, IfMatch, NoFields, OptionalJson, Page, PageParams, Query,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationFilter {
    pub organisation_id: Option<Uuid>,
    pub status: Option<Status>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InfoRequest {
    /// What the operator must supply.
    pub message: Reason,
}

impl crate::http::BodyRules for InfoRequest {}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub reason: Reason,
}

impl crate::http::BodyRules for Rejection {}

fn respond((row, flags): (super::ApplicationRow, Option<Vec<Flag>>)) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Application::view(row, flags))
}

/// The row with its flags as `who` sees them.
fn with_flags(
    conn: &mut DbConn,
    who: &Principal,
    row: super::ApplicationRow,
    now: NaiveDateTime,
) -> Result<(super::ApplicationRow, Option<Vec<Flag>>), AppError> {
    let flags =
        super::flags_for_viewer(conn, who, std::slice::from_ref(&row), now)?.pop().flatten();
    Ok((row, flags))
}

/// Start an application (a draft) for one of the caller's organisations.
#[utoipa::path(
    tag = "applications",
    request_body = NewApplication,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255)),
    responses((status = 201, description = "A draft application", body = Application,
        headers(("ETag" = String, description = "The strong ETag"), ("Location" = String, description = "The application")))),
    security(("bearer" = []))
)]
#[post("/applications")]
pub async fn create_application(
    state: web::Data<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: ApiJson<NewApplication>,
) -> Result<HttpResponse, AppError> {
    idempotency::create_from(&state, key, body, move |conn, now, new| {
        let row = super::create(conn, now, &who, new)?;
        Created::new(
            format!("/api/v1/applications/{}", row.id),
            row.version,
            &Application::from(row),
        )
    })
    .await
}

/// List applications: an operator's own, or all for staff.
#[utoipa::path(
    tag = "applications",
    params(PageParams, ApplicationFilter),
    responses((status = 200, description = "A page of applications", body = Page<Application>)),
    security(("bearer" = []))
)]
#[get("/applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    who: Principal,
    page: Query<PageParams>,
    filter: Query<ApplicationFilter>,
) -> Result<web::Json<Page<Application>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let f = filter.into_inner();
    let filter = store::Filter {
        owner_id: who.is(Role::Operator).then(|| who.id.clone()),
        organisation_id: f.organisation_id.map(|id| id.to_string()),
        status: f.status,
    };
    let now = state.now();
    let rows = state
        .db
        .read(move |conn| {
            let rows = store::list(conn, &filter, after, limit + 1)?;
            let flags = super::flags_for_viewer(conn, &who, &rows, now)?;
            Ok(rows.into_iter().zip(flags).collect::<Vec<_>>())
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |(r, _)| r.id.clone(),
        |(r, flags)| Application::view(r, flags),
    )))
}

/// Read an application, with its history.
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path, description = "The application's id")),
    responses(
        (status = 200, description = "The application", body = Application, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such application, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/applications/{id}")]
pub async fn get_application(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.to_string(), state.now());
    let row = state
        .db
        .read(move |conn| {
            let row = resolve::<ApplicationRow>(conn, &who, &id)?.into_inner();
            with_flags(conn, &who, row, now)
        })
        .await?;
    Ok(respond(row))
}

/// One step of the application named in the path, as `who` sees it: `act` (the domain
/// function of the step) in one write transaction, answered with the application (its flags
/// for staff) and its ETag.
async fn transition<F>(
    state: web::Data<AppState>,
    who: Principal,
    id: Uuid,
    if_match: IfMatch,
    act: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(Step<'_>) -> Result<ApplicationRow, AppError> + Send + 'static,
{
    let (now, licensing) = (state.now(), state.settings.licensing.clone());
    let row = state
        .db
        .write(move |conn| {
            let application = resolve::<ApplicationRow>(conn, &who, &id.to_string())?;
            let step = Step {
                conn,
                now,
                who: &who,
                application,
                if_match: &if_match,
                licensing: &licensing,
            };
            let row = act(step)?;
            with_flags(conn, &who, row, now)
        })
        .await?;
    Ok(respond(row))
}

/// What every step is given: the transaction, the time, the caller, the application, the
/// caller's `If-Match` and the licensing settings.
struct Step<'a> {
    conn: &'a mut DbConn,
    now: NaiveDateTime,
    who: &'a Principal,
    application: Visible<ApplicationRow>,
    if_match: &'a IfMatch,
    licensing: &'a Licensing,
}

/// Submit a draft (or an application sent back for information). The owner; needs `If-Match`.
///
/// Needs at least one site, at least one person, and every listed site to be an active site
/// of the organisation: 422 names each missing one.
#[utoipa::path(
    operation_id = "submit_application",
    tag = "applications",
    request_body(content = Option<NoFields>, description = "Optional: no fields (nothing, or `{}`)"),
    params(("id" = Uuid, Path, description = "The application's id"), ("If-Match" = String, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "Submitted", body = Application, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such application, or not the caller's"),
        (status = 409, description = "Not allowed from the current status"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 422, description = "A prerequisite is missing"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/submit")]
pub async fn submit(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    _body: OptionalJson<NoFields>,
) -> Result<HttpResponse, AppError> {
    transition(state, who, *id, if_match, |s| {
        super::submit(s.conn, s.now, s.who, s.application, |v| s.if_match.check(v), s.licensing)
    })
    .await
}

/// Withdraw an application. The owner; needs `If-Match`.
#[utoipa::path(
    operation_id = "withdraw_application",
    tag = "applications",
    request_body(content = Option<NoFields>, description = "Optional: no fields (nothing, or `{}`)"),
    params(("id" = Uuid, Path, description = "The application's id"), ("If-Match" = String, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "Withdrawn", body = Application, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such application, or not the caller's"),
        (status = 409, description = "Not allowed from the current status"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    _body: OptionalJson<NoFields>,
) -> Result<HttpResponse, AppError> {
    transition(state, who, *id, if_match, |s| {
        super::withdraw(s.conn, s.now, s.who, s.application, |v| s.if_match.check(v))
    })
    .await
}

/// Send a submitted application back for information. Regulators; needs `If-Match`.
#[utoipa::path(
    operation_id = "request_application_info",
    tag = "applications",
    request_body = InfoRequest,
    params(("id" = Uuid, Path, description = "The application's id"), ("If-Match" = String, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "Sent back", body = Application, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such application"),
        (status = 409, description = "Not allowed from the current status"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/request-info")]
pub async fn request_info(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<InfoRequest>,
) -> Result<HttpResponse, AppError> {
    let message = body.into_inner().message;
    transition(state, who, *id, if_match, |s| {
        super::request_info(s.conn, s.now, s.who, s.application, |v| s.if_match.check(v), message)
    })
    .await
}

/// Approve a submitted application, issuing its licence (or extending the licence it renews).
/// Regulators; needs `If-Match`. Of two concurrent approvals exactly one issues a licence.
#[utoipa::path(
    operation_id = "approve_application",
    tag = "applications",
    request_body(content = Option<Approval>, description = "Optional: conditions and a term overriding the one applied for; for a flagged application, override_flags and a reason"),
    params(("id" = Uuid, Path, description = "The application's id"), ("If-Match" = String, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "Approved; licence_number is set", body = Application, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such application"),
        (status = 409, description = "Not allowed from the current status"),
        (status = 422, description = "Flagged, and override_flags or reason is missing; or not approvable yet"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: OptionalJson<Approval>,
) -> Result<HttpResponse, AppError> {
    let approval = body.0;
    transition(state, who, *id, if_match, |s| {
        super::approve(s.conn, s.now, s.who, s.application, |v| s.if_match.check(v), approval)
    })
    .await
}

/// Reject a submitted application. Regulators; needs `If-Match`.
#[utoipa::path(
    operation_id = "reject_application",
    tag = "applications",
    request_body = Rejection,
    params(("id" = Uuid, Path, description = "The application's id"), ("If-Match" = String, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "Rejected", body = Application, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such application"),
        (status = 409, description = "Not allowed from the current status"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Rejection>,
) -> Result<HttpResponse, AppError> {
    let reason = body.into_inner().reason;
    transition(state, who, *id, if_match, |s| {
        super::reject(s.conn, s.now, s.who, s.application, |v| s.if_match.check(v), reason)
    })
    .await
}
