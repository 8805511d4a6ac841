//! `/api/v1/audit`: read and verify the chain (admins and regulators).

use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{store, AuditEntry, Verification};
use crate::error::AppError;
use crate::http::{Page, PageParams, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// `user`, `agency_client`, `access_token`, `refresh_token_family`, …
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<Uuid>,
    /// e.g. `user.created`.
    pub action: Option<String>,
}

/// List audit entries, oldest first.
#[utoipa::path(
    tag = "audit",
    params(PageParams, AuditFilter),
    responses((status = 200, description = "A page of entries", body = Page<AuditEntry>)),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    page: Query<PageParams>,
    filter: Query<AuditFilter>,
) -> Result<web::Json<Page<AuditEntry>>, AppError> {
    let limit = page.limit()?;
    let after = page
        .after()?
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| AppError::bad_request("cursor is not one this server issued"))
        })
        .transpose()?;
    let f = filter.into_inner();
    let given = |v: Option<String>| v.filter(|s| !s.is_empty());
    let filter = store::Filter {
        entity_type: given(f.entity_type),
        entity_id: given(f.entity_id),
        actor_id: f.actor_id.map(|id| id.to_string()),
        action: given(f.action),
    };
    let rows = state.db.read(move |conn| store::list(conn, &filter, after, limit + 1)).await?;
    Ok(web::Json(Page::from_rows(rows, limit, |e| e.seq.to_string(), |e| e)))
}

/// Recompute the whole hash chain and report the first entry that does not hold.
#[utoipa::path(
    tag = "audit",
    responses((status = 200, description = "The result of the walk", body = Verification)),
    security(("bearer" = []))
)]
#[get("/audit/verify")]
pub async fn verify_audit(state: web::Data<AppState>) -> Result<web::Json<Verification>, AppError> {
    Ok(web::Json(state.db.read(store::verify).await?))
}
