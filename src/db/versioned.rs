//! The one rule for a versioned change (API.md §1): a row carries a `version`; a change is read
//! at one version and written by a conditional `UPDATE … SET <the named columns>, version =
//! version + 1 WHERE id = ? AND version = <the version read>`. Whether the caller's `If-Match`
//! was stale when the row was read (`IfMatch::check`), or another writer changed the row
//! between that read and this write, the answer is the same 412.

use chrono::NaiveDateTime;

use super::DbConn;
use crate::audit::{self, Event};
use crate::error::AppError;

/// The whole versioned change of one record: runs `write` (the narrow conditional update of
/// the record read at `expected`), answers 412 when it changed nothing, appends `event` (done
/// by `actor` at `at`) and returns the record read again by `read`. Call inside the
/// transaction that makes the change.
pub fn commit<R, E: Into<AppError>, F: Into<AppError>>(
    conn: &mut DbConn,
    at: NaiveDateTime,
    actor: Option<&str>,
    expected: i64,
    event: &impl Event,
    write: impl FnOnce(&mut DbConn) -> Result<usize, E>,
    read: impl FnOnce(&mut DbConn) -> Result<Option<R>, F>,
) -> Result<R, AppError> {
    change(conn, event.entity_type(), expected, write)?;
    audit::record(conn, at, actor, event)?;
    read(conn).map_err(Into::into)?.ok_or_else(|| stale(event.entity_type()))
}

/// Runs `write`, the conditional update of a `what` (`"application"`, `"licence"`, …) read at
/// version `expected`, which returns the rows it changed, and answers 412 when it changed none:
/// the row is no longer at `expected`. Returns the new version.
pub fn change<E: Into<AppError>>(
    conn: &mut DbConn,
    what: &'static str,
    expected: i64,
    write: impl FnOnce(&mut DbConn) -> Result<usize, E>,
) -> Result<i64, AppError> {
    match write(conn).map_err(Into::into)? {
        0 => Err(stale(what)),
        _ => Ok(expected + 1),
    }
}

/// The answer to a change of a row that is no longer at the version the change was read at.
pub fn stale(what: &str) -> AppError {
    AppError::PreconditionFailed(format!(
        "the {what} was changed by another request since it was read; read it again"
    ))
}

/// The conditional update of a versioned row: writes `$changes` (an `AsChangeset` carrying the
/// new `version`) to the row of `$table` whose `$key` is `$id` if its stored version is still
/// `$changes.version - 1`; evaluates to the rows changed. A macro because diesel's query types
/// differ per table.
#[macro_export]
macro_rules! versioned_update {
    ($conn:expr, $table:ident, $key:ident = $id:expr, $changes:expr) => {{
        use diesel::prelude::*;
        let changes = $changes;
        diesel::update(
            $table::table
                .filter($table::$key.eq($id))
                .filter($table::version.eq(changes.version - 1)),
        )
        .set(changes)
        .execute($conn)
    }};
}
