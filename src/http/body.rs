//! `ApiJson<T>`: the request-body extractor (API.md §1). Malformed JSON, or an object with a
//! duplicate key, is 400; well-formed JSON with unknown fields, missing fields, wrong types,
//! numbers or lists outside the schema's bounds, NUL characters or values that break a rule
//! between fields ([`BodyRules`]) is 422 listing every invalid field at once; an optional text
//! field sent as `""` is absent; a body over the limit is 413; a body that is not JSON is 415.
//! No message names a Rust type: serde's are rewritten by [`sanitize`].

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use regex::Regex;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::shape::{field_name, Finding, Shape, Step};
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

/// Rules between a body's fields that no one field's type can check (a national telephone
/// number is read in its address's country). They run on the JSON as sent, beside the
/// deserialisation, so what they find is listed with every field that does not parse; a rule
/// that needs stored state runs later, in the domain, with the body's other such rules.
pub trait BodyRules {
    /// The fields of `body` that break a rule (none by default). A field that is missing or of
    /// the wrong type is left to the deserialisation to name.
    fn check(_body: &Value) -> Vec<FieldError> {
        Vec::new()
    }
}

impl<T: DeserializeOwned + ToSchema + BodyRules + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = RawJson::from_request(req, payload);
        Box::pin(async move { parse_ruled_body(raw.await?.0) })
    }
}

/// A well-formed JSON body (no duplicate keys), not yet given a type.
pub struct RawJson(pub Value);

impl FromRequest for RawJson {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = JsonBytes::from_request(req, payload);
        Box::pin(async move { parse_strict(&body.await?.0).map(RawJson) })
    }
}

/// A JSON body's bytes, its media type checked but not yet read: for a route that reads it
/// as it goes (the bulk verification, through [`parse_strict_each`]).
pub struct JsonBytes(pub web::BytesMut);

impl FromRequest for JsonBytes {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = content_type(req);
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(&mut payload).await?;
            check_json(content_type.as_deref(), &bytes)?;
            Ok(JsonBytes(bytes))
        })
    }
}

fn content_type(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.to_ascii_lowercase())
}

fn check_json(content_type: Option<&str>, bytes: &[u8]) -> Result<(), AppError> {
    match content_type {
        Some(ct) if is_json(ct) => Ok(()),
        None if bytes.is_empty() => Ok(()),
        _ => Err(AppError::UnsupportedMediaType("send the body as application/json".into())),
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

/// Parses JSON bytes into `T` with the error mapping described at the top of this file, but
/// without a schema: used where the target has none (the token endpoint, seeding).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<ApiJson<T>, AppError> {
    parse_value(parse_strict(bytes)?)
}

/// Reads a form-encoded body (`a=1&b=2`) as a JSON object of strings; a repeated name is 400.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<ApiJson<T>, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).map_err(|e| {
        AppError::bad_request(format!("malformed form body: {}", sanitize(&e.to_string())))
    })?;
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), Value::String(v)).is_some() {
            return Err(AppError::bad_request(format!(
                "the form field {k:?} is given more than once"
            )));
        }
    }
    parse_value(Value::Object(map))
}

/// Parses JSON bytes into a value: malformed JSON, or an object with a duplicate key at any
/// depth, is 400.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_request("the request body is empty; send a JSON object"));
    }
    serde_json::from_slice::<Strict>(bytes).map(|s| s.0).map_err(|e| {
        if e.is_data() {
            AppError::bad_request(format!("JSON object with {e}"))
        } else {
            AppError::bad_request(format!("malformed JSON: {}", sanitize(&e.to_string())))
        }
    })
}

