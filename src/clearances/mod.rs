//! Clearances (API.md §10): `/submit` opens one per configured agency (the cybercrime agency,
//! the telecom regulator and a security agency by default); a client of that agency grants or
//! objects, once; approval waits until every one is granted. The operator sees its own
//! application's clearances, never the security agency's reason.

pub mod routes;
pub mod store;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::{self, Visible};
use crate::auth::{Principal, Role};
use crate::db::versioned;
use crate::db::DbConn;
use crate::domain::record_id::{ApplicationId, OrganisationId};
use crate::domain::{Name, Reason};
use crate::error::AppError;
use crate::organisations;
pub use store::ClearanceRow;

/// Days an agency has to decide.
pub const DUE_DAYS: i64 = 30;
/// The agency whose reasons an operator never reads.
pub const SECURITY_AGENCY: &str = "security";

crate::stored_enum! {
    #[derive(ToSchema)]
    pub enum ClearanceStatus in "clearances.status" {
        Pending = "pending",
        Granted = "granted",
        Objected = "objected",
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Clearance {
    pub id: String,
    pub application_id: String,
    pub organisation_id: String,
    /// The clearing agency's code (`CCREG_CLEARANCE_AGENCIES`).
    #[schema(example = "nccia")]
    pub agency: String,
    pub status: ClearanceStatus,
    pub requested_at: DateTime<Utc>,
    /// Requested + 30 days.
    pub due_by: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The agency's own reference for its decision.
    pub reference: Option<String>,
    /// Why the agency objected (withheld from the operator for the security agency).
    pub reason: Option<String>,
    pub version: i64,
}

impl Clearance {
    /// The view of `who`: an operator never reads the security agency's reason.
    pub fn view(r: ClearanceRow, who: &Principal) -> Self {
        let withhold = who.is(Role::Operator) && r.agency == SECURITY_AGENCY;
        Clearance {
            id: r.id,
            application_id: r.application_id,
            organisation_id: r.organisation_id,
            agency: r.agency,
            status: r.status,
            requested_at: r.requested_at.and_utc(),
            due_by: r.due_by.and_utc(),
            decided_at: r.decided_at.map(|t| t.and_utc()),
            reference: r.reference,
            reason: if withhold { None } else { r.reason },
            version: r.version,
        }
    }
}

/// Opens a clearance for each of `agencies` the application does not have yet (re-submitting
/// keeps the ones it has, decided or not).
#[tracing::instrument(skip_all, fields(application = %application_id), err(Display))]
pub fn open_for(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    application_id: &ApplicationId,
    organisation_id: &OrganisationId,
    agencies: &[String],
) -> Result<(), AppError> {
    let existing: Vec<String> = store::for_application(conn, application_id.as_str())?
        .into_iter()
        .map(|c| c.agency)
        .collect();
    for agency in agencies.iter().filter(|a| !existing.contains(a)) {
        let row = ClearanceRow {
            id: uuid::Uuid::now_v7().to_string(),
            application_id: application_id.to_string(),
            organisation_id: organisation_id.to_string(),
            agency: agency.clone(),
            status: ClearanceStatus::Pending,
            requested_at: now,
            due_by: now + Duration::days(DUE_DAYS),
            decided_at: None,
            decided_by: None,
            reference: None,
            reason: None,
            version: 1,
        };
        store::insert(conn, &row)?;
        audit::record(conn, now, Some(by), &ClearanceEvent::Requested(&row))?;
    }
    Ok(())
}

/// The agency an agency client decides for, if any (`clears`).
pub fn agency_of(conn: &mut DbConn, client_id: &str) -> Result<Option<String>, AppError> {
    use crate::db::schema::agency_clients;
    Ok(agency_clients::table
        .find(client_id)
        .select(agency_clients::clears)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Whether `who` may see `row`.
fn can_see(conn: &mut DbConn, who: &Principal, row: &ClearanceRow) -> Result<bool, AppError> {
    Ok(match who.role {
        Role::Admin | Role::Regulator => true,
        Role::Operator => organisations::can_see(conn, who, &row.organisation_id)?,
        Role::Agency => agency_of(conn, &who.id)?.as_deref() == Some(row.agency.as_str()),
        Role::Inspector => false,
    })
}

crate::owned_by_rule!(ClearanceRow, str, "no such clearance", store::find, can_see);

/// The clearance an agency's decision names. API.md §10 answers another clearing agency's
/// client 403 (it knows the clearance exists: every application has one per agency); anyone
/// else who may not see it gets the 404 of a missing one.
pub fn for_decision(
    conn: &mut DbConn,
    who: &Principal,
    id: &str,
) -> Result<Visible<ClearanceRow>, AppError> {
    let found = visible::resolve::<ClearanceRow>(conn, who, id);
    if found.is_err() && who.is(Role::Agency) {
        if let (Some(code), Some(row)) = (agency_of(conn, &who.id)?, store::find(conn, id)?) {
            return Err(AppError::forbidden(format!(
                "this client clears for {code}; only a client of {} may decide this clearance",
                row.agency
            )));
        }
    }
    found
}

/// An agency's decision.
#[derive(Debug)]
pub enum Verdict {
    Grant { reference: Name },
    Object { reason: Reason, reference: Name },
}

/// `/grant` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The agency's reference for its clearance.
    #[schema(example = "NCCIA/CLR/2026/0412")]
    pub reference: Name,
}

impl crate::http::BodyRules for Grant {}

/// `/object` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Objection {
    pub reason: Reason,
    #[schema(example = "NCCIA/OBJ/2026/0007")]
    pub reference: Name,
}

impl crate::http::BodyRules for Objection {}

/// Records an agency's decision: only a client of that agency (403 for another agency's
/// client or any other role that may see the clearance; 404 for one that may not), once
/// (409), with `If-Match`.
#[tracing::instrument(skip_all, fields(clearance = %clearance.id), err(Display))]
pub fn decide(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    clearance: Visible<ClearanceRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    verdict: Verdict,
) -> Result<ClearanceRow, AppError> {
    let row = clearance.into_inner();
    let clears = if who.is(Role::Agency) { agency_of(conn, &who.id)? } else { None };
    if clears.as_deref() != Some(row.agency.as_str()) {
        return Err(AppError::forbidden(format!(
            "only a client of {} may decide this clearance",
            row.agency
        )));
    }
    check_version(row.version)?;
    if row.status != ClearanceStatus::Pending {
        return Err(AppError::conflict(format!(
            "the clearance is {} already; it is final",
            row.status
        )));
    }
    let (status, reference, reason) = match verdict {
        Verdict::Grant { reference } => (ClearanceStatus::Granted, reference.into_string(), None),
        Verdict::Object { reason, reference } => {
            (ClearanceStatus::Objected, reference.into_string(), Some(reason.into_string()))
        }
    };
    let decision = store::Decision {
        status,
        decided_at: now,
        decided_by: who.id.clone(),
        reference,
        reason,
        version: row.version + 1,
    };
    let event = ClearanceEvent::Decided { clearance: &row, decision: &decision };
    versioned::commit(
        conn,
        now,
        Some(&who.id),
        row.version,
        &event,
        |conn| store::decide(conn, &row.id, &decision),
        |conn| store::find(conn, &row.id),
    )
}

/// The application's clearances that stand in the way of approval (pending or objected).
pub fn outstanding(conn: &mut DbConn, application_id: &str) -> Result<Vec<ClearanceRow>, AppError> {
    Ok(store::for_application(conn, application_id)?
        .into_iter()
        .filter(|c| c.status != ClearanceStatus::Granted)
        .collect())
}

/// The clearance's changes as the audit log records them.
enum ClearanceEvent<'a> {
    Requested(&'a ClearanceRow),
    Decided { clearance: &'a ClearanceRow, decision: &'a store::Decision },
}

impl audit::Event for ClearanceEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Requested(_) => "clearance.requested",
            Self::Decided { decision, .. } if decision.status == ClearanceStatus::Granted => {
                "clearance.granted"
            }
            Self::Decided { .. } => "clearance.objected",
        }
    }
    fn entity_type(&self) -> &'static str {
        "clearance"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Requested(row) | Self::Decided { clearance: row, .. } => &row.id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Requested(row) => {
                format!("{} asked to clear application {}", row.agency, row.application_id)
            }
            Self::Decided { clearance, decision } => format!(
                "{} {} application {} ({})",
                clearance.agency, decision.status, clearance.application_id, decision.reference
            ),
        }
    }
}
