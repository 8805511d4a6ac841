//! Inspection evidence (API.md §14): the photos the assigned inspector takes at a visit,
//! uploaded before or with the record as `multipart/form-data` (`file`, `description`). PNG
//! and JPEG only, recognised from the bytes, at most 10 MiB; stored in the database itself like
//! the dossier's documents, so every process sees them; immutable, and closed to uploads once
//! the inspection is recorded or cancelled (409).
//!
//! An inspection's `evidence` lists its uploaded files (every field), then the hashes its
//! record's body declared (`sha256` and `description`; the other fields null), a declared hash
//! that names an uploaded file being listed once, as that file. The bytes are for staff only,
//! and every read of them is on the audit log as `document.read` (API.md §16).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{Evidence, InspectionRow, Status};
use crate::audit;
use crate::auth::visible::{Child, Visible};
use crate::auth::{Principal, Role};
use crate::db::schema::{inspection_evidence, inspections};
use crate::db::DbConn;
use crate::documents::form::{Expected, FilePart, Parts};
use crate::documents::{self, MediaType};
use crate::domain::Reason;
use crate::error::{AppError, FieldError};

/// An evidence file's metadata row (everything but `content`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inspection_evidence)]
pub struct EvidenceRow {
    pub id: String,
    pub inspection_id: String,
    pub description: String,
    pub content_type: MediaType,
    pub size_bytes: i64,
    pub sha256: String,
    pub taken_by: String,
    pub uploaded_at: NaiveDateTime,
}

/// An uploaded evidence file (its bytes at `/api/v1/inspections/{id}/evidence/{evidence_id}`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EvidenceFile {
    pub id: String,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// `image/png` or `image/jpeg`, as recognised from the bytes.
    pub content_type: MediaType,
    pub size_bytes: i64,
    pub description: String,
    /// The inspector who uploaded it.
    pub taken_by: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<EvidenceRow> for EvidenceFile {
    fn from(r: EvidenceRow) -> Self {
        EvidenceFile {
            id: r.id,
            sha256: r.sha256,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            description: r.description,
            taken_by: r.taken_by,
            uploaded_at: r.uploaded_at.and_utc(),
        }
    }
}

/// An item of an inspection's `evidence`: an uploaded file, with every field; or a hash the
/// record's body declared, with `sha256` and `description` and the other fields null.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EvidenceItem {
    /// The uploaded file's id; null for a declared hash (no bytes are held for it).
    pub id: Option<String>,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    pub content_type: Option<MediaType>,
    pub size_bytes: Option<i64>,
    pub description: String,
    pub taken_by: Option<String>,
    pub uploaded_at: Option<DateTime<Utc>>,
}

impl From<EvidenceRow> for EvidenceItem {
    fn from(r: EvidenceRow) -> Self {
        let f = EvidenceFile::from(r);
        EvidenceItem {
            id: Some(f.id),
            sha256: f.sha256,
            content_type: Some(f.content_type),
            size_bytes: Some(f.size_bytes),
            description: f.description,
            taken_by: Some(f.taken_by),
            uploaded_at: Some(f.uploaded_at),
        }
    }
}

/// The listed evidence: the uploaded files in order of upload, then each declared hash that
/// names none of them.
pub fn listed(uploads: Vec<EvidenceRow>, declared: Vec<Evidence>) -> Vec<EvidenceItem> {
    let is_upload = |sha: &str| uploads.iter().any(|u| u.sha256.eq_ignore_ascii_case(sha));
    let declared: Vec<EvidenceItem> = declared
        .into_iter()
        .filter(|d| !is_upload(&d.sha256))
        .map(|d| EvidenceItem {
            id: None,
            sha256: d.sha256,
            content_type: None,
            size_bytes: None,
            description: d.description.into_string(),
            taken_by: None,
            uploaded_at: None,
        })
        .collect();
    uploads.into_iter().map(EvidenceItem::from).chain(declared).collect()
}

