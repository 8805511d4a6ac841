//! `ccreg seed --demo` (a realistic registry across six cities, built through the same domain
//! functions as the API, so its audit log and change feed are real) and `ccreg seed --sites N`
//! (a large registry for benchmarks, written in batches).
//!
//! The demo tells one story per company, a step per function, each step calling the domain
//! functions its route calls; events in the past are placed there by the `at` each step is
//! given (the injected clock), never by writing rows.

use chrono::{Datelike, Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::applications;
use crate::applications::ApplicationRow;
use crate::audit;
use crate::auth::visible::{resolve, Visible};
use crate::auth::{passwords::Password, Principal, Role};
use crate::config::Licensing;
use crate::db::schema::{
    applications as applications_t, ip_ranges, licence_events, licence_sites,
    licences as licences_t, organisations as organisations_t, people, phone_ranges, registry_locks,
    sites as sites_t,
};
use crate::db::stored::StoredJson;
use crate::db::{write_tx, Db, DbConn};
use crate::domain::{BodyId, Email, LicenceNumber, Name};
use crate::error::AppError;
use crate::inspections::InspectionRow;
use crate::inspections::{self, NewInspection, Record};
use crate::licences::LicenceRow;
use crate::licences::{self, LicenceChange};
use crate::organisations::OrgRow;
use crate::sites::SiteRow;
use crate::users::{self, NewAccount};
use crate::{agency_clients, organisations, sites, telephony};

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, AppError> {
    crate::http::body::parse_value(v).map(|j| j.value)
}

fn describe(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.problem().detail)
}

struct Account {
    principal: Principal,
    email: String,
    password: String,
}

fn account(
    conn: &mut DbConn,
    now: NaiveDateTime,
    email: &str,
    name: &str,
    role: Role,
) -> Result<Account, AppError> {
    let password = crate::auth::secrets::new_secret()[..20].to_string();
    let hash = Password::parse(password.clone(), "password")?.hash()?;
    let row = users::create_account(
        conn,
        now,
        None,
        NewAccount {
            email: Email::parse(email, "email")?,
            password_hash: hash,
            full_name: Name::parse(name, "name")?,
            role,
        },
    )?;
    Ok(Account {
        principal: Principal { id: row.id, role, jti: String::new() },
        email: email.into(),
        password,
    })
}

/// (city, province, postal code, area code)
type City = (&'static str, &'static str, &'static str, &'static str);

const CITIES: [City; 6] = [
    ("Islamabad", "Islamabad Capital Territory", "44000", "51"),
    ("Karachi", "Sindh", "75500", "21"),
    ("Rawalpindi", "Punjab", "46000", "51"),
    ("Faisalabad", "Punjab", "38000", "41"),
    ("Multan", "Punjab", "60000", "61"),
    ("Lahore", "Punjab", "54000", "42"),
];

/// What becomes of a demo company's licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Active,
    Suspended,
    Revoked,
    Provisional,
    Expired,
    Unlicensed,
    Surrendered,
    Lapsed,
}

impl Fate {
    /// When the company's story begins: an expired licence was issued 13 months ago for 12; a
    /// lapsed one was provisional for 90 days from 100 days ago.
    fn began(self, now: NaiveDateTime) -> NaiveDateTime {
        now - Duration::days(match self {
            Fate::Expired => 400,
            Fate::Lapsed => 100,
            _ => 30,
        })
    }

    /// Whether its sites pass a pre-licence visit before approval; a licence approved without
    /// one is provisional.
    fn inspected_before_approval(self) -> bool {
        !matches!(self, Fate::Provisional | Fate::Lapsed)
    }

    /// The act that ends its licence today, its reason, and whether the holder (not the
    /// regulator) acts.
    fn ending(self) -> Option<(Ending, &'static str, bool)> {
        match self {
            Fate::Suspended => Some((
                Ending::Suspend,
                "Critical findings at inspection; investigation open",
                false,
            )),
            Fate::Revoked => {
                Some((Ending::Revoke, "Fraudulent outbound calling confirmed by NCCIA", false))
            }
            Fate::Surrendered => Some((Ending::Surrender, "Ceasing operations", true)),
            _ => None,
        }
    }
}

/// How a demo licence ends today.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Suspend,
    Revoke,
    Surrender,
}

/// (legal name, what becomes of its licence); two companies to a city, in `CITIES` order.
const COMPANIES: [(&str, Fate); 12] = [
    ("Margalla Contact Services (Private) Limited", Fate::Active),
    ("Blue Area BPO (Private) Limited", Fate::Suspended),
    ("Clifton Customer Care (Private) Limited", Fate::Active),
    ("Korangi Telemarketing (Private) Limited", Fate::Revoked),
    ("Saddar Outsourcing (Private) Limited", Fate::Provisional),
    ("Pindi Voice Solutions (Private) Limited", Fate::Expired),
    ("Lyallpur Collections (Private) Limited", Fate::Active),
    ("Canal Road Support Desk (Private) Limited", Fate::Unlicensed),
    ("Multan Techno Help (Private) Limited", Fate::Surrendered),
    ("Bosan Road Calling (Private) Limited", Fate::Unlicensed),
    ("Gulberg Global Services (Private) Limited", Fate::Active),
    ("Johar Town Interactive (Private) Limited", Fate::Lapsed),
];

