//! Public reports of calls (API.md §11). Anyone may report a call to a number; the registry
//! matches the number to a site as verification does and keeps the site with the report. Five
//! reports on one site within 30 days put the site's licence on the enforcement queue, once per
//! licence: intake serialises on the `reports` lock row, and `report_alerts` records the item.
//! Regulators triage: schedule a `complaint` inspection of the site, or dismiss.

pub mod routes;
pub mod store;

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::Principal;
use crate::db::versioned;
use crate::db::DbConn;
use crate::domain::record_id::{EnforcementItemId, SiteId};
use crate::domain::{BodyId, Country, LicenceNumber, Reason, E164};
use crate::error::{AppError, FieldError};
use crate::inspections::enforcement::{self, Cause, Raise};
use crate::inspections::{self as visits, NewInspection};
pub use store::ReportRow;

/// Reports on one site within [`WINDOW_DAYS`] that put its licence on the queue.
pub const THRESHOLD: i64 = 5;
pub const WINDOW_DAYS: i64 = 30;

crate::stored_enum! {
    #[derive(ToSchema)]
    #[schema(as = ReportCategory)]
    pub enum Category in "reports.category" {
        Fraud = "fraud",
        Impersonation = "impersonation",
        Harassment = "harassment",
        Spam = "spam",
        Other = "other",
    }
}

crate::stored_enum! {
    #[derive(ToSchema)]
    pub enum ReportStatus in "reports.status" {
        New = "new",
        Triaged = "triaged",
        Dismissed = "dismissed",
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// The calling number: E.164, or the national form of a Pakistani number (`021 3456 7890`).
    #[schema(example = "+922134567890")]
    pub number: String,
    /// When the call came (not in the future).
    pub called_at: DateTime<Utc>,
    pub category: Category,
    pub description: Reason,
    /// How to reach the reporter, if they wish.
    pub contact: Option<Reason>,
}

impl crate::http::BodyRules for NewReport {}

/// The report's acknowledgement: the same whether or not the number is registered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Received {
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriageAction {
    /// Schedule a `complaint` inspection of the matched site.
    Inspect,
    Dismiss,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Triage {
    pub action: TriageAction,
    pub reason: Reason,
    /// `inspect` only: an active inspector account.
    pub inspector_id: Option<BodyId>,
}

impl crate::http::BodyRules for Triage {}

/// The site a report's number matched.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportSite {
    pub id: String,
    pub name: String,
    pub city: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub id: String,
    /// E.164.
    pub number: String,
    pub called_at: DateTime<Utc>,
    pub category: Category,
    pub description: String,
    pub contact: Option<String>,
    /// The site whose registered number or range holds the number, when the report came in.
    pub site: Option<ReportSite>,
    /// That site's licence held now (in force or suspended), if any.
    pub licence_number: Option<String>,
    pub status: ReportStatus,
    /// Reports on the same site received in the last 30 days (0 without a site).
    pub site_reports_30d: i64,
    pub triage_reason: Option<String>,
    pub triaged_at: Option<DateTime<Utc>>,
    /// The `complaint` inspection scheduled at triage.
    pub inspection_id: Option<String>,
    pub version: i64,
    pub received_at: DateTime<Utc>,
}

/// Takes a report in (one write transaction). Anonymous: the audit entry has no actor.
#[tracing::instrument(skip_all, err(Display))]
pub fn receive(conn: &mut DbConn, now: NaiveDateTime, new: NewReport) -> Result<String, AppError> {
    let pk = Country::try_new("PK").ok();
    let mut errors = Vec::new();
    let number =
        E164::try_new(&new.number, pk).map_err(|m| errors.push(FieldError::new("number", m))).ok();
    if new.called_at.naive_utc() > now {
        errors.push(FieldError::new("called_at", "must not be in the future"));
    }
    let Some(number) = number.filter(|_| errors.is_empty()) else {
        return Err(AppError::validation(errors));
    };
    // Serialises intake, so the threshold below is crossed by exactly one report.
    crate::telephony::store::lock(conn, "reports")?;
    let site_id = crate::verify::lookup::site_of_number(conn, number.value())?;
    let row = ReportRow {
        id: uuid::Uuid::now_v7().to_string(),
        number: number.to_string(),
        site_id,
        called_at: new.called_at.naive_utc(),
        category: new.category,
        description: new.description.into_string(),
        contact: new.contact.map(Reason::into_string),
        status: ReportStatus::New,
        triage_reason: None,
        triaged_by: None,
        triaged_at: None,
        inspection_id: None,
        version: 1,
        received_at: now,
    };
    store::insert(conn, &row)?;
    audit::record(conn, now, None, &ReportEvent::Received(&row))?;
    if let Some(site) = &row.site_id {
        raise_if_many(conn, now, site)?;
    }
    Ok(row.id)
}

/// Queues the site's licence once it has [`THRESHOLD`] reports within the window.
fn raise_if_many(conn: &mut DbConn, now: NaiveDateTime, site_id: &str) -> Result<(), AppError> {
    let since = now - Duration::days(WINDOW_DAYS);
    let n = store::counts_since(conn, &[site_id.to_string()], since)?
        .first()
        .map(|(_, n)| *n)
        .unwrap_or(0);
    if n < THRESHOLD {
        return Ok(());
    }
    let Some(licence_number) = enforcement::licence_of_site(conn, site_id, now)? else {
        return Ok(());
    };
    if store::alert_raised(conn, &licence_number)? {
        return Ok(());
    }
    let item = enforcement::raise_item(
        conn,
        now,
        None,
        Raise {
            licence_number: licence_number.clone(),
            site_id,
            cause: Cause::Reports,
            inspection_id: None,
            violation_id: None,
            because: format!("{n} public reports on site {site_id} within {WINDOW_DAYS} days"),
        },
    )?;
    let number = LicenceNumber::try_new(&licence_number).map_err(AppError::internal)?;
    let item = EnforcementItemId::new(item.id);
    store::record_alert(conn, &number, &SiteId::from(site_id), &item, now)?;
    Ok(())
}

/// The views of `rows` as of `now`: their sites, licences and 30-day counts.
pub fn views(
    conn: &mut DbConn,
    rows: Vec<ReportRow>,
    now: NaiveDateTime,
) -> Result<Vec<Report>, AppError> {
    let site_ids: Vec<String> = rows.iter().filter_map(|r| r.site_id.clone()).collect();
    let counts: HashMap<String, i64> =
        store::counts_since(conn, &site_ids, now - Duration::days(WINDOW_DAYS))?
            .into_iter()
            .filter_map(|(s, n)| Some((s?, n)))
            .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (site, licence_number) = match &r.site_id {
            Some(id) => (
                crate::sites::store::find(conn, id)?.map(|s| ReportSite {
                    city: crate::verify::site_city(&s.address),
                    id: s.id,
                    name: s.name,
                }),
                enforcement::licence_of_site(conn, id, now)?,
            ),
            None => (None, None),
        };
        out.push(Report {
            site_reports_30d: r.site_id.as_ref().and_then(|s| counts.get(s)).copied().unwrap_or(0),
            id: r.id,
            number: r.number,
            called_at: r.called_at.and_utc(),
            category: r.category,
            description: r.description,
            contact: r.contact,
            site,
            licence_number,
            status: r.status,
            triage_reason: r.triage_reason,
            triaged_at: r.triaged_at.map(|t| t.and_utc()),
            inspection_id: r.inspection_id,
            version: r.version,
            received_at: r.received_at.and_utc(),
        });
    }
    Ok(out)
}

