//! `/api/v1/webhooks`: agencies register, read, change and delete their webhook endpoints
//! (admins all of them), and read each endpoint's delivery attempts.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Changes, Delivery, EndpointRow, NewWebhook, Webhook, WebhookPatch};
use crate::auth::visible::resolve;
use crate::auth::{Principal, Role};
use crate::error::AppError;
use crate::http::idempotency::{self, Created};
use crate::http::{tagged, ApiJson, IdempotencyKey, IfMatch, Page, PageParams, Query};
use crate::state::AppState;

/// A new endpoint, with its signing secret: shown this once only. The secret rests only
/// sealed, and a replay of the creation (same `Idempotency-Key`) answers without it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` + base64 of 32 random bytes: the Standard Webhooks signing secret (HMAC key:
    /// the base64-decoded part). Absent on a replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn respond(row: super::EndpointRow) -> Result<HttpResponse, AppError> {
    let version = row.version;
    Ok(tagged(version, &Webhook::try_from(row)?))
}

/// Register a webhook endpoint; the response carries its signing secret, once.
///
/// The endpoint receives the change-feed events committed from now on, of the types in
/// `events`, in feed order, signed per the Standard Webhooks specification.
#[utoipa::path(
    tag = "webhooks",
    request_body = NewWebhook,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255)),
    responses((status = 201, description = "Registered; status active", body = CreatedWebhook,
        headers(("ETag" = String, description = "The strong ETag"), ("Location" = String, description = "The new webhook")))),
    security(("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: ApiJson<NewWebhook>,
) -> Result<HttpResponse, AppError> {
    let fingerprint = body.fingerprint.clone();
    let new = body.into_inner();
    let allow_private = state.settings.webhook_allow_private;
    let (url, subscription) =
        super::check(Some(&new.url), Some(&new.events), allow_private).await?;
    let (Some(url), Some(subscription)) = (url, subscription) else {
        return Err(AppError::internal("a checked webhook lost its url or events"));
    };
    let (now, keys) = (state.now(), state.keys.clone());
    idempotency::create(&state.db, state.clock.clone(), key, fingerprint, move |conn| {
        let (row, secret) = super::create(conn, now, &who, &keys, url, subscription)?;
        let location = format!("/api/v1/webhooks/{}", row.id);
        let version = row.version;
        let body = CreatedWebhook { webhook: Webhook::try_from(row)?, secret: None };
        Created::new(location, version, &body).map(|c| c.with_secret("secret", secret))
    })
    .await
}

/// List webhook endpoints: an agency's own, or all for admins (never their secrets).
#[utoipa::path(
    tag = "webhooks",
    params(PageParams),
    responses((status = 200, description = "A page of webhooks", body = Page<Webhook>)),
    security(("bearer" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    who: Principal,
    page: Query<PageParams>,
) -> Result<web::Json<Page<Webhook>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let owner = (!who.is(Role::Admin)).then(|| who.id.clone());
    let rows = state
        .db
        .read(move |conn| super::store::list(conn, owner.as_deref(), after, limit + 1))
        .await?;
    let more = rows.len() as i64 > limit;
    let items = rows
        .into_iter()
        .take(limit as usize)
        .map(Webhook::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(web::Json(Page::from_views(items, more, |w| w.id.clone())))
}

/// Read a webhook endpoint (never its secret).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook", body = Webhook, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such webhook, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.to_string();
    respond(state.db.read(move |conn| resolve::<EndpointRow>(conn, &who, &id)).await?.into_inner())
}

/// Change a webhook endpoint's URL or events, or disable or re-enable it. Needs `If-Match`.
///
/// `enabled: true` on a disabled endpoint resumes delivery with the event it stopped at.
#[utoipa::path(
    tag = "webhooks",
    request_body = WebhookPatch,
    params(
        ("id" = Uuid, Path, description = "The webhook's id"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    responses(
        (status = 200, description = "The changed webhook", body = Webhook, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such webhook, or not the caller's"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn patch_webhook(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<WebhookPatch>,
) -> Result<HttpResponse, AppError> {
    let patch = body.into_inner();
    let (id, now) = (id.to_string(), state.now());
    // Isolation first: another agency's endpoint is a missing one, before the URL is checked.
    let (w, i) = (who.clone(), id.clone());
    state.db.read(move |conn| resolve::<EndpointRow>(conn, &w, &i)).await?;
    let allow_private = state.settings.webhook_allow_private;
    let (url, subscription) =
        super::check(patch.url.as_deref(), patch.events.as_deref(), allow_private).await?;
    let changes = Changes { url, subscription, enabled: patch.enabled };
    let row = state
        .db
        .write(move |conn| {
            let endpoint = resolve::<EndpointRow>(conn, &who, &id)?;
            super::update(conn, now, &who, endpoint, |v| if_match.check(v), changes)
        })
        .await?;
    respond(row)
}

/// Delete a webhook endpoint and its delivery record. `If-Match`, when sent, must match.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "The webhook's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read (optional; checked when sent)"),
    ),
    responses(
        (status = 204, description = "Deleted; nothing more is delivered to it"),
        (status = 404, description = "No such webhook, or not the caller's"),
        (status = 412, description = "If-Match does not match the current ETag"),
    ),
    security(("bearer" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: Option<IfMatch>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.to_string(), state.now());
    let check = move |v| if_match.map_or(Ok(()), |m| m.check(v));
    state
        .db
        .write(move |conn| {
            let endpoint = resolve::<EndpointRow>(conn, &who, &id)?;
            super::delete(conn, now, &who, endpoint, check)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A webhook endpoint's delivery attempts, oldest first.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The webhook's id"), PageParams),
    responses(
        (status = 200, description = "A page of attempts", body = Page<Delivery>),
        (status = 404, description = "No such webhook, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<Delivery>>, AppError> {
    let (limit, after, id) = (page.limit()?, page.after()?, id.to_string());
    let rows = state
        .db
        .read(move |conn| {
            let endpoint = resolve::<EndpointRow>(conn, &who, &id)?;
            super::store::deliveries(conn, &endpoint.id, after, limit + 1)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), Delivery::from)))
}
