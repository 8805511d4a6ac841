//! Reading the register in one snapshot.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use super::{LicenceLine, RegisterEntry};
use crate::db::schema::{licences, organisations, sites};
use crate::db::stored::StoredJson;
use crate::db::DbConn;
use crate::domain::Address;
use crate::error::AppError;
use crate::licences::LicenceStatus;

/// Runs `f` inside a read-only transaction that sees one snapshot of the database from its
/// first read to its end (PostgreSQL REPEATABLE READ; an SQLite read transaction in WAL mode),
/// then ends it. Writers are not blocked meanwhile.
pub fn in_snapshot<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN DEFERRED")?,
        DbConn::Postgresql(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        )?,
    }
    let outcome = f(conn);
    // Nothing was written: ending it either way only releases the snapshot.
    let end = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
        DbConn::Postgresql(c) => AnsiTransactionManager::rollback_transaction(c),
    };
    match (outcome, end) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(e.into()),
        (Err(e), _) => Err(e),
    }
}

pub use crate::licences::events::head as feed_head;

type LicenceTuple = (
    String,
    String,
    String,
    StoredJson<Vec<String>>,
    LicenceStatus,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// The register's rows after `after` (by licence number), at most `limit`, complete with
/// registration numbers and cities. Call it inside [`in_snapshot`] to page consistently.
pub fn page(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Vec<RegisterEntry>, AppError> {
    let lines = licence_lines(conn, after, limit)?;
    let org_ids: BTreeSet<&str> = lines.iter().map(|l| l.organisation_id.as_str()).collect();
    let registration: HashMap<String, String> = organisations::table
        .filter(organisations::id.eq_any(org_ids))
        .select((organisations::id, organisations::registration_number))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let site_ids: BTreeSet<&str> =
        lines.iter().flat_map(|l| l.site_ids.iter().map(String::as_str)).collect();
    let city_of: HashMap<String, String> = sites::table
        .filter(sites::id.eq_any(site_ids))
        .select((sites::id, sites::address))
        .load::<(String, StoredJson<Address>)>(conn)?
        .into_iter()
        .map(|(id, address)| (id, crate::verify::site_city(&address)))
        .collect();
    Ok(lines
        .into_iter()
        .map(|l| {
            let cities: BTreeSet<String> = l
                .site_ids
                .iter()
                .filter_map(|s| city_of.get(s))
                .filter(|c| !c.is_empty())
                .cloned()
                .collect();
            let registration_number =
                registration.get(&l.organisation_id).cloned().unwrap_or_default();
            l.entry(registration_number, cities.into_iter().collect(), now)
        })
        .collect())
}

/// The licences after `after` (by licence number), at most `limit`.
fn licence_lines(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<LicenceLine>, AppError> {
    let mut query = licences::table
        .select((
            licences::licence_number,
            licences::holder,
            licences::organisation_id,
            licences::site_ids,
            licences::status,
            licences::valid_from,
            licences::expires_at,
            licences::provisional_until,
        ))
        .order(licences::licence_number.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(licences::licence_number.gt(after.to_string()));
    }
    let rows: Vec<LicenceTuple> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| LicenceLine {
            licence_number: r.0,
            holder: r.1,
            organisation_id: r.2,
            site_ids: r.3.into_inner(),
            status: r.4,
            valid_from: r.5,
            expires_at: r.6,
            provisional_until: r.7,
        })
        .collect())
}
