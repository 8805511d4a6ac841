//! The multipart reader of uploads: a `multipart/form-data` body with one `file` part and a
//! few short text parts, read as a stream ([`Parts`]). The file may be at most
//! [`MAX_FILE_BYTES`], the whole body that plus a little for the other parts; reading stops as
//! soon as either limit is passed (413), so no body is ever buffered beyond them. Unknown,
//! repeated or unreadable parts are collected as field errors for the rules to report with the
//! rest. [`UploadForm`] is a dossier document's form; other forms (an inspection's evidence)
//! read their own parts through [`Parts::read`] the same way.

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
/// The longest text part (`kind`, `person_id`, `site_id`, `description`).
const MAX_TEXT_BYTES: usize = 1024;
/// A document upload's text parts, besides `file`.
const DOCUMENT_PARTS: &[&str] = &["kind", "person_id", "site_id"];

/// The uploaded file: its bytes and the file name the client gave (not yet cleaned).
#[derive(Debug, Clone)]
pub struct FilePart {
    pub name: String,
    pub bytes: web::Bytes,
}

impl FilePart {
    /// The file as a fingerprint sees it: its name and the SHA-256 of its bytes.
    pub fn digest(&self) -> (String, String) {
        (self.name.clone(), hex::encode(Sha256::digest(&self.bytes)))
    }
}

/// The text parts a form expects besides `file`: its own, and the `extra` ones its caller
/// reads too (the portal's `csrf_token`), kept apart and never part of a fingerprint.
#[derive(Debug, Clone, Copy)]
pub struct Expected {
    pub own: &'static [&'static str],
    pub extra: &'static [&'static str],
}

/// A multipart upload's parts as sent.
#[derive(Debug, Clone, Default)]
pub struct Parts {
    pub file: Option<FilePart>,
    /// The form's own text parts sent, by name, trimmed (an empty one included).
    pub texts: Vec<(String, String)>,
    /// The `extra` text parts sent, by name.
    pub extra: Vec<(String, String)>,
    /// Unknown, repeated or unreadable parts.
    pub errors: Vec<FieldError>,
}

impl Parts {
    /// The text part `name` as sent; `None` when absent or sent empty (as a web form sends an
    /// empty field).
    pub fn text(&self, name: &str) -> Option<String> {
        self.texts.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.clone())
    }

    /// Reads a `multipart/form-data` body with a `file` part and the text parts `expected`.
    pub fn read(
        req: &HttpRequest,
        payload: &mut Payload,
        expected: Expected,
    ) -> Pin<Box<dyn Future<Output = Result<Self, AppError>>>> {
        let headers = req.headers().clone();
        let payload = payload.take();
        Box::pin(async move {
            check_headers(&headers, expected)?;
            let mut seen = 0usize;
            let limited = payload.map(move |chunk| {
                let chunk = chunk?;
                seen += chunk.len();
                if seen > MAX_REQUEST_BYTES {
                    return Err(PayloadError::Overflow);
                }
                Ok(chunk)
            });
            read_parts(Multipart::new(&headers, limited), expected).await
        })
    }
}

/// The parts of a document upload as sent. Text parts sent empty count as absent; an id that
/// is not a UUID is an error here and absent.
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
        let file = self.file.as_ref().map(FilePart::digest);
        let canonical =
            serde_json::json!([file, self.kind, self.person_id, self.site_id, self.errors]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }

    /// The document's fields of `parts`.
    fn from_parts(parts: Parts) -> Self {
        let mut errors = parts.errors.clone();
        let mut id = |name: &str| {
            parts.text(name).and_then(|v| {
                BodyId::try_new(&v).map_err(|m| errors.push(FieldError::new(name, m))).ok()
            })
        };
        let (person_id, site_id) = (id("person_id"), id("site_id"));
        UploadForm {
            kind: parts.text("kind"),
            person_id,
            site_id,
            errors,
            extra: parts.extra,
            file: parts.file,
        }
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
        let parts = Parts::read(req, payload, Expected { own: DOCUMENT_PARTS, extra });
        Box::pin(async move { Ok(UploadForm::from_parts(parts.await?)) })
    }
}

/// 415 unless the body is `multipart/form-data`; 413 at once if it says it is too long.
fn check_headers(headers: &header::HeaderMap, expected: Expected) -> Result<(), AppError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence.as_deref() != Some("multipart/form-data") {
        return Err(AppError::UnsupportedMediaType(format!(
            "send the upload as multipart/form-data with the parts {}",
            part_names(expected)
        )));
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

/// `file, kind, person_id, site_id`: the parts a form is made of.
fn part_names(expected: Expected) -> String {
    std::iter::once("file").chain(expected.own.iter().copied()).collect::<Vec<_>>().join(", ")
}

async fn read_parts(mut multipart: Multipart, expected: Expected) -> Result<Parts, AppError> {
    let mut parts = Parts::default();
    let mut seen = std::collections::HashSet::new();
    let mut any = false;
    while let Some(field) = multipart.next().await {
        let mut field = match field {
            Ok(field) => field,
            // A body with no parts at all lacks its required parts like any other (422).
            Err(MultipartError::Incomplete) if !any => break,
            Err(e) => return Err(multipart_error(e)),
        };
        any = true;
        let name = field.name().unwrap_or_default().to_string();
        let own = name == "file" || expected.own.contains(&name.as_str());
        if own && !seen.insert(name.clone()) {
            parts.errors.push(FieldError::new(&name, "sent more than once"));
            drain(&mut field).await?;
        } else if name == "file" {
            parts.file = Some(read_file(&mut field).await?);
        } else if own || expected.extra.contains(&name.as_str()) {
            let value = read_text(&mut field, &name, &mut parts.errors).await?;
            match (own, value) {
                (true, Some(value)) => parts.texts.push((name, value)),
                (true, None) => {}
                (false, value) => parts.extra.push((name, value.unwrap_or_default())),
            }
        } else {
            let names = part_names(expected);
            parts
                .errors
                .push(FieldError::new(&name, format!("unknown part; the parts are {names}")));
            drain(&mut field).await?;
        }
    }
    Ok(parts)
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
