//! Licences: issued on approval, then suspended, reinstated, revoked or surrendered. `expired`
//! is never stored: a licence past `expires_at` reads `expired` at once, in every response.
//! Every issue and status change appends to the change feed in the same transaction.

pub mod events;
pub mod routes;
pub mod store;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Change};
use crate::auth::visible::Visible;
use crate::auth::Principal;
use crate::db::stored::StoredJson;
use crate::db::versioned;
use crate::db::DbConn;
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
pub fn issue(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    grant: Grant,
) -> Result<String, AppError> {
    let org = organisations::store::find(conn, &grant.organisation_id)?
        .ok_or_else(|| AppError::internal("application without organisation"))?;
    let serial = store::next_serial(conn)?;
    if serial > 999_999 {
        return Err(AppError::internal("licence serials are exhausted"));
    }
    let number = LicenceNumber::new(now.year() as u32, serial as u32);
    let expires_at = add_months(now, grant.term_months)?;
    let (status, provisional_until) = if all_sites_passed(conn, &grant.site_ids, now)? {
        (LicenceStatus::Active, None)
    } else {
        (LicenceStatus::Provisional, Some(now + chrono::Duration::days(PROVISIONAL_DAYS)))
    };
    let reason = format!(
        "issued on approval of application {} for {} months{}",
        grant.application_id,
        grant.term_months,
        if provisional_until.is_some() {
            ", provisional until the pre-licence inspection"
        } else {
            ""
        }
    );
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
    events::append(
        conn,
        now,
        EventType::Issued,
        &row.licence_number,
        row.status,
        expires_at,
        provisional_until,
    )?;
    audit::append(
        conn,
        now,
        Change {
            actor_id: Some(by),
            action: "licence.issued",
            entity_type: "licence",
            entity_id: &row.licence_number,
            summary: format!(
                "issued ({}) to {} until {}",
                row.status,
                row.holder,
                expires_at.and_utc().to_rfc3339()
            ),
        },
    )?;
    Ok(row.licence_number)
}

/// Extends a licence by `term_months` on approval of its renewal; returns the same number.
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
    versioned::change(conn, "licence", changes.version - 1, |conn| {
        store::update(conn, number, &changes)
    })?;
    events::append(
        conn,
        now,
        EventType::Renewed,
        number,
        status,
        expires_at,
        row.provisional_until,
    )?;
    audit::append(
        conn,
        now,
        Change {
            actor_id: Some(by),
            action: "licence.renewed",
            entity_type: "licence",
            entity_id: number,
            summary: format!("renewed until {}", expires_at.and_utc().to_rfc3339()),
        },
    )?;
    Ok(number.to_string())
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

/// Applies a lifecycle transition (inside a write transaction). Revoking bars the holder's
/// directors and beneficial owners for `licensing.bar_years`.
#[allow(clippy::too_many_arguments)]
pub fn act(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    licence: Visible<LicenceRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    action: Action,
    change: LicenceChange,
    licensing: &crate::config::Licensing,
) -> Result<LicenceRow, AppError> {
    let row = licence.into_inner();
    check_version(row.version)?;
    let from = effective_status(&row, now);
    let to = action.target(from, row.provisional_until.is_some())?;
    if change.until.is_some() && action != Action::Suspend {
        return Err(AppError::invalid("until", "only a suspension takes an until date"));
    }
    if change.until.is_some_and(|d| d <= now.date()) {
        return Err(AppError::invalid("until", "must be a date after today"));
    }
    let reason = change.reason.into_string();
    let changes = store::LicenceChanges {
        status: Some(to),
        expires_at: None,
        suspended_until: Some(change.until.map(|d| d.to_string())),
        provisional_until: None,
        history: transition::push(
            &row.history,
            Some(from.as_str()),
            to.as_str(),
            now,
            &who.id,
            Some(reason.clone()),
        )?,
        version: row.version + 1,
        updated_at: now,
    };
    versioned::change(conn, "licence", changes.version - 1, |conn| {
        store::update(conn, &row.licence_number, &changes)
    })?;
    events::append(
        conn,
        now,
        action.event(),
        &row.licence_number,
        to,
        row.expires_at,
        row.provisional_until,
    )?;
    if matches!(action, Action::Suspend | Action::Revoke) {
        crate::inspections::enforcement::resolve_for_licence(
            conn,
            now,
            &who.id,
            &row.licence_number,
            action.event().as_str(),
        )?;
    }
    if action == Action::Revoke {
        crate::barred::bar_holders(
            conn,
            now,
            &who.id,
            &row.licence_number,
            &row.organisation_id,
            licensing.bar_years,
        )?;
    }
    audit::append(
        conn,
        now,
        Change {
            actor_id: Some(&who.id),
            action: &format!("licence.{}", action.event()),
            entity_type: "licence",
            entity_id: &row.licence_number,
            summary: format!("{} -> {}: {reason}", from.as_str(), to.as_str()),
        },
    )?;
    store::find(conn, &row.licence_number)?.ok_or_else(|| AppError::not_found("no such licence"))
}

/// After `inspection` is recorded (in its transaction): a passing `pre_licence` inspection
/// confirms each provisional licence of its site whose every site has now passed one. The
/// licence becomes `active` and the feed says `confirmed`.
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
        if !all_sites_passed(conn, &row.site_ids, now)? {
            continue;
        }
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
                Some(format!("confirmed by pre-licence inspection {}", inspection.id)),
            )?,
            version: row.version + 1,
            updated_at: now,
        };
        versioned::change(conn, "licence", changes.version - 1, |conn| {
            store::update(conn, &row.licence_number, &changes)
        })?;
        events::append(
            conn,
            now,
            EventType::Confirmed,
            &row.licence_number,
            LicenceStatus::Active,
            row.expires_at,
            None,
        )?;
        audit::append(
            conn,
            now,
            Change {
                actor_id: Some(by),
                action: "licence.confirmed",
                entity_type: "licence",
                entity_id: &row.licence_number,
                summary: format!("provisional -> active: inspection {} passed", inspection.id),
            },
        )?;
    }
    Ok(())
}
