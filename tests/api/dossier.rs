//! The licensing dossier (API.md §10): fees, clearances and the provisional licence.

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp, PASSWORD};
use crate::licensing::{
    act, clear, clearing_agency, in_status, operator, pay, pay_and_clear, pre_licence, Operator,
};

async fn application(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/applications/{id}")).token(token).send().await.expect(200).body
}

async fn invoice_of(app: &TestApp, token: &str, application_id: &str) -> Resp {
    let a = application(app, token, application_id).await;
    app.get(&format!("/api/v1/invoices/{}", a["invoice_id"].as_str().unwrap()))
        .token(token)
        .send()
        .await
}

async fn payment(app: &TestApp, regulator: &str, invoice: &Resp, amount: i64) -> Resp {
    app.post(&format!("/api/v1/invoices/{}/payments", invoice.body["id"].as_str().unwrap()))
        .token(regulator)
        .header("if-match", &invoice.header("etag").unwrap())
        .json(&json!({"amount_minor": amount, "paid_at": app.clock_now(), "channel": "psid",
                      "reference": "PSID-2026-1"}))
        .send()
        .await
}

/// An operator whose organisation has two sites.
async fn two_site_operator(app: &TestApp) -> (Operator, String) {
    let op = operator(app, 1).await;
    let second = app.site(&op.token, &op.org, "Lahore").await;
    app.file_document(&op.token, &op.org, "premises_proof", &[("site_id", &second)]).await;
    (op, second)
}

#[actix_web::test]
async fn submitting_raises_one_invoice_paid_by_recorded_payments() {
    let app = TestApp::spawn().await;
    let (op, second) = two_site_operator(&app).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let r = app
        .post("/api/v1/applications")
        .token(&op.token)
        .json(&json!({"organisation_id": op.org, "site_ids": [op.site, second], "category": "mixed", "term_months": 12}))
        .send()
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(r.body["invoice_id"].is_null());
    let path = format!("/api/v1/applications/{id}");
    let submitted = act(&app, &op.token, &path, "submit", None).await.expect(200);
    let invoice_id = submitted.body["invoice_id"].as_str().unwrap().to_string();

    let inv = invoice_of(&app, &op.token, &id).await.expect(200);
    assert_eq!(inv.body["id"], invoice_id.as_str());
    assert_eq!(inv.body["status"], "open");
    assert_eq!(inv.body["currency"], "PKR");
    assert_eq!(inv.body["application_id"], id.as_str());
    let lines: Vec<(&str, i64)> = inv.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["code"].as_str().unwrap(), l["amount_minor"].as_i64().unwrap()))
        .collect();
    assert_eq!(lines, [("main_site", 2_000_000), ("branch_site", 1_000_000)]);
    assert_eq!(inv.body["total_minor"], 3_000_000);
    assert_eq!(inv.body["paid_minor"], 0);
    assert_eq!(inv.body["issued_at"], "2026-11-22T10:00:00Z");
    assert_eq!(inv.body["due_at"], "2026-12-22T10:00:00Z");

    // Sent back and re-submitted: the same invoice.
    act(&app, &regulator, &path, "request-info", Some(json!({"message": "Lease for Lahore"})))
        .await
        .expect(200);
    let again = act(&app, &op.token, &path, "submit", None).await.expect(200);
    assert_eq!(again.body["invoice_id"], invoice_id.as_str());
    let all = app.get("/api/v1/invoices").token(&regulator).send().await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);

    // Approval waits for the money, naming the invoice.
    let r = act(&app, &regulator, &path, "approve", None).await.problem(409);
    assert!(r.body["detail"].as_str().unwrap().contains(&invoice_id), "{}", r.text);

    // Only a regulator records payments, with If-Match; partial, then too much, then the rest.
    payment(&app, &op.token, &inv, 1_000_000).await.problem(403);
    app.post(&format!("/api/v1/invoices/{invoice_id}/payments"))
        .token(&regulator)
        .json(&json!({"amount_minor": 1, "paid_at": app.clock_now(), "channel": "psid", "reference": "x"}))
        .send()
        .await
        .problem(428);
    let part = payment(&app, &regulator, &inv, 1_000_000).await.expect(200);
    assert_eq!(
        (part.body["status"].as_str(), part.body["paid_minor"].as_i64()),
        (Some("open"), Some(1_000_000))
    );
    payment(&app, &regulator, &inv, 1).await.problem(412);
    payment(&app, &regulator, &part, 2_000_001).await.problem(409);
    payment(&app, &regulator, &part, 0).await.problem(422);
    let paid = payment(&app, &regulator, &part, 2_000_000).await.expect(200);
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(paid.body["payments"].as_array().unwrap().len(), 2);
    assert_eq!(paid.body["payments"][1]["amount_minor"], 2_000_000);
    payment(&app, &regulator, &paid, 1).await.problem(409);

    // Operators see their own invoices only.
    let other = operator(&app, 2).await;
    app.get(&format!("/api/v1/invoices/{invoice_id}"))
        .token(&other.token)
        .send()
        .await
        .problem(404);
    let theirs = app.get("/api/v1/invoices").token(&other.token).send().await.expect(200);
    assert_eq!(theirs.body["items"], json!([]));
    let filtered = app
        .get(&format!("/api/v1/invoices?application_id={id}&status=paid"))
        .token(&regulator)
        .send()
        .await
        .expect(200);
    assert_eq!(filtered.body["items"][0]["id"], invoice_id.as_str());
    let (_, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    app.get("/api/v1/invoices").token(&inspector).send().await.problem(403);

    let audit = app
        .get(&format!("/api/v1/audit?entity_type=invoice&entity_id={invoice_id}"))
        .token(&regulator)
        .send()
        .await
        .expect(200);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["invoice.raised", "invoice.payment_recorded", "invoice.payment_recorded"]);
}

