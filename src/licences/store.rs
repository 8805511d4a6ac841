//! Diesel queries on `licences` and the licence serial.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::{Category, LicenceStatus};
use crate::db::schema::{licence_sites, licences, registry_locks};
use crate::db::stored::{RowContext, StoredJson};
use crate::db::DbConn;
use crate::domain::transition::Transition as Step;
use crate::error::AppError;
use crate::http::pagination::{Sort, SortedPosition};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = licences)]
pub struct LicenceRow {
    pub licence_number: String,
    pub organisation_id: String,
    pub application_id: String,
    pub holder: String,
    pub site_ids: StoredJson<Vec<String>>,
    pub category: Category,
    pub status: LicenceStatus,
    pub issued_at: NaiveDateTime,
    pub valid_from: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub suspended_until: Option<String>,
    pub conditions: StoredJson<Vec<String>>,
    pub history: StoredJson<Vec<Step>>,
    pub version: i64,
    pub updated_at: NaiveDateTime,
    /// While provisional: when it lapses unless confirmed by a pre-licence inspection.
    pub provisional_until: Option<NaiveDateTime>,
}

/// The next licence serial. The counter row is locked until commit, so serials are unique
/// across processes; a rolled-back transaction gives its number back unissued.
pub fn next_serial(conn: &mut DbConn) -> Result<i64, AppError> {
    diesel::update(registry_locks::table.find("licence_serial"))
        .set(registry_locks::counter.eq(registry_locks::counter + 1))
        .execute(conn)?;
    Ok(registry_locks::table.find("licence_serial").select(registry_locks::counter).first(conn)?)
}

pub fn insert(conn: &mut DbConn, row: &LicenceRow) -> Result<(), AppError> {
    diesel::insert_into(licences::table).values(row).execute(conn)?;
    Ok(())
}

pub fn insert_sites(conn: &mut DbConn, number: &str, site_ids: &[String]) -> Result<(), AppError> {
    for site in site_ids {
        diesel::insert_into(licence_sites::table)
            .values((licence_sites::licence_number.eq(number), licence_sites::site_id.eq(site)))
            .execute(conn)?;
    }
    Ok(())
}

/// Licences covering any of `site_ids`: (site_id, licence).
pub fn for_sites(
    conn: &mut DbConn,
    site_ids: &[String],
) -> Result<Vec<(String, LicenceRow)>, AppError> {
    if site_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(licence_sites::table
        .inner_join(licences::table.on(licences::licence_number.eq(licence_sites::licence_number)))
        .filter(licence_sites::site_id.eq_any(site_ids))
        .select((licence_sites::site_id, LicenceRow::as_select()))
        .load(conn)?)
}

/// Licences of any of `org_ids`.
pub fn for_organisations(
    conn: &mut DbConn,
    org_ids: &[String],
) -> Result<Vec<LicenceRow>, AppError> {
    if org_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(licences::table
        .filter(licences::organisation_id.eq_any(org_ids))
        .select(LicenceRow::as_select())
        .load(conn)?)
}

