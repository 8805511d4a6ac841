//! A stale version is 412 (API.md §1), generated from the served spec: every operation that
//! takes `If-Match` is sent the previous version of a record its caller may change and must
//! answer 412, changing nothing; and when another writer wins between the read and the write
//! (a trigger makes the conditional `UPDATE` change no row), the answer is the same 412. An
//! operation the generator cannot set up fails the test, so a new route cannot slip past it.

use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};
use crate::isolation::{body_for, tenant_a};
use crate::licensing::{clearing_agency, in_status};
use ccreg::db::DatabaseUrl;

/// Every operation of the served spec with an `If-Match` header: (method, path, operationId).
fn versioned_operations(spec: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let takes_if_match = op["parameters"].as_array().is_some_and(|ps| {
                ps.iter().any(|p| p["in"] == "header" && p["name"].as_str() == Some("If-Match"))
            });
            if takes_if_match {
                let id = op["operationId"].as_str().unwrap_or_default().to_string();
                out.push((method.to_uppercase(), path.clone(), id));
            }
        }
    }
    out
}

/// `/api/v1/<kind>/{param}…`: the kind of record, the record's own path and its table.
fn target(path: &str) -> (&str, String, &'static str) {
    let segments: Vec<&str> = path.split('/').collect();
    let kind = segments.get(3).copied().unwrap_or_default();
    let table = match kind {
        "applications" => "applications",
        "clearances" => "clearances",
        "enforcement-queue" => "enforcement_items",
        "inspections" => "inspections",
        "invoices" => "invoices",
        "licences" => "licences",
        "organisations" => "organisations",
        "reports" => "reports",
        "sites" => "sites",
        "users" => "users",
        "violations" => "violations",
        "webhooks" => "webhook_endpoints",
        other => panic!("the generator cannot set up a {other} for {path}: teach it"),
    };
    (kind, segments[..5.min(segments.len())].join("/"), table)
}

fn fill(path: &str, id: &str) -> String {
    let start = path.find('{').unwrap_or_else(|| panic!("{path} names no record"));
    let end = path[start..].find('}').unwrap() + start;
    format!("{}{id}{}", &path[..start], &path[end + 1..])
}

/// The record's current version, read by whichever caller may see it.
async fn current_version(app: &TestApp, kind: &str, record: &str, tokens: &[&str]) -> i64 {
    for token in tokens {
        if kind == "enforcement-queue" {
            let id = record.rsplit('/').next().unwrap();
            let r = app.get("/api/v1/enforcement-queue?status=all").token(token).send().await;
            let items = r.body["items"].as_array().cloned().unwrap_or_default();
            if let Some(item) = items.iter().find(|i| i["id"] == id) {
                return item["version"].as_i64().unwrap();
            }
            continue;
        }
        let r = app.get(record).token(token).send().await;
        if let Some(tag) = r.header("etag").filter(|_| r.status.as_u16() == 200) {
            return tag.trim_matches('"').parse().unwrap();
        }
    }
    panic!("no caller can read {record}: the generator cannot set it up")
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    operation: &str,
    token: &str,
    version: i64,
) -> Resp {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req =
        app.req(method.clone(), path).token(token).header("if-match", &format!("\"{version}\""));
    if method != reqwest::Method::DELETE {
        let body = body_for(operation, &app.clock_now())
            .unwrap_or_else(|| panic!("the generator has no body for {operation}: teach it"));
        req = req.json(&body);
    }
    req.send().await
}

/// Makes every `UPDATE` of `table` change no row, as if another writer had moved the version
/// on between the read and the write; returns the statement that undoes it.
fn lose_every_race(app: &TestApp, table: &str) -> String {
    match &app.db.url {
        DatabaseUrl::Sqlite { .. } => {
            app.db.execute(&format!(
                "CREATE TRIGGER lose_race BEFORE UPDATE ON {table} \
                 BEGIN SELECT RAISE(IGNORE); END"
            ));
            "DROP TRIGGER lose_race".to_string()
        }
        DatabaseUrl::Postgres { .. } => {
            app.db.execute(
                "CREATE OR REPLACE FUNCTION lose_race() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
            );
            app.db.execute(&format!(
                "CREATE TRIGGER lose_race BEFORE UPDATE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION lose_race()"
            ));
            format!("DROP TRIGGER lose_race ON {table}")
        }
    }
}

