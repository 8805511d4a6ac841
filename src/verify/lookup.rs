//! Answers a batch of parsed questions with a fixed number of queries: licences, the ranges
//! holding numbers and addresses (one floor probe per value of the lower-bound index, inside a
//! single statement), their sites and organisations, and the licences covering those.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::{Answer, Parsed, QueryType, SiteRef, VerifyResult};
use crate::db::schema::{ip_ranges, organisations, phone_ranges, sites};
use crate::db::DbConn;
use crate::error::AppError;
use crate::licences::{self, effective_status, LicenceRow, LicenceStatus};
use crate::organisations::OrgRow;
use crate::sites::SiteRow;

/// Values per statement; a 10,000-item request takes at most five.
const CHUNK: usize = 2_000;

#[derive(QueryableByName)]
struct NumberFloor {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Text>)]
    range_id: Option<String>,
}

#[derive(QueryableByName)]
struct IpFloor {
    #[diesel(sql_type = Integer)]
    f: i32,
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = Nullable<Text>)]
    range_id: Option<String>,
}

/// For each number, the site of the range that holds it.
fn number_sites(conn: &mut DbConn, numbers: &[i64]) -> Result<HashMap<i64, String>, AppError> {
    let mut floors = Vec::new();
    for chunk in numbers.chunks(CHUNK) {
        // The values are integers we parsed, so writing them into the SQL is safe.
        let values: Vec<String> = chunk.iter().map(|n| format!("({n})")).collect();
        let sql = format!(
            "WITH v(n) AS (VALUES {}) SELECT v.n AS n, (SELECT p.id FROM phone_ranges p \
             WHERE p.first_number <= v.n ORDER BY p.first_number DESC LIMIT 1) AS range_id FROM v",
            values.join(",")
        );
        floors.extend(diesel::sql_query(sql).load::<NumberFloor>(conn)?);
    }
    let ids: Vec<String> = floors.iter().filter_map(|f| f.range_id.clone()).collect();
    let ranges: HashMap<String, (i64, String)> = phone_ranges::table
        .filter(phone_ranges::id.eq_any(&ids))
        .select((phone_ranges::id, phone_ranges::last_number, phone_ranges::site_id))
        .load::<(String, i64, String)>(conn)?
        .into_iter()
        .map(|(id, last, site)| (id, (last, site)))
        .collect();
    Ok(floors
        .into_iter()
        .filter_map(|f| {
            let (last, site) = ranges.get(f.range_id.as_ref()?)?;
            (*last >= f.n).then(|| (f.n, site.clone()))
        })
        .collect())
}

/// The site whose registered number or range holds `number`, if any (as verification finds it).
pub fn site_of_number(conn: &mut DbConn, number: i64) -> Result<Option<String>, AppError> {
    Ok(number_sites(conn, &[number])?.remove(&number))
}

/// For each (family, address key), the site of the CIDR range that holds it.
fn ip_sites(
    conn: &mut DbConn,
    keys: &[(i32, String)],
) -> Result<HashMap<(i32, String), String>, AppError> {
    let mut floors = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        // Families are 4 or 6 and keys 32 hex digits, both made by us: safe to write in.
        let values: Vec<String> = chunk.iter().map(|(f, k)| format!("({f}, '{k}')")).collect();
        let sql = format!(
            "WITH v(f, k) AS (VALUES {}) SELECT v.f AS f, v.k AS k, (SELECT r.id FROM ip_ranges r \
             WHERE r.family = v.f AND r.first_addr <= v.k ORDER BY r.first_addr DESC LIMIT 1) AS range_id FROM v",
            values.join(",")
        );
        floors.extend(diesel::sql_query(sql).load::<IpFloor>(conn)?);
    }
    let ids: Vec<String> = floors.iter().filter_map(|f| f.range_id.clone()).collect();
    let ranges: HashMap<String, (String, String)> = ip_ranges::table
        .filter(ip_ranges::id.eq_any(&ids))
        .select((ip_ranges::id, ip_ranges::last_addr, ip_ranges::site_id))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, last, site)| (id, (last, site)))
        .collect();
    Ok(floors
        .into_iter()
        .filter_map(|f| {
            let (last, site) = ranges.get(f.range_id.as_ref()?)?;
            (*last >= f.k).then(|| ((f.f, f.k), site.clone()))
        })
        .collect())
}

