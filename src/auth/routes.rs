//! Sign-up, the OAuth 2.0 token endpoint, revocation (RFC 7009), `/me` and the JWKS.

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::keys::AccessClaims;
use super::passwords::{self, Password};
use super::store::{self, Rotation};
use super::{Principal, Role};
use crate::agency_clients;
use crate::audit::{self, Change};
use crate::domain::{Email, Name};
use crate::error::AppError;
use crate::http::body::{parse_form, parse_json, read_body};
use crate::http::idempotency;
use crate::http::{ApiJson, IdempotencyKey};
use crate::state::{blocking, AppState};
use crate::users::{self, NewAccount, User};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    pub email: Email,
    pub password: Password,
    pub full_name: Name,
}

/// Sign up as an operator (a call-centre company's representative).
#[utoipa::path(
    tag = "auth",
    request_body = Signup,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255)),
    responses(
        (status = 201, description = "The new operator account", body = User,
         headers(("ETag" = String, description = "The strong ETag"), ("Location" = String, description = "The new user"))),
        (status = 409, description = "An account with this e-mail address exists"),
    )
)]
#[post("/auth/signup")]
pub async fn signup(
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<Signup>,
) -> Result<HttpResponse, AppError> {
    let fingerprint = body.fingerprint.clone();
    let Signup { email, password, full_name } = body.into_inner();
    let password_hash = blocking(move || password.hash()).await?;
    let now = state.now();
    let account = NewAccount { email, password_hash, full_name, role: Role::Operator };
    idempotency::create(
        &state.db,
        state.clock.clone(),
        "anonymous POST /api/v1/auth/signup".into(),
        key,
        fingerprint,
        move |conn| Ok(users::routes::created(users::create_account(conn, now, None, account)?)),
    )
    .await
}

/// A token request (JSON or `application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// `password`, `client_credentials` or `refresh_token`.
    pub grant_type: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
    /// Accepted for OAuth clients that always send it; ignored.
    pub scope: Option<String>,
}

// The spec's shape of a token request; the handler parses `TokenRequest`, whose errors name
// the missing field precisely.
/// A token request: the fields each `grant_type` needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "grant_type", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code)]
pub enum TokenGrant {
    /// A person signs in with e-mail and password.
    Password {
        #[schema(example = "officer@pta.gov.pk", min_length = 1)]
        username: String,
        #[schema(min_length = 1)]
        password: String,
        scope: Option<String>,
    },
    /// An agency client signs in.
    ClientCredentials {
        #[schema(min_length = 1)]
        client_id: String,
        #[schema(min_length = 1)]
        client_secret: String,
        scope: Option<String>,
    },
    /// A refresh token is exchanged (and rotated).
    RefreshToken {
        #[schema(min_length = 1)]
        refresh_token: String,
        scope: Option<String>,
    },
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// For the password and refresh grants; it rotates on each use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Reads a JSON or form-encoded body into `T`.
async fn form_or_json<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<T, AppError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bytes = read_body(&mut payload).await?;
    if ct.starts_with("application/x-www-form-urlencoded") {
        return parse_form(&bytes).map(|j| j.into_inner());
    }
    if ct.starts_with("application/json") || ct.is_empty() {
        return parse_json(&bytes).map(|j| j.into_inner());
    }
    Err(AppError::UnsupportedMediaType(
        "send application/json or application/x-www-form-urlencoded".into(),
    ))
}

fn required(value: Option<String>, field: &str) -> Result<String, AppError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::invalid(field, "is required for this grant_type"))
}

