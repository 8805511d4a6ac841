//! `/api/v1/licences`, their lifecycle, and `/api/v1/events`.

use actix_web::{get, http::header, post, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::events::{self, EventPage};
use super::{store, Licence, LicenceChange, LicenceRow, LicenceStatus};
use crate::auth::visible::{resolve, Visible};
use crate::auth::{Principal, Role};
use crate::config::Licensing;
use crate::db::DbConn;
use crate::domain::LicenceNumber;
use crate::error::AppError;
use crate::http::pagination::{Sort, SortedPosition};
use crate::http::{etag, ApiJson, IfMatch, Page, PageParams, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LicenceFilter {
    pub organisation_id: Option<Uuid>,
    /// As read now: `expired` finds live licences past their expiry.
    pub status: Option<LicenceStatus>,
    /// Licences whose holder's name contains this (any case).
    pub holder: Option<String>,
    /// `licence_number`, `holder`, `issued_at` or `expires_at`, ascending; prefix `-` for
    /// descending (then by licence number). Empty: by licence number.
    #[param(pattern = "^(-?(licence_number|holder|issued_at|expires_at))?$")]
    pub sort: Option<String>,
}

/// List licences: an operator's own, or all for staff.
#[utoipa::path(
    tag = "licences",
    params(PageParams, LicenceFilter),
    responses((status = 200, description = "A page of licences", body = Page<Licence>)),
    security(("bearer" = []))
)]
#[get("/licences")]
pub async fn list_licences(
    state: web::Data<AppState>,
    who: Principal,
    page: Query<PageParams>,
    filter: Query<LicenceFilter>,
) -> Result<web::Json<Page<Licence>>, AppError> {
    let (limit, after, now) = (page.limit()?, page.after()?, state.now());
    let f = filter.into_inner();
    let filter = store::Filter {
        owner_id: who.is(Role::Operator).then(|| who.id.clone()),
        organisation_id: f.organisation_id.map(|id| id.to_string()),
        status: f.status,
        holder: f.holder.filter(|s| !s.trim().is_empty()),
    };
    let Some(sort) = Sort::parse(f.sort.as_deref(), &store::LICENCE_SORTS)? else {
        if after.as_deref().is_some_and(|a| a.starts_with("s:")) {
            return Err(AppError::bad_request("this cursor was issued for another sort order"));
        }
        let rows =
            state.db.read(move |conn| store::list(conn, &filter, now, after, limit + 1)).await?;
        return Ok(web::Json(Page::from_rows(
            rows,
            limit,
            |r| r.licence_number.clone(),
            |r| Licence::view(r, now),
        )));
    };
    let token = f.sort.unwrap_or_default().trim().to_string();
    let after = after.map(|a| SortedPosition::decode(&a, &token)).transpose()?;
    let rows = state
        .db
        .read(move |conn| store::list_sorted(conn, &filter, now, sort, after, limit + 1))
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| store::position(r, &token, sort.field).encode(),
        |r| Licence::view(r, now),
    )))
}

/// Read a licence. A malformed number or wrong check digits is 400, before any look-up.
#[utoipa::path(
    tag = "licences",
    params(("licence_number" = String, Path, description = "CCL-YYYY-NNNNNN-CC")),
    responses(
        (status = 200, description = "The licence", body = Licence, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such licence, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/licences/{licence_number}")]
pub async fn get_licence(
    state: web::Data<AppState>,
    who: Principal,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let number = LicenceNumber::from_path(&number)?;
    let now = state.now();
    let row = state.db.read(move |conn| resolve::<LicenceRow>(conn, &who, &number)).await?;
    let row = row.into_inner();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Licence::view(row, now)))
}

