//! `Query<T>`: typed query parameters. A value that does not parse (an id that is not a UUID,
//! a status that is not one of the allowed values) is 400 naming the parameter. Unknown
//! parameters are refused for every route in one place, the guard (see [`super::fallback`]).

use std::future::{ready, Ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::body::sanitize;
use crate::error::AppError;

#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses a query string into `T`; the error names the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = sanitize(&e.inner().to_string());
        match e.path().to_string().as_str() {
            "." => AppError::bad_request(format!("invalid query: {message}")),
            name => AppError::bad_request(format!("invalid query parameter {name:?}: {message}")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Filter {
        organisation_id: Option<uuid::Uuid>,
        status: Option<crate::auth::Role>,
        limit: Option<i64>,
    }

    fn detail(e: AppError) -> String {
        match e {
            AppError::BadRequest(d) => d,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_values_name_their_parameter() {
        assert!(parse_query::<Filter>(
            "organisation_id=0190a3c4-7b1e-7000-8000-000000000000&limit=5"
        )
        .is_ok());
        let d = detail(parse_query::<Filter>("organisation_id=x").unwrap_err());
        assert!(d.contains("\"organisation_id\""), "{d}");
        let d = detail(parse_query::<Filter>("status=bogus").unwrap_err());
        assert!(d.contains("\"status\"") && d.contains("regulator"), "{d}");
        let d = detail(parse_query::<Filter>("status=").unwrap_err());
        assert!(d.contains("\"status\""), "{d}");
        let d = detail(parse_query::<Filter>("limit=ten").unwrap_err());
        assert!(d.contains("\"limit\"") && !d.contains("i64"), "{d}");
    }
}
