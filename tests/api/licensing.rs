//! Applications, licences, their lifecycle and the change feed (API.md §5, §7 events).

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp, PASSWORD};

/// An operator with an organisation that has a person and a site.
pub struct Operator {
    pub token: String,
    pub org: String,
    pub site: String,
}

/// An operator with an organisation, a person and a site, and every document `/submit` needs.
pub async fn operator(app: &TestApp, n: usize) -> Operator {
    let (op, person) = operator_without_documents(app, n).await;
    for kind in ["incorporation_certificate", "tax_certificate", "bank_letter"] {
        app.file_document(&op.token, &op.org, kind, &[]).await;
    }
    app.file_document(&op.token, &op.org, "identity_document", &[("person_id", &person)]).await;
    app.file_document(&op.token, &op.org, "premises_proof", &[("site_id", &op.site)]).await;
    op
}

/// As [`operator`], with no documents filed; also returns the person's id.
pub async fn operator_without_documents(app: &TestApp, n: usize) -> (Operator, String) {
    let token = app.operator_token(&format!("op{n}@example.pk")).await;
    let org = app.organisation(&token, &format!("00000{n:02}"), &format!("10000{n:02}-1")).await;
    let person = app
        .post(&format!("/api/v1/organisations/{org}/people"))
        .token(&token)
        .json(&json!({"full_name": "Imran Qureshi", "roles": ["director"], "id_type": "cnic",
                      "id_number": format!("12345-12345{n:02}-1"), "nationality": "PK", "ownership_percent": 100}))
        .send()
        .await
        .expect(201);
    let person = person.body["id"].as_str().unwrap().to_string();
    let site = app.site(&token, &org, "Karachi").await;
    (Operator { token, org, site }, person)
}

async fn draft(app: &TestApp, op: &Operator) -> String {
    let r = app
        .post("/api/v1/applications")
        .token(&op.token)
        .json(&json!({"organisation_id": op.org, "site_ids": [op.site], "category": "inbound", "term_months": 12}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.body["status"], "draft");
    r.body["id"].as_str().unwrap().to_string()
}

pub async fn version(app: &TestApp, token: &str, path: &str) -> String {
    app.get(path).token(token).send().await.expect(200).header("etag").unwrap()
}

/// POSTs a transition with the current ETag.
pub async fn act(
    app: &TestApp,
    token: &str,
    path: &str,
    action: &str,
    body: Option<Value>,
) -> Resp {
    let etag = version(app, token, path).await;
    let mut req = app.post(&format!("{path}/{action}")).token(token).header("if-match", &etag);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await
}

fn body_for(action: &str) -> Option<Value> {
    match action {
        "request-info" => Some(json!({"message": "Send the lease of the Clifton site"})),
        "reject" => Some(json!({"reason": "Incomplete ownership records"})),
        _ => None,
    }
}

/// An agency client that clears for `agency`; returns its access token.
pub async fn clearing_agency(app: &TestApp, agency: &str) -> String {
    let admin = app.admin_token().await;
    let c = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": format!("{agency} clearance desk"), "agency": agency.to_uppercase(), "clears": agency}))
        .send()
        .await
        .expect(201);
    let t = app
        .post("/api/v1/auth/token")
        .json(&json!({"grant_type": "client_credentials", "client_id": c.body["client_id"],
                      "client_secret": c.body["client_secret"]}))
        .send()
        .await
        .expect(200);
    t.body["access_token"].as_str().unwrap().to_string()
}

/// Pays a submitted application's invoice in full (as `regulator`).
pub async fn pay(app: &TestApp, regulator: &str, application_id: &str) -> Resp {
    let a =
        app.get(&format!("/api/v1/applications/{application_id}")).token(regulator).send().await;
    let invoice = format!("/api/v1/invoices/{}", a.body["invoice_id"].as_str().unwrap());
    let i = app.get(&invoice).token(regulator).send().await.expect(200);
    let owed = i.body["total_minor"].as_i64().unwrap() - i.body["paid_minor"].as_i64().unwrap();
    app.post(&format!("{invoice}/payments"))
        .token(regulator)
        .header("if-match", &i.header("etag").unwrap())
        .json(&json!({"amount_minor": owed, "paid_at": app.clock_now(), "channel": "psid",
                      "reference": format!("PSID-{application_id}")}))
        .send()
        .await
}

/// Has every clearing agency grant a submitted application.
pub async fn clear(app: &TestApp, application_id: &str) {
    for agency in ["nccia", "pta", "security"] {
        let token = clearing_agency(app, agency).await;
        let list = app
            .get(&format!("/api/v1/clearances?application_id={application_id}"))
            .token(&token)
            .send()
            .await
            .expect(200);
        let items = list.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{agency} sees only its own clearance: {}", list.text);
        let path = format!("/api/v1/clearances/{}", items[0]["id"].as_str().unwrap());
        act(app, &token, &path, "grant", Some(json!({"reference": format!("{agency}/CLR/1")})))
            .await
            .expect(200);
    }
}

/// What `/approve` waits for: the fee paid and every clearance granted.
pub async fn pay_and_clear(app: &TestApp, regulator: &str, application_id: &str) {
    pay(app, regulator, application_id).await.expect(200);
    clear(app, application_id).await;
}

/// A passing (`compliant`) pre-licence inspection of `site`, recorded by a new inspector.
pub async fn pre_licence(app: &TestApp, regulator: &str, site: &str) {
    let email = format!("pre-licence-{}@pta.gov.pk", uuid::Uuid::new_v4().simple());
    let (inspector_id, inspector) = app.staff("inspector", &email).await;
    let r = app
        .post("/api/v1/inspections")
        .token(regulator)
        .json(&json!({"site_id": site, "inspector_id": inspector_id,
                      "scheduled_for": app.clock_now(), "kind": "pre_licence"}))
        .send()
        .await
        .expect(201);
    let path = format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap());
    let visit = json!({"visited_at": app.clock_now(), "seats_observed": 120, "staff_present": 100,
        "foreign_nationals_present": 0, "findings": [], "outcome": "compliant"});
    act(app, &inspector, &path, "record", Some(visit)).await.expect(200);
}