pub fn demo(db: &Db, now: NaiveDateTime) -> anyhow::Result<()> {
    let mut conn = db.get().map_err(describe)?;
    if users::store::find_by_email(&mut conn, "regulator@demo.ccreg.pk")
        .map_err(describe)?
        .is_some()
    {
        anyhow::bail!("this database already holds the demo registry");
    }
    let out = write_tx(&mut conn, |conn| demo_in(conn, now)).map_err(describe)?;
    println!("{out}");
    Ok(())
}

/// The whole story, in one transaction; returns what to print (the credentials among it).
fn demo_in(conn: &mut DbConn, now: NaiveDateTime) -> Result<String, AppError> {
    let mut out =
        String::from("Demo registry created. Sign in with (passwords are shown only now):\n");
    let cast = cast(conn, now, &mut out)?;
    let mut critical_site = None;
    for k in 0..COMPANIES.len() {
        let company = register_company(conn, now, k, &mut out)?;
        license(conn, now, &cast, &company)?;
        if company.fate == Fate::Suspended {
            critical_site = company.site_ids.first().cloned();
        }
    }
    inspect_today(conn, now, &cast, critical_site)?;
    out.push_str(&format!("  {} organisations in {} cities; licences active, provisional, lapsed, suspended, revoked, expired and surrendered (each with its paid invoice and three clearances); unlicensed companies; inspections.\n",
        COMPANIES.len(), CITIES.len()));
    Ok(out)
}

// --- The staff ------------------------------------------------------------------------------

/// The staff every company's story meets, and the rules they act under.
struct Cast {
    regulator: Principal,
    inspector: Principal,
    /// One client per clearing agency, by the agency's code.
    clearers: Vec<(String, Principal)>,
    licensing: Licensing,
}

/// The admin, regulator and inspector, the monitoring agency's client and one client per
/// clearing agency; their credentials go to `out`.
fn cast(conn: &mut DbConn, now: NaiveDateTime, out: &mut String) -> Result<Cast, AppError> {
    let admin = account(conn, now, "admin@demo.ccreg.pk", "Demo Administrator", Role::Admin)?;
    let regulator = account(conn, now, "regulator@demo.ccreg.pk", "Sara Malik", Role::Regulator)?;
    let inspector = account(conn, now, "inspector@demo.ccreg.pk", "Usman Tariq", Role::Inspector)?;
    for a in [&admin, &regulator, &inspector] {
        out.push_str(&format!("  {:<10} {}  {}\n", a.principal.role.as_str(), a.email, a.password));
    }
    let licensing = Licensing::default();
    let clearers = agency_desks(conn, now, &admin.principal.id, &licensing, out)?;
    Ok(Cast { regulator: regulator.principal, inspector: inspector.principal, clearers, licensing })
}

/// The monitoring agency's client, and one client per clearing agency to decide the demo
/// applications' clearances (returned by agency code).
fn agency_desks(
    conn: &mut DbConn,
    now: NaiveDateTime,
    admin_id: &str,
    licensing: &Licensing,
    out: &mut String,
) -> Result<Vec<(String, Principal)>, AppError> {
    let (client, secret) = agency_clients::create(
        conn,
        now,
        admin_id,
        Name::parse("PTA monitoring", "name")?,
        Name::parse("Pakistan Telecommunication Authority", "agency")?,
        None,
    )?;
    out.push_str(&format!(
        "  agency     client_id {}  client_secret {}\n",
        client.client_id, secret
    ));
    let mut clearers = Vec::new();
    for code in &licensing.clearance_agencies {
        let (row, secret) = agency_clients::create(
            conn,
            now,
            admin_id,
            Name::parse(&format!("{} clearance desk", code.to_uppercase()), "name")?,
            Name::parse(&code.to_uppercase(), "agency")?,
            Some(code.clone()),
        )?;
        out.push_str(&format!(
            "  clears {:<9} client_id {}  client_secret {}\n",
            code, row.client_id, secret
        ));
        clearers
            .push((code.clone(), Principal { id: row.id, role: Role::Agency, jti: String::new() }));
    }
    Ok(clearers)
}

// --- One company: its organisation, people, sites, numbers and papers -------------------------

/// One demo company, as the later steps of its story need it.
struct Company {
    /// Its place in `COMPANIES`: numbers, names and addresses are drawn from it.
    k: usize,
    fate: Fate,
    /// When its story began: it registered, applied and was licensed then.
    then: NaiveDateTime,
    city: City,
    operator: Principal,
    org: Visible<OrgRow>,
    site_ids: Vec<String>,
}

