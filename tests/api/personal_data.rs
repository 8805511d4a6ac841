//! Personal data (API.md §16): identity numbers in full to the owner, regulators and admins,
//! masked to inspectors, in nothing public, in no audit summary and no error detail; every
//! download of a document audited as `document.read`; verification-log entries and webhook
//! deliveries pruned after their retention period, by the injected clock, in batches, while
//! the audit log is never pruned.

use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};
use crate::licensing::{act, in_status, operator, Operator};
use crate::pages::licensed;

/// The CNIC of the director that `licensing::operator(app, 1)` records.
const CNIC: &str = "12345-1234501-1";
/// The same, masked: all but the last 4 characters replaced by `*`.
const MASKED: &str = "***********01-1";

async fn people(app: &TestApp, token: &str, org: &str) -> Resp {
    app.get(&format!("/api/v1/organisations/{org}/people")).token(token).send().await
}

fn id_numbers(r: &Resp) -> Vec<String> {
    let items = r.body["items"].as_array().expect("a page");
    items.iter().map(|p| p["id_number"].as_str().unwrap().to_string()).collect()
}

/// Whether `text` holds the CNIC in any of its written forms.
fn holds_cnic(text: &str) -> bool {
    text.contains(CNIC) || text.contains(&CNIC.replace('-', ""))
}

async fn me(app: &TestApp, token: &str) -> String {
    let r = app.get("/api/v1/me").token(token).send().await.expect(200);
    r.body["id"].as_str().unwrap().to_string()
}

/// Every audit entry, page by page, as the admin reads them.
async fn audit_entries(app: &TestApp, query: &str) -> Vec<Value> {
    let admin = app.admin_token().await;
    let (mut entries, mut cursor) = (Vec::new(), String::new());
    loop {
        let path = format!("/api/v1/audit?limit=500&cursor={cursor}{query}");
        let r = app.get(&path).token(&admin).send().await.expect(200);
        entries.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => return entries,
        }
    }
}

async fn audit_verifies(app: &TestApp) -> i64 {
    let admin = app.admin_token().await;
    let v = app.get("/api/v1/audit/verify").token(&admin).send().await.expect(200);
    assert_eq!(v.body["ok"], true, "{}", v.text);
    v.body["entries"].as_i64().unwrap()
}

#[actix_web::test]
async fn identity_numbers_are_masked_for_inspectors_and_whole_for_the_owner_and_regulators() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (_, inspector) = app.staff("inspector", "inspector@pta.gov.pk").await;
    let admin = app.admin_token().await;

    for (who, token) in [("owner", &op.token), ("regulator", &regulator), ("admin", &admin)] {
        let r = people(&app, token, &op.org).await.expect(200);
        assert_eq!(id_numbers(&r), [CNIC], "{who}");
    }
    let r = people(&app, &inspector, &op.org).await.expect(200);
    assert_eq!(id_numbers(&r), [MASKED]);
    assert!(!holds_cnic(&r.text), "{}", r.text);
    // A passport number too: only its last 4 characters show.
    app.post(&format!("/api/v1/organisations/{}/people", op.org))
        .token(&op.token)
        .json(&json!({"full_name": "Ahmed Al Mansoori", "roles": ["authorised_signatory"],
                      "id_type": "passport", "id_number": "ae4411001", "nationality": "AE"}))
        .send()
        .await
        .expect(201);
    let r = people(&app, &inspector, &op.org).await.expect(200);
    assert_eq!(id_numbers(&r), [MASKED, "*****1001"]);
    let r = people(&app, &op.token, &op.org).await.expect(200);
    assert_eq!(id_numbers(&r), [CNIC, "AE4411001"]);
    // Agencies read no people at all; other operators find no such organisation.
    let agency = agency_token(&app, &agency_client(&app).await).await;
    people(&app, &agency, &op.org).await.problem(403);
    let other = app.operator_token("other@example.pk").await;
    let r = people(&app, &other, &op.org).await.problem(404);
    assert!(!holds_cnic(&r.text));
}

