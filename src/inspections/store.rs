//! Diesel queries on `inspections`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Evidence, Finding};
use crate::db::schema::{inspections, sites};
use crate::db::stored::{RowContext, StoredJson};
use crate::db::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inspections)]
pub struct InspectionRow {
    pub id: String,
    pub site_id: String,
    pub inspector_id: String,
    pub created_by: String,
    pub kind: super::Kind,
    pub scheduled_for: NaiveDateTime,
    pub status: super::Status,
    pub visited_at: Option<NaiveDateTime>,
    pub seats_declared: Option<i32>,
    pub seats_observed: Option<i32>,
    pub staff_present: Option<i32>,
    pub foreign_nationals_present: Option<i32>,
    pub findings: StoredJson<Vec<Finding>>,
    pub outcome: Option<super::Outcome>,
    pub notes: Option<String>,
    pub evidence: StoredJson<Vec<Evidence>>,
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
    inspections::table
        .find(id)
        .select(InspectionRow::as_select())
        .first(conn)
        .optional()
        .of_row("inspection", id)
}

/// Of `site_ids`, those with a recorded `pre_licence` inspection that passed (`compliant` or
/// `minor_issues`) visited at or after `since`.
pub fn passed_pre_licence(
    conn: &mut DbConn,
    site_ids: &[String],
    since: NaiveDateTime,
) -> Result<Vec<String>, AppError> {
    use super::{Kind, Outcome, Status};
    Ok(inspections::table
        .filter(inspections::site_id.eq_any(site_ids))
        .filter(inspections::kind.eq(Kind::PreLicence))
        .filter(inspections::status.eq(Status::Recorded))
        .filter(inspections::outcome.eq_any([Outcome::Compliant, Outcome::MinorIssues]))
        .filter(inspections::visited_at.ge(since))
        .select(inspections::site_id)
        .distinct()
        .load(conn)?)
}

/// What recording a visit writes.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = inspections)]
pub struct Recording {
    pub status: super::Status,
    pub visited_at: NaiveDateTime,
    pub seats_declared: i32,
    pub seats_observed: i32,
    pub staff_present: i32,
    pub foreign_nationals_present: i32,
    pub findings: StoredJson<Vec<Finding>>,
    pub outcome: super::Outcome,
    pub notes: Option<String>,
    pub evidence: StoredJson<Vec<Evidence>>,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

/// What cancelling writes.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = inspections)]
pub struct Cancellation {
    pub status: super::Status,
    pub cancel_reason: String,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

/// Writes `changes` to a scheduled inspection whose stored version is still `version - 1`;
/// returns rows changed.
pub fn update<C>(conn: &mut DbConn, id: &str, version: i64, changes: C) -> Result<usize, AppError>
where
    C: AsChangeset<Target = inspections::table>,
    C::Changeset: diesel::query_builder::QueryFragment<crate::db::Backend>,
{
    Ok(diesel::update(
        inspections::table
            .filter(inspections::id.eq(id))
            .filter(inspections::version.eq(version - 1))
            .filter(inspections::status.eq(super::Status::Scheduled)),
    )
    .set(changes)
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
    pub status: Option<super::Status>,
    pub outcome: Option<super::Outcome>,
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
            .filter(inspections::status.eq(super::Status::Recorded));
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
