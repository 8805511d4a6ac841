//! Diesel queries on `webhook_endpoints` and `webhook_deliveries`, and the feed reads the
//! delivery worker needs.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{DeliveryOutcome, EventSelector, WebhookStatus};
use crate::auth::Role;
use crate::db::schema::{
    agency_clients, licence_events, users, webhook_deliveries as wd, webhook_endpoints as we,
};
use crate::db::stored::{RowContext, StoredJson};
use crate::db::DbConn;
use crate::domain::record_id::{EndpointId, LeaseHolder};
use crate::error::AppError;
use crate::licences::events::{self, Event, EventType};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = we)]
pub struct EndpointRow {
    pub id: String,
    pub owner_id: String,
    pub url: String,
    pub events: StoredJson<Vec<EventSelector>>,
    pub secret_sealed: String,
    pub status: WebhookStatus,
    pub disabled_reason: Option<String>,
    pub position: i64,
    pub last_delivered_seq: Option<i64>,
    /// Failed attempts at the event after `position`.
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub lease_until: Option<NaiveDateTime>,
    pub lease_holder: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = wd)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub message_id: String,
    pub event_seq: i64,
    pub event_type: EventType,
    pub attempt: i32,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub outcome: DeliveryOutcome,
    pub error: Option<String>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub duration_ms: i64,
}