#[actix_web::test]
async fn withdrawing_or_rejecting_voids_the_invoice() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    for (id, by, action, body) in [
        (in_status(&app, &op, &regulator, "submitted").await, op.token.clone(), "withdraw", None),
        (
            in_status(&app, &op, &regulator, "submitted").await,
            regulator.clone(),
            "reject",
            Some(json!({"reason": "Ownership unclear"})),
        ),
    ] {
        act(&app, &by, &format!("/api/v1/applications/{id}"), action, body).await.expect(200);
        let inv = invoice_of(&app, &regulator, &id).await.expect(200);
        assert_eq!(inv.body["status"], "void", "{action}");
        payment(&app, &regulator, &inv, 1_000).await.problem(409);
    }
}

#[actix_web::test]
async fn a_renewal_submitted_after_expiry_pays_the_late_fee() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    pre_licence(&app, &regulator, &op.site).await;
    let id = in_status(&app, &op, &regulator, "approved").await;
    let number = application(&app, &regulator, &id).await["licence_number"].clone();
    app.clock.advance(Duration::days(366));
    let token = app.login("op1@example.pk", PASSWORD).await;
    let regulator = app.login("reg@pta.gov.pk", PASSWORD).await;
    let r = app
        .post("/api/v1/applications")
        .token(&token)
        .json(&json!({"organisation_id": op.org, "site_ids": [op.site], "category": "inbound",
                      "term_months": 12, "renewal_of": number}))
        .send()
        .await
        .expect(201);
    let rid = r.body["id"].as_str().unwrap().to_string();
    act(&app, &token, &format!("/api/v1/applications/{rid}"), "submit", None).await.expect(200);
    let inv = invoice_of(&app, &regulator, &rid).await.expect(200);
    let codes: Vec<&str> =
        inv.body["lines"].as_array().unwrap().iter().map(|l| l["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["main_site", "late_renewal"]);
    assert_eq!(inv.body["total_minor"], 3_000_000);
}

#[actix_web::test]
async fn each_agency_decides_only_its_own_clearance_once() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (_, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    let id = in_status(&app, &op, &regulator, "submitted").await;
    pay(&app, &regulator, &id).await.expect(200);

    let all = app
        .get(&format!("/api/v1/clearances?application_id={id}"))
        .token(&regulator)
        .send()
        .await
        .expect(200);
    let items = all.body["items"].as_array().unwrap();
    let agencies: Vec<&str> = items.iter().map(|c| c["agency"].as_str().unwrap()).collect();
    assert_eq!(agencies, ["nccia", "pta", "security"]);
    assert!(items
        .iter()
        .all(|c| c["status"] == "pending" && c["due_by"] == "2026-12-22T10:00:00Z"));
    let path_of = |agency: &str| {
        let c = items.iter().find(|c| c["agency"] == agency).unwrap();
        format!("/api/v1/clearances/{}", c["id"].as_str().unwrap())
    };
    let (nccia, pta, security) = (path_of("nccia"), path_of("pta"), path_of("security"));

    let pta_client = clearing_agency(&app, "pta").await;
    let security_client = clearing_agency(&app, "security").await;
    let grant = json!({"reference": "PTA/CLR/9"});
    // Another agency's client: 403. Roles that see but may not decide: 403. An inspector,
    // who may not see clearances at all: 404.
    app.post(&format!("{nccia}/grant"))
        .token(&pta_client)
        .header("if-match", "\"1\"")
        .json(&grant)
        .send()
        .await
        .problem(403);
    for token in [&regulator, &op.token] {
        act(&app, token, &nccia, "grant", Some(grant.clone())).await.problem(403);
    }
    app.post(&format!("{nccia}/grant"))
        .token(&inspector)
        .header("if-match", "\"1\"")
        .json(&grant)
        .send()
        .await
        .problem(404);
    app.get("/api/v1/clearances").token(&inspector).send().await.problem(403);
    // Each agency sees only its own.
    let seen = app.get("/api/v1/clearances").token(&pta_client).send().await.expect(200);
    assert_eq!(seen.body["items"].as_array().unwrap().len(), 1);
    app.get(&nccia).token(&pta_client).send().await.problem(404);
    app.post(&format!("{pta}/grant")).token(&pta_client).json(&grant).send().await.problem(428);

    let granted = act(&app, &pta_client, &pta, "grant", Some(grant.clone())).await.expect(200);
    assert_eq!(granted.body["status"], "granted");
    assert_eq!(granted.body["reference"], "PTA/CLR/9");
    assert_eq!(granted.body["decided_at"], "2026-11-22T10:00:00Z");
    // Final.
    act(&app, &pta_client, &pta, "object", Some(json!({"reason": "x", "reference": "y"})))
        .await
        .problem(409);

    // The security agency objects; the operator sees that, but not why.
    let objection = json!({"reason": "Director linked to a 2025 raid", "reference": "SEC/OBJ/1"});
    act(&app, &security_client, &security, "object", Some(objection)).await.expect(200);
    let for_operator = app.get(&security).token(&op.token).send().await.expect(200);
    assert_eq!(for_operator.body["status"], "objected");
    assert!(for_operator.body["reason"].is_null(), "{}", for_operator.text);
    assert!(!for_operator.text.contains("raid"));
    let for_regulator = app.get(&security).token(&regulator).send().await.expect(200);
    assert_eq!(for_regulator.body["reason"], "Director linked to a 2025 raid");

    // Approval waits for every clearance, naming the ones outstanding.
    let r = act(&app, &regulator, &format!("/api/v1/applications/{id}"), "approve", None)
        .await
        .problem(409);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains("nccia") && detail.contains("security"), "{detail}");
    assert!(!detail.contains("pta"), "{detail}");

    // A client may clear only for a configured agency.
    let admin = app.admin_token().await;
    app.post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": "x", "agency": "FIA", "clears": "fia"}))
        .send()
        .await
        .problem(422);
}

