//! `/api/v1/verify/*`, `/api/v1/public/licences/{n}` and `/api/v1/verification-log`.

use uuid::Uuid;

use actix_web::{get, http::header, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::log::{LogEntry, LogResult, LogRow, VerificationLog};
use super::{
    bulk_items, parse, Answer, Attestation, AttestationClaims, BulkAnswer, BulkError, BulkItemRead,
    BulkRequest, BulkResponse, Parsed, PublicAnswer, QueryType, VerifyResult,
};
use crate::auth::{Principal, Role};
use crate::error::AppError;
use crate::http::{Page, PageParams, Query, RawJson};
use crate::state::AppState;

/// Answers questions and logs them when an agency asked.
async fn ask(
    state: &AppState,
    log: &VerificationLog,
    who: &Principal,
    queries: Vec<(String, QueryType, Parsed)>,
) -> Result<Vec<Answer>, AppError> {
    let now = state.now();
    let answers = state.index.answer_all(&queries, now)?;
    if who.is(Role::Agency) {
        log.record(
            answers
                .iter()
                .map(|a| log_row(&who.id, Some(a.query_type), &a.query, a.result.into(), now)),
        )
        .await;
    }
    Ok(answers)
}

fn log_row(
    client: &str,
    t: Option<QueryType>,
    query: &str,
    result: LogResult,
    at: chrono::NaiveDateTime,
) -> LogRow {
    LogRow {
        id: uuid::Uuid::now_v7().to_string(),
        client_id: client.to_string(),
        query_type: t.into(),
        // PostgreSQL cannot store NUL, and a malformed item may hold one.
        query: query.chars().filter(|c| *c != '\0').take(200).collect(),
        result,
        at,
    }
}

async fn one(
    state: &AppState,
    log: &VerificationLog,
    who: &Principal,
    t: QueryType,
    value: &str,
) -> Result<web::Json<Answer>, AppError> {
    let parsed = parse(t, value).map_err(AppError::bad_request)?;
    let mut answers = ask(state, log, who, vec![(value.to_string(), t, parsed)]).await?;
    answers.pop().map(web::Json).ok_or_else(|| AppError::internal("no answer"))
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
) -> Result<web::Json<Answer>, AppError> {
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
) -> Result<web::Json<Answer>, AppError> {
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
) -> Result<web::Json<Answer>, AppError> {
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
) -> Result<web::Json<Answer>, AppError> {
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
    body: RawJson,
) -> Result<web::Json<BulkResponse>, AppError> {
    let items = bulk_items(body.0)?;
    let mut slots: Vec<Result<usize, BulkError>> = Vec::with_capacity(items.len());
    let mut queries = Vec::new();
    for item in items {
        match item {
            BulkItemRead::Question(value, t, parsed) => {
                slots.push(Ok(queries.len()));
                queries.push((value, t, parsed));
            }
            BulkItemRead::Malformed(e) => slots.push(Err(e)),
        }
    }
    let failed: Vec<LogRow> = slots
        .iter()
        .filter_map(|s| s.as_ref().err())
        .map(|e| log_row(&who.id, e.query_type, &e.query, LogResult::Error, state.now()))
        .collect();
    if who.is(Role::Agency) && !failed.is_empty() {
        log.record(failed).await;
    }
    let mut answers: Vec<Option<Answer>> =
        ask(&state, &log, &who, queries).await?.into_iter().map(Some).collect();
    let results = slots
        .into_iter()
        .map(|s| match s {
            Ok(i) => answers[i].take().map(BulkAnswer::Answer).unwrap_or_else(|| {
                BulkAnswer::Error(BulkError {
                    query: String::new(),
                    query_type: None,
                    error: AppError::internal("missing answer").problem(),
                })
            }),
            Err(e) => BulkAnswer::Error(e),
        })
        .collect();
    Ok(web::Json(BulkResponse { results }))
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
    let answer = one(&state, &log, &who, QueryType::Licence, &n).await?.into_inner();
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
