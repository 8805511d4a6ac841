//! `/api/v1/verify/*`, `/api/v1/public/licences/{n}` and `/api/v1/verification-log`.

use uuid::Uuid;

use actix_web::{get, http::header, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::log::{LogEntry, LogResult, LogRow, VerificationLog};
use super::{
    bulk_items, parse, Answer, AnswerView, Attestation, AttestationClaims, BulkItemRead,
    BulkRequest, BulkResponse, PublicAnswer, QueryType, VerifyResult,
};
use crate::auth::{Principal, Role};
use crate::error::AppError;
use crate::http::{JsonBytes, Page, PageParams, Query};
use crate::state::AppState;

fn log_row(
    client: &str,
    t: Option<QueryType>,
    query: &str,
    result: LogResult,
    at: chrono::NaiveDateTime,
) -> LogRow {
    // PostgreSQL cannot store NUL, and a malformed item may hold one; 200 characters at most.
    let query = if query.len() <= 200 && !query.contains('\0') {
        query.to_string()
    } else {
        query.chars().filter(|c| *c != '\0').take(200).collect()
    };
    LogRow {
        id: uuid::Uuid::now_v7()
            .hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer())
            .to_string(),
        client_id: client.to_string(),
        query_type: t.into(),
        query,
        result,
        at,
    }
}

/// Asks one question and logs it when an agency asked. `take` makes what the route needs of
/// the answer while it still borrows its text from the index (nothing is copied for it).
async fn ask_one<T>(
    state: &AppState,
    log: &VerificationLog,
    who: &Principal,
    t: QueryType,
    value: &str,
    take: impl FnOnce(&AnswerView<'_>) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let parsed = parse(t, value).map_err(AppError::bad_request)?;
    let now = state.now();
    let (taken, result) = {
        let registry = state.index.current()?;
        let answer = registry.view(value, t, &parsed, now);
        (take(&answer)?, answer.result)
    };
    if who.is(Role::Agency) {
        log.record([log_row(&who.id, Some(t), value, result.into(), now)]).await;
    }
    Ok(taken)
}

/// One question's answer as the response, written straight from the index.
async fn one(
    state: &AppState,
    log: &VerificationLog,
    who: &Principal,
    t: QueryType,
    value: &str,
) -> Result<HttpResponse, AppError> {
    let body = ask_one(state, log, who, t, value, |answer| {
        let mut body = Vec::with_capacity(512);
        serde_json::to_writer(&mut body, answer)
            .map_err(|e| AppError::internal(format!("writing an answer: {e}")))?;
        Ok(body)
    })
    .await?;
    Ok(HttpResponse::Ok().content_type("application/json").body(body))
}

/// Is this licence valid? A malformed number or bad check digits is 400.
#[utoipa::path(
    tag = "verify",
    params(("licence_number" = String, Path, description = "CCL-YYYY-NNNNNN-CC")),
    responses(
        (status = 200, description = "The answer", body = Answer),
        (status = 503, description = "The verification index cannot be brought up to date (it answers again when it can)"),
    ),
    security(("bearer" = []))
)]
#[get("/verify/licences/{licence_number}")]
pub async fn verify_licence(
    state: web::Data<AppState>,
    log: web::Data<VerificationLog>,
    who: Principal,
    n: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    one(&state, &log, &who, QueryType::Licence, &n).await
}

/// Does this number belong to a licensed operator? Matches single numbers and ranges.
#[utoipa::path(
    tag = "verify",
    params(("e164" = String, Path, description = "E.164, e.g. +922134567890")),
    responses(
        (status = 200, description = "The answer", body = Answer),
        (status = 503, description = "The verification index cannot be brought up to date (it answers again when it can)"),
    ),
    security(("bearer" = []))
)]
#[get("/verify/numbers/{e164}")]
pub async fn verify_number(
    state: web::Data<AppState>,
    log: web::Data<VerificationLog>,
    who: Principal,
    n: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    one(&state, &log, &who, QueryType::Number, &n).await
}

