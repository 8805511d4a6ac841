//! `ApiJson<T>`: the request-body extractor. Malformed JSON is 400; well-formed JSON with
//! unknown fields, missing fields, wrong types or NUL characters is 422 naming the field; a
//! body over the limit is 413; a body that is not JSON is 415.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{AppError, FieldError};

/// The largest request body accepted (a 10,000-item bulk request fits with room to spare).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A parsed JSON body, with the SHA-256 of its canonical form (for Idempotency-Key).
pub struct ApiJson<T> {
    pub value: T,
    pub fingerprint: String,
}

impl<T> ApiJson<T> {
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_ascii_lowercase());
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(&mut payload).await?;
            match content_type.as_deref() {
                Some(ct) if is_json(ct) => {}
                None if bytes.is_empty() => {}
                _ => {
                    return Err(AppError::UnsupportedMediaType(
                        "send the body as application/json".into(),
                    ))
                }
            }
            parse_json(&bytes)
        })
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence == "application/json" || essence.ends_with("+json")
}

/// Reads a payload up to [`MAX_BODY_BYTES`]; more is 413.
pub async fn read_body<S>(payload: &mut S) -> Result<web::BytesMut, AppError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            actix_web::error::PayloadError::Overflow => too_large(),
            other => AppError::bad_request(format!("could not read the request body: {other}")),
        })?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large() -> AppError {
    AppError::PayloadTooLarge(format!("the request body may be at most {MAX_BODY_BYTES} bytes"))
}

/// Parses JSON bytes into `T` with the error mapping described at the top of this file.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<ApiJson<T>, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_request("the request body is empty; send a JSON object"));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::bad_request(format!("malformed JSON: {e}")))?;
    parse_value(value)
}

/// Deserialises an already well-formed JSON value into `T` (422 on any mismatch).
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<ApiJson<T>, AppError> {
    if let Some(path) = find_nul(&value, String::new()) {
        return Err(AppError::invalid(path, "text may not contain NUL characters"));
    }
    let fingerprint = hex::encode(Sha256::digest(value.to_string().as_bytes()));
    let parsed = serde_path_to_error::deserialize(&value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let field = match (path.as_str(), unknown_field_name(&message)) {
            (".", Some(f)) => f.to_string(),
            (".", None) => field_holding_variant(&value, &message).unwrap_or_else(|| "body".into()),
            _ => path,
        };
        AppError::validation(vec![FieldError::new(field, message)])
    })?;
    Ok(ApiJson { value: parsed, fingerprint })
}

/// Tagged enums lose the path of a bad variant; find the top-level field holding it.
fn field_holding_variant(value: &serde_json::Value, message: &str) -> Option<String> {
    let bad = message.strip_prefix("unknown variant `")?.split('`').next()?;
    value.as_object()?.iter().find(|(_, v)| v.as_str() == Some(bad)).map(|(k, _)| k.clone())
}

/// The field an unknown-field or missing-field error names.
fn unknown_field_name(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    rest.split('`').next()
}

fn find_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let here = || if path.is_empty() { "body".to_string() } else { path.clone() };
    match value {
        Value::String(s) if s.contains('\0') => Some(here()),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| find_nul(v, format!("{}[{i}]", here())))
        }
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(here());
            }
            find_nul(v, if path.is_empty() { k.clone() } else { format!("{path}.{k}") })
        }),
        _ => None,
    }
}

/// A JSON body that may be left out entirely (then `T::default()`), for transitions whose
/// fields are all optional.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = ApiJson::<T>::from_request(req, payload);
        let empty = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
            || (!req.headers().contains_key(actix_web::http::header::CONTENT_LENGTH)
                && !req.headers().contains_key(actix_web::http::header::TRANSFER_ENCODING));
        Box::pin(async move {
            if empty {
                return Ok(OptionalJson(T::default()));
            }
            json.await.map(|j| OptionalJson(j.value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Signup {
        email: String,
        age: u8,
    }

    #[test]
    fn syntax_errors_are_400_and_data_errors_422() {
        let e = parse_json::<Signup>(b"{\"email\": ").err().unwrap();
        assert!(matches!(e, AppError::BadRequest(_)));
        let e = parse_json::<Signup>(br#"{"email":"a","age":1,"status":"x"}"#).err().unwrap();
        match e {
            AppError::Validation { errors, .. } => assert_eq!(errors[0].field, "status"),
            other => panic!("{other:?}"),
        }
        let e = parse_json::<Signup>(br#"{"email":"a","age":"old"}"#).err().unwrap();
        match e {
            AppError::Validation { errors, .. } => assert_eq!(errors[0].field, "age"),
            other => panic!("{other:?}"),
        }
        let e = parse_json::<Signup>(br#"{"email":"a\u0000","age":1}"#).err().unwrap();
        match e {
            AppError::Validation { errors, .. } => assert_eq!(errors[0].field, "email"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fingerprint_ignores_formatting() {
        let a = parse_json::<Signup>(br#"{"email":"a","age":1}"#).ok().unwrap();
        let b = parse_json::<Signup>(b"{ \"email\" : \"a\",\n \"age\": 1 }").ok().unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
    }
}
