//! Answers a batch of parsed questions with a fixed number of queries: licences, the ranges
//! holding numbers and addresses (one floor probe per value of the lower-bound index, inside a
//! single statement), their sites and organisations, and the licences covering those.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::{
    answer, best, site_city, Answer, Facts, LicenceFacts, OrgFacts, Parsed, QueryType, SiteFacts,
};
use crate::db::schema::{ip_ranges, organisations, phone_ranges, sites};
use crate::db::DbConn;
use crate::error::AppError;
use crate::licences::{self, LicenceRow};
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
        // The values are integers we parsed, so writing them into the SQL is safe. They are
        // cast to BIGINT: PostgreSQL reads a bare literal above 2^31 as NUMERIC, and comparing
        // the column with a NUMERIC cannot use the index (a full scan per probe).
        let values: Vec<String> = chunk.iter().map(|n| format!("(CAST({n} AS BIGINT))")).collect();
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

fn facts(l: &LicenceRow) -> LicenceFacts<'_> {
    LicenceFacts {
        number: &l.licence_number,
        holder: &l.holder,
        status: l.status,
        issued_at: l.issued_at,
        expires_at: l.expires_at,
        provisional_until: l.provisional_until,
    }
}

fn org_facts(o: &OrgRow) -> OrgFacts<'_> {
    OrgFacts { legal_name: &o.legal_name, registration_number: &o.registration_number }
}

fn best_of<'a>(ls: Option<&Vec<&'a LicenceRow>>, now: NaiveDateTime) -> Option<LicenceFacts<'a>> {
    ls.and_then(|ls| best(ls.iter().map(|l| facts(l)), now))
}

fn known_org<'a>(
    o: &'a OrgRow,
    by_org: &HashMap<&str, Vec<&'a LicenceRow>>,
    now: NaiveDateTime,
) -> Facts<'a> {
    Facts { org: Some(org_facts(o)), licence: best_of(by_org.get(o.id.as_str()), now), site: None }
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

    let cities: HashMap<&str, String> =
        sites.values().map(|s| (s.id.as_str(), site_city(&s.address))).collect();
    let known_site = |site_id: &str| {
        sites.get(site_id).map(|site| Facts {
            org: org_by_id.get(site.organisation_id.as_str()).map(|o| org_facts(o)),
            licence: best_of(by_site.get(site_id), now),
            site: Some(SiteFacts {
                name: &site.name,
                city: cities.get(site_id).map(String::as_str).unwrap_or_default(),
                open: site.status == crate::sites::SiteStatus::Active,
            }),
        })
    };
    Ok(queries
        .iter()
        .map(|(raw, t, p)| {
            let known = match p {
                Parsed::Licence(n) => asked_licences.get(n.as_str()).map(|l| Facts {
                    org: org_by_id.get(l.organisation_id.as_str()).map(|o| org_facts(o)),
                    licence: Some(facts(l)),
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
