//! Organisations, people and sites (API.md §4): values, ownership, lists, If-Match, audit.

use serde_json::json;

use crate::helpers::{address, organisation_body, TestApp};

#[actix_web::test]
async fn bad_values_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let op = app.operator_token("op@example.pk").await;
    let cases = [
        ("tax_number", json!("12345678")),
        ("tax_number", json!("1234567-89")),
        ("registration_number", json!("!!")),
        ("contact_email", json!("not-an-email")),
        ("contact_phone", json!("12")),
        ("legal_name", json!("")),
        (
            "registered_address",
            json!({"line1": "x", "city": "Lahore", "province": "Punjab", "postal_code": "54000", "country": "XX"}),
        ),
        (
            "registered_address",
            json!({"line1": "x", "city": "Lahore", "province": "Punjab", "country": "PK"}),
        ),
    ];
    for (field, value) in cases {
        let mut body = organisation_body("0000001", "1000001-1");
        body[field] = value;
        let r = app.post("/api/v1/organisations").token(&op).json(&body).send().await.problem(422);
        let named = r.body["errors"][0]["field"].as_str().unwrap();
        assert!(named.starts_with(field), "{field}: {}", r.text);
    }
    let mut body = organisation_body("0000001", "1000001-1");
    body["owner_id"] = json!("someone-else");
    let r = app.post("/api/v1/organisations").token(&op).json(&body).send().await.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "owner_id");

    // A local Pakistani number is stored as E.164; codes are normalised.
    let mut body = organisation_body(" 0012345/k ", "1000001-1");
    body["registered_address"]["country"] = json!("pk");
    let r = app.post("/api/v1/organisations").token(&op).json(&body).send().await.expect(201);
    assert_eq!(r.body["contact_phone"], "+922134567890");
    assert_eq!(r.body["registration_number"], "0012345/K");
    assert_eq!(r.body["registered_address"]["country"], "PK");
    assert_eq!(r.header("etag").as_deref(), Some("\"1\""));
}

#[actix_web::test]
async fn registration_and_tax_numbers_are_unique() {
    let app = TestApp::spawn().await;
    let a = app.operator_token("a@example.pk").await;
    let b = app.operator_token("b@example.pk").await;
    app.organisation(&a, "0000001", "1000001-1").await;
    let r = app
        .post("/api/v1/organisations")
        .token(&b)
        .json(&organisation_body("0000001", "2000002-2"))
        .send()
        .await
        .problem(409);
    assert!(r.body["detail"].as_str().unwrap().contains("registration_number"));
    let r = app
        .post("/api/v1/organisations")
        .token(&b)
        .json(&organisation_body("0000002", "1000001-1"))
        .send()
        .await
        .problem(409);
    assert!(r.body["detail"].as_str().unwrap().contains("tax_number"));
    let second = app.organisation(&b, "0000002", "2000002-2").await;
    let r = app
        .patch(&format!("/api/v1/organisations/{second}"))
        .token(&b)
        .header("if-match", "\"1\"")
        .json(&json!({"tax_number": "1000001-1"}))
        .send()
        .await
        .problem(409);
    assert!(r.body["detail"].as_str().unwrap().contains("tax_number"));
}

