//! Accounts made outside HTTP: the bootstrap admin at start, and `ccreg user create`. Both run
//! before or beside the server, never on an actix worker.

use super::{create_account, NewAccount, UserRow};
use crate::auth::passwords::Password;
use crate::auth::Role;
use crate::clock::{db_now, Clock};
use crate::config::BootstrapAdmin;
use crate::db::{write_tx, Db};
use crate::domain::{Email, Name};
use crate::error::AppError;

/// Creates the configured admin if no admin exists; returns whether it did.
pub fn bootstrap_admin(db: &Db, clock: &dyn Clock, admin: &BootstrapAdmin) -> anyhow::Result<bool> {
    let email = Email::parse(&admin.email, "CCREG_BOOTSTRAP_ADMIN_EMAIL").map_err(describe)?;
    let password =
        Password::parse(admin.password.expose().to_string(), "CCREG_BOOTSTRAP_ADMIN_PASSWORD")
            .map_err(describe)?;
    let mut conn = db.get().map_err(describe)?;
    if super::store::count_active_admins(&mut conn).map_err(describe)? > 0 {
        return Ok(false);
    }
    let password_hash = password.hash().map_err(describe)?;
    let full_name = Name::parse("Bootstrap administrator", "full_name").map_err(describe)?;
    let now = db_now(clock);
    let created = write_tx(&mut conn, |conn| {
        if super::store::count_active_admins(conn)? > 0 {
            return Ok(false);
        }
        let account = NewAccount { email, password_hash, full_name, role: Role::Admin };
        create_account(conn, now, None, account).map(|_| true)
    });
    match created {
        Ok(done) => Ok(done),
        // Another process created it first.
        Err(AppError::Conflict(_)) => Ok(false),
        Err(e) => Err(describe(e)),
    }
}

/// Creates a staff account from the command line.
pub fn create_user(
    db: &Db,
    clock: &dyn Clock,
    email: &str,
    role: &str,
    full_name: &str,
    password: String,
) -> anyhow::Result<UserRow> {
    let role = Role::parse(role)
        .filter(|r| r.is_staff())
        .ok_or_else(|| anyhow::anyhow!("--role must be one of admin, regulator, inspector"))?;
    let email = Email::parse(email, "--email").map_err(describe)?;
    let full_name = Name::parse(full_name, "--full-name").map_err(describe)?;
    let password = Password::parse(password, "password").map_err(describe)?;
    let password_hash = password.hash().map_err(describe)?;
    let mut conn = db.get().map_err(describe)?;
    let now = db_now(clock);
    write_tx(&mut conn, |conn| {
        create_account(conn, now, None, NewAccount { email, password_hash, full_name, role })
    })
    .map_err(describe)
}

fn describe(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.problem().detail)
}
