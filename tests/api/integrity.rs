//! Integrity: stored states fail closed, the lock-out holds under parallel guesses and across
//! processes, no secret rests in the database, and one rule says whether a licence is in force.

use std::process::{Child, Command, Stdio};

use chrono::Duration;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};
use crate::licensing::{act, in_status, operator};

/// An issued licence: (operator, regulator token, licence number).
async fn licensed(app: &TestApp) -> (crate::licensing::Operator, String, String) {
    let op = operator(app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = in_status(app, &op, &regulator, "approved").await;
    let r = app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await;
    let number = r.body["licence_number"].as_str().unwrap().to_string();
    (op, regulator, number)
}

#[actix_web::test]
async fn the_database_refuses_values_outside_each_enum() {
    let app = TestApp::spawn().await;
    let (_op, _regulator, _number) = licensed(&app).await;
    for (table, column) in [
        ("users", "role"),
        ("people", "id_type"),
        ("sites", "status"),
        ("applications", "status"),
        ("applications", "category"),
        ("licences", "status"),
        ("licences", "category"),
        ("licence_events", "event_type"),
        ("licence_events", "status"),
    ] {
        let sql = format!("UPDATE {table} SET {column} = 'bogus'");
        let refused = app.db.try_execute(&sql);
        assert!(
            refused.as_ref().is_err_and(|e| e.contains(&format!("{table}_{column}_check"))),
            "{sql} was not refused by its check: {refused:?}"
        );
    }
    // An expired status is derived, never stored.
    assert!(app.db.try_execute("UPDATE licences SET status = 'expired'").is_err());
}

#[actix_web::test]
async fn an_unknown_stored_status_is_an_error_never_a_default() {
    let app = TestApp::spawn().await;
    let (_op, regulator, number) = licensed(&app).await;
    let path = format!("/api/v1/licences/{number}");
    app.get(&path).token(&regulator).send().await.expect(200);

    // Corrupt the row past the database's own check, as a bad restore or hand edit might.
    match app.db.url {
        ccreg::db::DatabaseUrl::Sqlite { .. } => {
            app.db.execute("DROP TRIGGER licences_status_check_update")
        }
        ccreg::db::DatabaseUrl::Postgres { .. } => {
            app.db.execute("ALTER TABLE licences DROP CONSTRAINT licences_status_check")
        }
    };
    app.db.execute(&format!(
        "UPDATE licences SET status = 'bogus' WHERE licence_number = '{number}'"
    ));

    // A read does not turn it into a status: it is an error.
    let r = app.get(&path).token(&regulator).send().await.problem(500);
    assert!(!r.text.contains("bogus") && !r.text.contains("licences.status"), "{}", r.text);

    // The verification index is never loaded from it: a fresh start refuses to load.
    let db = ccreg::db::Db::connect(&app.db.url, 1).unwrap();
    let loaded = ccreg::index::load::all(&mut db.get().unwrap());
    assert!(loaded.is_err(), "the index loaded a licence whose status is 'bogus'");

    // A running process learns of the row through an audit entry (as another process's change
    // would reach it); it cannot apply it, so verification fails closed (503) instead of
    // answering from a registry it knows is behind.
    app.db.execute(&format!(
        "INSERT INTO audit_log (seq, at, actor_id, action, entity_type, entity_id, summary, \
         prev_hash, hash) SELECT seq + 1, '2026-11-22 10:00:00', NULL, 'licence.suspended', \
         'licence', '{number}', 'hand edit', hash, hash FROM audit_head WHERE id = 1"
    ));
    app.db.execute("UPDATE audit_head SET seq = seq + 1 WHERE id = 1");
    let verify = format!("/api/v1/verify/licences/{number}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = app.get(&verify).token(&regulator).send().await;
        if r.status == 503 {
            assert!(!r.text.contains("bogus"), "{}", r.text);
            break;
        }
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(std::time::Instant::now() < deadline, "verification still answers from the index");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.get(&format!("/api/v1/public/licences/{number}")).send().await.problem(503);
}

/// Puts an `x` before a stored JSON value (so it is no longer JSON), as a bad restore or a
/// hand edit might; [`mend`] takes it off again.
pub fn corrupt(app: &TestApp, table: &str, column: &str, key: &str, id: &str) {
    let sql = format!("UPDATE {table} SET {column} = 'x' || {column} WHERE {key} = '{id}'");
    assert_eq!(app.db.execute(&sql), 1, "{sql}");
}

fn mend(app: &TestApp, table: &str, column: &str, key: &str, id: &str) {
    let sql = format!("UPDATE {table} SET {column} = substr({column}, 2) WHERE {key} = '{id}'");
    assert_eq!(app.db.execute(&sql), 1, "{sql}");
}

/// The objects of a licensed operator that hold stored JSON: a site, its organisation and
/// person, an application with its invoice, a licence and a recorded inspection.
struct Holders {
    op: crate::licensing::Operator,
    regulator: String,
    licence: String,
    application: String,
    invoice: String,
    inspection: String,
}

async fn holders(app: &TestApp) -> Holders {
    let (op, regulator, licence) = licensed(app).await;
    let apps = app.get("/api/v1/applications").token(&op.token).send().await.expect(200);
    let application = apps.body["items"][0]["id"].as_str().unwrap().to_string();
    let invoice = apps.body["items"][0]["invoice_id"].as_str().unwrap().to_string();
    let (inspector_id, _) = app.staff("inspector", "insp@pta.gov.pk").await;
    let inspector = app.login("insp@pta.gov.pk", PASSWORD).await;
    let r = app
        .post("/api/v1/inspections")
        .token(&regulator)
        .json(&json!({"site_id": op.site, "inspector_id": inspector_id,
                      "scheduled_for": "2026-12-01T09:00:00Z", "kind": "routine"}))
        .send()
        .await
        .expect(201);
    let inspection = r.body["id"].as_str().unwrap().to_string();
    let visit = json!({"visited_at": "2026-12-01T10:00:00Z", "seats_observed": 100,
        "staff_present": 90, "foreign_nationals_present": 0, "outcome": "minor_issues",
        "findings": [{"code": "SIGNAGE", "severity": "minor", "description": "No notice"}],
        "evidence": [{"sha256": "ab".repeat(32), "description": "Photo"}]});
    let path = format!("/api/v1/inspections/{inspection}");
    act(app, &inspector, &path, "record", Some(visit)).await.expect(200);
    Holders { op, regulator, licence, application, invoice, inspection }
}

#[actix_web::test]
async fn a_stored_json_value_that_cannot_be_read_fails_its_object_only() {
    let app = TestApp::spawn().await;
    let h = holders(&app).await;
    let other = operator(&app, 2).await;
    let (op, regulator) = (&h.op, h.regulator.as_str());
    let people = format!("/api/v1/organisations/{}/people", op.org);
    let cases: Vec<(&str, &str, &str, &str, String)> = vec![
        ("sites", "address", "id", &op.site, format!("/api/v1/sites/{}", op.site)),
        ("sites", "services", "id", &op.site, format!("/api/v1/sites/{}", op.site)),
        ("sites", "markets", "id", &op.site, format!("/api/v1/sites/{}", op.site)),
        (
            "organisations",
            "registered_address",
            "id",
            &op.org,
            format!("/api/v1/organisations/{}", op.org),
        ),
        ("people", "roles", "organisation_id", &op.org, people),
        (
            "applications",
            "site_ids",
            "id",
            &h.application,
            format!("/api/v1/applications/{}", h.application),
        ),
        (
            "applications",
            "history",
            "id",
            &h.application,
            format!("/api/v1/applications/{}", h.application),
        ),
        (
            "licences",
            "site_ids",
            "licence_number",
            &h.licence,
            format!("/api/v1/licences/{}", h.licence),
        ),
        (
            "licences",
            "conditions",
            "licence_number",
            &h.licence,
            format!("/api/v1/licences/{}", h.licence),
        ),
        (
            "licences",
            "history",
            "licence_number",
            &h.licence,
            format!("/api/v1/licences/{}", h.licence),
        ),
        (
            "inspections",
            "findings",
            "id",
            &h.inspection,
            format!("/api/v1/inspections/{}", h.inspection),
        ),
        (
            "inspections",
            "evidence",
            "id",
            &h.inspection,
            format!("/api/v1/inspections/{}", h.inspection),
        ),
        ("invoices", "lines", "id", &h.invoice, format!("/api/v1/invoices/{}", h.invoice)),
    ];
    for (table, column, key, id, path) in cases {
        app.get(&path).token(regulator).send().await.expect(200);
        corrupt(&app, table, column, key, id);

        // Never read as empty: the object answers a clean 500 that names nothing inside.
        let r = app.get(&path).token(regulator).send().await.problem(500);
        assert_eq!(r.body["type"], "urn:ccreg:problem:internal", "{table}.{column}: {}", r.text);
        assert_eq!(r.body["detail"], "an internal error occurred; it has been logged");
        for word in [table, column, "JSON", "deserializ", "line 1"] {
            assert!(!r.text.contains(word), "{table}.{column}: {word} in {}", r.text);
        }
        // A list that holds it fails as a whole, rather than show it empty.
        let list = match table {
            "sites" | "organisations" | "applications" | "licences" | "invoices" => {
                Some(format!("/api/v1/{table}"))
            }
            _ => None,
        };
        if let Some(list) = list {
            app.get(&list).token(&op.token).send().await.problem(500);
        }
        // Everything else answers: other objects, lists without it, the service itself.
        for other_path in [
            format!("/api/v1/sites/{}", other.site),
            format!("/api/v1/organisations/{}", other.org),
            format!("/api/v1/organisations/{}/people", other.org),
        ] {
            app.get(&other_path).token(regulator).send().await.expect(200);
        }
        for list in
            ["/api/v1/organisations", "/api/v1/sites", "/api/v1/applications", "/api/v1/licences"]
        {
            app.get(list).token(&other.token).send().await.expect(200);
        }
        app.get(&format!("/api/v1/sites?organisation_id={}", other.org))
            .token(regulator)
            .send()
            .await
            .expect(200);
        app.get("/readyz").send().await.expect(200);

        mend(&app, table, column, key, id);
        app.get(&path).token(regulator).send().await.expect(200);
    }
}

#[actix_web::test]
async fn enforcement_ignores_a_licence_that_has_expired() {
    let app = TestApp::spawn().await;
    let (op, _, number) = licensed(&app).await;
    let (inspector_id, _) = app.staff("inspector", "insp@pta.gov.pk").await;
    app.clock.advance(Duration::days(400));
    let regulator = app.login("reg@pta.gov.pk", PASSWORD).await;
    let inspector = app.login("insp@pta.gov.pk", PASSWORD).await;
    let r = app.get(&format!("/api/v1/licences/{number}")).token(&regulator).send().await;
    assert_eq!(r.body["status"], "expired");
    let scheduled = app
        .post("/api/v1/inspections")
        .token(&regulator)
        .json(&json!({"site_id": op.site, "inspector_id": inspector_id,
                      "scheduled_for": "2028-01-10T09:00:00Z", "kind": "complaint"}))
        .send()
        .await
        .expect(201);
    let path = format!("/api/v1/inspections/{}", scheduled.body["id"].as_str().unwrap());
    let visit = json!({"visited_at": "2028-01-10T10:00:00Z", "seats_observed": 100,
        "staff_present": 90, "foreign_nationals_present": 0, "findings": [], "outcome": "critical"});
    act(&app, &inspector, &path, "record", Some(visit)).await.expect(200);
    let queue = app.get("/api/v1/enforcement-queue").token(&regulator).send().await.expect(200);
    assert_eq!(queue.body["items"], json!([]), "an expired licence was queued");
}

/// Sends `n` wrong guesses at once; returns the statuses answered.
async fn guesses(bases: &[String], email: &str, n: usize) -> Vec<u16> {
    let client = reqwest::Client::new();
    let requests = (0..n).map(|i| {
        let (client, url) = (client.clone(), format!("{}/api/v1/auth/token", bases[i % bases.len()]));
        let body = json!({"grant_type": "password", "username": email, "password": format!("wrong guess {i:04}")});
        async move { client.post(url).json(&body).send().await.unwrap().status().as_u16() }
    });
    futures_util::future::join_all(requests).await
}

#[track_caller]
fn at_most_five_checked(statuses: &[u16]) {
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!((1..=5).contains(&checked), "{checked} passwords were checked: {statuses:?}");
    assert_eq!(checked + refused, statuses.len(), "only 401 or 429 may answer: {statuses:?}");
}

#[actix_web::test]
async fn thirty_parallel_guesses_check_at_most_five_passwords() {
    let app = TestApp::spawn().await;
    app.signup("target@example.pk").await;
    at_most_five_checked(&guesses(std::slice::from_ref(&app.base), "target@example.pk", 30).await);
    // Locked now, even for the right password, until the back-off passes; then one check.
    app.password_grant("target@example.pk", PASSWORD).await.problem(429);
    app.clock.advance(Duration::seconds(31));
    app.password_grant("target@example.pk", PASSWORD).await.expect(200);
    // Unknown accounts are locked out the same way.
    at_most_five_checked(&guesses(std::slice::from_ref(&app.base), "nobody@example.pk", 30).await);
}

/// A `ccreg serve` process of its own on the test database, killed when dropped.
pub struct Process {
    child: Child,
    pub base: String,
    _keys: Option<tempfile::TempDir>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn serve(database_url: &str) -> Process {
    let keys = tempfile::tempdir().unwrap();
    let mut process = serve_with_keys(database_url, keys.path()).await;
    process._keys = Some(keys);
    process
}

/// As [`serve`], signing with the keys in `key_dir` (processes sharing it accept each
/// other's tokens).
pub async fn serve_with_keys(database_url: &str, key_dir: &std::path::Path) -> Process {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_ccreg"))
        .arg("serve")
        .env_remove("CCREG_BOOTSTRAP_ADMIN_EMAIL")
        .env_remove("CCREG_BOOTSTRAP_ADMIN_PASSWORD")
        .env("CCREG_DATABASE_URL", database_url)
        .env("CCREG_BIND", format!("127.0.0.1:{port}"))
        .env("CCREG_KEY_DIR", key_dir)
        .env("CCREG_WORKERS", "2")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let process = Process { child, base: format!("http://127.0.0.1:{port}"), _keys: None };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{}/readyz", process.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return process;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("ccreg serve did not become ready");
}

#[actix_web::test]
async fn two_processes_share_one_lock_out() {
    let app = TestApp::spawn().await;
    let url = app.db.url_string();
    let (a, b) = (serve(&url).await, serve(&url).await);
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/signup", a.base))
        .json(&json!({"email": "shared@example.pk", "password": PASSWORD, "full_name": "Shared"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let statuses = guesses(&[a.base.clone(), b.base.clone()], "shared@example.pk", 30).await;
    at_most_five_checked(&statuses);
}

#[actix_web::test]
async fn no_secret_rests_in_any_table() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // An agency client, created with an Idempotency-Key and then replayed.
    let body = json!({"name": "HBL fraud desk", "agency": "Habib Bank"});
    let created = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .header("idempotency-key", "client-1")
        .json(&body)
        .send()
        .await
        .expect(201);
    let client_secret = created.body["client_secret"].as_str().unwrap().to_string();
    let replay = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .header("idempotency-key", "client-1")
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(replay.header("idempotency-replayed").as_deref(), Some("true"));
    assert_eq!(replay.body["id"], created.body["id"]);
    assert!(replay.body.get("client_secret").is_none(), "a replay showed the secret again");
    let agency = app
        .post("/api/v1/auth/token")
        .json(&json!({"grant_type": "client_credentials", "client_id": created.body["client_id"],
                      "client_secret": client_secret}))
        .send()
        .await
        .expect(200);
    let agency_token = agency.body["access_token"].as_str().unwrap().to_string();

    // A user signed up with an Idempotency-Key, a staff user, and their tokens.
    let signup_password = "operator passphrase 12";
    app.post("/api/v1/auth/signup")
        .header("idempotency-key", "signup-1")
        .json(&json!({"email": "op@example.pk", "password": signup_password, "full_name": "Op"}))
        .send()
        .await
        .expect(201);
    let staff_password = "regulator passphrase 34";
    app.post("/api/v1/users")
        .token(&admin)
        .header("idempotency-key", "user-1")
        .json(&json!({"email": "reg@pta.gov.pk", "password": staff_password, "full_name": "Reg",
                      "role": "regulator"}))
        .send()
        .await
        .expect(201);
    let tokens = app.password_grant("op@example.pk", signup_password).await.expect(200);
    let refresh = tokens.body["refresh_token"].as_str().unwrap().to_string();
    let access = tokens.body["access_token"].as_str().unwrap().to_string();
    let rotated = app
        .post("/api/v1/auth/token")
        .json(&json!({"grant_type": "refresh_token", "refresh_token": refresh}))
        .send()
        .await
        .expect(200);
    let rotated = rotated.body["refresh_token"].as_str().unwrap().to_string();

    let values = app.db.every_value();
    assert!(values.iter().any(|(place, _)| place.starts_with("idempotency_keys.")));
    for secret in [
        client_secret.as_str(),
        signup_password,
        staff_password,
        crate::helpers::ADMIN_PASSWORD,
        refresh.as_str(),
        rotated.as_str(),
        access.as_str(),
        agency_token.as_str(),
    ] {
        for (place, value) in &values {
            assert!(!value.contains(secret), "a secret rests in {place}");
        }
    }
}