/// The parts of an evidence upload, as the OpenAPI document describes them (the handler reads
/// the multipart stream itself, through [`EvidenceForm`]).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EvidenceUpload {
    /// The photo: PNG or JPEG, at most 10 MiB. The type is recognised from the bytes; the
    /// declared content type and the file name are ignored.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// What the photo shows.
    description: Reason,
}

/// An evidence upload's parts as sent; `description` sent empty counts as absent.
#[derive(Debug, Clone, Default)]
pub struct EvidenceForm {
    pub file: Option<FilePart>,
    pub description: Option<String>,
    /// Unknown, repeated or unreadable parts.
    pub errors: Vec<FieldError>,
    /// The text parts named in `extra` when read (the portal's `csrf_token`).
    pub extra: Vec<(String, String)>,
}

impl EvidenceForm {
    /// Reads the upload's parts, and the text parts named in `extra` into [`EvidenceForm::extra`].
    pub fn read(
        req: &HttpRequest,
        payload: &mut Payload,
        extra: &'static [&'static str],
    ) -> Pin<Box<dyn Future<Output = Result<Self, AppError>>>> {
        let parts = Parts::read(req, payload, Expected { own: &["description"], extra });
        Box::pin(async move {
            let parts = parts.await?;
            Ok(EvidenceForm {
                description: parts.text("description"),
                file: parts.file,
                errors: parts.errors,
                extra: parts.extra,
            })
        })
    }

    /// SHA-256 over the parts as sent, for Idempotency-Key.
    pub fn fingerprint(&self) -> String {
        let file = self.file.as_ref().map(FilePart::digest);
        let canonical = serde_json::json!([file, self.description, self.errors]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

impl FromRequest for EvidenceForm {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        EvidenceForm::read(req, payload, &[])
    }
}

/// Every invalid part at once (422), then the bytes' type (415): the photo, its description.
fn check(form: &EvidenceForm) -> Result<(MediaType, Reason, &FilePart), AppError> {
    let mut errors = form.errors.clone();
    documents::check_file(form.file.as_ref(), "the photo's bytes", &mut errors);
    let description = match form.description.as_deref().map(Reason::try_new) {
        None if !documents::named(&errors, "description") => {
            errors.push(FieldError::new("description", "required: what the photo shows"));
            None
        }
        Some(Err(m)) => {
            errors.push(FieldError::new("description", m));
            None
        }
        Some(Ok(d)) => Some(d),
        None => None,
    };
    match (&form.file, description) {
        (Some(file), Some(description)) if errors.is_empty() => {
            match MediaType::sniff(&file.bytes) {
                Some(media @ (MediaType::Png | MediaType::Jpeg)) => Ok((media, description, file)),
                _ => Err(AppError::UnsupportedMediaType(
                    "evidence is a PNG or JPEG photo (recognised from its bytes, whatever the declared type or name)".into(),
                )),
            }
        }
        _ => Err(AppError::validation(errors)),
    }
}

/// Stores a photo of the assigned inspector's to an inspection still scheduled, with its audit
/// entry: 403 for anyone else, 409 once recorded or cancelled, then the form's rules.
#[tracing::instrument(skip_all, fields(inspection = %inspection.id), err(Display))]
pub fn upload(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    inspection: &Visible<InspectionRow>,
    form: &EvidenceForm,
) -> Result<EvidenceRow, AppError> {
    if inspection.inspector_id != who.id {
        return Err(AppError::forbidden(
            "only the assigned inspector may add evidence to this inspection",
        ));
    }
    // Holds the inspection's row until the upload commits, so a record cannot slip in between.
    if !lock_scheduled(conn, &inspection.id)? {
        let status =
            super::store::find(conn, &inspection.id)?.map_or(inspection.status, |r| r.status);
        return Err(AppError::conflict(format!(
            "the inspection is {status}: its evidence can no longer change"
        )));
    }
    let (media, description, file) = check(form)?;
    let row = EvidenceRow {
        id: uuid::Uuid::now_v7().to_string(),
        inspection_id: inspection.id.clone(),
        description: description.into_string(),
        content_type: media,
        size_bytes: file.bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(&file.bytes)),
        taken_by: who.id.clone(),
        uploaded_at: now,
    };
    diesel::insert_into(inspection_evidence::table)
        .values((&row, inspection_evidence::content.eq(file.bytes.as_ref())))
        .execute(conn)?;
    audit::record(conn, now, Some(&who.id), &EvidenceEvent::Uploaded(&row))?;
    Ok(row)
}

