//! `/api/v1/organisations` and their people.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{
    store, NewOrganisation, NewPerson, OrgRow, Organisation, OrganisationPatch, Person, PersonRow,
};
use crate::auth::visible::resolve;
use crate::auth::{Principal, Role};
use crate::error::AppError;
use crate::http::idempotency::{self, Created};
use crate::http::pagination::{Sort, SortedPosition};
use crate::http::{tagged, ApiJson, IdempotencyKey, IfMatch, Page, PageParams, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganisationFilter {
    pub registration_number: Option<String>,
    pub tax_number: Option<String>,
    /// Organisations whose legal name contains this (any case).
    pub legal_name: Option<String>,
    /// `legal_name` or `created_at`, ascending; prefix `-` for descending (then by id). Empty:
    /// unsorted (creation order).
    #[param(pattern = "^(-?(legal_name|created_at))?$")]
    pub sort: Option<String>,
}

/// Register an organisation (operators); the caller owns it.
#[utoipa::path(
    tag = "organisations",
    request_body = NewOrganisation,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255)),
    responses(
        (status = 201, description = "Registered", body = Organisation,
         headers(("ETag" = String, description = "The strong ETag"), ("Location" = String, description = "The new organisation"))),
        (status = 409, description = "The registration_number or tax_number is already registered"),
    ),
    security(("bearer" = []))
)]
#[post("/organisations")]
pub async fn create_organisation(
    state: web::Data<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: ApiJson<NewOrganisation>,
) -> Result<HttpResponse, AppError> {
    idempotency::create_from(&state, key, body, move |conn, now, new| {
        let row = super::create(conn, now, &who, new)?;
        Created::new(
            format!("/api/v1/organisations/{}", row.id),
            row.version,
            &Organisation::from(row),
        )
    })
    .await
}

/// List organisations: an operator's own, or all for staff.
#[utoipa::path(
    tag = "organisations",
    params(PageParams, OrganisationFilter),
    responses((status = 200, description = "A page of organisations", body = Page<Organisation>)),
    security(("bearer" = []))
)]
#[get("/organisations")]
pub async fn list_organisations(
    state: web::Data<AppState>,
    who: Principal,
    page: Query<PageParams>,
    filter: Query<OrganisationFilter>,
) -> Result<web::Json<Page<Organisation>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let f = filter.into_inner();
    let filter = store::Filter {
        owner_id: who.is(Role::Operator).then(|| who.id.clone()),
        registration_number: f
            .registration_number
            .filter(|s| !s.is_empty())
            .map(|s| s.trim().to_ascii_uppercase()),
        tax_number: f.tax_number.filter(|s| !s.is_empty()).map(|s| s.trim().to_string()),
        legal_name: f.legal_name.filter(|s| !s.trim().is_empty()),
    };
    let Some(sort) = Sort::parse(f.sort.as_deref(), &store::ORG_SORTS)? else {
        if after.as_deref().is_some_and(|a| a.starts_with("s:")) {
            return Err(AppError::bad_request("this cursor was issued for another sort order"));
        }
        let rows = state.db.read(move |conn| store::list(conn, &filter, after, limit + 1)).await?;
        return Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), Organisation::from)));
    };
    let token = f.sort.unwrap_or_default().trim().to_string();
    let after = after.map(|a| SortedPosition::decode(&a, &token)).transpose()?;
    let rows = state
        .db
        .read(move |conn| store::list_sorted(conn, &filter, sort, after, limit + 1))
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| store::position(r, &token, sort.field).encode(),
        Organisation::from,
    )))
}

/// Read an organisation.
#[utoipa::path(
    tag = "organisations",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    responses(
        (status = 200, description = "The organisation", body = Organisation, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such organisation, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.to_string();
    let row = state.db.read(move |conn| resolve::<OrgRow>(conn, &who, &id)).await?.into_inner();
    Ok(tagged(row.version, &Organisation::from(row)))
}

/// Change an organisation (its owner). Needs `If-Match`.
#[utoipa::path(
    tag = "organisations",
    request_body = OrganisationPatch,
    params(
        ("id" = Uuid, Path, description = "The organisation's id"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    responses(
        (status = 200, description = "The changed organisation", body = Organisation, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such organisation, or not the caller's"),
        (status = 409, description = "The registration_number or tax_number belongs to another organisation"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[patch("/organisations/{id}")]
pub async fn patch_organisation(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<OrganisationPatch>,
) -> Result<HttpResponse, AppError> {
    let (id, patch, now) = (id.to_string(), body.into_inner(), state.now());
    let row = state
        .db
        .write(move |conn| {
            let org = resolve::<OrgRow>(conn, &who, &id)?;
            super::update(conn, now, &who, org, |v| if_match.check(v), patch)
        })
        .await?;
    Ok(tagged(row.version, &Organisation::from(row)))
}

/// Record a director, beneficial owner or authorised signatory (the owner).
#[utoipa::path(
    tag = "organisations",
    request_body = NewPerson,
    params(
        ("id" = Uuid, Path, description = "The organisation's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255),
    ),
    responses(
        (status = 201, description = "Recorded", body = Person,
         headers(("Location" = String, description = "The person"))),
        (status = 404, description = "No such organisation, or not the caller's"),
        (status = 409, description = "This identity document is already recorded for the organisation"),
    ),
    security(("bearer" = []))
)]
#[post("/organisations/{id}/people")]
pub async fn add_person(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ApiJson<NewPerson>,
) -> Result<HttpResponse, AppError> {
    let org_id = id.to_string();
    idempotency::create_from(&state, key, body, move |conn, now, new| {
        let org = resolve::<OrgRow>(conn, &who, &org_id)?;
        let row = super::add_person(conn, now, &who, &org, new)?;
        Created::new(
            format!("/api/v1/organisations/{org_id}/people/{}", row.id),
            1,
            &Person::for_reader(row, &who),
        )
    })
    .await
}

/// List an organisation's people.
///
/// Identity numbers are in full for the owner, regulators and admins; inspectors see all but
/// the last 4 characters replaced by `*`.
#[utoipa::path(
    tag = "organisations",
    params(("id" = Uuid, Path, description = "The organisation's id"), PageParams),
    responses(
        (status = 200, description = "A page of people", body = Page<Person>),
        (status = 404, description = "No such organisation, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/organisations/{id}/people")]
pub async fn list_people(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<Person>>, AppError> {
    let (limit, after, id, reader) = (page.limit()?, page.after()?, id.to_string(), who.clone());
    let rows = state
        .db
        .read(move |conn| {
            let org = resolve::<OrgRow>(conn, &who, &id)?;
            store::list_people(conn, &org.id, after, limit + 1)
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| r.id.clone(),
        |r| Person::for_reader(r, &reader),
    )))
}

/// Remove a person from an organisation (the owner).
#[utoipa::path(
    tag = "organisations",
    params(
        ("id" = Uuid, Path, description = "The organisation's id"),
        ("person_id" = Uuid, Path, description = "The person's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such organisation or person, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[delete("/organisations/{id}/people/{person_id}")]
pub async fn remove_person(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let ((org_id, person_id), now) = ((path.0.to_string(), path.1.to_string()), state.now());
    state
        .db
        .write(move |conn| {
            let org = resolve::<OrgRow>(conn, &who, &org_id)?;
            let person = org.child::<PersonRow>(conn, &person_id)?;
            super::remove_person(conn, now, &who, &org, person)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
