//! The guard every request passes: it finds the matched route's rule in [`super::policy`],
//! authenticates the bearer token when the rule needs one (401), checks the role (403) and
//! puts the [`Principal`] in the request, then refuses query parameters the operation does
//! not document (400). Unmatched paths go on to the fallback (404/405).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};

use super::policy::{self, Access};
use super::{Principal, Role};
use crate::error::AppError;
use crate::http::fallback::RouteTable;
use crate::state::AppState;

pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    match authorize(&req).await {
        Ok(Some(principal)) => {
            req.extensions_mut().insert(principal);
        }
        Ok(None) => {}
        Err(e) => return Ok(req.into_response(e.error_response()).map_into_right_body()),
    }
    if let Err(e) = known_query(&req) {
        return Ok(req.into_response(e.error_response()).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

fn known_query(req: &ServiceRequest) -> Result<(), AppError> {
    let (Some(pattern), Some(table)) =
        (crate::http::route::of(req), req.app_data::<web::Data<RouteTable>>())
    else {
        return Ok(());
    };
    table.check_query(req.method().as_str(), &pattern, req.query_string())
}

async fn authorize(req: &ServiceRequest) -> Result<Option<Principal>, AppError> {
    if req.query_string().contains("%00") || req.path().contains("%00") || req.path().contains('\0')
    {
        return Err(AppError::bad_request("NUL characters are not allowed in paths or queries"));
    }
    let Some(pattern) = crate::http::route::of(req) else { return Ok(None) };
    // A known path under a method it does not have: the fallback answers 405 with Allow.
    let table = req.app_data::<web::Data<RouteTable>>();
    if let Some(methods) = table.and_then(|t| t.methods_of(&pattern)) {
        if !methods.iter().any(|m| m == req.method().as_str()) {
            return Ok(None);
        }
    }
    let access = policy::access(req.method(), &pattern);
    // Portal pages authenticate by their session cookie (`crate::portal::SignedIn`).
    if matches!(access, Access::Public | Access::Session(_)) {
        return Ok(None);
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("application state missing"))?;
    let principal = authenticate(req, state).await?;
    if !access.allows(principal.role) {
        return Err(AppError::forbidden(format!(
            "the {} role may not call {} {}",
            principal.role.as_str(),
            req.method(),
            pattern
        )));
    }
    Ok(Some(principal))
}

async fn authenticate(req: &ServiceRequest, state: &AppState) -> Result<Principal, AppError> {
    let raw = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            AppError::unauthorized("sign in first: send Authorization: Bearer <access token>")
        })?
        .to_str()
        .map_err(|_| AppError::unauthorized("the Authorization header is not readable"))?;
    let token = match raw.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(AppError::unauthorized("use the Bearer authorization scheme")),
    };
    let now = state.clock.now().timestamp();
    if let Some(principal) = state.tokens.get(token, now) {
        return Ok(principal);
    }
    // Read before the database is asked, so a clear that lands meanwhile wins (see cache).
    let generation = state.tokens.generation();
    let claims = state.keys.verify_access(token, now)?;
    let claimed = Role::parse(&claims.role)
        .ok_or_else(|| AppError::unauthorized("the access token names no known role"))?;
    let (sub, jti) = (claims.sub.clone(), claims.jti.clone());
    let role =
        state.db.read(move |conn| super::store::live_role(conn, &sub, claimed, &jti)).await?;
    let role = role.ok_or_else(|| {
        AppError::unauthorized("the access token has been revoked or its account deactivated")
    })?;
    let principal = Principal { id: claims.sub, role, jti: claims.jti };
    state.tokens.put(token, principal.clone(), claims.exp, generation);
    Ok(principal)
}
