//! Inspections: scheduled by a regulator (or an inspector for itself), recorded once by the
//! assigned inspector, or cancelled. Who sees what: regulators and admins all; inspectors the
//! ones assigned to or opened by them; an operator only *recorded* inspections of its own
//! sites, never a scheduled one (an unannounced visit stays unannounced) and never the notes.
//! A critical outcome or finding puts the site's licence on the enforcement queue; major and
//! critical findings, and those with a `due_by`, open violations: the edge calls
//! `violations::after_inspection` beside `record`, in its transaction.

pub mod enforcement;
pub mod evidence;
pub mod routes;
pub mod store;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::Visible;
use crate::auth::{Principal, Role};
use crate::db::stored::StoredJson;
use crate::db::versioned;
use crate::db::DbConn;
use crate::domain::{BodyId, Reason};
use crate::error::{AppError, FieldError};
use crate::http::BodyRules;
use crate::{organisations, sites, users};
pub use store::InspectionRow;

crate::stored_enum! {
    #[derive(ToSchema)]
    #[schema(as = InspectionKind)]
    pub enum Kind in "inspections.kind" {
        PreLicence = "pre_licence",
        Routine = "routine",
        Complaint = "complaint",
        FollowUp = "follow_up",
        Unannounced = "unannounced",
    }
}

crate::stored_enum! {
    #[derive(ToSchema)]
    #[schema(as = InspectionStatus)]
    pub enum Status in "inspections.status" {
        Scheduled = "scheduled",
        Recorded = "recorded",
        Cancelled = "cancelled",
    }
}

crate::stored_enum! {
    #[derive(ToSchema)]
    pub enum Severity in "violations.severity" {
        Info = "info",
        Minor = "minor",
        Major = "major",
        Critical = "critical",
    }
}

