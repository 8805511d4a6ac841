//! The input rules of API.md §1 on every route: ids, query parameters, bodies.

use serde_json::json;

use crate::helpers::{address, organisation_body, TestApp};
use crate::licensing::{in_status, operator, version};

fn detail(r: &crate::helpers::Resp) -> String {
    r.body["detail"].as_str().unwrap_or_default().to_string()
}

fn fields(r: &crate::helpers::Resp) -> Vec<String> {
    let mut f: Vec<String> = r.body["errors"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_string())
        .collect();
    f.sort();
    f
}

#[actix_web::test]
async fn ids_that_are_not_uuids_are_400_in_paths_and_filters() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for path in [
        "/api/v1/organisations/not-a-uuid",
        "/api/v1/sites/42",
        "/api/v1/applications/x",
        "/api/v1/users/abc",
    ] {
        let r = app.get(path).token(&admin).send().await.problem(400);
        assert!(detail(&r).contains("path"), "{}", r.text);
    }
    let unknown = "0190a3c4-7b1e-7000-8000-000000000000";
    app.get(&format!("/api/v1/organisations/{unknown}")).token(&admin).send().await.problem(404);
    let operator = app.operator_token("op@example.pk").await;
    app.delete(&format!("/api/v1/organisations/{unknown}/people/nope"))
        .token(&operator)
        .send()
        .await
        .problem(400);
    for list in ["/api/v1/sites", "/api/v1/applications", "/api/v1/licences"] {
        let r =
            app.get(&format!("{list}?organisation_id=x")).token(&admin).send().await.problem(400);
        assert!(detail(&r).contains("organisation_id"), "{}", r.text);
        app.get(&format!("{list}?organisation_id={unknown}"))
            .token(&admin)
            .send()
            .await
            .expect(200);
    }
    let r = app.get("/api/v1/audit?actor_id=me").token(&admin).send().await.problem(400);
    assert!(detail(&r).contains("actor_id"), "{}", r.text);
}

#[actix_web::test]
async fn unknown_query_parameters_are_400_naming_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let r = app.get("/api/v1/organisations?legal_nmae=x").token(&admin).send().await.problem(400);
    assert!(detail(&r).contains("unknown query parameter \"legal_nmae\""), "{}", r.text);
    app.get("/api/v1/organisations?limit=5&cursor=").token(&admin).send().await.expect(200);
    let r = app.get("/api/v1/me?verbose=1").token(&admin).send().await.problem(400);
    assert!(detail(&r).contains("verbose"), "{}", r.text);
    app.get("/healthz?probe=1").send().await.problem(400);
    app.get("/api/v1/public/licences/CCL-2026-000001-16?x=1").send().await.problem(400);
    // Authentication still comes first.
    app.get("/api/v1/organisations?x=1").send().await.problem(401);
}

#[actix_web::test]
async fn enum_filters_name_the_parameter_and_the_allowed_values() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for query in ["result=bogus", "result="] {
        let r = app.get(&format!("/api/v1/verification-log?{query}")).token(&admin).send().await;
        let r = r.problem(400);
        assert!(
            detail(&r).contains("\"result\"") && detail(&r).contains("not_licensed"),
            "{}",
            r.text
        );
    }
    app.get("/api/v1/verification-log?result=error").token(&admin).send().await.expect(200);
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    for query in ["status=bogus", "status="] {
        let r =
            app.get(&format!("/api/v1/enforcement-queue?{query}")).token(&regulator).send().await;
        let r = r.problem(400);
        assert!(
            detail(&r).contains("\"status\"") && detail(&r).contains("dismissed"),
            "{}",
            r.text
        );
    }
    for status in ["open", "all", "resolved"] {
        let path = format!("/api/v1/enforcement-queue?status={status}");
        app.get(&path).token(&regulator).send().await.expect(200);
    }
    app.get("/api/v1/applications?status=").token(&admin).send().await.problem(400);
}

