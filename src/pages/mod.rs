//! The public register on the web (API.md §12): search, licence status pages, printable
//! certificates with a QR code, statistics. HTML for people, outside `/api/v1` and the
//! OpenAPI document; anonymous and rate limited with the public API's limiter.
//!
//! Every page answers with [`page`], which sets the security headers: a CSP that allows no
//! script and only this binary's stylesheet, `nosniff`, no referrer to other sites, no
//! framing, no caching. (`Referrer-Policy: same-origin`, not `no-referrer`: under
//! `no-referrer` browsers send `Origin: null` with the portal's own form posts, which the CSRF
//! check must refuse.)

mod lookup;
mod qr;
pub(crate) mod templates;

use std::sync::LazyLock;

use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpRequest, HttpResponse, HttpResponseBuilder};
use maud::Markup;

use crate::domain::LicenceNumber;
use crate::error::AppError;
use crate::http::public::PublicLimiter;
use crate::state::AppState;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLESHEET: &str = include_str!("register.css");

/// The stylesheet's URL, versioned by its content so it can be cached for a year.
static STYLESHEET_URL: LazyLock<String> = LazyLock::new(|| {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(STYLESHEET.as_bytes()));
    format!("/assets/register.css?v={}", &digest[..12])
});

pub(crate) fn css() -> &'static str {
    &STYLESHEET_URL
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(search).service(licence).service(certificate).service(stats).service(stylesheet);
}

pub(crate) fn secured(status: StatusCode) -> HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    res
}

pub(crate) fn page(status: StatusCode, body: Markup) -> HttpResponse {
    secured(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(body.into_string())
}

/// An error as a page in the register's style (the API answers problem+json instead).
fn error_page(e: AppError) -> HttpResponse {
    use actix_web::ResponseError;
    let status = e.status_code();
    let (title, detail) = match &e {
        AppError::BadRequest(d) => ("Not a licence number", d.clone()),
        AppError::NotFound(d) => ("Not on the register", d.clone()),
        AppError::TooManyRequests { .. } => (
            "Too many look-ups",
            "Too many look-ups came from your address. Wait a minute and try again.".into(),
        ),
        AppError::Unavailable(_) => (
            "The register is catching up",
            "The register cannot be read right now. Try again in a minute.".into(),
        ),
        other => {
            tracing::error!(error = %other, "register page failed");
            ("Something went wrong", "The page could not be made. Try again later.".into())
        }
    };
    let mut res = page(status, templates::error(css(), title, &detail));
    if let AppError::TooManyRequests { retry_after_secs, .. } = e {
        if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.max(1).to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    res
}

/// The page `f` makes, or its error as a page.
fn answer(result: Result<HttpResponse, AppError>) -> HttpResponse {
    result.unwrap_or_else(error_page)
}

/// The licence number of a path; a malformed one is 400.
fn licence_number(raw: &str) -> Result<LicenceNumber, AppError> {
    LicenceNumber::try_new(raw).map_err(AppError::bad_request)
}

/// The licence a public page asks about, once the caller is within the public rate.
async fn asked_licence(
    state: &AppState,
    limiter: &PublicLimiter,
    req: &HttpRequest,
    n: &str,
) -> Result<lookup::LicenceView, AppError> {
    limiter.check(req)?;
    let number = licence_number(n)?;
    licence_view(state, &number).await
}

async fn licence_view(
    state: &AppState,
    number: &LicenceNumber,
) -> Result<lookup::LicenceView, AppError> {
    lookup::licence(state, number).await?.ok_or_else(|| {
        AppError::not_found(format!("No licence {} is on the register.", number.as_str()))
    })
}

/// `GET /?q=`: the search form, and what the query finds (a licence number on the register
/// leads to its page).
#[get("/")]
async fn search(
    state: web::Data<AppState>,
    limiter: web::Data<PublicLimiter>,
    req: HttpRequest,
) -> HttpResponse {
    let q: String = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.trim().chars().take(200).collect())
        .unwrap_or_default();
    if q.is_empty() {
        return page(StatusCode::OK, templates::search(css(), "", None));
    }
    answer(
        async {
            limiter.check(&req)?;
            Ok(match lookup::search(&state, &q)? {
                lookup::Search::Licence(n) => secured(StatusCode::SEE_OTHER)
                    .insert_header((header::LOCATION, templates::licence_path(&n)))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish(),
                lookup::Search::Found(found) => {
                    page(StatusCode::OK, templates::search(css(), &q, Some(&found)))
                }
            })
        }
        .await,
    )
}

/// `GET /register/licences/{licence_number}`: the licence's public status page.
#[get("/register/licences/{licence_number}")]
async fn licence(
    state: web::Data<AppState>,
    limiter: web::Data<PublicLimiter>,
    req: HttpRequest,
    n: web::Path<String>,
) -> HttpResponse {
    answer(
        async {
            let view = asked_licence(&state, &limiter, &req, &n).await?;
            Ok(page(StatusCode::OK, templates::licence(css(), &view)))
        }
        .await,
    )
}

/// `GET /register/licences/{licence_number}/certificate`: one printable A4 page whose QR code
/// leads to the status page on `CCREG_PUBLIC_URL`.
#[get("/register/licences/{licence_number}/certificate")]
async fn certificate(
    state: web::Data<AppState>,
    limiter: web::Data<PublicLimiter>,
    req: HttpRequest,
    n: web::Path<String>,
) -> HttpResponse {
    answer(
        async {
            let view = asked_licence(&state, &limiter, &req, &n).await?;
            let url =
                format!("{}{}", state.settings.public_url, templates::licence_path(&view.number));
            let code = qr::encode(&url).map_err(AppError::internal)?;
            Ok(page(StatusCode::OK, templates::certificate(css(), &view, &url, &code)))
        }
        .await,
    )
}

/// `GET /register/stats`: the §11 statistics as a table and a bar chart.
#[get("/register/stats")]
async fn stats(
    state: web::Data<AppState>,
    limiter: web::Data<PublicLimiter>,
    req: HttpRequest,
) -> HttpResponse {
    answer(
        async {
            limiter.check(&req)?;
            let now = state.now();
            let figures = state.db.read(move |conn| crate::stats::compute(conn, now)).await?;
            Ok(page(StatusCode::OK, templates::stats(css(), &figures)))
        }
        .await,
    )
}

/// `GET /assets/register.css`: the pages' one stylesheet (its URL carries its hash).
#[get("/assets/register.css")]
async fn stylesheet() -> HttpResponse {
    secured(StatusCode::OK)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
}
