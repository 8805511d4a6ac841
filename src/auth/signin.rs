//! The sign-in rules: the three token grants, the lock-out and refresh-token reuse detection.
//! Routes parse the request and sign the access token; everything decided about credentials
//! is decided here, on top of [`super::store`].

use chrono::{Duration, NaiveDateTime};

use super::passwords;
use super::secrets::secret_matches;
use super::store::{self, Attempt, Rotation};
use super::Role;
use crate::audit;
use crate::db::{blocking, Db};
use crate::error::AppError;

/// Whom to issue an access token to, and the refresh token issued with it, if any.
#[derive(Debug)]
pub struct SignedIn {
    pub subject: String,
    pub role: Role,
    pub refresh_token: Option<String>,
}

fn bad_credentials() -> AppError {
    AppError::Unauthorized {
        detail: "the credentials are not valid".into(),
        oauth_error: Some("invalid_grant"),
    }
}

fn locked(secs: i64) -> AppError {
    AppError::TooManyRequests {
        detail: format!("too many failed sign-ins for this account; try again in {secs} s"),
        retry_after_secs: secs.max(1) as u64,
    }
}

/// The `password` grant: [`check_password`], then a new refresh-token family.
pub async fn password(
    db: &Db,
    now: NaiveDateTime,
    refresh_ttl: Duration,
    username: String,
    password: String,
) -> Result<SignedIn, AppError> {
    let (user_id, role) = check_password(db, now, username, password).await?;
    let id = user_id.clone();
    let refresh = db
        .write(move |conn| {
            let family = uuid::Uuid::now_v7().to_string();
            store::issue_refresh(conn, &id, &family, now, refresh_ttl)
        })
        .await?;
    Ok(SignedIn { subject: user_id, role, refresh_token: Some(refresh) })
}

/// Checks a person's e-mail address and password under the lock-out, for the token endpoint
/// and the portal's sign-in alike (one counter per account, whichever door a guess comes
/// through); answers the active user's id and role. The attempt is counted before the
/// password is checked, so parallel guesses cannot outrun the lock-out; an unknown account is
/// checked against a dummy hash and locked out the same way, so neither timing nor answers
/// tell which accounts exist.
pub async fn check_password(
    db: &Db,
    now: NaiveDateTime,
    username: String,
    password: String,
) -> Result<(String, Role), AppError> {
    let email = username.trim().to_lowercase();
    let subject = format!("user:{email}");
    let s = subject.clone();
    let (attempt, user) = db
        .write(move |conn| {
            Ok((store::claim_attempt(conn, &s, now)?, store::user_credentials(conn, &email)?))
        })
        .await?;
    if let Attempt::Locked(secs) = attempt {
        return Err(locked(secs));
    }
    let hash = user.as_ref().filter(|u| u.active).map(|u| u.password_hash.clone());
    let ok = blocking(move || Ok(passwords::verify(&password, hash.as_deref()))).await?;
    let (Some(user), true) = (user, ok) else { return Err(bad_credentials()) };
    db.write(move |conn| store::clear_failures(conn, &subject)).await?;
    Ok((user.id, user.role))
}

/// The `client_credentials` grant of agency clients, with the same lock-out.
pub async fn client_credentials(
    db: &Db,
    now: NaiveDateTime,
    client_id: String,
    secret: String,
) -> Result<SignedIn, AppError> {
    let subject = format!("client:{client_id}");
    let s = subject.clone();
    let (attempt, client) = db
        .write(move |conn| {
            Ok((store::claim_attempt(conn, &s, now)?, store::client_credentials(conn, &client_id)?))
        })
        .await?;
    if let Attempt::Locked(secs) = attempt {
        return Err(locked(secs));
    }
    let client = client.filter(|(_, active, _)| *active);
    let ok = secret_matches(&secret, client.as_ref().map(|(_, _, hash)| hash.as_str()));
    let (Some((id, _, _)), true) = (client, ok) else { return Err(bad_credentials()) };
    db.write(move |conn| store::clear_failures(conn, &subject)).await?;
    Ok(SignedIn { subject: id, role: Role::Agency, refresh_token: None })
}

/// The `refresh_token` grant: rotates the token; a token presented twice revokes its whole
/// family, and that is audited.
pub async fn refresh(
    db: &Db,
    now: NaiveDateTime,
    refresh_ttl: Duration,
    token: String,
) -> Result<SignedIn, AppError> {
    let outcome = db
        .write(move |conn| {
            Ok(match store::rotate(conn, &token, now)? {
                Rotation::Rotated { user_id, family } => {
                    match store::active_user_role(conn, &user_id)? {
                        Some(role) => {
                            let next =
                                store::issue_refresh(conn, &user_id, &family, now, refresh_ttl)?;
                            Some(SignedIn { subject: user_id, role, refresh_token: Some(next) })
                        }
                        None => None,
                    }
                }
                Rotation::Reused { user_id, family } => {
                    let event = TokenEvent::RefreshReused { family: &family };
                    audit::record(conn, now, Some(&user_id), &event)?;
                    None
                }
                Rotation::Invalid => None,
            })
        })
        .await?;
    outcome.ok_or_else(|| AppError::invalid_grant("the refresh token is not valid"))
}

/// Revokes an access token by its `jti` until it would have expired anyway (audited once).
pub async fn revoke_access(
    db: &Db,
    now: NaiveDateTime,
    subject: String,
    jti: String,
    expires_at: NaiveDateTime,
) -> Result<(), AppError> {
    db.write(move |conn| {
        if store::revoke_access(conn, &jti, expires_at)? {
            audit::record(conn, now, Some(&subject), &TokenEvent::AccessRevoked { jti: &jti })?;
        }
        Ok(())
    })
    .await
}

/// Revokes a refresh token's whole family (audited once; unknown tokens are ignored).
pub async fn revoke_refresh(db: &Db, now: NaiveDateTime, token: String) -> Result<(), AppError> {
    db.write(move |conn| {
        if let Some((user_id, family)) = store::refresh_owner(conn, &token)? {
            if store::revoke_family(conn, &family, now)? > 0 {
                let event = TokenEvent::RefreshRevoked { family: &family };
                audit::record(conn, now, Some(&user_id), &event)?;
            }
        }
        Ok(())
    })
    .await
}

/// What happens to tokens, as the audit log records it.
enum TokenEvent<'a> {
    RefreshReused { family: &'a str },
    AccessRevoked { jti: &'a str },
    RefreshRevoked { family: &'a str },
}

impl audit::Event for TokenEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::RefreshReused { .. } => "refresh_token.reuse_detected",
            Self::AccessRevoked { .. } => "access_token.revoked",
            Self::RefreshRevoked { .. } => "refresh_token.revoked",
        }
    }
    fn entity_type(&self) -> &'static str {
        match self {
            Self::AccessRevoked { .. } => "access_token",
            Self::RefreshReused { .. } | Self::RefreshRevoked { .. } => "refresh_token_family",
        }
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::AccessRevoked { jti } => jti,
            Self::RefreshReused { family } | Self::RefreshRevoked { family } => family,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::RefreshReused { .. } => {
                "a rotated refresh token was presented again; its family is revoked".into()
            }
            Self::AccessRevoked { .. } => "access token revoked by its holder".into(),
            Self::RefreshRevoked { .. } => "refresh token family revoked by its holder".into(),
        }
    }
}