/// Company `k`'s address, for its organisation and every site.
fn address(k: usize, (city, province, postal, _): City) -> Value {
    json!({"line1": format!("Plot {}, Main Boulevard", 10 + k), "city": city,
        "province": province, "postal_code": postal, "country": "PK"})
}

/// Company `k` signs up, registers its organisation, people and sites with their numbers and IP
/// ranges, and files the papers an application needs.
fn register_company(
    conn: &mut DbConn,
    now: NaiveDateTime,
    k: usize,
    out: &mut String,
) -> Result<Company, AppError> {
    let (legal_name, fate) = COMPANIES[k];
    let then = fate.began(now);
    let op = account(
        conn,
        then,
        &format!("compliance{}@demo.ccreg.pk", k + 1),
        "Compliance Officer",
        Role::Operator,
    )?;
    if k < 3 {
        out.push_str(&format!("  operator   {}  {}\n", op.email, op.password));
    }
    let city = CITIES[k / 2];
    let org = organisation(conn, then, &op.principal, k, legal_name, city)?;
    let mut company =
        Company { k, fate, then, city, operator: op.principal, org, site_ids: Vec::new() };
    let people = owners(conn, &company)?;
    for s in 0..(1 + k % 2) {
        let site = open_site(conn, &company, s)?;
        company.site_ids.push(site);
    }
    file_papers(conn, &company, &people)?;
    Ok(company)
}

fn organisation(
    conn: &mut DbConn,
    then: NaiveDateTime,
    op: &Principal,
    k: usize,
    legal_name: &str,
    city: City,
) -> Result<Visible<OrgRow>, AppError> {
    let (address, area) = (address(k, city), city.3);
    let org = organisations::create(
        conn,
        then,
        op,
        parse(json!({
        "legal_name": legal_name, "registration_number": format!("{:07}", 184_200 + k),
        "tax_number": format!("{:07}-{}", 3_412_000 + k, k % 10), "registered_address": address,
        "contact_email": format!("info{}@demo.ccreg.pk", k + 1), "contact_phone": format!("0{area} {}", 5_550_100 + k)}))?,
    )?;
    resolve::<OrgRow>(conn, op, &org.id)
}

/// A Pakistani director holding 60% and a foreign owner holding 40%; returns their ids.
fn owners(conn: &mut DbConn, c: &Company) -> Result<[String; 2], AppError> {
    let k = c.k;
    let director = organisations::add_person(
        conn,
        c.then,
        &c.operator,
        &c.org,
        parse(json!({
        "full_name": "Imran Qureshi", "roles": ["director", "beneficial_owner"], "id_type": "cnic",
        "id_number": format!("{:05}-{:07}-{}", 35_202 + k, 1_234_567 + k, k % 10), "nationality": "PK", "ownership_percent": 60}))?,
    )?;
    let owner = organisations::add_person(
        conn,
        c.then,
        &c.operator,
        &c.org,
        parse(json!({
        "full_name": "Ahmed Al Mansoori", "roles": ["beneficial_owner"], "id_type": "passport",
        "id_number": format!("AE{:07}", 4_411_000 + k), "nationality": "AE", "ownership_percent": 40}))?,
    )?;
    Ok([director.id, owner.id])
}

/// Site `s` of the company, wired and with its premises proof on file; returns its id.
fn open_site(conn: &mut DbConn, c: &Company, s: usize) -> Result<String, AppError> {
    let site = sites::create(
        conn,
        c.then,
        &c.operator,
        &c.org,
        parse(json!({
        "name": format!("{} floor {}", c.city.0, s + 1), "address": address(c.k, c.city), "seat_count": 80 + 40 * s + 10 * c.k,
        "services": ["inbound", "outbound"], "markets": ["PK", "GB", "US"]}))?,
    )?;
    let site = resolve::<SiteRow>(conn, &c.operator, &site.id)?;
    register_numbers(conn, c, &site, s)?;
    register_ip_ranges(conn, c, &site, s)?;
    file(conn, c.then, &c.operator, &c.org.id, "premises_proof", None, Some(&site.id))?;
    Ok(site.id.clone())
}

/// A range of a thousand numbers and three single inbound numbers, in the city's area code.
fn register_numbers(
    conn: &mut DbConn,
    c: &Company,
    site: &Visible<SiteRow>,
    s: usize,
) -> Result<(), AppError> {
    let area = c.city.3;
    let block = 30_000 + 10 * c.k + s;
    telephony::register_number(
        conn,
        c.then,
        &c.operator,
        site,
        parse(json!({
        "kind": "range", "first": format!("+92{area}{block}000"), "last": format!("+92{area}{block}999"), "purpose": "both"}))?,
    )?;
    for n in 0..3 {
        telephony::register_number(
            conn,
            c.then,
            &c.operator,
            site,
            parse(json!({
            "kind": "number", "e164": format!("+92{area}{}{n}", 70_000 + 10 * c.k + s), "purpose": "inbound"}))?,
        )?;
    }
    Ok(())
}

