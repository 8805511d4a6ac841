//! The documents of an organisation's licensing dossier (API.md §10): certificates, identity
//! documents, proofs of premises. Stored in the database itself, so every process on one
//! PostgreSQL sees every document. A document is immutable: a new version is a new upload.
//!
//! The type is recognised from the bytes (PDF, PNG or JPEG); what the client declares is
//! ignored. The owner uploads and deletes; the owner and staff read.

pub mod form;
pub mod routes;
pub mod store;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::Visible;
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::domain::record_id::{OrganisationId, PersonId};
use crate::domain::BodyId;
use crate::error::{AppError, FieldError};
use crate::organisations::{self, OrgRow};
use crate::sites;
pub use form::UploadForm;
pub use store::DocumentRow;

/// The largest file accepted (10 MiB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The longest stored file name, in characters.
const MAX_FILE_NAME_CHARS: usize = 200;

crate::stored_enum! {
    /// What a document is. `identity_document` names a person, `premises_proof` a site.
    #[derive(ToSchema)]
    pub enum DocumentKind in "documents.kind" {
        IncorporationCertificate = "incorporation_certificate",
        TaxCertificate = "tax_certificate",
        IdentityDocument = "identity_document",
        PremisesProof = "premises_proof",
        BankLetter = "bank_letter",
        FeeReceipt = "fee_receipt",
        Other = "other",
    }
}

crate::stored_enum! {
    /// The media type recognised from the bytes.
    pub enum MediaType in "documents.content_type" {
        Pdf = "application/pdf",
        Png = "image/png",
        Jpeg = "image/jpeg",
    }
}

// By hand: the derive would name the variants (`pdf`), not their wire names.
impl utoipa::PartialSchema for MediaType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(MediaType::ALL.iter().map(|m| m.as_str())))
            .description(Some("The media type recognised from the bytes"))
            .into()
    }
}

impl ToSchema for MediaType {
    fn name() -> std::borrow::Cow<'static, str> {
        "MediaType".into()
    }
}

impl MediaType {
    /// The type the bytes themselves show, if it is one ccreg accepts.
    pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
        match infer::get(bytes)?.mime_type() {
            "application/pdf" => Some(MediaType::Pdf),
            "image/png" => Some(MediaType::Png),
            "image/jpeg" => Some(MediaType::Jpeg),
            _ => None,
        }
    }
}

/// A document's metadata (the bytes are at `/api/v1/documents/{id}/content`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Document {
    pub id: String,
    pub organisation_id: String,
    pub kind: DocumentKind,
    /// The person an `identity_document` belongs to.
    pub person_id: Option<String>,
    /// The site a `premises_proof` is for.
    pub site_id: Option<String>,
    /// The uploaded file's name, without any path.
    pub file_name: String,
    /// As recognised from the bytes, whatever the upload declared.
    pub content_type: MediaType,
    pub size_bytes: i64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    /// The operator account that uploaded it.
    pub uploaded_by: String,
}

impl From<DocumentRow> for Document {
    fn from(r: DocumentRow) -> Self {
        Document {
            id: r.id,
            organisation_id: r.organisation_id,
            kind: r.kind,
            person_id: r.person_id,
            site_id: r.site_id,
            file_name: r.file_name,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            sha256: r.sha256,
            uploaded_at: r.uploaded_at.and_utc(),
            uploaded_by: r.uploaded_by,
        }
    }
}

/// The parts of an upload, as the OpenAPI document describes them (the handler reads the
/// multipart stream itself, through [`UploadForm`]).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DocumentUpload {
    /// The file: PDF, PNG or JPEG, at most 10 MiB, with its file name. The type is recognised
    /// from the bytes; the declared content type and the name's extension are ignored.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    kind: DocumentKind,
    /// Required for `identity_document`: a person of this organisation.
    person_id: Option<BodyId>,
    /// Required for `premises_proof`: a site of this organisation.
    site_id: Option<BodyId>,
}

