//! Reading the index from the database: the whole registry at start, one entity at a time
//! afterwards. Large tables are read in keyset pages, so loading never holds a whole table's
//! rows (or, on PostgreSQL, a whole result set) in memory at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::ranges::id_halves;
use super::{id_bits, Licence, Registry};
use crate::db::schema::{ip_ranges, licence_sites, licences, organisations, phone_ranges, sites};
use crate::db::stored::StoredJson;
use crate::db::DbConn;
use crate::domain::Address;
use crate::error::AppError;
use crate::licences::LicenceStatus;
use crate::sites::SiteStatus;
use crate::verify::site_city;

/// Rows per page.
const PAGE: i64 = 5_000;

/// A change read from the database, to apply under the write lock.
#[derive(Debug)]
pub enum Update {
    Org { id: String, row: Option<(String, String, String)> },
    Site { id: String, row: Option<(String, String, String, bool)> },
    Licence { number: String, row: Option<(LicenceData, Vec<String>)> },
    Number { id: u128, row: Option<(String, i64, i64)> },
    Ip { id: u128, row: Option<(String, u8, u128, u128)> },
}

#[derive(Debug)]
pub struct LicenceData {
    pub organisation_id: String,
    pub holder: String,
    pub status: LicenceStatus,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub provisional_until: Option<NaiveDateTime>,
}

type LicenceCols =
    (String, String, String, LicenceStatus, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>);

fn licence_data(c: LicenceCols) -> (String, LicenceData) {
    (
        c.0,
        LicenceData {
            organisation_id: c.1,
            holder: c.2,
            status: c.3,
            issued_at: c.4,
            expires_at: c.5,
            provisional_until: c.6,
        },
    )
}

fn licence_cols() -> (
    licences::licence_number,
    licences::organisation_id,
    licences::holder,
    licences::status,
    licences::issued_at,
    licences::expires_at,
    licences::provisional_until,
) {
    (
        licences::licence_number,
        licences::organisation_id,
        licences::holder,
        licences::status,
        licences::issued_at,
        licences::expires_at,
        licences::provisional_until,
    )
}

fn hex_key(k: &str) -> Result<u128, AppError> {
    u128::from_str_radix(k, 16)
        .map_err(|_| AppError::internal(format!("stored address key {k:?} is not hexadecimal")))
}

fn family(f: i32) -> Result<u8, AppError> {
    match f {
        4 | 6 => Ok(f as u8),
        other => Err(AppError::internal(format!("stored IP family {other} is neither 4 nor 6"))),
    }
}

impl Registry {
    /// Applies one change read from the database.
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Org { id, row: Some((name, reg, tax)) } => self.put_org(&id, &name, &reg, &tax),
            Update::Org { id, row: None } => self.remove_org(&id),
            Update::Site { id, row: Some((org, name, city, open)) } => {
                self.put_site(&id.as_str().into(), &org.into(), &name, &city, open)
            }
            Update::Site { id, row: None } => {
                // Sites are never deleted; should one be, it holds nothing any more.
                if let Some(ix) = self.site_ix.get(&super::site_key(&id)).copied() {
                    self.sites[ix as usize].open = false;
                    self.numbers.remove_site(ix);
                    self.ips.remove_site(ix);
                }
            }
            Update::Licence { number, row: Some((l, site_ids)) } => {
                let sites = site_ids.iter().map(|s| self.site_slot(s)).collect();
                self.put_licence(
                    &number,
                    Licence {
                        organisation_id: l.organisation_id.into(),
                        holder: l.holder.into(),
                        status: l.status,
                        issued_at: l.issued_at,
                        expires_at: l.expires_at,
                        provisional_until: l.provisional_until,
                        sites,
                    },
                );
            }
            Update::Licence { number, row: None } => self.remove_licence(&number),
            Update::Number { id, row: Some((site, first, last)) } => {
                self.put_number_range(id, &site, first, last, false)
            }
            Update::Number { id, row: None } => self.numbers.remove(id_halves(id)),
            Update::Ip { id, row: Some((site, f, first, last)) } => {
                self.put_ip_range(id, &site, f, (first, last), false)
            }
            Update::Ip { id, row: None } => self.ips.remove(id_halves(id)),
        }
    }
}