/// An IPv4 /26 for every site, and an IPv6 /48 for the first.
fn register_ip_ranges(
    conn: &mut DbConn,
    c: &Company,
    site: &Visible<SiteRow>,
    s: usize,
) -> Result<(), AppError> {
    let k = c.k;
    let mut cidrs = vec![format!("198.18.{k}.{}/26", 64 * s)];
    if s == 0 {
        cidrs.push(format!("2001:db8:{k:x}::/48"));
    }
    for cidr in cidrs {
        telephony::register_ip_range(
            conn,
            c.then,
            &c.operator,
            site,
            parse(json!({"cidr": cidr}))?,
        )?;
    }
    Ok(())
}

/// The company's certificates and bank letter, and each owner's identity document.
fn file_papers(conn: &mut DbConn, c: &Company, people: &[String]) -> Result<(), AppError> {
    for kind in ["incorporation_certificate", "tax_certificate", "bank_letter"] {
        file(conn, c.then, &c.operator, &c.org.id, kind, None, None)?;
    }
    for person in people {
        file(conn, c.then, &c.operator, &c.org.id, "identity_document", Some(person), None)?;
    }
    Ok(())
}

/// Files a one-page PDF of `kind` as the organisation's owner.
fn file(
    conn: &mut DbConn,
    at: NaiveDateTime,
    owner: &Principal,
    org_id: &str,
    kind: &str,
    person_id: Option<&str>,
    site_id: Option<&str>,
) -> Result<(), AppError> {
    let pdf = format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% demo {kind} of {org_id}\ntrailer << >>\n%%EOF\n"
    );
    let form = crate::documents::form::UploadForm {
        file: Some(crate::documents::form::FilePart {
            name: format!("{kind}.pdf"),
            bytes: pdf.into_bytes().into(),
        }),
        kind: Some(kind.to_string()),
        person_id: person_id.map(BodyId::try_new).transpose().map_err(AppError::internal)?,
        site_id: site_id.map(BodyId::try_new).transpose().map_err(AppError::internal)?,
        errors: Vec::new(),
        extra: Vec::new(),
    };
    let org = resolve::<OrgRow>(conn, owner, org_id)?;
    crate::documents::upload(conn, at, owner, &org, &form)?;
    Ok(())
}

// --- One company: its application, licence and fate ------------------------------------------

/// The company applies; as far as its fate takes it, the application is submitted, paid and
/// cleared, its sites inspected, approved, and the licence ended today.
fn license(
    conn: &mut DbConn,
    now: NaiveDateTime,
    cast: &Cast,
    c: &Company,
) -> Result<(), AppError> {
    let app = applications::create(
        conn,
        c.then,
        &c.operator,
        parse(json!({
        "organisation_id": c.org.id, "site_ids": c.site_ids, "category": "mixed", "term_months": 12}))?,
    )?;
    if c.fate == Fate::Unlicensed {
        // One of the two unlicensed companies got as far as submitting.
        if c.k % 4 == 3 {
            submit(conn, cast, c, &app.id)?;
        }
        return Ok(());
    }
    submit(conn, cast, c, &app.id)?;
    let number = issue(conn, cast, c, &app.id)?;
    end(conn, now, cast, c, &number)
}

fn submit(conn: &mut DbConn, cast: &Cast, c: &Company, app_id: &str) -> Result<(), AppError> {
    let application = resolve::<ApplicationRow>(conn, &c.operator, app_id)?;
    applications::submit(conn, c.then, &c.operator, application, |_| Ok(()), &cast.licensing)?;
    Ok(())
}

/// The invoice paid, every clearance granted, the sites inspected (unless the licence is to be
/// provisional) and the application approved; returns the licence's number.
fn issue(
    conn: &mut DbConn,
    cast: &Cast,
    c: &Company,
    app_id: &str,
) -> Result<LicenceNumber, AppError> {
    pay_and_clear(conn, c.then, cast, app_id)?;
    if c.fate.inspected_before_approval() {
        for site in &c.site_ids {
            pass_pre_licence(conn, c.then, cast, site)?;
        }
    }
    let application = resolve::<ApplicationRow>(conn, &cast.regulator, app_id)?;
    let app = applications::approve(
        conn,
        c.then,
        &cast.regulator,
        application,
        |_| Ok(()),
        parse(json!({"conditions": ["Calls to EU markets only with recorded consent"]}))?,
    )?;
    LicenceNumber::try_new(app.licence_number.as_deref().unwrap_or_default())
        .map_err(AppError::internal)
}

