//! `/api/v1/users`: staff accounts, managed by admins.

use actix_web::{get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{create_account, store, update_account, NewAccount, User, UserPatch};
use crate::auth::passwords::Password;
use crate::auth::{Principal, Role, StaffRole};
use crate::domain::{Email, Name};
use crate::error::AppError;
use crate::http::idempotency::{self, Created};
use crate::http::{tagged, ApiJson, IdempotencyKey, IfMatch, Page, PageParams, Query};
use crate::state::{blocking, AppState};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: Email,
    pub password: Password,
    pub full_name: Name,
    pub role: StaffRole,
}

impl crate::http::BodyRules for CreateUser {}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub email: Option<String>,
}

/// Create a staff account (admin, regulator or inspector).
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255)),
    responses(
        (status = 201, description = "Created", body = User,
         headers(("ETag" = String, description = "The strong ETag"), ("Location" = String, description = "The new user"))),
        (status = 409, description = "An account with this e-mail address exists"),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyKey,
    body: ApiJson<CreateUser>,
) -> Result<HttpResponse, AppError> {
    let fingerprint = body.fingerprint.clone();
    let CreateUser { email, password, full_name, role } = body.into_inner();
    let account = |password_hash| NewAccount { email, password_hash, full_name, role: role.into() };
    create_with_password(&state, key, fingerprint, Some(principal.id), password, account).await
}

/// Hashes `password` off the async runtime, then creates the account under `key`; `actor` is
/// the admin creating it, `None` for a sign-up.
async fn create_with_password(
    state: &AppState,
    key: IdempotencyKey,
    fingerprint: String,
    actor: Option<String>,
    password: Password,
    account: impl FnOnce(String) -> NewAccount,
) -> Result<HttpResponse, AppError> {
    let account = account(blocking(move || password.hash()).await?);
    let now = state.now();
    idempotency::create(&state.db, state.clock.clone(), key, fingerprint, move |conn| {
        created(create_account(conn, now, actor.as_deref(), account)?)
    })
    .await
}

pub(crate) fn created(row: store::UserRow) -> Result<Created, AppError> {
    let location = format!("/api/v1/users/{}", row.id);
    let version = row.version;
    Created::new(location, version, &User::from(row))
}

/// List user accounts.
#[utoipa::path(
    tag = "users",
    params(PageParams, UserFilter),
    responses((status = 200, description = "A page of users", body = Page<User>)),
    security(("bearer" = []))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    page: Query<PageParams>,
    filter: Query<UserFilter>,
) -> Result<web::Json<Page<User>>, AppError> {
    let limit = page.limit()?;
    let after = page.after()?;
    let filter = store::Filter {
        role: filter.role,
        active: filter.active,
        email: filter.email.as_deref().map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()),
    };
    let rows = state.db.read(move |conn| store::list(conn, &filter, after, limit + 1)).await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), User::from)))
}

/// Read one user account.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = User, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such user"),
    ),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.to_string();
    let row = state
        .db
        .read(move |conn| store::find(conn, &id))
        .await?
        .ok_or_else(|| AppError::not_found("no such user"))?;
    Ok(with_etag(row))
}

fn with_etag(row: store::UserRow) -> HttpResponse {
    tagged(row.version, &User::from(row))
}

/// Change a user's name or role, or (de)activate it. Needs `If-Match`.
#[utoipa::path(
    tag = "users",
    request_body = UserPatch,
    params(
        ("id" = Uuid, Path, description = "The user's id"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    responses(
        (status = 200, description = "The changed user", body = User, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such user"),
        (status = 409, description = "The last active admin cannot be demoted or deactivated"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn patch_user(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UserPatch>,
) -> Result<HttpResponse, AppError> {
    let (id, patch, now) = (id.to_string(), body.into_inner(), state.now());
    let row = state
        .db
        .write(move |conn| {
            update_account(conn, now, &principal, &id.as_str().into(), |v| if_match.check(v), patch)
        })
        .await?;
    Ok(with_etag(row))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    pub email: Email,
    pub password: Password,
    pub full_name: Name,
}

impl crate::http::BodyRules for Signup {}

/// Sign up as an operator (a call-centre company's representative).
#[utoipa::path(
    tag = "auth",
    request_body = Signup,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255)),
    responses(
        (status = 201, description = "The new operator account", body = User,
         headers(("ETag" = String, description = "The strong ETag"), ("Location" = String, description = "The new user"))),
        (status = 409, description = "An account with this e-mail address exists"),
    )
)]
#[post("/auth/signup")]
pub async fn signup(
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<Signup>,
) -> Result<HttpResponse, AppError> {
    let fingerprint = body.fingerprint.clone();
    let Signup { email, password, full_name } = body.into_inner();
    let account =
        |password_hash| NewAccount { email, password_hash, full_name, role: Role::Operator };
    create_with_password(&state, key, fingerprint, None, password, account).await
}