/// An application brought to `status` through the API (`ready`: submitted, paid and cleared).
pub async fn in_status(app: &TestApp, op: &Operator, regulator: &str, status: &str) -> String {
    let id = draft(app, op).await;
    let path = format!("/api/v1/applications/{id}");
    let steps: &[(&str, bool)] = match status {
        "draft" => &[],
        "submitted" | "ready" => &[("submit", false)],
        "info_requested" => &[("submit", false), ("request-info", true)],
        "approved" => &[("submit", false), ("approve", true)],
        "rejected" => &[("submit", false), ("reject", true)],
        "withdrawn" => &[("withdraw", false)],
        other => panic!("{other}"),
    };
    for (action, by_regulator) in steps {
        let token = if *by_regulator { regulator } else { &op.token };
        if *action == "approve" {
            pay_and_clear(app, regulator, &id).await;
        }
        act(app, token, &path, action, body_for(action)).await.expect(200);
    }
    if status == "ready" {
        pay_and_clear(app, regulator, &id).await;
    }
    id
}

#[actix_web::test]
async fn the_whole_transition_table() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (_, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    let admin = app.admin_token().await;
    let stranger = operator(&app, 2).await;

    let statuses = ["draft", "submitted", "info_requested", "approved", "rejected", "withdrawn"];
    // (action, role allowed, from, to)
    let table: [(&str, &str, &[&str], &str); 5] = [
        ("submit", "operator", &["draft", "info_requested"], "submitted"),
        ("request-info", "regulator", &["submitted"], "info_requested"),
        ("approve", "regulator", &["submitted"], "approved"),
        ("reject", "regulator", &["submitted"], "rejected"),
        ("withdraw", "operator", &["draft", "submitted", "info_requested"], "withdrawn"),
    ];
    for status in statuses {
        let id = in_status(&app, &op, &regulator, status).await;
        let path = format!("/api/v1/applications/{id}");
        for (action, allowed_role, froms, to) in table {
            let roles = [
                ("operator", &op.token),
                ("regulator", &regulator),
                ("inspector", &inspector),
                ("admin", &admin),
            ];
            for (role, token) in roles {
                if role == allowed_role && froms.contains(&status) {
                    continue; // done below, on a fresh application
                }
                let r = act(&app, token, &path, action, body_for(action)).await;
                r.problem(if role == allowed_role { 409 } else { 403 });
                let now = app.get(&path).token(&admin).send().await.expect(200);
                assert_eq!(now.body["status"], status, "{role} {action} from {status} changed it");
            }
            if froms.contains(&status) {
                let fresh = in_status(&app, &op, &regulator, status).await;
                let fresh_path = format!("/api/v1/applications/{fresh}");
                app.get(&fresh_path).token(&stranger.token).send().await.problem(404);
                let token = if allowed_role == "operator" { &op.token } else { &regulator };
                if action == "approve" {
                    pay_and_clear(&app, &regulator, &fresh).await;
                }
                let r = act(&app, token, &fresh_path, action, body_for(action)).await.expect(200);
                assert_eq!(r.body["status"], *to, "{action} from {status}");
                let last = r.body["history"].as_array().unwrap().last().unwrap().clone();
                assert_eq!((last["from"].as_str(), last["to"].as_str()), (Some(status), Some(to)));
            }
        }
    }
}