#[actix_web::test]
async fn approval_issues_a_provisional_licence_that_a_pre_licence_inspection_confirms() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let agency = clearing_agency(&app, "pta").await;
    let id = in_status(&app, &op, &regulator, "approved").await;
    let number =
        application(&app, &regulator, &id).await["licence_number"].as_str().unwrap().to_string();
    let path = format!("/api/v1/licences/{number}");
    let l = app.get(&path).token(&op.token).send().await.expect(200);
    assert_eq!(l.body["status"], "provisional");
    assert_eq!(l.body["provisional_until"], "2027-02-20T10:00:00Z");
    let v = app
        .get(&format!("/api/v1/verify/licences/{number}"))
        .token(&agency)
        .send()
        .await
        .expect(200);
    assert_eq!(
        (v.body["result"].as_str(), v.body["status"].as_str()),
        (Some("licensed"), Some("provisional"))
    );
    let public = app.get(&format!("/api/v1/public/licences/{number}")).send().await.expect(200);
    assert_eq!(public.body["status"], "provisional");

    // Suspended and reinstated, it is provisional again.
    let why = |r: &str| Some(json!({"reason": r}));
    act(&app, &regulator, &path, "suspend", why("Complaint")).await.expect(200);
    let r = act(&app, &regulator, &path, "reinstate", why("Cleared")).await.expect(200);
    assert_eq!(r.body["status"], "provisional");

    // The pre-licence visit of its only site confirms it.
    pre_licence(&app, &regulator, &op.site).await;
    let l = app.get(&path).token(&op.token).send().await.expect(200);
    assert_eq!(l.body["status"], "active");
    assert!(l.body["provisional_until"].is_null());
    let feed = app.get("/api/v1/events").token(&regulator).send().await.expect(200);
    let types: Vec<(&str, &str)> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("issued", "provisional"),
            ("suspended", "suspended"),
            ("reinstated", "provisional"),
            ("confirmed", "active")
        ]
    );
    assert_eq!(feed.body["items"][0]["provisional_until"], "2027-02-20T10:00:00Z");
    // Past the old provisional_until, a confirmed licence stays active.
    app.clock.advance(Duration::days(91));
    let token = app.login("op1@example.pk", PASSWORD).await;
    assert_eq!(app.get(&path).token(&token).send().await.body["status"], "active");
}