pub fn find_many(conn: &mut DbConn, numbers: &[String]) -> Result<Vec<LicenceRow>, AppError> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    Ok(licences::table
        .filter(licences::licence_number.eq_any(numbers))
        .select(LicenceRow::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConn, number: &str) -> Result<Option<LicenceRow>, AppError> {
    licences::table
        .find(number)
        .select(LicenceRow::as_select())
        .first(conn)
        .optional()
        .of_row("licence", number)
}

/// What a licence change writes: exactly these columns (`None` leaves one as it is).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = licences)]
pub struct LicenceChanges {
    pub status: Option<LicenceStatus>,
    pub expires_at: Option<NaiveDateTime>,
    pub suspended_until: Option<Option<String>>,
    pub provisional_until: Option<Option<NaiveDateTime>>,
    pub history: StoredJson<Vec<Step>>,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

/// Writes `changes` if the stored version is still `changes.version - 1`; returns rows changed.
pub fn update(
    conn: &mut DbConn,
    number: &str,
    changes: &LicenceChanges,
) -> Result<usize, AppError> {
    Ok(crate::versioned_update!(conn, licences, licence_number = number, changes)?)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub owner_id: Option<String>,
    pub organisation_id: Option<String>,
    /// An effective status (`expired` included), evaluated at `now`.
    pub status: Option<super::LicenceStatus>,
    /// Case-insensitive contains.
    pub holder: Option<String>,
}

/// What licences sort by (§1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceSort {
    LicenceNumber,
    Holder,
    IssuedAt,
    ExpiresAt,
}

pub const LICENCE_SORTS: [(&str, LicenceSort); 4] = [
    ("licence_number", LicenceSort::LicenceNumber),
    ("holder", LicenceSort::Holder),
    ("issued_at", LicenceSort::IssuedAt),
    ("expires_at", LicenceSort::ExpiresAt),
];

/// A row's position under `sort`, for the next page's cursor.
pub fn position(row: &LicenceRow, sort: &str, field: LicenceSort) -> SortedPosition {
    use crate::http::pagination::time_key;
    let value = match field {
        LicenceSort::LicenceNumber => row.licence_number.clone(),
        LicenceSort::Holder => row.holder.clone(),
        LicenceSort::IssuedAt => time_key(row.issued_at),
        LicenceSort::ExpiresAt => time_key(row.expires_at),
    };
    SortedPosition { sort: sort.to_string(), value, id: row.licence_number.clone() }
}

/// Lists by `sort`, then licence number; `after` is the previous page's last position.
pub fn list_sorted(
    conn: &mut DbConn,
    f: &Filter,
    now: NaiveDateTime,
    sort: Sort<LicenceSort>,
    after: Option<SortedPosition>,
    limit: i64,
) -> Result<Vec<LicenceRow>, AppError> {
    use crate::http::pagination::{parse_time_key, text_key};
    use licences::{expires_at, holder, issued_at, licence_number as id};
    let mut q = filtered(f, now);
    let q = match sort.field {
        LicenceSort::LicenceNumber => crate::keyset_page!(q, sort, &after, id, id, text_key),
        LicenceSort::Holder => crate::keyset_page!(q, sort, &after, id, holder, text_key),
        LicenceSort::IssuedAt => {
            crate::keyset_page!(q, sort, &after, id, issued_at, parse_time_key)
        }
        LicenceSort::ExpiresAt => {
            crate::keyset_page!(q, sort, &after, id, expires_at, parse_time_key)
        }
    };
    Ok(q.limit(limit).load(conn)?)
}

pub fn list(
    conn: &mut DbConn,
    f: &Filter,
    now: NaiveDateTime,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<LicenceRow>, AppError> {
    let mut q = filtered(f, now);
    if let Some(after) = after {
        q = q.filter(licences::licence_number.gt(after));
    }
    Ok(q.order(licences::licence_number.asc()).limit(limit).load(conn)?)
}

type LicenceSelect = diesel::dsl::AsSelect<LicenceRow, crate::db::Backend>;

fn filtered(
    f: &Filter,
    now: NaiveDateTime,
) -> licences::BoxedQuery<'static, crate::db::Backend, LicenceSelect> {
    let mut q = licences::table.select(LicenceRow::as_select()).into_boxed();
    if let Some(v) = &f.holder {
        q = q.filter(
            crate::db::lower(licences::holder)
                .like(crate::db::lower(crate::http::pagination::contains_pattern(v)))
                .escape('\\'),
        );
    }
    if let Some(owner) = &f.owner_id {
        q = q
            .filter(licences::organisation_id.eq_any(crate::organisations::store::owned_by(owner)));
    }
    if let Some(v) = &f.organisation_id {
        q = q.filter(licences::organisation_id.eq(v.clone()));
    }
    if let Some(status) = f.status {
        q = q.filter(status_is(status, now));
    }
    q
}

/// A boolean SQL condition on a licence, usable in any query that joins `licences`.
pub type Condition<QS> = Box<dyn BoxableExpression<QS, crate::db::Backend, SqlType = Bool>>;

/// The SQL form of `LicenceStatus::as_of(expires_at, provisional_until, now) == wanted`: the
/// one place the rule of [`crate::domain::licence_status`] is written as a query condition
/// (the listing's `status` filter and the statistics both use it; a test checks it against
/// the Rust rule for every stored status and every placing of the dates).
pub fn status_is<QS>(wanted: LicenceStatus, now: NaiveDateTime) -> Condition<QS>
where
    licences::status: SelectableExpression<QS>,
    licences::expires_at: SelectableExpression<QS>,
    licences::provisional_until: SelectableExpression<QS>,
{
    use LicenceStatus::*;
    let live = licences::expires_at.gt(now);
    // A provisional licence always has `provisional_until` (a CHECK); were it missing, the
    // licence would read lapsed, as in the Rust rule.
    let until = crate::db::time_or(licences::provisional_until, now);
    match wanted {
        Active => Box::new(licences::status.eq(Active).and(live)),
        Suspended => Box::new(licences::status.eq(Suspended).and(live)),
        Provisional => Box::new(licences::status.eq(Provisional).and(live).and(until.gt(now))),
        Lapsed => Box::new(licences::status.eq(Provisional).and(live).and(until.le(now))),
        Expired => Box::new(
            licences::status
                .eq_any([Active, Provisional, Suspended])
                .and(licences::expires_at.le(now)),
        ),
        Revoked => Box::new(licences::status.eq(Revoked)),
        Surrendered => Box::new(licences::status.eq(Surrendered)),
    }
}

/// The SQL form of [`crate::domain::licence_status::in_force`]: a status as of `now` that is
/// in force (`LicenceStatus::in_force`), built from [`status_is`].
pub fn in_force<QS: 'static>(now: NaiveDateTime) -> Condition<QS>
where
    licences::status: SelectableExpression<QS>,
    licences::expires_at: SelectableExpression<QS>,
    licences::provisional_until: SelectableExpression<QS>,
{
    LicenceStatus::ALL
        .iter()
        .filter(|s| s.in_force())
        .map(|s| status_is(*s, now))
        .reduce(|any, one| Box::new(any.or(one)))
        .unwrap_or_else(|| Box::new(licences::status.eq_any(Vec::<LicenceStatus>::new())))
}
