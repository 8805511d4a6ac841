//! `/api/v1/agency-clients`: admins create and delete agency clients.

use actix_web::{delete, get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{store, AgencyClient};
use crate::auth::Principal;
use crate::domain::Name;
use crate::error::AppError;
use crate::http::idempotency::{self, Created};
use crate::http::{tagged, ApiJson, IdempotencyKey, Page, PageParams, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    pub name: Name,
    /// The agency the client belongs to.
    pub agency: Name,
    /// The code of a clearing agency (`CCREG_CLEARANCE_AGENCIES`, default `nccia`, `pta`,
    /// `security`) this client decides clearances for.
    #[schema(example = "nccia")]
    pub clears: Option<String>,
}

impl crate::http::BodyRules for CreateClient {}

/// A new client, with its secret: shown this once only. The secret is never stored, so a
/// replay of the creation (same `Idempotency-Key`) answers without it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: AgencyClient,
    /// The `client_secret` of the client_credentials grant; absent on a replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientFilter {
    pub active: Option<bool>,
}

/// Create an agency client; the response carries its secret, once.
#[utoipa::path(
    operation_id = "create_agency_client",
    tag = "agency-clients",
    request_body = CreateClient,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255)),
    responses((status = 201, description = "Created", body = CreatedClient,
        headers(("ETag" = String, description = "The strong ETag"), ("Location" = String, description = "The new client")))),
    security(("bearer" = []))
)]
#[post("/agency-clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyKey,
    body: ApiJson<CreateClient>,
) -> Result<HttpResponse, AppError> {
    let fingerprint = body.fingerprint.clone();
    let CreateClient { name, agency, clears } = body.into_inner();
    let clears =
        super::clearing_agency(clears.as_deref(), &state.settings.licensing.clearance_agencies)?;
    let now = state.now();
    let actor = principal.id.clone();
    idempotency::create(&state.db, state.clock.clone(), key, fingerprint, move |conn| {
        let (row, secret) = super::create(conn, now, &actor, name, agency, clears)?;
        let location = format!("/api/v1/agency-clients/{}", row.id);
        let body = CreatedClient { client: AgencyClient::from(row), client_secret: None };
        Created::new(location, 1, &body).map(|c| c.with_secret("client_secret", secret))
    })
    .await
}

/// List agency clients.
#[utoipa::path(
    operation_id = "list_agency_clients",
    tag = "agency-clients",
    params(PageParams, ClientFilter),
    responses((status = 200, description = "A page of clients", body = Page<AgencyClient>)),
    security(("bearer" = []))
)]
#[get("/agency-clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    page: Query<PageParams>,
    filter: Query<ClientFilter>,
) -> Result<web::Json<Page<AgencyClient>>, AppError> {
    let limit = page.limit()?;
    let after = page.after()?;
    let active = filter.active;
    let rows = state.db.read(move |conn| store::list(conn, active, after, limit + 1)).await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), AgencyClient::from)))
}

/// Read one agency client (never its secret). A deleted client is 404 here; lists still show
/// it with `active: false`.
#[utoipa::path(
    operation_id = "get_agency_client",
    tag = "agency-clients",
    params(("id" = Uuid, Path, description = "The client's id")),
    responses(
        (status = 200, description = "The client", body = AgencyClient, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such client"),
    ),
    security(("bearer" = []))
)]
#[get("/agency-clients/{id}")]
pub async fn get_client(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.to_string();
    let row = state
        .db
        .read(move |conn| store::find(conn, &id))
        .await?
        .filter(|c| c.active)
        .ok_or_else(|| AppError::not_found("no such agency client (or it was deleted)"))?;
    Ok(tagged(row.version, &AgencyClient::from(row)))
}

/// Delete (deactivate) an agency client: its tokens stop working at once. The record stays for
/// the audit trail and the verification log.
#[utoipa::path(
    operation_id = "delete_agency_client",
    tag = "agency-clients",
    params(("id" = Uuid, Path, description = "The client's id")),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 404, description = "No such client, or already deleted"),
    ),
    security(("bearer" = []))
)]
#[delete("/agency-clients/{id}")]
pub async fn delete_client(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.to_string(), state.now());
    state.db.write(move |conn| super::delete(conn, now, &principal.id, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
