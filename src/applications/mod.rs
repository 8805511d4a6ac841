//! Licence applications and their state machine (API.md §5):
//!
//! | action | who | from | to |
//! |---|---|---|---|
//! | submit | owner | draft, info_requested | submitted |
//! | request-info | regulator | submitted | info_requested |
//! | approve | regulator | submitted | approved (issues or renews the licence) |
//! | reject | regulator | submitted | rejected |
//! | withdraw | owner | draft, submitted, info_requested | withdrawn |
//!
//! Who may act is the role policy's (403); from which status is [`Action::target`]'s (409).

pub mod routes;
pub mod store;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::{self, Visible};
use crate::auth::{Principal, Role};
use crate::barred::{self, Flag};
use crate::clearances;
use crate::config::Licensing;
use crate::db::stored::StoredJson;
use crate::db::versioned;
use crate::db::DbConn;
use crate::domain::record_id::{ApplicationId, InvoiceId, OrganisationId};
use crate::domain::transition::{self, Transition};
use crate::domain::{BodyId, LicenceNumber, Reason};
use crate::error::{AppError, FieldError};
use crate::licences;
use crate::organisations::{self, OrgRow};
use crate::sites::SiteRow;
pub use store::ApplicationRow;

pub use crate::licences::Category;

crate::stored_enum! {
    #[derive(ToSchema)]
    #[schema(as = ApplicationStatus)]
    pub enum Status in "applications.status" {
        Draft = "draft",
        Submitted = "submitted",
        InfoRequested = "info_requested",
        Approved = "approved",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
    }
}

/// A licence term: 12, 24 or 36 months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TermMonths(pub u32);

impl<'de> Deserialize<'de> for TermMonths {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match i64::deserialize(d)? {
            n @ (12 | 24 | 36) => Ok(TermMonths(n as u32)),
            n => Err(serde::de::Error::custom(format!("must be 12, 24 or 36 months, not {n}"))),
        }
    }
}

impl utoipa::PartialSchema for TermMonths {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int32,
            )))
            .enum_values(Some([12, 24, 36]))
            .description(Some("12, 24 or 36 months"))
            .into()
    }
}

impl utoipa::ToSchema for TermMonths {
    fn name() -> std::borrow::Cow<'static, str> {
        "TermMonths".into()
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    pub organisation_id: BodyId,
    /// The organisation's sites the licence is to cover.
    pub site_ids: Vec<BodyId>,
    pub category: Category,
    pub term_months: TermMonths,
    /// For a renewal: the licence to extend.
    pub renewal_of: Option<LicenceNumber>,
}

impl crate::http::BodyRules for NewApplication {}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Application {
    pub id: String,
    pub organisation_id: String,
    pub site_ids: Vec<String>,
    pub category: Category,
    pub term_months: i32,
    pub renewal_of: Option<String>,
    pub status: Status,
    pub history: Vec<Transition>,
    /// Once approved.
    pub licence_number: Option<String>,
    /// The fee invoice, raised at the first submission.
    pub invoice_id: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Staff only (absent for operators): warnings worked out at read time, such as a barred
    /// person among the organisation's people. Approving needs `override_flags` when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<Flag>>,
}

impl Application {
    /// The view with `flags` (given for staff, `None` for operators).
    pub fn view(row: ApplicationRow, flags: Option<Vec<Flag>>) -> Self {
        Application { flags, ..Application::from(row) }
    }
}

