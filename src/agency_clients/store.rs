//! Diesel queries on `agency_clients`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::agency_clients;
use crate::db::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = agency_clients)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub agency: String,
    pub client_id: String,
    pub secret_hash: String,
    pub active: bool,
    pub version: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// The clearing agency this client decides clearances for, if any.
    pub clears: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &ClientRow) -> Result<(), AppError> {
    diesel::insert_into(agency_clients::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<ClientRow>, AppError> {
    Ok(agency_clients::table.find(id).select(ClientRow::as_select()).first(conn).optional()?)
}

pub fn find_by_client_id(
    conn: &mut DbConn,
    client_id: &str,
) -> Result<Option<ClientRow>, AppError> {
    Ok(agency_clients::table
        .filter(agency_clients::client_id.eq(client_id))
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(
    conn: &mut DbConn,
    active: Option<bool>,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<ClientRow>, AppError> {
    let mut q = agency_clients::table.select(ClientRow::as_select()).into_boxed();
    if let Some(active) = active {
        q = q.filter(agency_clients::active.eq(active));
    }
    if let Some(after) = after {
        q = q.filter(agency_clients::id.gt(after));
    }
    Ok(q.order(agency_clients::id.asc()).limit(limit).load(conn)?)
}

/// Deactivates a client; returns rows changed (0 if it was inactive already).
pub fn deactivate(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<usize, AppError> {
    Ok(diesel::update(
        agency_clients::table
            .filter(agency_clients::id.eq(id))
            .filter(agency_clients::active.eq(true)),
    )
    .set((
        agency_clients::active.eq(false),
        agency_clients::revoked_at.eq(Some(now)),
        agency_clients::updated_at.eq(now),
        agency_clients::version.eq(agency_clients::version + 1),
    ))
    .execute(conn)?)
}
