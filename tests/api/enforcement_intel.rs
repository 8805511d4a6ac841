//! Enforcement intelligence (API.md §11): statistics, violations, barred persons, reports.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp, PASSWORD};
use crate::licensing::{act, in_status, operator, pre_licence, Operator};

const REGULATOR: &str = "reg@pta.gov.pk";
const INSPECTOR: &str = "insp@pta.gov.pk";

struct World {
    op: Operator,
    regulator: String,
    inspector_id: String,
    inspector: String,
    licence: String,
}

async fn world(app: &TestApp) -> World {
    let op = operator(app, 1).await;
    let (_, regulator) = app.staff("regulator", REGULATOR).await;
    let (inspector_id, inspector) = app.staff("inspector", INSPECTOR).await;
    pre_licence(app, &regulator, &op.site).await;
    let id = in_status(app, &op, &regulator, "approved").await;
    let licence =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.body
            ["licence_number"]
            .as_str()
            .unwrap()
            .to_string();
    World { op, regulator, inspector_id, inspector, licence }
}

/// Schedules and records a visit of `site` by the world's inspector.
async fn inspect(app: &TestApp, w: &World, site: &str, kind: &str, visit: Value) -> Value {
    let r = app
        .post("/api/v1/inspections")
        .token(&w.regulator)
        .json(&json!({"site_id": site, "inspector_id": w.inspector_id,
                      "scheduled_for": app.clock_now(), "kind": kind}))
        .send()
        .await
        .expect(201);
    let path = format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap());
    act(app, &w.inspector, &path, "record", Some(visit)).await.expect(200).body
}

fn visit(outcome: &str, findings: Value) -> Value {
    json!({"visited_at": "2026-11-22T10:30:00Z", "seats_observed": 120, "staff_present": 100,
           "foreign_nationals_present": 0, "findings": findings, "outcome": outcome,
           "notes": "Manager evasive about the night shift"})
}

fn items(r: &Resp) -> Vec<Value> {
    r.body["items"].as_array().cloned().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Statistics

fn city<'a>(stats: &'a Value, name: &str) -> &'a Value {
    stats["cities"].as_array().unwrap().iter().find(|c| c["city"] == name).unwrap()
}

