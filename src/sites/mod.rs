//! Sites: a call centre's premises, under an organisation. Visible to the organisation's owner
//! and to staff; anyone else gets 404.

pub mod routes;
pub mod store;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Change};
use crate::auth::visible::{Child, Visible};
use crate::auth::Principal;
use crate::db::DbConn;
use crate::domain::{Address, Country, Name};
use crate::error::AppError;
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
    #[schema(value_type = Address)]
    pub address: serde_json::Value,
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
            address: serde_json::from_str(&r.address).unwrap_or_default(),
            seat_count: r.seat_count,
            services: serde_json::from_str(&r.services).unwrap_or_default(),
            markets: serde_json::from_str(&r.markets).unwrap_or_default(),
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

// Operators see only their organisations' sites; staff see all.
crate::owned_by_organisation!(SiteRow, str, "no such site", store::find);

impl Child<OrgRow> for SiteRow {
    const MISSING: &'static str = "no such site in this organisation";

    fn find_in(conn: &mut DbConn, org: &OrgRow, id: &str) -> Result<Option<Self>, AppError> {
        Ok(store::find(conn, id)?.filter(|s| s.organisation_id == org.id))
    }
}

fn seats(n: i64) -> Result<i32, AppError> {
    if (1..=100_000).contains(&n) {
        Ok(n as i32)
    } else {
        Err(AppError::invalid("seat_count", "must be from 1 to 100000"))
    }
}

fn services_json(mut v: Vec<Service>) -> Result<String, AppError> {
    v.sort_by_key(|s| *s as u8);
    v.dedup();
    if v.is_empty() {
        return Err(AppError::invalid("services", "name at least one service"));
    }
    serde_json::to_string(&v).map_err(|e| AppError::internal(e.to_string()))
}

fn markets_json(v: Vec<Country>) -> Result<String, AppError> {
    let mut codes: Vec<&str> = v.iter().map(Country::alpha2).collect();
    codes.sort_unstable();
    codes.dedup();
    if codes.is_empty() {
        return Err(AppError::invalid("markets", "name at least one country served"));
    }
    serde_json::to_string(&codes).map_err(|e| AppError::internal(e.to_string()))
}

fn address_json(a: &Address) -> Result<(String, String), AppError> {
    let json = serde_json::to_string(a).map_err(|e| AppError::internal(e.to_string()))?;
    Ok((json, a.city.as_str().to_lowercase()))
}

pub fn create(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    org: &Visible<OrgRow>,
    new: NewSite,
) -> Result<SiteRow, AppError> {
    let (address, city_key) = address_json(&new.address)?;
    let row = SiteRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: org.id.clone(),
        name: new.name.into_string(),
        address,
        city_key,
        seat_count: seats(new.seat_count)?,
        services: services_json(new.services)?,
        markets: markets_json(new.markets)?,
        status: SiteStatus::Active,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &row)?;
    audit::append(
        conn,
        now,
        Change {
            actor_id: Some(&who.id),
            action: "site.created",
            entity_type: "site",
            entity_id: &row.id,
            summary: format!(
                "{} ({} seats, {}) for organisation {}",
                row.name, row.seat_count, row.city_key, row.organisation_id
            ),
        },
    )?;
    Ok(row)
}

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
    let mut changed = Vec::new();
    let mut changes = store::SiteChanges::new(row.version + 1, now);
    if let Some(v) = patch.name {
        changes.name = Some(v.into_string());
        changed.push("name".to_string());
    }
    if let Some(v) = patch.address {
        let (address, city_key) = address_json(&v)?;
        (changes.address, changes.city_key) = (Some(address), Some(city_key));
        changed.push("address".into());
    }
    if let Some(v) = patch.seat_count {
        changes.seat_count = Some(seats(v)?);
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
    if store::update(conn, &row.id, &changes)? == 0 {
        return Err(AppError::PreconditionFailed("the site was changed concurrently".into()));
    }
    let row = store::find(conn, &row.id)?.ok_or_else(|| AppError::not_found("no such site"))?;
    audit::append(
        conn,
        now,
        Change {
            actor_id: Some(&who.id),
            action: "site.updated",
            entity_type: "site",
            entity_id: &row.id,
            summary: format!("changed {}", changed.join(", ")),
        },
    )?;
    Ok(row)
}
