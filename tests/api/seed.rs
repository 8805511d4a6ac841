//! Seeded registries (`ccreg seed --demo`, `ccreg seed --sites N`), seeded in-process into the
//! test's own database at the test clock's now: their audit chain verifies, and the
//! verification endpoints answer every question about them as the database does.

use std::collections::{BTreeMap, BTreeSet};

use ccreg::clock::db_now;
use ccreg::db::schema::{ip_ranges, licences, organisations, phone_ranges};
use ccreg::db::Db;
use ccreg::verify::QueryType;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use ipnet::IpNet;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::helpers::TestApp;
use crate::index::{
    agency_client, ask_bulk, ip_probes, no_disagreements, number_probes, tally, Asked,
};

/// The app, and a second handle on its database, seeded by `seed` at the test clock's now (the
/// server's index follows the seeding through the audit log).
async fn seeded(seed: impl FnOnce(&Db, NaiveDateTime) -> anyhow::Result<()>) -> (TestApp, Db) {
    let app = TestApp::spawn().await;
    let db = Db::connect(&app.db.url, 1).unwrap();
    seed(&db, db_now(&app.clock)).unwrap();
    (app, db)
}

async fn audit_chain_holds(app: &TestApp) {
    let admin = app.admin_token().await;
    let v = app.get("/api/v1/audit/verify").token(&admin).send().await.expect(200);
    assert_eq!(v.body["ok"], true, "{}", v.text);
    assert!(v.body["entries"].as_i64().unwrap() > 1, "{}", v.text);
}

/// Every licence, organisation (registration and tax number), registered number range (its
/// ends, a number inside and the numbers just outside) and IP range (likewise) in the database.
fn questions_about(db: &Db) -> Vec<(QueryType, String)> {
    let mut conn = db.get().unwrap();
    let numbers: Vec<String> =
        licences::table.select(licences::licence_number).load(&mut conn).unwrap();
    let orgs: Vec<(String, String)> = organisations::table
        .select((organisations::registration_number, organisations::tax_number))
        .load(&mut conn)
        .unwrap();
    let ranges: Vec<(i64, i64)> = phone_ranges::table
        .select((phone_ranges::first_number, phone_ranges::last_number))
        .load(&mut conn)
        .unwrap();
    let nets: Vec<String> = ip_ranges::table.select(ip_ranges::cidr).load(&mut conn).unwrap();
    let rng = &mut StdRng::seed_from_u64(0x5eed);
    let mut q: Vec<(QueryType, String)> =
        numbers.into_iter().map(|n| (QueryType::Licence, n)).collect();
    for (reg, tax) in orgs {
        q.push((QueryType::RegistrationNumber, reg));
        q.push((QueryType::TaxNumber, tax));
    }
    let probed: BTreeSet<i64> =
        ranges.into_iter().flat_map(|(first, last)| number_probes(first, last, rng)).collect();
    q.extend(probed.into_iter().map(|n| (QueryType::Number, format!("+{n}"))));
    for net in nets {
        let net: IpNet = net.parse().unwrap();
        q.extend(ip_probes(&net, rng).into_iter().map(|a| (QueryType::Ip, a.to_string())));
    }
    q
}

/// Asks every question about the registry through `POST /verify/bulk`, and a sample through
/// the single-question endpoints, and compares each answer with the database's; returns the
/// answers counted by (type, result) and ("status", status).
async fn answers_as_the_database_does(app: &TestApp, db: &Db) -> BTreeMap<(String, String), u32> {
    let questions = questions_about(db);
    let (_, agency) = agency_client(app, "Seed check desk").await;
    let Asked { asked, http, oracle } = ask_bulk(app, &agency, db, &questions).await;
    assert_eq!(asked.len(), questions.len(), "every question about the registry parses");
    let mut seen = BTreeMap::new();
    let mut failures = Vec::new();
    for (((raw, t, _), got), want) in asked.iter().zip(&http).zip(&oracle) {
        tally(&mut seen, *t, want);
        if got != want {
            failures.push(format!("{} {raw:?}\n  server:   {got}\n  database: {want}", t.as_str()));
        }
    }
    // The single-question endpoints, for the first question of each type and result.
    let mut sampled = BTreeSet::new();
    for ((raw, t, _), want) in asked.iter().zip(&oracle) {
        if !sampled.insert((t.as_str(), want["result"].as_str().unwrap())) {
            continue;
        }
        let got = app.get(&single_path(*t, raw)).token(&agency).send().await.expect(200).body;
        if got != *want {
            failures.push(format!(
                "{} {raw:?} (alone)\n  server:   {got}\n  database: {want}",
                t.as_str()
            ));
        }
    }
    no_disagreements(&failures, asked.len());
    seen
}

fn single_path(t: QueryType, value: &str) -> String {
    match t {
        QueryType::Licence => format!("/api/v1/verify/licences/{value}"),
        QueryType::Number => format!("/api/v1/verify/numbers/{value}"),
        QueryType::Ip => format!("/api/v1/verify/ips/{value}"),
        QueryType::RegistrationNumber => {
            format!("/api/v1/verify/organisations?registration_number={value}")
        }
        QueryType::TaxNumber => format!("/api/v1/verify/organisations?tax_number={value}"),
    }
}

#[track_caller]
fn met(seen: &BTreeMap<(String, String), u32>, kind: &str, value: &str) {
    let n = seen.get(&(kind.to_string(), value.to_string())).copied().unwrap_or(0);
    assert!(n > 0, "no {kind} answer was {value}: {seen:?}");
}

#[actix_web::test]
async fn the_demo_registry_verifies_and_answers_as_the_database_does() {
    let (app, db) = seeded(ccreg::seed::demo).await;
    audit_chain_holds(&app).await;
    let seen = answers_as_the_database_does(&app, &db).await;
    for status in
        ["active", "provisional", "lapsed", "suspended", "revoked", "expired", "surrendered"]
    {
        met(&seen, "status", status);
    }
    for t in ["licence", "number", "ip", "registration_number", "tax_number"] {
        met(&seen, t, "licensed");
        met(&seen, t, "not_licensed");
    }
    met(&seen, "number", "unknown");
    met(&seen, "ip", "unknown");
}

#[actix_web::test]
async fn a_bulk_seeded_registry_verifies_and_answers_as_the_database_does() {
    let (app, db) = seeded(|db, now| ccreg::seed::scale(db, now, 300)).await;
    audit_chain_holds(&app).await;
    let seen = answers_as_the_database_does(&app, &db).await;
    met(&seen, "status", "active");
    met(&seen, "status", "suspended");
    for t in ["licence", "number", "ip", "registration_number", "tax_number"] {
        met(&seen, t, "licensed");
        met(&seen, t, "not_licensed");
    }
    met(&seen, "number", "unknown");
    met(&seen, "ip", "unknown");
}
