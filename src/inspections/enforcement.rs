//! The regulator's enforcement queue: an inspection recorded as critical, an overdue major or
//! critical violation, or five public reports on a site in 30 days put the site's licence on
//! it; suspending or revoking that licence, or a regulator's dismissal, takes the item off.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::InspectionRow;
use crate::audit;
use crate::db::schema::{enforcement_items, licence_sites, licences};
use crate::db::DbConn;
use crate::domain::record_id::{EnforcementItemId, UserId};
use crate::domain::LicenceStatus;
use crate::error::AppError;

crate::stored_enum! {
    #[derive(ToSchema)]
    #[schema(as = EnforcementStatus)]
    pub enum ItemStatus in "enforcement_items.status" {
        Open = "open",
        /// A regulator took it off with a reason.
        Dismissed = "dismissed",
        /// The licence was suspended or revoked.
        Resolved = "resolved",
    }
}

crate::stored_enum! {
    #[derive(ToSchema)]
    #[schema(as = EnforcementCause)]
    pub enum Cause in "enforcement_items.cause" {
        /// An inspection recorded as critical.
        Inspection = "inspection",
        /// A major or critical violation left past its `due_by`.
        Violation = "violation",
        /// Five public reports on one site within 30 days.
        Reports = "reports",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enforcement_items)]
