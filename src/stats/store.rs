//! The statistics' aggregate queries: COUNT … GROUP BY the site's city, never rows loaded and
//! counted. "In force", "suspended" and "revoked" as of now are the licences store's SQL form
//! of `LicenceStatus::as_of` ([`crate::licences::store::status_is`]).

use chrono::NaiveDateTime;
use diesel::dsl::{count, count_star};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::Counts;
use crate::db::schema::{inspections, licence_sites, licences, reports, sites};
use crate::db::DbConn;
use crate::domain::LicenceStatus;
use crate::inspections::Status;
use crate::licences::store::{in_force, status_is};
use crate::sites::SiteStatus;

/// The states the statistics count licences in besides in force.
#[derive(Debug, Clone, Copy)]
pub enum CountedStatus {
    /// Suspended and not expired.
    Suspended,
    Revoked,
}

impl CountedStatus {
    fn status(self) -> LicenceStatus {
        match self {
            CountedStatus::Suspended => LicenceStatus::Suspended,
            CountedStatus::Revoked => LicenceStatus::Revoked,
        }
    }
}

pub fn sites_by_city(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    sites::table
        .filter(sites::status.eq(SiteStatus::Active))
        .group_by(sites::city_key)
        .select((sites::city_key, count_star()))
        .load(conn)
}

pub fn sites_licensed_by_city(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, i64)>> {
    sites::table
        .inner_join(licence_sites::table.on(licence_sites::site_id.eq(sites::id)))
        .inner_join(licences::table.on(licences::licence_number.eq(licence_sites::licence_number)))
        .filter(in_force(now))
        .filter(sites::status.eq(SiteStatus::Active))
        .group_by(sites::city_key)
        .select((sites::city_key, count(sites::id).aggregate_distinct()))
        .load(conn)
}

pub fn licences_by_city(
    conn: &mut DbConn,
    counted: CountedStatus,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, i64)>> {
    sites::table
        .inner_join(licence_sites::table.on(licence_sites::site_id.eq(sites::id)))
        .inner_join(licences::table.on(licences::licence_number.eq(licence_sites::licence_number)))
        .filter(status_is(counted.status(), now))
        .group_by(sites::city_key)
        .select((sites::city_key, count(licences::licence_number).aggregate_distinct()))
        .load(conn)
}

pub fn inspections_by_city(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    sites::table
        .inner_join(inspections::table.on(inspections::site_id.eq(sites::id)))
        .filter(inspections::status.eq(Status::Recorded))
        .group_by(sites::city_key)
        .select((sites::city_key, count_star()))
        .load(conn)
}

#[derive(QueryableByName)]
struct CityCount {
    #[diesel(sql_type = Text)]
    city: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Critical findings of recorded inspections, read from the findings' JSON where it is stored
/// (so inspections recorded before violations existed count too). The JSON functions differ.
pub fn critical_findings_by_city(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    const SQLITE: &str = "SELECT s.city_key AS city, COUNT(*) AS n FROM inspections i \
        JOIN sites s ON s.id = i.site_id, json_each(i.findings) f \
        WHERE i.status = 'recorded' AND json_extract(f.value, '$.severity') = 'critical' \
        GROUP BY s.city_key";
    const POSTGRES: &str = "SELECT s.city_key AS city, COUNT(*) AS n FROM inspections i \
        JOIN sites s ON s.id = i.site_id \
        CROSS JOIN LATERAL jsonb_array_elements(i.findings::jsonb) f \
        WHERE i.status = 'recorded' AND f->>'severity' = 'critical' GROUP BY s.city_key";
    let rows: Vec<CityCount> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(SQLITE).load(c)?,
        DbConn::Postgresql(c) => diesel::sql_query(POSTGRES).load(c)?,
    };
    Ok(rows.into_iter().map(|r| (r.city, r.n)).collect())
}

pub fn reports_by_city(conn: &mut DbConn, since: NaiveDateTime) -> QueryResult<Vec<(String, i64)>> {
    sites::table
        .inner_join(reports::table.on(reports::site_id.eq(sites::id.nullable())))
        .filter(reports::received_at.gt(since))
        .group_by(sites::city_key)
        .select((sites::city_key, count_star()))
        .load(conn)
}

pub fn national(
    conn: &mut DbConn,
    now: NaiveDateTime,
    since: NaiveDateTime,
) -> QueryResult<Counts> {
    let licensed = |conn: &mut DbConn| {
        licence_sites::table
            .inner_join(
                licences::table.on(licences::licence_number.eq(licence_sites::licence_number)),
            )
            .inner_join(sites::table.on(sites::id.eq(licence_sites::site_id)))
            .filter(in_force(now))
            .filter(sites::status.eq(SiteStatus::Active))
            .select(count(licence_sites::site_id).aggregate_distinct())
            .first(conn)
    };
    let count = |conn: &mut DbConn, counted: CountedStatus| {
        licences::table.filter(status_is(counted.status(), now)).select(count_star()).first(conn)
    };
    Ok(Counts {
        sites: sites::table
            .filter(sites::status.eq(SiteStatus::Active))
            .select(count_star())
            .first(conn)?,
        sites_licensed: licensed(conn)?,
        licences_suspended: count(conn, CountedStatus::Suspended)?,
        licences_revoked: count(conn, CountedStatus::Revoked)?,
        inspections_recorded: inspections::table
            .filter(inspections::status.eq(Status::Recorded))
            .select(count_star())
            .first(conn)?,
        critical_findings: critical_findings_by_city(conn)?.iter().map(|(_, n)| n).sum(),
        reports_30d: reports::table
            .filter(reports::received_at.gt(since))
            .select(count_star())
            .first(conn)?,
    })
}