#[actix_web::test]
async fn transition_bodies_are_checked_like_any_other() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = in_status(&app, &op, &regulator, "draft").await;
    let path = format!("/api/v1/applications/{id}");
    let etag = version(&app, &op.token, &path).await;
    let submit = || app.post(&format!("{path}/submit")).token(&op.token).header("if-match", &etag);
    let r = submit().json(&json!({"status": "approved"})).send().await.problem(422);
    assert_eq!(fields(&r), ["status"]);
    submit().body("application/json", "not json").send().await.problem(400);
    submit().body("application/json", "{\"a\":1,\"a\":2}").send().await.problem(400);
    // Nothing, or an empty object, is a body without fields.
    let r = submit().json(&json!({})).send().await.expect(200);
    assert_eq!(r.body["status"], "submitted");
    let etag = version(&app, &op.token, &path).await;
    app.post(&format!("{path}/withdraw"))
        .token(&op.token)
        .header("if-match", &etag)
        .send()
        .await
        .expect(200);

    let id = in_status(&app, &op, &regulator, "submitted").await;
    let path = format!("/api/v1/applications/{id}");
    let etag = version(&app, &regulator, &path).await;
    let r = app
        .post(&format!("{path}/reject"))
        .token(&regulator)
        .header("if-match", &etag)
        .json(&json!({"reason": "Incomplete", "status": "approved"}))
        .send()
        .await
        .problem(422);
    assert_eq!(fields(&r), ["status"]);
    let r = app
        .post(&format!("{path}/approve"))
        .token(&regulator)
        .header("if-match", &etag)
        .json(&json!({"term_months": 12, "licence_number": "CCL-2026-000001-97"}))
        .send()
        .await
        .problem(422);
    assert_eq!(fields(&r), ["licence_number"]);
}

#[actix_web::test]
async fn duplicate_keys_are_400_at_any_depth() {
    let app = TestApp::spawn().await;
    let token = app.operator_token("dup@example.pk").await;
    let body = organisation_body("0001234", "1234567-8").to_string();
    let top = body.replacen('{', "{\"legal_name\": \"Other\", ", 1);
    let nested = body.replace("\"city\":", "\"city\": \"Lahore\", \"city\":");
    assert_ne!(nested, body);
    for raw in [top, nested] {
        let r = app
            .post("/api/v1/organisations")
            .token(&token)
            .body("application/json", raw)
            .send()
            .await
            .problem(400);
        assert!(detail(&r).contains("duplicate key"), "{}", r.text);
    }
    let r = app
        .post("/api/v1/auth/token")
        .body(
            "application/x-www-form-urlencoded",
            "grant_type=password&grant_type=client_credentials",
        )
        .send()
        .await
        .problem(400);
    assert!(detail(&r).contains("grant_type"), "{}", r.text);
}

#[actix_web::test]
async fn a_validation_problem_lists_every_invalid_field() {
    let app = TestApp::spawn().await;
    let token = app.operator_token("six@example.pk").await;
    let post = |body: serde_json::Value| {
        let req = app.post("/api/v1/organisations").token(&token).json(&body);
        async move { req.send().await.problem(422) }
    };
    let r = post(json!({
        "legal_name": "",
        "registration_number": "!!",
        "tax_number": "12",
        "registered_address": "nowhere",
        "contact_email": "not-an-email",
        "contact_phone": 42
    }))
    .await;
    let expected = [
        "contact_email",
        "contact_phone",
        "legal_name",
        "registered_address",
        "registration_number",
        "tax_number",
    ];
    assert_eq!(fields(&r), expected, "{}", r.text);

    let r = post(json!({})).await;
    assert_eq!(fields(&r), expected, "{}", r.text);
    assert!(r.body["errors"].as_array().unwrap().iter().all(|e| e["message"] == "is required"));

    let mut body = organisation_body("0001234", "1234567-8");
    body["registered_address"] = json!({"line1": "", "province": "Sindh", "postal_code": "?",
                                        "country": "PK"});
    body["contact_email"] = json!("nope");
    let r = post(body).await;
    assert_eq!(
        fields(&r),
        [
            "contact_email",
            "registered_address.city",
            "registered_address.line1",
            "registered_address.postal_code"
        ],
        "{}",
        r.text
    );
}

