//! `ccreg seed --demo` (a realistic registry across six cities, built through the same domain
//! functions as the API, so its audit log and change feed are real) and `ccreg seed --sites N`
//! (a large registry for benchmarks, written in batches).

use chrono::{Datelike, Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::applications;
use crate::applications::ApplicationRow;
use crate::audit::{self, Change};
use crate::auth::visible::resolve;
use crate::auth::{passwords::Password, Principal, Role};
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
const CITIES: [(&str, &str, &str, &str); 6] = [
    ("Islamabad", "Islamabad Capital Territory", "44000", "51"),
    ("Karachi", "Sindh", "75500", "21"),
    ("Rawalpindi", "Punjab", "46000", "51"),
    ("Faisalabad", "Punjab", "38000", "41"),
    ("Multan", "Punjab", "60000", "61"),
    ("Lahore", "Punjab", "54000", "42"),
];

/// (legal name, what becomes of its licence)
const COMPANIES: [(&str, &str); 12] = [
    ("Margalla Contact Services (Private) Limited", "active"),
    ("Blue Area BPO (Private) Limited", "suspended"),
    ("Clifton Customer Care (Private) Limited", "active"),
    ("Korangi Telemarketing (Private) Limited", "revoked"),
    ("Saddar Outsourcing (Private) Limited", "provisional"),
    ("Pindi Voice Solutions (Private) Limited", "expired"),
    ("Lyallpur Collections (Private) Limited", "active"),
    ("Canal Road Support Desk (Private) Limited", "unlicensed"),
    ("Multan Techno Help (Private) Limited", "surrendered"),
    ("Bosan Road Calling (Private) Limited", "unlicensed"),
    ("Gulberg Global Services (Private) Limited", "active"),
    ("Johar Town Interactive (Private) Limited", "lapsed"),
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

fn demo_in(conn: &mut DbConn, now: NaiveDateTime) -> Result<String, AppError> {
    let mut out =
        String::from("Demo registry created. Sign in with (passwords are shown only now):\n");
    let admin = account(conn, now, "admin@demo.ccreg.pk", "Demo Administrator", Role::Admin)?;
    let regulator = account(conn, now, "regulator@demo.ccreg.pk", "Sara Malik", Role::Regulator)?;
    let inspector = account(conn, now, "inspector@demo.ccreg.pk", "Usman Tariq", Role::Inspector)?;
    for a in [&admin, &regulator, &inspector] {
        out.push_str(&format!("  {:<10} {}  {}\n", a.principal.role.as_str(), a.email, a.password));
    }
    let (client, secret) = agency_clients::create(
        conn,
        now,
        &admin.principal.id,
        Name::parse("PTA monitoring", "name")?,
        Name::parse("Pakistan Telecommunication Authority", "agency")?,
        None,
    )?;
    out.push_str(&format!(
        "  agency     client_id {}  client_secret {}\n",
        client.client_id, secret
    ));
    let licensing = crate::config::Licensing::default();
    // One client per clearing agency decides the demo applications' clearances.
    let mut clearers = Vec::new();
    for code in &licensing.clearance_agencies {
        let (row, secret) = agency_clients::create(
            conn,
            now,
            &admin.principal.id,
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
    let mut critical_site = None;
    for (k, (legal_name, fate)) in COMPANIES.iter().enumerate() {
        let (city, province, postal, area) = CITIES[k / 2];
        // An expired licence was issued 13 months ago for 12; a lapsed one was provisional
        // for 90 days from 100 days ago.
        let then = match *fate {
            "expired" => now - Duration::days(400),
            "lapsed" => now - Duration::days(100),
            _ => now - Duration::days(30),
        };
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
        let address = json!({"line1": format!("Plot {}, Main Boulevard", 10 + k), "city": city, "province": province, "postal_code": postal, "country": "PK"});
        let org = organisations::create(
            conn,
            then,
            &op.principal,
            parse(json!({
            "legal_name": legal_name, "registration_number": format!("{:07}", 184_200 + k),
            "tax_number": format!("{:07}-{}", 3_412_000 + k, k % 10), "registered_address": address,
            "contact_email": format!("info{}@demo.ccreg.pk", k + 1), "contact_phone": format!("0{area} {}", 5_550_100 + k)}))?,
        )?;
        let org = resolve::<OrgRow>(conn, &op.principal, &org.id)?;
        let director = organisations::add_person(
            conn,
            then,
            &op.principal,
            &org,
            parse(json!({
            "full_name": "Imran Qureshi", "roles": ["director", "beneficial_owner"], "id_type": "cnic",
            "id_number": format!("{:05}-{:07}-{}", 35_202 + k, 1_234_567 + k, k % 10), "nationality": "PK", "ownership_percent": 60}))?,
        )?;
        let owner = organisations::add_person(
            conn,
            then,
            &op.principal,
            &org,
            parse(json!({
            "full_name": "Ahmed Al Mansoori", "roles": ["beneficial_owner"], "id_type": "passport",
            "id_number": format!("AE{:07}", 4_411_000 + k), "nationality": "AE", "ownership_percent": 40}))?,
        )?;
        let mut site_ids = Vec::new();
        for s in 0..(1 + k % 2) {
            let site = sites::create(
                conn,
                then,
                &op.principal,
                &org,
                parse(json!({
                "name": format!("{city} floor {}", s + 1), "address": address, "seat_count": 80 + 40 * s + 10 * k,
                "services": ["inbound", "outbound"], "markets": ["PK", "GB", "US"]}))?,
            )?;
            let site = resolve::<SiteRow>(conn, &op.principal, &site.id)?;
            let block = 30_000 + 10 * k + s;
            telephony::register_number(
                conn,
                then,
                &op.principal,
                &site,
                parse(json!({
                "kind": "range", "first": format!("+92{area}{block}000"), "last": format!("+92{area}{block}999"), "purpose": "both"}))?,
            )?;
            for n in 0..3 {
                telephony::register_number(
                    conn,
                    then,
                    &op.principal,
                    &site,
                    parse(json!({
                    "kind": "number", "e164": format!("+92{area}{}{n}", 70_000 + 10 * k + s), "purpose": "inbound"}))?,
                )?;
            }
            telephony::register_ip_range(
                conn,
                then,
                &op.principal,
                &site,
                parse(json!({"cidr": format!("198.18.{k}.{}/26", 64 * s)}))?,
            )?;
            if s == 0 {
                telephony::register_ip_range(
                    conn,
                    then,
                    &op.principal,
                    &site,
                    parse(json!({"cidr": format!("2001:db8:{k:x}::/48")}))?,
                )?;
            }
            file(conn, then, &op.principal, &org.id, "premises_proof", None, Some(&site.id))?;
            site_ids.push(site.id.clone());
        }
        for kind in ["incorporation_certificate", "tax_certificate", "bank_letter"] {
            file(conn, then, &op.principal, &org.id, kind, None, None)?;
        }
        for person in [&director.id, &owner.id] {
            file(conn, then, &op.principal, &org.id, "identity_document", Some(person), None)?;
        }
        let app = applications::create(
            conn,
            then,
            &op.principal,
            parse(json!({
            "organisation_id": org.id, "site_ids": site_ids, "category": "mixed", "term_months": 12}))?,
        )?;
        if *fate == "unlicensed" {
            if k % 4 == 3 {
                let application = resolve::<ApplicationRow>(conn, &op.principal, &app.id)?;
                applications::submit(
                    conn,
                    then,
                    &op.principal,
                    application,
                    |_| Ok(()),
                    &licensing,
                )?;
            }
            continue;
        }
        let application = resolve::<ApplicationRow>(conn, &op.principal, &app.id)?;
        applications::submit(conn, then, &op.principal, application, |_| Ok(()), &licensing)?;
        pay_and_clear(conn, then, &regulator.principal, &clearers, &app.id)?;
        if !["provisional", "lapsed"].contains(fate) {
            for site in &site_ids {
                pass_pre_licence(conn, then, &regulator.principal, &inspector.principal, site)?;
            }
        }
        let application = resolve::<ApplicationRow>(conn, &regulator.principal, &app.id)?;
        let app = applications::approve(
            conn,
            then,
            &regulator.principal,
            application,
            |_| Ok(()),
            parse(json!({"conditions": ["Calls to EU markets only with recorded consent"]}))?,
        )?;
        let number = LicenceNumber::try_new(app.licence_number.as_deref().unwrap_or_default())
            .map_err(AppError::internal)?;
        let change = |reason: &str| parse::<LicenceChange>(json!({"reason": reason}));
        match *fate {
            "suspended" => {
                critical_site = Some(site_ids[0].clone());
                let licence = resolve::<LicenceRow>(conn, &regulator.principal, &number)?;
                licences::suspend(
                    conn,
                    now,
                    &regulator.principal,
                    licence,
                    |_| Ok(()),
                    change("Critical findings at inspection; investigation open")?,
                )?;
            }
            "revoked" => {
                let licence = resolve::<LicenceRow>(conn, &regulator.principal, &number)?;
                licences::revoke(
                    conn,
                    now,
                    &regulator.principal,
                    licence,
                    |_| Ok(()),
                    change("Fraudulent outbound calling confirmed by NCCIA")?,
                    licensing.bar_years,
                )?;
            }
            "surrendered" => {
                let licence = resolve::<LicenceRow>(conn, &op.principal, &number)?;
                licences::surrender(
                    conn,
                    now,
                    &op.principal,
                    licence,
                    |_| Ok(()),
                    change("Ceasing operations")?,
                )?;
            }
            _ => {}
        }
    }
    // Inspections: one scheduled, one compliant, one critical (queued, then a dismissal).
    let sites_all = sites::store::list(conn, &sites::store::Filter::default(), None, 100)?;
    let visit = |site: &str, kind: &str| {
        parse::<NewInspection>(json!({"site_id": site, "inspector_id": inspector.principal.id,
        "scheduled_for": (now + Duration::days(7)).and_utc().to_rfc3339(), "kind": kind}))
    };
    inspections::schedule(
        conn,
        now,
        &regulator.principal,
        visit(&sites_all[0].id, "unannounced")?,
    )?;
    let done = inspections::schedule(
        conn,
        now,
        &regulator.principal,
        visit(&sites_all[2].id, "routine")?,
    )?;
    let done = resolve::<InspectionRow>(conn, &inspector.principal, &done.id)?;
    inspections::record(
        conn,
        now,
        &inspector.principal,
        done,
        |_| Ok(()),
        parse::<Record>(json!({
        "visited_at": now.and_utc().to_rfc3339(), "seats_observed": 120, "staff_present": 95, "foreign_nationals_present": 0,
        "findings": [], "outcome": "compliant", "notes": "Consent recordings sampled; in order"}))?,
    )?;
    let target = sites_all
        .iter()
        .find(|s| s.organisation_id != sites_all[0].organisation_id)
        .map(|s| s.id.clone())
        .unwrap_or_default();
    let hot = inspections::schedule(
        conn,
        now,
        &regulator.principal,
        visit(critical_site.as_deref().unwrap_or(&target), "complaint")?,
    )?;
    let hot = resolve::<InspectionRow>(conn, &inspector.principal, &hot.id)?;
    let hot = inspections::record(
        conn,
        now,
        &inspector.principal,
        hot,
        |_| Ok(()),
        parse::<Record>(json!({
        "visited_at": now.and_utc().to_rfc3339(), "seats_observed": 410, "staff_present": 380, "foreign_nationals_present": 27,
        "findings": [{"code": "SCRIPT-IMPERSONATION", "severity": "critical", "description": "Agents scripted to impersonate a bank"}],
        "outcome": "critical", "evidence": [{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "description": "Call script, page 1"}]}))?,
    )?;
    crate::violations::after_inspection(conn, now, &inspector.principal.id, &hot)?;
    out.push_str(&format!("  {} organisations in {} cities; licences active, provisional, lapsed, suspended, revoked, expired and surrendered (each with its paid invoice and three clearances); unlicensed companies; inspections.\n",
        COMPANIES.len(), CITIES.len()));
    Ok(out)
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
    };
    let org = resolve::<OrgRow>(conn, owner, org_id)?;
    crate::documents::upload(conn, at, owner, &org, &form)?;
    Ok(())
}

/// Pays a submitted application's invoice and has every clearing agency grant it.
fn pay_and_clear(
    conn: &mut DbConn,
    at: NaiveDateTime,
    regulator: &Principal,
    clearers: &[(String, Principal)],
    application_id: &str,
) -> Result<(), AppError> {
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
        let (_, clearer) = clearers
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

/// A compliant pre-licence inspection of `site`, visited at `at`.
fn pass_pre_licence(
    conn: &mut DbConn,
    at: NaiveDateTime,
    regulator: &Principal,
    inspector: &Principal,
    site: &str,
) -> Result<(), AppError> {
    let scheduled = inspections::schedule(
        conn,
        at,
        regulator,
        parse::<NewInspection>(json!({"site_id": site, "inspector_id": inspector.id,
            "scheduled_for": at.and_utc().to_rfc3339(), "kind": "pre_licence"}))?,
    )?;
    let scheduled = resolve::<InspectionRow>(conn, inspector, &scheduled.id)?;
    inspections::record(
        conn,
        at,
        inspector,
        scheduled,
        |_| Ok(()),
        parse::<Record>(json!({"visited_at": at.and_utc().to_rfc3339(), "seats_observed": 100,
            "staff_present": 80, "foreign_nationals_present": 0, "findings": [],
            "outcome": "compliant"}))?,
    )?;
    Ok(())
}

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
    let owner = match users::store::find_by_email(&mut conn, "seed-operator@seed.ccreg.pk")
        .map_err(describe)?
    {
        Some(u) => u.id,
        None => {
            write_tx(&mut conn, |c| {
                account(c, now, "seed-operator@seed.ccreg.pk", "Seed Operator", Role::Operator)
            })
            .map_err(describe)?
            .principal
            .id
        }
    };
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

fn scale_batch(
    conn: &mut DbConn,
    now: NaiveDateTime,
    owner: &str,
    from: usize,
    count: usize,
    sites_left: usize,
) -> Result<usize, AppError> {
    let mut org_rows = Vec::new();
    let mut person_rows = Vec::new();
    let mut site_rows = Vec::new();
    let mut number_rows = Vec::new();
    let mut ip_rows = Vec::new();
    let mut app_rows = Vec::new();
    let mut licence_rows = Vec::new();
    let mut licence_site_rows = Vec::new();
    let licensed: Vec<usize> = (from..from + count).filter(|o| o % 10 != 9).collect();
    let first_serial = reserve(conn, "licence_serial", licensed.len() as i64)?;
    let first_seq = reserve(conn, "events", licensed.len() as i64)?;
    let mut events = Vec::new();
    let mut sites_made = 0;
    for o in from..from + count {
        let org_id = uuid::Uuid::now_v7().to_string();
        let address: crate::domain::Address = serde_json::from_value(json!({"line1": format!("Office {o}"), "line2": null, "city": CITIES[o % 6].0, "province": CITIES[o % 6].1,
            "postal_code": CITIES[o % 6].2, "country": "PK"})).map_err(|e| AppError::internal(e.to_string()))?;
        let address = StoredJson::new(address)?;
        org_rows.push(organisations::OrgRow {
            id: org_id.clone(),
            owner_id: owner.into(),
            legal_name: format!("Seeded Contact Centre {o} (Private) Limited"),
            trade_name: None,
            registration_number: format!("SEED{o:07}"),
            tax_number: format!("{:07}-{}", 8_000_000 + o, o % 10),
            registered_address: address.clone(),
            contact_email: format!("seed{o}@seed.ccreg.pk"),
            contact_phone: "+924235760000".into(),
            version: 1,
            created_at: now,
            updated_at: now,
        });
        person_rows.push(organisations::PersonRow {
            id: uuid::Uuid::now_v7().to_string(),
            organisation_id: org_id.clone(),
            full_name: "Seeded Director".into(),
            roles: StoredJson::new(vec![crate::organisations::PersonRole::Director])?,
            id_type: crate::organisations::IdType::Cnic,
            id_number: format!("{:05}-{:07}-1", 10_000 + o % 90_000, o),
            nationality: "PK".into(),
            ownership_bp: 10_000,
            created_at: now,
        });
        let mut ids = Vec::new();
        for s in 0..SITES_PER_ORG.min(sites_left.saturating_sub((o - from) * SITES_PER_ORG)) {
            let i = (o * SITES_PER_ORG + s) as i64;
            let site_id = uuid::Uuid::now_v7().to_string();
            site_rows.push(sites::SiteRow {
                id: site_id.clone(),
                organisation_id: org_id.clone(),
                name: format!("Seeded site {i}"),
                address: address.clone(),
                city_key: CITIES[o % 6].0.to_lowercase(),
                seat_count: 50,
                services: StoredJson::new(vec![crate::sites::Service::Inbound])?,
                markets: StoredJson::new(vec![crate::domain::Country::pakistan()])?,
                status: crate::sites::SiteStatus::Active,
                version: 1,
                created_at: now,
                updated_at: now,
            });
            // +92 58 ... : ten numbers and a range of 100 per site, never overlapping.
            let base = 925_800_000_000 + i * 1_000;
            for k in 0..10 {
                number_rows.push(telephony::PhoneRangeRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    site_id: site_id.clone(),
                    kind: crate::telephony::NumberKind::Number,
                    first_number: base + k,
                    last_number: base + k,
                    purpose: crate::telephony::Purpose::Both,
                    created_at: now,
                });
            }
            number_rows.push(telephony::PhoneRangeRow {
                id: uuid::Uuid::now_v7().to_string(),
                site_id: site_id.clone(),
                kind: crate::telephony::NumberKind::Range,
                first_number: base + 100,
                last_number: base + 199,
                purpose: crate::telephony::Purpose::Both,
                created_at: now,
            });
            let net = std::net::Ipv4Addr::from(
                u32::from(std::net::Ipv4Addr::new(100, 64, 0, 0)) + (i as u32) * 16,
            );
            let range = crate::domain::IpRange::try_new(&format!("{net}/28"))
                .map_err(AppError::internal)?;
            let (first, last) = range.bounds();
            ip_rows.push(telephony::IpRangeRow {
                id: uuid::Uuid::now_v7().to_string(),
                site_id: site_id.clone(),
                cidr: range.cidr(),
                family: 4,
                first_addr: first,
                last_addr: last,
                created_at: now,
            });
            ids.push(site_id);
            sites_made += 1;
        }
        if let Some(pos) = licensed.iter().position(|l| *l == o) {
            let app_id = uuid::Uuid::now_v7().to_string();
            let number = LicenceNumber::new(now.year() as u32, (first_serial + pos as i64) as u32)
                .as_str()
                .to_string();
            let site_json = StoredJson::new(ids.clone())?;
            app_rows.push(applications::ApplicationRow {
                id: app_id.clone(),
                organisation_id: org_id.clone(),
                site_ids: site_json.clone(),
                category: licences::Category::Inbound,
                term_months: 36,
                renewal_of: None,
                status: applications::Status::Approved,
                history: StoredJson::new(Vec::new())?,
                licence_number: Some(number.clone()),
                version: 3,
                created_at: now,
                updated_at: now,
                invoice_id: None,
            });
            let status = if o % 10 == 8 {
                licences::LicenceStatus::Suspended
            } else {
                licences::LicenceStatus::Active
            };
            let expires_at = now + Duration::days(3 * 365);
            licence_rows.push(licences::LicenceRow {
                licence_number: number.clone(),
                organisation_id: org_id.clone(),
                application_id: app_id,
                holder: format!("Seeded Contact Centre {o} (Private) Limited"),
                site_ids: site_json,
                category: licences::Category::Inbound,
                status,
                issued_at: now,
                valid_from: now,
                expires_at,
                suspended_until: None,
                conditions: StoredJson::new(Vec::new())?,
                history: StoredJson::new(Vec::new())?,
                version: 1,
                updated_at: now,
                provisional_until: None,
            });
            for s in &ids {
                licence_site_rows.push((
                    licence_sites::licence_number.eq(number.clone()),
                    licence_sites::site_id.eq(s.clone()),
                ));
            }
            events.push((
                licence_events::seq.eq(first_seq + pos as i64),
                licence_events::event_type.eq(licences::events::EventType::Issued),
                licence_events::licence_number.eq(number),
                licence_events::status.eq(status),
                licence_events::expires_at.eq(expires_at),
                licence_events::at.eq(now),
            ));
        }
    }
    insert_all!(conn, organisations_t::table, org_rows);
    insert_all!(conn, people::table, person_rows);
    insert_all!(conn, sites_t::table, site_rows);
    insert_all!(conn, phone_ranges::table, number_rows);
    insert_all!(conn, ip_ranges::table, ip_rows);
    insert_all!(conn, applications_t::table, app_rows);
    insert_all!(conn, licences_t::table, licence_rows);
    insert_all!(conn, licence_sites::table, licence_site_rows);
    insert_all!(conn, licence_events::table, events);
    audit::append(
        conn,
        now,
        Change {
            actor_id: Some(owner),
            action: "seed.batch",
            entity_type: "seed",
            entity_id: &format!("SEED{from:07}"),
            summary: format!(
                "bulk-seeded organisations {from}..{} with {sites_made} sites",
                from + count
            ),
        },
    )?;
    Ok(sites_made)
}
