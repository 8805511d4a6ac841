//! Diesel queries on `clearances`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::ClearanceStatus;
use crate::db::schema::clearances;
use crate::db::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clearances)]
pub struct ClearanceRow {
    pub id: String,
    pub application_id: String,
    pub organisation_id: String,
    pub agency: String,
    pub status: ClearanceStatus,
    pub requested_at: NaiveDateTime,
    pub due_by: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<String>,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub version: i64,
}

pub fn insert(conn: &mut DbConn, row: &ClearanceRow) -> Result<(), AppError> {
    diesel::insert_into(clearances::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<ClearanceRow>, AppError> {
    Ok(clearances::table.find(id).select(ClearanceRow::as_select()).first(conn).optional()?)
}

pub fn for_application(
    conn: &mut DbConn,
    application_id: &str,
) -> Result<Vec<ClearanceRow>, AppError> {
    Ok(clearances::table
        .filter(clearances::application_id.eq(application_id))
        .order(clearances::id.asc())
        .select(ClearanceRow::as_select())
        .load(conn)?)
}

/// What a decision writes.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = clearances)]
pub struct Decision {
    pub status: ClearanceStatus,
    pub decided_at: NaiveDateTime,
    pub decided_by: String,
    pub reference: String,
    pub reason: Option<String>,
    pub version: i64,
}

/// Writes a decision on a clearance still pending at version `decision.version - 1`.
pub fn decide(conn: &mut DbConn, id: &str, decision: &Decision) -> Result<usize, AppError> {
    Ok(diesel::update(
        clearances::table
            .filter(clearances::id.eq(id))
            .filter(clearances::version.eq(decision.version - 1))
            .filter(clearances::status.eq(ClearanceStatus::Pending)),
    )
    .set(decision)
    .execute(conn)?)
}

#[derive(Debug, Default)]
pub struct Filter {
    /// Operators: their organisations' only.
    pub owner_id: Option<String>,
    /// Agency clients: their agency's only.
    pub agency_scope: Option<String>,
    pub agency: Option<String>,
    pub status: Option<ClearanceStatus>,
    pub application_id: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<ClearanceRow>, AppError> {
    let mut q = clearances::table.select(ClearanceRow::as_select()).into_boxed();
    if let Some(owner) = &f.owner_id {
        q = q.filter(
            clearances::organisation_id.eq_any(crate::organisations::store::owned_by(owner)),
        );
    }
    if let Some(v) = &f.agency_scope {
        q = q.filter(clearances::agency.eq(v));
    }
    if let Some(v) = &f.agency {
        q = q.filter(clearances::agency.eq(v));
    }
    if let Some(v) = f.status {
        q = q.filter(clearances::status.eq(v));
    }
    if let Some(v) = &f.application_id {
        q = q.filter(clearances::application_id.eq(v));
    }
    if let Some(after) = after {
        q = q.filter(clearances::id.gt(after));
    }
    Ok(q.order(clearances::id.asc()).limit(limit).load(conn)?)
}