#[actix_web::test]
async fn error_details_never_quote_an_identity_number() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let path = format!("/api/v1/organisations/{}/people", op.org);
    let person = |id_number: Value| {
        json!({"full_name": "Imran Qureshi", "roles": ["director"], "id_type": "cnic",
               "id_number": id_number, "nationality": "PK"})
    };
    // The same CNIC again, written without dashes: a duplicate, named without its number.
    let r = app
        .post(&path)
        .token(&op.token)
        .json(&person(json!("1234512345011")))
        .send()
        .await
        .problem(409);
    assert_eq!(
        r.body["detail"],
        "this identity document is already recorded for this organisation"
    );
    assert!(!holds_cnic(&r.text), "{}", r.text);
    // A number sent as a JSON number is refused without being quoted back.
    let r = app
        .post(&path)
        .token(&op.token)
        .json(&person(json!(1234512345011_i64)))
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "id_number", "{}", r.text);
    assert!(!holds_cnic(&r.text), "{}", r.text);
    // A malformed one: the message says what a CNIC looks like, not what was sent.
    let r = app
        .post(&path)
        .token(&op.token)
        .json(&person(json!("98765-432109")))
        .send()
        .await
        .problem(422);
    assert!(!r.text.contains("98765-432109"), "{}", r.text);
}

#[actix_web::test]
async fn identity_numbers_are_in_nothing_public_and_in_no_audit_summary() {
    let app = TestApp::spawn().await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (_, licence) =
        licensed(&app, 1, "Indus Voice Services (Private) Limited", &regulator).await;
    let admin = app.admin_token().await;

    let mut public = Vec::new();
    for path in [
        "/api/v1/public/register.csv".to_string(),
        "/api/v1/public/register.json".to_string(),
        format!("/api/v1/public/licences/{licence}"),
        "/api/v1/public/stats".to_string(),
        format!("/register/licences/{licence}"),
        format!("/register/licences/{licence}/certificate"),
        "/?q=Indus".to_string(),
    ] {
        let r = app.get(&path).send().await;
        assert!(r.status.is_success() || r.status.as_u16() == 404, "{path}: {}", r.status);
        public.push((path, r.text));
    }
    // The search finds no company by a person's identity number.
    let r = app.get(&format!("/?q={CNIC}")).send().await.expect(200);
    assert!(r.text.contains("No licensed or formerly licensed company matches"), "{}", r.text);
    assert!(!r.text.contains("Indus Voice"));
    // The feed (which webhooks carry as it is) and the agencies' verification answers.
    let r = app.get("/api/v1/events?after=0").token(&regulator).send().await.expect(200);
    assert!(!r.body["items"].as_array().unwrap().is_empty());
    public.push(("/api/v1/events".into(), r.text));
    let agency = agency_token(&app, &agency_client(&app).await).await;
    let r = app
        .get(&format!("/api/v1/verify/licences/{licence}"))
        .token(&agency)
        .send()
        .await
        .expect(200);
    public.push(("/api/v1/verify/licences".into(), r.text));
    for (path, text) in &public {
        assert!(!holds_cnic(text), "{path} carries the CNIC: {text}");
    }

    // Revoking bars the director: the regulator's list shows the number, the audit log not.
    let path = format!("/api/v1/licences/{licence}");
    act(&app, &regulator, &path, "revoke", Some(json!({"reason": "Fraud confirmed"})))
        .await
        .expect(200);
    let barred = app.get("/api/v1/barred-persons").token(&admin).send().await.expect(200);
    assert_eq!(barred.body["items"][0]["id_number"], CNIC);
    let entries = audit_entries(&app, "").await;
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"person.added") && actions.contains(&"person.barred"), "{actions:?}");
    for e in &entries {
        assert!(!holds_cnic(&e.to_string()), "an audit entry carries the CNIC: {e}");
    }
}