#[actix_web::test]
async fn approval_issues_a_licence_with_a_checked_number() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (reg_id, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = draft(&app, &op).await;
    let path = format!("/api/v1/applications/{id}");
    act(&app, &op.token, &path, "submit", None).await.expect(200);
    pay_and_clear(&app, &regulator, &id).await;
    let r = act(
        &app,
        &regulator,
        &path,
        "approve",
        Some(json!({"conditions": ["No outbound calls to the EU"], "term_months": 24})),
    )
    .await
    .expect(200);
    assert_eq!(r.body["status"], "approved");
    let number = r.body["licence_number"].as_str().unwrap().to_string();
    let history = r.body["history"].as_array().unwrap();
    let steps: Vec<(&Value, &Value)> = history.iter().map(|h| (&h["from"], &h["to"])).collect();
    assert_eq!(
        steps,
        [
            (&Value::Null, &json!("draft")),
            (&json!("draft"), &json!("submitted")),
            (&json!("submitted"), &json!("approved"))
        ]
    );
    assert_eq!(history[2]["by"], reg_id.as_str());

    // CCL-YYYY-NNNNNN-CC with ISO 7064 MOD 97-10 check digits.
    assert!(number.starts_with("CCL-2026-"), "{number}");
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(digits.len(), 12);
    assert_eq!(digits.parse::<u64>().unwrap() % 97, 1, "{number}");

    let l =
        app.get(&format!("/api/v1/licences/{number}")).token(&op.token).send().await.expect(200);
    // No pre-licence inspection yet: provisional for 90 days, and in force meanwhile.
    assert_eq!(l.body["status"], "provisional");
    assert_eq!(l.body["provisional_until"], "2027-02-20T10:00:00Z");
    assert_eq!(l.body["holder"], "Karachi Contact Solutions (Private) Limited");
    assert_eq!(l.body["organisation_id"], op.org.as_str());
    assert_eq!(l.body["site_ids"], json!([op.site]));
    assert_eq!(l.body["category"], "inbound");
    assert_eq!(l.body["conditions"], json!(["No outbound calls to the EU"]));
    assert_eq!(l.body["valid_from"], "2026-11-22T10:00:00Z");
    assert_eq!(l.body["expires_at"], "2028-11-22T10:00:00Z");
    assert_eq!(l.header("etag").as_deref(), Some("\"1\""));
}

#[actix_web::test]
async fn licence_numbers_in_paths_are_checked_before_any_look_up() {
    let app = TestApp::spawn().await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    for (bad, says) in [
        ("CCL-2026-000001-17", "check digits"),
        ("CCL-2026-00001-16", "format"),
        ("nonsense", "format"),
    ] {
        let r =
            app.get(&format!("/api/v1/licences/{bad}")).token(&regulator).send().await.problem(400);
        assert!(r.body["detail"].as_str().unwrap().contains(says), "{}", r.text);
        app.post(&format!("/api/v1/licences/{bad}/suspend"))
            .token(&regulator)
            .header("if-match", "\"1\"")
            .json(&json!({"reason": "x"}))
            .send()
            .await
            .problem(400);
    }
    app.get("/api/v1/licences/CCL-2026-000001-16").token(&regulator).send().await.problem(404);
}

