//! Diesel queries on `organisations` and `people`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{organisations, people};
use crate::db::stored::{RowContext, StoredJson};
use crate::db::DbConn;
use crate::domain::record_id::{OrganisationId, PersonId};
use crate::domain::Address;
use crate::error::AppError;
use crate::http::pagination::{Sort, SortedPosition};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations)]
pub struct OrgRow {
    pub id: String,
    pub owner_id: String,
    pub legal_name: String,
    pub trade_name: Option<String>,
    pub registration_number: String,
    pub tax_number: String,
    pub registered_address: StoredJson<Address>,
    pub contact_email: String,
    pub contact_phone: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = people)]
pub struct PersonRow {
    pub id: String,
    pub organisation_id: String,
    pub full_name: String,
    pub roles: StoredJson<Vec<super::PersonRole>>,
    pub id_type: super::IdType,
    pub id_number: String,
    pub nationality: String,
    pub ownership_bp: i32,
    pub created_at: NaiveDateTime,
}

/// The ids of an owner's organisations, as a subquery: `x.organisation_id.eq_any(owned_by(o))`
/// scopes any list to what an operator owns.
pub fn owned_by(
    owner: &str,
) -> diesel::dsl::Select<
    diesel::dsl::Filter<organisations::table, diesel::dsl::Eq<organisations::owner_id, String>>,
    organisations::id,
> {
    organisations::table
        .filter(organisations::owner_id.eq(owner.to_string()))
        .select(organisations::id)
}

pub fn insert(conn: &mut DbConn, row: &OrgRow) -> Result<(), AppError> {
    diesel::insert_into(organisations::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<OrgRow>, AppError> {
    organisations::table
        .find(id)
        .select(OrgRow::as_select())
        .first(conn)
        .optional()
        .of_row("organisation", id)
}

/// Which of an organisation's keys [`find_many`] looks up by.
#[derive(Debug, Clone, Copy)]
pub enum OrgKey {
    Id,
    RegistrationNumber,
    TaxNumber,
}

/// The organisations whose `key` is one of `values`, in no particular order: one indexed
/// query per kind of key (an OR of IN lists would make SQLite scan the table).
pub fn find_many(
    conn: &mut DbConn,
    key: OrgKey,
    values: &[String],
) -> Result<Vec<OrgRow>, AppError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let q = organisations::table.select(OrgRow::as_select());
    Ok(match key {
        OrgKey::Id => q.filter(organisations::id.eq_any(values)).load(conn)?,
        OrgKey::RegistrationNumber => {
            q.filter(organisations::registration_number.eq_any(values)).load(conn)?
        }
        OrgKey::TaxNumber => q.filter(organisations::tax_number.eq_any(values)).load(conn)?,
    })
}

pub fn id_by_registration_number(conn: &mut DbConn, n: &str) -> Result<Option<String>, AppError> {
    Ok(organisations::table
        .filter(organisations::registration_number.eq(n))
        .select(organisations::id)
        .first(conn)
        .optional()?)
}

pub fn id_by_tax_number(conn: &mut DbConn, n: &str) -> Result<Option<String>, AppError> {
    Ok(organisations::table
        .filter(organisations::tax_number.eq(n))
        .select(organisations::id)
        .first(conn)
        .optional()?)
}

#[derive(Debug, Default)]
pub struct Filter {
    /// Only this owner's organisations (operators).
    pub owner_id: Option<String>,
    pub registration_number: Option<String>,
    pub tax_number: Option<String>,
    /// Case-insensitive contains.
    pub legal_name: Option<String>,
}

/// What organisations sort by (§1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgSort {
    LegalName,
    CreatedAt,
}

pub const ORG_SORTS: [(&str, OrgSort); 2] =
    [("legal_name", OrgSort::LegalName), ("created_at", OrgSort::CreatedAt)];

/// A row's position under `sort`, for the next page's cursor.
pub fn position(row: &OrgRow, sort: &str, field: OrgSort) -> SortedPosition {
    let value = match field {
        OrgSort::LegalName => row.legal_name.clone(),
        OrgSort::CreatedAt => crate::http::pagination::time_key(row.created_at),
    };
    SortedPosition { sort: sort.to_string(), value, id: row.id.clone() }
}

/// Lists by id, or by `sort` then id; `after` is the previous page's last position.
pub fn list_sorted(
    conn: &mut DbConn,
    f: &Filter,
    sort: Sort<OrgSort>,
    after: Option<SortedPosition>,
    limit: i64,
) -> Result<Vec<OrgRow>, AppError> {
    use organisations::{created_at, id, legal_name};
    let mut q = filtered(f, matches!(conn, DbConn::Sqlite(_)));
    use crate::http::pagination::{parse_time_key, text_key};
    let q = match sort.field {
        OrgSort::LegalName => crate::keyset_page!(q, sort, &after, id, legal_name, text_key),
        OrgSort::CreatedAt => crate::keyset_page!(q, sort, &after, id, created_at, parse_time_key),
    };
    Ok(q.limit(limit).load(conn)?)
}

