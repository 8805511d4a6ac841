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

/// The single verifications, by the prefix of their one path parameter: a path that is a
/// prefix and then one non-empty segment matches that route (as actix's `{name}`, which is
/// `[^/]+`, would), without the walk through every route's pattern that finding it otherwise
/// takes. `tests::hot_routes_are_routes` holds these to the routes registered.
const HOT: [(&str, &str); 3] = [
    ("/api/v1/verify/licences/", "/api/v1/verify/licences/{licence_number}"),
    ("/api/v1/verify/numbers/", "/api/v1/verify/numbers/{e164}"),
    ("/api/v1/verify/ips/", "/api/v1/verify/ips/{ip}"),
];

thread_local! {
    /// The hot routes' templates, shared by every request of the thread.
    static HOT_TEMPLATES: [Rc<str>; 3] = HOT.map(|(_, template)| Rc::from(template));
}

fn hot_route(path: &str) -> Option<Rc<str>> {
    HOT.iter().zip(0..).find_map(|((prefix, _), i)| {
        let rest = path.strip_prefix(prefix)?;
        (!rest.is_empty() && !rest.contains('/')).then(|| HOT_TEMPLATES.with(|t| t[i].clone()))
    })
}

/// Finds the route once and keeps it in the request.
pub async fn tag(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let route = MatchedRoute(
        hot_route(req.match_info().as_str()).or_else(|| req.match_pattern().map(Rc::from)),
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each hot route is a route of the registry, and a path reaches it exactly when actix's
    /// own matching of the registered template would.
    #[test]
    fn hot_routes_are_routes() {
        let spec = crate::app::openapi_spec();
        for (prefix, template) in HOT {
            assert!(spec["paths"].get(template).is_some(), "{template} is not a route");
            let pattern = actix_web::dev::ResourceDef::new(template);
            for rest in ["CCL-2026-000001-16", "+925800001003", "%2B92", "a", "", "a/b", "a/", "/a"]
            {
                let path = format!("{prefix}{rest}");
                assert_eq!(
                    hot_route(&path).as_deref(),
                    pattern.is_match(&path).then_some(template),
                    "{path}"
                );
            }
        }
        assert_eq!(hot_route("/api/v1/verify/bulk"), None);
        assert_eq!(hot_route("/api/v1/verify/licences"), None);
    }
}