#[actix_web::test]
async fn statistics_follow_licences_inspections_and_time() {
    let app = TestApp::spawn().await;
    let stats = app.get("/api/v1/public/stats").send().await.expect(200);
    assert_eq!(stats.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(stats.body["national"]["sites"], 0);
    assert_eq!(stats.body["cities"], json!([]));

    let w = world(&app).await;
    let lahore = app.site(&w.op.token, &w.op.org, "Lahore").await;
    inspect(
        &app,
        &w,
        &lahore,
        "routine",
        visit(
            "critical",
            json!([{"code": "A", "severity": "critical", "description": "No registers"},
                   {"code": "B", "severity": "critical", "description": "Spoofed caller ids"},
                   {"code": "C", "severity": "minor", "description": "Fire exit"}]),
        ),
    )
    .await;
    let s = app.get("/api/v1/public/stats").send().await.expect(200).body;
    let national = &s["national"];
    // Two sites, one covered by the licence; the pre-licence and the routine visit.
    assert_eq!(national["sites"], 2, "{s}");
    assert_eq!(national["sites_licensed"], 1);
    assert_eq!(national["inspections_recorded"], 2);
    assert_eq!(national["critical_findings"], 2);
    assert_eq!(national["licences_suspended"], 0);
    assert_eq!(national["reports_30d"], 0);
    assert_eq!(city(&s, "karachi")["sites_licensed"], 1);
    assert_eq!(city(&s, "lahore")["sites_licensed"], 0);
    assert_eq!(city(&s, "lahore")["critical_findings"], 2);
    assert_eq!(city(&s, "karachi")["inspections_recorded"], 1);

    let path = format!("/api/v1/licences/{}", w.licence);
    act(&app, &w.regulator, &path, "suspend", Some(json!({"reason": "Critical visit"})))
        .await
        .expect(200);
    let s = app.get("/api/v1/public/stats").send().await.expect(200).body;
    assert_eq!(s["national"]["sites_licensed"], 0);
    assert_eq!(s["national"]["licences_suspended"], 1);
    assert_eq!(city(&s, "karachi")["licences_suspended"], 1);

    // Expired: no longer counted as suspended (the rule of LicenceStatus::as_of).
    app.clock.advance(Duration::days(800));
    let s = app.get("/api/v1/public/stats").send().await.expect(200).body;
    assert_eq!(s["national"]["licences_suspended"], 0);
    assert_eq!(s["national"]["sites_licensed"], 0);
    assert_eq!(s["national"]["sites"], 2);

    // A closed site no longer counts.
    let operator = app.login("op1@example.pk", PASSWORD).await;
    app.patch(&format!("/api/v1/sites/{lahore}"))
        .token(&operator)
        .header("if-match", "\"1\"")
        .json(&json!({"status": "closed"}))
        .send()
        .await
        .expect(200);
    let s = app.get("/api/v1/public/stats").send().await.expect(200).body;
    assert_eq!(s["national"]["sites"], 1);
    assert_eq!(city(&s, "lahore")["sites"], 0);
    assert_eq!(city(&s, "lahore")["critical_findings"], 2);
}

#[derive(Default, Debug, PartialEq)]
struct Expected {
    sites: i64,
    sites_licensed: i64,
    licences_suspended: i64,
    licences_revoked: i64,
    inspections_recorded: i64,
    critical_findings: i64,
}

/// The figures worked out row by row from the stored registry.
fn expected(conn: &mut ccreg::db::DbConn, now: NaiveDateTime) -> BTreeMap<String, Expected> {
    use ccreg::db::schema::{inspections, licence_sites, licences, sites};
    use ccreg::domain::LicenceStatus;
    let all: Vec<(String, String, String)> =
        sites::table.select((sites::id, sites::city_key, sites::status)).load(conn).unwrap();
    let site_city: BTreeMap<String, String> =
        all.iter().map(|(id, city, _)| (id.clone(), city.clone())).collect();
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for (_, c, status) in &all {
        out.entry(c.clone()).or_default().sites += (status == "active") as i64;
    }
    #[allow(clippy::type_complexity)]
    let lic: Vec<(String, LicenceStatus, NaiveDateTime, Option<NaiveDateTime>)> = licences::table
        .select((
            licences::licence_number,
            licences::status,
            licences::expires_at,
            licences::provisional_until,
        ))
        .load(conn)
        .unwrap();
    let covers: Vec<(String, String)> = licence_sites::table
        .select((licence_sites::licence_number, licence_sites::site_id))
        .load(conn)
        .unwrap();
    let mut licensed = std::collections::BTreeSet::new();
    let mut per_city_licences = std::collections::BTreeSet::new();
    for (number, status, exp, prov) in &lic {
        let now_status = status.as_of(*exp, *prov, now);
        for (_, site) in covers.iter().filter(|(n, _)| n == number) {
            let c = &site_city[site];
            let open = all.iter().any(|(id, _, status)| id == site && status == "active");
            if now_status.in_force() && open {
                licensed.insert(site.clone());
            }
            if per_city_licences.insert((c.clone(), number.clone())) {
                let e = out.get_mut(c).unwrap();
                e.licences_suspended += (now_status == LicenceStatus::Suspended) as i64;
                e.licences_revoked += (now_status == LicenceStatus::Revoked) as i64;
            }
        }
    }
    for site in licensed {
        out.get_mut(&site_city[&site]).unwrap().sites_licensed += 1;
    }
    let visits: Vec<(String, String)> = inspections::table
        .filter(inspections::status.eq(ccreg::inspections::Status::Recorded))
        .select((inspections::site_id, inspections::findings))
        .load(conn)
        .unwrap();
    for (site, findings) in visits {
        let e = out.get_mut(&site_city[&site]).unwrap();
        e.inspections_recorded += 1;
        let findings: Vec<Value> = serde_json::from_str(&findings).unwrap();
        e.critical_findings +=
            findings.iter().filter(|f| f["severity"] == "critical").count() as i64;
    }
    out
}

#[actix_web::test]
async fn statistics_of_the_demo_registry() {
    let app = TestApp::spawn().await;
    let db = ccreg::db::Db::connect(&app.db.url, 2).unwrap();
    let now = ccreg::clock::db_now(&app.clock);
    ccreg::seed::demo(&db, now).unwrap();
    let s = app.get("/api/v1/public/stats").send().await.expect(200).body;
    let want = expected(&mut db.get().unwrap(), now);
    assert_eq!(want.len(), 6, "the demo has six cities");
    assert!(want.values().any(|e| e.critical_findings > 0), "the demo has a critical finding");
    for (name, e) in &want {
        let c = city(&s, name);
        let got = Expected {
            sites: c["sites"].as_i64().unwrap(),
            sites_licensed: c["sites_licensed"].as_i64().unwrap(),
            licences_suspended: c["licences_suspended"].as_i64().unwrap(),
            licences_revoked: c["licences_revoked"].as_i64().unwrap(),
            inspections_recorded: c["inspections_recorded"].as_i64().unwrap(),
            critical_findings: c["critical_findings"].as_i64().unwrap(),
        };
        assert_eq!(&got, e, "{name}: {s}");
        assert_eq!(c["reports_30d"], 0);
    }
    let total = |f: fn(&Expected) -> i64| want.values().map(f).sum::<i64>();
    assert_eq!(s["national"]["sites"], total(|e| e.sites));
    assert_eq!(s["national"]["sites_licensed"], total(|e| e.sites_licensed));
    assert_eq!(s["national"]["inspections_recorded"], total(|e| e.inspections_recorded));
    assert_eq!(s["national"]["critical_findings"], total(|e| e.critical_findings));
    assert!(s["national"]["licences_revoked"].as_i64().unwrap() > 0);
    assert!(s["national"]["licences_suspended"].as_i64().unwrap() > 0);
    assert_eq!(s["cities"].as_array().unwrap().len(), 6);
}

// ---------------------------------------------------------------------------------------------
// Violations

fn findings() -> Value {
    json!([
        {"code": "UNDECLARED-SEATS", "severity": "major", "description": "190 seats more than declared", "due_by": "2026-11-30"},
        {"code": "FIRE-EXIT", "severity": "minor", "description": "Fire exit blocked"},
        {"code": "SIGNAGE", "severity": "info", "description": "No licence on display", "due_by": "2026-11-25"},
        {"code": "SPOOFING", "severity": "critical", "description": "Caller ids spoofed"}
    ])
}

async fn violations(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    items(&app.get(&format!("/api/v1/violations?{query}")).token(token).send().await.expect(200))
}

#[actix_web::test]
async fn findings_open_violations_that_go_overdue_and_are_resolved() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let stranger = operator(&app, 2).await;
    let recorded =
        inspect(&app, &w, &w.op.site, "routine", visit("major_issues", findings())).await;
    let all = violations(&app, &w.regulator, "").await;
    // Major, critical, and any finding with a due date; not the minor one without.
    let mut codes: Vec<&str> = all.iter().map(|v| v["code"].as_str().unwrap()).collect();
    codes.sort();
    assert_eq!(codes, ["SIGNAGE", "SPOOFING", "UNDECLARED-SEATS"]);
    let major = all.iter().find(|v| v["code"] == "UNDECLARED-SEATS").unwrap().clone();
    assert_eq!(major["status"], "open");
    assert_eq!(major["severity"], "major");
    assert_eq!(major["due_by"], "2026-11-30");
    assert_eq!(major["inspection_id"], recorded["id"]);
    assert_eq!(major["site_id"], w.op.site.as_str());
    assert_eq!(major["organisation_id"], w.op.org.as_str());
    assert_eq!(major["licence_number"], w.licence.as_str());
    assert_eq!(major["description"], "190 seats more than declared");
    assert_eq!(major["version"], 1);

    // The operator sees its own, with the description and never the notes; others see none.
    let mine = violations(&app, &w.op.token, "").await;
    assert_eq!(mine.len(), 3);
    assert!(!serde_json::to_string(&mine).unwrap().contains("evasive"));
    assert!(violations(&app, &stranger.token, "").await.is_empty());
    let path = format!("/api/v1/violations/{}", major["id"].as_str().unwrap());
    app.get(&path).token(&stranger.token).send().await.problem(404);
    let r = app.get(&path).token(&w.op.token).send().await.expect(200);
    assert_eq!(r.header("etag").as_deref(), Some("\"1\""));
    app.get(&path).token(&w.inspector).send().await.expect(200);
    let agency = crate::licensing::clearing_agency(&app, "nccia").await;
    app.get("/api/v1/violations").token(&agency).send().await.problem(403);

    // Filters.
    assert_eq!(violations(&app, &w.regulator, "severity=major").await.len(), 1);
    assert_eq!(
        violations(&app, &w.regulator, &format!("site_id={}", stranger.site)).await.len(),
        0
    );
    assert_eq!(
        violations(&app, &w.regulator, &format!("organisation_id={}", w.op.org)).await.len(),
        3
    );
    assert_eq!(violations(&app, &w.regulator, "status=overdue").await.len(), 0);
    assert_eq!(violations(&app, &w.regulator, "status=open").await.len(), 3);
    app.get("/api/v1/violations?status=late").token(&w.regulator).send().await.problem(400);

    // Due on the 25th: still open that day, overdue the day after.
    app.clock.advance(Duration::days(3));
    let regulator = app.login(REGULATOR, PASSWORD).await;
    assert_eq!(violations(&app, &regulator, "status=overdue").await.len(), 0);
    app.clock.advance(Duration::days(1));
    let regulator = app.login(REGULATOR, PASSWORD).await;
    let overdue = violations(&app, &regulator, "status=overdue").await;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0]["code"], "SIGNAGE");
    assert_eq!(violations(&app, &regulator, "status=open").await.len(), 2);

    // A regulator resolves one with a reason and If-Match.
    let body = json!({"reason": "Seats declared in an amended filing"});
    app.post(&format!("{path}/resolve")).token(&regulator).json(&body).send().await.problem(428);
    let operator_token = app.login("op1@example.pk", PASSWORD).await;
    app.post(&format!("{path}/resolve"))
        .token(&operator_token)
        .header("if-match", "\"1\"")
        .json(&body)
        .send()
        .await
        .problem(403);
    app.post(&format!("{path}/resolve"))
        .token(&regulator)
        .header("if-match", "\"1\"")
        .json(&json!({"reason": "x", "status": "resolved"}))
        .send()
        .await
        .problem(422);
    let r = act(&app, &regulator, &path, "resolve", Some(body.clone())).await.expect(200);
    assert_eq!(r.body["status"], "resolved");
    assert_eq!(r.body["resolution"], "Seats declared in an amended filing");
    assert_eq!(r.body["version"], 2);
    assert!(r.body["resolved_at"].is_string());
    act(&app, &regulator, &path, "resolve", Some(body)).await.problem(409);
    assert_eq!(violations(&app, &regulator, "status=resolved").await.len(), 1);

    // A compliant follow-up resolves the site's other open violations.
    let inspector = app.login(INSPECTOR, PASSWORD).await;
    let w = World { regulator: regulator.clone(), inspector, ..w };
    let mut v = visit("compliant", json!([]));
    v["visited_at"] = json!(app.clock_now());
    inspect(&app, &w, &w.op.site, "follow_up", v).await;
    let all = violations(&app, &regulator, "status=resolved").await;
    assert_eq!(all.len(), 3);
    let by_visit = all.iter().filter(|v| v["resolution"].as_str().unwrap().contains("follow-up"));
    assert_eq!(by_visit.count(), 2);
    let audit = app.get("/api/v1/audit?limit=500").token(&regulator).send().await.expect(200);
    let actions: Vec<String> =
        items(&audit).iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(actions.iter().filter(|a| *a == "violation.opened").count(), 3);
    assert_eq!(actions.iter().filter(|a| *a == "violation.resolved").count(), 3);
}