#[actix_web::test]
async fn submitting_names_every_missing_prerequisite() {
    let app = TestApp::spawn().await;
    let token = app.operator_token("bare@example.pk").await;
    let org = app.organisation(&token, "0000001", "1000001-1").await;
    let other = operator(&app, 2).await;
    let r = app
        .post("/api/v1/applications")
        .token(&token)
        .json(
            &json!({"organisation_id": org, "site_ids": [], "category": "bpo", "term_months": 36}),
        )
        .send()
        .await
        .expect(201);
    let path = format!("/api/v1/applications/{}", r.body["id"].as_str().unwrap());
    let r = act(&app, &token, &path, "submit", None).await.problem(422);
    let fields: Vec<&str> =
        r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["site_ids", "people", "documents", "documents", "documents"], "{}", r.text);

    // Another operator's site is not this organisation's: refused where it is given (§16).
    let r = app.post("/api/v1/applications").token(&token)
        .json(&json!({"organisation_id": org, "site_ids": [other.site], "category": "bpo", "term_months": 36}))
        .send().await.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "site_ids[0]", "{}", r.text);
    assert!(!r.text.contains(&other.org) && !r.text.contains("Karachi centre"), "{}", r.text);

    for (field, body) in [
        (
            "term_months",
            json!({"organisation_id": org, "site_ids": [], "category": "bpo", "term_months": 18}),
        ),
        (
            "category",
            json!({"organisation_id": org, "site_ids": [], "category": "scam", "term_months": 12}),
        ),
        (
            "organisation_id",
            json!({"organisation_id": other.org, "site_ids": [], "category": "bpo", "term_months": 12}),
        ),
        (
            "renewal_of",
            json!({"organisation_id": org, "site_ids": [], "category": "bpo", "term_months": 12, "renewal_of": "CCL-2026-000001-17"}),
        ),
        (
            "renewal_of",
            json!({"organisation_id": org, "site_ids": [], "category": "bpo", "term_months": 12, "renewal_of": "CCL-2026-000001-16"}),
        ),
        (
            "status",
            json!({"organisation_id": org, "site_ids": [], "category": "bpo", "term_months": 12, "status": "approved"}),
        ),
    ] {
        let r =
            app.post("/api/v1/applications").token(&token).json(&body).send().await.problem(422);
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.text);
    }
}