/// Whether the inspection is still scheduled, locking its row (PostgreSQL) if so.
fn lock_scheduled(conn: &mut DbConn, id: &str) -> Result<bool, AppError> {
    let changed = diesel::update(
        inspections::table
            .filter(inspections::id.eq(id))
            .filter(inspections::status.eq(Status::Scheduled)),
    )
    .set(inspections::version.eq(inspections::version))
    .execute(conn)?;
    Ok(changed == 1)
}

impl Child<InspectionRow> for EvidenceRow {
    const MISSING: &'static str = "no such evidence of this inspection";

    fn find_in(
        conn: &mut DbConn,
        inspection: &InspectionRow,
        id: &str,
    ) -> Result<Option<Self>, AppError> {
        Ok(inspection_evidence::table
            .filter(inspection_evidence::id.eq(id))
            .filter(inspection_evidence::inspection_id.eq(&inspection.id))
            .select(EvidenceRow::as_select())
            .first(conn)
            .optional()?)
    }
}

/// The uploaded files of each of `inspection_ids`, in order of upload (metadata only).
pub fn of_inspections(
    conn: &mut DbConn,
    inspection_ids: &[String],
) -> Result<HashMap<String, Vec<EvidenceRow>>, AppError> {
    let rows: Vec<EvidenceRow> = inspection_evidence::table
        .filter(inspection_evidence::inspection_id.eq_any(inspection_ids))
        .select(EvidenceRow::as_select())
        .order(inspection_evidence::id.asc())
        .load(conn)?;
    let mut by_inspection: HashMap<String, Vec<EvidenceRow>> = HashMap::new();
    for row in rows {
        by_inspection.entry(row.inspection_id.clone()).or_default().push(row);
    }
    Ok(by_inspection)
}

/// An evidence file's bytes for staff who may see its inspection, with the `document.read`
/// audit entry (who, which) in the same transaction (API.md §16). Never for operators or
/// agencies (403).
#[tracing::instrument(skip_all, fields(inspection = %inspection.id), err(Display))]
pub fn read_content(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    inspection: &Visible<InspectionRow>,
    evidence_id: &str,
) -> Result<(EvidenceRow, Vec<u8>), AppError> {
    if matches!(who.role, Role::Operator | Role::Agency) {
        return Err(AppError::forbidden("evidence is for the registry's staff only"));
    }
    let row = inspection.child::<EvidenceRow>(conn, evidence_id)?.into_inner();
    let bytes: Vec<u8> = inspection_evidence::table
        .find(&row.id)
        .select(inspection_evidence::content)
        .first(conn)?;
    audit::record(conn, now, Some(&who.id), &EvidenceEvent::Read { evidence: &row, by: who.role })?;
    Ok((row, bytes))
}

/// An evidence file's upload and reads as the audit log records them; never its content.
enum EvidenceEvent<'a> {
    Uploaded(&'a EvidenceRow),
    Read { evidence: &'a EvidenceRow, by: Role },
}

impl audit::Event for EvidenceEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Uploaded(_) => "evidence.uploaded",
            Self::Read { .. } => "document.read",
        }
    }
    fn entity_type(&self) -> &'static str {
        "evidence"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Uploaded(row) | Self::Read { evidence: row, .. } => &row.id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Uploaded(r) => format!(
                "evidence of inspection {}: {:?} ({}, {} bytes, sha256 {})",
                r.inspection_id, r.description, r.content_type, r.size_bytes, r.sha256
            ),
            Self::Read { evidence: r, by } => format!(
                "evidence of inspection {} read by {} ({} bytes, sha256 {})",
                r.inspection_id, by, r.size_bytes, r.sha256
            ),
        }
    }
}