#[actix_web::test]
async fn operators_see_and_change_only_their_own() {
    let app = TestApp::spawn().await;
    let a = app.operator_token("a@example.pk").await;
    let b = app.operator_token("b@example.pk").await;
    let org_a = app.organisation(&a, "0000001", "1000001-1").await;
    let site_a = app.site(&a, &org_a, "Karachi").await;
    let org_b = app.organisation(&b, "0000002", "2000002-2").await;

    // B cannot see A's organisation, people, sites or numbers: 404, as if they did not exist.
    for path in [
        format!("/api/v1/organisations/{org_a}"),
        format!("/api/v1/organisations/{org_a}/people"),
        format!("/api/v1/sites/{site_a}"),
        format!("/api/v1/sites/{site_a}/numbers"),
        format!("/api/v1/sites/{site_a}/ip-ranges"),
    ] {
        app.get(&path).token(&b).send().await.problem(404);
    }
    app.patch(&format!("/api/v1/organisations/{org_a}"))
        .token(&b)
        .header("if-match", "\"1\"")
        .json(&json!({"legal_name": "Stolen"}))
        .send()
        .await
        .problem(404);
    app.post(&format!("/api/v1/organisations/{org_a}/people")).token(&b)
        .json(&json!({"full_name": "X", "roles": ["director"], "id_type": "cnic", "id_number": "12345-1234567-1", "nationality": "PK"}))
        .send().await.problem(404);
    app.post(&format!("/api/v1/organisations/{org_a}/sites")).token(&b)
        .json(&json!({"name": "X", "address": address("Lahore"), "seat_count": 1, "services": ["bpo"], "markets": ["PK"]}))
        .send().await.problem(404);
    app.post(&format!("/api/v1/sites/{site_a}/numbers"))
        .token(&b)
        .json(&json!({"kind": "number", "e164": "+922134567890", "purpose": "inbound"}))
        .send()
        .await
        .problem(404);
    app.patch(&format!("/api/v1/sites/{site_a}"))
        .token(&b)
        .header("if-match", "\"1\"")
        .json(&json!({"status": "closed"}))
        .send()
        .await
        .problem(404);

    // Lists show each operator only its own.
    let list = app.get("/api/v1/organisations").token(&b).send().await.expect(200);
    let ids: Vec<&str> =
        list.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [org_b.as_str()]);
    let sites = app.get("/api/v1/sites").token(&b).send().await.expect(200);
    assert_eq!(sites.body["items"].as_array().unwrap().len(), 0);
    let sites = app
        .get(&format!("/api/v1/sites?organisation_id={org_a}"))
        .token(&b)
        .send()
        .await
        .expect(200);
    assert_eq!(sites.body["items"].as_array().unwrap().len(), 0);

    // Staff read everything but change nothing here; agencies get 403.
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (_, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    let admin = app.admin_token().await;
    for token in [&regulator, &inspector, &admin] {
        let all = app.get("/api/v1/organisations").token(token).send().await.expect(200);
        assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
        app.get(&format!("/api/v1/sites/{site_a}")).token(token).send().await.expect(200);
        app.get(&format!("/api/v1/organisations/{org_a}/people"))
            .token(token)
            .send()
            .await
            .expect(200);
    }
    app.post("/api/v1/organisations")
        .token(&regulator)
        .json(&organisation_body("0000003", "3000003-3"))
        .send()
        .await
        .problem(403);
    app.patch(&format!("/api/v1/sites/{site_a}"))
        .token(&regulator)
        .header("if-match", "\"1\"")
        .json(&json!({"status": "closed"}))
        .send()
        .await
        .problem(403);
    let created = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": "Bank", "agency": "HBL"}))
        .send()
        .await
        .expect(201);
    let agency = app
        .post("/api/v1/auth/token")
        .json(&json!({"grant_type": "client_credentials", "client_id": created.body["client_id"], "client_secret": created.body["client_secret"]}))
        .send()
        .await
        .expect(200);
    let agency = agency.body["access_token"].as_str().unwrap();
    for path in [
        "/api/v1/organisations".to_string(),
        format!("/api/v1/sites/{site_a}"),
        "/api/v1/sites".into(),
    ] {
        app.get(&path).token(agency).send().await.problem(403);
    }
    app.get("/api/v1/organisations").send().await.problem(401);
}