#[actix_web::test]
async fn operators_see_only_their_own_applications_and_licences() {
    let app = TestApp::spawn().await;
    let a = operator(&app, 1).await;
    let b = operator(&app, 2).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = in_status(&app, &a, &regulator, "approved").await;
    in_status(&app, &b, &regulator, "draft").await;
    let app_a =
        app.get(&format!("/api/v1/applications/{id}")).token(&a.token).send().await.expect(200);
    let number = app_a.body["licence_number"].as_str().unwrap().to_string();

    app.get(&format!("/api/v1/applications/{id}")).token(&b.token).send().await.problem(404);
    app.get(&format!("/api/v1/licences/{number}")).token(&b.token).send().await.problem(404);
    let mine = app.get("/api/v1/applications").token(&b.token).send().await.expect(200);
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    let theirs = app.get("/api/v1/licences").token(&b.token).send().await.expect(200);
    assert_eq!(theirs.body["items"].as_array().unwrap().len(), 0);
    let all = app.get("/api/v1/applications").token(&regulator).send().await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let approved =
        app.get("/api/v1/applications?status=approved").token(&regulator).send().await.expect(200);
    assert_eq!(approved.body["items"].as_array().unwrap().len(), 1);
    let by_org = app
        .get(&format!("/api/v1/applications?organisation_id={}", b.org))
        .token(&regulator)
        .send()
        .await
        .expect(200);
    assert_eq!(by_org.body["items"][0]["organisation_id"], b.org.as_str());
    let (_, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    app.get(&format!("/api/v1/licences/{number}")).token(&inspector).send().await.expect(200);
    let b_surrender = app
        .post(&format!("/api/v1/licences/{number}/surrender"))
        .token(&b.token)
        .header("if-match", "\"1\"")
        .json(&json!({"reason": "mine now"}))
        .send()
        .await;
    b_surrender.problem(404);
}

#[actix_web::test]
async fn the_licence_lifecycle_and_its_events() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    pre_licence(&app, &regulator, &op.site).await;
    let id = in_status(&app, &op, &regulator, "approved").await;
    let number = app.get(&format!("/api/v1/applications/{id}")).token(&op.token).send().await.body
        ["licence_number"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/licences/{number}");
    let why = |r: &str| Some(json!({"reason": r}));

    act(&app, &op.token, &path, "suspend", why("x")).await.problem(403);
    act(&app, &regulator, &path, "reinstate", why("not suspended")).await.problem(409);
    act(&app, &regulator, &path, "suspend", Some(json!({"reason": "x", "until": "2026-01-01"})))
        .await
        .problem(422);
    act(&app, &regulator, &path, "suspend", Some(json!({"reason": ""}))).await.problem(422);
    let r = act(
        &app,
        &regulator,
        &path,
        "suspend",
        Some(json!({"reason": "Complaint under investigation", "until": "2026-12-31"})),
    )
    .await
    .expect(200);
    assert_eq!(r.body["status"], "suspended");
    assert_eq!(r.body["suspended_until"], "2026-12-31");
    act(&app, &regulator, &path, "suspend", why("again")).await.problem(409);
    let r = act(&app, &regulator, &path, "reinstate", why("Cleared")).await.expect(200);
    assert_eq!(r.body["status"], "active");
    let r = act(&app, &regulator, &path, "revoke", why("Fraud confirmed")).await.expect(200);
    assert_eq!(r.body["status"], "revoked");
    for action in ["suspend", "reinstate", "revoke"] {
        act(&app, &regulator, &path, action, why("final")).await.problem(409);
    }
    act(&app, &op.token, &path, "surrender", why("final")).await.problem(409);
    let history = r.body["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["reason"], "Fraud confirmed");
    assert_eq!(history.len(), 4);

    // A second licence, surrendered by its holder. Its director is barred since the
    // revocation (§11), so the approval overrides the flag.
    let id2 = in_status(&app, &op, &regulator, "ready").await;
    let over = json!({"override_flags": true, "reason": "New management"});
    act(&app, &regulator, &format!("/api/v1/applications/{id2}"), "approve", Some(over))
        .await
        .expect(200);
    let number2 =
        app.get(&format!("/api/v1/applications/{id2}")).token(&op.token).send().await.body
            ["licence_number"]
            .as_str()
            .unwrap()
            .to_string();
    assert_ne!(number, number2);
    let path2 = format!("/api/v1/licences/{number2}");
    act(&app, &regulator, &path2, "surrender", why("not theirs")).await.problem(403);
    act(&app, &op.token, &path2, "surrender", why("Closing down")).await.expect(200);

    let feed = app.get("/api/v1/events").token(&regulator).send().await.expect(200);
    let events: Vec<(String, String, String)> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().into(),
                e["licence_number"].as_str().unwrap().into(),
                e["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expect = |t: &str, n: &str, s: &str| (t.to_string(), n.to_string(), s.to_string());
    assert_eq!(
        events,
        [
            expect("issued", &number, "active"),
            expect("suspended", &number, "suspended"),
            expect("reinstated", &number, "active"),
            expect("revoked", &number, "revoked"),
            expect("issued", &number2, "active"),
            expect("surrendered", &number2, "surrendered"),
        ]
    );
    let seqs: Vec<i64> =
        feed.body["items"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert_eq!(feed.body["next_after"], 6);
    let page = app.get("/api/v1/events?after=2&limit=2").token(&regulator).send().await.expect(200);
    assert_eq!(page.body["items"][0]["seq"], 3);
    assert_eq!(page.body["next_after"], 4);
    let empty = app.get("/api/v1/events?after=6").token(&regulator).send().await.expect(200);
    assert_eq!(empty.body["items"].as_array().unwrap().len(), 0);
    assert_eq!(empty.body["next_after"], 6);
    app.get("/api/v1/events").token(&op.token).send().await.problem(403);
    app.get("/api/v1/events?limit=0").token(&regulator).send().await.problem(400);

    let admin = app.admin_token().await;
    let audit = app
        .get(&format!("/api/v1/audit?entity_type=licence&entity_id={number}"))
        .token(&admin)
        .send()
        .await
        .expect(200);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["licence.issued", "licence.suspended", "licence.reinstated", "licence.revoked"]
    );
}

#[actix_web::test]
async fn a_licence_past_expiry_reads_expired_at_once_and_renewal_extends_it() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    pre_licence(&app, &regulator, &op.site).await;
    let id = in_status(&app, &op, &regulator, "approved").await;
    let number = app.get(&format!("/api/v1/applications/{id}")).token(&op.token).send().await.body
        ["licence_number"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/licences/{number}");

    app.clock.advance(Duration::days(365) - Duration::seconds(1));
    // A year on, the access tokens have long expired: sign in again.
    let op = Operator { token: app.login("op1@example.pk", PASSWORD).await, ..op };
    let regulator = app.login("reg@pta.gov.pk", PASSWORD).await;
    assert_eq!(app.get(&path).token(&op.token).send().await.body["status"], "active");
    app.clock.advance(Duration::seconds(1));
    assert_eq!(app.get(&path).token(&op.token).send().await.body["status"], "expired");
    let expired =
        app.get("/api/v1/licences?status=expired").token(&regulator).send().await.expect(200);
    assert_eq!(expired.body["items"][0]["licence_number"], number.as_str());
    let active =
        app.get("/api/v1/licences?status=active").token(&regulator).send().await.expect(200);
    assert_eq!(active.body["items"].as_array().unwrap().len(), 0);
    act(&app, &regulator, &path, "suspend", Some(json!({"reason": "x"}))).await.problem(409);

    // A renewal extends the same number by the term.
    let r = app.post("/api/v1/applications").token(&op.token)
        .json(&json!({"organisation_id": op.org, "site_ids": [op.site], "category": "inbound", "term_months": 24, "renewal_of": number}))
        .send().await.expect(201);
    let rpath = format!("/api/v1/applications/{}", r.body["id"].as_str().unwrap());
    act(&app, &op.token, &rpath, "submit", None).await.expect(200);
    pay_and_clear(&app, &regulator, r.body["id"].as_str().unwrap()).await;
    let done = act(&app, &regulator, &rpath, "approve", None).await.expect(200);
    assert_eq!(done.body["licence_number"], number.as_str());
    let l = app.get(&path).token(&op.token).send().await.expect(200);
    assert_eq!(l.body["expires_at"], "2029-11-22T10:00:00Z");
    assert_eq!(l.body["status"], "active");
    let all = app.get("/api/v1/licences").token(&regulator).send().await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1, "no second licence");
    let feed = app.get("/api/v1/events").token(&regulator).send().await.expect(200);
    let last = feed.body["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["type"].as_str(), last["expires_at"].as_str()),
        (Some("renewed"), Some("2029-11-22T10:00:00Z"))
    );
}

#[actix_web::test]
async fn concurrent_approvals_issue_exactly_one_licence() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, reg1) = app.staff("regulator", "reg1@pta.gov.pk").await;
    let (_, reg2) = app.staff("regulator", "reg2@pta.gov.pk").await;
    let rounds = 10;
    for _ in 0..rounds {
        let id = in_status(&app, &op, &reg1, "ready").await;
        let path = format!("/api/v1/applications/{id}");
        let etag = version(&app, &reg1, &path).await;
        let send = |token: &str| {
            app.post(&format!("{path}/approve")).token(token).header("if-match", &etag).send()
        };
        let (r1, r2) = tokio::join!(send(&reg1), send(&reg2));
        let codes = [r1.status.as_u16(), r2.status.as_u16()];
        assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "{codes:?}");
        assert!(codes.iter().all(|c| [200, 412].contains(c)), "{codes:?}");
    }
    let licences = app.get("/api/v1/licences?limit=500").token(&reg1).send().await.expect(200);
    assert_eq!(licences.body["items"].as_array().unwrap().len(), rounds);
    let feed = app.get("/api/v1/events?limit=500").token(&reg1).send().await.expect(200);
    assert_eq!(feed.body["items"].as_array().unwrap().len(), rounds);
}

