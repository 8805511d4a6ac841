//! `UploadForm`: the upload's `multipart/form-data` body, read as a stream. The file may be at
//! most [`MAX_FILE_BYTES`], the whole body that plus a little for the other parts; reading
//! stops as soon as either limit is passed (413), so no body is ever buffered beyond them.
//! Unknown, repeated or unreadable parts are collected as field errors for the rules to report
//! with the rest.

use std::future::Future;
use std::pin::Pin;

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::{self, DispositionParam};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::MAX_FILE_BYTES;
use crate::domain::BodyId;
use crate::error::{AppError, FieldError};

/// Room for the parts other than the file, their headers and the boundaries.
const MAX_OTHER_BYTES: usize = 64 * 1024;
/// The largest whole request body.
pub const MAX_REQUEST_BYTES: usize = MAX_FILE_BYTES + MAX_OTHER_BYTES;
/// The longest text part (`kind`, `person_id`, `site_id`).
const MAX_TEXT_BYTES: usize = 1024;
const KNOWN_PARTS: [&str; 4] = ["file", "kind", "person_id", "site_id"];

/// The uploaded file: its bytes and the file name the client gave (not yet cleaned).
#[derive(Debug, Clone)]
pub struct FilePart {
    pub name: String,
    pub bytes: web::Bytes,
}

/// The parts of an upload as sent. Text parts sent empty count as absent; an id that is not a
/// UUID is an error here and absent.
#[derive(Debug, Clone, Default)]
pub struct UploadForm {
    pub file: Option<FilePart>,
    pub kind: Option<String>,
    pub person_id: Option<BodyId>,
    pub site_id: Option<BodyId>,
    /// Unknown, repeated or unreadable parts.
    pub errors: Vec<FieldError>,
    /// The short text parts the reader was told to expect besides the upload's own (the
    /// portal's `csrf_token`), never part of the fingerprint.
    pub extra: Vec<(String, String)>,
}

