//! `/api/v1/barred-persons`.

use actix_web::{get, web};

use super::{store, BarredPerson};
use crate::auth::Principal;
use crate::error::AppError;
use crate::http::{Page, PageParams, Query};
use crate::state::AppState;

/// The people barred after a revocation, oldest first. Regulators and admins.
#[utoipa::path(
    tag = "enforcement",
    params(PageParams),
    responses((status = 200, description = "A page of barred persons", body = Page<BarredPerson>)),
    security(("bearer" = []))
)]
#[get("/barred-persons")]
pub async fn list_barred_persons(
    state: web::Data<AppState>,
    who: Principal,
    page: Query<PageParams>,
) -> Result<web::Json<Page<BarredPerson>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let rows = state.db.read(move |conn| Ok(store::list(conn, after, limit + 1)?)).await?;
    let view = |r| BarredPerson::for_reader(r, &who);
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), view)))
}