/// As [`parse_strict`], except that the elements of the top-level object's array `key` are
/// handed to `each` one at a time as they are read, and the value returned holds `[]` in their
/// place: a body of 10,000 items is never held as one tree of values (which took about 7 MiB).
pub fn parse_strict_each(
    bytes: &[u8],
    key: &str,
    each: &mut dyn FnMut(Value),
) -> Result<Value, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_request("the request body is empty; send a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = de::DeserializeSeed::deserialize(Streaming::Top { key, each }, &mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| {
            if e.is_data() {
                AppError::bad_request(format!("JSON object with {e}"))
            } else {
                AppError::bad_request(format!("malformed JSON: {}", sanitize(&e.to_string())))
            }
        })?;
    Ok(value)
}

/// [`parse_strict_each`]'s reading: at the top (`Top`), an object whose `key` is read by
/// `Elements`; there, an array's elements go to `each`. Anything else is read as it is.
enum Streaming<'k, 'f> {
    Top { key: &'k str, each: &'f mut dyn FnMut(Value) },
    Elements { each: &'f mut dyn FnMut(Value) },
}

impl<'de> de::DeserializeSeed<'de> for Streaming<'_, '_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Streaming<'_, '_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Streaming::Top { key: streamed, each } = self else {
            return StrictVisitor.visit_map(map);
        };
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let v = if key == streamed {
                map.next_value_seed(Streaming::Elements { each: &mut *each })?
            } else {
                map.next_value::<Strict>()?.0
            };
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Streaming::Elements { each } = self else {
            return StrictVisitor.visit_seq(seq);
        };
        while let Some(Strict(v)) = seq.next_element()? {
            each(v);
        }
        Ok(Value::Array(Vec::new()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        StrictVisitor.visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        StrictVisitor.visit_i64(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        StrictVisitor.visit_u64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        StrictVisitor.visit_f64(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        StrictVisitor.visit_str(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        StrictVisitor.visit_unit()
    }
}

/// Deserialises an already well-formed JSON value into `T` (422 listing every invalid field).
pub fn parse_value<T: DeserializeOwned>(value: Value) -> Result<ApiJson<T>, AppError> {
    let fingerprint = fingerprint(&value);
    let value = deserialize_all(value, Vec::new(), Vec::new()).map_err(AppError::validation)?;
    Ok(ApiJson { value, fingerprint })
}

/// As [`parse_value`], reading `T`'s schema too: optional text sent as `""` is absent, and
/// every missing required field, and every number or list outside its bounds, is listed with
/// the other problems.
pub fn parse_body<T: DeserializeOwned + ToSchema + 'static>(
    value: Value,
) -> Result<ApiJson<T>, AppError> {
    parse_body_with(value, |_| Vec::new())
}

/// As [`parse_body`], with `T`'s [`BodyRules`] too.
pub fn parse_ruled_body<T: DeserializeOwned + ToSchema + BodyRules + 'static>(
    value: Value,
) -> Result<ApiJson<T>, AppError> {
    parse_body_with(value, T::check)
}

fn parse_body_with<T: DeserializeOwned + ToSchema + 'static>(
    mut value: Value,
    rules: fn(&Value) -> Vec<FieldError>,
) -> Result<ApiJson<T>, AppError> {
    let shape = Shape::of::<T>();
    shape.drop_empty_optional_text(&mut value);
    let fingerprint = fingerprint(&value);
    let (mut found, mut malformed) = (Vec::new(), Vec::new());
    for (path, finding) in shape.check(&value) {
        match finding {
            Finding::Missing => found.push(FieldError::new(field_name(&path), "is required")),
            Finding::NotAnObject => {
                malformed.push((path, "invalid type: array, expected an object".to_string()))
            }
            Finding::OutOfBounds(message) => malformed.push((path, message)),
        }
    }
    found.extend(rules(&value));
    let value = deserialize_all(value, found, malformed).map_err(AppError::validation)?;
    Ok(ApiJson { value, fingerprint })
}

fn fingerprint(value: &Value) -> String {
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// A JSON value read with duplicate keys refused.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // JSON Schema counts 65535.0 as an integer, so serde must see one too.
        if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
            return Ok(Value::from(v as i64));
        }
        Ok(Value::from(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Strict::deserialize(d).map(|s| s.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

fn steps_of(path: &serde_path_to_error::Path) -> Vec<Step> {
    use serde_path_to_error::Segment;
    let mut steps = Vec::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => steps.push(Step::Index(*index)),
            Segment::Map { key } => steps.push(Step::Key(key.clone())),
            Segment::Enum { variant } => steps.push(Step::Key(variant.clone())),
            Segment::Unknown => break,
        }
    }
    steps
}

/// Removes the deepest object key on `steps` (and what it holds); false if there is none.
fn remove_deepest_key(value: &mut Value, steps: &[Step]) -> Option<Vec<Step>> {
    let last = steps.iter().rposition(|s| matches!(s, Step::Key(_)))?;
    let mut at = &mut *value;
    for step in &steps[..last] {
        at = match step {
            Step::Key(k) => at.get_mut(k.as_str())?,
            Step::Index(i) => at.get_mut(*i)?,
        };
    }
    let Step::Key(key) = &steps[last] else { return None };
    at.as_object_mut()?.remove(key)?;
    Some(steps[..=last].to_vec())
}

/// Strings (and keys) holding NUL: each is an invalid field; PostgreSQL could not store them.
fn nul_paths(value: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::String(s) if s.contains('\0') => out.push(at.clone()),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| {
            at.push(Step::Index(i));
            nul_paths(v, at, out);
            at.pop();
        }),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            at.push(Step::Key(k.clone()));
            if k.contains('\0') {
                out.push(at.clone());
            } else {
                nul_paths(v, at, out);
            }
            at.pop();
        }),
        _ => {}
    }
}

