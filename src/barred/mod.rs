//! Barred persons (API.md §11): revoking a licence bars the directors and beneficial owners of
//! its holder at that moment for `CCREG_BAR_YEARS` years. A later application of any
//! organisation listing someone with the same identity (`id_type`, `id_number`) while the bar
//! runs carries a `barred_person` flag, worked out at read time; staff see the flags, and
//! approving a flagged application needs an explicit, audited override.

pub mod routes;
pub mod store;

use std::collections::HashMap;

use chrono::{DateTime, Months, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::Principal;
use crate::db::DbConn;
use crate::domain::record_id::OrganisationId;
use crate::domain::{IdentityView, LicenceNumber};
use crate::error::AppError;
use crate::organisations::{IdType, PersonRole};
pub use store::BarredRow;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BarredPerson {
    pub id: String,
    pub id_type: IdType,
    pub id_number: String,
    pub full_name: String,
    /// The revoked licence.
    pub licence_number: String,
    /// Its holder.
    pub organisation_id: String,
    pub barred_at: DateTime<Utc>,
    pub barred_until: DateTime<Utc>,
}

impl BarredPerson {
    /// The bar as `reader` may see it: the identity number in full or masked (API.md §16; the
    /// list is for regulators and admins, who see it in full).
    pub fn for_reader(r: BarredRow, reader: &Principal) -> Self {
        BarredPerson {
            id: r.id,
            id_type: r.id_type,
            id_number: IdentityView::of(reader.role).show(r.id_number),
            full_name: r.full_name,
            licence_number: r.licence_number,
            organisation_id: r.organisation_id,
            barred_at: r.barred_at.and_utc(),
            barred_until: r.barred_until.and_utc(),
        }
    }
}

/// What kind of flag: only `barred_person` for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    BarredPerson,
}

/// A warning on an application for the regulator.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Flag {
    pub kind: FlagKind,
    /// The applying organisation's person who is barred.
    pub person_id: String,
    /// The revoked licence the bar comes from.
    pub licence_number: String,
    pub barred_until: DateTime<Utc>,
}

/// Whether a person's roles make them answerable for the holder.
fn is_answerable(roles: &[PersonRole]) -> bool {
    roles.iter().any(|r| matches!(r, PersonRole::Director | PersonRole::BeneficialOwner))
}

/// Bars the holder's directors and beneficial owners (inside the revocation's transaction).
#[tracing::instrument(skip_all, fields(licence = %licence_number.as_str()), err(Display))]
pub fn bar_holders(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &str,
    licence_number: &LicenceNumber,
    organisation_id: &OrganisationId,
    years: u32,
) -> Result<(), AppError> {
    let until = now
        .checked_add_months(Months::new(years * 12))
        .ok_or_else(|| AppError::internal("bar end out of range"))?;
    for person in store::people_of(conn, organisation_id.as_str())? {
        if !is_answerable(&person.roles) {
            continue;
        }
        let row = BarredRow {
            id: uuid::Uuid::now_v7().to_string(),
            person_id: person.id,
            id_type: person.id_type,
            id_number: person.id_number,
            full_name: person.full_name,
            licence_number: licence_number.as_str().to_string(),
            organisation_id: organisation_id.to_string(),
            barred_at: now,
            barred_until: until,
        };
        store::insert(conn, &row)?;
        audit::record(conn, now, Some(actor), &BarEvent::Barred(&row))?;
    }
    Ok(())
}

/// The flags of each of these organisations' applications at `now` (none: no entry).
pub fn flags_for(
    conn: &mut DbConn,
    organisation_ids: &[String],
    now: NaiveDateTime,
) -> Result<HashMap<String, Vec<Flag>>, AppError> {
    let mut out: HashMap<String, Vec<Flag>> = HashMap::new();
    for (org, person_id, bar) in store::matches(conn, organisation_ids, now)? {
        out.entry(org).or_default().push(Flag {
            kind: FlagKind::BarredPerson,
            person_id,
            licence_number: bar.licence_number,
            barred_until: bar.barred_until.and_utc(),
        });
    }
    Ok(out)
}

/// The flags of one organisation's applications at `now`.
pub fn flags_of(
    conn: &mut DbConn,
    organisation_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<Flag>, AppError> {
    Ok(flags_for(conn, &[organisation_id.to_string()], now)?
        .remove(organisation_id)
        .unwrap_or_default())
}

/// A bar's changes as the audit log records them.
enum BarEvent<'a> {
    Barred(&'a BarredRow),
}

impl audit::Event for BarEvent<'_> {
    fn action(&self) -> &'static str {
        "person.barred"
    }
    fn entity_type(&self) -> &'static str {
        "barred_person"
    }
    fn entity_id(&self) -> &str {
        let Self::Barred(row) = self;
        &row.id
    }
    fn summary(&self) -> String {
        let Self::Barred(row) = self;
        // The person by id, never by identity number (API.md §16).
        format!(
            "person {} barred until {} after licence {} was revoked",
            row.person_id,
            row.barred_until.date(),
            row.licence_number
        )
    }
}