pub fn view(conn: &mut DbConn, row: ReportRow, now: NaiveDateTime) -> Result<Report, AppError> {
    views(conn, vec![row], now)?.pop().ok_or_else(|| AppError::internal("no view"))
}

/// A regulator triages a new report: schedules a complaint inspection of its site, or
/// dismisses it.
#[tracing::instrument(skip_all, fields(report = %id), err(Display))]
pub fn triage(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    id: &str,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    t: Triage,
) -> Result<ReportRow, AppError> {
    let row = store::find(conn, id)?.ok_or_else(|| AppError::not_found("no such report"))?;
    check_version(row.version)?;
    if row.status != ReportStatus::New {
        return Err(AppError::conflict(format!("the report is {} already", row.status)));
    }
    let (status, inspection_id) = match t.action {
        TriageAction::Dismiss => (ReportStatus::Dismissed, None),
        TriageAction::Inspect => {
            (ReportStatus::Triaged, Some(inspect(conn, now, who, &row, t.inspector_id)?))
        }
    };
    let change = store::Triage {
        status,
        triage_reason: t.reason.as_str(),
        triaged_by: &who.id,
        triaged_at: now,
        inspection_id: inspection_id.as_deref(),
        version: row.version + 1,
    };
    let event = ReportEvent::Triaged { id, status, reason: t.reason.as_str() };
    versioned::commit(
        conn,
        now,
        Some(&who.id),
        row.version,
        &event,
        |conn| store::triage(conn, id, &change),
        |conn| store::find(conn, id),
    )
}

/// Schedules the complaint inspection of the report's site by `inspector_id`; 422 when the
/// number matched no site or no inspector is named. Returns the inspection's id.
fn inspect(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    row: &ReportRow,
    inspector_id: Option<BodyId>,
) -> Result<String, AppError> {
    let mut errors = Vec::new();
    if row.site_id.is_none() {
        errors.push(FieldError::new("action", "the number matched no site to inspect"));
    }
    if inspector_id.is_none() {
        errors.push(FieldError::new("inspector_id", "is required to inspect"));
    }
    let (Some(site_id), Some(inspector_id)) = (row.site_id.as_deref(), inspector_id) else {
        return Err(AppError::validation(errors));
    };
    let new = NewInspection {
        site_id: BodyId::try_new(site_id).map_err(AppError::internal)?,
        inspector_id,
        scheduled_for: now.and_utc(),
        kind: visits::Kind::Complaint,
    };
    Ok(visits::schedule(conn, now, who, new)?.id)
}

/// A report's changes as the audit log records them.
enum ReportEvent<'a> {
    Received(&'a ReportRow),
    Triaged { id: &'a str, status: ReportStatus, reason: &'a str },
}

impl audit::Event for ReportEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Received(_) => "report.received",
            Self::Triaged { status: ReportStatus::Dismissed, .. } => "report.dismissed",
            Self::Triaged { .. } => "report.triaged",
        }
    }
    fn entity_type(&self) -> &'static str {
        "report"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Received(row) => &row.id,
            Self::Triaged { id, .. } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Received(row) => format!("{} call from {}", row.category, row.number),
            Self::Triaged { reason, .. } => reason.to_string(),
        }
    }
}