/// The file name without any path (either slash), control or bidirectional-override
/// characters, at most 200 characters (keeping a short extension); `document` if nothing is left.
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last.chars().filter(|c| !c.is_control() && !is_bidi_control(*c)).collect();
    let name = kept.trim().trim_start_matches('.').trim();
    if name.is_empty() {
        return "document".into();
    }
    if name.chars().count() <= MAX_FILE_NAME_CHARS {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && (1..=10).contains(&e.chars().count()) => (s, e),
        _ => (name, ""),
    };
    let room = MAX_FILE_NAME_CHARS - if ext.is_empty() { 0 } else { ext.chars().count() + 1 };
    let stem: String = stem.chars().take(room).collect();
    if ext.is_empty() {
        stem
    } else {
        format!("{}.{ext}", stem.trim_end())
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

// Operators see only their organisations' documents; staff see all.
crate::owned_by_organisation!(DocumentRow, str, "no such document", store::find);

/// A document's bytes for a reader who may see it, with the `document.read` audit entry
/// (who, which) in the same transaction: every download of a document is on record, whoever
/// makes it (API.md §16).
#[tracing::instrument(skip_all, fields(document = %doc.id), err(Display))]
pub fn read_content(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    doc: Visible<DocumentRow>,
) -> Result<(DocumentRow, Vec<u8>), AppError> {
    let row = doc.into_inner();
    let bytes =
        store::content(conn, &row.id)?.ok_or_else(|| AppError::not_found("no such document"))?;
    let event = DocumentEvent::Read { document: &row, by: who.role };
    audit::record(conn, now, Some(&who.id), &event)?;
    Ok((row, bytes))
}

/// Whether a field is named among `errors` already (a part the form could not read).
pub(crate) fn named(errors: &[FieldError], field: &str) -> bool {
    errors.iter().any(|e| e.field == field)
}

/// Checks the form's fields against the organisation; every invalid field at once (422), then
/// the bytes' type (415).
fn check(
    conn: &mut DbConn,
    org_id: &str,
    form: &UploadForm,
) -> Result<(DocumentKind, MediaType), AppError> {
    let mut errors: Vec<FieldError> = form.errors.clone();
    let kind = check_kind(form, &mut errors);
    check_file(form.file.as_ref(), "the document's bytes", &mut errors);
    let org = OrganisationId::from(org_id);
    check_reference(conn, PERSON, form.person_id.as_ref(), kind, &mut errors, |conn, id| {
        store::is_person_of(conn, &org, &PersonId::from(id))
    })?;
    check_reference(conn, SITE, form.site_id.as_ref(), kind, &mut errors, |conn, id| {
        Ok(sites::store::find(conn, id)?.is_some_and(|s| s.organisation_id == org_id))
    })?;
    match (kind, &form.file) {
        (Some(kind), Some(file)) if errors.is_empty() => {
            let media = MediaType::sniff(&file.bytes).ok_or_else(|| {
                AppError::UnsupportedMediaType(
                    "the file is not a PDF, PNG or JPEG (recognised from its bytes, whatever the declared type or name)".into(),
                )
            })?;
            Ok((kind, media))
        }
        _ => Err(AppError::validation(errors)),
    }
}

/// The `file` part of an upload: required (`what` says what it holds) and not empty.
pub(crate) fn check_file(file: Option<&form::FilePart>, what: &str, errors: &mut Vec<FieldError>) {
    match file {
        None if !named(errors, "file") => {
            errors.push(FieldError::new("file", format!("required: {what}")))
        }
        Some(f) if f.bytes.is_empty() => errors.push(FieldError::new("file", "the file is empty")),
        _ => {}
    }
}

/// The form's `kind`, or `None` with its error pushed.
fn check_kind(form: &UploadForm, errors: &mut Vec<FieldError>) -> Option<DocumentKind> {
    match form.kind.as_deref() {
        None => {
            errors.push(FieldError::new("kind", "required"));
            None
        }
        Some(raw) => DocumentKind::parse(raw).or_else(|| {
            let names: Vec<&str> = DocumentKind::ALL.iter().map(|k| k.as_str()).collect();
            errors.push(FieldError::new("kind", format!("must be one of {}", names.join(", "))));
            None
        }),
    }
}

/// A reference field of the form (`person_id`, `site_id`): the kind that needs it, and what
/// is said when it is given with another kind or names a record of another organisation.
struct Reference {
    field: &'static str,
    wanted_by: DocumentKind,
    only: &'static str,
    not_ours: &'static str,
}

const PERSON: Reference = Reference {
    field: "person_id",
    wanted_by: DocumentKind::IdentityDocument,
    only: "only an identity_document names a person",
    not_ours: "not a person of this organisation",
};

const SITE: Reference = Reference {
    field: "site_id",
    wanted_by: DocumentKind::PremisesProof,
    only: "only a premises_proof names a site",
    not_ours: "not a site of this organisation",
};

/// `given` for the field `r`: required for its kind, named by no other kind, and a record of
/// the organisation (`is_ours`).
fn check_reference(
    conn: &mut DbConn,
    r: Reference,
    given: Option<&BodyId>,
    kind: Option<DocumentKind>,
    errors: &mut Vec<FieldError>,
    is_ours: impl FnOnce(&mut DbConn, &str) -> Result<bool, AppError>,
) -> Result<(), AppError> {
    match (given, kind == Some(r.wanted_by)) {
        (None, true) if !named(errors, r.field) => {
            errors.push(FieldError::new(r.field, format!("required for {}", r.wanted_by)))
        }
        (Some(_), false) if kind.is_some() => errors.push(FieldError::new(r.field, r.only)),
        (Some(id), true) if !is_ours(conn, id.as_str())? => {
            errors.push(FieldError::new(r.field, r.not_ours))
        }
        _ => {}
    }
    Ok(())
}

/// Stores an upload to the caller's organisation, with its audit entry.
#[tracing::instrument(skip_all, fields(organisation = %org.id), err(Display))]
pub fn upload(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    org: &Visible<OrgRow>,
    form: &UploadForm,
) -> Result<DocumentRow, AppError> {
    let (kind, media) = check(conn, &org.id, form)?;
    let file = form.file.as_ref().ok_or_else(|| AppError::internal("checked file missing"))?;
    let row = DocumentRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: org.id.clone(),
        kind,
        person_id: form
            .person_id
            .clone()
            .filter(|_| kind == DocumentKind::IdentityDocument)
            .map(BodyId::into_string),
        site_id: form
            .site_id
            .clone()
            .filter(|_| kind == DocumentKind::PremisesProof)
            .map(BodyId::into_string),
        file_name: clean_file_name(&file.name),
        content_type: media,
        size_bytes: file.bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(&file.bytes)),
        uploaded_at: now,
        uploaded_by: who.id.clone(),
    };
    store::insert(conn, &row, &file.bytes)?;
    audit::record(conn, now, Some(&who.id), &DocumentEvent::Uploaded(&row))?;
    Ok(row)
}

