//! Everything about sign-in that must hold across processes lives here, in the database:
//! lock-out counters, refresh-token families, revoked access tokens, and the credentials of
//! accounts and agency clients (read straight from their tables, so the sign-in rules need
//! neither the users nor the agency_clients module).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::secrets::{hash_secret, new_secret};
use super::Role;
use crate::db::schema::{
    agency_clients, auth_failures, refresh_tokens, revoked_access_tokens, users,
};
use crate::db::DbConn;
use crate::error::AppError;

/// What signing in as a person needs to know of the account.
#[derive(Debug, Queryable)]
pub struct UserCredentials {
    pub id: String,
    pub role: Role,
    pub active: bool,
    pub password_hash: String,
}

pub fn user_credentials(
    conn: &mut DbConn,
    email: &str,
) -> Result<Option<UserCredentials>, AppError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select((users::id, users::role, users::active, users::password_hash))
        .first(conn)
        .optional()?)
}

/// An agency client's id, whether it is active, and its secret's hash.
pub fn client_credentials(
    conn: &mut DbConn,
    client_id: &str,
) -> Result<Option<(String, bool, String)>, AppError> {
    Ok(agency_clients::table
        .filter(agency_clients::client_id.eq(client_id))
        .select((agency_clients::id, agency_clients::active, agency_clients::secret_hash))
        .first(conn)
        .optional()?)
}

/// The e-mail address (none for agency clients) and the name of the account a token speaks for.
pub fn profile(
    conn: &mut DbConn,
    id: &str,
    role: Role,
) -> Result<Option<(Option<String>, String)>, AppError> {
    if role == Role::Agency {
        let name: Option<String> =
            agency_clients::table.find(id).select(agency_clients::name).first(conn).optional()?;
        return Ok(name.map(|n| (None, n)));
    }
    let user: Option<(String, String)> =
        users::table.find(id).select((users::email, users::full_name)).first(conn).optional()?;
    Ok(user.map(|(email, name)| (Some(email), name)))
}

/// The role of an active user, `None` if the user is gone or deactivated.
pub fn active_user_role(conn: &mut DbConn, id: &str) -> Result<Option<Role>, AppError> {
    Ok(users::table
        .filter(users::id.eq(id).and(users::active.eq(true)))
        .select(users::role)
        .first(conn)
        .optional()?)
}

/// Consecutive failures allowed before an account is locked.
pub const FAILURES_BEFORE_LOCK: i32 = 5;
/// The first lock lasts this long; each further failure doubles it, up to the cap.
pub const FIRST_LOCK_SECS: i64 = 30;
pub const MAX_LOCK_SECS: i64 = 15 * 60;

/// How long after `failures` consecutive failures the account stays locked.
pub fn lock_duration(failures: i32) -> Option<Duration> {
    if failures < FAILURES_BEFORE_LOCK {
        return None;
    }
    let doublings = (failures - FAILURES_BEFORE_LOCK).min(16) as u32;
    Some(Duration::seconds((FIRST_LOCK_SECS << doublings).min(MAX_LOCK_SECS)))
}

/// The answer to a request to check one password.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Check it: the attempt is already counted as a failure.
    Granted,
    /// Locked for this many more seconds: check nothing.
    Locked(i64),
}

/// Times a claim may lose a race to a concurrent one before the caller is asked to wait.
const MAX_RACES: usize = 16;

/// Counts an attempt for `subject` before its password is checked, atomically: each claim is
/// a compare-and-set on the failure count, so of any number of parallel guesses (on any
/// number of processes) at most [`FAILURES_BEFORE_LOCK`] are granted before the lock, and one
/// more each time a lock runs out. A success clears the count ([`clear_failures`]).
pub fn claim_attempt(
    conn: &mut DbConn,
    subject: &str,
    now: NaiveDateTime,
) -> Result<Attempt, AppError> {
    for _ in 0..MAX_RACES {
        let row: Option<(i32, Option<NaiveDateTime>)> = auth_failures::table
            .find(subject)
            .select((auth_failures::failures, auth_failures::locked_until))
            .first(conn)
            .optional()?;
        let (failures, until) = row.unwrap_or((0, None));
        if let Some(until) = until.filter(|u| *u > now) {
            return Ok(Attempt::Locked(((until - now).num_milliseconds() + 999) / 1000));
        }
        let next = failures + 1;
        let lock = lock_duration(next).map(|d| now + d);
        let won = if row.is_none() {
            insert_first_failure(conn, subject, lock, now)?
        } else {
            diesel::update(
                auth_failures::table
                    .filter(auth_failures::subject.eq(subject))
                    .filter(auth_failures::failures.eq(failures)),
            )
            .set((
                auth_failures::failures.eq(next),
                auth_failures::locked_until.eq(lock),
                auth_failures::updated_at.eq(now),
            ))
            .execute(conn)?
        };
        if won == 1 {
            return Ok(Attempt::Granted);
        }
    }
    Ok(Attempt::Locked(1))
}