impl From<ApplicationRow> for Application {
    fn from(r: ApplicationRow) -> Self {
        Application {
            id: r.id,
            organisation_id: r.organisation_id,
            site_ids: r.site_ids.into_inner(),
            category: r.category,
            term_months: r.term_months,
            renewal_of: r.renewal_of,
            status: r.status,
            history: r.history.into_inner(),
            licence_number: r.licence_number,
            invoice_id: r.invoice_id,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            flags: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit,
    RequestInfo,
    Approve,
    Reject,
    Withdraw,
}

impl Action {
    /// The status this action leads to from `from`, or 409.
    pub fn target(self, from: Status) -> Result<Status, AppError> {
        use Status::*;
        let to = match (self, from) {
            (Action::Submit, Draft | InfoRequested) => Submitted,
            (Action::RequestInfo, Submitted) => InfoRequested,
            (Action::Approve, Submitted) => Approved,
            (Action::Reject, Submitted) => Rejected,
            (Action::Withdraw, Draft | Submitted | InfoRequested) => Withdrawn,
            _ => {
                return Err(AppError::conflict(format!(
                    "an application that is {} cannot be {}",
                    from,
                    self.past_tense()
                )))
            }
        };
        Ok(to)
    }

    fn past_tense(self) -> &'static str {
        match self {
            Action::Submit => "submitted",
            Action::RequestInfo => "sent back for information",
            Action::Approve => "approved",
            Action::Reject => "rejected",
            Action::Withdraw => "withdrawn",
        }
    }
}

/// What an approval may set.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Conditions the licence is issued under.
    pub conditions: Option<Vec<Reason>>,
    /// Overrides the term applied for.
    pub term_months: Option<TermMonths>,
    /// Must be `true`, with a `reason`, to approve an application that carries `flags`.
    pub override_flags: Option<bool>,
    /// Why the flags are overridden (written to the audit log and the history).
    pub reason: Option<Reason>,
}

impl crate::http::BodyRules for Approval {}

// Operators see only their organisations' applications; staff see all.
crate::owned_by_organisation!(ApplicationRow, str, "no such application", store::find);

