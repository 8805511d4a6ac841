//! Portal sessions, kept in the database (`portal_sessions`) so every process honours the same
//! ones: the cookie carries 256 random bits, the table only their SHA-256. A session ends when
//! it has been idle too long, 12 hours after it began, on sign-out, and when its user is
//! deactivated, changes role or changes password ([`end_all`], called in that change's
//! transaction). Times are the injected clock's, passed in as `now`.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::secrets::{hash_secret, new_secret};
use crate::auth::Role;
use crate::db::schema::{portal_sessions, users};
use crate::db::DbConn;

/// However active, a session ends this long after it began.
pub const ABSOLUTE_LIFETIME: Duration = Duration::hours(12);

/// A live session and the person it belongs to.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub role: Role,
    pub email: String,
    pub full_name: String,
    /// The token every form of this session carries (see `super::csrf`).
    pub csrf_token: String,
}

/// Starts a session for `user_id`; answers the cookie's value (shown once, never stored).
/// The user's sessions that have outlived [`ABSOLUTE_LIFETIME`] are cleared on the way.
pub fn start(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> QueryResult<String> {
    diesel::delete(
        portal_sessions::table
            .filter(portal_sessions::user_id.eq(user_id))
            .filter(portal_sessions::created_at.le(now - ABSOLUTE_LIFETIME)),
    )
    .execute(conn)?;
    let token = new_secret();
    diesel::insert_into(portal_sessions::table)
        .values((
            portal_sessions::token_hash.eq(hash_secret(&token)),
            portal_sessions::user_id.eq(user_id),
            portal_sessions::csrf_token.eq(new_secret()),
            portal_sessions::created_at.eq(now),
            portal_sessions::last_seen_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The live session whose cookie value is `token`, its use recorded at `now`; `None` (and the
/// row gone) once it has been idle for `idle` or lived [`ABSOLUTE_LIFETIME`], or when its
/// user is deactivated.
pub fn find(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
    idle: Duration,
) -> QueryResult<Option<Session>> {
    let hash = hash_secret(token);
    let row: Option<(NaiveDateTime, NaiveDateTime, bool, Session)> = portal_sessions::table
        .inner_join(users::table)
        .filter(portal_sessions::token_hash.eq(&hash))
        .select((
            portal_sessions::created_at,
            portal_sessions::last_seen_at,
            users::active,
            (users::id, users::role, users::email, users::full_name, portal_sessions::csrf_token),
        ))
        .first::<(NaiveDateTime, NaiveDateTime, bool, (String, Role, String, String, String))>(conn)
        .optional()?
        .map(|(created, seen, active, (user_id, role, email, full_name, csrf_token))| {
            (created, seen, active, Session { user_id, role, email, full_name, csrf_token })
        });
    let Some((created, seen, active, session)) = row else { return Ok(None) };
    let this = portal_sessions::table.filter(portal_sessions::token_hash.eq(&hash));
    if !active || now - seen >= idle || now - created >= ABSOLUTE_LIFETIME {
        diesel::delete(this).execute(conn)?;
        return Ok(None);
    }
    diesel::update(this).set(portal_sessions::last_seen_at.eq(now)).execute(conn)?;
    Ok(Some(session))
}

/// Ends the session whose cookie value is `token` (sign-out).
pub fn end(conn: &mut DbConn, token: &str) -> QueryResult<()> {
    diesel::delete(
        portal_sessions::table.filter(portal_sessions::token_hash.eq(hash_secret(token))),
    )
    .execute(conn)
    .map(|_| ())
}

/// Ends every session of `user_id`, everywhere at once.
pub fn end_all(conn: &mut DbConn, user_id: &str) -> QueryResult<()> {
    diesel::delete(portal_sessions::table.filter(portal_sessions::user_id.eq(user_id)))
        .execute(conn)
        .map(|_| ())
}
