//! Diesel queries on `documents`. Metadata reads never load the bytes; only [`content`] does.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{DocumentKind, MediaType};
use crate::db::schema::{applications, documents, payments, people};
use crate::db::stored::StoredJson;
use crate::db::DbConn;
use crate::domain::record_id::{OrganisationId, PersonId};
use crate::error::AppError;

/// A document's metadata row (everything but `content`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    pub id: String,
    pub organisation_id: String,
    pub kind: DocumentKind,
    pub person_id: Option<String>,
    pub site_id: Option<String>,
    pub file_name: String,
    pub content_type: MediaType,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_at: NaiveDateTime,
    pub uploaded_by: String,
}

pub fn insert(conn: &mut DbConn, row: &DocumentRow, content: &[u8]) -> Result<(), AppError> {
    diesel::insert_into(documents::table)
        .values((row, documents::content.eq(content)))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<DocumentRow>, AppError> {
    Ok(documents::table.find(id).select(DocumentRow::as_select()).first(conn).optional()?)
}

/// The stored bytes of a document.
pub fn content(conn: &mut DbConn, id: &str) -> Result<Option<Vec<u8>>, AppError> {
    Ok(documents::table.find(id).select(documents::content).first(conn).optional()?)
}

pub fn list(
    conn: &mut DbConn,
    org_id: &str,
    kind: Option<DocumentKind>,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<DocumentRow>, AppError> {
    let mut q = documents::table
        .filter(documents::organisation_id.eq(org_id))
        .select(DocumentRow::as_select())
        .into_boxed();
    if let Some(kind) = kind {
        q = q.filter(documents::kind.eq(kind));
    }
    if let Some(after) = after {
        q = q.filter(documents::id.gt(after));
    }
    Ok(q.order(documents::id.asc()).limit(limit).load(conn)?)
}

pub fn delete(conn: &mut DbConn, id: &str) -> Result<usize, AppError> {
    Ok(diesel::delete(documents::table.find(id)).execute(conn)?)
}

/// What a document on file is of, without its file.
#[derive(Debug, Queryable)]
pub struct OnFile {
    pub kind: DocumentKind,
    pub person_id: Option<String>,
    pub site_id: Option<String>,
}

/// What each of an organisation's documents on file is of.
pub fn on_file(conn: &mut DbConn, org_id: &str) -> Result<Vec<OnFile>, AppError> {
    Ok(documents::table
        .filter(documents::organisation_id.eq(org_id))
        .select((documents::kind, documents::person_id, documents::site_id))
        .load(conn)?)
}

/// The organisation's people as (id, full name), in order of registration.
pub fn people(conn: &mut DbConn, org_id: &str) -> Result<Vec<(String, String)>, AppError> {
    Ok(people::table
        .filter(people::organisation_id.eq(org_id))
        .select((people::id, people::full_name))
        .order(people::id.asc())
        .load(conn)?)
}

pub fn is_person_of(
    conn: &mut DbConn,
    org_id: &OrganisationId,
    person_id: &PersonId,
) -> Result<bool, AppError> {
    Ok(diesel::select(diesel::dsl::exists(
        people::table
            .filter(people::id.eq(person_id.as_str()))
            .filter(people::organisation_id.eq(org_id.as_str())),
    ))
    .get_result(conn)?)
}

/// The statuses of an application under review, whose dossier may not change under it.
/// (Written out rather than taken from `applications::Status`: `applications` calls into this
/// concept for `/submit`, and the module graph stays acyclic.)
const UNDER_REVIEW: [&str; 2] = ["submitted", "info_requested"];

/// The site ids of each of the organisation's applications under review (one list per
/// application; none if no application is under review).
pub fn site_ids_under_review(
    conn: &mut DbConn,
    org_id: &str,
) -> Result<Vec<Vec<String>>, AppError> {
    let rows: Vec<StoredJson<Vec<String>>> = applications::table
        .filter(applications::organisation_id.eq(org_id))
        .filter(applications::status.eq_any(UNDER_REVIEW))
        .select(applications::site_ids)
        .load(conn)?;
    Ok(rows.into_iter().map(StoredJson::into_inner).collect())
}

pub fn is_payment_receipt(conn: &mut DbConn, id: &str) -> Result<bool, AppError> {
    Ok(diesel::select(diesel::dsl::exists(
        payments::table.filter(payments::receipt_document_id.eq(id)),
    ))
    .get_result(conn)?)
}
