//! Licences: issued on approval, then suspended, reinstated, revoked or surrendered. `expired`
//! is never stored: a licence past `expires_at` reads `expired` at once, in every response.
//! Every issue and status change appends to the change feed in the same transaction.

pub mod events;
pub mod routes;
pub mod store;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::Visible;
use crate::auth::Principal;
use crate::db::stored::StoredJson;
use crate::db::versioned;
use crate::db::DbConn;
use crate::domain::record_id::OrganisationId;
use crate::domain::transition::{self, Transition};
use crate::domain::{LicenceNumber, Reason};
use crate::error::AppError;
use crate::organisations;
use events::EventType;
pub use store::LicenceRow;

pub use crate::domain::licence_status::{in_force, LicenceStatus};

crate::stored_enum! {
    /// What a licence (and its application) is for.
    #[derive(ToSchema)]
    pub enum Category in "applications.category or licences.category" {
        Inbound = "inbound",
        Outbound = "outbound",
        Bpo = "bpo",
        Mixed = "mixed",
    }
}

/// The status of a stored licence as of `now` (see [`LicenceStatus::as_of`]).
pub fn effective_status(row: &LicenceRow, now: NaiveDateTime) -> LicenceStatus {
    row.status.as_of(row.expires_at, row.provisional_until, now)
}

/// How long a provisional licence has to pass its pre-licence inspection (API.md §10).
pub const PROVISIONAL_DAYS: i64 = 90;
/// How recent a passing pre-licence inspection must be to count.
pub const PRE_LICENCE_VALID_DAYS: i64 = 180;

/// Whether every site in `site_ids` passed a pre-licence inspection in the last 180 days.
fn all_sites_passed(
    conn: &mut DbConn,
    site_ids: &[String],
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let since = now - chrono::Duration::days(PRE_LICENCE_VALID_DAYS);
    let passed = crate::inspections::store::passed_pre_licence(conn, site_ids, since)?;
    Ok(!site_ids.is_empty() && site_ids.iter().all(|s| passed.contains(s)))
}