/// Deserialises `value` into `T`, collecting every invalid field: each error found is
/// recorded and its field taken out, and the rest tried again. `found` (missing fields, broken
/// rules) and `malformed` (values to take out) are problems found beforehand; NUL characters
/// are found here.
fn deserialize_all<T: DeserializeOwned>(
    mut value: Value,
    found: Vec<FieldError>,
    mut malformed: Vec<(Vec<Step>, String)>,
) -> Result<T, Vec<FieldError>> {
    let mut errors = found;
    let mut removed: Vec<String> = Vec::new();
    let mut nul = Vec::new();
    nul_paths(&value, &mut Vec::new(), &mut nul);
    malformed.extend(nul.into_iter().map(|p| (p, "text may not contain NUL characters".into())));
    for (steps, message) in malformed {
        record(&mut errors, field_name(&steps), message);
        match remove_deepest_key(&mut value, &steps) {
            Some(gone) => removed.push(field_name(&gone)),
            None => return Err(errors),
        }
    }
    for _ in 0..1000 {
        let e = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(parsed) if errors.is_empty() => return Ok(parsed),
            Ok(_) => return Err(errors),
            Err(e) => e,
        };
        let (steps, message) = (steps_of(e.path()), e.inner().to_string());
        match name_and_remove(&mut value, &mut errors, &removed, steps, &message) {
            Some(gone) => removed.push(field_name(&gone)),
            None => return Err(errors),
        }
    }
    Err(errors)
}

/// Names `field` in `errors` with `message`, unless it is named already.
fn record(errors: &mut Vec<FieldError>, field: String, message: String) {
    if !errors.iter().any(|e| e.field == field) {
        errors.push(FieldError::new(field, message));
    }
}