pub struct ItemRow {
    pub id: String,
    pub licence_number: String,
    pub site_id: String,
    pub inspection_id: Option<String>,
    pub status: ItemStatus,
    pub raised_because: String,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub cause: Cause,
    pub violation_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnforcementItem {
    pub id: String,
    pub licence_number: String,
    pub site_id: String,
    /// What raised it.
    pub cause: Cause,
    /// The inspection that raised it (`cause` `inspection`).
    pub inspection_id: Option<String>,
    /// The overdue violation that raised it (`cause` `violation`).
    pub violation_id: Option<String>,
    /// `open`, `dismissed`, or `resolved` (the licence was suspended or revoked).
    pub status: ItemStatus,
    pub raised_because: String,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl From<ItemRow> for EnforcementItem {
    fn from(r: ItemRow) -> Self {
        EnforcementItem {
            id: r.id,
            licence_number: r.licence_number,
            site_id: r.site_id,
            cause: r.cause,
            inspection_id: r.inspection_id,
            violation_id: r.violation_id,
            status: r.status,
            raised_because: r.raised_because,
            resolution: r.resolution,
            resolved_by: r.resolved_by,
            resolved_at: r.resolved_at.map(|t| t.and_utc()),
            version: r.version,
            created_at: r.created_at.and_utc(),
        }
    }
}

/// The licence covering a site that is still held (in force or suspended, not expired), if
/// any; the newest when several are.
pub fn licence_of_site(
    conn: &mut DbConn,
    site_id: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, AppError> {
    #[allow(clippy::type_complexity)]
    let candidates: Vec<(String, LicenceStatus, NaiveDateTime, Option<NaiveDateTime>)> =
        licences::table
            .inner_join(
                licence_sites::table.on(licence_sites::licence_number.eq(licences::licence_number)),
            )
            .filter(licence_sites::site_id.eq(site_id))
            .order(licences::issued_at.desc())
            .select((
                licences::licence_number,
                licences::status,
                licences::expires_at,
                licences::provisional_until,
            ))
            .load(conn)?;
    Ok(candidates
        .into_iter()
        .find(|(_, status, expires_at, until)| status.as_of(*expires_at, *until, now).is_held())
        .map(|(number, ..)| number))
}

/// Why an item is raised: its cause, the record behind it, and the words for the regulator.
pub struct Raise<'a> {
    pub licence_number: String,
    pub site_id: &'a str,
    pub cause: Cause,
    pub inspection_id: Option<&'a str>,
    pub violation_id: Option<&'a str>,
    pub because: String,
}

/// Puts a licence on the queue, with its audit entry (`actor` None: the registry itself).
#[tracing::instrument(skip_all, fields(licence = %raise.licence_number), err(Display))]
pub fn raise_item(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: Option<&str>,
    raise: Raise<'_>,
) -> Result<ItemRow, AppError> {
    let row = ItemRow {
        id: uuid::Uuid::now_v7().to_string(),
        licence_number: raise.licence_number,
        site_id: raise.site_id.to_string(),
        inspection_id: raise.inspection_id.map(str::to_string),
        status: ItemStatus::Open,
        raised_because: raise.because,
        resolution: None,
        resolved_by: None,
        resolved_at: None,
        version: 1,
        created_at: now,
        cause: raise.cause,
        violation_id: raise.violation_id.map(str::to_string),
    };
    diesel::insert_into(enforcement_items::table).values(&row).execute(conn)?;
    audit::record(conn, now, actor, &EnforcementEvent::Raised(&row))?;
    Ok(row)
}

/// Puts the site's licence on the queue for a critical inspection (no licence: nothing to do).
pub fn raise(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &str,
    inspection: &InspectionRow,
) -> Result<(), AppError> {
    let Some(licence_number) = licence_of_site(conn, &inspection.site_id, now)? else {
        return Ok(());
    };
    let because = format!(
        "inspection {} recorded outcome {}",
        inspection.id,
        inspection.outcome.map(|o| o.as_str()).unwrap_or("?")
    );
    raise_item(
        conn,
        now,
        Some(actor),
        Raise {
            licence_number,
            site_id: &inspection.site_id,
            cause: Cause::Inspection,
            inspection_id: Some(&inspection.id),
            violation_id: None,
            because,
        },
    )?;
    Ok(())
}

/// Takes a licence's open items off the queue when it is suspended or revoked.
#[tracing::instrument(skip_all, fields(licence = %licence_number), err(Display))]
pub fn resolve_for_licence(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &str,
    licence_number: &str,
    how: &str,
) -> Result<(), AppError> {
    let open: Vec<String> = enforcement_items::table
        .filter(enforcement_items::licence_number.eq(licence_number))
        .filter(enforcement_items::status.eq(ItemStatus::Open))
        .select(enforcement_items::id)
        .load(conn)?;
    for id in open {
        diesel::update(enforcement_items::table.find(&id))
            .set((
                enforcement_items::status.eq(ItemStatus::Resolved),
                enforcement_items::resolution.eq(Some(format!("licence {how}"))),
                enforcement_items::resolved_by.eq(Some(actor)),
                enforcement_items::resolved_at.eq(Some(now)),
                enforcement_items::version.eq(enforcement_items::version + 1),
            ))
            .execute(conn)?;
        let event = EnforcementEvent::Resolved { id: &id, licence_number, how };
        audit::record(conn, now, Some(actor), &event)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<ItemRow>, AppError> {
    Ok(enforcement_items::table.find(id).select(ItemRow::as_select()).first(conn).optional()?)
}

/// A regulator takes an open item off the queue, with a reason (`If-Match` on the item).
#[tracing::instrument(skip_all, fields(item = %id), err(Display))]
pub fn dismiss(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &UserId,
    id: &EnforcementItemId,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    reason: String,
) -> Result<ItemRow, AppError> {
    let row =
        find(conn, id.as_str())?.ok_or_else(|| AppError::not_found("no such enforcement item"))?;
    check_version(row.version)?;
    if row.status != ItemStatus::Open {
        return Err(AppError::conflict(format!("the item is {} already", row.status)));
    }
    let event = EnforcementEvent::Dismissed { id: &row.id, reason: &reason };
    crate::db::versioned::commit(
        conn,
        now,
        Some(actor.as_str()),
        row.version,
        &event,
        |conn| {
            diesel::update(
                enforcement_items::table
                    .filter(enforcement_items::id.eq(&row.id))
                    .filter(enforcement_items::version.eq(row.version)),
            )
            .set((
                enforcement_items::status.eq(ItemStatus::Dismissed),
                enforcement_items::resolution.eq(Some(&reason)),
                enforcement_items::resolved_by.eq(Some(actor.as_str())),
                enforcement_items::resolved_at.eq(Some(now)),
                enforcement_items::version.eq(row.version + 1),
            ))
            .execute(conn)
        },
        |conn| find(conn, &row.id),
    )
}

pub fn list(
    conn: &mut DbConn,
    status: Option<ItemStatus>,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<ItemRow>, AppError> {
    let mut q = enforcement_items::table.select(ItemRow::as_select()).into_boxed();
    if let Some(s) = status {
        q = q.filter(enforcement_items::status.eq(s));
    }
    if let Some(after) = after {
        q = q.filter(enforcement_items::id.gt(after));
    }
    Ok(q.order(enforcement_items::id.asc()).limit(limit).load(conn)?)
}

/// An enforcement item's changes as the audit log records them.
enum EnforcementEvent<'a> {
    Raised(&'a ItemRow),
    Resolved { id: &'a str, licence_number: &'a str, how: &'a str },
    Dismissed { id: &'a str, reason: &'a str },
}

impl audit::Event for EnforcementEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Raised(_) => "enforcement.raised",
            Self::Resolved { .. } => "enforcement.resolved",
            Self::Dismissed { .. } => "enforcement.dismissed",
        }
    }
    fn entity_type(&self) -> &'static str {
        "enforcement_item"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Raised(row) => &row.id,
            Self::Resolved { id, .. } | Self::Dismissed { id, .. } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Raised(row) => {
                format!("licence {} queued: {}", row.licence_number, row.raised_because)
            }
            Self::Resolved { licence_number, how, .. } => format!("licence {licence_number} {how}"),
            Self::Dismissed { reason, .. } => reason.to_string(),
        }
    }
}