/// Does this IP address belong to a licensed operator? Matches IPv4 and IPv6 CIDR ranges.
#[utoipa::path(
    tag = "verify",
    params(("ip" = String, Path, description = "An IPv4 or IPv6 address")),
    responses(
        (status = 200, description = "The answer", body = Answer),
        (status = 503, description = "The verification index cannot be brought up to date (it answers again when it can)"),
    ),
    security(("bearer" = []))
)]
#[get("/verify/ips/{ip}")]
pub async fn verify_ip(
    state: web::Data<AppState>,
    log: web::Data<VerificationLog>,
    who: Principal,
    ip: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    one(&state, &log, &who, QueryType::Ip, &ip).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganisationQuery {
    pub registration_number: Option<String>,
    pub tax_number: Option<String>,
}

/// Is this company licensed? Give exactly one of `registration_number` or `tax_number`.
#[utoipa::path(
    tag = "verify",
    params(OrganisationQuery),
    responses(
        (status = 200, description = "The answer", body = Answer),
        (status = 503, description = "The verification index cannot be brought up to date (it answers again when it can)"),
    ),
    security(("bearer" = []))
)]
#[get("/verify/organisations")]
pub async fn verify_organisation(
    state: web::Data<AppState>,
    log: web::Data<VerificationLog>,
    who: Principal,
    q: Query<OrganisationQuery>,
) -> Result<HttpResponse, AppError> {
    match (q.registration_number.as_deref(), q.tax_number.as_deref()) {
        (Some(r), None) => one(&state, &log, &who, QueryType::RegistrationNumber, r).await,
        (None, Some(t)) => one(&state, &log, &who, QueryType::TaxNumber, t).await,
        _ => Err(AppError::bad_request("give exactly one of registration_number or tax_number")),
    }
}

/// Up to 10,000 questions of any type, answered in order; a malformed item gets its own
/// problem in place. Answered with a fixed number of queries.
#[utoipa::path(
    tag = "verify",
    request_body = BulkRequest,
    responses(
        (status = 200, description = "The answers, in request order", body = BulkResponse),
        (status = 503, description = "The verification index cannot be brought up to date (it answers again when it can)"),
    ),
    security(("bearer" = []))
)]
#[post("/verify/bulk")]
pub async fn verify_bulk(
    state: web::Data<AppState>,
    log: web::Data<VerificationLog>,
    who: Principal,
    body: JsonBytes,
) -> Result<HttpResponse, AppError> {
    let items = bulk_items(&body.0)?;
    let now = state.now();
    let agency = who.is(Role::Agency);
    let mut logged = Vec::with_capacity(if agency { items.len() } else { 0 });
    // Each answer is written out as it is made and dropped: a 10,000-item request never holds
    // its 10,000 answers at once, only their text (sized up front, so it is not copied as it
    // grows). All are answered under one read of the index: one moment's registry.
    let mut out = Vec::with_capacity(16 + items.len() * 360);
    out.extend_from_slice(b"{\"results\":[");
    {
        let registry = state.index.current()?;
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let written = match item {
                BulkItemRead::Question(value, t, parsed) => {
                    let answer = registry.answer(&value, t, &parsed, now);
                    if agency {
                        logged.push(log_row(&who.id, Some(t), &value, answer.result.into(), now));
                    }
                    serde_json::to_writer(&mut out, &answer)
                }
                BulkItemRead::Malformed(e) => {
                    if agency {
                        logged.push(log_row(
                            &who.id,
                            e.query_type,
                            &e.query,
                            LogResult::Error,
                            now,
                        ));
                    }
                    serde_json::to_writer(&mut out, &e)
                }
            };
            written.map_err(|e| AppError::internal(format!("writing a bulk answer: {e}")))?;
        }
    }
    out.extend_from_slice(b"]}");
    crate::heap::trim();
    if agency {
        log.record(logged).await;
    }
    Ok(HttpResponse::Ok().content_type("application/json").body(out))
}

/// Signed proof of what the registry says of a licence now: a compact JWS (EdDSA) whose claims
/// are `iss`, `sub` (the licence number), `result`, `status`, `holder`, `expires_at`, `iat`,
/// `exp` (24 hours on) and `jti`. Verify it with the key in /.well-known/jwks.json.
#[utoipa::path(
    operation_id = "attest_licence",
    tag = "verify",
    params(("licence_number" = String, Path, description = "CCL-YYYY-NNNNNN-CC")),
    responses(
        (status = 200, description = "The attestation", body = Attestation),
        (status = 503, description = "The verification index cannot be brought up to date (it answers again when it can)"),
    ),
    security(("bearer" = []))
)]
#[get("/verify/licences/{licence_number}/attestation")]
pub async fn attest(
    state: web::Data<AppState>,
    log: web::Data<VerificationLog>,
    who: Principal,
    n: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let answer = ask_one(&state, &log, &who, QueryType::Licence, &n, |a| Ok(a.to_owned())).await?;
    let iat = state.clock.now().timestamp();
    let claims = AttestationClaims {
        iss: state.keys.issuer.clone(),
        sub: answer.licence_number.clone().unwrap_or(answer.query.trim().to_ascii_uppercase()),
        result: answer.result,
        status: answer.status,
        holder: answer.holder,
        expires_at: answer.expires_at.map(|t| t.timestamp()),
        iat,
        exp: iat + 24 * 3600,
        jti: uuid::Uuid::new_v4().to_string(),
    };
    let token = state.keys.sign(&claims)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Attestation { token }))
}