/// Names the problem serde found at `steps` (`message`) in `errors` (a missing field only
/// when it is not one `removed` already) and removes the key it is under, so the next pass
/// finds the next problem; the key removed, `None` when there is nothing left to remove.
fn name_and_remove(
    value: &mut Value,
    errors: &mut Vec<FieldError>,
    removed: &[String],
    steps: Vec<Step>,
    message: &str,
) -> Option<Vec<Step>> {
    let named = |prefix: &str| {
        message.strip_prefix(prefix).and_then(|r| r.split('`').next()).map(str::to_string)
    };
    if let Some(name) = named("unknown field `") {
        let mut at = steps;
        if at.last() != Some(&Step::Key(name.clone())) {
            at.push(Step::Key(name));
        }
        record(errors, field_name(&at), sanitize(message));
        remove_deepest_key(value, &at)
    } else if let Some(name) = named("missing field `") {
        let mut at = steps.clone();
        at.push(Step::Key(name));
        let field = field_name(&at);
        let ours = removed.iter().any(|r| &field == r || field.starts_with(&format!("{r}.")));
        if !ours {
            record(errors, field, "is required".into());
        }
        remove_deepest_key(value, &steps)
    } else if steps.is_empty() {
        // Tagged enums lose the path of a bad variant; name the field holding it.
        let field = field_holding_variant(value, message);
        record(errors, field.clone().unwrap_or_else(|| "body".into()), sanitize(message));
        field.and_then(|f| remove_deepest_key(value, &[Step::Key(f)]))
    } else {
        record(errors, field_name(&steps), sanitize(message));
        remove_deepest_key(value, &steps)
    }
}

/// Tagged enums lose the path of a bad variant; find the top-level field holding it.
fn field_holding_variant(value: &Value, message: &str) -> Option<String> {
    let bad = message.strip_prefix("unknown variant `")?.split('`').next()?;
    value.as_object()?.iter().find(|(_, v)| v.as_str() == Some(bad)).map(|(k, _)| k.clone())
}

/// Rewrites a serde or framework message so that no Rust type or internal name reaches a
/// client: `expected struct NewOrganisation` becomes `expected an object`.
pub fn sanitize(message: &str) -> String {
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        [
            (r"(?:untagged|internally tagged|adjacently tagged) enum \w+", "the allowed forms"),
            (r"(?:struct|tuple|newtype|unit) variant \w+::\w+", "value of the allowed form"),
            (r"expected struct \w+(?: with \d+ elements?)?", "expected an object"),
            (r"expected tuple struct \w+(?: with \d+ elements?)?", "expected an array"),
            (r"expected unit struct \w+", "expected null"),
            (r"expected newtype struct \w+", "expected a value"),
            (
                r"expected (?:internally tagged |adjacently tagged )?enum \w+",
                "expected one of the allowed values",
            ),
            (r"expected variant identifier", "expected one of the allowed values"),
            (r"expected field identifier", "expected a field name"),
            (r"\b(?:u8|u16|u32|u64|u128|usize|i8|i16|i32|i64|i128|isize)\b", "an integer"),
            (r"\b(?:f32|f64)\b", "a number"),
            (r"a borrowed string", "a string"),
            (r"a sequence", "an array"),
            (r"expected a map", "expected an object"),
            (r"expected option\b", "expected a value or null"),
            (r"expected unit\b", "expected null"),
            (r"invalid type: sequence", "invalid type: array"),
            (r"invalid type: map", "invalid type: object"),
            (r"invalid type: unit value", "invalid type: null"),
            (r"floating point", "number"),
            (
                r"(?:newtype struct|unit variant|newtype variant|tuple variant|struct variant)",
                "value",
            ),
        ]
        .into_iter()
        .filter_map(|(pattern, with)| Regex::new(pattern).ok().map(|r| (r, with)))
        .collect()
    });
    rules.iter().fold(message.to_string(), |m, (re, with)| re.replace_all(&m, *with).into_owned())
}

/// A JSON body that may be left out entirely (then `T::default()`), for transitions whose
/// fields are all optional. A body that is there is parsed as [`ApiJson`] parses it.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + ToSchema + BodyRules + Default + 'static> FromRequest
    for OptionalJson<T>
{
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = content_type(req);
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(&mut payload).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            check_json(content_type.as_deref(), &bytes)?;
            parse_ruled_body(parse_strict(&bytes)?).map(|j| OptionalJson(j.value))
        })
    }
}