/// The whole registry, read in pages.
pub fn all(conn: &mut DbConn) -> Result<Registry, AppError> {
    let mut r = Registry::default();
    all_orgs(conn, &mut r)?;
    all_sites(conn, &mut r)?;
    all_licences(conn, &mut r)?;
    all_numbers(conn, &mut r)?;
    all_ips(conn, &mut r)?;
    r.finish_load();
    Ok(r)
}

/// Every organisation, by id.
fn all_orgs(conn: &mut DbConn, r: &mut Registry) -> Result<(), AppError> {
    let count = organisations::table.count().get_result::<i64>(conn)?.max(0) as usize;
    r.orgs.reserve(count);
    r.org_by_registration.reserve(count);
    r.org_by_tax.reserve(count);
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, String, String)> = organisations::table
            .filter(organisations::id.gt(&after))
            .order(organisations::id.asc())
            .limit(PAGE)
            .select((
                organisations::id,
                organisations::legal_name,
                organisations::registration_number,
                organisations::tax_number,
            ))
            .load(conn)?;
        let Some(last) = rows.last().map(|row| row.0.clone()) else { break };
        for (id, name, reg, tax) in rows {
            r.put_org(&id, &name, &reg, &tax);
        }
        after = last;
    }
    Ok(())
}

/// Every site, by id.
fn all_sites(conn: &mut DbConn, r: &mut Registry) -> Result<(), AppError> {
    let count = sites::table.count().get_result::<i64>(conn)?.max(0) as usize;
    r.sites.reserve_exact(count);
    r.site_ix.reserve(count);
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, String, StoredJson<Address>, SiteStatus)> = sites::table
            .filter(sites::id.gt(&after))
            .order(sites::id.asc())
            .limit(PAGE)
            .select((sites::id, sites::organisation_id, sites::name, sites::address, sites::status))
            .load(conn)?;
        let Some(last) = rows.last().map(|row| row.0.clone()) else { break };
        for (id, org, name, address, status) in rows {
            let open = status == SiteStatus::Active;
            r.put_site(&id.into(), &org.into(), &name, &site_city(&address), open);
        }
        after = last;
    }
    Ok(())
}

/// Every licence with the sites it covers, by licence number.
fn all_licences(conn: &mut DbConn, r: &mut Registry) -> Result<(), AppError> {
    let count = licences::table.count().get_result::<i64>(conn)?.max(0) as usize;
    r.licences.reserve(count);
    let mut after = String::new();
    loop {
        let rows: Vec<LicenceCols> = licences::table
            .filter(licences::licence_number.gt(&after))
            .order(licences::licence_number.asc())
            .limit(PAGE)
            .select(licence_cols())
            .load(conn)?;
        let Some(last) = rows.last().map(|row| row.0.clone()) else { break };
        let numbers: Vec<String> = rows.iter().map(|row| row.0.clone()).collect();
        let mut covered: std::collections::HashMap<String, Vec<String>> =
            std::collections::HashMap::new();
        for (n, s) in licence_sites::table
            .filter(licence_sites::licence_number.eq_any(&numbers))
            .select((licence_sites::licence_number, licence_sites::site_id))
            .load::<(String, String)>(conn)?
        {
            covered.entry(n).or_default().push(s);
        }
        for cols in rows {
            let (number, data) = licence_data(cols);
            let site_ids = covered.remove(&number).unwrap_or_default();
            r.apply(Update::Licence { number, row: Some((data, site_ids)) });
        }
        after = last;
    }
    Ok(())
}

/// Every number range, by first number.
fn all_numbers(conn: &mut DbConn, r: &mut Registry) -> Result<(), AppError> {
    let count: i64 = phone_ranges::table.count().get_result(conn)?;
    r.numbers.reserve(count.max(0) as usize);
    let mut after = i64::MIN;
    loop {
        let rows: Vec<(String, String, i64, i64)> = phone_ranges::table
            .filter(phone_ranges::first_number.gt(after))
            .order(phone_ranges::first_number.asc())
            .limit(PAGE)
            .select((
                phone_ranges::id,
                phone_ranges::site_id,
                phone_ranges::first_number,
                phone_ranges::last_number,
            ))
            .load(conn)?;
        let Some(last) = rows.last().map(|row| row.2) else { break };
        for (id, site, first, last) in rows {
            r.put_number_range(id_bits(&id).map_err(AppError::internal)?, &site, first, last, true);
        }
        after = last;
    }
    Ok(())
}

