//! The change feed. An event's `seq` comes from the `events` lock row, bumped inside the
//! transaction that makes the change; PostgreSQL holds that row lock until commit, so no other
//! transaction can take the next number before this one is visible. Seqs therefore appear in
//! commit order with no gaps, and a client resuming `after` a seq never misses one (a plain
//! sequence would not do: a lower number can commit after a higher one has been read).

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{licence_events, registry_locks};
use crate::db::DbConn;
use crate::domain::LicenceStatus;
use crate::error::AppError;

crate::stored_enum! {
    /// What happened to a licence, named in the past tense.
    #[derive(ToSchema)]
    pub enum EventType in "licence_events.event_type" {
        Issued = "issued",
        /// A provisional licence passed its pre-licence inspection and is now active.
        Confirmed = "confirmed",
        Suspended = "suspended",
        Reinstated = "reinstated",
        Revoked = "revoked",
        Surrendered = "surrendered",
        Renewed = "renewed",
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub licence_number: String,
    /// The licence's status after the event.
    pub status: LicenceStatus,
    pub expires_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
    /// While provisional: when the licence lapses unless confirmed (mirrors derive `lapsed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisional_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<Event>,
    /// Pass as `after` to continue; equal to the request's `after` when nothing is new.
    pub next_after: i64,
}

/// Events appended by this process (some may yet roll back): the webhook worker is woken when
/// a request moves it.
static APPENDED: AtomicU64 = AtomicU64::new(0);

pub fn appended() -> u64 {
    APPENDED.load(Ordering::Relaxed)
}

pub fn append(
    conn: &mut DbConn,
    at: NaiveDateTime,
    event_type: EventType,
    licence_number: &str,
    status: LicenceStatus,
    expires_at: NaiveDateTime,
    provisional_until: Option<NaiveDateTime>,
) -> Result<i64, AppError> {
    diesel::update(registry_locks::table.find("events"))
        .set(registry_locks::counter.eq(registry_locks::counter + 1))
        .execute(conn)?;
    let seq: i64 =
        registry_locks::table.find("events").select(registry_locks::counter).first(conn)?;
    diesel::insert_into(licence_events::table)
        .values((
            licence_events::seq.eq(seq),
            licence_events::event_type.eq(event_type),
            licence_events::licence_number.eq(licence_number),
            licence_events::status.eq(status),
            licence_events::expires_at.eq(expires_at),
            licence_events::at.eq(at),
            licence_events::provisional_until.eq(provisional_until),
        ))
        .execute(conn)?;
    APPENDED.fetch_add(1, Ordering::Relaxed);
    Ok(seq)
}

/// The feed's head: the seq of the last event committed as this transaction sees it (0 before
/// any). The register export's `Last-Event-Seq` and a new webhook's starting position.
pub fn head(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(registry_locks::table
        .find("events")
        .select(registry_locks::counter)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

pub fn list(conn: &mut DbConn, after: i64, limit: i64) -> Result<EventPage, AppError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        EventType,
        String,
        LicenceStatus,
        NaiveDateTime,
        NaiveDateTime,
        Option<NaiveDateTime>,
    )> = licence_events::table
        .filter(licence_events::seq.gt(after))
        .order(licence_events::seq.asc())
        .limit(limit)
        .load(conn)?;
    let next_after = rows.last().map(|r| r.0).unwrap_or(after);
    let items = rows
        .into_iter()
        .map(|r| Event {
            seq: r.0,
            event_type: r.1,
            licence_number: r.2,
            status: r.3,
            expires_at: r.4.and_utc(),
            at: r.5.and_utc(),
            provisional_until: r.6.map(|t| t.and_utc()),
        })
        .collect();
    Ok(EventPage { items, next_after })
}
