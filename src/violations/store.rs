//! Diesel queries on `violations`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::StoredStatus;
use crate::db::schema::{organisations, violations};
use crate::db::DbConn;
use crate::inspections::Severity;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = violations)]
pub struct ViolationRow {
    pub id: String,
    pub inspection_id: String,
    pub site_id: String,
    pub organisation_id: String,
    pub licence_number: Option<String>,
    pub code: String,
    pub severity: Severity,
    pub description: String,
    pub due_by: Option<NaiveDate>,
    pub status: StoredStatus,
    pub resolved_at: Option<NaiveDateTime>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
    pub queued_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
}

/// What resolving a violation writes.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = violations)]
pub struct Resolution<'a> {
    pub status: StoredStatus,
    pub resolved_at: NaiveDateTime,
    pub resolved_by: &'a str,
    pub resolution: &'a str,
    pub version: i64,
}

pub fn insert(conn: &mut DbConn, row: &ViolationRow) -> QueryResult<()> {
    diesel::insert_into(violations::table).values(row).execute(conn).map(drop)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ViolationRow>> {
    violations::table.find(id).select(ViolationRow::as_select()).first(conn).optional()
}

/// Writes `resolution` when the row is still at `version - 1` and open; the rows written.
pub fn resolve(conn: &mut DbConn, id: &str, resolution: &Resolution<'_>) -> QueryResult<usize> {
    diesel::update(
        violations::table
            .filter(violations::id.eq(id))
            .filter(violations::version.eq(resolution.version - 1))
            .filter(violations::status.eq(StoredStatus::Open)),
    )
    .set(resolution)
    .execute(conn)
}

pub fn open_of_site(conn: &mut DbConn, site_id: &str) -> QueryResult<Vec<ViolationRow>> {
    violations::table
        .filter(violations::site_id.eq(site_id))
        .filter(violations::status.eq(StoredStatus::Open))
        .select(ViolationRow::as_select())
        .load(conn)
}

/// Open major and critical violations past their `due_by` whose licence was not queued yet.
pub fn due_for_queue(conn: &mut DbConn, today: NaiveDate) -> QueryResult<Vec<ViolationRow>> {
    violations::table
        .filter(violations::status.eq(StoredStatus::Open))
        .filter(violations::severity.eq_any([Severity::Major, Severity::Critical]))
        .filter(violations::due_by.lt(today))
        .filter(violations::queued_at.is_null())
        .select(ViolationRow::as_select())
        .load(conn)
}

/// Claims the violation for the queue; 1 for the one caller that did, 0 for every other.
pub fn mark_queued(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        violations::table.filter(violations::id.eq(id)).filter(violations::queued_at.is_null()),
    )
    .set(violations::queued_at.eq(now))
    .execute(conn)
}

#[derive(Debug, Default)]
pub struct Filter {
    /// Only the organisations this operator owns.
    pub owner_scope: Option<String>,
    pub site_id: Option<String>,
    pub organisation_id: Option<String>,
    pub status: Option<super::ViolationStatus>,
    pub severity: Option<Severity>,
}

pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    today: NaiveDate,
    after: Option<String>,
    limit: i64,
) -> QueryResult<Vec<ViolationRow>> {
    use super::ViolationStatus as S;
    let mut q = violations::table.select(ViolationRow::as_select()).into_boxed();
    if let Some(owner) = &f.owner_scope {
        let owned = organisations::table
            .filter(organisations::owner_id.eq(owner.clone()))
            .select(organisations::id);
        q = q.filter(violations::organisation_id.eq_any(owned));
    }
    if let Some(v) = &f.site_id {
        q = q.filter(violations::site_id.eq(v.clone()));
    }
    if let Some(v) = &f.organisation_id {
        q = q.filter(violations::organisation_id.eq(v.clone()));
    }
    if let Some(v) = f.severity {
        q = q.filter(violations::severity.eq(v));
    }
    q = match f.status {
        None => q,
        Some(S::Resolved) => q.filter(violations::status.eq(StoredStatus::Resolved)),
        Some(S::Overdue) => {
            q.filter(violations::status.eq(StoredStatus::Open)).filter(violations::due_by.lt(today))
        }
        Some(S::Open) => q
            .filter(violations::status.eq(StoredStatus::Open))
            .filter(violations::due_by.is_null().or(violations::due_by.ge(today))),
    };
    if let Some(after) = after {
        q = q.filter(violations::id.gt(after));
    }
    q.order(violations::id.asc()).limit(limit).load(conn)
}
