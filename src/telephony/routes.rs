//! `/api/v1/sites/{id}/numbers` and `/api/v1/sites/{id}/ip-ranges`.

use actix_web::{delete, get, post, web, HttpResponse};
use uuid::Uuid;

use super::{
    store, IpRangeResource, IpRangeRow, NewIpRange, NewNumber, PhoneNumberResource, PhoneRangeRow,
};
use crate::auth::visible::resolve;
use crate::auth::Principal;
use crate::error::AppError;
use crate::http::idempotency::{self, Created};
use crate::http::{ApiJson, IdempotencyKey, Page, PageParams, Query};
use crate::sites::SiteRow;
use crate::state::AppState;

/// Register a number or a range of numbers to a site (its owner).
#[utoipa::path(
    tag = "telephony",
    request_body = NewNumber,
    params(
        ("id" = Uuid, Path, description = "The site's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255),
    ),
    responses(
        (status = 201, description = "Registered", body = PhoneNumberResource,
         headers(("Location" = String, description = "The number's listing"))),
        (status = 404, description = "No such site, or not the caller's"),
        (status = 409, description = "A number is already registered to a site (the detail names the conflict), or the site is closed"),
    ),
    security(("bearer" = []))
)]
#[post("/sites/{id}/numbers")]
pub async fn register_number(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ApiJson<NewNumber>,
) -> Result<HttpResponse, AppError> {
    let fingerprint = body.fingerprint.clone();
    let (site_id, new, now) = (id.to_string(), body.into_inner(), state.now());
    idempotency::create(&state.db, state.clock.clone(), key, fingerprint, move |conn| {
        let site = resolve::<SiteRow>(conn, &who, &site_id)?;
        let row = super::register_number(conn, now, &who, &site, new)?;
        Created::new(
            format!("/api/v1/sites/{site_id}/numbers/{}", row.id),
            1,
            &PhoneNumberResource::from(row),
        )
    })
    .await
}

/// List a site's numbers and ranges.
#[utoipa::path(
    tag = "telephony",
    params(("id" = Uuid, Path, description = "The site's id"), PageParams),
    responses(
        (status = 200, description = "A page of numbers", body = Page<PhoneNumberResource>),
        (status = 404, description = "No such site, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/sites/{id}/numbers")]
pub async fn list_numbers(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<PhoneNumberResource>>, AppError> {
    let (limit, after, id) = (page.limit()?, page.after()?, id.to_string());
    let rows = state
        .db
        .read(move |conn| {
            let site = resolve::<SiteRow>(conn, &who, &id)?;
            store::list_numbers(conn, &site.id, after, limit + 1)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), PhoneNumberResource::from)))
}

/// Remove a number or range from a site (its owner).
#[utoipa::path(
    tag = "telephony",
    params(
        ("id" = Uuid, Path, description = "The site's id"),
        ("number_id" = Uuid, Path, description = "The number's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such site or number, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[delete("/sites/{id}/numbers/{number_id}")]
pub async fn remove_number(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let ((site_id, id), now) = ((path.0.to_string(), path.1.to_string()), state.now());
    state
        .db
        .write(move |conn| {
            let site = resolve::<SiteRow>(conn, &who, &site_id)?;
            let number = site.child::<PhoneRangeRow>(conn, &id)?;
            super::remove_number(conn, now, &who, &site, number)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Register an IP range (IPv4 or IPv6 CIDR) to a site (its owner).
#[utoipa::path(
    tag = "telephony",
    request_body = NewIpRange,
    params(
        ("id" = Uuid, Path, description = "The site's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255),
    ),
    responses(
        (status = 201, description = "Registered", body = IpRangeResource,
         headers(("Location" = String, description = "The range's listing"))),
        (status = 404, description = "No such site, or not the caller's"),
        (status = 409, description = "The range overlaps one already registered (the detail names it), or the site is closed"),
    ),
    security(("bearer" = []))
)]
#[post("/sites/{id}/ip-ranges")]
pub async fn register_ip_range(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ApiJson<NewIpRange>,
) -> Result<HttpResponse, AppError> {
    let fingerprint = body.fingerprint.clone();
    let (site_id, new, now) = (id.to_string(), body.into_inner(), state.now());
    idempotency::create(&state.db, state.clock.clone(), key, fingerprint, move |conn| {
        let site = resolve::<SiteRow>(conn, &who, &site_id)?;
        let row = super::register_ip_range(conn, now, &who, &site, new)?;
        Created::new(
            format!("/api/v1/sites/{site_id}/ip-ranges/{}", row.id),
            1,
            &IpRangeResource::from(row),
        )
    })
    .await
}

/// List a site's IP ranges.
#[utoipa::path(
    tag = "telephony",
    params(("id" = Uuid, Path, description = "The site's id"), PageParams),
    responses(
        (status = 200, description = "A page of IP ranges", body = Page<IpRangeResource>),
        (status = 404, description = "No such site, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/sites/{id}/ip-ranges")]
pub async fn list_ip_ranges(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<IpRangeResource>>, AppError> {
    let (limit, after, id) = (page.limit()?, page.after()?, id.to_string());
    let rows = state
        .db
        .read(move |conn| {
            let site = resolve::<SiteRow>(conn, &who, &id)?;
            store::list_ip_ranges(conn, &site.id, after, limit + 1)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), IpRangeResource::from)))
}

/// Remove an IP range from a site (its owner).
#[utoipa::path(
    tag = "telephony",
    params(
        ("id" = Uuid, Path, description = "The site's id"),
        ("range_id" = Uuid, Path, description = "The IP range's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such site or range, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[delete("/sites/{id}/ip-ranges/{range_id}")]
pub async fn remove_ip_range(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let ((site_id, id), now) = ((path.0.to_string(), path.1.to_string()), state.now());
    state
        .db
        .write(move |conn| {
            let site = resolve::<SiteRow>(conn, &who, &site_id)?;
            let range = site.child::<IpRangeRow>(conn, &id)?;
            super::remove_ip_range(conn, now, &who, &site, range)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
