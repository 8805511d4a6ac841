//! `/api/v1/organisations/{id}/sites` and `/api/v1/sites`.

use actix_web::{get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{store, NewSite, Site, SitePatch, SiteRow, SiteStatus};
use crate::auth::visible::resolve;
use crate::auth::{Principal, Role};
use crate::error::AppError;
use crate::http::idempotency::{self, Created};
use crate::http::{tagged, ApiJson, IdempotencyKey, IfMatch, Page, PageParams, Query};
use crate::organisations::OrgRow;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteFilter {
    pub organisation_id: Option<Uuid>,
    /// The address's city (case-insensitive).
    pub city: Option<String>,
    pub status: Option<SiteStatus>,
}

/// Register a site of an organisation (its owner).
#[utoipa::path(
    tag = "sites",
    request_body = NewSite,
    params(
        ("id" = Uuid, Path, description = "The organisation's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255),
    ),
    responses(
        (status = 201, description = "Registered; status active", body = Site,
         headers(("ETag" = String, description = "The strong ETag"), ("Location" = String, description = "The new site"))),
        (status = 404, description = "No such organisation, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[post("/organisations/{id}/sites")]
pub async fn create_site(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ApiJson<NewSite>,
) -> Result<HttpResponse, AppError> {
    let org_id = id.to_string();
    idempotency::create_from(&state, key, body, move |conn, now, new| {
        let org = resolve::<OrgRow>(conn, &who, &org_id)?;
        let row = super::create(conn, now, &who, &org, new)?;
        Created::new(format!("/api/v1/sites/{}", row.id), row.version, &Site::from(row))
    })
    .await
}

/// List sites: an operator's own, or all for staff.
#[utoipa::path(
    tag = "sites",
    params(PageParams, SiteFilter),
    responses((status = 200, description = "A page of sites", body = Page<Site>)),
    security(("bearer" = []))
)]
#[get("/sites")]
pub async fn list_sites(
    state: web::Data<AppState>,
    who: Principal,
    page: Query<PageParams>,
    filter: Query<SiteFilter>,
) -> Result<web::Json<Page<Site>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let f = filter.into_inner();
    let filter = store::Filter {
        owner_id: who.is(Role::Operator).then(|| who.id.clone()),
        organisation_id: f.organisation_id.map(|id| id.to_string()),
        city: f.city.map(|c| c.trim().to_lowercase()).filter(|s| !s.is_empty()),
        status: f.status,
    };
    let rows = state.db.read(move |conn| store::list(conn, &filter, after, limit + 1)).await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), Site::from)))
}

/// Read a site.
#[utoipa::path(
    tag = "sites",
    params(("id" = Uuid, Path, description = "The site's id")),
    responses(
        (status = 200, description = "The site", body = Site, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such site, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/sites/{id}")]
pub async fn get_site(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.to_string();
    let row = state.db.read(move |conn| resolve::<SiteRow>(conn, &who, &id)).await?.into_inner();
    Ok(tagged(row.version, &Site::from(row)))
}

/// Change a site, or close it (its owner). Needs `If-Match`.
#[utoipa::path(
    tag = "sites",
    request_body = SitePatch,
    params(
        ("id" = Uuid, Path, description = "The site's id"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    responses(
        (status = 200, description = "The changed site", body = Site, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such site, or not the caller's"),
        (status = 409, description = "A closed site cannot reopen"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[patch("/sites/{id}")]
pub async fn patch_site(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<SitePatch>,
) -> Result<HttpResponse, AppError> {
    let (id, patch, now) = (id.to_string(), body.into_inner(), state.now());
    let row = state
        .db
        .write(move |conn| {
            let site = resolve::<SiteRow>(conn, &who, &id)?;
            super::update(conn, now, &who, site, |v| if_match.check(v), patch)
        })
        .await?;
    Ok(tagged(row.version, &Site::from(row)))
}