/// Anyone may check a licence: only `result`, `status`, `holder` and `expires_at`. Rate
/// limited per client address (429 with Retry-After); CORS for any origin; `RateLimit-*`
/// headers on every answer.
#[utoipa::path(
    tag = "verify",
    params(("licence_number" = String, Path, description = "CCL-YYYY-NNNNNN-CC")),
    responses(
        (status = 200, description = "The answer", body = PublicAnswer),
        (status = 429, description = "Too many look-ups from this address", headers(("Retry-After" = String, description = "Seconds to wait"))),
        (status = 503, description = "The verification index cannot be brought up to date (it answers again when it can)"),
    )
)]
#[get("/public/licences/{licence_number}")]
pub async fn public_licence(
    state: web::Data<AppState>,
    n: web::Path<String>,
) -> Result<web::Json<PublicAnswer>, AppError> {
    let parsed = parse(QueryType::Licence, &n).map_err(AppError::bad_request)?;
    let now = state.now();
    let queries = vec![(n.into_inner(), QueryType::Licence, parsed)];
    let a = state
        .index
        .answer_all(&queries, now)?
        .pop()
        .ok_or_else(|| AppError::internal("no answer"))?;
    Ok(web::Json(PublicAnswer {
        result: a.result,
        status: a.status,
        holder: a.holder,
        expires_at: a.expires_at,
    }))
}

/// What the public may see of a telephone number's holder.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicNumberAnswer {
    /// The number as sent.
    pub query: String,
    pub result: VerifyResult,
    pub checked_at: chrono::DateTime<chrono::Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_number: Option<String>,
    /// The holding organisation's legal name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::licences::LicenceStatus>,
}

/// "Is the number that called me a licensed call centre?" Anyone may ask, in E.164 or the
/// Pakistani national form (`021 3456 7890`): `result`, and for a known number the licence,
/// its holder and status (no site, no registration number). Rate limited per client address.
#[utoipa::path(
    tag = "verify",
    params(("number" = String, Path, description = "E.164 (+922134567890) or Pakistani national form (021 34567890)")),
    responses(
        (status = 200, description = "The answer", body = PublicNumberAnswer),
        (status = 429, description = "Too many look-ups from this address", headers(("Retry-After" = String, description = "Seconds to wait"))),
        (status = 503, description = "The verification index cannot be brought up to date (it answers again when it can)"),
    )
)]
#[get("/public/numbers/{number}")]
pub async fn public_number(
    state: web::Data<AppState>,
    n: web::Path<String>,
) -> Result<web::Json<PublicNumberAnswer>, AppError> {
    let parsed = parse(QueryType::Number, &n).map_err(AppError::bad_request)?;
    let now = state.now();
    let queries = vec![(n.into_inner(), QueryType::Number, parsed)];
    let a = state
        .index
        .answer_all(&queries, now)?
        .pop()
        .ok_or_else(|| AppError::internal("no answer"))?;
    Ok(web::Json(PublicNumberAnswer {
        query: a.query,
        result: a.result,
        checked_at: a.checked_at,
        licence_number: a.licence_number,
        holder: a.holder,
        status: a.status,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogFilter {
    pub client_id: Option<Uuid>,
    #[param(inline)]
    pub result: Option<LogResult>,
}

/// Agencies' verifications: client, query, result and time.
#[utoipa::path(
    operation_id = "list_verification_log",
    tag = "verify",
    params(PageParams, LogFilter),
    responses((status = 200, description = "A page of entries, oldest first", body = Page<LogEntry>)),
    security(("bearer" = []))
)]
#[get("/verification-log")]
pub async fn verification_log(
    state: web::Data<AppState>,
    log: web::Data<VerificationLog>,
    page: Query<PageParams>,
    filter: Query<LogFilter>,
) -> Result<web::Json<Page<LogEntry>>, AppError> {
    let (limit, after) = (page.limit()?, page.after()?);
    log.flush().await;
    let f = filter.into_inner();
    let (client, result) = (f.client_id.map(|id| id.to_string()), f.result);
    let rows =
        state.db.read(move |conn| super::log::list(conn, client, result, after, limit + 1)).await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), LogEntry::from)))
}