#[actix_web::test]
async fn an_empty_optional_text_field_is_absent() {
    let app = TestApp::spawn().await;
    let token = app.operator_token("empty@example.pk").await;
    let mut body = organisation_body("0001234", "1234567-8");
    body["trade_name"] = json!("");
    body["registered_address"]["line2"] = json!("");
    let r = app.post("/api/v1/organisations").token(&token).json(&body).send().await.expect(201);
    assert!(r.body["trade_name"].is_null(), "{}", r.text);
    assert!(r.body["registered_address"]["line2"].is_null(), "{}", r.text);
    // A required text field is not optional: "" is still invalid.
    let mut body = organisation_body("0001235", "1234567-9");
    body["legal_name"] = json!("");
    body["registered_address"] = address("");
    let r = app.post("/api/v1/organisations").token(&token).json(&body).send().await.problem(422);
    assert_eq!(fields(&r), ["legal_name", "registered_address.city"], "{}", r.text);
}

#[actix_web::test]
async fn no_internal_name_reaches_a_client() {
    let app = TestApp::spawn().await;
    let token = app.operator_token("null@example.pk").await;
    for raw in ["null", "[1]", "42", "{\"registered_address\": []}"] {
        let r = app
            .post("/api/v1/organisations")
            .token(&token)
            .body("application/json", raw)
            .send()
            .await
            .problem(422);
        for word in ["struct", "enum", "NewOrganisation", "Address", "serde", "actix", "Vec<"] {
            assert!(!r.text.contains(word), "{word} in {}", r.text);
        }
    }
    let r = app.get("/api/v1/organisations?limit=ten").token(&token).send().await.problem(400);
    assert!(!r.text.contains("i64") && !r.text.contains("deserialize"), "{}", r.text);
}

#[actix_web::test]
async fn a_malformed_bulk_item_is_answered_in_place() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let items = json!([
        {"type": "licence", "value": "CCL-2026-000001-16"},
        {"type": "licence", "value": "CCL-2026\u{0}-000001-97"},
        {"type": "ip", "value": "203.0.113.9"},
        {"type": "telepathy", "value": "x"},
        {"value": 5},
        "not an item",
        {"type": "number", "value": "+922134567890", "extra": true}
    ]);
    let r = app
        .post("/api/v1/verify/bulk")
        .token(&admin)
        .json(&json!({"items": items}))
        .send()
        .await
        .expect(200);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 7, "{}", r.text);
    let answered = |i: usize| results[i]["result"].is_string() && results[i].get("error").is_none();
    let failed =
        |i: usize| results[i]["error"]["status"] == 422 && results[i].get("result").is_none();
    assert!(answered(0) && answered(2), "{}", r.text);
    assert!([1, 3, 4, 5, 6].into_iter().all(failed), "{}", r.text);
    assert_eq!(results[1]["query"], "CCL-2026\u{0}-000001-97");
    assert_eq!(results[1]["type"], "licence");
    assert_eq!(results[4]["query"], "5");
    // The envelope is still checked.
    app.post("/api/v1/verify/bulk")
        .token(&admin)
        .json(&json!({"items": [], "status": 1}))
        .send()
        .await
        .problem(422);
}

/// The fields named by a problem, with their messages (sorted by field).
fn messages(r: &crate::helpers::Resp) -> Vec<(String, String)> {
    let mut m: Vec<(String, String)> = r.body["errors"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| (e["field"].as_str().unwrap_or_default().into(), e["message"].to_string()))
        .collect();
    m.sort();
    m
}

