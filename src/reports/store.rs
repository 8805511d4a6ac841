//! Diesel queries on `reports` and `report_alerts`.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use crate::db::schema::{report_alerts, reports};
use crate::db::DbConn;
use crate::domain::record_id::{EnforcementItemId, SiteId};
use crate::domain::LicenceNumber;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reports)]
pub struct ReportRow {
    pub id: String,
    pub number: String,
    pub site_id: Option<String>,
    pub called_at: NaiveDateTime,
    pub category: super::Category,
    pub description: String,
    pub contact: Option<String>,
    pub status: super::ReportStatus,
    pub triage_reason: Option<String>,
    pub triaged_by: Option<String>,
    pub triaged_at: Option<NaiveDateTime>,
    pub inspection_id: Option<String>,
    pub version: i64,
    pub received_at: NaiveDateTime,
}

/// What triaging writes.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = reports)]
pub struct Triage<'a> {
    pub status: super::ReportStatus,
    pub triage_reason: &'a str,
    pub triaged_by: &'a str,
    pub triaged_at: NaiveDateTime,
    pub inspection_id: Option<&'a str>,
    pub version: i64,
}

pub fn insert(conn: &mut DbConn, row: &ReportRow) -> QueryResult<()> {
    diesel::insert_into(reports::table).values(row).execute(conn).map(drop)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ReportRow>> {
    reports::table.find(id).select(ReportRow::as_select()).first(conn).optional()
}

/// Writes `triage` when the row is still at `version - 1`; the rows written.
pub fn triage(conn: &mut DbConn, id: &str, triage: &Triage<'_>) -> QueryResult<usize> {
    diesel::update(
        reports::table.filter(reports::id.eq(id)).filter(reports::version.eq(triage.version - 1)),
    )
    .set(triage)
    .execute(conn)
}

/// Reports per site received after `since`, for these sites.
pub fn counts_since(
    conn: &mut DbConn,
    site_ids: &[String],
    since: NaiveDateTime,
) -> QueryResult<Vec<(Option<String>, i64)>> {
    reports::table
        .filter(reports::site_id.eq_any(site_ids))
        .filter(reports::received_at.gt(since))
        .group_by(reports::site_id)
        .select((reports::site_id, count_star()))
        .load(conn)
}

pub fn list(
    conn: &mut DbConn,
    status: Option<super::ReportStatus>,
    site_id: Option<String>,
    after: Option<String>,
    limit: i64,
) -> QueryResult<Vec<ReportRow>> {
    let mut q = reports::table.select(ReportRow::as_select()).into_boxed();
    if let Some(s) = status {
        q = q.filter(reports::status.eq(s));
    }
    if let Some(s) = site_id {
        q = q.filter(reports::site_id.eq(s));
    }
    if let Some(after) = after {
        q = q.filter(reports::id.gt(after));
    }
    q.order(reports::id.asc()).limit(limit).load(conn)
}

pub fn alert_raised(conn: &mut DbConn, licence_number: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        report_alerts::table.filter(report_alerts::licence_number.eq(licence_number)),
    ))
    .get_result(conn)
}

/// Records that `licence_number` was queued (as `item_id`) for the reports on `site_id`.
pub fn record_alert(
    conn: &mut DbConn,
    licence_number: &LicenceNumber,
    site_id: &SiteId,
    item_id: &EnforcementItemId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(report_alerts::table)
        .values((
            report_alerts::licence_number.eq(licence_number.as_str()),
            report_alerts::site_id.eq(site_id.as_str()),
            report_alerts::enforcement_item_id.eq(item_id.as_str()),
            report_alerts::raised_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}
