//! Public statistics (API.md §11): per city and national counts, computed by aggregate SQL
//! at read time. A licence covering sites in two cities counts in both, and once nationally.

pub mod routes;
pub mod store;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::error::AppError;

/// The counts for one city or for the whole country.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    /// Registered sites that are not closed.
    pub sites: i64,
    /// Open sites covered by a licence in force (active or provisional, not expired or lapsed).
    pub sites_licensed: i64,
    /// Licences suspended now (not expired).
    pub licences_suspended: i64,
    pub licences_revoked: i64,
    pub inspections_recorded: i64,
    /// Findings of severity `critical` in recorded inspections.
    pub critical_findings: i64,
    /// Public reports of calls matched to a site, received in the last 30 days (nationally:
    /// every report of the last 30 days).
    pub reports_30d: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CityCounts {
    /// The city, in lower case, as sites are filtered by it.
    pub city: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Statistics {
    pub as_of: DateTime<Utc>,
    /// One entry per city with at least one site, by city.
    pub cities: Vec<CityCounts>,
    pub national: Counts,
}

/// The figures as of `now`.
#[tracing::instrument(skip_all, err)]
pub fn compute(conn: &mut DbConn, now: NaiveDateTime) -> Result<Statistics, AppError> {
    let since = now - Duration::days(30);
    let mut cities: BTreeMap<String, Counts> = BTreeMap::new();
    let mut put = |rows: Vec<(String, i64)>, set: fn(&mut Counts, i64)| {
        for (city, n) in rows {
            set(cities.entry(city).or_default(), n);
        }
    };
    put(store::sites_by_city(conn)?, |c, n| c.sites = n);
    put(store::sites_licensed_by_city(conn, now)?, |c, n| c.sites_licensed = n);
    put(store::licences_by_city(conn, store::CountedStatus::Suspended, now)?, |c, n| {
        c.licences_suspended = n
    });
    put(store::licences_by_city(conn, store::CountedStatus::Revoked, now)?, |c, n| {
        c.licences_revoked = n
    });
    put(store::inspections_by_city(conn)?, |c, n| c.inspections_recorded = n);
    put(store::critical_findings_by_city(conn)?, |c, n| c.critical_findings = n);
    put(store::reports_by_city(conn, since)?, |c, n| c.reports_30d = n);
    let national = store::national(conn, now, since)?;
    Ok(Statistics {
        as_of: now.and_utc(),
        cities: cities.into_iter().map(|(city, counts)| CityCounts { city, counts }).collect(),
        national,
    })
}