#[actix_web::test]
async fn rules_checked_after_parsing_are_listed_with_every_other_field() {
    let app = TestApp::spawn().await;
    let token = app.operator_token("rules@example.pk").await;
    // The example: the telephone number is read in the address's country, and is
    // named with the fields that do not parse (it was left for a second round).
    let mut body = organisation_body("0001234", "12");
    body["contact_email"] = json!("not-an-email");
    body["contact_phone"] = json!("not a phone");
    let r = app.post("/api/v1/organisations").token(&token).json(&body).send().await.problem(422);
    assert_eq!(fields(&r), ["contact_email", "contact_phone", "tax_number"], "{}", r.text);
    // A national number too short for the address's country, beside another bad field.
    let mut body = organisation_body("0001234", "1234567-8");
    body["legal_name"] = json!("");
    body["contact_phone"] = json!("021 345");
    let r = app.post("/api/v1/organisations").token(&token).json(&body).send().await.problem(422);
    assert_eq!(fields(&r), ["contact_phone", "legal_name"], "{}", r.text);
    // Beside a country that is itself invalid, the number is not judged twice.
    body["registered_address"]["country"] = json!("Pakistan");
    let r = app.post("/api/v1/organisations").token(&token).json(&body).send().await.problem(422);
    assert_eq!(fields(&r), ["legal_name", "registered_address.country"], "{}", r.text);

    // The same for a PATCH, with If-Match.
    let org = app.organisation(&token, "0001235", "1234567-9").await;
    let path = format!("/api/v1/organisations/{org}");
    let etag = version(&app, &token, &path).await;
    let patch = |body: serde_json::Value| {
        let req = app.patch(&path).token(&token).header("if-match", &etag).json(&body);
        async move { req.send().await.problem(422) }
    };
    let r =
        patch(json!({"tax_number": "12", "contact_email": "nope", "contact_phone": "+92 1"})).await;
    assert_eq!(fields(&r), ["contact_email", "contact_phone", "tax_number"], "{}", r.text);
    // A new address's country reads the new number, with the address's own bad fields.
    let mut moved = address("Karachi");
    moved["postal_code"] = json!("?");
    let r = patch(json!({"registered_address": moved, "contact_phone": "021 345"})).await;
    assert_eq!(fields(&r), ["contact_phone", "registered_address.postal_code"], "{}", r.text);
    // A national number kept for the stored country is read in that country.
    let r = patch(json!({"contact_phone": "021 345"})).await;
    assert_eq!(fields(&r), ["contact_phone"], "{}", r.text);
    let r = app.get(&path).token(&token).send().await.expect(200);
    assert_eq!(r.body["version"], 1, "a refused PATCH changed the organisation");

    // Sites: the bounds of seats and the lists of services and markets, with the rest.
    let sites = format!("/api/v1/organisations/{org}/sites");
    let r = app
        .post(&sites)
        .token(&token)
        .json(&json!({"name": "", "address": address("Karachi"), "seat_count": 0,
                      "services": [], "markets": []}))
        .send()
        .await
        .problem(422);
    assert_eq!(fields(&r), ["markets", "name", "seat_count", "services"], "{}", r.text);
    let site = app.site(&token, &org, "Karachi").await;
    let site_path = format!("/api/v1/sites/{site}");
    let etag = version(&app, &token, &site_path).await;
    let r = app
        .patch(&site_path)
        .token(&token)
        .header("if-match", &etag)
        .json(&json!({"seat_count": 100001, "services": [], "markets": ["ZZ"], "status": "gone"}))
        .send()
        .await
        .problem(422);
    assert_eq!(fields(&r), ["markets[0]", "seat_count", "services", "status"], "{}", r.text);
    assert!(messages(&r).contains(&("seat_count".into(), "\"must be from 1 to 100000\"".into())));

    // People: the identity number read by its type, the share's decimals, the roles.
    let r = app
        .post(&format!("/api/v1/organisations/{org}/people"))
        .token(&token)
        .json(&json!({"full_name": "X", "roles": [], "id_type": "cnic", "id_number": "12",
                      "nationality": "Pakistan", "ownership_percent": 40.555}))
        .send()
        .await
        .problem(422);
    assert_eq!(
        fields(&r),
        ["id_number", "nationality", "ownership_percent", "roles"],
        "{}",
        r.text
    );
    let r = app
        .post(&format!("/api/v1/organisations/{org}/people"))
        .token(&token)
        .json(&json!({"full_name": "", "roles": ["director"], "id_type": "passport",
                      "id_number": "A1", "nationality": "PK", "ownership_percent": 101}))
        .send()
        .await
        .problem(422);
    assert_eq!(fields(&r), ["full_name", "id_number", "ownership_percent"], "{}", r.text);
}

