//! `/api/v1/sites/{id}/numbers` and `/api/v1/sites/{id}/ip-ranges`.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::Serialize;
use uuid::Uuid;

use super::{
    store, IpRangeResource, IpRangeRow, NewIpRange, NewNumber, PhoneNumberResource, PhoneRangeRow,
};
use crate::auth::visible::{resolve, Child, Visible};
use crate::auth::Principal;
use crate::db::DbConn;
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
    register::<PhoneRangeRow>(&state, who, *id, key, body).await
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
    list::<PhoneRangeRow>(&state, who, *id, &page).await
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
    remove::<PhoneRangeRow>(&state, who, &path).await
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
    register::<IpRangeRow>(&state, who, *id, key, body).await
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
    list::<IpRangeRow>(&state, who, *id, &page).await
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
    remove::<IpRangeRow>(&state, who, &path).await
}

/// What is registered to a site: its numbers and its IP ranges, served alike.
trait SiteItem: Child<SiteRow> + Send + 'static {
    type New: Send + 'static;
    type Resource: Serialize + From<Self>;
    /// The segment of the site's path they are listed under.
    const SEGMENT: &'static str;
    fn id(&self) -> &str;
    fn register(
        conn: &mut DbConn,
        now: NaiveDateTime,
        who: &Principal,
        site: &Visible<SiteRow>,
        new: Self::New,
    ) -> Result<Self, AppError>;
    fn list(
        conn: &mut DbConn,
        site_id: &str,
        after: Option<String>,
        limit: i64,
    ) -> Result<Vec<Self>, AppError>;
    fn remove(
        conn: &mut DbConn,
        now: NaiveDateTime,
        who: &Principal,
        site: &Visible<SiteRow>,
        item: Visible<Self>,
    ) -> Result<(), AppError>;
}

/// Implements [`SiteItem`] for a row type with the concept's operations on it.
macro_rules! site_item {
    ($row:ty, $new:ty, $resource:ty, $segment:literal, $register:path, $list:path, $remove:path) => {
        impl SiteItem for $row {
            type New = $new;
            type Resource = $resource;
            const SEGMENT: &'static str = $segment;
            fn id(&self) -> &str {
                &self.id
            }
            fn register(
                conn: &mut DbConn,
                now: NaiveDateTime,
                who: &Principal,
                site: &Visible<SiteRow>,
                new: $new,
            ) -> Result<Self, AppError> {
                $register(conn, now, who, site, new)
            }
            fn list(
                conn: &mut DbConn,
                site_id: &str,
                after: Option<String>,
                limit: i64,
            ) -> Result<Vec<Self>, AppError> {
                $list(conn, site_id, after, limit)
            }
            fn remove(
                conn: &mut DbConn,
                now: NaiveDateTime,
                who: &Principal,
                site: &Visible<SiteRow>,
                item: Visible<Self>,
            ) -> Result<(), AppError> {
                $remove(conn, now, who, site, item)
            }
        }
    };
}

site_item!(
    PhoneRangeRow,
    NewNumber,
    PhoneNumberResource,
    "numbers",
    super::register_number,
    store::list_numbers,
    super::remove_number
);
site_item!(
    IpRangeRow,
    NewIpRange,
    IpRangeResource,
    "ip-ranges",
    super::register_ip_range,
    store::list_ip_ranges,
    super::remove_ip_range
);

/// Registers `body` to the site `site_id` (its owner): 201 with the item's listing.
async fn register<T: SiteItem>(
    state: &AppState,
    who: Principal,
    site_id: Uuid,
    key: IdempotencyKey,
    body: ApiJson<T::New>,
) -> Result<HttpResponse, AppError> {
    let site_id = site_id.to_string();
    idempotency::create_from(state, key, body, move |conn, now, new| {
        let site = resolve::<SiteRow>(conn, &who, &site_id)?;
        let row = T::register(conn, now, &who, &site, new)?;
        Created::new(
            format!("/api/v1/sites/{site_id}/{}/{}", T::SEGMENT, row.id()),
            1,
            &T::Resource::from(row),
        )
    })
    .await
}

/// A page of the site's items.
async fn list<T: SiteItem>(
    state: &AppState,
    who: Principal,
    site_id: Uuid,
    page: &PageParams,
) -> Result<web::Json<Page<T::Resource>>, AppError> {
    let (limit, after, id) = (page.limit()?, page.after()?, site_id.to_string());
    let rows = state
        .db
        .read(move |conn| {
            let site = resolve::<SiteRow>(conn, &who, &id)?;
            T::list(conn, &site.id, after, limit + 1)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id().to_string(), T::Resource::from)))
}

/// Removes the item `path.1` from the site `path.0` (its owner): 204.
async fn remove<T: SiteItem>(
    state: &AppState,
    who: Principal,
    path: &(Uuid, Uuid),
) -> Result<HttpResponse, AppError> {
    let ((site_id, id), now) = ((path.0.to_string(), path.1.to_string()), state.now());
    state
        .db
        .write(move |conn| {
            let site = resolve::<SiteRow>(conn, &who, &site_id)?;
            let item = site.child::<T>(conn, &id)?;
            T::remove(conn, now, &who, &site, item)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