#[actix_web::test]
async fn a_routine_visit_that_is_not_compliant_resolves_nothing() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    inspect(&app, &w, &w.op.site, "routine", visit("major_issues", findings())).await;
    inspect(&app, &w, &w.op.site, "routine", visit("compliant", json!([]))).await;
    inspect(&app, &w, &w.op.site, "follow_up", visit("minor_issues", json!([]))).await;
    assert_eq!(violations(&app, &w.regulator, "status=resolved").await.len(), 0);
}

#[actix_web::test]
async fn an_overdue_major_violation_queues_its_licence_exactly_once() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    inspect(&app, &w, &w.op.site, "routine", visit("major_issues", findings())).await;
    let queue = |token: String| {
        let app = &app;
        async move {
            items(&app.get("/api/v1/enforcement-queue").token(&token).send().await.expect(200))
        }
    };
    // The critical finding raised an inspection item at once; nothing is overdue yet.
    let before = queue(w.regulator.clone()).await;
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["cause"], "inspection");

    // The info violation goes overdue first: not major, no item.
    app.clock.advance(Duration::days(4));
    let regulator = app.login(REGULATOR, PASSWORD).await;
    app.overdue.run_once().await.unwrap();
    assert_eq!(queue(regulator.clone()).await.len(), 1);

    // The major one is overdue now, yet reads write nothing: the background sweep raises it.
    app.clock.advance(Duration::days(5));
    let regulator = app.login(REGULATOR, PASSWORD).await;
    assert_eq!(violations(&app, &regulator, "status=overdue").await.len(), 2);
    assert_eq!(queue(regulator.clone()).await.len(), 1);
    let passes = (0..8).map(|_| app.overdue.run_once());
    for pass in futures_util::future::join_all(passes).await {
        pass.unwrap();
    }
    let after = queue(regulator.clone()).await;
    let raised: Vec<&Value> = after.iter().filter(|i| i["cause"] == "violation").collect();
    assert_eq!(raised.len(), 1, "{after:?}");
    assert_eq!(raised[0]["licence_number"], w.licence.as_str());
    assert_eq!(raised[0]["site_id"], w.op.site.as_str());
    let major = violations(&app, &regulator, "severity=major").await;
    assert_eq!(raised[0]["violation_id"], major[0]["id"]);
    // Reading the violations again raises nothing more, even after a dismissal.
    let ipath = format!("/api/v1/enforcement-queue/{}", raised[0]["id"].as_str().unwrap());
    app.post(&format!("{ipath}/dismiss"))
        .token(&regulator)
        .header("if-match", "\"1\"")
        .json(&json!({"reason": "Talked to the operator"}))
        .send()
        .await
        .expect(200);
    app.overdue.run_once().await.unwrap();
    let all = items(
        &app.get("/api/v1/enforcement-queue?status=all").token(&regulator).send().await.expect(200),
    );
    assert_eq!(all.iter().filter(|i| i["cause"] == "violation").count(), 1);
    let audit = app.get("/api/v1/audit/verify").token(&regulator).send().await.expect(200);
    assert_eq!(audit.body["ok"], true);
}