#[actix_web::test]
async fn a_visit_record_lists_every_rule_it_breaks() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (inspector_id, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    let r = app
        .post("/api/v1/inspections")
        .token(&regulator)
        .json(&json!({"site_id": op.site, "inspector_id": inspector_id,
                      "scheduled_for": "2026-12-01T09:00:00Z", "kind": "routine"}))
        .send()
        .await
        .expect(201);
    let path = format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap());
    let visit = json!({"visited_at": "2026-12-01T10:00:00Z", "seats_observed": -1,
        "staff_present": 10, "foreign_nationals_present": 11, "outcome": "fine",
        "findings": [{"code": "OK-1", "severity": "minor", "description": "Fine"},
                     {"code": "no spaces", "severity": "major", "description": "Bad code"}],
        "evidence": [{"sha256": "abc", "description": "Photo"}]});
    let r =
        crate::licensing::act(&app, &inspector, &path, "record", Some(visit)).await.problem(422);
    assert_eq!(
        fields(&r),
        [
            "evidence[0].sha256",
            "findings[1].code",
            "foreign_nationals_present",
            "outcome",
            "seats_observed"
        ],
        "{}",
        r.text
    );
    let r = app.get(&path).token(&regulator).send().await.expect(200);
    assert_eq!(r.body["status"], "scheduled");
}

#[actix_web::test]
async fn ids_in_bodies_that_are_not_uuids_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let uuid_message = "must be a UUID, such as 0190a3c4-7b1e-7000-8000-000000000000";

    // Each id by its path, with the body's other invalid fields; nothing is created.
    let r = app
        .post("/api/v1/applications")
        .token(&op.token)
        .json(&json!({"organisation_id": "nope", "site_ids": [op.site, "42"],
                      "category": "premium", "term_months": 12}))
        .send()
        .await
        .problem(422);
    assert_eq!(fields(&r), ["category", "organisation_id", "site_ids[1]"], "{}", r.text);
    assert!(messages(&r).contains(&("site_ids[1]".into(), format!("{uuid_message:?}"))));
    let list = app.get("/api/v1/applications").token(&op.token).send().await.expect(200);
    assert_eq!(list.body["items"], json!([]), "a draft was created: {}", list.text);

    let r = app
        .post("/api/v1/inspections")
        .token(&regulator)
        .json(&json!({"site_id": "site-1", "inspector_id": 7,
                      "scheduled_for": "2026-12-01T09:00:00Z", "kind": "routine"}))
        .send()
        .await
        .problem(422);
    assert_eq!(fields(&r), ["inspector_id", "site_id"], "{}", r.text);

    // A payment's receipt, on the invoice raised at submission.
    let id = in_status(&app, &op, &regulator, "submitted").await;
    let a = app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await;
    let invoice = format!("/api/v1/invoices/{}", a.body["invoice_id"].as_str().unwrap());
    let payment = json!({"amount_minor": 0, "paid_at": app.clock_now(), "channel": "psid",
                         "reference": "PSID-1", "receipt_document_id": "receipt.pdf"});
    let r = crate::licensing::act(&app, &regulator, &invoice, "payments", Some(payment))
        .await
        .problem(422);
    assert_eq!(fields(&r), ["amount_minor", "receipt_document_id"], "{}", r.text);

    // A report's triage names its inspector.
    let report = app
        .post("/api/v1/public/reports")
        .json(&json!({"number": "+922134567123", "called_at": "2026-11-22T09:15:00Z",
                      "category": "fraud", "description": "Asked for my card PIN"}))
        .send()
        .await
        .expect(202);
    let path = format!("/api/v1/reports/{}", report.body["id"].as_str().unwrap());
    let triage = json!({"action": "inspect", "reason": "Pattern", "inspector_id": "inspector-1"});
    let r =
        crate::licensing::act(&app, &regulator, &path, "triage", Some(triage)).await.problem(422);
    assert_eq!(fields(&r), ["inspector_id"], "{}", r.text);

    // The upload form's ids: named once each, beside the form's other problems.
    for (kind, part) in [("identity_document", "person_id"), ("premises_proof", "site_id")] {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind)
            .text(part, "not-an-id")
            .text("extra", "x");
        let r = app
            .post(&format!("/api/v1/organisations/{}/documents", op.org))
            .token(&op.token)
            .multipart(form)
            .send()
            .await
            .problem(422);
        let mut expected = vec!["extra", "file", part];
        expected.sort();
        assert_eq!(fields(&r), expected, "{}", r.text);
        assert!(messages(&r).contains(&(part.into(), format!("{uuid_message:?}"))), "{}", r.text);
    }
}