/// What an approved application grants: everything a new licence is issued from. Built by
/// the applications module, so licences never read an application.
#[derive(Debug)]
pub struct Grant {
    pub application_id: String,
    pub organisation_id: String,
    pub site_ids: Vec<String>,
    pub category: Category,
    pub term_months: u32,
    pub conditions: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Licence {
    #[schema(example = "CCL-2026-000001-16")]
    pub licence_number: String,
    pub organisation_id: String,
    /// The organisation's legal name when issued.
    pub holder: String,
    pub site_ids: Vec<String>,
    pub category: Category,
    pub status: LicenceStatus,
    pub issued_at: DateTime<Utc>,
    pub valid_from: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// While provisional: the licence lapses at this time unless every site passes a
    /// pre-licence inspection first.
    pub provisional_until: Option<DateTime<Utc>>,
    /// While suspended with an expected end date (informational: reinstating is explicit).
    pub suspended_until: Option<String>,
    pub conditions: Vec<String>,
    pub version: i64,
    pub history: Vec<Transition>,
}

impl Licence {
    pub fn view(r: LicenceRow, now: NaiveDateTime) -> Self {
        Licence {
            status: effective_status(&r, now),
            licence_number: r.licence_number,
            organisation_id: r.organisation_id,
            holder: r.holder,
            site_ids: r.site_ids.into_inner(),
            category: r.category,
            issued_at: r.issued_at.and_utc(),
            valid_from: r.valid_from.and_utc(),
            expires_at: r.expires_at.and_utc(),
            provisional_until: r.provisional_until.map(|t| t.and_utc()),
            suspended_until: r.suspended_until,
            conditions: r.conditions.into_inner(),
            version: r.version,
            history: r.history.into_inner(),
        }
    }
}

// Operators see only their organisations' licences; staff see all.
crate::owned_by_organisation!(
    LicenceRow,
    LicenceNumber,
    "no such licence",
    |conn, n: &LicenceNumber| store::find(conn, n.as_str())
);

fn add_months(t: NaiveDateTime, months: u32) -> Result<NaiveDateTime, AppError> {
    t.checked_add_months(Months::new(months)).ok_or_else(|| AppError::internal("date out of range"))
}

/// Issues a licence under `grant` (inside the approving transaction); returns the number.
#[tracing::instrument(skip_all, fields(application = %grant.application_id), err(Display))]
pub fn issue(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    grant: Grant,
) -> Result<String, AppError> {
    let org = organisations::store::find(conn, &grant.organisation_id)?
        .ok_or_else(|| AppError::internal("application without organisation"))?;
    let number = next_number(conn, now)?;
    let expires_at = add_months(now, grant.term_months)?;
    let provisional_until = (!all_sites_passed(conn, &grant.site_ids, now)?)
        .then(|| now + chrono::Duration::days(PROVISIONAL_DAYS));
    let status = match provisional_until {
        None => LicenceStatus::Active,
        Some(_) => LicenceStatus::Provisional,
    };
    let reason = issue_reason(&grant, provisional_until.is_some());
    let row = LicenceRow {
        licence_number: number.as_str().to_string(),
        organisation_id: org.id.clone(),
        application_id: grant.application_id,
        holder: org.legal_name.clone(),
        site_ids: StoredJson::new(grant.site_ids.clone())?,
        category: grant.category,
        status,
        issued_at: now,
        valid_from: now,
        expires_at,
        suspended_until: None,
        conditions: StoredJson::new(grant.conditions)?,
        history: transition::push(&[], None, status.as_str(), now, by, Some(reason))?,
        version: 1,
        updated_at: now,
        provisional_until,
    };
    store::insert(conn, &row)?;
    store::insert_sites(conn, &row.licence_number, &grant.site_ids)?;
    let number = &row.licence_number;
    events::append(conn, now, EventType::Issued, number, status, expires_at, provisional_until)?;
    audit::record(conn, now, Some(by), &LicenceEvent::Issued(&row))?;
    Ok(row.licence_number)
}

/// The next licence number of the year of `now`.
fn next_number(conn: &mut DbConn, now: NaiveDateTime) -> Result<LicenceNumber, AppError> {
    let serial = store::next_serial(conn)?;
    if serial > 999_999 {
        return Err(AppError::internal("licence serials are exhausted"));
    }
    Ok(LicenceNumber::new(now.year() as u32, serial as u32))
}

/// The first step of a new licence's history: why it was issued.
fn issue_reason(grant: &Grant, provisional: bool) -> String {
    format!(
        "issued on approval of application {} for {} months{}",
        grant.application_id,
        grant.term_months,
        if provisional { ", provisional until the pre-licence inspection" } else { "" }
    )
}

/// Extends a licence by `term_months` on approval of its renewal; returns the same number.
#[tracing::instrument(skip_all, fields(licence = %number), err(Display))]
pub fn renew(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    number: &str,
    term_months: u32,
) -> Result<String, AppError> {
    let row = store::find(conn, number)?
        .ok_or_else(|| AppError::conflict("the licence to renew no longer exists"))?;
    if row.status.is_final() {
        return Err(AppError::conflict(format!("a {} licence cannot be renewed", row.status)));
    }
    let expires_at = add_months(row.expires_at, term_months)?;
    let status = row.status.as_of(expires_at, row.provisional_until, now);
    let changes = store::LicenceChanges {
        status: None,
        expires_at: Some(expires_at),
        suspended_until: None,
        provisional_until: None,
        history: transition::push(
            &row.history,
            Some(status.as_str()),
            status.as_str(),
            now,
            by,
            Some(format!("renewed for {term_months} months")),
        )?,
        version: row.version + 1,
        updated_at: now,
    };
    let event = LicenceEvent::Renewed { number, expires_at };
    commit(conn, now, by, &row, &changes, &event, |conn| {
        let until = row.provisional_until;
        events::append(conn, now, EventType::Renewed, number, status, expires_at, until).map(drop)
    })?;
    Ok(number.to_string())
}

/// The versioned change of `row` to `changes`, then `then` (its feed entry and consequences)
/// and its audit entry `event`, in the caller's transaction; returns the licence as stored now.
fn commit(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    row: &LicenceRow,
    changes: &store::LicenceChanges,
    event: &LicenceEvent<'_>,
    then: impl FnOnce(&mut DbConn) -> Result<(), AppError>,
) -> Result<LicenceRow, AppError> {
    versioned::commit(
        conn,
        now,
        Some(by),
        row.version,
        event,
        |conn| match store::update(conn, &row.licence_number, changes)? {
            0 => Ok(0),
            changed => then(conn).map(|()| changed),
        },
        |conn| store::find(conn, &row.licence_number),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Suspend,
    Reinstate,
    Revoke,
    Surrender,
}

impl Action {
    /// The status this action leads to from `from`, or 409. Reinstating returns a licence to
    /// what it was before the suspension: provisional if it was never confirmed.
    pub fn target(self, from: LicenceStatus, provisional: bool) -> Result<LicenceStatus, AppError> {
        use LicenceStatus::*;
        match (self, from) {
            (Action::Suspend, Active | Provisional) => Ok(Suspended),
            (Action::Reinstate, Suspended) if provisional => Ok(Provisional),
            (Action::Reinstate, Suspended) => Ok(Active),
            (Action::Revoke, Active | Provisional | Suspended) => Ok(Revoked),
            (Action::Surrender, Active | Provisional | Suspended) => Ok(Surrendered),
            _ => Err(AppError::conflict(format!(
                "a licence that is {} cannot be {}",
                from.as_str(),
                self.event().as_str()
            ))),
        }
    }

    /// The change-feed event type (its name is the past tense).
    pub fn event(self) -> EventType {
        match self {
            Action::Suspend => EventType::Suspended,
            Action::Reinstate => EventType::Reinstated,
            Action::Revoke => EventType::Revoked,
            Action::Surrender => EventType::Surrendered,
        }
    }
}

/// A transition's body: the reason, and for a suspension an optional expected end.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenceChange {
    pub reason: Reason,
    /// Suspensions only: the date the suspension is expected to end (informational).
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-31")]
    pub until: Option<NaiveDate>,
}

impl crate::http::BodyRules for LicenceChange {}

impl LicenceChange {
    /// The reason of a change other than a suspension, which takes no `until` (422).
    fn reason_only(self) -> Result<String, AppError> {
        match self.until {
            Some(_) => Err(AppError::invalid("until", "only a suspension takes an until date")),
            None => Ok(self.reason.into_string()),
        }
    }
}

/// A lifecycle step of one licence: the action, and the statuses before and after it.
#[derive(Debug, Clone, Copy)]
struct Step {
    action: Action,
    from: LicenceStatus,
    to: LicenceStatus,
}

/// The licence read at the version `check_version` accepts, and the step `action` takes it
/// (409 when it cannot).
fn start(
    now: NaiveDateTime,
    licence: Visible<LicenceRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    action: Action,
) -> Result<(LicenceRow, Step), AppError> {
    let row = licence.into_inner();
    check_version(row.version)?;
    let from = effective_status(&row, now);
    let to = action.target(from, row.provisional_until.is_some())?;
    Ok((row, Step { action, from, to }))
}

/// Takes `row` through `step` for `reason` (a suspension: expected to end `until`): the
/// change, its feed entry, `then` (its consequences) and its audit entry, in one transaction.
fn take_step(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    (row, step): (LicenceRow, Step),
    reason: String,
    until: Option<NaiveDate>,
    then: impl FnOnce(&mut DbConn, &LicenceRow) -> Result<(), AppError>,
) -> Result<LicenceRow, AppError> {
    let (from, to) = (step.from.as_str(), step.to.as_str());
    let changes = store::LicenceChanges {
        status: Some(step.to),
        expires_at: None,
        suspended_until: Some(until.map(|d| d.to_string())),
        provisional_until: None,
        history: transition::push(
            &row.history,
            Some(from),
            to,
            now,
            &who.id,
            Some(reason.clone()),
        )?,
        version: row.version + 1,
        updated_at: now,
    };
    let event = LicenceEvent::Moved { number: &row.licence_number, step, reason: &reason };
    commit(conn, now, &who.id, &row, &changes, &event, |conn| {
        let (number, event_type) = (&row.licence_number, step.action.event());
        events::append(
            conn,
            now,
            event_type,
            number,
            step.to,
            row.expires_at,
            row.provisional_until,
        )?;
        then(conn, &row)
    })
}

/// Takes a suspended or revoked licence's items off the enforcement queue.
fn clear_queue(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    row: &LicenceRow,
    action: Action,
) -> Result<(), AppError> {
    let how = action.event().as_str();
    crate::inspections::enforcement::resolve_for_licence(
        conn,
        now,
        &who.id,
        &row.licence_number,
        how,
    )
}

/// Suspends an active or provisional licence, optionally until a date after today (inside a
/// write transaction); its items leave the enforcement queue.
#[tracing::instrument(skip_all, fields(licence = %licence.licence_number), err(Display))]
pub fn suspend(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    licence: Visible<LicenceRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    change: LicenceChange,
) -> Result<LicenceRow, AppError> {
    let started = start(now, licence, check_version, Action::Suspend)?;
    if change.until.is_some_and(|d| d <= now.date()) {
        return Err(AppError::invalid("until", "must be a date after today"));
    }
    let reason = change.reason.into_string();
    take_step(conn, now, who, started, reason, change.until, |conn, row| {
        clear_queue(conn, now, who, row, Action::Suspend)
    })
}

/// Reinstates a suspended licence to what it was before (inside a write transaction).
#[tracing::instrument(skip_all, fields(licence = %licence.licence_number), err(Display))]
pub fn reinstate(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    licence: Visible<LicenceRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    change: LicenceChange,
) -> Result<LicenceRow, AppError> {
    step_without_consequences(conn, now, who, licence, check_version, change, Action::Reinstate)
}

/// Revokes a licence, finally (inside a write transaction): its items leave the enforcement
/// queue, and the holder's directors and beneficial owners are barred for `bar_years`.
#[tracing::instrument(skip_all, fields(licence = %licence.licence_number), err(Display))]
pub fn revoke(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    licence: Visible<LicenceRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    change: LicenceChange,
    bar_years: u32,
) -> Result<LicenceRow, AppError> {
    let started = start(now, licence, check_version, Action::Revoke)?;
    take_step(conn, now, who, started, change.reason_only()?, None, |conn, row| {
        clear_queue(conn, now, who, row, Action::Revoke)?;
        let number = LicenceNumber::try_new(&row.licence_number).map_err(AppError::internal)?;
        let holder = OrganisationId::from(row.organisation_id.as_str());
        crate::barred::bar_holders(conn, now, &who.id, &number, &holder, bar_years)
    })
}

/// The holder surrenders its licence, finally (inside a write transaction).
#[tracing::instrument(skip_all, fields(licence = %licence.licence_number), err(Display))]
pub fn surrender(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    licence: Visible<LicenceRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    change: LicenceChange,
) -> Result<LicenceRow, AppError> {
    step_without_consequences(conn, now, who, licence, check_version, change, Action::Surrender)
}

/// A step that changes only the licence: `action` for `change`'s reason.
fn step_without_consequences(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    licence: Visible<LicenceRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    change: LicenceChange,
    action: Action,
) -> Result<LicenceRow, AppError> {
    let started = start(now, licence, check_version, action)?;
    take_step(conn, now, who, started, change.reason_only()?, None, |_, _| Ok(()))
}

/// After `inspection` is recorded (in its transaction): a passing `pre_licence` inspection
/// confirms each provisional licence of its site whose every site has now passed one. The
/// licence becomes `active` and the feed says `confirmed`.
#[tracing::instrument(skip_all, fields(inspection = %inspection.id), err(Display))]
pub fn confirm_after_inspection(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    inspection: &crate::inspections::InspectionRow,
) -> Result<(), AppError> {
    use crate::inspections::{Kind, Outcome};
    let passed = matches!(inspection.outcome, Some(Outcome::Compliant | Outcome::MinorIssues));
    if inspection.kind != Kind::PreLicence || !passed {
        return Ok(());
    }
    let covering = store::for_sites(conn, std::slice::from_ref(&inspection.site_id))?;
    for (_, row) in covering {
        if effective_status(&row, now) != LicenceStatus::Provisional {
            continue;
        }
        if all_sites_passed(conn, &row.site_ids, now)? {
            confirm(conn, now, by, &row, &inspection.id)?;
        }
    }
    Ok(())
}

/// Confirms a provisional licence whose sites have all passed: it becomes `active`.
fn confirm(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    row: &LicenceRow,
    inspection_id: &str,
) -> Result<(), AppError> {
    let changes = store::LicenceChanges {
        status: Some(LicenceStatus::Active),
        expires_at: None,
        suspended_until: None,
        provisional_until: Some(None),
        history: transition::push(
            &row.history,
            Some(LicenceStatus::Provisional.as_str()),
            LicenceStatus::Active.as_str(),
            now,
            by,
            Some(format!("confirmed by pre-licence inspection {inspection_id}")),
        )?,
        version: row.version + 1,
        updated_at: now,
    };
    let event = LicenceEvent::Confirmed { number: &row.licence_number, inspection_id };
    commit(conn, now, by, row, &changes, &event, |conn| {
        let (number, active) = (&row.licence_number, LicenceStatus::Active);
        events::append(conn, now, EventType::Confirmed, number, active, row.expires_at, None)
            .map(drop)
    })?;
    Ok(())
}

/// A licence's changes as the audit log records them.
enum LicenceEvent<'a> {
    Issued(&'a LicenceRow),
    Renewed { number: &'a str, expires_at: NaiveDateTime },
    Moved { number: &'a str, step: Step, reason: &'a str },
    Confirmed { number: &'a str, inspection_id: &'a str },
}

impl audit::Event for LicenceEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Issued(_) => "licence.issued",
            Self::Renewed { .. } => "licence.renewed",
            Self::Confirmed { .. } => "licence.confirmed",
            Self::Moved { step, .. } => match step.action {
                Action::Suspend => "licence.suspended",
                Action::Reinstate => "licence.reinstated",
                Action::Revoke => "licence.revoked",
                Action::Surrender => "licence.surrendered",
            },
        }
    }
    fn entity_type(&self) -> &'static str {
        "licence"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Issued(row) => &row.licence_number,
            Self::Renewed { number, .. }
            | Self::Moved { number, .. }
            | Self::Confirmed { number, .. } => number,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Issued(row) => format!(
                "issued ({}) to {} until {}",
                row.status,
                row.holder,
                row.expires_at.and_utc().to_rfc3339()
            ),
            Self::Renewed { expires_at, .. } => {
                format!("renewed until {}", expires_at.and_utc().to_rfc3339())
            }
            Self::Moved { step, reason, .. } => {
                format!("{} -> {}: {reason}", step.from.as_str(), step.to.as_str())
            }
            Self::Confirmed { inspection_id, .. } => {
                format!("provisional -> active: inspection {inspection_id} passed")
            }
        }
    }
}