/// The body of a transition that takes no fields: nothing, or `{}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

impl BodyRules for NoFields {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Signup {
        email: String,
        age: u8,
        nickname: Option<String>,
        home: Option<Home>,
    }

    #[derive(serde::Deserialize, Debug, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Home {
        city: String,
        line2: Option<String>,
    }

    fn fields(e: AppError) -> Vec<String> {
        match e {
            AppError::Validation { errors, .. } => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_400_and_data_errors_422() {
        let e = parse_json::<Signup>(b"{\"email\": ").err().unwrap();
        assert!(matches!(e, AppError::BadRequest(_)));
        let e = parse_json::<Signup>(br#"{"email":"a","age":1,"status":"x"}"#).err().unwrap();
        assert_eq!(fields(e), ["status"]);
        let e = parse_json::<Signup>(br#"{"email":"a","age":"old"}"#).err().unwrap();
        assert_eq!(fields(e), ["age"]);
        let e = parse_json::<Signup>(br#"{"email":"a\u0000","age":1}"#).err().unwrap();
        assert_eq!(fields(e), ["email"]);
    }

    #[test]
    fn duplicate_keys_are_400_at_any_depth() {
        for body in [
            &br#"{"email":"a","email":"b","age":1}"#[..],
            br#"{"home":{"city":"a","city":"b"}}"#,
            br#"[{"a":1,"a":2}]"#,
        ] {
            let e = parse_strict(body).err().unwrap();
            assert!(matches!(&e, AppError::BadRequest(d) if d.contains("duplicate key")), "{e:?}");
        }
        let e = parse_form::<Signup>(b"email=a&email=b").err().unwrap();
        assert!(matches!(e, AppError::BadRequest(_)));
    }

    #[test]
    fn every_invalid_field_is_listed() {
        let body = br#"{"age":"old","nickname":5,"home":{"city":1,"line2":2},"x":1}"#;
        let value = parse_strict(body).unwrap();
        let mut got = fields(parse_body::<Signup>(value).err().unwrap());
        got.sort();
        assert_eq!(got, ["age", "email", "home.city", "home.line2", "nickname", "x"]);
    }

    #[test]
    fn empty_optional_text_is_absent_but_required_text_is_not() {
        let value =
            parse_strict(br#"{"email":"","age":1,"nickname":"","home":{"city":"c","line2":""}}"#)
                .unwrap();
        let parsed = parse_body::<Signup>(value).ok().unwrap().value;
        assert_eq!(parsed.email, "");
        assert!(parsed.nickname.is_none());
        assert!(parsed.home.unwrap().line2.is_none());
    }

    #[test]
    fn messages_name_no_rust_type() {
        let e = parse_body::<Signup>(Value::Null).err().unwrap();
        let text = format!("{:?}", e.problem());
        for word in ["struct", "enum", "Signup", "u8"] {
            assert!(!text.contains(word), "{text}");
        }
        assert_eq!(
            sanitize("invalid type: string \"x\", expected u8"),
            "invalid type: string \"x\", expected an integer"
        );
        assert_eq!(
            sanitize("invalid type: map, expected enum Role"),
            "invalid type: object, expected one of the allowed values"
        );
    }

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        let parsed = parse_json::<Signup>(br#"{"email":"a","age":42.0}"#).ok().unwrap();
        assert_eq!(parsed.value.age, 42);
        assert!(parse_json::<Signup>(br#"{"email":"a","age":42.5}"#).is_err());
    }

    #[test]
    fn fingerprint_ignores_formatting() {
        let a = parse_json::<Signup>(br#"{"email":"a","age":1}"#).ok().unwrap();
        let b = parse_json::<Signup>(b"{ \"email\" : \"a\",\n \"age\": 1 }").ok().unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
    }
}