/// One lifecycle step of the licence named in the path, as `who` sees it: `act` (the domain
/// function of the step) in one write transaction, answered with the licence and its ETag.
async fn transition<F>(
    state: web::Data<AppState>,
    who: Principal,
    number: String,
    if_match: IfMatch,
    change: LicenceChange,
    act: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(Step<'_>, LicenceChange, &Licensing) -> Result<LicenceRow, AppError> + Send + 'static,
{
    let number = LicenceNumber::from_path(&number)?;
    let (now, licensing) = (state.now(), state.settings.licensing.clone());
    let row = state
        .db
        .write(move |conn| {
            let licence = resolve::<LicenceRow>(conn, &who, &number)?;
            act(Step { conn, now, who: &who, licence, if_match: &if_match }, change, &licensing)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Licence::view(row, now)))
}

/// What every lifecycle step is given: the transaction, the time, the caller, the licence and
/// the caller's `If-Match`.
struct Step<'a> {
    conn: &'a mut DbConn,
    now: NaiveDateTime,
    who: &'a Principal,
    licence: Visible<LicenceRow>,
    if_match: &'a IfMatch,
}

macro_rules! licence_transition {
    ($fn:ident, $operation:literal, $path:literal, $act:expr, $summary:literal, $from:literal) => {
        #[doc = $summary]
        #[utoipa::path(
            tag = "licences",
            operation_id = $operation,
            request_body = LicenceChange,
            params(("licence_number" = String, Path, description = "CCL-YYYY-NNNNNN-CC"), ("If-Match" = String, Header, description = "The ETag last read")),
            responses(
                (status = 200, description = "Done", body = Licence, headers(("ETag" = String, description = "The strong ETag"))),
                (status = 404, description = "No such licence, or not the caller's"),
                (status = 409, description = $from),
                (status = 412, description = "If-Match does not match the current ETag"),
                (status = 428, description = "If-Match is missing"),
            ),
            security(("bearer" = []))
        )]
        #[post($path)]
        pub async fn $fn(
            state: web::Data<AppState>,
            who: Principal,
            number: web::Path<String>,
            if_match: IfMatch,
            body: ApiJson<LicenceChange>,
        ) -> Result<HttpResponse, AppError> {
            transition(state, who, number.into_inner(), if_match, body.into_inner(), $act).await
        }
    };
}

licence_transition!(
    suspend,
    "suspend_licence",
    "/licences/{licence_number}/suspend",
    |s: Step<'_>, change, _| {
        super::suspend(s.conn, s.now, s.who, s.licence, |v| s.if_match.check(v), change)
    },
    "Suspend an active licence, optionally until a date. Regulators; needs `If-Match`.",
    "Only an active licence can be suspended"
);
licence_transition!(
    reinstate,
    "reinstate_licence",
    "/licences/{licence_number}/reinstate",
    |s: Step<'_>, change, _| {
        super::reinstate(s.conn, s.now, s.who, s.licence, |v| s.if_match.check(v), change)
    },
    "Reinstate a suspended licence. Regulators; needs `If-Match`.",
    "Only a suspended licence can be reinstated"
);
licence_transition!(
    revoke,
    "revoke_licence",
    "/licences/{licence_number}/revoke",
    |s: Step<'_>, change, licensing: &Licensing| {
        let check = |v| s.if_match.check(v);
        super::revoke(s.conn, s.now, s.who, s.licence, check, change, licensing.bar_years)
    },
    "Revoke an active or suspended licence, finally. Regulators; needs `If-Match`.",
    "Only an active or suspended licence can be revoked"
);
licence_transition!(
    surrender,
    "surrender_licence",
    "/licences/{licence_number}/surrender",
    |s: Step<'_>, change, _| {
        super::surrender(s.conn, s.now, s.who, s.licence, |v| s.if_match.check(v), change)
    },
    "Surrender an active or suspended licence, finally. The holder; needs `If-Match`.",
    "Only an active or suspended licence can be surrendered"
);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// The last seq already seen (0 or absent: from the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// The change feed: licence events in commit order, to keep a mirror of licence status.
#[utoipa::path(
    tag = "licences",
    params(EventQuery),
    responses((status = 200, description = "Events after `after`", body = EventPage)),
    security(("bearer" = []))
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    q: Query<EventQuery>,
) -> Result<web::Json<EventPage>, AppError> {
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(AppError::bad_request("after must be 0 or more"));
    }
    let limit = match q.limit {
        None => 100,
        Some(n) if (1..=500).contains(&n) => n,
        Some(n) => {
            return Err(AppError::bad_request(format!("limit must be from 1 to 500, not {n}")))
        }
    };
    Ok(web::Json(state.db.read(move |conn| events::list(conn, after, limit)).await?))
}
