//! Fees (API.md §10): `/submit` raises one invoice per application (kept when it is
//! re-submitted), a regulator records the payments seen in the government's payment system
//! (ccreg never takes money), the invoice is `paid` once they cover its total, and a withdrawn
//! or rejected application voids an invoice still open. Amounts are integers in paisa.

pub mod routes;
pub mod store;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::Visible;
use crate::config::Licensing;
use crate::db::stored::StoredJson;
use crate::db::versioned;
use crate::db::DbConn;
use crate::domain::record_id::ApplicationId;
use crate::domain::{BodyId, Name};
use crate::error::{AppError, FieldError};
pub use store::{InvoiceRow, PaymentRow};

/// Days from issue to the due date.
pub const DUE_DAYS: i64 = 30;

crate::stored_enum! {
    #[derive(ToSchema)]
    pub enum InvoiceStatus in "invoices.status" {
        Open = "open",
        Paid = "paid",
        /// The application was withdrawn or rejected before payment.
        Void = "void",
    }
}

/// One fee line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceLine {
    /// `main_site`, `branch_site` or `late_renewal`.
    #[schema(example = "main_site")]
    pub code: String,
    pub description: String,
    /// Paisa (1 rupee = 100).
    #[schema(example = 2000000)]
    pub amount_minor: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    pub id: String,
    pub amount_minor: i64,
    pub paid_at: DateTime<Utc>,
    pub channel: String,
    pub reference: String,
    pub receipt_document_id: Option<String>,
    /// The regulator who recorded it.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<PaymentRow> for Payment {
    fn from(r: PaymentRow) -> Self {
        Payment {
            id: r.id,
            amount_minor: r.amount_minor,
            paid_at: r.paid_at.and_utc(),
            channel: r.channel,
            reference: r.reference,
            receipt_document_id: r.receipt_document_id,
            recorded_by: r.recorded_by,
            recorded_at: r.recorded_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Invoice {
    pub id: String,
    pub application_id: String,
    pub organisation_id: String,
    pub status: InvoiceStatus,
    /// Always `PKR`.
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
    pub total_minor: i64,
    pub paid_minor: i64,
    pub issued_at: DateTime<Utc>,
    /// Issued + 30 days.
    pub due_at: DateTime<Utc>,
    pub payments: Vec<Payment>,
    pub version: i64,
}

impl Invoice {
    pub fn view(r: InvoiceRow, payments: Vec<PaymentRow>) -> Result<Self, AppError> {
        Ok(Invoice {
            lines: r.lines.into_inner(),
            id: r.id,
            application_id: r.application_id,
            organisation_id: r.organisation_id,
            status: r.status,
            currency: r.currency,
            total_minor: r.total_minor,
            paid_minor: r.paid_minor,
            issued_at: r.issued_at.and_utc(),
            due_at: r.due_at.and_utc(),
            payments: payments.into_iter().map(Payment::from).collect(),
            version: r.version,
        })
    }
}

/// What an application's invoice is raised for.
pub struct FeeBasis<'a> {
    pub application_id: &'a str,
    pub organisation_id: &'a str,
    pub site_count: usize,
    /// A renewal submitted after its licence expired.
    pub late_renewal: bool,
}

/// The fee lines for `basis` under `fees`.
pub fn lines(basis: &FeeBasis<'_>, fees: &Licensing) -> Vec<InvoiceLine> {
    let mut lines = Vec::new();
    if basis.site_count > 0 {
        lines.push(InvoiceLine {
            code: "main_site".into(),
            description: "Licence fee: main site".into(),
            amount_minor: fees.fee_main_site_minor,
        });
    }
    for n in 1..basis.site_count {
        lines.push(InvoiceLine {
            code: "branch_site".into(),
            description: format!("Licence fee: branch site {n}"),
            amount_minor: fees.fee_branch_site_minor,
        });
    }
    if basis.late_renewal {
        lines.push(InvoiceLine {
            code: "late_renewal".into(),
            description: "Late renewal: the licence had expired when the renewal was submitted"
                .into(),
            amount_minor: fees.fee_late_renewal_minor,
        });
    }
    lines
}

/// The application's invoice, raised now if it has none (a re-submission keeps the first).
#[tracing::instrument(skip_all, fields(application = %basis.application_id), err(Display))]
pub fn raise(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    basis: FeeBasis<'_>,
    fees: &Licensing,
) -> Result<InvoiceRow, AppError> {
    if let Some(existing) = store::for_application(conn, basis.application_id)? {
        return Ok(existing);
    }
    let lines = lines(&basis, fees);
    let total: i64 = lines.iter().map(|l| l.amount_minor).sum();
    let row = InvoiceRow {
        id: uuid::Uuid::now_v7().to_string(),
        application_id: basis.application_id.to_string(),
        organisation_id: basis.organisation_id.to_string(),
        // Nothing to pay (all fees configured to zero) is paid already.
        status: if total == 0 { InvoiceStatus::Paid } else { InvoiceStatus::Open },
        currency: "PKR".into(),
        lines: StoredJson::new(lines.clone())?,
        total_minor: total,
        paid_minor: 0,
        issued_at: now,
        due_at: now + Duration::days(DUE_DAYS),
        version: 1,
    };
    store::insert(conn, &row)?;
    audit::record(conn, now, Some(by), &InvoiceEvent::Raised(&row))?;
    Ok(row)
}

/// Voids the application's invoice if it is still open (a paid one stays paid).
#[tracing::instrument(skip_all, fields(application = %application_id), err(Display))]
pub fn void_for_application(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    application_id: &ApplicationId,
) -> Result<(), AppError> {
    let Some(row) = store::for_application(conn, application_id.as_str())? else {
        return Ok(());
    };
    if row.status != InvoiceStatus::Open {
        return Ok(());
    }
    let changes = store::InvoiceChanges {
        status: InvoiceStatus::Void,
        paid_minor: row.paid_minor,
        version: row.version + 1,
    };
    let event = InvoiceEvent::Voided { id: &row.id, application_id: application_id.as_str() };
    versioned::commit(
        conn,
        now,
        Some(by),
        row.version,
        &event,
        |conn| store::update(conn, &row.id, &changes),
        |conn| store::find(conn, &row.id),
    )?;
    Ok(())
}

/// `amount` paisa as rupees, for people: `20000.00`.
pub fn rupees(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

// Operators see only their organisations' invoices; the staff who handle fees see all.
crate::owned_by_organisation!(InvoiceRow, str, "no such invoice", store::find);

/// A payment seen in the government's payment system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// Paisa, more than zero.
    #[schema(minimum = 1, example = 2000000)]
    pub amount_minor: i64,
    pub paid_at: DateTime<Utc>,
    /// How it was paid, e.g. `1link`, `bank_branch`, `psid`.
    #[schema(example = "psid")]
    pub channel: Name,
    /// The payment system's reference.
    #[schema(example = "PSID-2026-000123")]
    pub reference: Name,
    /// A `fee_receipt` (or any) document of the same organisation.
    pub receipt_document_id: Option<BodyId>,
}

impl crate::http::BodyRules for NewPayment {}

/// Records a payment (a regulator, `If-Match` on the invoice): 409 on a void or paid invoice
/// or beyond the total; the invoice is `paid` once the payments cover it.
#[tracing::instrument(skip_all, fields(invoice = %invoice.id), err(Display))]
pub fn record_payment(
    conn: &mut DbConn,
    now: NaiveDateTime,
    by: &str,
    invoice: Visible<InvoiceRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    payment: NewPayment,
) -> Result<InvoiceRow, AppError> {
    let row = invoice.into_inner();
    check_version(row.version)?;
    check_payment(conn, now, &row, &payment)?;
    let changes = settle(&row, payment.amount_minor)?;
    let record = PaymentRow {
        id: uuid::Uuid::now_v7().to_string(),
        invoice_id: row.id.clone(),
        amount_minor: payment.amount_minor,
        paid_at: payment.paid_at.naive_utc(),
        channel: payment.channel.into_string(),
        reference: payment.reference.into_string(),
        receipt_document_id: payment.receipt_document_id.map(BodyId::into_string),
        recorded_by: by.to_string(),
        recorded_at: now,
    };
    let event =
        InvoiceEvent::PaymentRecorded { invoice: &row, payment: &record, changes: &changes };
    versioned::commit(
        conn,
        now,
        Some(by),
        row.version,
        &event,
        |conn| {
            let changed = store::update(conn, &row.id, &changes)?;
            if changed > 0 {
                store::insert_payment(conn, &record)?;
            }
            Ok::<_, AppError>(changed)
        },
        |conn| store::find(conn, &row.id),
    )
}

/// 422 naming each field of `payment` that cannot be recorded on `row`.
fn check_payment(
    conn: &mut DbConn,
    now: NaiveDateTime,
    row: &InvoiceRow,
    payment: &NewPayment,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if payment.amount_minor <= 0 {
        errors.push(FieldError::new("amount_minor", "must be more than zero"));
    }
    if payment.paid_at.naive_utc() > now {
        errors.push(FieldError::new("paid_at", "must not be in the future"));
    }
    if let Some(doc) = &payment.receipt_document_id {
        if document_organisation(conn, doc.as_str())?.as_deref()
            != Some(row.organisation_id.as_str())
        {
            errors.push(FieldError::new(
                "receipt_document_id",
                "is not a document of the invoiced organisation",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

/// What paying `amount_minor` on `row` writes, or 409 on a void or paid invoice or beyond the
/// total.
fn settle(row: &InvoiceRow, amount_minor: i64) -> Result<store::InvoiceChanges, AppError> {
    match row.status {
        InvoiceStatus::Void => return Err(AppError::conflict("the invoice is void")),
        InvoiceStatus::Paid => return Err(AppError::conflict("the invoice is paid already")),
        InvoiceStatus::Open => {}
    }
    let paid = row.paid_minor + amount_minor;
    if paid > row.total_minor {
        return Err(AppError::conflict(format!(
            "the payment would take the invoice past its total: {} of PKR {} is outstanding",
            rupees(row.total_minor - row.paid_minor),
            rupees(row.total_minor)
        )));
    }
    let status = if paid == row.total_minor { InvoiceStatus::Paid } else { InvoiceStatus::Open };
    Ok(store::InvoiceChanges { status, paid_minor: paid, version: row.version + 1 })
}

fn document_organisation(conn: &mut DbConn, id: &str) -> Result<Option<String>, AppError> {
    use crate::db::schema::documents;
    Ok(documents::table.find(id).select(documents::organisation_id).first(conn).optional()?)
}

/// The invoice's changes as the audit log records them.
enum InvoiceEvent<'a> {
    Raised(&'a InvoiceRow),
    Voided {
        id: &'a str,
        application_id: &'a str,
    },
    PaymentRecorded {
        invoice: &'a InvoiceRow,
        payment: &'a PaymentRow,
        changes: &'a store::InvoiceChanges,
    },
}

impl audit::Event for InvoiceEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Raised(_) => "invoice.raised",
            Self::Voided { .. } => "invoice.voided",
            Self::PaymentRecorded { .. } => "invoice.payment_recorded",
        }
    }
    fn entity_type(&self) -> &'static str {
        "invoice"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Raised(row) | Self::PaymentRecorded { invoice: row, .. } => &row.id,
            Self::Voided { id, .. } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Raised(row) => format!(
                "PKR {} for application {} ({} lines)",
                rupees(row.total_minor),
                row.application_id,
                row.lines.len()
            ),
            Self::Voided { application_id, .. } => {
                format!("application {application_id} withdrawn or rejected")
            }
            Self::PaymentRecorded { invoice, payment, changes } => format!(
                "PKR {} by {} ({}); {} of {} paid{}",
                rupees(payment.amount_minor),
                payment.channel,
                payment.reference,
                rupees(changes.paid_minor),
                rupees(invoice.total_minor),
                if changes.status == InvoiceStatus::Paid { ": paid" } else { "" }
            ),
        }
    }
}
