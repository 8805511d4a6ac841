//! Answers a batch of parsed questions: licences, the ranges holding numbers and addresses
//! (verification's store: one indexed floor probe per distinct value), their sites and
//! organisations, and the licences covering those, each read through its concept's store; a
//! fixed number of queries besides the floor probes.

use std::collections::{HashMap, HashSet};

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
    let asked = Asked::of(queries);
    let found = Found::read(conn, &asked)?;
    Ok(found.answers(queries, now))
}

/// The values the questions ask about, by kind.
#[derive(Default)]
struct Asked {
    licence_numbers: Vec<String>,
    numbers: Vec<i64>,
    ips: Vec<(i32, String)>,
    regs: Vec<String>,
    taxes: Vec<String>,
}

impl Asked {
    fn of(queries: &[(String, QueryType, Parsed)]) -> Self {
        let mut asked = Asked::default();
        for (_, _, p) in queries {
            match p {
                Parsed::Licence(n) => asked.licence_numbers.push(n.as_str().to_string()),
                Parsed::Number(n) => asked.numbers.push(n.value()),
                Parsed::Ip(f, k) => asked.ips.push((*f, k.clone())),
                Parsed::RegistrationNumber(r) => asked.regs.push(r.as_str().to_string()),
                Parsed::TaxNumber(t) => asked.taxes.push(t.as_str().to_string()),
            }
        }
        asked
    }
}

/// Every record the answers need, read with a fixed number of queries.
struct Found {
    asked_licences: HashMap<String, LicenceRow>,
    number_site: HashMap<i64, String>,
    ip_site: HashMap<(i32, String), String>,
    sites: HashMap<String, SiteRow>,
    orgs: Vec<OrgRow>,
    site_licences: Vec<(String, LicenceRow)>,
    org_licences: Vec<LicenceRow>,
}

impl Found {
    fn read(conn: &mut DbConn, asked: &Asked) -> Result<Self, AppError> {
        let asked_licences: HashMap<String, LicenceRow> =
            licences::store::find_many(conn, &asked.licence_numbers)?
                .into_iter()
                .map(|l| (l.licence_number.clone(), l))
                .collect();
        let number_site = store::number_sites(conn, &asked.numbers)?;
        let ip_site = store::ip_sites(conn, &asked.ips)?;
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
        orgs.extend(organisations::find_many(conn, OrgKey::RegistrationNumber, &asked.regs)?);
        orgs.extend(organisations::find_many(conn, OrgKey::TaxNumber, &asked.taxes)?);
        let site_licences = licences::store::for_sites(conn, &site_ids)?;
        let (regs, taxes): (HashSet<&str>, HashSet<&str>) = (
            asked.regs.iter().map(String::as_str).collect(),
            asked.taxes.iter().map(String::as_str).collect(),
        );
        let asked_org_ids: Vec<String> = orgs
            .iter()
            .filter(|o| {
                regs.contains(o.registration_number.as_str())
                    || taxes.contains(o.tax_number.as_str())
            })
            .map(|o| o.id.clone())
            .collect();
        let org_licences = licences::store::for_organisations(conn, &asked_org_ids)?;
        Ok(Found { asked_licences, number_site, ip_site, sites, orgs, site_licences, org_licences })
    }

    /// The answers, in the order asked; each record indexed once, so assembling 10,000
    /// answers stays linear.
    fn answers(&self, queries: &[(String, QueryType, Parsed)], now: NaiveDateTime) -> Vec<Answer> {
        let orgs = &self.orgs;
        let org_by_id: HashMap<&str, &OrgRow> = orgs.iter().map(|o| (o.id.as_str(), o)).collect();
        let org_by_reg: HashMap<&str, &OrgRow> =
            orgs.iter().map(|o| (o.registration_number.as_str(), o)).collect();
        let org_by_tax: HashMap<&str, &OrgRow> =
            orgs.iter().map(|o| (o.tax_number.as_str(), o)).collect();
        let mut by_site: HashMap<&str, Vec<&LicenceRow>> = HashMap::new();
        for (site, l) in &self.site_licences {
            by_site.entry(site.as_str()).or_default().push(l);
        }
        let mut by_org: HashMap<&str, Vec<&LicenceRow>> = HashMap::new();
        for l in &self.org_licences {
            by_org.entry(l.organisation_id.as_str()).or_default().push(l);
        }
        let cities: HashMap<&str, String> =
            self.sites.values().map(|s| (s.id.as_str(), site_city(&s.address))).collect();
        let known_site = |site_id: &str| {
            self.sites.get(site_id).map(|site| Facts {
                org: org_by_id.get(site.organisation_id.as_str()).map(|o| org_facts(o)),
                licence: best_of(by_site.get(site_id), now),
                site: Some(SiteFacts {
                    name: &site.name,
                    city: cities.get(site_id).map(String::as_str).unwrap_or_default(),
                    open: site.status == crate::sites::SiteStatus::Active,
                }),
            })
        };
        let known = |p: &Parsed| match p {
            Parsed::Licence(n) => self.asked_licences.get(n.as_str()).map(|l| Facts {
                org: org_by_id.get(l.organisation_id.as_str()).map(|o| org_facts(o)),
                licence: Some(facts(l)),
                site: None,
            }),
            Parsed::Number(n) => self.number_site.get(&n.value()).and_then(|s| known_site(s)),
            Parsed::Ip(f, k) => self.ip_site.get(&(*f, k.clone())).and_then(|s| known_site(s)),
            Parsed::RegistrationNumber(r) => {
                org_by_reg.get(r.as_str()).map(|o| known_org(o, &by_org, now))
            }
            Parsed::TaxNumber(t) => org_by_tax.get(t.as_str()).map(|o| known_org(o, &by_org, now)),
        };
        queries.iter().map(|(raw, t, p)| answer(raw, *t, known(p), now)).collect()
    }
}
