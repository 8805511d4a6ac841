//! Accounts of people: operators who sign up, and staff (admin, regulator, inspector) whom an
//! admin creates. Passwords are hashed before the write transaction begins.

pub mod provision;
pub mod routes;
pub mod store;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::Principal;
use crate::db::versioned;
use crate::db::DbConn;
use crate::domain::record_id::UserId;
use crate::domain::role::{Role, StaffRole};
use crate::domain::{Email, Name};
use crate::error::AppError;
pub use store::UserRow;

/// A user account as the API shows it (never its password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            role: r.role,
            id: r.id,
            email: r.email,
            full_name: r.full_name,
            active: r.active,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A new account, its values already parsed and its password already hashed.
pub struct NewAccount {
    pub email: Email,
    pub password_hash: String,
    pub full_name: Name,
    pub role: Role,
}

/// Creates an account and its audit entry (call inside a write transaction). `actor` is the
/// admin creating it, or `None` when the account signs itself up or is bootstrapped.
#[tracing::instrument(skip_all, fields(actor = actor), err(level = "info"))]
pub fn create_account(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: Option<&str>,
    account: NewAccount,
) -> Result<UserRow, AppError> {
    if store::find_by_email(conn, account.email.as_str())?.is_some() {
        return Err(AppError::conflict(format!(
            "an account with the e-mail address {} already exists",
            account.email.as_str()
        )));
    }
    let row = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        email: account.email.as_str().to_string(),
        password_hash: account.password_hash,
        full_name: account.full_name.as_str().to_string(),
        role: account.role,
        active: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &row).map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            AppError::conflict(format!(
                "an account with the e-mail address {} already exists",
                row.email
            ))
        } else {
            e.into()
        }
    })?;
    let event = if actor.is_some() { UserEvent::Created(&row) } else { UserEvent::SignedUp(&row) };
    audit::record(conn, now, Some(actor.unwrap_or(&row.id)), &event)?;
    Ok(row)
}

/// Changes an admin may make to an account.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub full_name: Option<Name>,
    /// Staff accounts only: an operator's role cannot change.
    pub role: Option<StaffRole>,
    /// `false` deactivates the account: its tokens stop working at once.
    pub active: Option<bool>,
}

impl crate::http::BodyRules for UserPatch {}

/// Applies `patch` to the account after `check_version` accepts its current version (call
/// inside a write transaction).
#[tracing::instrument(skip_all, fields(actor = %who.id, user = %id), err)]
pub fn update_account(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    id: &UserId,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    patch: UserPatch,
) -> Result<UserRow, AppError> {
    let row = store::find(conn, id.as_str())?.ok_or_else(|| AppError::not_found("no such user"))?;
    check_version(row.version)?;
    let changed = check_patch(conn, &row, &patch)?;
    let patch_role_changed = patch.role.is_some();
    let changes = store::UserChanges {
        full_name: patch.full_name.map(Name::into_string),
        role: patch.role.map(Role::from),
        active: patch.active,
        version: row.version + 1,
        updated_at: now,
    };
    let event = UserEvent::Updated { id: &row.id, changed: &changed };
    let row = versioned::commit(
        conn,
        now,
        Some(&who.id),
        row.version,
        &event,
        |conn| store::update(conn, &row.id, &changes),
        |conn| store::find(conn, &row.id),
    )?;
    if !row.active {
        crate::auth::store::revoke_user_refresh_tokens(conn, &row.id, now)?;
    }
    if !row.active || patch_role_changed {
        crate::portal::session::end_all(conn, &row.id)?;
    }
    Ok(row)
}

/// Replaces the account's password (`password_hash` is already hashed): its portal sessions
/// end and its refresh tokens are revoked in the same transaction (call inside a write
/// transaction; the caller has checked the current password).
#[tracing::instrument(skip_all, fields(user = %id), err)]
pub fn change_password(
    conn: &mut DbConn,
    now: NaiveDateTime,
    id: &str,
    password_hash: String,
) -> Result<(), AppError> {
    let row = store::find(conn, id)?.ok_or_else(|| AppError::not_found("no such user"))?;
    let changes =
        store::PasswordChange { password_hash, version: row.version + 1, updated_at: now };
    versioned::commit(
        conn,
        now,
        Some(id),
        row.version,
        &UserEvent::PasswordChanged { id },
        |conn| store::change_password(conn, id, &changes),
        |conn| store::find(conn, id),
    )?;
    crate::portal::session::end_all(conn, id)?;
    crate::auth::store::revoke_user_refresh_tokens(conn, id, now)?;
    Ok(())
}

/// What `patch` changes in the account `row`, as the audit log names it, once it is allowed:
/// an operator's role stays, and the last active admin stays an active admin.
fn check_patch(
    conn: &mut DbConn,
    row: &UserRow,
    patch: &UserPatch,
) -> Result<Vec<String>, AppError> {
    let mut changed = Vec::new();
    if patch.full_name.is_some() {
        changed.push("full_name".to_string());
    }
    let role = patch.role.map(Role::from);
    if let Some(role) = role {
        if !row.role.is_staff() {
            return Err(AppError::invalid("role", "an operator account's role cannot be changed"));
        }
        changed.push(format!("role={role}"));
    }
    if let Some(active) = patch.active {
        changed.push(format!("active={active}"));
    }
    let was_active_admin = row.role == Role::Admin && row.active;
    let is_active_admin =
        role.unwrap_or(row.role) == Role::Admin && patch.active.unwrap_or(row.active);
    if was_active_admin && !is_active_admin && store::count_active_admins(conn)? <= 1 {
        return Err(AppError::conflict("this is the last active admin; appoint another first"));
    }
    Ok(changed)
}

/// An account's changes as the audit log records them.
enum UserEvent<'a> {
    /// Created by an admin.
    Created(&'a UserRow),
    /// Signed up by itself, or bootstrapped.
    SignedUp(&'a UserRow),
    Updated {
        id: &'a str,
        changed: &'a [String],
    },
    /// Its password changed by its holder (its sessions end).
    PasswordChanged {
        id: &'a str,
    },
}

impl audit::Event for UserEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Created(_) => "user.created",
            Self::SignedUp(_) => "user.signed_up",
            Self::Updated { .. } => "user.updated",
            Self::PasswordChanged { .. } => "user.password_changed",
        }
    }
    fn entity_type(&self) -> &'static str {
        "user"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Created(row) | Self::SignedUp(row) => &row.id,
            Self::Updated { id, .. } | Self::PasswordChanged { id } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Created(r) | Self::SignedUp(r) => {
                format!("{} account {} created", r.role, r.email)
            }
            Self::Updated { changed, .. } => format!("changed {}", changed.join(", ")),
            Self::PasswordChanged { .. } => "password changed by its holder; sessions ended".into(),
        }
    }
}