crate::stored_enum! {
    #[derive(ToSchema)]
    pub enum Outcome in "inspections.outcome" {
        Compliant = "compliant",
        MinorIssues = "minor_issues",
        MajorIssues = "major_issues",
        Critical = "critical",
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInspection {
    pub site_id: BodyId,
    /// An active inspector account.
    pub inspector_id: BodyId,
    #[schema(example = "2026-12-01T09:00:00Z")]
    pub scheduled_for: DateTime<Utc>,
    pub kind: Kind,
}

impl BodyRules for NewInspection {}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// A short code: 1 to 50 letters, digits, `-`, `_` or `.`.
    #[schema(example = "UNDECLARED-SEATS", pattern = r"^[A-Za-z0-9._-]{1,50}$")]
    pub code: String,
    pub severity: Severity,
    pub description: Reason,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_by: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The SHA-256 of the evidence file, 64 hex digits.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub sha256: String,
    pub description: Reason,
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub visited_at: DateTime<Utc>,
    #[schema(minimum = 0, maximum = 1000000)]
    pub seats_observed: i64,
    #[schema(minimum = 0, maximum = 1000000)]
    pub staff_present: i64,
    /// At most `staff_present`.
    #[schema(minimum = 0, maximum = 1000000)]
    pub foreign_nationals_present: i64,
    pub findings: Vec<Finding>,
    pub outcome: Outcome,
    /// The inspector's private notes: never shown to the operator.
    pub notes: Option<Reason>,
    /// Hashes of evidence files, each with a description. Photos uploaded to
    /// `/api/v1/inspections/{id}/evidence` are listed already and need not be named here.
    pub evidence: Option<Vec<Evidence>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cancellation {
    pub reason: Reason,
}

impl BodyRules for Cancellation {}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Inspection {
    pub id: String,
    pub site_id: String,
    pub inspector_id: String,
    pub created_by: String,
    pub kind: Kind,
    pub scheduled_for: DateTime<Utc>,
    pub status: Status,
    pub visited_at: Option<DateTime<Utc>>,
    /// The site's declared seats when the visit was recorded.
    pub seats_declared: Option<i32>,
    pub seats_observed: Option<i32>,
    pub staff_present: Option<i32>,
    pub foreign_nationals_present: Option<i32>,
    pub findings: Vec<Finding>,
    pub outcome: Option<Outcome>,
    /// Absent for operators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// The uploaded photos in order of upload, then the hashes the record declared that name
    /// none of them (those with `sha256` and `description` only, the other fields null).
    pub evidence: Vec<evidence::EvidenceItem>,
    pub cancel_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Inspection {
    /// The view of `who`, with the inspection's uploaded evidence: operators never get the
    /// notes.
    pub fn view(r: InspectionRow, uploads: Vec<evidence::EvidenceRow>, who: &Principal) -> Self {
        Inspection {
            id: r.id,
            site_id: r.site_id,
            inspector_id: r.inspector_id,
            created_by: r.created_by,
            kind: r.kind,
            scheduled_for: r.scheduled_for.and_utc(),
            status: r.status,
            visited_at: r.visited_at.map(|t| t.and_utc()),
            seats_declared: r.seats_declared,
            seats_observed: r.seats_observed,
            staff_present: r.staff_present,
            foreign_nationals_present: r.foreign_nationals_present,
            findings: r.findings.into_inner(),
            outcome: r.outcome,
            notes: if who.is(Role::Operator) { None } else { r.notes },
            evidence: evidence::listed(uploads, r.evidence.into_inner()),
            cancel_reason: r.cancel_reason,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// The views of `rows` for `who`, each with its uploaded evidence.
pub fn views(
    conn: &mut DbConn,
    rows: Vec<InspectionRow>,
    who: &Principal,
) -> Result<Vec<Inspection>, AppError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut uploads = evidence::of_inspections(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = uploads.remove(&r.id).unwrap_or_default();
            Inspection::view(r, mine, who)
        })
        .collect())
}

/// The view of one inspection for `who`, with its uploaded evidence.
pub fn view_of(
    conn: &mut DbConn,
    row: InspectionRow,
    who: &Principal,
) -> Result<Inspection, AppError> {
    let mut views = views(conn, vec![row], who)?;
    views.pop().ok_or_else(|| AppError::internal("an inspection without its view"))
}

/// Whether `who` may see this inspection at all.
pub fn can_see(conn: &mut DbConn, who: &Principal, row: &InspectionRow) -> Result<bool, AppError> {
    Ok(match who.role {
        Role::Regulator | Role::Admin => true,
        Role::Inspector => row.inspector_id == who.id || row.created_by == who.id,
        Role::Operator => {
            row.status == Status::Recorded
                && sites::store::find(conn, &row.site_id)?
                    .map(|s| organisations::can_see(conn, who, &s.organisation_id))
                    .transpose()?
                    .unwrap_or(false)
        }
        Role::Agency => false,
    })
}

crate::owned_by_rule!(InspectionRow, str, "no such inspection", store::find, can_see);

/// Schedules an inspection of a site by an active inspector (an inspector only for itself).
#[tracing::instrument(skip_all, fields(site = %new.site_id.as_str()), err(Display))]
pub fn schedule(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    new: NewInspection,
) -> Result<InspectionRow, AppError> {
    if who.is(Role::Inspector) && new.inspector_id.as_str() != who.id {
        return Err(AppError::forbidden("an inspector may open inspections only for itself"));
    }
    let inspector = users::store::find(conn, new.inspector_id.as_str())?
        .filter(|u| u.role == Role::Inspector && u.active)
        .ok_or_else(|| AppError::invalid("inspector_id", "is not an active inspector account"))?;
    let site = sites::store::find(conn, new.site_id.as_str())?
        .ok_or_else(|| AppError::invalid("site_id", "no such site"))?;
    if site.status == crate::sites::SiteStatus::Closed {
        return Err(AppError::invalid("site_id", "the site is closed"));
    }
    let row = InspectionRow {
        id: uuid::Uuid::now_v7().to_string(),
        site_id: site.id,
        inspector_id: inspector.id,
        created_by: who.id.clone(),
        kind: new.kind,
        scheduled_for: new.scheduled_for.naive_utc(),
        status: Status::Scheduled,
        visited_at: None,
        seats_declared: None,
        seats_observed: None,
        staff_present: None,
        foreign_nationals_present: None,
        findings: StoredJson::new(Vec::new())?,
        outcome: None,
        notes: None,
        evidence: StoredJson::new(Vec::new())?,
        cancel_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &row)?;
    audit::record(conn, now, Some(&who.id), &InspectionEvent::Scheduled(&row))?;
    Ok(row)
}

/// The rules of a record's fields, each broken one named: finding codes, evidence hashes and
/// the staff counts. The JSON route checks them on the body as sent ([`BodyRules`]), beside
/// the schema's bounds of the counts; [`record`] checks them again for any other caller.
fn record_rules<'a>(
    codes: impl Iterator<Item = &'a str>,
    hashes: impl Iterator<Item = &'a str>,
    staff: Option<i64>,
    foreign: Option<i64>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, code) in codes.enumerate() {
        let ok = (1..=50).contains(&code.len())
            && code.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !ok {
            errors.push(FieldError::new(
                format!("findings[{i}].code"),
                "must be 1 to 50 letters, digits, '.', '_' or '-'",
            ));
        }
    }
    for (i, hash) in hashes.enumerate() {
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            errors.push(FieldError::new(
                format!("evidence[{i}].sha256"),
                "must be a SHA-256 in 64 hex digits",
            ));
        }
    }
    if let (Some(staff), Some(foreign)) = (staff, foreign) {
        if foreign > staff {
            errors
                .push(FieldError::new("foreign_nationals_present", "cannot exceed staff_present"));
        }
    }
    errors
}