// ---------------------------------------------------------------------------------------------
// Barred persons

async fn person(app: &TestApp, op: &Operator, roles: Value, id_number: &str) -> String {
    let r = app
        .post(&format!("/api/v1/organisations/{}/people", op.org))
        .token(&op.token)
        .json(&json!({"full_name": "Asad Mehmood", "roles": roles, "id_type": "cnic",
                      "id_number": id_number, "nationality": "PK", "ownership_percent": 0}))
        .send()
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    app.file_document(&op.token, &op.org, "identity_document", &[("person_id", &id)]).await;
    id
}

#[actix_web::test]
async fn revoking_bars_directors_and_owners_and_flags_their_next_application() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let admin = app.admin_token().await;
    person(&app, &w.op, json!(["beneficial_owner"]), "12345-1234599-1").await;
    person(&app, &w.op, json!(["authorised_signatory"]), "12345-1234598-1").await;
    let path = format!("/api/v1/licences/{}", w.licence);
    act(&app, &w.regulator, &path, "revoke", Some(json!({"reason": "Fraud confirmed"})))
        .await
        .expect(200);

    let barred = app.get("/api/v1/barred-persons").token(&w.regulator).send().await.expect(200);
    let barred = items(&barred);
    let mut ids: Vec<&str> = barred.iter().map(|b| b["id_number"].as_str().unwrap()).collect();
    ids.sort();
    // The director (from the fixture) and the beneficial owner; not the signatory.
    assert_eq!(ids, ["12345-1234501-1", "12345-1234599-1"]);
    let b = &barred[0];
    assert_eq!(b["id_type"], "cnic");
    assert_eq!(b["licence_number"], w.licence.as_str());
    assert_eq!(b["organisation_id"], w.op.org.as_str());
    assert!(b["full_name"].is_string() && b["id"].is_string());
    assert_eq!(b["barred_at"], "2026-11-22T10:00:00Z");
    assert_eq!(b["barred_until"], "2031-11-22T10:00:00Z");
    app.get("/api/v1/barred-persons").token(&admin).send().await.expect(200);
    app.get("/api/v1/barred-persons").token(&w.op.token).send().await.problem(403);
    app.get("/api/v1/barred-persons").token(&w.inspector).send().await.problem(403);

    // Another company lists the barred director (as a signatory: any role counts).
    let other = operator(&app, 2).await;
    let listed = person(&app, &other, json!(["authorised_signatory"]), "12345-1234501-1").await;
    let id = in_status(&app, &other, &w.regulator, "ready").await;
    let apath = format!("/api/v1/applications/{id}");
    let seen = app.get(&apath).token(&w.regulator).send().await.expect(200).body;
    assert_eq!(
        seen["flags"],
        json!([{"kind": "barred_person", "person_id": listed, "licence_number": w.licence,
                "barred_until": "2031-11-22T10:00:00Z"}])
    );
    let by_operator = app.get(&apath).token(&other.token).send().await.expect(200).body;
    assert!(by_operator.get("flags").is_none(), "{by_operator}");
    let list = app.get("/api/v1/applications").token(&w.regulator).send().await.expect(200);
    let flagged = items(&list).into_iter().find(|a| a["id"] == id.as_str()).unwrap();
    assert_eq!(flagged["flags"].as_array().unwrap().len(), 1);
    let list = app.get("/api/v1/applications").token(&other.token).send().await.expect(200);
    assert!(items(&list).iter().all(|a| a.get("flags").is_none()));

    // Approval needs the override and a reason.
    let r = act(&app, &w.regulator, &apath, "approve", None).await.problem(422);
    let mut fields: Vec<&str> =
        r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["override_flags", "reason"]);
    let r = act(&app, &w.regulator, &apath, "approve", Some(json!({"override_flags": true})))
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "reason");
    act(&app, &w.regulator, &apath, "approve", Some(json!({"reason": "Seen by the board"})))
        .await
        .problem(422);
    let body =
        json!({"override_flags": true, "reason": "Resigned before the fraud; cleared by NCCIA"});
    let r = act(&app, &w.regulator, &apath, "approve", Some(body)).await.expect(200);
    assert_eq!(r.body["status"], "approved");
    assert_eq!(r.body["flags"].as_array().unwrap().len(), 1);
    let audit = app
        .get("/api/v1/audit?action=application.flags_overridden")
        .token(&w.regulator)
        .send()
        .await
        .expect(200);
    let entries = items(&audit);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["entity_id"], id.as_str());
    assert!(entries[0]["summary"].as_str().unwrap().contains("cleared by NCCIA"));

    // An application without barred people carries no flags and needs no override.
    let clean = operator(&app, 3).await;
    let id = in_status(&app, &clean, &w.regulator, "ready").await;
    let cpath = format!("/api/v1/applications/{id}");
    assert_eq!(app.get(&cpath).token(&w.regulator).send().await.body["flags"], json!([]));
    act(&app, &w.regulator, &cpath, "approve", None).await.expect(200);

    // Flags are worked out at read time: once the bar ends, the flag goes.
    app.clock.advance(Duration::days(5 * 366));
    let regulator = app.login(REGULATOR, PASSWORD).await;
    assert_eq!(app.get(&apath).token(&regulator).send().await.body["flags"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// Public reports

/// Registers 021-3456-7000 to 7999 for the world's site.
async fn with_numbers(app: &TestApp, w: &World) {
    app.post(&format!("/api/v1/sites/{}/numbers", w.op.site))
        .token(&w.op.token)
        .json(&json!({"kind": "range", "first": "+922134567000", "last": "+922134567999", "purpose": "both"}))
        .send()
        .await
        .expect(201);
}

fn call(number: &str) -> Value {
    json!({"number": number, "called_at": "2026-11-22T09:15:00Z", "category": "fraud",
           "description": "Asked for my card PIN, said they were the bank"})
}

async fn report(app: &TestApp, body: &Value) -> Resp {
    app.post("/api/v1/public/reports").json(body).send().await
}

async fn queued_for_reports(app: &TestApp, regulator: &str) -> Vec<Value> {
    let r = app.get("/api/v1/enforcement-queue?status=all").token(regulator).send().await;
    items(&r.expect(200)).into_iter().filter(|i| i["cause"] == "reports").collect()
}

#[actix_web::test]
async fn anyone_may_report_a_call_and_the_answer_does_not_tell() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    with_numbers(&app, &w).await;
    let known = report(&app, &call("021 3456 7123")).await.expect(202);
    let unknown = report(&app, &call("+922134000000")).await.expect(202);
    let keys = |r: &Resp| r.body.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known), ["id"]);
    assert_eq!(keys(&unknown), ["id"]);
    assert_eq!(known.header("content-type"), unknown.header("content-type"));

    let r = report(&app, &call("12")).await.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "number");
    let mut future = call("+922134567123");
    future["called_at"] = json!("2026-11-23T09:15:00Z");
    report(&app, &future).await.problem(422);
    let mut bad = call("+922134567123");
    bad["category"] = json!("robocall");
    report(&app, &bad).await.problem(422);
    bad["category"] = json!("spam");
    bad["site_id"] = json!(w.op.site);
    report(&app, &bad).await.problem(422);

    // Regulators and admins read them with what the registry knows.
    let list = app.get("/api/v1/reports").token(&w.regulator).send().await.expect(200);
    let list = items(&list);
    assert_eq!(list.len(), 2);
    let k = list.iter().find(|r| r["id"] == known.body["id"]).unwrap();
    assert_eq!(k["number"], "+922134567123");
    assert_eq!(k["site"]["id"], w.op.site.as_str());
    assert_eq!(k["site"]["city"], "Karachi");
    assert!(k["site"]["name"].is_string());
    assert_eq!(k["licence_number"], w.licence.as_str());
    assert_eq!(k["status"], "new");
    assert_eq!(k["category"], "fraud");
    assert_eq!(k["site_reports_30d"], 1);
    let u = list.iter().find(|r| r["id"] == unknown.body["id"]).unwrap();
    assert_eq!(
        (&u["site"], &u["licence_number"], &u["site_reports_30d"]),
        (&Value::Null, &Value::Null, &json!(0))
    );
    let admin = app.admin_token().await;
    let kpath = format!("/api/v1/reports/{}", known.body["id"].as_str().unwrap());
    let upath = format!("/api/v1/reports/{}", unknown.body["id"].as_str().unwrap());
    let r = app.get(&kpath).token(&admin).send().await.expect(200);
    assert_eq!(r.header("etag").as_deref(), Some("\"1\""));
    app.get(&kpath).token(&w.op.token).send().await.problem(403);
    app.get(&kpath).token(&w.inspector).send().await.problem(403);
    app.get(&kpath).send().await.problem(401);
    let filtered = app.get("/api/v1/reports?status=new").token(&w.regulator).send().await;
    assert_eq!(items(&filtered.expect(200)).len(), 2);
    let filtered =
        app.get(&format!("/api/v1/reports?site_id={}", w.op.site)).token(&w.regulator).send().await;
    assert_eq!(items(&filtered.expect(200)).len(), 1);

    // Triage: inspecting needs a matched site and an inspector.
    let inspect = json!({"action": "inspect", "reason": "Pattern of bank impersonation"});
    app.post(&format!("{kpath}/triage"))
        .token(&w.regulator)
        .json(&inspect)
        .send()
        .await
        .problem(428);
    let r = act(&app, &w.regulator, &upath, "triage", Some(inspect.clone())).await.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "action");
    assert_eq!(r.body["errors"][1]["field"], "inspector_id", "both at once: {}", r.text);
    let r = act(&app, &w.regulator, &kpath, "triage", Some(inspect.clone())).await.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "inspector_id");
    let mut with_inspector = inspect.clone();
    with_inspector["inspector_id"] = json!(w.inspector_id);
    act(&app, &admin, &kpath, "triage", Some(with_inspector.clone())).await.problem(403);
    let r =
        act(&app, &w.regulator, &kpath, "triage", Some(with_inspector.clone())).await.expect(200);
    assert_eq!(r.body["status"], "triaged");
    assert_eq!(r.body["version"], 2);
    let visit = app
        .get(&format!("/api/v1/inspections/{}", r.body["inspection_id"].as_str().unwrap()))
        .token(&w.regulator)
        .send()
        .await
        .expect(200);
    assert_eq!(visit.body["kind"], "complaint");
    assert_eq!(visit.body["site_id"], w.op.site.as_str());
    assert_eq!(visit.body["inspector_id"], w.inspector_id.as_str());
    act(&app, &w.regulator, &kpath, "triage", Some(with_inspector)).await.problem(409);
    let dismiss = json!({"action": "dismiss", "reason": "Not a registered number"});
    let r = act(&app, &w.regulator, &upath, "triage", Some(dismiss)).await.expect(200);
    assert_eq!(r.body["status"], "dismissed");
    assert_eq!(r.body["triage_reason"], "Not a registered number");

    // The statistics count them: the city its site's, the nation every report.
    let s = app.get("/api/v1/public/stats").send().await.expect(200).body;
    assert_eq!(city(&s, "karachi")["reports_30d"], 1);
    assert_eq!(s["national"]["reports_30d"], 2);
}