/// What the log says of a document: its kind, whose, and the file; never its content.
fn summary(row: &DocumentRow) -> String {
    let about = match (&row.person_id, &row.site_id) {
        (Some(p), _) => format!(" of person {p}"),
        (_, Some(s)) => format!(" for site {s}"),
        _ => String::new(),
    };
    format!(
        "{}{about} of organisation {}: {:?} ({}, {} bytes, sha256 {})",
        row.kind, row.organisation_id, row.file_name, row.content_type, row.size_bytes, row.sha256
    )
}

/// Deletes a document of the caller's, unless something relies on it (409): an application
/// of the organisation under review (`submitted` or `info_requested`) that requires a
/// document of its kind (for `premises_proof`, of its site), or a payment naming it as receipt.
#[tracing::instrument(skip_all, fields(document = %doc.id), err(Display))]
pub fn delete(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    doc: Visible<DocumentRow>,
) -> Result<(), AppError> {
    // Locks the organisation's row (PostgreSQL) so a submission cannot slip in between.
    organisations::store::lock(conn, &doc.organisation_id)?;
    let under_review = store::site_ids_under_review(conn, &doc.organisation_id)?;
    let relied_on = match doc.kind {
        DocumentKind::IncorporationCertificate
        | DocumentKind::TaxCertificate
        | DocumentKind::BankLetter
        | DocumentKind::IdentityDocument => !under_review.is_empty(),
        DocumentKind::PremisesProof => {
            under_review.iter().flatten().any(|s| Some(s) == doc.site_id.as_ref())
        }
        DocumentKind::FeeReceipt | DocumentKind::Other => false,
    };
    if relied_on {
        return Err(AppError::conflict(
            "an application under review (submitted or info_requested) relies on this document; \
             it can be deleted once the application is decided or withdrawn",
        ));
    }
    if store::is_payment_receipt(conn, &doc.id)? {
        return Err(AppError::conflict("a recorded payment names this document as its receipt"));
    }
    store::delete(conn, &doc.id)?;
    audit::record(conn, now, Some(&who.id), &DocumentEvent::Deleted(&doc))?;
    Ok(())
}

/// One document the regime requires before `/submit` (API.md §10), and whether it is on file.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub kind: DocumentKind,
    /// The person (id, name) an identity document is of.
    pub person: Option<(String, String)>,
    /// The site (id, name) a premises proof is for.
    pub site: Option<(String, String)>,
    pub on_file: bool,
    /// What is said when it is missing (`identity_document: none for … (person …)`).
    pub missing: String,
}

