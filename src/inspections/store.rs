//! Diesel queries on `inspections`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{inspections, sites};
use crate::db::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inspections)]
pub struct InspectionRow {
    pub id: String,
    pub site_id: String,
    pub inspector_id: String,
    pub created_by: String,
    pub kind: String,
    pub scheduled_for: NaiveDateTime,
    pub status: String,
    pub visited_at: Option<NaiveDateTime>,
    pub seats_declared: Option<i32>,
    pub seats_observed: Option<i32>,
    pub staff_present: Option<i32>,
    pub foreign_nationals_present: Option<i32>,
    pub findings: String,
    pub outcome: Option<String>,
    pub notes: Option<String>,
    pub evidence: String,
    pub cancel_reason: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &InspectionRow) -> Result<(), AppError> {
    diesel::insert_into(inspections::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<InspectionRow>, AppError> {
    Ok(inspections::table.find(id).select(InspectionRow::as_select()).first(conn).optional()?)
}

/// Writes the row if its stored version is still `row.version - 1`; returns rows changed.
pub fn update(conn: &mut DbConn, row: &InspectionRow) -> Result<usize, AppError> {
    Ok(diesel::update(
        inspections::table
            .filter(inspections::id.eq(&row.id))
            .filter(inspections::version.eq(row.version - 1)),
    )
    .set((
        inspections::status.eq(&row.status),
        inspections::visited_at.eq(row.visited_at),
        inspections::seats_declared.eq(row.seats_declared),
        inspections::seats_observed.eq(row.seats_observed),
        inspections::staff_present.eq(row.staff_present),
        inspections::foreign_nationals_present.eq(row.foreign_nationals_present),
        inspections::findings.eq(&row.findings),
        inspections::outcome.eq(&row.outcome),
        inspections::notes.eq(&row.notes),
        inspections::evidence.eq(&row.evidence),
        inspections::cancel_reason.eq(&row.cancel_reason),
        inspections::version.eq(row.version),
        inspections::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?)
}

/// Who is listing decides the scope: everything, an inspector's own, or an operator's recorded.
#[derive(Debug, Default)]
pub struct Filter {
    /// Inspectors: assigned to or opened by this user.
    pub inspector_scope: Option<String>,
    /// Operators: recorded inspections of this owner's sites.
    pub owner_scope: Option<String>,
    pub site_id: Option<String>,
    pub inspector_id: Option<String>,
    pub status: Option<String>,
    pub outcome: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<InspectionRow>, AppError> {
    let mut q = inspections::table.select(InspectionRow::as_select()).into_boxed();
    if let Some(me) = &f.inspector_scope {
        q = q.filter(
            inspections::inspector_id.eq(me.clone()).or(inspections::created_by.eq(me.clone())),
        );
    }
    if let Some(owner) = &f.owner_scope {
        let owned_orgs = crate::organisations::store::owned_by(owner);
        let owned_sites =
            sites::table.filter(sites::organisation_id.eq_any(owned_orgs)).select(sites::id);
        q = q
            .filter(inspections::site_id.eq_any(owned_sites))
            .filter(inspections::status.eq("recorded"));
    }
    if let Some(v) = &f.site_id {
        q = q.filter(inspections::site_id.eq(v));
    }
    if let Some(v) = &f.inspector_id {
        q = q.filter(inspections::inspector_id.eq(v));
    }
    if let Some(v) = &f.status {
        q = q.filter(inspections::status.eq(v));
    }
    if let Some(v) = &f.outcome {
        q = q.filter(inspections::outcome.eq(v));
    }
    if let Some(after) = after {
        q = q.filter(inspections::id.gt(after));
    }
    Ok(q.order(inspections::id.asc()).limit(limit).load(conn)?)
}