#[actix_web::test]
async fn five_reports_on_a_site_within_30_days_queue_its_licence_once() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    with_numbers(&app, &w).await;
    for _ in 0..3 {
        report(&app, &call("+922134567001")).await.expect(202);
    }
    // Those three age out of the window.
    app.clock.advance(Duration::days(31));
    let regulator = app.login(REGULATOR, PASSWORD).await;
    let mut recent = call("+922134567002");
    recent["called_at"] = json!(app.clock_now());
    for _ in 0..4 {
        report(&app, &recent).await.expect(202);
    }
    assert!(queued_for_reports(&app, &regulator).await.is_empty());
    report(&app, &recent).await.expect(202);
    let raised = queued_for_reports(&app, &regulator).await;
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0]["licence_number"], w.licence.as_str());
    assert_eq!(raised[0]["site_id"], w.op.site.as_str());
    assert_eq!(raised[0]["inspection_id"], Value::Null);
    assert!(raised[0]["raised_because"].as_str().unwrap().contains("5 public reports"));
    report(&app, &recent).await.expect(202);
    assert_eq!(queued_for_reports(&app, &regulator).await.len(), 1);
}

#[actix_web::test]
async fn concurrent_reports_raise_one_item() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    with_numbers(&app, &w).await;
    let body = call("+922134567500");
    let sends = (0..10).map(|_| report(&app, &body));
    for r in futures_util::future::join_all(sends).await {
        r.expect(202);
    }
    assert_eq!(queued_for_reports(&app, &w.regulator).await.len(), 1);
    let list = app.get("/api/v1/reports").token(&w.regulator).send().await.expect(200);
    assert!(items(&list).iter().all(|r| r["site_reports_30d"] == 10));
    let audit = app.get("/api/v1/audit/verify").token(&w.regulator).send().await.expect(200);
    assert_eq!(audit.body["ok"], true);
}