#[actix_web::test]
async fn concurrent_issues_get_distinct_serials_and_a_gapless_feed() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let mut paths = Vec::new();
    for _ in 0..8 {
        let id = in_status(&app, &op, &regulator, "ready").await;
        let path = format!("/api/v1/applications/{id}");
        let etag = version(&app, &regulator, &path).await;
        paths.push((path, etag));
    }
    let sends = paths.iter().map(|(p, e)| {
        app.post(&format!("{p}/approve")).token(&regulator).header("if-match", e).send()
    });
    // Readers poll the feed while the approvals commit: every view must be a gapless prefix,
    // or a mirror resuming from its last seq would miss the event that filled the hole.
    let polls = (0..20).map(|_| app.get("/api/v1/events?limit=500").token(&regulator).send());
    let (results, views) =
        tokio::join!(futures_util::future::join_all(sends), futures_util::future::join_all(polls));
    for view in views {
        let seqs: Vec<i64> = view.expect(200).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "a hole in the feed");
    }
    let mut numbers: Vec<String> = results
        .into_iter()
        .map(|r| r.expect(200).body["licence_number"].as_str().unwrap().to_string())
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 8);
    let feed = app.get("/api/v1/events").token(&regulator).send().await.expect(200);
    let seqs: Vec<i64> =
        feed.body["items"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
}

