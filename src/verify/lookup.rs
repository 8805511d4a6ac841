//! Answers a batch of parsed questions: licences, the ranges holding numbers and addresses
//! (verification's store: one indexed floor probe per distinct value), their sites and
//! organisations, and the licences covering those, each read through its concept's store; a
//! fixed number of queries besides the floor probes.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::store;
use super::{
    answer, best, site_city, Answer, Facts, LicenceFacts, OrgFacts, Parsed, QueryType, SiteFacts,
};
use crate::db::DbConn;
use crate::error::AppError;
use crate::licences::{self, LicenceRow};
use crate::organisations::store::{self as organisations, OrgKey};
use crate::organisations::OrgRow;
use crate::sites::SiteRow;

/// The site whose registered number or range holds `number`, if any (as verification finds it).
pub fn site_of_number(conn: &mut DbConn, number: i64) -> Result<Option<String>, AppError> {
    Ok(store::number_sites(conn, &[number])?.remove(&number))
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
#[tracing::instrument(skip_all, fields(questions = queries.len()), err)]
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
    let number_site = store::number_sites(conn, &numbers)?;
    let ip_site = store::ip_sites(conn, &ips)?;

    let site_ids: Vec<String> = number_site.values().chain(ip_site.values()).cloned().collect();
    let sites: HashMap<String, SiteRow> = crate::sites::store::find_many(conn, &site_ids)?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let org_ids: Vec<String> = sites
        .values()
        .map(|s| s.organisation_id.clone())
        .chain(asked_licences.values().map(|l| l.organisation_id.clone()))
        .collect();
    let mut orgs = organisations::find_many(conn, OrgKey::Id, &org_ids)?;
    orgs.extend(organisations::find_many(conn, OrgKey::RegistrationNumber, &regs)?);
    orgs.extend(organisations::find_many(conn, OrgKey::TaxNumber, &taxes)?);
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