#[actix_web::test]
async fn a_stale_version_is_412_on_every_versioned_operation() {
    let app = TestApp::spawn_with(|s| s.webhook_allow_private = true).await;
    let (_, regulator) = app.staff("regulator", "versions-reg@pta.gov.pk").await;
    let (op, mut a) = tenant_a(&app, &regulator).await;
    let agency = clearing_agency(&app, "nccia").await;
    let webhook = app
        .post("/api/v1/webhooks")
        .token(&agency)
        .json(&json!({"url": "http://127.0.0.1:9/versions-hook", "events": ["*"]}))
        .send()
        .await
        .expect(201);
    a.ids.insert("webhooks", webhook.body["id"].as_str().unwrap().to_string());
    let admin = app.admin_token().await;
    let (pta, security) =
        (clearing_agency(&app, "pta").await, clearing_agency(&app, "security").await);
    let callers = [
        ("operator", op.token.as_str()),
        ("regulator", regulator.as_str()),
        ("admin", admin.as_str()),
        ("inspector", a.inspector.as_str()),
        ("agency nccia", agency.as_str()),
        ("agency pta", pta.as_str()),
        ("agency security", security.as_str()),
    ];
    let tokens: Vec<&str> = callers.iter().map(|(_, t)| *t).collect();

    let spec = app.get("/api/v1/openapi.json").send().await.expect(200).body;
    let operations = versioned_operations(&spec);
    assert!(operations.len() >= 22, "only {} operations take If-Match", operations.len());
    // Who may change each operation's record: the caller that reached the version check.
    let mut changer = Vec::new();
    for (method, path, operation) in &operations {
        let (kind, record, _) = target(path);
        let id = a.ids.get(kind).unwrap_or_else(|| panic!("no {kind} to set up for {path}"));
        let (url, record) = (fill(path, id), fill(&record, id));
        let before = current_version(&app, kind, &record, &tokens).await;
        let mut who = None;
        for (name, token) in callers {
            let r = send(&app, method, &url, operation, token, before - 1).await;
            match r.status.as_u16() {
                412 => {
                    assert_eq!(
                        r.body["type"].as_str().map(|t| t.ends_with("precondition-failed")),
                        Some(true),
                        "{}",
                        r.text
                    );
                    who = who.or(Some(name));
                }
                403 | 404 => {}
                other => {
                    panic!("{name}: {method} {path} with a stale If-Match is {other}: {}", r.text)
                }
            }
        }
        let who =
            who.unwrap_or_else(|| panic!("no caller may change the record of {method} {path}"));
        let after = current_version(&app, kind, &record, &tokens).await;
        assert_eq!(before, after, "{method} {path} with a stale If-Match changed the record");
        changer.push(who);
    }

    // Another writer wins between the read and the write. Records each transition may still
    // leave: a submitted application (its invoice open, its clearances pending) and a scheduled
    // inspection.
    let application = in_status(&app, &op, &regulator, "submitted").await;
    let read =
        app.get(&format!("/api/v1/applications/{application}")).token(&regulator).send().await;
    a.ids.insert("invoices", read.body["invoice_id"].as_str().unwrap().to_string());
    let clearances = app
        .get(&format!("/api/v1/clearances?application_id={application}"))
        .token(&agency)
        .send()
        .await
        .expect(200);
    a.ids.insert("clearances", clearances.body["items"][0]["id"].as_str().unwrap().to_string());
    a.ids.insert("applications", application);
    let me = app.get("/api/v1/me").token(&a.inspector).send().await.expect(200);
    let scheduled = app
        .post("/api/v1/inspections")
        .token(&regulator)
        .json(&json!({"site_id": op.site, "inspector_id": me.body["id"],
                      "scheduled_for": app.clock_now(), "kind": "routine"}))
        .send()
        .await
        .expect(201);
    a.ids.insert("inspections", scheduled.body["id"].as_str().unwrap().to_string());

    let mut lost = std::collections::BTreeSet::new();
    for ((method, path, operation), who) in operations.iter().zip(&changer) {
        if method == "DELETE" {
            continue; // a delete writes no version
        }
        let (kind, record, table) = target(path);
        let id = &a.ids[kind];
        let (url, record) = (fill(path, id), fill(&record, id));
        let token = callers.iter().find(|(n, _)| n == who).unwrap().1;
        let current = current_version(&app, kind, &record, &tokens).await;
        let undo = lose_every_race(&app, table);
        let r = send(&app, method, &url, operation, token, current).await;
        app.db.execute(&undo);
        match r.status.as_u16() {
            412 => {
                lost.insert(kind);
            }
            // Not allowed from the record's state: refused before any write.
            409 => {}
            other => panic!("{who}: {method} {path} losing the race is {other}: {}", r.text),
        }
        let after = current_version(&app, kind, &record, &tokens).await;
        assert_eq!(current, after, "{method} {path} lost the race but its change was kept");
    }
    let kinds: std::collections::BTreeSet<&str> =
        operations.iter().filter(|(m, _, _)| m != "DELETE").map(|(_, p, _)| target(p).0).collect();
    assert_eq!(lost, kinds, "kinds whose lost race was not answered 412");
}