/// The licence that speaks for a set: an active one if any, else the latest issued.
fn best<'a>(
    candidates: impl Iterator<Item = &'a LicenceRow>,
    now: NaiveDateTime,
) -> Option<&'a LicenceRow> {
    candidates.max_by_key(|l| (effective_status(l, now).in_force(), l.issued_at))
}

fn known_org<'a>(
    org: &'a OrgRow,
    licences: &HashMap<&str, Vec<&'a LicenceRow>>,
    now: NaiveDateTime,
) -> Known<'a> {
    let licence = licences.get(org.id.as_str()).and_then(|ls| best(ls.iter().copied(), now));
    Known { org: Some(org), licence, site: None }
}

struct Known<'a> {
    org: Option<&'a OrgRow>,
    licence: Option<&'a LicenceRow>,
    site: Option<&'a SiteRow>,
}

fn answer(
    query: &str,
    query_type: QueryType,
    known: Option<Known<'_>>,
    now: NaiveDateTime,
) -> Answer {
    let mut a = Answer {
        query: query.to_string(),
        query_type,
        result: VerifyResult::Unknown,
        checked_at: now.and_utc(),
        licence_number: None,
        status: None,
        holder: None,
        registration_number: None,
        expires_at: None,
        site: None,
    };
    let Some(k) = known else { return a };
    let status = k.licence.map(|l| effective_status(l, now));
    let site_open = k.site.is_none_or(|s| s.status == crate::sites::SiteStatus::Active);
    a.result = if status.is_some_and(LicenceStatus::in_force) && site_open {
        VerifyResult::Licensed
    } else {
        VerifyResult::NotLicensed
    };
    a.status = status;
    a.licence_number = k.licence.map(|l| l.licence_number.clone());
    a.expires_at = k.licence.map(|l| l.expires_at.and_utc());
    a.holder = k.org.map(|o| o.legal_name.clone()).or_else(|| k.licence.map(|l| l.holder.clone()));
    a.registration_number = k.org.map(|o| o.registration_number.clone());
    a.site = k.site.map(|s| SiteRef {
        name: s.name.clone(),
        city: serde_json::from_str::<serde_json::Value>(&s.address)
            .ok()
            .and_then(|v| v.get("city").and_then(|c| c.as_str()).map(str::to_string))
            .unwrap_or_default(),
    });
    a
}

