//! Sign-up, the OAuth 2.0 token endpoint, revocation (RFC 7009), `/me` and the JWKS.

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::signin::{self, SignedIn};
use super::{store, Principal, Role};
use crate::error::AppError;
use crate::http::body::{parse_form, parse_json, read_body};
use crate::keys::AccessClaims;
use crate::state::AppState;

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
    #[schema(title = "PasswordGrant")]
    Password {
        #[schema(example = "officer@pta.gov.pk", min_length = 1)]
        username: String,
        #[schema(min_length = 1)]
        password: String,
        scope: Option<String>,
    },
    /// An agency client signs in (or sends `client_id` and `client_secret` as HTTP Basic
    /// credentials instead, RFC 6749 §2.3.1).
    #[schema(title = "ClientCredentialsGrant")]
    ClientCredentials {
        #[schema(min_length = 1)]
        client_id: String,
        #[schema(min_length = 1)]
        client_secret: String,
        scope: Option<String>,
    },
    /// A refresh token is exchanged (and rotated).
    #[schema(title = "RefreshTokenGrant")]
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
///
/// The body is JSON as described, or `application/x-www-form-urlencoded` with the same fields
/// (as OAuth 2.0 clients send it). An agency client may send its `client_id` and
/// `client_secret` as HTTP Basic credentials (`Authorization: Basic`, RFC 6749 §2.3.1)
/// instead of in the body; the password and refresh grants ignore an `Authorization` header.
/// `scope` is accepted and ignored: the account's role decides what a token may do.
#[utoipa::path(
    tag = "auth",
    operation_id = "issue_token",
    request_body(
        content = TokenGrant,
        description = "JSON, or the same fields form-encoded",
    ),
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
    let (db, now) = (&state.db, state.now());
    let refresh_ttl = Duration::seconds(state.settings.refresh_token_ttl_secs);
    let signed_in = match body.grant_type.as_str() {
        "password" => {
            let username = required(body.username, "username")?;
            let password = required(body.password, "password")?;
            signin::password(db, now, refresh_ttl, username, password).await?
        }
        "client_credentials" => {
            let (client_id, secret) = match basic_credentials(&req)? {
                Some(basic) => one_client_authentication(basic, body.client_id, body.client_secret)?,
                None => (
                    required(body.client_id, "client_id")?,
                    required(body.client_secret, "client_secret")?,
                ),
            };
            signin::client_credentials(db, now, client_id, secret).await?
        }
        "refresh_token" => {
            let token = required(body.refresh_token, "refresh_token")?;
            signin::refresh(db, now, refresh_ttl, token).await?
        }
        other => {
            return Err(AppError::invalid(
                "grant_type",
                format!("unsupported grant_type {other:?}; use password, client_credentials or refresh_token"),
            ))
        }
    };
    let response = access_response(&state, signed_in)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(response))
}

/// The client credentials of an `Authorization: Basic` header: the id and the secret,
/// each form-urlencoded, joined by `:`, in base64 (RFC 6749 §2.3.1). Swagger UI sends an empty
/// id and secret (`Basic Og==`) when none was typed: that names no client.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, AppError> {
    use base64::Engine;
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let value =
        value.to_str().map_err(|_| invalid_client("the Authorization header is not readable"))?;
    let Some((scheme, encoded)) = value.trim().split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed =
        || invalid_client("the Basic credentials are not base64 of client_id:client_secret");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(malformed)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let (id, secret) =
        (form_decoded(id).ok_or_else(malformed)?, form_decoded(secret).ok_or_else(malformed)?);
    if id.is_empty() && secret.is_empty() {
        return Ok(None);
    }
    Ok(Some((id, secret)))
}

fn form_decoded(text: &str) -> Option<String> {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().ok().map(|s| s.into_owned())
}

fn invalid_client(detail: &str) -> AppError {
    AppError::Unauthorized { detail: detail.into(), oauth_error: Some("invalid_client") }
}

/// A client authenticates one way only (RFC 6749 §2.3): Basic credentials stand alone, though
/// a body that repeats the same `client_id` (as some OAuth libraries send it) is accepted.
fn one_client_authentication(
    (id, secret): (String, String),
    body_id: Option<String>,
    body_secret: Option<String>,
) -> Result<(String, String), AppError> {
    let body_id = body_id.filter(|v| !v.is_empty());
    let repeated = body_id.as_ref().is_none_or(|b| *b == id);
    if !repeated || body_secret.is_some_and(|s| !s.is_empty()) {
        return Err(AppError::bad_request(
            "send the client's credentials once: in the Authorization header or in the body (RFC 6749 §2.3)",
        ));
    }
    Ok((id, secret))
}

fn access_response(state: &AppState, signed_in: SignedIn) -> Result<TokenResponse, AppError> {
    let now = state.clock.now().timestamp();
    let ttl = state.settings.access_token_ttl_secs;
    let claims = AccessClaims {
        iss: state.keys.issuer.clone(),
        aud: state.keys.audience.clone(),
        sub: signed_in.subject,
        exp: now + ttl,
        nbf: now,
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        role: signed_in.role.as_str().to_string(),
    };
    Ok(TokenResponse {
        access_token: state.keys.sign(&claims)?,
        token_type: "Bearer".into(),
        expires_in: ttl,
        refresh_token: signed_in.refresh_token,
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
///
/// The body is JSON as described, or `application/x-www-form-urlencoded` with the same fields.
#[utoipa::path(
    tag = "auth",
    operation_id = "revoke_token",
    request_body(content = RevokeRequest, description = "JSON, or the same fields form-encoded"),
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
            signin::revoke_access(&state.db, now, claims.sub, claims.jti, expires).await?;
        }
    } else {
        signin::revoke_refresh(&state.db, now, token).await?;
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
    operation_id = "get_me",
    responses((status = 200, description = "The caller", body = Me)),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<Me>, AppError> {
    let (id, role) = (principal.id.clone(), principal.role);
    let (email, full_name) = state
        .db
        .read(move |conn| store::profile(conn, &id, role))
        .await?
        .ok_or_else(|| AppError::unauthorized("the account no longer exists"))?;
    let me = Me { id: principal.id, email, full_name, role: principal.role };
    Ok(web::Json(me))
}

/// The public keys that verify this registry's tokens and attestations.
#[utoipa::path(
    tag = "auth",
    operation_id = "get_jwks",
    responses((status = 200, description = "A JSON Web Key Set", body = Object))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.keys.jwks())
}
