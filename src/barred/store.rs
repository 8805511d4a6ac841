//! Diesel queries on `barred_persons`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{barred_persons, people};
use crate::db::DbConn;
use crate::organisations::store::PersonRow;
use crate::organisations::IdType;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = barred_persons)]
pub struct BarredRow {
    pub id: String,
    pub person_id: String,
    pub id_type: IdType,
    pub id_number: String,
    pub full_name: String,
    pub licence_number: String,
    pub organisation_id: String,
    pub barred_at: NaiveDateTime,
    pub barred_until: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &BarredRow) -> QueryResult<()> {
    diesel::insert_into(barred_persons::table).values(row).execute(conn).map(drop)
}

pub fn people_of(conn: &mut DbConn, organisation_id: &str) -> QueryResult<Vec<PersonRow>> {
    people::table
        .filter(people::organisation_id.eq(organisation_id))
        .select(PersonRow::as_select())
        .load(conn)
}

/// The people of these organisations who share an identity with a bar still running at `now`:
/// (organisation, person, the bar).
pub fn matches(
    conn: &mut DbConn,
    organisation_ids: &[String],
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, String, BarredRow)>> {
    people::table
        .inner_join(
            barred_persons::table.on(barred_persons::id_type
                .eq(people::id_type)
                .and(barred_persons::id_number.eq(people::id_number))),
        )
        .filter(people::organisation_id.eq_any(organisation_ids))
        .filter(barred_persons::barred_until.gt(now))
        .order((people::id.asc(), barred_persons::barred_at.asc()))
        .select((people::organisation_id, people::id, BarredRow::as_select()))
        .load(conn)
}

pub fn list(conn: &mut DbConn, after: Option<String>, limit: i64) -> QueryResult<Vec<BarredRow>> {
    let mut q = barred_persons::table.select(BarredRow::as_select()).into_boxed();
    if let Some(after) = after {
        q = q.filter(barred_persons::id.gt(after));
    }
    q.order(barred_persons::id.asc()).limit(limit).load(conn)
}