/// The identity document `licensing::operator` filed.
async fn identity_document(app: &TestApp, op: &Operator) -> String {
    let r = app
        .get(&format!("/api/v1/organisations/{}/documents?kind=identity_document", op.org))
        .token(&op.token)
        .send()
        .await
        .expect(200);
    r.body["items"][0]["id"].as_str().unwrap().to_string()
}

async fn download(app: &TestApp, token: &str, id: &str) -> u16 {
    let path = format!("/api/v1/documents/{id}/content");
    app.get(&path).token(token).send().await.status.as_u16()
}

#[actix_web::test]
async fn every_download_of_a_document_is_audited_as_document_read() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let document = identity_document(&app, &op).await;
    let (regulator_id, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (inspector_id, inspector) = app.staff("inspector", "inspector@pta.gov.pk").await;
    let owner_id = me(&app, &op.token).await;

    // Reading the metadata is not a download.
    app.get(&format!("/api/v1/documents/{document}")).token(&regulator).send().await.expect(200);
    assert!(audit_entries(&app, "&action=document.read").await.is_empty());

    assert_eq!(download(&app, &op.token, &document).await, 200);
    assert_eq!(download(&app, &regulator, &document).await, 200);
    assert_eq!(download(&app, &inspector, &document).await, 200);
    assert_eq!(download(&app, &regulator, &document).await, 200);
    // Refused downloads read nothing and are not recorded as reads.
    let other = app.operator_token("other@example.pk").await;
    assert_eq!(download(&app, &other, &document).await, 404);
    let agency = agency_token(&app, &agency_client(&app).await).await;
    assert_eq!(download(&app, &agency, &document).await, 403);

    let reads = audit_entries(&app, &format!("&action=document.read&entity_id={document}")).await;
    let actors: Vec<&str> = reads.iter().map(|e| e["actor_id"].as_str().unwrap()).collect();
    assert_eq!(actors, [&owner_id, &regulator_id, &inspector_id, &regulator_id]);
    for e in &reads {
        assert_eq!(e["entity_type"], "document");
        assert_eq!(e["entity_id"], document.as_str());
        assert!(e["summary"].as_str().unwrap().contains("identity_document"), "{e}");
    }
    // The same entries by reader.
    let by_inspector = audit_entries(&app, &format!("&actor_id={inspector_id}")).await;
    assert_eq!(by_inspector.len(), 1);
    assert_eq!(by_inspector[0]["action"], "document.read");
    // Only document reads are new; the chain holds.
    assert_eq!(audit_entries(&app, "&action=document.read").await.len(), 4);
    audit_verifies(&app).await;
}