#[actix_web::test]
async fn people_and_the_ownership_ceiling() {
    let app = TestApp::spawn().await;
    let op = app.operator_token("op@example.pk").await;
    let org = app.organisation(&op, "0000001", "1000001-1").await;
    let people = format!("/api/v1/organisations/{org}/people");
    let person = |name: &str, id_type: &str, id: &str, share: f64| json!({"full_name": name, "roles": ["beneficial_owner"], "id_type": id_type, "id_number": id, "nationality": "PK", "ownership_percent": share});
    let r = app
        .post(&people)
        .token(&op)
        .json(&person("Imran", "cnic", "1234512345671", 60.0))
        .send()
        .await
        .expect(201);
    assert_eq!(r.body["id_number"], "12345-1234567-1");
    assert_eq!(r.body["ownership_percent"], 60.0);
    let r = app
        .post(&people)
        .token(&op)
        .json(&person("Ali", "passport", "ab1234567", 40.5))
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "ownership_percent");
    let ali = app
        .post(&people)
        .token(&op)
        .json(&person("Ali", "passport", "ab1234567", 40.0))
        .send()
        .await
        .expect(201);
    assert_eq!(ali.body["id_number"], "AB1234567");
    // The total is at 100 now: even 0.01 more is refused, 0 is fine.
    app.post(&people)
        .token(&op)
        .json(&person("Sana", "cnic", "35202-1234567-1", 0.01))
        .send()
        .await
        .problem(422);
    let mut director = person("Sana", "cnic", "35202-1234567-1", 0.0);
    director["roles"] = json!(["director", "authorised_signatory"]);
    app.post(&people).token(&op).json(&director).send().await.expect(201);
    app.post(&people).token(&op).json(&director).send().await.problem(409);

    for (field, bad) in [
        ("id_number", person("X", "cnic", "12345-123456-1", 0.0)),
        ("id_number", person("X", "passport", "A1", 0.0)),
        ("ownership_percent", person("X", "cnic", "11111-1111111-1", 101.0)),
        ("ownership_percent", person("X", "cnic", "11111-1111111-1", -1.0)),
        (
            "nationality",
            json!({"full_name": "X", "roles": ["director"], "id_type": "cnic", "id_number": "11111-1111111-1", "nationality": "Pakistan"}),
        ),
        (
            "roles",
            json!({"full_name": "X", "roles": [], "id_type": "cnic", "id_number": "11111-1111111-1", "nationality": "PK"}),
        ),
        (
            "roles[0]",
            json!({"full_name": "X", "roles": ["ceo"], "id_type": "cnic", "id_number": "11111-1111111-1", "nationality": "PK"}),
        ),
    ] {
        let r = app.post(&people).token(&op).json(&bad).send().await.problem(422);
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.text);
    }

    let list = app.get(&people).token(&op).send().await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 3);
    let ali_id = ali.body["id"].as_str().unwrap();
    app.delete(&format!("{people}/{ali_id}")).token(&op).send().await.expect(204);
    app.delete(&format!("{people}/{ali_id}")).token(&op).send().await.problem(404);
    // Ali's share is free again.
    app.post(&people)
        .token(&op)
        .json(&person("Bilal", "cnic", "42101-7654321-3", 40.0))
        .send()
        .await
        .expect(201);
}