impl UploadForm {
    /// SHA-256 over the parts as sent, for Idempotency-Key.
    pub fn fingerprint(&self) -> String {
        let file =
            self.file.as_ref().map(|f| (f.name.clone(), hex::encode(Sha256::digest(&f.bytes))));
        let canonical =
            serde_json::json!([file, self.kind, self.person_id, self.site_id, self.errors]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

impl FromRequest for UploadForm {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        UploadForm::read(req, payload, &[])
    }
}

impl UploadForm {
    /// Reads the upload's parts, and the text parts named in `extra` into [`UploadForm::extra`].
    pub fn read(
        req: &HttpRequest,
        payload: &mut Payload,
        extra: &'static [&'static str],
    ) -> Pin<Box<dyn Future<Output = Result<Self, AppError>>>> {
        let headers = req.headers().clone();
        let payload = payload.take();
        Box::pin(async move {
            check_headers(&headers)?;
            let mut seen = 0usize;
            let limited = payload.map(move |chunk| {
                let chunk = chunk?;
                seen += chunk.len();
                if seen > MAX_REQUEST_BYTES {
                    return Err(PayloadError::Overflow);
                }
                Ok(chunk)
            });
            read_parts(Multipart::new(&headers, limited), extra).await
        })
    }
}

/// 415 unless the body is `multipart/form-data`; 413 at once if it says it is too long.
fn check_headers(headers: &header::HeaderMap) -> Result<(), AppError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence.as_deref() != Some("multipart/form-data") {
        return Err(AppError::UnsupportedMediaType(
            "send the upload as multipart/form-data with the parts file and kind".into(),
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BYTES as u64) {
        return Err(too_large());
    }
    Ok(())
}

fn too_large() -> AppError {
    AppError::PayloadTooLarge(format!(
        "the file may be at most {MAX_FILE_BYTES} bytes (10 MiB), and the other parts {MAX_OTHER_BYTES} bytes"
    ))
}

fn multipart_error(e: MultipartError) -> AppError {
    match e {
        MultipartError::Payload(PayloadError::Overflow) => too_large(),
        other => AppError::bad_request(format!("malformed multipart body: {other}")),
    }
}

async fn read_parts(
    mut multipart: Multipart,
    extra: &'static [&'static str],
) -> Result<UploadForm, AppError> {
    let mut form = UploadForm::default();
    let mut seen = std::collections::HashSet::new();
    let mut any = false;
    while let Some(field) = multipart.next().await {
        let mut field = match field {
            Ok(field) => field,
            // A body with no parts at all lacks the file and kind like any other (422).
            Err(MultipartError::Incomplete) if !any => break,
            Err(e) => return Err(multipart_error(e)),
        };
        any = true;
        let name = field.name().unwrap_or_default().to_string();
        if KNOWN_PARTS.contains(&name.as_str()) && !seen.insert(name.clone()) {
            form.errors.push(FieldError::new(&name, "sent more than once"));
            drain(&mut field).await?;
            continue;
        }
        match name.as_str() {
            "file" => form.file = Some(read_file(&mut field).await?),
            "kind" | "person_id" | "site_id" => {
                let value = read_text(&mut field, &name, &mut form.errors).await?;
                let value = value.filter(|v| !v.is_empty());
                let id = |value: Option<String>, errors: &mut Vec<FieldError>| {
                    value.and_then(|v| {
                        BodyId::try_new(&v).map_err(|m| errors.push(FieldError::new(&name, m))).ok()
                    })
                };
                match name.as_str() {
                    "kind" => form.kind = value,
                    "person_id" => form.person_id = id(value, &mut form.errors),
                    _ => form.site_id = id(value, &mut form.errors),
                }
            }
            other if extra.contains(&other) => {
                let value = read_text(&mut field, &name, &mut form.errors).await?;
                form.extra.push((name.clone(), value.unwrap_or_default()));
            }
            _ => {
                form.errors.push(FieldError::new(
                    &name,
                    format!("unknown part; the parts are {}", KNOWN_PARTS.join(", ")),
                ));
                drain(&mut field).await?;
            }
        }
    }
    Ok(form)
}

async fn read_file(field: &mut Field) -> Result<FilePart, AppError> {
    let name = field.content_disposition().and_then(file_name).unwrap_or_default();
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(multipart_error)?;
        if bytes.len() + chunk.len() > MAX_FILE_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(FilePart { name, bytes: bytes.freeze() })
}

/// The file name a part's Content-Disposition gives: `filename*` (RFC 5987) first.
fn file_name(cd: &header::ContentDisposition) -> Option<String> {
    let extended = cd.parameters.iter().find_map(|p| match p {
        DispositionParam::FilenameExt(v) => String::from_utf8(v.value.clone()).ok(),
        _ => None,
    });
    extended.or_else(|| cd.get_filename().map(str::to_string))
}

/// A short text part as UTF-8 without NULs, trimmed; `None` with an error if it is not.
async fn read_text(
    field: &mut Field,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Result<Option<String>, AppError> {
    let mut bytes = Vec::new();
    let mut too_long = false;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(multipart_error)?;
        if bytes.len() + chunk.len() > MAX_TEXT_BYTES {
            too_long = true;
            continue;
        }
        bytes.extend_from_slice(&chunk);
    }
    if too_long {
        errors.push(FieldError::new(name, format!("at most {MAX_TEXT_BYTES} bytes")));
        return Ok(None);
    }
    match String::from_utf8(bytes) {
        Ok(s) if !s.contains('\0') => Ok(Some(s.trim().to_string())),
        _ => {
            errors.push(FieldError::new(name, "must be UTF-8 text without NUL characters"));
            Ok(None)
        }
    }
}

/// Reads a part to its end without keeping it (the whole-body limit still applies).
async fn drain(field: &mut Field) -> Result<(), AppError> {
    while let Some(chunk) = field.next().await {
        chunk.map_err(multipart_error)?;
    }
    Ok(())
}
