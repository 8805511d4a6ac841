//! Diesel queries on `applications`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Category, Status};
use crate::db::schema::applications;
use crate::db::stored::{RowContext, StoredJson};
use crate::db::DbConn;
use crate::domain::record_id::{ApplicationId, InvoiceId};
use crate::domain::transition::Transition as Step;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = applications)]
pub struct ApplicationRow {
    pub id: String,
    pub organisation_id: String,
    pub site_ids: StoredJson<Vec<String>>,
    pub category: Category,
    pub term_months: i32,
    pub renewal_of: Option<String>,
    pub status: Status,
    pub history: StoredJson<Vec<Step>>,
    pub licence_number: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Raised at the first submission.
    pub invoice_id: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &ApplicationRow) -> Result<(), AppError> {
    diesel::insert_into(applications::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<ApplicationRow>, AppError> {
    applications::table
        .find(id)
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()
        .of_row("application", id)
}

/// What a transition writes.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = applications)]
pub struct Transition {
    pub status: Status,
    pub history: StoredJson<Vec<Step>>,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

/// Writes `t` if the stored version is still `t.version - 1`; returns rows changed.
pub fn update(conn: &mut DbConn, id: &str, t: &Transition) -> Result<usize, AppError> {
    Ok(diesel::update(
        applications::table
            .filter(applications::id.eq(id))
            .filter(applications::version.eq(t.version - 1)),
    )
    .set(t)
    .execute(conn)?)
}

/// Names the application's fee invoice.
pub fn set_invoice(
    conn: &mut DbConn,
    id: &ApplicationId,
    invoice_id: &InvoiceId,
) -> Result<(), AppError> {
    diesel::update(applications::table.find(id.as_str()))
        .set(applications::invoice_id.eq(invoice_id.as_str()))
        .execute(conn)?;
    Ok(())
}

pub fn set_licence_number(conn: &mut DbConn, id: &str, number: &str) -> Result<(), AppError> {
    diesel::update(applications::table.find(id))
        .set(applications::licence_number.eq(number))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Default)]
pub struct Filter {
    pub owner_id: Option<String>,
    pub organisation_id: Option<String>,
    pub status: Option<Status>,
}

pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<ApplicationRow>, AppError> {
    let mut q = applications::table.select(ApplicationRow::as_select()).into_boxed();
    if let Some(owner) = &f.owner_id {
        q = q.filter(
            applications::organisation_id.eq_any(crate::organisations::store::owned_by(owner)),
        );
    }
    if let Some(v) = &f.organisation_id {
        q = q.filter(applications::organisation_id.eq(v));
    }
    if let Some(v) = &f.status {
        q = q.filter(applications::status.eq(v));
    }
    if let Some(after) = after {
        q = q.filter(applications::id.gt(after));
    }
    Ok(q.order(applications::id.asc()).limit(limit).load(conn)?)
}
