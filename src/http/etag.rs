//! Strong ETags from a resource's `version`, and the `If-Match` precondition: missing is 428,
//! stale is 412.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};

use crate::error::AppError;

/// The strong ETag of a version: `"<version>"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// `200 OK` with `body`, the representation of a record at `version`, and its ETag.
pub fn tagged(version: i64, body: &impl serde::Serialize) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().insert_header((header::ETAG, etag(version))).json(body)
}

/// The `If-Match` header of a request; required wherever this extractor is used.
#[derive(Debug, Clone)]
pub struct IfMatch(Vec<String>);

impl IfMatch {
    /// Checks the precondition against the current version (strong comparison, RFC 9110 §13.1.1).
    pub fn check(&self, current_version: i64) -> Result<(), AppError> {
        let current = etag(current_version);
        if self.0.iter().any(|t| t == "*" || *t == current) {
            Ok(())
        } else {
            Err(AppError::PreconditionFailed(format!(
                "If-Match does not match the current ETag {current}; fetch the resource again"
            )))
        }
    }
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let values: Vec<String> = req
            .headers()
            .get_all(header::IF_MATCH)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        ready(if values.is_empty() {
            Err(AppError::PreconditionRequired(
                "this change needs an If-Match header with the resource's current ETag".into(),
            ))
        } else {
            Ok(IfMatch(values))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_comparison() {
        assert!(IfMatch(vec!["\"3\"".into()]).check(3).is_ok());
        assert!(IfMatch(vec!["W/\"3\"".into()]).check(3).is_err());
        assert!(IfMatch(vec!["\"2\"".into(), "\"3\"".into()]).check(3).is_ok());
        assert!(IfMatch(vec!["*".into()]).check(9).is_ok());
        assert!(IfMatch(vec!["\"2\"".into()]).check(3).is_err());
    }
}