/// The filters as a query. On SQLite a `legal_name` of three or more characters without
/// wildcards first asks the trigram index (`organisation_names`, FTS5) for candidates, which
/// the exact test below then checks; PostgreSQL's planner uses its trigram index by itself.
fn filtered(
    f: &Filter,
    sqlite: bool,
) -> organisations::BoxedQuery<'static, crate::db::Backend, OrgSelect> {
    let mut q = organisations::table.select(OrgRow::as_select()).into_boxed();
    if let Some(v) = &f.owner_id {
        q = q.filter(organisations::owner_id.eq(v.clone()));
    }
    if let Some(v) = &f.registration_number {
        q = q.filter(organisations::registration_number.eq(v.clone()));
    }
    if let Some(v) = &f.tax_number {
        q = q.filter(organisations::tax_number.eq(v.clone()));
    }
    if let Some(v) = &f.legal_name {
        let term = v.trim();
        if sqlite && term.chars().count() >= 3 && !term.contains(['%', '_', '\\']) {
            use diesel::sql_types::{Bool, Text};
            q = q.filter(
                diesel::dsl::sql::<Bool>(
                    "organisations.id IN (SELECT id FROM organisation_names WHERE legal_name LIKE ",
                )
                .bind::<Text, _>(format!("%{term}%"))
                .sql(")"),
            );
        }
        q = q.filter(
            crate::db::lower(organisations::legal_name)
                .like(crate::db::lower(crate::http::pagination::contains_pattern(v)))
                .escape('\\'),
        );
    }
    q
}

type OrgSelect = diesel::dsl::AsSelect<OrgRow, crate::db::Backend>;

pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<OrgRow>, AppError> {
    let mut q = filtered(f, matches!(conn, DbConn::Sqlite(_)));
    if let Some(after) = after {
        q = q.filter(organisations::id.gt(after));
    }
    Ok(q.order(organisations::id.asc()).limit(limit).load(conn)?)
}

/// Writes `row` if its stored version is still `row.version - 1`; returns rows changed.
pub fn update(conn: &mut DbConn, row: &OrgRow) -> Result<usize, AppError> {
    Ok(diesel::update(
        organisations::table
            .filter(organisations::id.eq(&row.id))
            .filter(organisations::version.eq(row.version - 1)),
    )
    .set((
        organisations::legal_name.eq(&row.legal_name),
        organisations::trade_name.eq(&row.trade_name),
        organisations::registration_number.eq(&row.registration_number),
        organisations::tax_number.eq(&row.tax_number),
        organisations::registered_address.eq(&row.registered_address),
        organisations::contact_email.eq(&row.contact_email),
        organisations::contact_phone.eq(&row.contact_phone),
        organisations::version.eq(row.version),
        organisations::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?)
}

/// Takes the organisation's row lock (a no-op write) until the transaction ends.
/// The ids of the documents filed for a person.
pub fn documents_of_person(conn: &mut DbConn, person_id: &str) -> Result<Vec<String>, AppError> {
    use crate::db::schema::documents;
    Ok(documents::table
        .filter(documents::person_id.eq(person_id))
        .select(documents::id)
        .load(conn)?)
}

pub fn lock(conn: &mut DbConn, id: &str) -> Result<(), AppError> {
    diesel::update(organisations::table.find(id))
        .set(organisations::version.eq(organisations::version))
        .execute(conn)?;
    Ok(())
}

pub fn ownership_total(conn: &mut DbConn, org_id: &str) -> Result<i64, AppError> {
    let bps: Vec<i32> = people::table
        .filter(people::organisation_id.eq(org_id))
        .select(people::ownership_bp)
        .load(conn)?;
    Ok(bps.into_iter().map(i64::from).sum())
}

pub fn person_exists(
    conn: &mut DbConn,
    org_id: &OrganisationId,
    id_type: super::IdType,
    id_number: &str,
) -> Result<bool, AppError> {
    let n: i64 = people::table
        .filter(people::organisation_id.eq(org_id.as_str()))
        .filter(people::id_type.eq(id_type))
        .filter(people::id_number.eq(id_number))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn insert_person(conn: &mut DbConn, row: &PersonRow) -> Result<(), AppError> {
    diesel::insert_into(people::table).values(row).execute(conn)?;
    Ok(())
}

pub fn count_people(conn: &mut DbConn, org_id: &str) -> Result<i64, AppError> {
    Ok(people::table.filter(people::organisation_id.eq(org_id)).count().get_result(conn)?)
}

pub fn list_people(
    conn: &mut DbConn,
    org_id: &str,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<PersonRow>, AppError> {
    let mut q = people::table
        .filter(people::organisation_id.eq(org_id))
        .select(PersonRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(people::id.gt(after));
    }
    Ok(q.order(people::id.asc()).limit(limit).load(conn)?)
}

pub fn find_person(
    conn: &mut DbConn,
    org_id: &OrganisationId,
    person_id: &PersonId,
) -> Result<Option<PersonRow>, AppError> {
    Ok(people::table
        .filter(people::organisation_id.eq(org_id.as_str()))
        .filter(people::id.eq(person_id.as_str()))
        .select(PersonRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn delete_person(
    conn: &mut DbConn,
    org_id: &OrganisationId,
    person_id: &PersonId,
) -> Result<usize, AppError> {
    Ok(diesel::delete(
        people::table
            .filter(people::id.eq(person_id.as_str()))
            .filter(people::organisation_id.eq(org_id.as_str())),
    )
    .execute(conn)?)
}