/// "In force" and the derived statuses are written in SQL once (`licences::store::status_is`,
/// `in_force`), and that form agrees with the Rust rule (`LicenceStatus::as_of`) for every
/// stored status and every placing of `expires_at` and `provisional_until` around now: in the
/// listing's `status` filter (over HTTP) and in the statistics' joined counts.
#[actix_web::test]
async fn the_sql_form_of_a_licence_status_agrees_with_the_rust_rule() {
    use ccreg::db::schema::licences;
    use ccreg::domain::LicenceStatus;
    use diesel::prelude::*;

    let app = TestApp::spawn().await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (_, licence) =
        crate::pages::licensed(&app, 1, "Agreement Test (Private) Limited", &regulator).await;
    let db = ccreg::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.get().unwrap();
    let now = ccreg::clock::db_now(&app.clock);
    let around = [now - Duration::days(1), now, now + Duration::days(1)];
    let stored = [
        LicenceStatus::Provisional,
        LicenceStatus::Active,
        LicenceStatus::Suspended,
        LicenceStatus::Revoked,
        LicenceStatus::Surrendered,
    ];
    let mut cases = 0;
    for status in stored {
        for expires_at in around {
            for provisional_until in [None, Some(around[0]), Some(around[1]), Some(around[2])] {
                if status == LicenceStatus::Provisional && provisional_until.is_none() {
                    continue; // refused by the table's CHECK
                }
                diesel::update(licences::table.find(&licence))
                    .set((
                        licences::status.eq(status),
                        licences::expires_at.eq(expires_at),
                        licences::provisional_until.eq(provisional_until),
                    ))
                    .execute(&mut conn)
                    .unwrap();
                let rust = status.as_of(expires_at, provisional_until, now);
                let case = format!("{status} expiring {expires_at}, provisional until {provisional_until:?}, now {now}: {rust}");
                for wanted in LicenceStatus::ALL {
                    let r = app
                        .get(&format!("/api/v1/licences?status={wanted}"))
                        .token(&regulator)
                        .send()
                        .await
                        .expect(200);
                    let listed = r.body["items"].as_array().unwrap().len();
                    assert_eq!(listed == 1, rust == *wanted, "status={wanted}; {case}");
                }
                let counts = ccreg::stats::store::national(&mut conn, now, now).unwrap();
                assert_eq!(counts.sites_licensed == 1, rust.in_force(), "in force; {case}");
                assert_eq!(
                    counts.licences_suspended == 1,
                    rust == LicenceStatus::Suspended,
                    "{case}"
                );
                assert_eq!(counts.licences_revoked == 1, rust == LicenceStatus::Revoked, "{case}");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 57);
}
