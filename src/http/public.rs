//! The anonymous API's conventions (API.md §12): one rate limit per client address shared by
//! the public API and the register's pages, `RateLimit-*` headers on every answer,
//! `Cache-Control: no-store`, CORS for GET from any origin (no credentials), and the client
//! address taken from `X-Forwarded-For` only when the peer is a trusted proxy.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use ipnet::IpNet;

use crate::error::AppError;

/// Where every anonymous route lives.
pub const PREFIX: &str = "/api/v1/public/";

type Limiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// What the client has left, as the `RateLimit-*` headers say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the full limit is available again.
    pub reset_secs: u64,
}

impl Allowance {
    pub fn headers(&self) -> [(HeaderName, HeaderValue); 3] {
        [
            (HeaderName::from_static("ratelimit-limit"), HeaderValue::from(self.limit)),
            (HeaderName::from_static("ratelimit-remaining"), HeaderValue::from(self.remaining)),
            (HeaderName::from_static("ratelimit-reset"), HeaderValue::from(self.reset_secs)),
        ]
    }
}

/// A refusal: the problem to answer and what the client has left (nothing).
#[derive(Debug)]
pub struct Limited {
    pub error: AppError,
    pub allowance: Allowance,
}

impl From<Limited> for AppError {
    fn from(l: Limited) -> Self {
        l.error
    }
}

/// Per-address limiter of the anonymous routes and pages (per process; see the README).
pub struct PublicLimiter {
    limiter: Limiter,
    per_minute: u32,
    trusted: Vec<IpNet>,
}

impl PublicLimiter {
    pub fn new(per_minute: u32, trusted_proxies: Vec<IpNet>) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        PublicLimiter {
            limiter: RateLimiter::keyed(Quota::per_minute(n))
                .with_middleware::<StateInformationMiddleware>(),
            per_minute: n.get(),
            trusted: trusted_proxies,
        }
    }

    /// Seconds to regain `missing` look-ups.
    fn seconds_for(&self, missing: u32) -> u64 {
        (u64::from(missing) * 60).div_ceil(u64::from(self.per_minute))
    }

    /// Counts one look-up by the request's client.
    pub fn check(&self, req: &HttpRequest) -> Result<Allowance, Limited> {
        self.check_addr(client_addr(req, &self.trusted))
    }

    pub fn check_addr(&self, addr: IpAddr) -> Result<Allowance, Limited> {
        match self.limiter.check_key(&addr) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity().min(self.per_minute);
                Ok(Allowance {
                    limit: self.per_minute,
                    remaining,
                    reset_secs: self.seconds_for(self.per_minute - remaining),
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let retry = wait.as_secs_f64().ceil().max(1.0) as u64;
                Err(Limited {
                    error: AppError::TooManyRequests {
                        detail: "too many public look-ups from this address; slow down".into(),
                        retry_after_secs: retry,
                    },
                    allowance: Allowance {
                        limit: self.per_minute,
                        remaining: 0,
                        reset_secs: self.seconds_for(self.per_minute),
                    },
                })
            }
        }
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the last
/// address in `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the
/// address it received from, so only the right-hand end of the list is vouched for).
pub fn client_addr(req: &HttpRequest, trusted: &[IpNet]) -> IpAddr {
    let peer = req.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut chain: Vec<IpAddr> = Vec::new();
    for value in req.headers().get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else { return peer };
        for part in text.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => chain.push(ip),
                // A list we cannot read vouches for nothing: count the proxy itself.
                Err(_) => return peer,
            }
        }
    }
    chain.iter().rev().find(|ip| !is_trusted(ip)).or(chain.first()).copied().unwrap_or(peer)
}

/// Middleware for everything under [`PREFIX`]: answers CORS preflights, counts the request
/// against the client's limit (429 with `Retry-After` when spent), and adds the headers.
pub async fn conventions(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !req.path().starts_with(PREFIX) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let is_get = matches!(*req.method(), Method::GET | Method::HEAD);
    if req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let res = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET"))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .finish();
        return Ok(req.into_response(res).map_into_right_body());
    }
    let limiter = req.app_data::<web::Data<PublicLimiter>>().cloned();
    let allowance = match limiter.map(|l| l.check(req.request())) {
        Some(Ok(a)) => Some(a),
        Some(Err(limited)) => {
            let mut res = limited.error.error_response();
            decorate(&mut res, Some(limited.allowance), is_get);
            return Ok(req.into_response(res).map_into_right_body());
        }
        None => None,
    };
    let mut res = next.call(req).await?;
    decorate(res.response_mut(), allowance, is_get);
    Ok(res.map_into_left_body())
}

fn decorate<B>(res: &mut HttpResponse<B>, allowance: Option<Allowance>, cors: bool) {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(a) = allowance {
        for (name, value) in a.headers() {
            h.insert(name, value);
        }
    }
    if cors {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(
                "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After",
            ),
        );
    }
}

/// Parses `CCREG_TRUSTED_PROXIES`: comma-separated CIDRs or single addresses.
pub fn parse_trusted(raw: &str) -> Result<Vec<IpNet>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("CCREG_TRUSTED_PROXIES: {s:?} is not an address or CIDR"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(peer: &str, xff: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().peer_addr(format!("{peer}:4000").parse().unwrap());
        if let Some(x) = xff {
            r = r.insert_header(("x-forwarded-for", x));
        }
        r.to_http_request()
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let trusted = parse_trusted("10.0.0.0/8, 192.168.1.1").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Untrusted peer: its own address, whatever it claims.
        assert_eq!(client_addr(&req("203.0.113.9", Some("1.2.3.4")), &trusted), ip("203.0.113.9"));
        // Trusted proxy: the last untrusted hop.
        assert_eq!(
            client_addr(&req("10.1.2.3", Some("1.2.3.4, 198.51.100.7, 10.9.9.9")), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_addr(&req("192.168.1.1", Some("198.51.100.8")), &trusted),
            ip("198.51.100.8")
        );
        // No header, or an unreadable one: the proxy itself.
        assert_eq!(client_addr(&req("10.1.2.3", None), &trusted), ip("10.1.2.3"));
        assert_eq!(client_addr(&req("10.1.2.3", Some("nonsense")), &trusted), ip("10.1.2.3"));
        assert!(parse_trusted("10.0.0.0/8, banana").is_err());
    }

    #[test]
    fn the_allowance_counts_down_and_refuses_when_spent() {
        let l = PublicLimiter::new(3, Vec::new());
        let addr: IpAddr = "198.51.100.1".parse().unwrap();
        let a = l.check_addr(addr).unwrap();
        assert_eq!((a.limit, a.remaining), (3, 2));
        assert_eq!(l.check_addr(addr).unwrap().remaining, 1);
        assert_eq!(l.check_addr(addr).unwrap().remaining, 0);
        let refused = l.check_addr(addr).unwrap_err();
        assert_eq!(refused.allowance.remaining, 0);
        assert!(
            matches!(refused.error, AppError::TooManyRequests { retry_after_secs, .. } if retry_after_secs >= 1)
        );
        // Another address has its own bucket.
        assert_eq!(l.check_addr("198.51.100.2".parse().unwrap()).unwrap().remaining, 2);
    }
}
