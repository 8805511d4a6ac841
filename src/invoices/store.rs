//! Diesel queries on `invoices` and `payments`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::InvoiceLine;
use super::InvoiceStatus;
use crate::db::schema::{invoices, payments};
use crate::db::stored::{RowContext, StoredJson};
use crate::db::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoices)]
pub struct InvoiceRow {
    pub id: String,
    pub application_id: String,
    pub organisation_id: String,
    pub status: InvoiceStatus,
    pub currency: String,
    pub lines: StoredJson<Vec<InvoiceLine>>,
    pub total_minor: i64,
    pub paid_minor: i64,
    pub issued_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: String,
    pub invoice_id: String,
    pub amount_minor: i64,
    pub paid_at: NaiveDateTime,
    pub channel: String,
    pub reference: String,
    pub receipt_document_id: Option<String>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &InvoiceRow) -> Result<(), AppError> {
    diesel::insert_into(invoices::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<InvoiceRow>, AppError> {
    invoices::table
        .find(id)
        .select(InvoiceRow::as_select())
        .first(conn)
        .optional()
        .of_row("invoice", id)
}

pub fn for_application(
    conn: &mut DbConn,
    application_id: &str,
) -> Result<Option<InvoiceRow>, AppError> {
    Ok(invoices::table
        .filter(invoices::application_id.eq(application_id))
        .select(InvoiceRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn payments_of(conn: &mut DbConn, invoice_ids: &[String]) -> Result<Vec<PaymentRow>, AppError> {
    if invoice_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(payments::table
        .filter(payments::invoice_id.eq_any(invoice_ids))
        .order(payments::id.asc())
        .select(PaymentRow::as_select())
        .load(conn)?)
}

pub fn insert_payment(conn: &mut DbConn, row: &PaymentRow) -> Result<(), AppError> {
    diesel::insert_into(payments::table).values(row).execute(conn)?;
    Ok(())
}

/// What a payment or a voiding writes.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = invoices)]
pub struct InvoiceChanges {
    pub status: InvoiceStatus,
    pub paid_minor: i64,
    pub version: i64,
}

/// Writes `changes` if the stored version is still `changes.version - 1`; returns rows changed.
pub fn update(conn: &mut DbConn, id: &str, changes: &InvoiceChanges) -> Result<usize, AppError> {
    Ok(crate::versioned_update!(conn, invoices, id = id, changes)?)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub owner_id: Option<String>,
    pub organisation_id: Option<String>,
    pub application_id: Option<String>,
    pub status: Option<InvoiceStatus>,
}

pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<InvoiceRow>, AppError> {
    let mut q = invoices::table.select(InvoiceRow::as_select()).into_boxed();
    if let Some(owner) = &f.owner_id {
        q = q
            .filter(invoices::organisation_id.eq_any(crate::organisations::store::owned_by(owner)));
    }
    if let Some(v) = &f.organisation_id {
        q = q.filter(invoices::organisation_id.eq(v));
    }
    if let Some(v) = &f.application_id {
        q = q.filter(invoices::application_id.eq(v));
    }
    if let Some(v) = f.status {
        q = q.filter(invoices::status.eq(v));
    }
    if let Some(after) = after {
        q = q.filter(invoices::id.gt(after));
    }
    Ok(q.order(invoices::id.asc()).limit(limit).load(conn)?)
}
