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
