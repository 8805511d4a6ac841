//! The phone numbers and IP ranges each site uses. A number (or any number of a range) and an
//! IP range belong to one site in the whole registry: registration takes a lock row, checks for
//! overlap with one index probe, and inserts, all in one transaction, so of two concurrent
//! overlapping registrations exactly one wins on either database.

pub mod routes;
pub mod store;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::{Child, Visible};
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::domain::{IpRange, E164};
use crate::error::{AppError, FieldError};
use crate::sites::SiteRow;
use crate::{organisations, sites};
pub use store::{IpRangeRow, PhoneRangeRow};

/// The most numbers one range may hold.
pub const MAX_RANGE: i64 = 100_000;

crate::stored_enum! {
    #[derive(ToSchema)]
    pub enum Purpose in "phone_ranges.purpose" {
        Inbound = "inbound",
        Outbound = "outbound",
        Both = "both",
    }
}

crate::stored_enum! {
    #[derive(ToSchema)]
    pub enum NumberKind in "phone_ranges.kind" {
        Number = "number",
        Range = "range",
    }
}

/// A number or a range to register. Numbers may be E.164 or in the national form of the
/// site's country (`021 34567890` for a site in PK).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NewNumber {
    /// One number.
    #[schema(title = "SingleNumber")]
    Number {
        #[schema(example = "+922134567890")]
        e164: String,
        purpose: Purpose,
    },
    /// `first` and `last` inclusive, of the same length, at most 100000 numbers.
    #[schema(title = "NumberRange")]
    Range {
        #[schema(example = "+922134567000")]
        first: String,
        #[schema(example = "+922134567999")]
        last: String,
        purpose: Purpose,
    },
}

impl crate::http::BodyRules for NewNumber {}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PhoneNumberResource {
    pub id: String,
    pub site_id: String,
    pub kind: NumberKind,
    /// For `kind: number`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e164: Option<String>,
    /// For `kind: range`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    pub purpose: Purpose,
    /// How many numbers it holds.
    pub count: i64,
    pub created_at: DateTime<Utc>,
}

