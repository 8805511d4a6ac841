//! `/api/v1/invoices` and their payments.

use actix_web::{get, http::header, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{store, Invoice, InvoiceRow, InvoiceStatus, NewPayment};
use crate::auth::visible::resolve;
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::error::AppError;
use crate::http::{etag, ApiJson, IfMatch, Page, PageParams, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceFilter {
    pub organisation_id: Option<Uuid>,
    pub application_id: Option<Uuid>,
    pub status: Option<InvoiceStatus>,
}

/// Invoices with their payments, in two queries.
fn views(conn: &mut DbConn, rows: Vec<InvoiceRow>) -> Result<Vec<Invoice>, AppError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut payments = store::payments_of(conn, &ids)?;
    rows.into_iter()
        .map(|r| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                std::mem::take(&mut payments).into_iter().partition(|p| p.invoice_id == r.id);
            payments = rest;
            Invoice::view(r, mine)
        })
        .collect()
}

fn respond(invoice: Invoice) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, etag(invoice.version))).json(invoice)
}

/// List invoices: an operator's own, or all for staff.
#[utoipa::path(
    tag = "fees",
    params(PageParams, InvoiceFilter),
    responses((status = 200, description = "A page of invoices", body = Page<Invoice>)),
    security(("bearer" = []))
)]
#[get("/invoices")]
pub async fn list_invoices(
    state: web::Data<AppState>,
    who: Principal,
    page: Query<PageParams>,
    filter: Query<InvoiceFilter>,
) -> Result<web::Json<Page<Invoice>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let f = filter.into_inner();
    let filter = store::Filter {
        owner_id: who.is(Role::Operator).then(|| who.id.clone()),
        organisation_id: f.organisation_id.map(|id| id.to_string()),
        application_id: f.application_id.map(|id| id.to_string()),
        status: f.status,
    };
    let (invoices, more) = state
        .db
        .read(move |conn| {
            let mut rows = store::list(conn, &filter, after, limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            Ok((views(conn, rows)?, more))
        })
        .await?;
    Ok(web::Json(Page::from_views(invoices, more, |i| i.id.clone())))
}

/// Read an invoice with its payments.
#[utoipa::path(
    tag = "fees",
    params(("id" = Uuid, Path, description = "The invoice's id")),
    responses(
        (status = 200, description = "The invoice", body = Invoice, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such invoice, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/invoices/{id}")]
pub async fn get_invoice(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.to_string();
    let invoice = state
        .db
        .read(move |conn| {
            let row = resolve::<InvoiceRow>(conn, &who, &id)?.into_inner();
            views(conn, vec![row])?.pop().ok_or_else(|| AppError::not_found("no such invoice"))
        })
        .await?;
    Ok(respond(invoice))
}

/// Record a payment seen in the government's payment system (regulators; `If-Match` on the
/// invoice). The invoice is `paid` once its payments cover the total; a payment on a void or
/// paid invoice, or beyond the total, is 409.
#[utoipa::path(
    tag = "fees",
    request_body = NewPayment,
    params(("id" = Uuid, Path, description = "The invoice's id"), ("If-Match" = String, Header, description = "The invoice's ETag last read")),
    responses(
        (status = 200, description = "The invoice with the payment", body = Invoice, headers(("ETag" = String, description = "The strong ETag"))),
        (status = 404, description = "No such invoice"),
        (status = 409, description = "The invoice is void or paid, or the payment passes its total"),
        (status = 412, description = "If-Match does not match the current ETag"),
        (status = 428, description = "If-Match is missing"),
    ),
    security(("bearer" = []))
)]
#[post("/invoices/{id}/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<NewPayment>,
) -> Result<HttpResponse, AppError> {
    let (id, payment, now) = (id.to_string(), body.into_inner(), state.now());
    let invoice = state
        .db
        .write(move |conn| {
            let invoice = resolve::<InvoiceRow>(conn, &who, &id)?;
            let row =
                super::record_payment(conn, now, &who.id, invoice, |v| if_match.check(v), payment)?;
            views(conn, vec![row])?.pop().ok_or_else(|| AppError::not_found("no such invoice"))
        })
        .await?;
    Ok(respond(invoice))
}