#[actix_web::test]
async fn reports_and_statistics_share_the_public_rate_limit() {
    // Four a minute per address, for the public routes together: one comes back every 15 s, far
    // longer than these requests take even on a loaded machine (the limiter's clock is real).
    let app = TestApp::spawn_with(|s| s.public_rate_per_minute = 4).await;
    report(&app, &call("+922134567001")).await.expect(202);
    for _ in 0..3 {
        app.get("/api/v1/public/stats").send().await.expect(200);
    }
    let r = report(&app, &call("+922134567001")).await.problem(429);
    assert!(r.header("retry-after").is_some());
    app.get("/api/v1/public/stats").send().await.problem(429);
    app.get("/api/v1/public/licences/CCL-2026-000099-13").send().await.problem(429);
}

#[actix_web::test]
async fn the_database_refuses_values_outside_the_new_enums() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    with_numbers(&app, &w).await;
    inspect(&app, &w, &w.op.site, "routine", visit("critical", findings())).await;
    report(&app, &call("+922134567001")).await.expect(202);
    for (table, column) in [
        ("violations", "severity"),
        ("violations", "status"),
        ("reports", "category"),
        ("reports", "status"),
        ("enforcement_items", "cause"),
    ] {
        let sql = format!("UPDATE {table} SET {column} = 'bogus'");
        let refused = app.db.try_execute(&sql);
        assert!(
            refused.as_ref().is_err_and(|e| e.contains(&format!("{table}_{column}_check"))),
            "{sql} was not refused by its check: {refused:?}"
        );
    }
    // An item raised by an inspection names it; `overdue` is derived, never stored.
    let refused = app.db.try_execute("UPDATE enforcement_items SET inspection_id = NULL");
    assert!(refused.is_err_and(|e| e.contains("enforcement_items_inspection_check")));
    assert!(app.db.try_execute("UPDATE violations SET status = 'overdue'").is_err());
}