/// Every IP range, by family and first address.
fn all_ips(conn: &mut DbConn, r: &mut Registry) -> Result<(), AppError> {
    let count: i64 = ip_ranges::table.count().get_result(conn)?;
    r.ips.reserve(count.max(0) as usize);
    let mut after = (0_i32, String::new());
    loop {
        let rows: Vec<(String, String, i32, String, String)> = ip_ranges::table
            .filter(
                ip_ranges::family
                    .gt(after.0)
                    .or(ip_ranges::family.eq(after.0).and(ip_ranges::first_addr.gt(&after.1))),
            )
            .order((ip_ranges::family.asc(), ip_ranges::first_addr.asc()))
            .limit(PAGE)
            .select((
                ip_ranges::id,
                ip_ranges::site_id,
                ip_ranges::family,
                ip_ranges::first_addr,
                ip_ranges::last_addr,
            ))
            .load(conn)?;
        let Some(last) = rows.last().map(|row| (row.2, row.3.clone())) else { break };
        for (id, site, f, first, last) in rows {
            r.put_ip_range(
                id_bits(&id).map_err(AppError::internal)?,
                &site,
                family(f)?,
                (hex_key(&first)?, hex_key(&last)?),
                true,
            );
        }
        after = last;
    }
    Ok(())
}

pub fn org(conn: &mut DbConn, id: &str) -> Result<Update, AppError> {
    let row = organisations::table
        .find(id)
        .select((
            organisations::legal_name,
            organisations::registration_number,
            organisations::tax_number,
        ))
        .first::<(String, String, String)>(conn)
        .optional()?;
    Ok(Update::Org { id: id.to_string(), row })
}

pub fn site(conn: &mut DbConn, id: &str) -> Result<Update, AppError> {
    let row = sites::table
        .find(id)
        .select((sites::organisation_id, sites::name, sites::address, sites::status))
        .first::<(String, String, StoredJson<Address>, SiteStatus)>(conn)
        .optional()?
        .map(|(org, name, address, status)| {
            (org, name, site_city(&address), status == SiteStatus::Active)
        });
    Ok(Update::Site { id: id.to_string(), row })
}

pub fn licence(conn: &mut DbConn, number: &str) -> Result<Update, AppError> {
    let row = licences::table.find(number).select(licence_cols()).first(conn).optional()?;
    let row = match row {
        Some(cols) => {
            let site_ids = licence_sites::table
                .filter(licence_sites::licence_number.eq(number))
                .select(licence_sites::site_id)
                .load::<String>(conn)?;
            Some((licence_data(cols).1, site_ids))
        }
        None => None,
    };
    Ok(Update::Licence { number: number.to_string(), row })
}

pub fn number_range(conn: &mut DbConn, id: &str) -> Result<Update, AppError> {
    let row = phone_ranges::table
        .find(id)
        .select((phone_ranges::site_id, phone_ranges::first_number, phone_ranges::last_number))
        .first::<(String, i64, i64)>(conn)
        .optional()?;
    Ok(Update::Number { id: id_bits(id).map_err(AppError::internal)?, row })
}

pub fn ip_range(conn: &mut DbConn, id: &str) -> Result<Update, AppError> {
    let row = ip_ranges::table
        .find(id)
        .select((
            ip_ranges::site_id,
            ip_ranges::family,
            ip_ranges::first_addr,
            ip_ranges::last_addr,
        ))
        .first::<(String, i32, String, String)>(conn)
        .optional()?;
    let row = match row {
        Some((site, f, first, last)) => Some((site, family(f)?, hex_key(&first)?, hex_key(&last)?)),
        None => None,
    };
    Ok(Update::Ip { id: id_bits(id).map_err(AppError::internal)?, row })
}
