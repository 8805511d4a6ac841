//! The public register export (API.md §13): `register.csv` and `register.json`, streamed from
//! one snapshot with `Last-Event-Seq`, so a mirror that loads it and follows the change feed
//! from that seq ends equal to the live register.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};
use crate::licensing::act;
use crate::pages::licensed;

fn seq(r: &Resp) -> i64 {
    r.header("last-event-seq").expect("Last-Event-Seq").parse().unwrap()
}

/// The feed's last seq, read through the API.
async fn feed_head(app: &TestApp, token: &str) -> i64 {
    let r = app.get("/api/v1/events?after=0&limit=500").token(token).send().await.expect(200);
    r.body["next_after"].as_i64().unwrap()
}

/// What a mirror keeps of each licence, keyed by licence number.
type Mirror = BTreeMap<String, (String, String)>;

fn mirror_of(rows: &Value) -> Mirror {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = r["licence_number"].as_str().unwrap().to_string();
            let expires = chrono::DateTime::parse_from_rfc3339(r["expires_at"].as_str().unwrap())
                .unwrap()
                .to_rfc3339();
            (n, (r["status"].as_str().unwrap().to_string(), expires))
        })
        .collect()
}

#[actix_web::test]
async fn the_export_is_the_register_as_of_its_feed_position() {
    let app = TestApp::spawn().await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (_, a) = licensed(&app, 1, "Indus Voice Services (Private) Limited", &regulator).await;
    let (_, b) = licensed(&app, 2, "Smith, \"Jones\" & Co", &regulator).await;
    act(
        &app,
        &regulator,
        &format!("/api/v1/licences/{b}"),
        "suspend",
        Some(json!({"reason": "Complaints"})),
    )
    .await
    .expect(200);

    let json_export = app.get("/api/v1/public/register.json").send().await.expect(200);
    assert!(json_export.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(json_export.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(seq(&json_export), feed_head(&app, &regulator).await);
    let rows = json_export.body.as_array().unwrap();
    let mut numbers = vec![a.clone(), b.clone()];
    numbers.sort();
    let got: Vec<&str> = rows.iter().map(|r| r["licence_number"].as_str().unwrap()).collect();
    assert_eq!(got, numbers, "one row per licence, by licence number");
    let row_b = rows.iter().find(|r| r["licence_number"] == b.as_str()).unwrap();
    assert_eq!(row_b["status"], "suspended");
    assert_eq!(row_b["holder"], "Smith, \"Jones\" & Co");
    assert_eq!(row_b["registration_number"], "0000002");
    assert_eq!(row_b["cities"], json!(["Karachi"]));
    for field in ["valid_from", "expires_at"] {
        assert!(chrono::DateTime::parse_from_rfc3339(row_b[field].as_str().unwrap()).is_ok());
    }
    let row_a = rows.iter().find(|r| r["licence_number"] == a.as_str()).unwrap();
    assert_eq!(row_a["status"], "active");

    // The CSV form says the same, read by a third-party CSV parser.
    let csv_export = app.get("/api/v1/public/register.csv").send().await.expect(200);
    assert!(csv_export.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(seq(&csv_export), seq(&json_export));
    let mut reader = csv::Reader::from_reader(csv_export.text.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        headers,
        [
            "licence_number",
            "holder",
            "registration_number",
            "status",
            "valid_from",
            "expires_at",
            "cities"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), rows.len());
    for (record, row) in records.iter().zip(rows) {
        for (i, field) in headers.iter().enumerate() {
            let want = match field.as_str() {
                "cities" => row["cities"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(";"),
                "valid_from" | "expires_at" => {
                    let t = chrono::DateTime::parse_from_rfc3339(&record[i]).unwrap();
                    assert_eq!(
                        t,
                        chrono::DateTime::parse_from_rfc3339(row[field].as_str().unwrap()).unwrap()
                    );
                    continue;
                }
                _ => row[field].as_str().unwrap().to_string(),
            };
            assert_eq!(record[i], want, "{field}");
        }
    }
}

#[actix_web::test]
async fn a_mirror_loads_the_snapshot_follows_the_feed_and_ends_equal() {
    let app = TestApp::spawn().await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (_, a) = licensed(&app, 1, "Alpha Contact (Pvt) Ltd", &regulator).await;
    let (_, b) = licensed(&app, 2, "Beta Calls (Pvt) Ltd", &regulator).await;

    let snapshot = app.get("/api/v1/public/register.json").send().await.expect(200);
    let after = seq(&snapshot);
    let mut mirror = mirror_of(&snapshot.body);

    // Changes after the snapshot: a suspension and reinstatement, a revocation, a new licence.
    let path_a = format!("/api/v1/licences/{a}");
    act(&app, &regulator, &path_a, "suspend", Some(json!({"reason": "Complaints"})))
        .await
        .expect(200);
    act(&app, &regulator, &path_a, "reinstate", Some(json!({"reason": "Cleared"})))
        .await
        .expect(200);
    act(
        &app,
        &regulator,
        &format!("/api/v1/licences/{b}"),
        "revoke",
        Some(json!({"reason": "Fraud"})),
    )
    .await
    .expect(200);
    let (_, c) = licensed(&app, 3, "Gamma BPO (Pvt) Ltd", &regulator).await;

    let mut cursor = after;
    loop {
        let page = app
            .get(&format!("/api/v1/events?after={cursor}&limit=2"))
            .token(&regulator)
            .send()
            .await
            .expect(200);
        let items = page.body["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        for e in items {
            assert!(e["seq"].as_i64().unwrap() > after, "nothing the snapshot already holds");
            let expires = chrono::DateTime::parse_from_rfc3339(e["expires_at"].as_str().unwrap())
                .unwrap()
                .to_rfc3339();
            mirror.insert(
                e["licence_number"].as_str().unwrap().to_string(),
                (e["status"].as_str().unwrap().to_string(), expires),
            );
        }
        cursor = page.body["next_after"].as_i64().unwrap();
    }

    let live = app.get("/api/v1/public/register.json").send().await.expect(200);
    assert_eq!(seq(&live), cursor);
    assert_eq!(mirror, mirror_of(&live.body));
    assert_eq!(mirror[&b].0, "revoked");
    assert_eq!(mirror[&c].0, "active");
    assert_eq!(mirror[&a].0, "active");
}

/// A change committed while an export is part-way through is not in it: the export reads one
/// snapshot, and the change is in the feed after the snapshot's seq.
#[actix_web::test]
async fn an_export_reads_one_snapshot_while_writers_go_on() {
    let app = TestApp::spawn().await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let mut numbers = Vec::new();
    for (n, name) in [(1, "One (Pvt) Ltd"), (2, "Two (Pvt) Ltd"), (3, "Three (Pvt) Ltd")] {
        numbers.push(licensed(&app, n, name, &regulator).await.1);
    }
    numbers.sort();
    let last = numbers.last().unwrap().clone();

    let db = ccreg::db::Db::connect(&app.db.url, 2).unwrap();
    let now =
        chrono::NaiveDateTime::parse_from_str("2026-11-22 10:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    let (paused_tx, paused_rx) = std::sync::mpsc::channel::<i64>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        let mut conn = db.get().unwrap();
        ccreg::register::store::in_snapshot(&mut conn, |conn| {
            let head = ccreg::register::store::feed_head(conn)?;
            let mut rows = ccreg::register::store::page(conn, None, 1, now)?;
            paused_tx.send(head).unwrap();
            go_rx.recv().unwrap();
            let after = rows[0].licence_number.clone();
            rows.extend(ccreg::register::store::page(conn, Some(&after), 10, now)?);
            Ok((head, rows))
        })
        .unwrap()
    });
    let head =
        actix_web::rt::task::spawn_blocking(move || paused_rx.recv().unwrap()).await.unwrap();
    act(
        &app,
        &regulator,
        &format!("/api/v1/licences/{last}"),
        "suspend",
        Some(json!({"reason": "Raid"})),
    )
    .await
    .expect(200);
    go_tx.send(()).unwrap();
    let (seen_head, rows) =
        actix_web::rt::task::spawn_blocking(move || reader.join().unwrap()).await.unwrap();
    assert_eq!(seen_head, head);
    let statuses: Vec<(String, String)> =
        rows.iter().map(|r| (r.licence_number.clone(), r.status.as_str().to_string())).collect();
    assert_eq!(statuses.len(), 3);
    assert!(
        statuses.iter().all(|(_, s)| s == "active"),
        "the snapshot predates the suspension: {statuses:?}"
    );
    let feed =
        app.get(&format!("/api/v1/events?after={head}")).token(&regulator).send().await.expect(200);
    let items = feed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["type"], "suspended");
    assert_eq!(items[0]["licence_number"], last.as_str());
    // And a new export sees it.
    let live = app.get("/api/v1/public/register.json").send().await.expect(200);
    assert_eq!(seq(&live), head + 1);
}

#[actix_web::test]
async fn the_export_is_public_and_empty_registers_export_cleanly() {
    let app = TestApp::spawn().await;
    let json_export = app.get("/api/v1/public/register.json").send().await.expect(200);
    assert_eq!(json_export.body, json!([]));
    assert_eq!(seq(&json_export), 0);
    assert_eq!(json_export.header("access-control-allow-origin").as_deref(), Some("*"));
    let csv_export = app.get("/api/v1/public/register.csv").send().await.expect(200);
    assert_eq!(
        csv_export.text,
        "licence_number,holder,registration_number,status,valid_from,expires_at,cities\r\n"
    );
    app.post("/api/v1/public/register.json").send().await.problem(405);
}