/// Every document the regime requires of the organisation for an application covering
/// `site_ids`, in order: an `incorporation_certificate`, a `tax_certificate`, a `bank_letter`,
/// an `identity_document` for every person, and a `premises_proof` for every listed site.
#[tracing::instrument(skip_all, fields(organisation = %organisation_id), err(Display))]
pub fn requirements(
    conn: &mut DbConn,
    organisation_id: &str,
    site_ids: &[String],
) -> Result<Vec<Requirement>, AppError> {
    let on_file = store::on_file(conn, organisation_id)?;
    let has = |kind: DocumentKind, person: Option<&str>, site: Option<&str>| {
        on_file.iter().any(|h| {
            h.kind == kind
                && person.is_none_or(|p| h.person_id.as_deref() == Some(p))
                && site.is_none_or(|s| h.site_id.as_deref() == Some(s))
        })
    };
    let mut found = Vec::new();
    for (kind, what) in [
        (DocumentKind::IncorporationCertificate, "the certificate of incorporation"),
        (DocumentKind::TaxCertificate, "the tax (NTN) certificate"),
        (DocumentKind::BankLetter, "the bank's letter"),
    ] {
        let missing = format!("{kind}: upload {what}");
        found.push(Requirement {
            kind,
            person: None,
            site: None,
            on_file: has(kind, None, None),
            missing,
        });
    }
    for (person_id, full_name) in store::people(conn, organisation_id)? {
        let kind = DocumentKind::IdentityDocument;
        let missing = format!("identity_document: none for {full_name} (person {person_id})");
        let on_file = has(kind, Some(&person_id), None);
        found.push(Requirement {
            kind,
            person: Some((person_id, full_name)),
            site: None,
            on_file,
            missing,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for site_id in site_ids.iter().filter(|s| seen.insert(s.as_str())) {
        let kind = DocumentKind::PremisesProof;
        let name = sites::store::find(conn, site_id)?.map(|s| s.name);
        let missing = match &name {
            Some(name) => format!("premises_proof: none for {name} (site {site_id})"),
            None => format!("premises_proof: none for site {site_id}"),
        };
        let on_file = has(kind, None, Some(site_id));
        let site = Some((site_id.clone(), name.unwrap_or_default()));
        found.push(Requirement { kind, person: None, site, on_file, missing });
    }
    Ok(found)
}

/// What `/submit` still lacks (API.md §10): one `documents` error per missing document of
/// [`requirements`], naming the kind and the person or site. An empty list means nothing is
/// missing.
pub fn missing_for_submission(
    conn: &mut DbConn,
    organisation_id: &str,
    site_ids: &[String],
) -> Result<Vec<FieldError>, AppError> {
    Ok(requirements(conn, organisation_id, site_ids)?
        .into_iter()
        .filter(|r| !r.on_file)
        .map(|r| FieldError::new("documents", r.missing))
        .collect())
}

/// A document's changes (and reads) as the audit log records them.
enum DocumentEvent<'a> {
    Uploaded(&'a DocumentRow),
    Read { document: &'a DocumentRow, by: Role },
    Deleted(&'a DocumentRow),
}

impl audit::Event for DocumentEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Uploaded(_) => "document.uploaded",
            Self::Read { .. } => "document.read",
            Self::Deleted(_) => "document.deleted",
        }
    }
    fn entity_type(&self) -> &'static str {
        "document"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Uploaded(row) | Self::Read { document: row, .. } | Self::Deleted(row) => &row.id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Uploaded(row) | Self::Deleted(row) => summary(row),
            Self::Read { document: row, by } => format!(
                "{} of organisation {} read by {} ({} bytes, sha256 {})",
                row.kind, row.organisation_id, by, row.size_bytes, row.sha256
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_path_and_controls() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\x\\..\\scan.pdf"), "scan.pdf");
        assert_eq!(clean_file_name("a\u{0}b\r\n\u{202E}fdp.exe"), "abfdp.exe");
        assert_eq!(clean_file_name("dir/"), "document");
        assert_eq!(clean_file_name(".."), "document");
        assert_eq!(clean_file_name("  "), "document");
        assert_eq!(clean_file_name(".bashrc"), "bashrc");
        assert_eq!(clean_file_name("رسید.pdf"), "رسید.pdf");
        let long = format!("{}.pdf", "x".repeat(500));
        let cleaned = clean_file_name(&long);
        assert_eq!(cleaned.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(cleaned.ends_with("x.pdf"));
        assert_eq!(clean_file_name(&"y".repeat(300)).chars().count(), MAX_FILE_NAME_CHARS);
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(MediaType::sniff(b"%PDF-1.7\n%\xe2\xe3"), Some(MediaType::Pdf));
        assert_eq!(MediaType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(MediaType::Png));
        assert_eq!(MediaType::sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), Some(MediaType::Jpeg));
        assert_eq!(MediaType::sniff(b"just some text, not a PDF"), None);
        assert_eq!(MediaType::sniff(b"GIF89a\x01\0\x01\0"), None);
        assert_eq!(MediaType::sniff(b""), None);
    }
}
