//! Everything about sign-in that must hold across processes lives here, in the database:
//! lock-out counters, refresh-token families and revoked access tokens.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::{agency_clients, auth_failures, refresh_tokens, revoked_access_tokens};
use crate::db::DbConn;
use crate::error::AppError;

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

/// Seconds left on a lock of `subject`, if it is locked at `now`.
pub fn locked_for(
    conn: &mut DbConn,
    subject: &str,
    now: NaiveDateTime,
) -> Result<Option<i64>, AppError> {
    let until: Option<Option<NaiveDateTime>> = auth_failures::table
        .find(subject)
        .select(auth_failures::locked_until)
        .first(conn)
        .optional()?;
    Ok(until.flatten().filter(|u| *u > now).map(|u| {
        let ms = (u - now).num_milliseconds();
        (ms + 999) / 1000
    }))
}

/// Counts one more failure for `subject` and locks it when due (call in a write transaction).
pub fn record_failure(
    conn: &mut DbConn,
    subject: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let updated = diesel::update(auth_failures::table.find(subject))
        .set((
            auth_failures::failures.eq(auth_failures::failures + 1),
            auth_failures::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(auth_failures::table)
            .values((
                auth_failures::subject.eq(subject),
                auth_failures::failures.eq(1),
                auth_failures::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    let failures: i32 =
        auth_failures::table.find(subject).select(auth_failures::failures).first(conn)?;
    if let Some(lock) = lock_duration(failures) {
        diesel::update(auth_failures::table.find(subject))
            .set(auth_failures::locked_until.eq(Some(now + lock)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn clear_failures(conn: &mut DbConn, subject: &str) -> Result<(), AppError> {
    diesel::delete(auth_failures::table.find(subject)).execute(conn)?;
    Ok(())
}

/// A new opaque refresh token: 256 random bits, stored only as its SHA-256.
pub fn new_refresh_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Stores a refresh token of `family` for `user_id`; returns the token.
pub fn issue_refresh(
    conn: &mut DbConn,
    user_id: &str,
    family: &str,
    now: NaiveDateTime,
    ttl: Duration,
) -> Result<String, AppError> {
    let token = new_refresh_secret();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(uuid::Uuid::now_v7().to_string()),
            refresh_tokens::family_id.eq(family),
            refresh_tokens::token_hash.eq(token_hash(&token)),
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
    let hash = token_hash(token);
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
        .filter(refresh_tokens::token_hash.eq(token_hash(token)))
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
    claimed_role: &str,
    jti: &str,
) -> Result<Option<String>, AppError> {
    let revoked = revoked_access_tokens::table.find(jti).count().get_result::<i64>(conn)? > 0;
    if revoked {
        return Ok(None);
    }
    if claimed_role == "agency" {
        let active: Option<bool> = agency_clients::table
            .find(sub)
            .select(agency_clients::active)
            .first(conn)
            .optional()?;
        return Ok(active.filter(|a| *a).map(|_| "agency".to_string()));
    }
    crate::users::store::active_role(conn, sub)
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
