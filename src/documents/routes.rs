//! `/api/v1/organisations/{id}/documents` and `/api/v1/documents/{id}`.

use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{delete, get, post, web, HttpResponse, HttpResponseBuilder};
use serde::Deserialize;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use super::{store, Document, DocumentKind, DocumentRow, DocumentUpload, UploadForm};
use crate::auth::visible::resolve;
use crate::auth::Principal;
use crate::error::AppError;
use crate::http::idempotency::{self, Created};
use crate::http::{IdempotencyKey, Page, PageParams, Query};
use crate::organisations::OrgRow;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentFilter {
    pub kind: Option<DocumentKind>,
}

/// A document's bytes, for the OpenAPI document.
pub struct DocumentBytes;

impl PartialSchema for DocumentBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The file's bytes, exactly as uploaded"))
            .into()
    }
}

impl ToSchema for DocumentBytes {}

/// Upload a document to an organisation's dossier (its owner): `multipart/form-data` with the
/// parts `file`, `kind`, and `person_id` or `site_id` where the kind needs one.
#[utoipa::path(
    tag = "documents",
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    params(
        ("id" = Uuid, Path, description = "The organisation's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for a retried request (1 to 255 visible ASCII characters)", pattern = r"^[\x21-\x7E]+$", min_length = 1, max_length = 255),
    ),
    responses(
        (status = 201, description = "Stored; `content_type` as recognised from the bytes", body = Document,
         headers(("Location" = String, description = "The new document"))),
        (status = 400, description = "A malformed multipart body or header value"),
        (status = 404, description = "No such organisation, or not the caller's"),
        (status = 413, description = "The file is over 10 MiB"),
        (status = 415, description = "The body is not multipart/form-data, or the file is not a PDF, PNG or JPEG"),
        (status = 422, description = "Missing, empty, unknown or invalid parts (each listed)"),
    ),
    security(("bearer" = []))
)]
#[post("/organisations/{id}/documents")]
pub async fn upload_document(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    form: UploadForm,
) -> Result<HttpResponse, AppError> {
    let (org_id, now, fingerprint) = (id.to_string(), state.now(), form.fingerprint());
    idempotency::create(&state.db, state.clock.clone(), key, fingerprint, move |conn| {
        let org = resolve::<OrgRow>(conn, &who, &org_id)?;
        let row = super::upload(conn, now, &who, &org, &form)?;
        Created::new(format!("/api/v1/documents/{}", row.id), 1, &Document::from(row))
    })
    .await
}

/// List an organisation's documents (its owner, and staff).
#[utoipa::path(
    tag = "documents",
    params(("id" = Uuid, Path, description = "The organisation's id"), PageParams, DocumentFilter),
    responses(
        (status = 200, description = "A page of documents' metadata", body = Page<Document>),
        (status = 404, description = "No such organisation, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/organisations/{id}/documents")]
pub async fn list_documents(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
    filter: Query<DocumentFilter>,
) -> Result<web::Json<Page<Document>>, AppError> {
    let (limit, after, id, kind) = (page.limit()?, page.after()?, id.to_string(), filter.kind);
    let rows = state
        .db
        .read(move |conn| {
            let org = resolve::<OrgRow>(conn, &who, &id)?;
            store::list(conn, &org.id, kind, after, limit + 1)
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, limit, |r| r.id.clone(), Document::from)))
}

/// Read a document's metadata.
#[utoipa::path(
    tag = "documents",
    params(("id" = Uuid, Path, description = "The document's id")),
    responses(
        (status = 200, description = "The document's metadata", body = Document),
        (status = 404, description = "No such document, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/documents/{id}")]
pub async fn get_document(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<web::Json<Document>, AppError> {
    let id = id.to_string();
    let row =
        state.db.read(move |conn| resolve::<DocumentRow>(conn, &who, &id)).await?.into_inner();
    Ok(web::Json(Document::from(row)))
}

/// Download a document's bytes, exactly as uploaded, as an attachment.
///
/// Every download, by anyone, is audited as `document.read` (who, which).
#[utoipa::path(
    tag = "documents",
    params(("id" = Uuid, Path, description = "The document's id")),
    responses(
        (status = 200, description = "The bytes, with the type recognised at upload",
         content((DocumentBytes = "application/pdf"), (DocumentBytes = "image/png"), (DocumentBytes = "image/jpeg")),
         headers(
             ("ETag" = String, description = "The SHA-256 of the bytes (hex), in quotes"),
             ("Content-Disposition" = String, description = "attachment, with the stored file name (`filename*` for non-ASCII names)"),
             ("X-Content-Type-Options" = String, description = "nosniff"),
         )),
        (status = 404, description = "No such document, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/documents/{id}/content")]
pub async fn get_document_content(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.to_string(), state.now());
    let (row, bytes) = state
        .db
        .write(move |conn| {
            let doc = resolve::<DocumentRow>(conn, &who, &id)?;
            super::read_content(conn, now, &who, doc)
        })
        .await?;
    Ok(stored_file(row.content_type, &row.sha256)
        .insert_header((header::CONTENT_DISPOSITION, attachment(&row.file_name)))
        .body(bytes))
}

/// A stored file's answer: its recognised type, never sniffed by the browser, its SHA-256 as
/// the ETag, cached by no one else.
pub fn stored_file(content_type: super::MediaType, sha256: &str) -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, content_type.as_str()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::ETAG, format!("\"{sha256}\"")))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    response
}

/// `attachment; filename="<ASCII fallback>"`, plus `filename*` (RFC 6266) for a non-ASCII name.
fn attachment(file_name: &str) -> ContentDisposition {
    let fallback: String =
        file_name
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
    let mut parameters = vec![DispositionParam::Filename(fallback)];
    if !file_name.is_ascii() {
        parameters.push(DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: file_name.as_bytes().to_vec(),
        }));
    }
    ContentDisposition { disposition: DispositionType::Attachment, parameters }
}

/// Delete a document (its owner), unless an application under review relies on it.
#[utoipa::path(
    tag = "documents",
    params(("id" = Uuid, Path, description = "The document's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such document, or not the caller's"),
        (status = 409, description = "An application under review (submitted or info_requested) needs a document of this kind (a premises_proof: of this site), or a payment names it as its receipt"),
    ),
    security(("bearer" = []))
)]
#[delete("/documents/{id}")]
pub async fn delete_document(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.to_string(), state.now());
    state
        .db
        .write(move |conn| {
            let doc = resolve::<DocumentRow>(conn, &who, &id)?;
            super::delete(conn, now, &who, doc)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_are_quoted_and_non_ascii_goes_in_filename_star() {
        assert_eq!(attachment("scan.pdf").to_string(), r#"attachment; filename="scan.pdf""#);
        assert_eq!(attachment(r#"a"b.pdf"#).to_string(), r#"attachment; filename="a_b.pdf""#);
        assert_eq!(
            attachment("رسید.pdf").to_string(),
            "attachment; filename=\"____.pdf\"; filename*=UTF-8''%D8%B1%D8%B3%DB%8C%D8%AF.pdf"
        );
    }
}