/// Today's suspension, revocation or surrender, for the companies whose fate it is.
fn end(
    conn: &mut DbConn,
    now: NaiveDateTime,
    cast: &Cast,
    c: &Company,
    number: &LicenceNumber,
) -> Result<(), AppError> {
    let Some((action, reason, by_holder)) = c.fate.ending() else {
        return Ok(());
    };
    let who = if by_holder { &c.operator } else { &cast.regulator };
    let licence = resolve::<LicenceRow>(conn, who, number)?;
    let change = parse::<LicenceChange>(json!({"reason": reason}))?;
    match action {
        Ending::Suspend => licences::suspend(conn, now, who, licence, |_| Ok(()), change),
        Ending::Revoke => {
            licences::revoke(conn, now, who, licence, |_| Ok(()), change, cast.licensing.bar_years)
        }
        Ending::Surrender => licences::surrender(conn, now, who, licence, |_| Ok(()), change),
    }?;
    Ok(())
}

/// Pays a submitted application's invoice and has every clearing agency grant it.
fn pay_and_clear(
    conn: &mut DbConn,
    at: NaiveDateTime,
    cast: &Cast,
    application_id: &str,
) -> Result<(), AppError> {
    let regulator = &cast.regulator;
    let invoice = crate::invoices::store::for_application(conn, application_id)?
        .ok_or_else(|| AppError::internal("a submitted application without an invoice"))?;
    let invoice_id = invoice.id.clone();
    let invoice = resolve::<crate::invoices::InvoiceRow>(conn, regulator, &invoice_id)?;
    let total = invoice.total_minor;
    crate::invoices::record_payment(
        conn,
        at,
        &regulator.id,
        invoice,
        |_| Ok(()),
        parse(json!({"amount_minor": total, "paid_at": at.and_utc().to_rfc3339(),
            "channel": "psid", "reference": format!("PSID-{}", &invoice_id[..8])}))?,
    )?;
    for clearance in crate::clearances::store::for_application(conn, application_id)? {
        let (_, clearer) = cast
            .clearers
            .iter()
            .find(|(code, _)| *code == clearance.agency)
            .ok_or_else(|| AppError::internal("no client clears for a configured agency"))?;
        let reference =
            Name::parse(&format!("{}/CLR/{}", clearance.agency, &clearance.id[..8]), "reference")?;
        let clearance = crate::clearances::for_decision(conn, clearer, &clearance.id)?;
        crate::clearances::decide(
            conn,
            at,
            clearer,
            clearance,
            |_| Ok(()),
            crate::clearances::Verdict::Grant { reference },
        )?;
    }
    Ok(())
}

// --- Inspections -----------------------------------------------------------------------------

/// A compliant pre-licence inspection of `site`, visited at `at`.
fn pass_pre_licence(
    conn: &mut DbConn,
    at: NaiveDateTime,
    cast: &Cast,
    site: &str,
) -> Result<(), AppError> {
    let id = schedule(conn, at, cast, site, "pre_licence", at)?;
    record_visit(
        conn,
        at,
        cast,
        &id,
        json!({"visited_at": at.and_utc().to_rfc3339(), "seats_observed": 100,
            "staff_present": 80, "foreign_nationals_present": 0, "findings": [],
            "outcome": "compliant"}),
    )
}

/// Today's inspections: one scheduled, one routine visit found compliant, and one critical
/// visit (to the suspended licence's site) whose finding opens a violation.
fn inspect_today(
    conn: &mut DbConn,
    now: NaiveDateTime,
    cast: &Cast,
    critical_site: Option<String>,
) -> Result<(), AppError> {
    let sites_all = sites::store::list(conn, &sites::store::Filter::default(), None, 100)?;
    let next_week = now + Duration::days(7);
    schedule(conn, now, cast, &sites_all[0].id, "unannounced", next_week)?;
    let routine = schedule(conn, now, cast, &sites_all[2].id, "routine", next_week)?;
    record_visit(
        conn,
        now,
        cast,
        &routine,
        json!({
        "visited_at": now.and_utc().to_rfc3339(), "seats_observed": 120, "staff_present": 95, "foreign_nationals_present": 0,
        "findings": [], "outcome": "compliant", "notes": "Consent recordings sampled; in order"}),
    )?;
    let target = sites_all
        .iter()
        .find(|s| s.organisation_id != sites_all[0].organisation_id)
        .map(|s| s.id.clone())
        .unwrap_or_default();
    let site = critical_site.as_deref().unwrap_or(&target);
    let hot = schedule(conn, now, cast, site, "complaint", next_week)?;
    record_visit(
        conn,
        now,
        cast,
        &hot,
        json!({
        "visited_at": now.and_utc().to_rfc3339(), "seats_observed": 410, "staff_present": 380, "foreign_nationals_present": 27,
        "findings": [{"code": "SCRIPT-IMPERSONATION", "severity": "critical", "description": "Agents scripted to impersonate a bank"}],
        "outcome": "critical", "evidence": [{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "description": "Call script, page 1"}]}),
    )
}