/// The organisation, sites and licence a new application names, each one the caller's: every
/// one that is missing or another's is refused where it is given (422, all at once), with the
/// same message for a missing one and another's.
fn check_references(
    conn: &mut DbConn,
    who: &Principal,
    new: &NewApplication,
) -> Result<Visible<OrgRow>, AppError> {
    let Some(org) = visible::find::<OrgRow>(conn, who, new.organisation_id.as_str())? else {
        return Err(AppError::invalid("organisation_id", "no such organisation of yours"));
    };
    let mut errors = Vec::new();
    for (i, site_id) in new.site_ids.iter().enumerate() {
        if org.find_child::<SiteRow>(conn, site_id.as_str())?.is_none() {
            errors.push(FieldError::new(
                format!("site_ids[{i}]"),
                "no such site in this organisation",
            ));
        }
    }
    if let Some(number) = &new.renewal_of {
        match licences::store::find(conn, number.as_str())?.filter(|l| l.organisation_id == org.id)
        {
            None => {
                errors.push(FieldError::new("renewal_of", "no such licence of this organisation"))
            }
            Some(l) if l.status.is_final() => errors.push(FieldError::new(
                "renewal_of",
                format!("a {} licence cannot be renewed", l.status),
            )),
            Some(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(org)
    } else {
        Err(AppError::validation(errors))
    }
}

/// Creates a draft application of the caller's organisation.
#[tracing::instrument(skip_all, fields(organisation = %new.organisation_id.as_str()), err(Display))]
pub fn create(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    new: NewApplication,
) -> Result<ApplicationRow, AppError> {
    let org = check_references(conn, who, &new)?;
    let mut site_ids: Vec<String> = new.site_ids.into_iter().map(BodyId::into_string).collect();
    site_ids.sort();
    site_ids.dedup();
    let row = ApplicationRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: org.id.clone(),
        site_ids: StoredJson::new(site_ids)?,
        category: new.category,
        term_months: new.term_months.0 as i32,
        renewal_of: new.renewal_of.map(|n| n.as_str().to_string()),
        status: Status::Draft,
        history: transition::push(&[], None, "draft", now, &who.id, None)?,
        licence_number: None,
        version: 1,
        created_at: now,
        updated_at: now,
        invoice_id: None,
    };
    store::insert(conn, &row)?;
    audit::record(conn, now, Some(&who.id), &ApplicationEvent::Created(&row))?;
    Ok(row)
}

/// Submitting needs at least one site, at least one person, every listed site to be an active
/// site of the organisation, and the documents of API.md §10; each missing thing is named.
fn check_prerequisites(conn: &mut DbConn, row: &ApplicationRow) -> Result<(), AppError> {
    // Locked until commit: a document cannot be deleted while this submission reads them.
    organisations::store::lock(conn, &row.organisation_id)?;
    let site_ids: &[String] = &row.site_ids;
    let mut errors = Vec::new();
    if site_ids.is_empty() {
        errors.push(FieldError::new("site_ids", "name at least one site"));
    }
    let mut own_sites = Vec::new();
    for (i, id) in site_ids.iter().enumerate() {
        match crate::sites::store::find(conn, id)? {
            Some(s)
                if s.organisation_id == row.organisation_id
                    && s.status == crate::sites::SiteStatus::Active =>
            {
                own_sites.push(s.id)
            }
            Some(s) if s.organisation_id == row.organisation_id => errors
                .push(FieldError::new(format!("site_ids[{i}]"), format!("site {id} is closed"))),
            _ => errors.push(FieldError::new(
                format!("site_ids[{i}]"),
                format!("site {id} is not a site of this organisation"),
            )),
        }
    }
    if organisations::store::count_people(conn, &row.organisation_id)? == 0 {
        errors.push(FieldError::new(
            "people",
            "record at least one director, owner or signatory first",
        ));
    }
    // Only the organisation's own sites: another's is never named.
    errors.extend(crate::documents::missing_for_submission(
        conn,
        &row.organisation_id,
        &own_sites,
    )?);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

/// The flags an approval overrides, or 422 naming `override_flags` and `reason` when the
/// application carries flags and the approval does not override them with a reason.
fn check_flags(
    conn: &mut DbConn,
    now: NaiveDateTime,
    row: &ApplicationRow,
    approval: &Approval,
) -> Result<Vec<Flag>, AppError> {
    let flags = barred::flags_of(conn, &row.organisation_id, now)?;
    if flags.is_empty() {
        return Ok(flags);
    }
    let mut errors = Vec::new();
    if approval.override_flags != Some(true) {
        errors.push(FieldError::new(
            "override_flags",
            "must be true: the application is flagged (a barred person)",
        ));
    }
    if approval.reason.is_none() {
        errors.push(FieldError::new("reason", "is required to override the flags"));
    }
    if errors.is_empty() {
        Ok(flags)
    } else {
        Err(AppError::validation(errors))
    }
}

/// The flags of each row as `who` sees them: staff get them (maybe empty), operators `None`.
pub fn flags_for_viewer(
    conn: &mut DbConn,
    who: &Principal,
    rows: &[ApplicationRow],
    now: NaiveDateTime,
) -> Result<Vec<Option<Vec<Flag>>>, AppError> {
    if who.is(Role::Operator) {
        return Ok(rows.iter().map(|_| None).collect());
    }
    let orgs: Vec<String> = rows.iter().map(|r| r.organisation_id.clone()).collect();
    let by_org = barred::flags_for(conn, &orgs, now)?;
    Ok(rows
        .iter()
        .map(|r| Some(by_org.get(&r.organisation_id).cloned().unwrap_or_default()))
        .collect())
}

/// Approval waits for the fee and every clearance; one 409 names everything outstanding.
fn check_approvable(conn: &mut DbConn, row: &ApplicationRow) -> Result<(), AppError> {
    let mut blockers = Vec::new();
    match crate::invoices::store::for_application(conn, &row.id)? {
        Some(invoice) if invoice.status == crate::invoices::InvoiceStatus::Paid => {}
        Some(invoice) => blockers.push(format!(
            "invoice {} is {} (PKR {} of {} paid)",
            invoice.id,
            invoice.status,
            crate::invoices::rupees(invoice.paid_minor),
            crate::invoices::rupees(invoice.total_minor)
        )),
        None => blockers.push("no invoice has been raised".into()),
    }
    for c in clearances::outstanding(conn, &row.id)? {
        blockers.push(format!("the {} clearance {} is {}", c.agency, c.id, c.status));
    }
    if blockers.is_empty() {
        Ok(())
    } else {
        Err(AppError::conflict(format!("cannot approve yet: {}", blockers.join("; "))))
    }
}

/// At submission: the invoice (kept on re-submission) and one clearance per agency.
fn open_dossier(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    row: &ApplicationRow,
    licensing: &Licensing,
) -> Result<(), AppError> {
    let site_count = row.site_ids.len();
    let late_renewal = match &row.renewal_of {
        Some(number) => licences::store::find(conn, number)?.is_some_and(|l| l.expires_at <= now),
        None => false,
    };
    let basis = crate::invoices::FeeBasis {
        application_id: &row.id,
        organisation_id: &row.organisation_id,
        site_count,
        late_renewal,
    };
    let invoice = crate::invoices::raise(conn, now, by, basis, licensing)?;
    let id = ApplicationId::from(row.id.as_str());
    let org = OrganisationId::from(row.organisation_id.as_str());
    clearances::open_for(conn, now, by, &id, &org, &licensing.clearance_agencies)?;
    store::set_invoice(conn, &id, &InvoiceId::new(invoice.id))
}

/// What an approved application grants.
fn grant(
    row: &ApplicationRow,
    term_months: u32,
    conditions: Vec<String>,
) -> Result<licences::Grant, AppError> {
    Ok(licences::Grant {
        application_id: row.id.clone(),
        organisation_id: row.organisation_id.clone(),
        site_ids: row.site_ids.to_vec(),
        category: row.category,
        term_months,
        conditions,
    })
}

/// The application read at the version `check_version` accepts, and the status `action` leads
/// it to (409 when none).
fn start(
    application: Visible<ApplicationRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    action: Action,
) -> Result<(ApplicationRow, Step), AppError> {
    let row = application.into_inner();
    check_version(row.version)?;
    let from = row.status;
    let to = action.target(from)?;
    Ok((row, Step { action, from, to }))
}

/// A step of one application: the action, and the statuses before and after it.
#[derive(Debug, Clone, Copy)]
struct Step {
    action: Action,
    from: Status,
    to: Status,
}

/// Takes `row` through `step` (with `reason`, if any): the change, then `then` (its
/// consequences), then its audit entry, in the caller's transaction; returns the application
/// as stored now. Of two concurrent steps exactly one wins (412 for the other).
fn take_step(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    (row, step): (ApplicationRow, Step),
    reason: Option<String>,
    then: impl FnOnce(&mut DbConn, &ApplicationRow) -> Result<(), AppError>,
) -> Result<ApplicationRow, AppError> {
    let (from, to) = (step.from.as_str(), step.to.as_str());
    let transition = store::Transition {
        status: step.to,
        history: transition::push(&row.history, Some(from), to, now, &who.id, reason.clone())?,
        version: row.version + 1,
        updated_at: now,
    };
    let event = ApplicationEvent::Moved { id: &row.id, step, reason: reason.as_deref() };
    versioned::commit(
        conn,
        now,
        Some(&who.id),
        row.version,
        &event,
        |conn| match store::update(conn, &row.id, &transition)? {
            0 => Ok(0),
            changed => then(conn, &row).map(|()| changed),
        },
        |conn| store::find(conn, &row.id),
    )
}

/// The owner submits a draft (or an application sent back for information), inside a write
/// transaction: every prerequisite must be met (422); raises the fee invoice (kept on
/// re-submission) and opens one clearance per agency.
#[tracing::instrument(skip_all, fields(application = %application.id), err(Display))]
pub fn submit(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    application: Visible<ApplicationRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    licensing: &Licensing,
) -> Result<ApplicationRow, AppError> {
    let started = start(application, check_version, Action::Submit)?;
    check_prerequisites(conn, &started.0)?;
    take_step(conn, now, who, started, None, |conn, row| {
        open_dossier(conn, now, &who.id, row, licensing)
    })
}

/// A regulator sends a submitted application back for information (inside a write transaction).
#[tracing::instrument(skip_all, fields(application = %application.id), err(Display))]
pub fn request_info(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    application: Visible<ApplicationRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    message: Reason,
) -> Result<ApplicationRow, AppError> {
    let started = start(application, check_version, Action::RequestInfo)?;
    take_step(conn, now, who, started, Some(message.into_string()), |_, _| Ok(()))
}

/// A regulator rejects a submitted application (inside a write transaction); an invoice still
/// open is voided.
#[tracing::instrument(skip_all, fields(application = %application.id), err(Display))]
pub fn reject(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    application: Visible<ApplicationRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    reason: Reason,
) -> Result<ApplicationRow, AppError> {
    let started = start(application, check_version, Action::Reject)?;
    take_step(conn, now, who, started, Some(reason.into_string()), |conn, row| {
        void_invoice(conn, now, who, row)
    })
}

/// The owner withdraws an application not yet decided (inside a write transaction); an
/// invoice still open is voided.
#[tracing::instrument(skip_all, fields(application = %application.id), err(Display))]
pub fn withdraw(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    application: Visible<ApplicationRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
) -> Result<ApplicationRow, AppError> {
    let started = start(application, check_version, Action::Withdraw)?;
    take_step(conn, now, who, started, None, |conn, row| void_invoice(conn, now, who, row))
}

/// Voids the application's invoice if it is still open.
fn void_invoice(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    row: &ApplicationRow,
) -> Result<(), AppError> {
    crate::invoices::void_for_application(conn, now, &who.id, &ApplicationId::from(row.id.as_str()))
}

/// A regulator approves a submitted application (inside a write transaction) once the fee is
/// paid and every clearance granted (409), with an audited override of any flags (422):
/// issues the licence, or extends the one being renewed. Of two concurrent approvals exactly
/// one wins.
#[tracing::instrument(skip_all, fields(application = %application.id), err(Display))]
pub fn approve(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    application: Visible<ApplicationRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    approval: Approval,
) -> Result<ApplicationRow, AppError> {
    let started = start(application, check_version, Action::Approve)?;
    check_approvable(conn, &started.0)?;
    let overridden = check_flags(conn, now, &started.0, &approval)?;
    let reason = approval.reason.clone().map(Reason::into_string);
    take_step(conn, now, who, started, reason.clone(), |conn, row| {
        let number = grant_licence(conn, now, who, row, approval)?;
        store::set_licence_number(conn, &row.id, &number)?;
        if overridden.is_empty() {
            return Ok(());
        }
        let event = ApplicationEvent::FlagsOverridden {
            id: &row.id,
            flags: &overridden,
            reason: reason.as_deref(),
        };
        audit::record(conn, now, Some(&who.id), &event).map(drop)
    })
}

/// Issues the licence `approval` grants for `row`, or extends the one it renews; returns its
/// number.
fn grant_licence(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    row: &ApplicationRow,
    approval: Approval,
) -> Result<String, AppError> {
    let term = approval.term_months.map(|t| t.0).unwrap_or(row.term_months as u32);
    let conditions: Vec<String> =
        approval.conditions.unwrap_or_default().into_iter().map(Reason::into_string).collect();
    match &row.renewal_of {
        Some(n) => licences::renew(conn, now, &who.id, n, term),
        None => licences::issue(conn, now, &who.id, grant(row, term, conditions)?),
    }
}

/// An application's changes as the audit log records them.
enum ApplicationEvent<'a> {
    Created(&'a ApplicationRow),
    Moved { id: &'a str, step: Step, reason: Option<&'a str> },
    FlagsOverridden { id: &'a str, flags: &'a [Flag], reason: Option<&'a str> },
}

impl audit::Event for ApplicationEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Created(_) => "application.created",
            Self::FlagsOverridden { .. } => "application.flags_overridden",
            Self::Moved { step, .. } => match step.action {
                Action::Submit => "application.submitted",
                Action::RequestInfo => "application.info_requested",
                Action::Approve => "application.approved",
                Action::Reject => "application.rejected",
                Action::Withdraw => "application.withdrawn",
            },
        }
    }
    fn entity_type(&self) -> &'static str {
        "application"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Created(row) => &row.id,
            Self::Moved { id, .. } | Self::FlagsOverridden { id, .. } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Created(row) => format!(
                "{} application for organisation {}{}",
                row.category,
                row.organisation_id,
                row.renewal_of.as_deref().map(|n| format!(", renewing {n}")).unwrap_or_default()
            ),
            Self::Moved { step, reason, .. } => format!(
                "{} -> {}{}",
                step.from,
                step.to,
                reason.map(|r| format!(": {r}")).unwrap_or_default()
            ),
            Self::FlagsOverridden { flags, reason, .. } => {
                let people: Vec<&str> = flags.iter().map(|f| f.person_id.as_str()).collect();
                format!("barred persons {}: {}", people.join(", "), reason.unwrap_or_default())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_transitions() {
        use Status::*;
        let all = [Draft, Submitted, InfoRequested, Approved, Rejected, Withdrawn];
        let table = [
            (Action::Submit, vec![Draft, InfoRequested], Submitted),
            (Action::RequestInfo, vec![Submitted], InfoRequested),
            (Action::Approve, vec![Submitted], Approved),
            (Action::Reject, vec![Submitted], Rejected),
            (Action::Withdraw, vec![Draft, Submitted, InfoRequested], Withdrawn),
        ];
        for (action, froms, to) in table {
            for from in all {
                match action.target(from) {
                    Ok(t) => assert!(froms.contains(&from) && t == to, "{action:?} from {from:?}"),
                    Err(e) => assert!(
                        !froms.contains(&from) && matches!(e, AppError::Conflict(_)),
                        "{action:?} from {from:?}"
                    ),
                }
            }
        }
    }
}