/// A webhook receiver on 127.0.0.1 that answers every delivery 503, so each round records one
/// failed attempt and a retry.
async fn failing_receiver() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(|| {
        App::new()
            .default_service(web::to(|| async { HttpResponse::ServiceUnavailable().finish() }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    format!("http://127.0.0.1:{port}/hooks")
}

/// A new agency client (with its secret).
async fn agency_client(app: &TestApp) -> Value {
    let admin = app.admin_token().await;
    let r = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": "HBL fraud desk", "agency": "HBL"}))
        .send()
        .await
        .expect(201);
    r.body
}

/// An agency client's access token (a fresh one: the clock moves past the last one's expiry).
async fn agency_token(app: &TestApp, client: &Value) -> String {
    let r = app
        .post("/api/v1/auth/token")
        .json(&json!({"grant_type": "client_credentials", "client_id": client["client_id"],
                      "client_secret": client["client_secret"]}))
        .send()
        .await
        .expect(200);
    r.body["access_token"].as_str().unwrap().to_string()
}

async fn verification_log(app: &TestApp) -> Vec<Value> {
    let admin = app.admin_token().await;
    let (mut entries, mut cursor) = (Vec::new(), String::new());
    loop {
        let path = format!("/api/v1/verification-log?limit=500&cursor={cursor}");
        let r = app.get(&path).token(&admin).send().await.expect(200);
        entries.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => return entries,
        }
    }
}

async fn deliveries(app: &TestApp, webhook: &str) -> Vec<String> {
    let admin = app.admin_token().await;
    let r = app.get(&format!("/api/v1/webhooks/{webhook}/deliveries")).token(&admin).send().await;
    let items = r.expect(200).body["items"].as_array().unwrap().clone();
    items.iter().map(|d| d["attempted_at"].as_str().unwrap().to_string()).collect()
}

#[actix_web::test]
async fn old_verifications_and_deliveries_are_pruned_in_batches_and_the_audit_log_never() {
    let app = TestApp::spawn_with(|s| {
        s.webhook_allow_private = true;
        s.webhook_poll_ms = 0;
    })
    .await;
    let client = agency_client(&app).await;
    let bank = agency_token(&app, &client).await;
    let webhook = app
        .post("/api/v1/webhooks")
        .token(&bank)
        .json(&json!({"url": failing_receiver().await, "events": ["*"]}))
        .send()
        .await
        .expect(201);
    let webhook = webhook.body["id"].as_str().unwrap().to_string();

    // Day 0: 1,501 verifications (more than one batch) and a failed delivery of `issued`.
    let items: Vec<Value> = (0..1_500)
        .map(|i| json!({"type": "ip", "value": format!("203.0.113.{}", i % 256)}))
        .collect();
    app.post("/api/v1/verify/bulk")
        .token(&bank)
        .json(&json!({"items": items}))
        .send()
        .await
        .expect(200);
    app.get("/api/v1/verify/ips/198.51.100.7").token(&bank).send().await.expect(200);
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    in_status(&app, &op, &regulator, "approved").await;
    assert_eq!(app.webhooks.deliver_due().await.unwrap().failed, 1);
    let day0 = now(&app);

    // Day 31: another verification and the delivery's retry.
    app.clock.advance(Duration::days(31));
    let bank = agency_token(&app, &client).await;
    app.get("/api/v1/verify/ips/198.51.100.8").token(&bank).send().await.expect(200);
    assert_eq!(app.webhooks.deliver_due().await.unwrap().failed, 1);
    assert_eq!(verification_log(&app).await.len(), 1_502);
    let attempts = deliveries(&app, &webhook).await;
    assert_eq!(attempts, [day0.clone(), now(&app)]);
    let audit = audit_entries(&app, "").await;

    // Deliveries are kept 30 days: the day-0 attempt goes; every verification stays (365).
    let pruned = app.retention.run_once().await.unwrap();
    assert_eq!((pruned.verification_log, pruned.webhook_deliveries), (0, 1));
    assert_eq!(deliveries(&app, &webhook).await, [attempts[1].clone()]);
    assert_eq!(verification_log(&app).await.len(), 1_502);
    assert_eq!(audit_entries(&app, "").await, audit, "pruning leaves the audit log as it was");

    // Day 366: a third attempt; then the day-0 verifications go, in two batches, and the
    // day-31 attempt; the day-31 verification and today's attempt stay.
    app.clock.advance(Duration::days(335));
    assert_eq!(app.webhooks.deliver_due().await.unwrap().failed, 1);
    let audit = audit_entries(&app, "").await;
    let pruned = app.retention.run_once().await.unwrap();
    assert_eq!((pruned.verification_log, pruned.webhook_deliveries), (1_501, 1));
    let log = verification_log(&app).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["query"], "198.51.100.8");
    assert_eq!(deliveries(&app, &webhook).await, [now(&app)]);

    // Nothing is left to prune. The audit log, a year old now, lost nothing and still verifies.
    let pruned = app.retention.run_once().await.unwrap();
    assert_eq!((pruned.verification_log, pruned.webhook_deliveries), (0, 0));
    assert_eq!(audit_entries(&app, "").await, audit, "pruning leaves the audit log as it was");
    assert_eq!(audit[0]["seq"], 1);
    assert_eq!(audit_verifies(&app).await, audit.len() as i64);
}

/// The test clock's now, as the API writes times.
fn now(app: &TestApp) -> String {
    use ccreg::clock::Clock;
    app.clock.now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