/// The regulator schedules a `kind` visit of `site` by the demo inspector; returns its id.
fn schedule(
    conn: &mut DbConn,
    at: NaiveDateTime,
    cast: &Cast,
    site: &str,
    kind: &str,
    scheduled_for: NaiveDateTime,
) -> Result<String, AppError> {
    let row = inspections::schedule(
        conn,
        at,
        &cast.regulator,
        parse::<NewInspection>(json!({"site_id": site, "inspector_id": cast.inspector.id,
            "scheduled_for": scheduled_for.and_utc().to_rfc3339(), "kind": kind}))?,
    )?;
    Ok(row.id)
}

/// The inspector records the visit, and what follows a record follows, as the route does:
/// findings open violations, a passed pre-licence visit confirms a provisional licence.
fn record_visit(
    conn: &mut DbConn,
    at: NaiveDateTime,
    cast: &Cast,
    inspection_id: &str,
    record: Value,
) -> Result<(), AppError> {
    let inspector = &cast.inspector;
    let inspection = resolve::<InspectionRow>(conn, inspector, inspection_id)?;
    let row =
        inspections::record(conn, at, inspector, inspection, |_| Ok(()), parse::<Record>(record)?)?;
    crate::violations::after_inspection(conn, at, &inspector.id, &row)?;
    licences::confirm_after_inspection(conn, at, &inspector.id, &row)?;
    Ok(())
}

// --- `seed --sites N`: the bulk path ---------------------------------------------------------

/// Inserts a batch on whichever backend (MultiConnection cannot insert a Vec).
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(2_000) {
            match $conn {
                DbConn::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                DbConn::Postgresql(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
    };
}

/// Reserves `n` values of a counter row; returns the first.
fn reserve(conn: &mut DbConn, name: &str, n: i64) -> Result<i64, AppError> {
    diesel::update(registry_locks::table.find(name))
        .set(registry_locks::counter.eq(registry_locks::counter + n))
        .execute(conn)?;
    let last: i64 = registry_locks::table.find(name).select(registry_locks::counter).first(conn)?;
    Ok(last - n + 1)
}

const SITES_PER_ORG: usize = 10;

/// `ccreg seed --sites N`: N sites in organisations of ten, each with ten numbers, a range of
/// 100 and a /28; nine organisations in ten licensed (one of those suspended).
pub fn scale(db: &Db, now: NaiveDateTime, n_sites: usize) -> anyhow::Result<()> {
    let mut conn = db.get().map_err(describe)?;
    let owner = seed_operator(&mut conn, now).map_err(describe)?;
    let existing: i64 = organisations_t::table
        .filter(organisations_t::registration_number.like("SEED%"))
        .count()
        .get_result(&mut conn)
        .map_err(AppError::from)
        .map_err(describe)?;
    let first_org = existing as usize;
    let orgs = n_sites.div_ceil(SITES_PER_ORG);
    let bar = indicatif::ProgressBar::new(n_sites as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} sites ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let per_tx = 100; // organisations per transaction
    let mut done = 0;
    while done < orgs {
        let batch = per_tx.min(orgs - done);
        let from = first_org + done;
        let sites_made = write_tx(&mut conn, |c| {
            scale_batch(c, now, &owner, from, batch, n_sites - done * SITES_PER_ORG)
        })
        .map_err(describe)?;
        bar.inc(sites_made as u64);
        done += batch;
    }
    bar.finish();
    eprintln!("seeded {n_sites} sites in {orgs} organisations");
    Ok(())
}

/// The id of the operator who owns every seeded organisation, signed up on the first run.
fn seed_operator(conn: &mut DbConn, now: NaiveDateTime) -> Result<String, AppError> {
    const EMAIL: &str = "seed-operator@seed.ccreg.pk";
    if let Some(u) = users::store::find_by_email(conn, EMAIL)? {
        return Ok(u.id);
    }
    let op = write_tx(conn, |c| account(c, now, EMAIL, "Seed Operator", Role::Operator))?;
    Ok(op.principal.id)
}

type LicenceSiteRow = (
    diesel::dsl::Eq<licence_sites::licence_number, String>,
    diesel::dsl::Eq<licence_sites::site_id, String>,
);

type EventRow = (
    diesel::dsl::Eq<licence_events::seq, i64>,
    diesel::dsl::Eq<licence_events::event_type, licences::events::EventType>,
    diesel::dsl::Eq<licence_events::licence_number, String>,
    diesel::dsl::Eq<licence_events::status, licences::LicenceStatus>,
    diesel::dsl::Eq<licence_events::expires_at, NaiveDateTime>,
    diesel::dsl::Eq<licence_events::at, NaiveDateTime>,
);

/// One transaction's rows, table by table, inserted together.
#[derive(Default)]
struct Batch {
    orgs: Vec<organisations::OrgRow>,
    people: Vec<organisations::PersonRow>,
    sites: Vec<SiteRow>,
    numbers: Vec<telephony::PhoneRangeRow>,
    ips: Vec<telephony::IpRangeRow>,
    applications: Vec<ApplicationRow>,
    licences: Vec<LicenceRow>,
    licence_sites: Vec<LicenceSiteRow>,
    events: Vec<EventRow>,
}

impl Batch {
    fn insert(self, conn: &mut DbConn) -> Result<(), AppError> {
        insert_all!(conn, organisations_t::table, self.orgs);
        insert_all!(conn, people::table, self.people);
        insert_all!(conn, sites_t::table, self.sites);
        insert_all!(conn, phone_ranges::table, self.numbers);
        insert_all!(conn, ip_ranges::table, self.ips);
        insert_all!(conn, applications_t::table, self.applications);
        insert_all!(conn, licences_t::table, self.licences);
        insert_all!(conn, licence_sites::table, self.licence_sites);
        insert_all!(conn, licence_events::table, self.events);
        Ok(())
    }
}

/// Organisations `from..from + count` with their director, sites (at most `sites_left`),
/// numbers and ranges; nine in ten licensed. Returns the sites made.
fn scale_batch(
    conn: &mut DbConn,
    now: NaiveDateTime,
    owner: &str,
    from: usize,
    count: usize,
    sites_left: usize,
) -> Result<usize, AppError> {
    let licensed: Vec<usize> = (from..from + count).filter(|o| o % 10 != 9).collect();
    let first_serial = reserve(conn, "licence_serial", licensed.len() as i64)?;
    let first_seq = reserve(conn, "events", licensed.len() as i64)?;
    let mut b = Batch::default();
    for o in from..from + count {
        let org = seeded_org(now, owner, o)?;
        b.people.push(seeded_director(now, &org.id, o)?);
        let n = SITES_PER_ORG.min(sites_left.saturating_sub((o - from) * SITES_PER_ORG));
        let mut ids = Vec::new();
        for s in 0..n {
            let i = (o * SITES_PER_ORG + s) as i64;
            let site = seeded_site(now, &org, o, i)?;
            b.numbers.extend(seeded_numbers(now, &site.id, i));
            b.ips.push(seeded_ip_range(now, &site.id, i)?);
            ids.push(site.id.clone());
            b.sites.push(site);
        }
        if let Some(pos) = licensed.iter().position(|l| *l == o) {
            let pos = pos as i64;
            let number = LicenceNumber::new(now.year() as u32, (first_serial + pos) as u32)
                .as_str()
                .to_string();
            b.add_licence(now, &org, o, &ids, number, first_seq + pos)?;
        }
        b.orgs.push(org);
    }
    let sites_made = b.sites.len();
    b.insert(conn)?;
    let event = SeedBatch { id: format!("SEED{from:07}"), from, count, sites_made };
    audit::record(conn, now, Some(owner), &event)?;
    Ok(sites_made)
}

/// One bulk-seeded batch of organisations, as the audit log records it.
struct SeedBatch {
    id: String,
    from: usize,
    count: usize,
    sites_made: usize,
}

impl audit::Event for SeedBatch {
    fn action(&self) -> &'static str {
        "seed.batch"
    }
    fn entity_type(&self) -> &'static str {
        "seed"
    }
    fn entity_id(&self) -> &str {
        &self.id
    }
    fn summary(&self) -> String {
        let (from, sites_made) = (self.from, self.sites_made);
        format!("bulk-seeded organisations {from}..{} with {sites_made} sites", from + self.count)
    }
}

