//! Violations (API.md §11): every recorded finding of severity `major` or `critical`, and
//! every finding with a `due_by`, opens one. It is `overdue` from the day after its `due_by`
//! (derived at read time), and `resolved` by a regulator or by a compliant follow-up
//! inspection of the site. An overdue major or critical violation puts its site's licence on
//! the enforcement queue once: the first sweep that claims it (`queued_at`) raises the item.
//! The sweep runs in the background ([`sweeper`]), never on a read.

pub mod routes;
pub mod store;
pub mod sweeper;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::Visible;
use crate::auth::Principal;
use crate::db::versioned;
use crate::db::DbConn;
use crate::domain::Reason;
use crate::error::AppError;
use crate::inspections::enforcement::{self, Cause, Raise};
use crate::inspections::{Finding, InspectionRow, Severity};
use crate::sites::store::SiteRow;
pub use store::ViolationRow;

crate::stored_enum! {
    /// What is stored; `overdue` is derived from `open` and the date.
    pub enum StoredStatus in "violations.status" {
        Open = "open",
        Resolved = "resolved",
    }
}

/// A violation's status as served and filtered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ViolationStatus {
    Open,
    /// Open, and `due_by` has passed.
    Overdue,
    Resolved,
}

impl ViolationStatus {
    /// The status on `today`: overdue from the day after `due_by`.
    pub fn of(row: &ViolationRow, today: NaiveDate) -> Self {
        match row.status {
            StoredStatus::Resolved => ViolationStatus::Resolved,
            StoredStatus::Open if row.due_by.is_some_and(|d| d < today) => ViolationStatus::Overdue,
            StoredStatus::Open => ViolationStatus::Open,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Violation {
    pub id: String,
    pub inspection_id: String,
    pub site_id: String,
    pub organisation_id: String,
    /// The site's licence held when the finding was recorded, if any.
    pub licence_number: Option<String>,
    pub code: String,
    pub severity: Severity,
    /// The finding's description (never the inspector's notes).
    pub description: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_by: Option<NaiveDate>,
    pub status: ViolationStatus,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl Violation {
    pub fn view(r: ViolationRow, now: NaiveDateTime) -> Self {
        Violation {
            status: ViolationStatus::of(&r, now.date()),
            id: r.id,
            inspection_id: r.inspection_id,
            site_id: r.site_id,
            organisation_id: r.organisation_id,
            licence_number: r.licence_number,
            code: r.code,
            severity: r.severity,
            description: r.description,
            due_by: r.due_by,
            resolved_at: r.resolved_at.map(|t| t.and_utc()),
            resolution: r.resolution,
            version: r.version,
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    pub reason: Reason,
}

impl crate::http::BodyRules for Resolve {}

/// Whether a finding opens a violation.
fn opens_violation(f: &Finding) -> bool {
    matches!(f.severity, Severity::Major | Severity::Critical) || f.due_by.is_some()
}

/// Opens the violations of a recorded inspection's findings (in its transaction).
/// After an inspection is recorded (in its transaction): a compliant `follow_up` resolves the
/// site's open violations, and its findings open new ones. Called by the edge beside
/// `inspections::record`, so inspections need not know of violations.
#[tracing::instrument(skip_all, fields(inspection = %inspection.id), err(Display))]
pub fn after_inspection(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &str,
    inspection: &InspectionRow,
) -> Result<(), AppError> {
    use crate::inspections::{Kind, Outcome, Status};
    if inspection.status != Status::Recorded {
        return Ok(());
    }
    let site = crate::sites::store::find(conn, &inspection.site_id)?
        .ok_or_else(|| AppError::internal("inspection without site"))?;
    if inspection.kind == Kind::FollowUp && inspection.outcome == Some(Outcome::Compliant) {
        resolve_by_follow_up(conn, now, actor, inspection)?;
    }
    open_from_findings(conn, now, actor, inspection, &site, &inspection.findings)
}

pub fn open_from_findings(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &str,
    inspection: &InspectionRow,
    site: &SiteRow,
    findings: &[Finding],
) -> Result<(), AppError> {
    if !findings.iter().any(opens_violation) {
        return Ok(());
    }
    let licence_number = enforcement::licence_of_site(conn, &site.id, now)?;
    for f in findings.iter().filter(|f| opens_violation(f)) {
        let row = ViolationRow {
            id: uuid::Uuid::now_v7().to_string(),
            inspection_id: inspection.id.clone(),
            site_id: site.id.clone(),
            organisation_id: site.organisation_id.clone(),
            licence_number: licence_number.clone(),
            code: f.code.clone(),
            severity: f.severity,
            description: f.description.as_str().to_string(),
            due_by: f.due_by,
            status: StoredStatus::Open,
            resolved_at: None,
            resolved_by: None,
            resolution: None,
            queued_at: None,
            version: 1,
            created_at: now,
        };
        store::insert(conn, &row)?;
        audit::record(conn, now, Some(actor), &ViolationEvent::Opened(&row))?;
    }
    Ok(())
}

/// Resolves `row` with `reason`, done by `actor`; returns it as stored now.
fn close(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &str,
    row: &ViolationRow,
    reason: &str,
) -> Result<ViolationRow, AppError> {
    let resolution = store::Resolution {
        status: StoredStatus::Resolved,
        resolved_at: now,
        resolved_by: actor,
        resolution: reason,
        version: row.version + 1,
    };
    versioned::commit(
        conn,
        now,
        Some(actor),
        row.version,
        &ViolationEvent::Resolved { id: &row.id, reason },
        |conn| store::resolve(conn, &row.id, &resolution),
        |conn| store::find(conn, &row.id),
    )
}

/// A compliant follow-up inspection resolves the site's open violations (in its transaction).
pub fn resolve_by_follow_up(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &str,
    inspection: &InspectionRow,
) -> Result<(), AppError> {
    let reason = format!("follow-up inspection {} found the site compliant", inspection.id);
    for row in store::open_of_site(conn, &inspection.site_id)? {
        close(conn, now, actor, &row, &reason)?;
    }
    Ok(())
}

// Staff see every violation, operators their own organisations'.
crate::owned_by_organisation!(ViolationRow, str, "no such violation", store::find);

/// A regulator resolves an open (or overdue) violation with a reason.
#[tracing::instrument(skip_all, fields(violation = %violation.id), err(Display))]
pub fn resolve(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    violation: Visible<ViolationRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    reason: Reason,
) -> Result<ViolationRow, AppError> {
    let row = violation.into_inner();
    check_version(row.version)?;
    if row.status == StoredStatus::Resolved {
        return Err(AppError::conflict("the violation is resolved already"));
    }
    close(conn, now, &who.id, &row, reason.as_str())
}

/// Whether a sweep has anything to do (a cheap read before taking the write lock).
pub fn sweep_pending(conn: &mut DbConn, now: NaiveDateTime) -> Result<bool, AppError> {
    Ok(!store::due_for_queue(conn, now.date())?.is_empty())
}

/// Puts the licence of every newly overdue major or critical violation on the enforcement
/// queue, once: only the transaction whose conditional UPDATE claims `queued_at` raises it.
#[tracing::instrument(skip_all, err(Display))]
pub fn sweep(conn: &mut DbConn, now: NaiveDateTime) -> Result<(), AppError> {
    for v in store::due_for_queue(conn, now.date())? {
        if store::mark_queued(conn, &v.id, now)? == 0 {
            continue;
        }
        let Some(licence_number) = enforcement::licence_of_site(conn, &v.site_id, now)? else {
            continue;
        };
        let because = format!(
            "{} violation {} ({}) overdue since {}",
            v.severity,
            v.id,
            v.code,
            v.due_by.map(|d| d.to_string()).unwrap_or_default()
        );
        enforcement::raise_item(
            conn,
            now,
            None,
            Raise {
                licence_number,
                site_id: &v.site_id,
                cause: Cause::Violation,
                inspection_id: Some(&v.inspection_id),
                violation_id: Some(&v.id),
                because,
            },
        )?;
    }
    Ok(())
}

/// A violation's changes as the audit log records them.
enum ViolationEvent<'a> {
    Opened(&'a ViolationRow),
    Resolved { id: &'a str, reason: &'a str },
}

impl audit::Event for ViolationEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Opened(_) => "violation.opened",
            Self::Resolved { .. } => "violation.resolved",
        }
    }
    fn entity_type(&self) -> &'static str {
        "violation"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Opened(row) => &row.id,
            Self::Resolved { id, .. } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Opened(row) => format!("{} {} at site {}", row.severity, row.code, row.site_id),
            Self::Resolved { reason, .. } => reason.to_string(),
        }
    }
}