#[actix_web::test]
async fn an_unconfirmed_provisional_licence_lapses_at_once() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = in_status(&app, &op, &regulator, "approved").await;
    let number =
        application(&app, &regulator, &id).await["licence_number"].as_str().unwrap().to_string();
    app.clock.advance(Duration::days(90) - Duration::seconds(1));
    let agency = clearing_agency(&app, "pta").await;
    let regulator = app.login("reg@pta.gov.pk", PASSWORD).await;
    let check = || async {
        app.get(&format!("/api/v1/verify/licences/{number}"))
            .token(&agency)
            .send()
            .await
            .expect(200)
            .body
    };
    assert_eq!(check().await["result"], "licensed");
    app.clock.advance(Duration::seconds(1));
    let v = check().await;
    assert_eq!(
        (v["result"].as_str(), v["status"].as_str()),
        (Some("not_licensed"), Some("lapsed"))
    );
    let lapsed =
        app.get("/api/v1/licences?status=lapsed").token(&regulator).send().await.expect(200);
    assert_eq!(lapsed.body["items"][0]["licence_number"], number.as_str());
    let provisional =
        app.get("/api/v1/licences?status=provisional").token(&regulator).send().await.expect(200);
    assert_eq!(provisional.body["items"], json!([]));
    // A lapsed licence cannot be acted on, and a late inspection does not revive it.
    act(
        &app,
        &regulator,
        &format!("/api/v1/licences/{number}"),
        "suspend",
        Some(json!({"reason": "x"})),
    )
    .await
    .problem(409);
    pre_licence(&app, &regulator, &op.site).await;
    assert_eq!(check().await["status"], "lapsed");
}

#[actix_web::test]
async fn sites_that_already_passed_are_licensed_active_at_once() {
    let app = TestApp::spawn().await;
    let (op, second) = two_site_operator(&app).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    pre_licence(&app, &regulator, &op.site).await;
    let r = app
        .post("/api/v1/applications")
        .token(&op.token)
        .json(&json!({"organisation_id": op.org, "site_ids": [op.site, second], "category": "mixed", "term_months": 12}))
        .send()
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/applications/{id}");
    act(&app, &op.token, &path, "submit", None).await.expect(200);
    pay_and_clear(&app, &regulator, &id).await;
    // One of two sites passed: provisional, and confirmed only when the second passes.
    let number = act(&app, &regulator, &path, "approve", None).await.expect(200).body
        ["licence_number"]
        .as_str()
        .unwrap()
        .to_string();
    let lpath = format!("/api/v1/licences/{number}");
    assert_eq!(app.get(&lpath).token(&regulator).send().await.body["status"], "provisional");
    pre_licence(&app, &regulator, &second).await;
    assert_eq!(app.get(&lpath).token(&regulator).send().await.body["status"], "active");

    // A later application for the same two sites, both passed within 180 days: active at once.
    let id2 = app
        .post("/api/v1/applications")
        .token(&op.token)
        .json(&json!({"organisation_id": op.org, "site_ids": [op.site, second], "category": "mixed", "term_months": 12}))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path2 = format!("/api/v1/applications/{id2}");
    act(&app, &op.token, &path2, "submit", None).await.expect(200);
    pay(&app, &regulator, &id2).await.expect(200);
    clear(&app, &id2).await;
    let n2 = act(&app, &regulator, &path2, "approve", None).await.expect(200).body
        ["licence_number"]
        .as_str()
        .unwrap()
        .to_string();
    let l2 = app.get(&format!("/api/v1/licences/{n2}")).token(&regulator).send().await;
    assert_eq!(l2.body["status"], "active");
    assert!(l2.body["provisional_until"].is_null());
}

