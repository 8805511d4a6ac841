//! `X-Request-Id`: the id that ties a response to the log lines of its request. A caller's id
//! is kept when it is sane (1 to 128 of `A-Z a-z 0-9 - _ . : + / = @`), so a proxy's or a
//! client's id follows the request through; otherwise, or when there is none, ccreg makes one
//! (a UUID). Every response carries it, errors and 404s included, and the request's span and
//! its access-log line name it.

use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest caller-supplied id kept.
const MAX_LEN: usize = 128;

#[derive(Debug, Clone)]
struct RequestId(Rc<str>);

/// Whether a caller's id may be kept as it is: short, and nothing a log line or a header
/// would have to escape.
pub fn is_sane(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=@".contains(&b))
}

/// The caller's id if sane, else a new one.
fn choose(req: &ServiceRequest) -> Rc<str> {
    match req.headers().get(&HEADER).and_then(|v| v.to_str().ok()) {
        Some(id) if is_sane(id) => Rc::from(id),
        _ => Rc::from(uuid::Uuid::new_v4().to_string()),
    }
}

/// Gives the request its id (before the span is made, so the span names it) and puts it on
/// the response, whatever the inner services answered.
pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = choose(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let value = HeaderValue::from_str(&id).ok();
    match next.call(req).await {
        Ok(mut res) => {
            if let Some(value) = value {
                res.headers_mut().insert(HEADER, value);
            }
            Ok(res)
        }
        // An error becomes its response only after the middleware: make that response here,
        // with the header, and pass it on as the error's response.
        Err(e) => {
            let mut res = e.error_response();
            if let Some(value) = value {
                res.headers_mut().insert(HEADER, value);
            }
            Err(InternalError::from_response(e, res).into())
        }
    }
}

/// The request's id (`None` only outside [`assign`], as in unit tests).
pub fn of(req: &ServiceRequest) -> Option<Rc<str>> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_kept() {
        for ok in ["abc-123", "4bf92f3577b34da6a3ce929d0e0e4736", "Root=1-5759e988:a/b+c_d.e@f"] {
            assert!(is_sane(ok), "{ok}");
        }
        let long = "a".repeat(MAX_LEN + 1);
        for bad in ["", "a b", "x\ny", "<script>", "id;drop", "é", "a\u{1b}[31m", long.as_str()] {
            assert!(!is_sane(bad), "{bad:?}");
        }
        assert!(is_sane(&"a".repeat(MAX_LEN)));
    }

    /// A middleware's error becomes the response only after every middleware has run; it
    /// carries the id all the same.
    #[actix_web::test]
    async fn an_error_from_inside_carries_the_id_too() {
        use actix_web::middleware::from_fn;
        use actix_web::{test, web, App, HttpResponse};
        async fn refuse(
            _: ServiceRequest,
            _: Next<impl MessageBody>,
        ) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
            Err::<ServiceResponse, _>(actix_web::error::ErrorForbidden("no"))
        }
        let app = test::init_service(
            App::new()
                .route("/", web::get().to(HttpResponse::Ok))
                .wrap(from_fn(refuse))
                .wrap(from_fn(assign)),
        )
        .await;
        let req = test::TestRequest::get().uri("/").insert_header((HEADER, "abc-123")).to_request();
        let err = test::try_call_service(&app, req).await.err().expect("an error");
        let res = err.error_response();
        assert_eq!(res.status(), 403);
        assert_eq!(res.headers().get(HEADER).unwrap(), "abc-123");
    }
}