impl From<PhoneRangeRow> for PhoneNumberResource {
    fn from(r: PhoneRangeRow) -> Self {
        let single = r.kind == NumberKind::Number;
        let (first, last) = (E164::from_i64(r.first_number), E164::from_i64(r.last_number));
        PhoneNumberResource {
            id: r.id,
            site_id: r.site_id,
            kind: r.kind,
            e164: single.then(|| first.to_string()),
            first: (!single).then(|| first.to_string()),
            last: (!single).then(|| last.to_string()),
            purpose: r.purpose,
            count: r.last_number - r.first_number + 1,
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIpRange {
    /// IPv4 or IPv6 CIDR; host bits must be zero (`203.0.113.7/24` is refused).
    #[schema(example = "203.0.113.0/24")]
    pub cidr: String,
}

impl crate::http::BodyRules for NewIpRange {}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IpRangeResource {
    pub id: String,
    pub site_id: String,
    pub cidr: String,
    /// `4` or `6`.
    pub family: i32,
    pub created_at: DateTime<Utc>,
}

impl From<IpRangeRow> for IpRangeResource {
    fn from(r: IpRangeRow) -> Self {
        IpRangeResource {
            id: r.id,
            site_id: r.site_id,
            cidr: r.cidr,
            family: r.family,
            created_at: r.created_at.and_utc(),
        }
    }
}

/// Nothing more is registered to a closed site.
fn check_open(site: &SiteRow) -> Result<(), AppError> {
    if site.status == crate::sites::SiteStatus::Closed {
        return Err(AppError::conflict("the site is closed; nothing more can be registered to it"));
    }
    Ok(())
}

impl Child<SiteRow> for PhoneRangeRow {
    const MISSING: &'static str = "no such number at this site";

    fn find_in(conn: &mut DbConn, site: &SiteRow, id: &str) -> Result<Option<Self>, AppError> {
        store::find_number_in(conn, &site.id.as_str().into(), &id.into())
    }
}

impl Child<SiteRow> for IpRangeRow {
    const MISSING: &'static str = "no such IP range at this site";

    fn find_in(conn: &mut DbConn, site: &SiteRow, id: &str) -> Result<Option<Self>, AppError> {
        store::find_ip_range_in(conn, &site.id.as_str().into(), &id.into())
    }
}

/// How a conflict is described: in full to staff and to the owner of the conflicting site,
/// without another operator's details otherwise.
fn conflict(
    conn: &mut DbConn,
    who: &Principal,
    what: String,
    site_id: &str,
    resource: &str,
) -> AppError {
    let owner = sites::store::find(conn, site_id)
        .ok()
        .flatten()
        .and_then(|s| organisations::store::find(conn, &s.organisation_id).ok().flatten())
        .map(|o| o.owner_id);
    if !who.is(Role::Operator) || owner.as_deref() == Some(who.id.as_str()) {
        AppError::conflict(format!(
            "{what} overlaps {resource} already registered to site {site_id}"
        ))
    } else {
        AppError::conflict(format!(
            "{what} overlaps {resource} already registered to another organisation's site"
        ))
    }
}

#[tracing::instrument(skip_all, fields(site = %site.id), err)]
pub fn register_number(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    site: &Visible<SiteRow>,
    new: NewNumber,
) -> Result<PhoneRangeRow, AppError> {
    check_open(site)?;
    let (kind, first, last, purpose) = numbers(new, site.address.country)?;
    store::lock(conn, "phone_ranges")?;
    if let Some(existing) = store::number_overlapping(conn, first.value(), last.value())? {
        let resource = PhoneNumberResource::from(existing.clone());
        let shown = match (&resource.e164, &resource.first, &resource.last) {
            (Some(n), _, _) => format!("number {n}"),
            (_, Some(a), Some(b)) => format!("range {a}..{b}"),
            _ => "a number".into(),
        };
        let what = span(first, last, kind == NumberKind::Number);
        return Err(conflict(conn, who, what, &existing.site_id, &shown));
    }
    let row = PhoneRangeRow {
        id: uuid::Uuid::now_v7().to_string(),
        site_id: site.id.clone(),
        kind,
        first_number: first.value(),
        last_number: last.value(),
        purpose,
        created_at: now,
    };
    store::insert_number(conn, &row)?;
    audit::record(conn, now, Some(&who.id), &TelephonyEvent::NumberRegistered(&row))?;
    Ok(row)
}

/// The kind, first and last number and purpose of `new`, read in the site's `country`.
fn numbers(
    new: NewNumber,
    country: crate::domain::Country,
) -> Result<(NumberKind, E164, E164, Purpose), AppError> {
    let region = Some(country);
    match new {
        NewNumber::Number { e164, purpose } => {
            let n = E164::parse(&e164, region, "e164")?;
            Ok((NumberKind::Number, n, n, purpose))
        }
        NewNumber::Range { first, last, purpose } => {
            // Both ends read in the site's country, and both named when neither reads.
            let a = E164::try_new(&first, region).map_err(|m| FieldError::new("first", m));
            let b = E164::try_new(&last, region).map_err(|m| FieldError::new("last", m));
            let (a, b) = match (a, b) {
                (Ok(a), Ok(b)) => (a, b),
                (a, b) => {
                    return Err(AppError::validation(a.err().into_iter().chain(b.err()).collect()))
                }
            };
            check_range(a, b)?;
            Ok((NumberKind::Range, a, b, purpose))
        }
    }
}

/// A range's ends: as many digits each, in order, and at most [`MAX_RANGE`] numbers.
fn check_range(a: E164, b: E164) -> Result<(), AppError> {
    if a.digits() != b.digits() {
        return Err(AppError::invalid("last", "must have as many digits as first"));
    }
    if b < a {
        return Err(AppError::invalid("last", "must not come before first"));
    }
    if b.value() - a.value() + 1 > MAX_RANGE {
        return Err(AppError::invalid(
            "last",
            format!("a range holds at most {MAX_RANGE} numbers"),
        ));
    }
    Ok(())
}

/// One number as itself, a range as `first..last`.
fn span(first: E164, last: E164, single: bool) -> String {
    if single {
        first.to_string()
    } else {
        format!("{first}..{last}")
    }
}

#[tracing::instrument(skip_all, fields(site = %site.id), err)]
pub fn register_ip_range(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    site: &Visible<SiteRow>,
    new: NewIpRange,
) -> Result<IpRangeRow, AppError> {
    check_open(site)?;
    let range = IpRange::try_new(&new.cidr).map_err(|m| AppError::invalid("cidr", m))?;
    let (first, last) = range.bounds();
    store::lock(conn, "ip_ranges")?;
    if let Some(existing) = store::ip_overlapping(conn, range.family(), &first, &last)? {
        let resource = format!("range {}", existing.cidr);
        return Err(conflict(conn, who, range.cidr(), &existing.site_id, &resource));
    }
    let row = IpRangeRow {
        id: uuid::Uuid::now_v7().to_string(),
        site_id: site.id.clone(),
        cidr: range.cidr(),
        family: range.family(),
        first_addr: first,
        last_addr: last,
        created_at: now,
    };
    store::insert_ip_range(conn, &row)?;
    audit::record(conn, now, Some(&who.id), &TelephonyEvent::IpRangeRegistered(&row))?;
    Ok(row)
}

/// Removes a number or range from a site.
#[tracing::instrument(skip_all, fields(site = %site.id, number = %number.id), err)]
pub fn remove_number(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    site: &Visible<SiteRow>,
    number: Visible<PhoneRangeRow>,
) -> Result<(), AppError> {
    store::delete_number(conn, &number.id)?;
    audit::record(conn, now, Some(&who.id), &TelephonyEvent::NumberRemoved(&number))?;
    Ok(())
}

/// Removes an IP range from a site.
#[tracing::instrument(skip_all, fields(site = %site.id, ip_range = %range.id), err)]
pub fn remove_ip_range(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    site: &Visible<SiteRow>,
    range: Visible<IpRangeRow>,
) -> Result<(), AppError> {
    store::delete_ip_range(conn, &range.id)?;
    audit::record(conn, now, Some(&who.id), &TelephonyEvent::IpRangeRemoved(&range))?;
    Ok(())
}

/// A site's numbers and IP ranges changing, as the audit log records them.
enum TelephonyEvent<'a> {
    NumberRegistered(&'a PhoneRangeRow),
    IpRangeRegistered(&'a IpRangeRow),
    NumberRemoved(&'a PhoneRangeRow),
    IpRangeRemoved(&'a IpRangeRow),
}

impl audit::Event for TelephonyEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::NumberRegistered(_) => "number.registered",
            Self::IpRangeRegistered(_) => "ip_range.registered",
            Self::NumberRemoved(_) => "number.removed",
            Self::IpRangeRemoved(_) => "ip_range.removed",
        }
    }
    fn entity_type(&self) -> &'static str {
        match self {
            Self::NumberRegistered(_) | Self::NumberRemoved(_) => "phone_number",
            Self::IpRangeRegistered(_) | Self::IpRangeRemoved(_) => "ip_range",
        }
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::NumberRegistered(r) | Self::NumberRemoved(r) => &r.id,
            Self::IpRangeRegistered(r) | Self::IpRangeRemoved(r) => &r.id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::NumberRegistered(r) => {
                let (a, b) = (E164::from_i64(r.first_number), E164::from_i64(r.last_number));
                let shown = span(a, b, r.kind == NumberKind::Number);
                format!("{shown} ({}) registered to site {}", r.purpose, r.site_id)
            }
            Self::IpRangeRegistered(r) => format!("{} registered to site {}", r.cidr, r.site_id),
            Self::NumberRemoved(r) => {
                let (a, b) = (E164::from_i64(r.first_number), E164::from_i64(r.last_number));
                format!("{} removed from site {}", span(a, b, a == b), r.site_id)
            }
            Self::IpRangeRemoved(r) => format!("{} removed from site {}", r.cidr, r.site_id),
        }
    }
}