impl BodyRules for Record {
    fn check(body: &serde_json::Value) -> Vec<FieldError> {
        let items = |k: &str| body.get(k).and_then(serde_json::Value::as_array).cloned();
        let (findings, evidence) = (items("findings").unwrap_or_default(), items("evidence"));
        // An item that is not an object, or a field that is not text, is named by the parser.
        let codes = findings.iter().map(|f| text(f, "code").unwrap_or("-"));
        let hashes = evidence.iter().flatten().map(|e| text(e, "sha256").unwrap_or(VALID_HASH));
        let count = |k: &str| body.get(k).and_then(serde_json::Value::as_i64);
        record_rules(codes, hashes, count("staff_present"), count("foreign_nationals_present"))
    }
}

fn text<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(serde_json::Value::as_str)
}

/// A hash that passes, standing in for one the parser will name.
const VALID_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Every rule of `r` a field breaks, at once (422).
fn check_record(r: &Record) -> Result<(), AppError> {
    let mut errors = record_rules(
        r.findings.iter().map(|f| f.code.as_str()),
        r.evidence.iter().flatten().map(|e| e.sha256.as_str()),
        Some(r.staff_present),
        Some(r.foreign_nationals_present),
    );
    for (field, v) in [
        ("seats_observed", r.seats_observed),
        ("staff_present", r.staff_present),
        ("foreign_nationals_present", r.foreign_nationals_present),
    ] {
        if !(0..=1_000_000).contains(&v) {
            errors.push(FieldError::new(field, "must be from 0 to 1000000"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

/// Records the visit (the assigned inspector, once) and raises enforcement when critical.
#[tracing::instrument(skip_all, fields(inspection = %inspection.id), err(Display))]
pub fn record(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    inspection: Visible<InspectionRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    rec: Record,
) -> Result<InspectionRow, AppError> {
    let row = inspection.into_inner();
    if row.inspector_id != who.id {
        return Err(AppError::forbidden("only the assigned inspector may record this inspection"));
    }
    check_version(row.version)?;
    if row.status != Status::Scheduled {
        return Err(AppError::conflict(format!("the inspection is {} already", row.status)));
    }
    check_record(&rec)?;
    let site = sites::store::find(conn, &row.site_id)?
        .ok_or_else(|| AppError::internal("inspection without site"))?;
    let critical = rec.outcome == Outcome::Critical
        || rec.findings.iter().any(|f| f.severity == Severity::Critical);
    let recording = store::Recording {
        status: Status::Recorded,
        visited_at: rec.visited_at.naive_utc(),
        seats_declared: site.seat_count,
        // check_record has kept each count within 0..=1000000.
        seats_observed: rec.seats_observed as i32,
        staff_present: rec.staff_present as i32,
        foreign_nationals_present: rec.foreign_nationals_present as i32,
        findings: StoredJson::new(rec.findings)?,
        outcome: rec.outcome,
        notes: rec.notes.map(Reason::into_string),
        evidence: StoredJson::new(rec.evidence.unwrap_or_default())?,
        version: row.version + 1,
        updated_at: now,
    };
    let event = InspectionEvent::Recorded { id: &row.id, recording: &recording };
    let row = commit(conn, now, who, &row, &event, &recording)?;
    if critical {
        enforcement::raise(conn, now, &who.id, &row)?;
    }
    Ok(row)
}

/// Records a visit with everything that follows from it, in the caller's transaction: the
/// violations its findings open, and the confirmation of each provisional licence whose every
/// site has now passed its pre-licence visit. The API's route and the inspector's form both
/// record through this.
#[tracing::instrument(skip_all, fields(inspection = %inspection.id), err(Display))]
pub fn record_visit(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    inspection: Visible<InspectionRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    rec: Record,
) -> Result<InspectionRow, AppError> {
    let row = record(conn, now, who, inspection, check_version, rec)?;
    crate::violations::after_inspection(conn, now, &who.id, &row)?;
    crate::licences::confirm_after_inspection(conn, now, &who.id, &row)?;
    Ok(row)
}

/// Cancels a scheduled inspection, with a reason.
#[tracing::instrument(skip_all, fields(inspection = %inspection.id), err(Display))]
pub fn cancel(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    inspection: Visible<InspectionRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    reason: Reason,
) -> Result<InspectionRow, AppError> {
    let row = inspection.into_inner();
    check_version(row.version)?;
    if row.status != Status::Scheduled {
        return Err(AppError::conflict(format!("a {} inspection cannot be cancelled", row.status)));
    }
    let cancellation = store::Cancellation {
        status: Status::Cancelled,
        cancel_reason: reason.into_string(),
        version: row.version + 1,
        updated_at: now,
    };
    let event = InspectionEvent::Cancelled { id: &row.id, reason: &cancellation.cancel_reason };
    commit(conn, now, who, &row, &event, &cancellation)
}

/// The versioned change of a scheduled inspection `row` to `changes`, with its audit entry;
/// returns the inspection as stored now.
fn commit<C>(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    row: &InspectionRow,
    event: &InspectionEvent<'_>,
    changes: C,
) -> Result<InspectionRow, AppError>
where
    C: diesel::AsChangeset<Target = crate::db::schema::inspections::table>,
    C::Changeset: diesel::query_builder::QueryFragment<crate::db::Backend>,
{
    versioned::commit(
        conn,
        now,
        Some(&who.id),
        row.version,
        event,
        |conn| store::update(conn, &row.id, row.version + 1, changes),
        |conn| store::find(conn, &row.id),
    )
}

/// An inspection's changes as the audit log records them.
enum InspectionEvent<'a> {
    Scheduled(&'a InspectionRow),
    Recorded { id: &'a str, recording: &'a store::Recording },
    Cancelled { id: &'a str, reason: &'a str },
}

impl audit::Event for InspectionEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Scheduled(_) => "inspection.scheduled",
            Self::Recorded { .. } => "inspection.recorded",
            Self::Cancelled { .. } => "inspection.cancelled",
        }
    }
    fn entity_type(&self) -> &'static str {
        "inspection"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Scheduled(row) => &row.id,
            Self::Recorded { id, .. } | Self::Cancelled { id, .. } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Scheduled(row) => format!(
                "{} inspection of site {} by {} for {}",
                row.kind,
                row.site_id,
                row.inspector_id,
                row.scheduled_for.and_utc().to_rfc3339()
            ),
            Self::Recorded { recording: r, .. } => format!(
                "outcome {}; {} seats seen of {} declared",
                r.outcome, r.seats_observed, r.seats_declared
            ),
            Self::Cancelled { reason, .. } => reason.to_string(),
        }
    }
}