pub fn insert(conn: &mut DbConn, row: &EndpointRow) -> Result<(), AppError> {
    diesel::insert_into(we::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<EndpointRow>, AppError> {
    we::table.find(id).select(EndpointRow::as_select()).first(conn).optional().of_row("webhook", id)
}

/// Endpoints in creation order; only `owner`'s when given.
pub fn list(
    conn: &mut DbConn,
    owner: Option<&str>,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<EndpointRow>, AppError> {
    let mut q = we::table.select(EndpointRow::as_select()).into_boxed();
    if let Some(owner) = owner {
        q = q.filter(we::owner_id.eq(owner.to_string()));
    }
    if let Some(after) = after {
        q = q.filter(we::id.gt(after));
    }
    Ok(q.order(we::id.asc()).limit(limit).load(conn)?)
}

/// What a PATCH writes: exactly the columns set here (`None` leaves one as it is).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = we)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub events: Option<StoredJson<Vec<EventSelector>>>,
    pub status: Option<WebhookStatus>,
    pub disabled_reason: Option<Option<String>>,
    pub attempts: Option<i32>,
    pub next_attempt_at: Option<Option<NaiveDateTime>>,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

impl EndpointChanges {
    /// Changes nothing yet but the version (to `version`) and `updated_at`.
    pub fn new(version: i64, updated_at: NaiveDateTime) -> Self {
        EndpointChanges {
            url: None,
            events: None,
            status: None,
            disabled_reason: None,
            attempts: None,
            next_attempt_at: None,
            version,
            updated_at,
        }
    }
}

/// Writes `changes` if the stored version is still `changes.version - 1`; returns rows changed.
pub fn update(conn: &mut DbConn, id: &str, changes: &EndpointChanges) -> Result<usize, AppError> {
    Ok(crate::versioned_update!(conn, we, id = id, changes)?)
}

pub fn delete(conn: &mut DbConn, id: &str) -> Result<(), AppError> {
    diesel::delete(wd::table.filter(wd::endpoint_id.eq(id))).execute(conn)?;
    diesel::delete(we::table.find(id)).execute(conn)?;
    Ok(())
}

pub use crate::licences::events::head as feed_head;

/// Active endpoints with feed events past their position, no attempt waiting for a later
/// time, no live lease, and an owner who may still read the feed (an active agency client or
/// admin): up to `limit` ids.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> Result<Vec<String>, AppError> {
    let head = feed_head(conn)?;
    let live_clients =
        agency_clients::table.filter(agency_clients::active.eq(true)).select(agency_clients::id);
    let live_admins = users::table
        .filter(users::active.eq(true))
        .filter(users::role.eq(Role::Admin.as_str()))
        .select(users::id);
    Ok(we::table
        .filter(we::status.eq(WebhookStatus::Active))
        .filter(we::position.lt(head))
        .filter(we::next_attempt_at.is_null().or(we::next_attempt_at.le(now)))
        .filter(we::lease_until.is_null().or(we::lease_until.le(now)))
        .filter(we::owner_id.eq_any(live_clients).or(we::owner_id.eq_any(live_admins)))
        .order(we::id.asc())
        .limit(limit)
        .select(we::id)
        .load(conn)?)
}

/// Takes the endpoint's lease until `until` for `holder` if it is active and no live lease
/// holds it (one compare-and-set UPDATE); returns the row when taken.
pub fn claim(
    conn: &mut DbConn,
    id: &EndpointId,
    holder: &LeaseHolder,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Option<EndpointRow>, AppError> {
    let taken = diesel::update(
        we::table
            .filter(we::id.eq(id.as_str()))
            .filter(we::status.eq(WebhookStatus::Active))
            .filter(we::lease_until.is_null().or(we::lease_until.le(now))),
    )
    .set((we::lease_until.eq(Some(until)), we::lease_holder.eq(Some(holder.as_str()))))
    .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    claimed(conn, id, holder)
}

/// The endpoint while `holder` has its lease (claimed it and has not lost it).
pub fn claimed(
    conn: &mut DbConn,
    id: &EndpointId,
    holder: &LeaseHolder,
) -> Result<Option<EndpointRow>, AppError> {
    Ok(we::table
        .filter(we::id.eq(id.as_str()))
        .filter(we::lease_holder.eq(holder.as_str()))
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()?)
}

/// Gives the lease back.
pub fn release(conn: &mut DbConn, id: &EndpointId, holder: &LeaseHolder) -> Result<(), AppError> {
    diesel::update(
        we::table.filter(we::id.eq(id.as_str())).filter(we::lease_holder.eq(holder.as_str())),
    )
    .set((we::lease_until.eq(None::<NaiveDateTime>), we::lease_holder.eq(None::<String>)))
    .execute(conn)?;
    Ok(())
}

/// The first feed event after `position` of `types` (every type when `None`), as the feed
/// serves it, and the last seq visible now (so a position can move past events of other
/// types: seqs commit in order without gaps, so none below it can still appear).
pub fn next_event(
    conn: &mut DbConn,
    position: i64,
    types: Option<&[EventType]>,
) -> Result<(Option<Event>, i64), AppError> {
    let visible: Option<i64> =
        licence_events::table.select(diesel::dsl::max(licence_events::seq)).first(conn)?;
    let mut q = licence_events::table
        .filter(licence_events::seq.gt(position))
        .select(licence_events::seq)
        .into_boxed();
    if let Some(types) = types {
        q = q.filter(licence_events::event_type.eq_any(types.to_vec()));
    }
    let seq: Option<i64> = q.order(licence_events::seq.asc()).first(conn).optional()?;
    let event = match seq {
        Some(seq) => events::list(conn, seq - 1, 1)?.items.into_iter().next(),
        None => None,
    };
    Ok((event, visible.unwrap_or(0).max(position)))
}

/// Moves a claimed endpoint's position forward past events it does not subscribe to.
pub fn pass(
    conn: &mut DbConn,
    id: &EndpointId,
    holder: &LeaseHolder,
    to: i64,
) -> Result<(), AppError> {
    diesel::update(
        we::table
            .filter(we::id.eq(id.as_str()))
            .filter(we::lease_holder.eq(holder.as_str()))
            .filter(we::position.lt(to)),
    )
    .set(we::position.eq(to))
    .execute(conn)?;
    Ok(())
}

/// What an attempt changes on its (claimed) endpoint.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = we)]
pub struct Progress {
    pub position: Option<i64>,
    pub last_delivered_seq: Option<Option<i64>>,
    pub attempts: i32,
    /// Always written: NULL unless a retry waits.
    pub next_attempt_at: Option<Option<NaiveDateTime>>,
    pub status: Option<WebhookStatus>,
    pub disabled_reason: Option<Option<String>>,
    pub lease_until: Option<NaiveDateTime>,
    pub version: Option<i64>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Writes an attempt's progress if `holder` still has the lease; returns rows changed.
pub fn progress(
    conn: &mut DbConn,
    id: &EndpointId,
    holder: &LeaseHolder,
    progress: &Progress,
) -> Result<usize, AppError> {
    Ok(diesel::update(
        we::table.filter(we::id.eq(id.as_str())).filter(we::lease_holder.eq(holder.as_str())),
    )
    .set(progress)
    .execute(conn)?)
}

pub fn insert_delivery(conn: &mut DbConn, row: &DeliveryRow) -> Result<(), AppError> {
    diesel::insert_into(wd::table).values(row).execute(conn)?;
    Ok(())
}

/// An endpoint's attempts, oldest first.
pub fn deliveries(
    conn: &mut DbConn,
    endpoint_id: &str,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, AppError> {
    let mut q = wd::table
        .filter(wd::endpoint_id.eq(endpoint_id.to_string()))
        .select(DeliveryRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(wd::id.gt(after));
    }
    Ok(q.order(wd::id.asc()).limit(limit).load(conn)?)
}

/// Deletes up to `batch` delivery attempts made before `cutoff`, oldest first (retention,
/// API.md §16); answers how many went. The caller repeats until fewer than `batch` go.
pub fn prune_deliveries(
    conn: &mut DbConn,
    cutoff: NaiveDateTime,
    batch: i64,
) -> QueryResult<usize> {
    let ids: Vec<String> = wd::table
        .filter(wd::attempted_at.lt(cutoff))
        .order(wd::attempted_at.asc())
        .select(wd::id)
        .limit(batch)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(wd::table.filter(wd::id.eq_any(&ids))).execute(conn)
}
