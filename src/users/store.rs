//! Diesel queries on `users`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::Role;
use crate::db::schema::users;
use crate::db::DbConn;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub full_name: String,
    pub role: Role,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &UserRow) -> Result<(), diesel::result::Error> {
    diesel::insert_into(users::table).values(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<UserRow>, AppError> {
    Ok(users::table.find(id).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> Result<Option<UserRow>, AppError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub email: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<UserRow>, AppError> {
    let mut q = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(role) = &filter.role {
        q = q.filter(users::role.eq(role));
    }
    if let Some(active) = filter.active {
        q = q.filter(users::active.eq(active));
    }
    if let Some(email) = &filter.email {
        q = q.filter(users::email.eq(email));
    }
    if let Some(after) = after {
        q = q.filter(users::id.gt(after));
    }
    Ok(q.order(users::id.asc()).limit(limit).load(conn)?)
}

/// What an account update writes: exactly these columns (`None` leaves one as it is).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub full_name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

/// Writes `changes` if the stored version is still `changes.version - 1`; returns rows changed.
pub fn update(conn: &mut DbConn, id: &str, changes: &UserChanges) -> Result<usize, AppError> {
    Ok(crate::versioned_update!(conn, users, id = id, changes)?)
}

/// What a password change writes.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
pub struct PasswordChange {
    pub password_hash: String,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

/// Writes `changes` if the stored version is still `changes.version - 1`; returns rows changed.
pub fn change_password(
    conn: &mut DbConn,
    id: &str,
    changes: &PasswordChange,
) -> Result<usize, AppError> {
    Ok(crate::versioned_update!(conn, users, id = id, changes)?)
}

pub fn count_active_admins(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(users::table
        .filter(users::role.eq(Role::Admin).and(users::active.eq(true)))
        .count()
        .get_result(conn)?)
}
