//! Diesel queries on `phone_ranges` and `ip_ranges`. Ranges never overlap, so the one that
//! could hold a value is the one with the greatest lower bound at or below it: a single probe
//! of the unique index on the lower bound.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{ip_ranges, phone_ranges, registry_locks};
use crate::db::DbConn;
use crate::domain::record_id::{IpRangeId, PhoneRangeId, SiteId};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = phone_ranges)]
pub struct PhoneRangeRow {
    pub id: String,
    pub site_id: String,
    pub kind: super::NumberKind,
    pub first_number: i64,
    pub last_number: i64,
    pub purpose: super::Purpose,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ip_ranges)]
pub struct IpRangeRow {
    pub id: String,
    pub site_id: String,
    pub cidr: String,
    pub family: i32,
    pub first_addr: String,
    pub last_addr: String,
    pub created_at: NaiveDateTime,
}

/// Bumps a lock row: on PostgreSQL it holds the row lock until commit, serialising this kind
/// of write across processes (SQLite's IMMEDIATE transactions are serial already).
pub fn lock(conn: &mut DbConn, name: &str) -> Result<(), AppError> {
    diesel::update(registry_locks::table.find(name))
        .set(registry_locks::counter.eq(registry_locks::counter + 1))
        .execute(conn)?;
    Ok(())
}

/// The registered range overlapping `[first, last]`, if any.
pub fn number_overlapping(
    conn: &mut DbConn,
    first: i64,
    last: i64,
) -> Result<Option<PhoneRangeRow>, AppError> {
    let candidate = phone_ranges::table
        .filter(phone_ranges::first_number.le(last))
        .order(phone_ranges::first_number.desc())
        .select(PhoneRangeRow::as_select())
        .first(conn)
        .optional()?;
    Ok(candidate.filter(|r| r.last_number >= first))
}

pub fn ip_overlapping(
    conn: &mut DbConn,
    family: i32,
    first: &str,
    last: &str,
) -> Result<Option<IpRangeRow>, AppError> {
    let candidate = ip_ranges::table
        .filter(ip_ranges::family.eq(family))
        .filter(ip_ranges::first_addr.le(last))
        .order(ip_ranges::first_addr.desc())
        .select(IpRangeRow::as_select())
        .first(conn)
        .optional()?;
    Ok(candidate.filter(|r| r.last_addr.as_str() >= first))
}

pub fn insert_number(conn: &mut DbConn, row: &PhoneRangeRow) -> Result<(), AppError> {
    diesel::insert_into(phone_ranges::table).values(row).execute(conn)?;
    Ok(())
}

pub fn insert_ip_range(conn: &mut DbConn, row: &IpRangeRow) -> Result<(), AppError> {
    diesel::insert_into(ip_ranges::table).values(row).execute(conn)?;
    Ok(())
}

pub fn list_numbers(
    conn: &mut DbConn,
    site_id: &str,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<PhoneRangeRow>, AppError> {
    let mut q = phone_ranges::table
        .filter(phone_ranges::site_id.eq(site_id))
        .select(PhoneRangeRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(phone_ranges::id.gt(after));
    }
    Ok(q.order(phone_ranges::id.asc()).limit(limit).load(conn)?)
}

pub fn list_ip_ranges(
    conn: &mut DbConn,
    site_id: &str,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<IpRangeRow>, AppError> {
    let mut q = ip_ranges::table
        .filter(ip_ranges::site_id.eq(site_id))
        .select(IpRangeRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(ip_ranges::id.gt(after));
    }
    Ok(q.order(ip_ranges::id.asc()).limit(limit).load(conn)?)
}

pub fn find_number_in(
    conn: &mut DbConn,
    site_id: &SiteId,
    id: &PhoneRangeId,
) -> Result<Option<PhoneRangeRow>, AppError> {
    Ok(phone_ranges::table
        .filter(phone_ranges::id.eq(id.as_str()).and(phone_ranges::site_id.eq(site_id.as_str())))
        .select(PhoneRangeRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_ip_range_in(
    conn: &mut DbConn,
    site_id: &SiteId,
    id: &IpRangeId,
) -> Result<Option<IpRangeRow>, AppError> {
    Ok(ip_ranges::table
        .filter(ip_ranges::id.eq(id.as_str()).and(ip_ranges::site_id.eq(site_id.as_str())))
        .select(IpRangeRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn delete_number(conn: &mut DbConn, id: &str) -> Result<usize, AppError> {
    Ok(diesel::delete(phone_ranges::table.find(id)).execute(conn)?)
}

pub fn delete_ip_range(conn: &mut DbConn, id: &str) -> Result<usize, AppError> {
    Ok(diesel::delete(ip_ranges::table.find(id)).execute(conn)?)
}