/// Inserts the first failure of `subject` unless a concurrent claim already did; returns the
/// rows inserted (a conflict must not abort the transaction, hence no plain INSERT).
fn insert_first_failure(
    conn: &mut DbConn,
    subject: &str,
    lock: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let row = (
        auth_failures::subject.eq(subject),
        auth_failures::failures.eq(1),
        auth_failures::locked_until.eq(lock),
        auth_failures::updated_at.eq(now),
    );
    Ok(match conn {
        DbConn::Postgresql(c) => diesel::insert_into(auth_failures::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => {
            diesel::insert_or_ignore_into(auth_failures::table).values(row).execute(c)?
        }
    })
}

pub fn clear_failures(conn: &mut DbConn, subject: &str) -> Result<(), AppError> {
    diesel::delete(auth_failures::table.find(subject)).execute(conn)?;
    Ok(())
}

/// Stores a refresh token of `family` for `user_id`; returns the token.
pub fn issue_refresh(
    conn: &mut DbConn,
    user_id: &str,
    family: &str,
    now: NaiveDateTime,
    ttl: Duration,
) -> Result<String, AppError> {
    let token = new_secret();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(uuid::Uuid::now_v7().to_string()),
            refresh_tokens::family_id.eq(family),
            refresh_tokens::token_hash.eq(hash_secret(&token)),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::issued_at.eq(now),
            refresh_tokens::expires_at.eq(now + ttl),
        ))
        .execute(conn)?;
    Ok(token)
}

/// What presenting a refresh token led to.
pub enum Rotation {
    /// Valid: it is now used; issue the next one in `family`.
    Rotated { user_id: String, family: String },
    /// Already used or revoked: the whole family is now revoked.
    Reused { user_id: String, family: String },
    /// Unknown or expired.
    Invalid,
}

/// Marks a refresh token used, atomically: of two concurrent uses exactly one rotates.
pub fn rotate(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<Rotation, AppError> {
    let hash = hash_secret(token);
    let row: Option<(String, String, NaiveDateTime)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(&hash))
        .select((refresh_tokens::user_id, refresh_tokens::family_id, refresh_tokens::expires_at))
        .first(conn)
        .optional()?;
    let Some((user_id, family, expires_at)) = row else { return Ok(Rotation::Invalid) };
    let won = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&hash))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    if won == 1 && expires_at > now {
        return Ok(Rotation::Rotated { user_id, family });
    }
    if won == 1 {
        return Ok(Rotation::Invalid);
    }
    // Already used: a replay. Already revoked (family killed before): nothing new to report.
    if revoke_family(conn, &family, now)? == 0 {
        return Ok(Rotation::Invalid);
    }
    Ok(Rotation::Reused { user_id, family })
}

pub fn revoke_family(
    conn: &mut DbConn,
    family: &str,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?)
}

/// The user and family of a refresh token, if it exists.
pub fn refresh_owner(conn: &mut DbConn, token: &str) -> Result<Option<(String, String)>, AppError> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_secret(token)))
        .select((refresh_tokens::user_id, refresh_tokens::family_id))
        .first(conn)
        .optional()?)
}

pub fn revoke_user_refresh_tokens(
    conn: &mut DbConn,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// Records an access token's `jti` as revoked; returns false if it already was.
pub fn revoke_access(
    conn: &mut DbConn,
    jti: &str,
    expires_at: NaiveDateTime,
) -> Result<bool, AppError> {
    let exists = revoked_access_tokens::table.find(jti).count().get_result::<i64>(conn)? > 0;
    if !exists {
        diesel::insert_into(revoked_access_tokens::table)
            .values((
                revoked_access_tokens::jti.eq(jti),
                revoked_access_tokens::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
    }
    Ok(!exists)
}

/// The role a token's subject holds now, or `None` if the subject is deactivated, deleted or
/// the token was revoked: checked on every request, so revocation takes effect at once.
pub fn live_role(
    conn: &mut DbConn,
    sub: &str,
    claimed_role: Role,
    jti: &str,
) -> Result<Option<Role>, AppError> {
    let revoked = revoked_access_tokens::table.find(jti).count().get_result::<i64>(conn)? > 0;
    if revoked {
        return Ok(None);
    }
    if claimed_role == Role::Agency {
        let active: Option<bool> = agency_clients::table
            .find(sub)
            .select(agency_clients::active)
            .first(conn)
            .optional()?;
        return Ok(active.filter(|a| *a).map(|_| Role::Agency));
    }
    active_user_role(conn, sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_doubles_and_caps() {
        assert_eq!(lock_duration(4), None);
        assert_eq!(lock_duration(5), Some(Duration::seconds(30)));
        assert_eq!(lock_duration(6), Some(Duration::seconds(60)));
        assert_eq!(lock_duration(9), Some(Duration::seconds(480)));
        assert_eq!(lock_duration(10), Some(Duration::seconds(900)));
        assert_eq!(lock_duration(1000), Some(Duration::seconds(900)));
    }
}
