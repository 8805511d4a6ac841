//! The matched route's template (`/api/v1/verify/numbers/{e164}`), found once per request by
//! the outermost middleware: finding it walks the whole route map, and the request log, the
//! metrics and the guard each need it.

use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

/// `None` when no route matched the path.
#[derive(Debug, Clone)]
struct MatchedRoute(Option<Rc<str>>);

/// Finds the route once and keeps it in the request.
pub async fn tag(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let route = MatchedRoute(req.match_pattern().map(Rc::from));
    req.extensions_mut().insert(route);
    next.call(req).await
}

/// The route template matched by this request, if any.
pub fn of(req: &ServiceRequest) -> Option<Rc<str>> {
    match req.extensions().get::<MatchedRoute>() {
        Some(m) => m.0.clone(),
        None => req.match_pattern().map(Rc::from),
    }
}

/// Request spans named by the route template (never the concrete path, which may hold a
/// caller's phone number), reusing the route found by [`tag`], and carrying the request id, so
/// every log line of the request names it.
pub struct Spans;

impl RootSpanBuilder for Spans {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = of(request);
        let request_id = super::request_id::of(request);
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = %route.as_deref().unwrap_or("unmatched"),
            request_id = %request_id.as_deref().unwrap_or("-"),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