#[actix_web::test]
async fn submitting_lists_every_missing_document_at_once() {
    let app = TestApp::spawn().await;
    let (op, person) = crate::licensing::operator_without_documents(&app, 1).await;
    let second = app.site(&op.token, &op.org, "Lahore").await;
    app.file_document(&op.token, &op.org, "tax_certificate", &[]).await;
    app.file_document(&op.token, &op.org, "premises_proof", &[("site_id", &op.site)]).await;
    let r = app
        .post("/api/v1/applications")
        .token(&op.token)
        .json(&json!({"organisation_id": op.org, "site_ids": [op.site, second], "category": "mixed", "term_months": 12}))
        .send()
        .await
        .expect(201);
    let path = format!("/api/v1/applications/{}", r.body["id"].as_str().unwrap());
    let r = act(&app, &op.token, &path, "submit", None).await.problem(422);
    let errors = r.body["errors"].as_array().unwrap();
    assert!(errors.iter().all(|e| e["field"] == "documents"), "{}", r.text);
    let messages: Vec<&str> = errors.iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert!(messages[0].starts_with("incorporation_certificate"));
    assert!(messages[1].starts_with("bank_letter"));
    assert!(messages[2].starts_with("identity_document") && messages[2].contains(&person));
    assert!(messages[3].starts_with("premises_proof") && messages[3].contains(&second));
    // Nothing was raised for an application that did not submit.
    let invoices = app.get("/api/v1/invoices").token(&op.token).send().await.expect(200);
    assert_eq!(invoices.body["items"], json!([]));
}

/// The whole regime, as a new operator meets it: sign-up, dossier, submission, fee, three
/// clearances, approval, the provisional licence, the pre-licence visit, and verification.
#[actix_web::test]
async fn the_whole_licensing_flow() {
    let app = TestApp::spawn().await;
    app.signup("founder@karachi-contact.pk").await;
    let token = app.login("founder@karachi-contact.pk", PASSWORD).await;
    let org = app.organisation(&token, "0123456", "1234567-8").await;
    let person = app
        .post(&format!("/api/v1/organisations/{org}/people"))
        .token(&token)
        .json(&json!({"full_name": "Bilal Ahmed", "roles": ["director", "beneficial_owner"], "id_type": "cnic",
                      "id_number": "42101-1234567-1", "nationality": "PK", "ownership_percent": 100}))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let site = app.site(&token, &org, "Karachi").await;
    app.post(&format!("/api/v1/sites/{site}/numbers"))
        .token(&token)
        .json(&json!({"kind": "number", "e164": "+922134567890", "purpose": "both"}))
        .send()
        .await
        .expect(201);
    for kind in ["incorporation_certificate", "tax_certificate", "bank_letter"] {
        app.file_document(&token, &org, kind, &[]).await;
    }
    app.file_document(&token, &org, "identity_document", &[("person_id", &person)]).await;
    app.file_document(&token, &org, "premises_proof", &[("site_id", &site)]).await;
    let id = app
        .post("/api/v1/applications")
        .token(&token)
        .json(&json!({"organisation_id": org, "site_ids": [site], "category": "inbound", "term_months": 12}))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/applications/{id}");
    let submitted = act(&app, &token, &path, "submit", None).await.expect(200);
    assert_eq!(submitted.body["status"], "submitted");

    let (_, regulator) = app.staff("regulator", "officer@pta.gov.pk").await;
    act(&app, &regulator, &path, "approve", None).await.problem(409);
    pay(&app, &regulator, &id).await.expect(200);
    act(&app, &regulator, &path, "approve", None).await.problem(409);
    clear(&app, &id).await;
    let approved = act(&app, &regulator, &path, "approve", None).await.expect(200);
    let number = approved.body["licence_number"].as_str().unwrap().to_string();

    let bank = clearing_agency(&app, "pta").await;
    let verify = |what: String| {
        let (app, bank) = (&app, bank.clone());
        async move {
            app.get(&format!("/api/v1/verify/{what}")).token(&bank).send().await.expect(200).body
        }
    };
    let v = verify(format!("licences/{number}")).await;
    assert_eq!(
        (v["result"].as_str(), v["status"].as_str()),
        (Some("licensed"), Some("provisional"))
    );
    let l = app.get(&format!("/api/v1/licences/{number}")).token(&token).send().await.expect(200);
    assert_eq!(l.body["status"], "provisional");

    pre_licence(&app, &regulator, &site).await;
    let v = verify("numbers/+922134567890".into()).await;
    assert_eq!((v["result"].as_str(), v["status"].as_str()), (Some("licensed"), Some("active")));
    assert_eq!(v["licence_number"], number.as_str());

    // Every step is in the audit log, and the chain holds.
    let audit = app.get("/api/v1/audit?limit=500").token(&regulator).send().await.expect(200);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "document.uploaded",
        "application.submitted",
        "invoice.raised",
        "clearance.requested",
        "invoice.payment_recorded",
        "clearance.granted",
        "application.approved",
        "licence.issued",
        "inspection.recorded",
        "licence.confirmed",
    ] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
    let ok = app.get("/api/v1/audit/verify").token(&regulator).send().await.expect(200);
    assert_eq!(ok.body["ok"], true);
}