fn seeded_org(
    now: NaiveDateTime,
    owner: &str,
    o: usize,
) -> Result<organisations::OrgRow, AppError> {
    let (city, province, postal, _) = CITIES[o % 6];
    let address: crate::domain::Address = serde_json::from_value(
        json!({"line1": format!("Office {o}"), "line2": null, "city": city, "province": province,
        "postal_code": postal, "country": "PK"}),
    )
    .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(organisations::OrgRow {
        id: uuid::Uuid::now_v7().to_string(),
        owner_id: owner.into(),
        legal_name: format!("Seeded Contact Centre {o} (Private) Limited"),
        trade_name: None,
        registration_number: format!("SEED{o:07}"),
        tax_number: format!("{:07}-{}", 8_000_000 + o, o % 10),
        registered_address: StoredJson::new(address)?,
        contact_email: format!("seed{o}@seed.ccreg.pk"),
        contact_phone: "+924235760000".into(),
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

fn seeded_director(
    now: NaiveDateTime,
    org_id: &str,
    o: usize,
) -> Result<organisations::PersonRow, AppError> {
    Ok(organisations::PersonRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: org_id.into(),
        full_name: "Seeded Director".into(),
        roles: StoredJson::new(vec![crate::organisations::PersonRole::Director])?,
        id_type: crate::organisations::IdType::Cnic,
        id_number: format!("{:05}-{:07}-1", 10_000 + o % 90_000, o),
        nationality: "PK".into(),
        ownership_bp: 10_000,
        created_at: now,
    })
}

/// Site `i` of the registry, at its organisation's address.
fn seeded_site(
    now: NaiveDateTime,
    org: &organisations::OrgRow,
    o: usize,
    i: i64,
) -> Result<SiteRow, AppError> {
    Ok(SiteRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: org.id.clone(),
        name: format!("Seeded site {i}"),
        address: org.registered_address.clone(),
        city_key: CITIES[o % 6].0.to_lowercase(),
        seat_count: 50,
        services: StoredJson::new(vec![crate::sites::Service::Inbound])?,
        markets: StoredJson::new(vec![crate::domain::Country::pakistan()])?,
        status: crate::sites::SiteStatus::Active,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

/// +92 58 ...: ten numbers and a range of 100 for site `i`, never overlapping another site's.
fn seeded_numbers(now: NaiveDateTime, site_id: &str, i: i64) -> Vec<telephony::PhoneRangeRow> {
    let base = 925_800_000_000 + i * 1_000;
    let row = |kind, first_number, last_number| telephony::PhoneRangeRow {
        id: uuid::Uuid::now_v7().to_string(),
        site_id: site_id.into(),
        kind,
        first_number,
        last_number,
        purpose: crate::telephony::Purpose::Both,
        created_at: now,
    };
    let mut rows: Vec<_> =
        (0..10).map(|k| row(crate::telephony::NumberKind::Number, base + k, base + k)).collect();
    rows.push(row(crate::telephony::NumberKind::Range, base + 100, base + 199));
    rows
}

/// The /28 of site `i`, from 100.64.0.0 up.
fn seeded_ip_range(
    now: NaiveDateTime,
    site_id: &str,
    i: i64,
) -> Result<telephony::IpRangeRow, AppError> {
    let net = std::net::Ipv4Addr::from(
        u32::from(std::net::Ipv4Addr::new(100, 64, 0, 0)) + (i as u32) * 16,
    );
    let range =
        crate::domain::IpRange::try_new(&format!("{net}/28")).map_err(AppError::internal)?;
    let (first, last) = range.bounds();
    Ok(telephony::IpRangeRow {
        id: uuid::Uuid::now_v7().to_string(),
        site_id: site_id.into(),
        cidr: range.cidr(),
        family: 4,
        first_addr: first,
        last_addr: last,
        created_at: now,
    })
}

impl Batch {
    /// An approved application, its licence `number` over `site_ids` (active for three years,
    /// or suspended for one organisation in ten) and the feed's `issued` event at `seq`.
    fn add_licence(
        &mut self,
        now: NaiveDateTime,
        org: &organisations::OrgRow,
        o: usize,
        site_ids: &[String],
        number: String,
        seq: i64,
    ) -> Result<(), AppError> {
        let application = seeded_application(now, org, site_ids, &number)?;
        let status = if o % 10 == 8 {
            licences::LicenceStatus::Suspended
        } else {
            licences::LicenceStatus::Active
        };
        let licence = seeded_licence(now, &application, org, status)?;
        for s in site_ids {
            self.licence_sites.push((
                licence_sites::licence_number.eq(number.clone()),
                licence_sites::site_id.eq(s.clone()),
            ));
        }
        self.events.push((
            licence_events::seq.eq(seq),
            licence_events::event_type.eq(licences::events::EventType::Issued),
            licence_events::licence_number.eq(number),
            licence_events::status.eq(status),
            licence_events::expires_at.eq(licence.expires_at),
            licence_events::at.eq(now),
        ));
        self.applications.push(application);
        self.licences.push(licence);
        Ok(())
    }
}

/// An application for `site_ids`, approved as licence `number`.
fn seeded_application(
    now: NaiveDateTime,
    org: &organisations::OrgRow,
    site_ids: &[String],
    number: &str,
) -> Result<ApplicationRow, AppError> {
    Ok(ApplicationRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: org.id.clone(),
        site_ids: StoredJson::new(site_ids.to_vec())?,
        category: licences::Category::Inbound,
        term_months: 36,
        renewal_of: None,
        status: applications::Status::Approved,
        history: StoredJson::new(Vec::new())?,
        licence_number: Some(number.into()),
        version: 3,
        created_at: now,
        updated_at: now,
        invoice_id: None,
    })
}

/// The licence `application` was approved as, issued now for three years.
fn seeded_licence(
    now: NaiveDateTime,
    application: &ApplicationRow,
    org: &organisations::OrgRow,
    status: licences::LicenceStatus,
) -> Result<LicenceRow, AppError> {
    Ok(LicenceRow {
        licence_number: application.licence_number.clone().unwrap_or_default(),
        organisation_id: org.id.clone(),
        application_id: application.id.clone(),
        holder: org.legal_name.clone(),
        site_ids: application.site_ids.clone(),
        category: application.category,
        status,
        issued_at: now,
        valid_from: now,
        expires_at: now + Duration::days(3 * 365),
        suspended_until: None,
        conditions: StoredJson::new(Vec::new())?,
        history: StoredJson::new(Vec::new())?,
        version: 1,
        updated_at: now,
        provisional_until: None,
    })
}
