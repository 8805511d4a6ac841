//! Sites: a call centre's premises, under an organisation. Visible to the organisation's owner
//! and to staff; anyone else gets 404.

pub mod routes;
pub mod store;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::{Child, Visible};
use crate::auth::Principal;
use crate::db::stored::StoredJson;
use crate::db::versioned;
use crate::db::DbConn;
use crate::domain::{Address, Country, Name};
use crate::error::{AppError, FieldError};
use crate::organisations::OrgRow;
pub use store::SiteRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Inbound,
    Outbound,
    Telemarketing,
    Bpo,
    Collections,
    TechnicalSupport,
}

crate::stored_enum! {
    /// `active` when registered; `closed` for good once closed.
    #[derive(ToSchema)]
    pub enum SiteStatus in "sites.status" {
        Active = "active",
        Closed = "closed",
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Site {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub address: Address,
    pub seat_count: i32,
    pub services: Vec<Service>,
    /// Country codes of the markets served.
    pub markets: Vec<String>,
    pub status: SiteStatus,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<SiteRow> for Site {
    fn from(r: SiteRow) -> Self {
        Site {
            id: r.id,
            organisation_id: r.organisation_id,
            name: r.name,
            address: r.address.into_inner(),
            seat_count: r.seat_count,
            services: r.services.into_inner(),
            markets: r.markets.iter().map(|c| c.alpha2().to_string()).collect(),
            status: r.status,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    #[schema(example = "Clifton contact centre")]
    pub name: Name,
    pub address: Address,
    #[schema(minimum = 1, maximum = 100000, example = 250)]
    pub seat_count: i64,
    #[schema(min_items = 1)]
    pub services: Vec<Service>,
    #[schema(min_items = 1)]
    pub markets: Vec<Country>,
}

impl crate::http::BodyRules for NewSite {}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    pub name: Option<Name>,
    /// Replaces the whole address.
    pub address: Option<Address>,
    #[schema(minimum = 1, maximum = 100000)]
    pub seat_count: Option<i64>,
    #[schema(min_items = 1)]
    pub services: Option<Vec<Service>>,
    #[schema(min_items = 1)]
    pub markets: Option<Vec<Country>>,
    /// `closed` closes the site; a closed site does not reopen.
    pub status: Option<SiteStatus>,
}

impl crate::http::BodyRules for SitePatch {}

// Operators see only their organisations' sites; staff see all.
crate::owned_by_organisation!(SiteRow, str, "no such site", store::find);

impl Child<OrgRow> for SiteRow {
    const MISSING: &'static str = "no such site in this organisation";

    fn find_in(conn: &mut DbConn, org: &OrgRow, id: &str) -> Result<Option<Self>, AppError> {
        Ok(store::find(conn, id)?.filter(|s| s.organisation_id == org.id))
    }
}

/// Every field of a new site or a change that breaks a rule, at once. (The body's schema states
/// the same bounds, so the JSON route refuses them before; this keeps every caller to them.)
fn check(
    seat_count: Option<i64>,
    services: Option<&[Service]>,
    markets: Option<&[Country]>,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if seat_count.is_some_and(|n| !(1..=100_000).contains(&n)) {
        errors.push(FieldError::new("seat_count", "must be from 1 to 100000"));
    }
    if services.is_some_and(<[Service]>::is_empty) {
        errors.push(FieldError::new("services", "name at least one service"));
    }
    if markets.is_some_and(<[Country]>::is_empty) {
        errors.push(FieldError::new("markets", "name at least one country served"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

fn services_json(mut v: Vec<Service>) -> Result<StoredJson<Vec<Service>>, AppError> {
    v.sort_by_key(|s| *s as u8);
    v.dedup();
    StoredJson::new(v)
}

fn markets_json(mut v: Vec<Country>) -> Result<StoredJson<Vec<Country>>, AppError> {
    v.sort_unstable_by_key(|c| c.alpha2());
    v.dedup();
    StoredJson::new(v)
}

/// The stored address and its city key (what the `city` filter matches).
fn address_json(a: Address) -> Result<(StoredJson<Address>, String), AppError> {
    let city_key = a.city.as_str().to_lowercase();
    Ok((StoredJson::new(a)?, city_key))
}

#[tracing::instrument(skip_all, fields(organisation = %org.id), err)]
pub fn create(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    org: &Visible<OrgRow>,
    new: NewSite,
) -> Result<SiteRow, AppError> {
    check(Some(new.seat_count), Some(&new.services), Some(&new.markets))?;
    let (address, city_key) = address_json(new.address)?;
    let row = SiteRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: org.id.clone(),
        name: new.name.into_string(),
        address,
        city_key,
        seat_count: new.seat_count as i32,
        services: services_json(new.services)?,
        markets: markets_json(new.markets)?,
        status: SiteStatus::Active,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &row)?;
    audit::record(conn, now, Some(&who.id), &SiteEvent::Created(&row))?;
    Ok(row)
}

#[tracing::instrument(skip_all, fields(site = %site.id), err)]
pub fn update(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    site: Visible<SiteRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    patch: SitePatch,
) -> Result<SiteRow, AppError> {
    let row = site.into_inner();
    check_version(row.version)?;
    check(patch.seat_count, patch.services.as_deref(), patch.markets.as_deref())?;
    let mut changed = Vec::new();
    let mut changes = store::SiteChanges::new(row.version + 1, now);
    if let Some(v) = patch.name {
        changes.name = Some(v.into_string());
        changed.push("name".to_string());
    }
    if let Some(v) = patch.address {
        let (address, city_key) = address_json(v)?;
        (changes.address, changes.city_key) = (Some(address), Some(city_key));
        changed.push("address".into());
    }
    if let Some(v) = patch.seat_count {
        changes.seat_count = Some(v as i32);
        changed.push(format!("seat_count={v}"));
    }
    if let Some(v) = patch.services {
        changes.services = Some(services_json(v)?);
        changed.push("services".into());
    }
    if let Some(v) = patch.markets {
        changes.markets = Some(markets_json(v)?);
        changed.push("markets".into());
    }
    match (patch.status, row.status) {
        (Some(SiteStatus::Closed), SiteStatus::Active) => {
            changes.status = Some(SiteStatus::Closed);
            changed.push("status=closed".into());
        }
        (Some(SiteStatus::Active), SiteStatus::Closed) => {
            return Err(AppError::conflict("a closed site does not reopen; register a new site"));
        }
        _ => {}
    }
    let event = SiteEvent::Updated { id: &row.id, changed: &changed };
    versioned::commit(
        conn,
        now,
        Some(&who.id),
        row.version,
        &event,
        |conn| store::update(conn, &row.id, &changes),
        |conn| store::find(conn, &row.id),
    )
}

/// The site's changes as the audit log records them.
enum SiteEvent<'a> {
    Created(&'a SiteRow),
    Updated { id: &'a str, changed: &'a [String] },
}

impl audit::Event for SiteEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Created(_) => "site.created",
            Self::Updated { .. } => "site.updated",
        }
    }
    fn entity_type(&self) -> &'static str {
        "site"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Created(row) => &row.id,
            Self::Updated { id, .. } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Created(r) => format!(
                "{} ({} seats, {}) for organisation {}",
                r.name, r.seat_count, r.city_key, r.organisation_id
            ),
            Self::Updated { changed, .. } => format!("changed {}", changed.join(", ")),
        }
    }
}