#[actix_web::test]
async fn concurrent_people_cannot_pass_one_hundred_percent_together() {
    let app = TestApp::spawn().await;
    let op = app.operator_token("op@example.pk").await;
    let org = app.organisation(&op, "0000001", "1000001-1").await;
    let people = format!("/api/v1/organisations/{org}/people");
    let sends = (0..6).map(|i| {
        app.post(&people)
            .token(&op)
            .json(&json!({"full_name": format!("Owner {i}"), "roles": ["beneficial_owner"], "id_type": "cnic",
                          "id_number": format!("1234{i}-1234567-1"), "nationality": "PK", "ownership_percent": 30}))
            .send()
    });
    let results = futures_util::future::join_all(sends).await;
    let created = results.iter().filter(|r| r.status.as_u16() == 201).count();
    assert_eq!(created, 3, "{:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(results.iter().all(|r| [201, 422].contains(&r.status.as_u16())));
}

#[actix_web::test]
async fn sites_filter_page_and_change_with_if_match() {
    let app = TestApp::spawn().await;
    let op = app.operator_token("op@example.pk").await;
    let org = app.organisation(&op, "0000001", "1000001-1").await;
    let other = app.organisation(&op, "0000002", "2000002-2").await;
    let karachi = app.site(&op, &org, "Karachi").await;
    app.site(&op, &org, "Lahore").await;
    app.site(&op, &other, "Karachi").await;
    let r = app.get(&format!("/api/v1/sites/{karachi}")).token(&op).send().await.expect(200);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["organisation_id"], org.as_str());

    let count = |q: &str| {
        let (app, op, q) = (&app, &op, q.to_string());
        async move {
            app.get(&format!("/api/v1/sites{q}")).token(op).send().await.expect(200).body["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("?city=karachi").await, 2);
    assert_eq!(count(&format!("?organisation_id={org}")).await, 2);
    assert_eq!(count(&format!("?organisation_id={org}&city=Lahore")).await, 1);
    assert_eq!(count("?status=closed").await, 0);
    app.get("/api/v1/sites?status=demolished").token(&op).send().await.problem(400);

    let first = app.get("/api/v1/sites?limit=2").token(&op).send().await.expect(200);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    app.site(&op, &other, "Multan").await;
    let second = app
        .get(&format!("/api/v1/sites?limit=2&cursor={cursor}"))
        .token(&op)
        .send()
        .await
        .expect(200);
    let mut all: Vec<String> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["items"].as_array().unwrap())
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(all.len(), 4);
    all.dedup();
    assert_eq!(all.len(), 4);

    let path = format!("/api/v1/sites/{karachi}");
    app.patch(&path).token(&op).json(&json!({"seat_count": 300})).send().await.problem(428);
    app.patch(&path)
        .token(&op)
        .header("if-match", "\"9\"")
        .json(&json!({"seat_count": 300}))
        .send()
        .await
        .problem(412);
    for (field, body) in [
        ("seat_count", json!({"seat_count": 0})),
        ("seat_count", json!({"seat_count": 100001})),
        ("services", json!({"services": []})),
        ("markets[0]", json!({"markets": ["ZZ"]})),
        ("organisation_id", json!({"organisation_id": other})),
    ] {
        let r = app
            .patch(&path)
            .token(&op)
            .header("if-match", "\"1\"")
            .json(&body)
            .send()
            .await
            .problem(422);
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.text);
    }
    let r = app
        .patch(&path)
        .token(&op)
        .header("if-match", "\"1\"")
        .json(&json!({"seat_count": 300, "status": "closed"}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.body["seat_count"], 300);
    assert_eq!(r.body["status"], "closed");
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
    app.patch(&path)
        .token(&op)
        .header("if-match", "\"2\"")
        .json(&json!({"status": "active"}))
        .send()
        .await
        .problem(409);
    assert_eq!(count("?status=closed").await, 1);
    // Nothing more can be registered to a closed site.
    app.post(&format!("{path}/numbers"))
        .token(&op)
        .json(&json!({"kind": "number", "e164": "+922134567890", "purpose": "inbound"}))
        .send()
        .await
        .problem(409);
}

#[actix_web::test]
async fn every_registry_change_is_audited() {
    let app = TestApp::spawn().await;
    let op = app.operator_token("op@example.pk").await;
    let org = app.organisation(&op, "0000001", "1000001-1").await;
    app.patch(&format!("/api/v1/organisations/{org}"))
        .token(&op)
        .header("if-match", "\"1\"")
        .json(&json!({"trade_name": "KCS Karachi"}))
        .send()
        .await
        .expect(200);
    let person = app.post(&format!("/api/v1/organisations/{org}/people")).token(&op)
        .json(&json!({"full_name": "Imran", "roles": ["director"], "id_type": "cnic", "id_number": "12345-1234567-1", "nationality": "PK"}))
        .send().await.expect(201);
    app.delete(&format!(
        "/api/v1/organisations/{org}/people/{}",
        person.body["id"].as_str().unwrap()
    ))
    .token(&op)
    .send()
    .await
    .expect(204);
    let site = app.site(&op, &org, "Karachi").await;
    app.patch(&format!("/api/v1/sites/{site}"))
        .token(&op)
        .header("if-match", "\"1\"")
        .json(&json!({"seat_count": 5}))
        .send()
        .await
        .expect(200);
    let n = app
        .post(&format!("/api/v1/sites/{site}/numbers"))
        .token(&op)
        .json(&json!({"kind": "number", "e164": "+922134567890", "purpose": "inbound"}))
        .send()
        .await
        .expect(201);
    app.delete(&format!("/api/v1/sites/{site}/numbers/{}", n.body["id"].as_str().unwrap()))
        .token(&op)
        .send()
        .await
        .expect(204);
    let ip = app
        .post(&format!("/api/v1/sites/{site}/ip-ranges"))
        .token(&op)
        .json(&json!({"cidr": "203.0.113.0/24"}))
        .send()
        .await
        .expect(201);
    app.delete(&format!("/api/v1/sites/{site}/ip-ranges/{}", ip.body["id"].as_str().unwrap()))
        .token(&op)
        .send()
        .await
        .expect(204);

    let admin = app.admin_token().await;
    let audit = app.get("/api/v1/audit?limit=100").token(&admin).send().await.expect(200);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "organisation.created",
        "organisation.updated",
        "person.added",
        "person.removed",
        "site.created",
        "site.updated",
        "number.registered",
        "number.removed",
        "ip_range.registered",
        "ip_range.removed",
    ] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let verify = app.get("/api/v1/audit/verify").token(&admin).send().await.expect(200);
    assert_eq!(verify.body["ok"], true);
}