/// Answers every question; `queries[i]` is (the value as sent, its type, the parsed value).
pub fn answer_all(
    conn: &mut DbConn,
    queries: &[(String, QueryType, Parsed)],
    now: NaiveDateTime,
) -> Result<Vec<Answer>, AppError> {
    let mut licence_numbers = Vec::new();
    let mut numbers = Vec::new();
    let mut ips = Vec::new();
    let mut regs = Vec::new();
    let mut taxes = Vec::new();
    for (_, _, p) in queries {
        match p {
            Parsed::Licence(n) => licence_numbers.push(n.as_str().to_string()),
            Parsed::Number(n) => numbers.push(n.value()),
            Parsed::Ip(f, k) => ips.push((*f, k.clone())),
            Parsed::RegistrationNumber(r) => regs.push(r.as_str().to_string()),
            Parsed::TaxNumber(t) => taxes.push(t.as_str().to_string()),
        }
    }
    let asked_licences: HashMap<String, LicenceRow> =
        licences::store::find_many(conn, &licence_numbers)?
            .into_iter()
            .map(|l| (l.licence_number.clone(), l))
            .collect();
    let number_site =
        if numbers.is_empty() { HashMap::new() } else { number_sites(conn, &numbers)? };
    let ip_site = if ips.is_empty() { HashMap::new() } else { ip_sites(conn, &ips)? };

    let site_ids: Vec<String> = number_site.values().chain(ip_site.values()).cloned().collect();
    let sites: HashMap<String, SiteRow> = if site_ids.is_empty() {
        HashMap::new()
    } else {
        sites::table
            .filter(sites::id.eq_any(&site_ids))
            .select(SiteRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect()
    };
    let org_ids: Vec<String> = sites
        .values()
        .map(|s| s.organisation_id.clone())
        .chain(asked_licences.values().map(|l| l.organisation_id.clone()))
        .collect();
    // One indexed query per kind of key: an OR of IN lists would make SQLite scan the table.
    let mut orgs: Vec<OrgRow> = Vec::new();
    if !org_ids.is_empty() {
        orgs.extend(
            organisations::table
                .filter(organisations::id.eq_any(&org_ids))
                .select(OrgRow::as_select())
                .load(conn)?,
        );
    }
    if !regs.is_empty() {
        orgs.extend(
            organisations::table
                .filter(organisations::registration_number.eq_any(&regs))
                .select(OrgRow::as_select())
                .load(conn)?,
        );
    }
    if !taxes.is_empty() {
        orgs.extend(
            organisations::table
                .filter(organisations::tax_number.eq_any(&taxes))
                .select(OrgRow::as_select())
                .load(conn)?,
        );
    }
    let org_by_id: HashMap<&str, &OrgRow> = orgs.iter().map(|o| (o.id.as_str(), o)).collect();
    let org_by_reg: HashMap<&str, &OrgRow> =
        orgs.iter().map(|o| (o.registration_number.as_str(), o)).collect();
    let org_by_tax: HashMap<&str, &OrgRow> =
        orgs.iter().map(|o| (o.tax_number.as_str(), o)).collect();

    let site_licences = licences::store::for_sites(conn, &site_ids)?;
    let asked_org_ids: Vec<String> = regs
        .iter()
        .filter_map(|r| org_by_reg.get(r.as_str()))
        .chain(taxes.iter().filter_map(|t| org_by_tax.get(t.as_str())))
        .map(|o| o.id.clone())
        .collect();
    let org_licences = licences::store::for_organisations(conn, &asked_org_ids)?;
    // Indexed once, so assembling 10,000 answers stays linear.
    let mut by_site: HashMap<&str, Vec<&LicenceRow>> = HashMap::new();
    for (site, l) in &site_licences {
        by_site.entry(site.as_str()).or_default().push(l);
    }
    let mut by_org: HashMap<&str, Vec<&LicenceRow>> = HashMap::new();
    for l in &org_licences {
        by_org.entry(l.organisation_id.as_str()).or_default().push(l);
    }

    let known_site = |site_id: &str| {
        sites.get(site_id).map(|site| Known {
            org: org_by_id.get(site.organisation_id.as_str()).copied(),
            licence: by_site.get(site_id).and_then(|ls| best(ls.iter().copied(), now)),
            site: Some(site),
        })
    };
    Ok(queries
        .iter()
        .map(|(raw, t, p)| {
            let known = match p {
                Parsed::Licence(n) => asked_licences.get(n.as_str()).map(|l| Known {
                    org: org_by_id.get(l.organisation_id.as_str()).copied(),
                    licence: Some(l),
                    site: None,
                }),
                Parsed::Number(n) => number_site.get(&n.value()).and_then(|s| known_site(s)),
                Parsed::Ip(f, k) => ip_site.get(&(*f, k.clone())).and_then(|s| known_site(s)),
                Parsed::RegistrationNumber(r) => {
                    org_by_reg.get(r.as_str()).map(|o| known_org(o, &by_org, now))
                }
                Parsed::TaxNumber(t) => {
                    org_by_tax.get(t.as_str()).map(|o| known_org(o, &by_org, now))
                }
            };
            answer(raw, *t, known, now)
        })
        .collect())
}
