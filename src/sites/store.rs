//! Diesel queries on `sites`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Service;
use super::SiteStatus;
use crate::db::schema::sites;
use crate::db::stored::{RowContext, StoredJson};
use crate::db::DbConn;
use crate::domain::{Address, Country};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sites)]
pub struct SiteRow {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub address: StoredJson<Address>,
    pub city_key: String,
    pub seat_count: i32,
    pub services: StoredJson<Vec<Service>>,
    pub markets: StoredJson<Vec<Country>>,
    pub status: SiteStatus,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &SiteRow) -> Result<(), AppError> {
    diesel::insert_into(sites::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<SiteRow>, AppError> {
    sites::table.find(id).select(SiteRow::as_select()).first(conn).optional().of_row("site", id)
}

/// The sites with these ids (those that exist), in no particular order.
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<SiteRow>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sites::table.filter(sites::id.eq_any(ids)).select(SiteRow::as_select()).load(conn)?)
}

#[derive(Debug, Default)]
pub struct Filter {
    /// Only sites of this owner's organisations (operators).
    pub owner_id: Option<String>,
    pub organisation_id: Option<String>,
    /// Lower-case city.
    pub city: Option<String>,
    pub status: Option<SiteStatus>,
}

pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<SiteRow>, AppError> {
    let mut q = sites::table.select(SiteRow::as_select()).into_boxed();
    if let Some(owner) = &f.owner_id {
        q = q.filter(sites::organisation_id.eq_any(crate::organisations::store::owned_by(owner)));
    }
    if let Some(v) = &f.organisation_id {
        q = q.filter(sites::organisation_id.eq(v));
    }
    if let Some(v) = &f.city {
        q = q.filter(sites::city_key.eq(v));
    }
    if let Some(v) = &f.status {
        q = q.filter(sites::status.eq(v));
    }
    if let Some(after) = after {
        q = q.filter(sites::id.gt(after));
    }
    Ok(q.order(sites::id.asc()).limit(limit).load(conn)?)
}

/// What a site update writes: exactly the columns set here (`None` leaves one as it is).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = sites)]
pub struct SiteChanges {
    pub name: Option<String>,
    pub address: Option<StoredJson<Address>>,
    pub city_key: Option<String>,
    pub seat_count: Option<i32>,
    pub services: Option<StoredJson<Vec<Service>>>,
    pub markets: Option<StoredJson<Vec<Country>>>,
    pub status: Option<SiteStatus>,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

impl SiteChanges {
    /// Changes nothing yet but the version (to `version`) and `updated_at`.
    pub fn new(version: i64, updated_at: NaiveDateTime) -> Self {
        SiteChanges {
            name: None,
            address: None,
            city_key: None,
            seat_count: None,
            services: None,
            markets: None,
            status: None,
            version,
            updated_at,
        }
    }
}

/// Writes `changes` if the stored version is still `changes.version - 1`; returns rows changed.
pub fn update(conn: &mut DbConn, id: &str, changes: &SiteChanges) -> Result<usize, AppError> {
    Ok(crate::versioned_update!(conn, sites, id = id, changes)?)
}