/// Get an access token (OAuth 2.0 token endpoint).
///
/// Grants: `password` (people), `client_credentials` (agency clients) and `refresh_token`
/// (refresh tokens rotate on each use; presenting a used one revokes its whole family). After
/// 5 consecutive failures an account is locked: 429 with `Retry-After`, 30 s at first,
/// doubling with each further failure up to 15 minutes; a success resets it.
#[utoipa::path(
    tag = "auth",
    request_body(content(
        (TokenGrant = "application/json"),
        (TokenGrant = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse),
        (status = 401, description = "Bad credentials or refresh token"),
        (status = 429, description = "Too many failures for this account; see Retry-After",
         headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[post("/auth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body: TokenRequest = form_or_json(&req, payload).await?;
    let response = match body.grant_type.as_str() {
        "password" => {
            let username = required(body.username, "username")?;
            let password = required(body.password, "password")?;
            password_grant(&state, username, password).await?
        }
        "client_credentials" => {
            let client_id = required(body.client_id, "client_id")?;
            let secret = required(body.client_secret, "client_secret")?;
            client_grant(&state, client_id, secret).await?
        }
        "refresh_token" => refresh_grant(&state, required(body.refresh_token, "refresh_token")?).await?,
        other => {
            return Err(AppError::invalid(
                "grant_type",
                format!("unsupported grant_type {other:?}; use password, client_credentials or refresh_token"),
            ))
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(response))
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

async fn password_grant(
    state: &AppState,
    username: String,
    password: String,
) -> Result<TokenResponse, AppError> {
    let email = username.trim().to_lowercase();
    let subject = format!("user:{email}");
    let now = state.now();
    let (s, e) = (subject.clone(), email.clone());
    let (lock, user) = state
        .db
        .read(move |conn| {
            Ok((store::locked_for(conn, &s, now)?, users::store::find_by_email(conn, &e)?))
        })
        .await?;
    if let Some(secs) = lock {
        return Err(locked(secs));
    }
    let hash = user.as_ref().filter(|u| u.active).map(|u| u.password_hash.clone());
    let ok = blocking(move || Ok(passwords::verify(&password, hash.as_deref()))).await?;
    let (Some(user), true) = (user, ok) else {
        state.db.write(move |conn| store::record_failure(conn, &subject, now)).await?;
        return Err(bad_credentials());
    };
    let ttl = Duration::seconds(state.settings.refresh_token_ttl_secs);
    let user_id = user.id.clone();
    let refresh = state
        .db
        .write(move |conn| {
            store::clear_failures(conn, &subject)?;
            let family = uuid::Uuid::now_v7().to_string();
            store::issue_refresh(conn, &user_id, &family, now, ttl)
        })
        .await?;
    access_response(state, &user.id, &user.role, Some(refresh))
}

async fn client_grant(
    state: &AppState,
    client_id: String,
    secret: String,
) -> Result<TokenResponse, AppError> {
    let subject = format!("client:{client_id}");
    let now = state.now();
    let s = subject.clone();
    let (lock, client) = state
        .db
        .read(move |conn| {
            Ok((
                store::locked_for(conn, &s, now)?,
                agency_clients::store::find_by_client_id(conn, &client_id)?,
            ))
        })
        .await?;
    if let Some(secs) = lock {
        return Err(locked(secs));
    }
    let client = client.filter(|c| c.active);
    let ok =
        agency_clients::secret_matches(&secret, client.as_ref().map(|c| c.secret_hash.as_str()));
    let (Some(client), true) = (client, ok) else {
        state.db.write(move |conn| store::record_failure(conn, &subject, now)).await?;
        return Err(bad_credentials());
    };
    state.db.write(move |conn| store::clear_failures(conn, &subject)).await?;
    access_response(state, &client.id, "agency", None)
}

async fn refresh_grant(state: &AppState, token: String) -> Result<TokenResponse, AppError> {
    let now = state.now();
    let ttl = Duration::seconds(state.settings.refresh_token_ttl_secs);
    let outcome = state
        .db
        .write(move |conn| {
            Ok(match store::rotate(conn, &token, now)? {
                Rotation::Rotated { user_id, family } => {
                    match users::store::active_role(conn, &user_id)? {
                        Some(role) => {
                            let next = store::issue_refresh(conn, &user_id, &family, now, ttl)?;
                            Some((user_id, role, next))
                        }
                        None => None,
                    }
                }
                Rotation::Reused { user_id, family } => {
                    audit::append(
                        conn,
                        now,
                        Change {
                            actor_id: Some(&user_id),
                            action: "refresh_token.reuse_detected",
                            entity_type: "refresh_token_family",
                            entity_id: &family,
                            summary:
                                "a rotated refresh token was presented again; its family is revoked"
                                    .into(),
                        },
                    )?;
                    None
                }
                Rotation::Invalid => None,
            })
        })
        .await?;
    let Some((user_id, role, next)) = outcome else {
        return Err(AppError::invalid_grant("the refresh token is not valid"));
    };
    access_response(state, &user_id, &role, Some(next))
}

fn access_response(
    state: &AppState,
    sub: &str,
    role: &str,
    refresh_token: Option<String>,
) -> Result<TokenResponse, AppError> {
    let now = state.clock.now().timestamp();
    let ttl = state.settings.access_token_ttl_secs;
    let claims = AccessClaims {
        iss: state.keys.issuer.clone(),
        aud: state.keys.audience.clone(),
        sub: sub.to_string(),
        exp: now + ttl,
        nbf: now,
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        role: role.to_string(),
    };
    Ok(TokenResponse {
        access_token: state.keys.sign(&claims)?,
        token_type: "Bearer".into(),
        expires_in: ttl,
        refresh_token,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// An access token or a refresh token.
    pub token: String,
    /// `access_token` or `refresh_token`; a hint only.
    pub token_type_hint: Option<String>,
}

/// Revoke a token (RFC 7009).
///
/// An access token stops working at once; a refresh token is revoked with its whole family.
/// Answers 200 whether or not the token was known, as RFC 7009 says.
#[utoipa::path(
    tag = "auth",
    request_body(content(
        (RevokeRequest = "application/json"),
        (RevokeRequest = "application/x-www-form-urlencoded"),
    )),
    responses((status = 200, description = "Revoked, or was never valid"))
)]
#[post("/auth/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body: RevokeRequest = form_or_json(&req, payload).await?;
    let now = state.now();
    let token = body.token;
    if token.split('.').count() == 3 {
        if let Ok(claims) = state.keys.decode::<AccessClaims>(&token, &state.keys.audience) {
            let expires = chrono::DateTime::from_timestamp(claims.exp, 0)
                .map(|t| t.naive_utc())
                .unwrap_or(now);
            state
                .db
                .write(move |conn| {
                    if store::revoke_access(conn, &claims.jti, expires)? {
                        audit::append(
                            conn,
                            now,
                            Change {
                                actor_id: Some(&claims.sub),
                                action: "access_token.revoked",
                                entity_type: "access_token",
                                entity_id: &claims.jti,
                                summary: "access token revoked by its holder".into(),
                            },
                        )?;
                    }
                    Ok(())
                })
                .await?;
        }
    } else {
        state
            .db
            .write(move |conn| {
                if let Some((user_id, family)) = store::refresh_owner(conn, &token)? {
                    if store::revoke_family(conn, &family, now)? > 0 {
                        audit::append(
                            conn,
                            now,
                            Change {
                                actor_id: Some(&user_id),
                                action: "refresh_token.revoked",
                                entity_type: "refresh_token_family",
                                entity_id: &family,
                                summary: "refresh token family revoked by its holder".into(),
                            },
                        )?;
                    }
                }
                Ok(())
            })
            .await?;
    }
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).finish())
}

/// The signed-in caller.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub id: String,
    /// Null for agency clients.
    pub email: Option<String>,
    /// For agency clients, the client's name.
    pub full_name: String,
    pub role: Role,
}

/// Who am I?
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The caller", body = Me)),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<Me>, AppError> {
    let id = principal.id.clone();
    let me = if principal.is(Role::Agency) {
        let c = state
            .db
            .read(move |conn| agency_clients::store::find(conn, &id))
            .await?
            .ok_or_else(|| AppError::unauthorized("the client no longer exists"))?;
        Me { id: c.id, email: None, full_name: c.name, role: Role::Agency }
    } else {
        let u = state
            .db
            .read(move |conn| users::store::find(conn, &id))
            .await?
            .ok_or_else(|| AppError::unauthorized("the account no longer exists"))?;
        Me { id: u.id, email: Some(u.email), full_name: u.full_name, role: principal.role }
    };
    Ok(web::Json(me))
}

/// The public keys that verify this registry's tokens and attestations.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "A JSON Web Key Set", body = Object))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.keys.jwks())
}
