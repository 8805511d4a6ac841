//! Verification for agencies (API.md §7): answers, bulk, the log, the public check, attestations.

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{TestApp, PASSWORD};
use crate::licensing::{act, in_status, operator, Operator};

struct World {
    op: Operator,
    regulator: String,
    agency: String,
    agency_client: String,
    licence: String,
}

async fn world(app: &TestApp) -> World {
    let op = operator(app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = in_status(app, &op, &regulator, "approved").await;
    let licence =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.body
            ["licence_number"]
            .as_str()
            .unwrap()
            .to_string();
    let site = &op.site;
    for body in [
        json!({"kind": "range", "first": "+922134567000", "last": "+922134567999", "purpose": "both"}),
        json!({"kind": "number", "e164": "+923001234567", "purpose": "outbound"}),
    ] {
        app.post(&format!("/api/v1/sites/{site}/numbers"))
            .token(&op.token)
            .json(&body)
            .send()
            .await
            .expect(201);
    }
    for cidr in ["203.0.113.0/24", "2001:db8:1::/48"] {
        app.post(&format!("/api/v1/sites/{site}/ip-ranges"))
            .token(&op.token)
            .json(&json!({"cidr": cidr}))
            .send()
            .await
            .expect(201);
    }
    let admin = app.admin_token().await;
    let c = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": "HBL fraud desk", "agency": "Habib Bank"}))
        .send()
        .await
        .expect(201);
    let agency_client = c.body["id"].as_str().unwrap().to_string();
    let t = app.post("/api/v1/auth/token")
        .json(&json!({"grant_type": "client_credentials", "client_id": c.body["client_id"], "client_secret": c.body["client_secret"]}))
        .send().await.expect(200);
    World {
        op,
        regulator,
        agency: t.body["access_token"].as_str().unwrap().to_string(),
        agency_client,
        licence,
    }
}

async fn check(app: &TestApp, token: &str, path: &str) -> Value {
    app.get(&format!("/api/v1/verify/{path}")).token(token).send().await.expect(200).body
}

#[actix_web::test]
async fn every_kind_of_question_gets_a_three_way_answer() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let a = check(&app, &w.agency, &format!("licences/{}", w.licence)).await;
    assert_eq!(a["result"], "licensed");
    assert_eq!(a["query"], w.licence.as_str());
    assert_eq!(a["status"], "provisional", "provisional is in force");
    assert_eq!(a["holder"], "Karachi Contact Solutions (Private) Limited");
    assert_eq!(a["registration_number"], "0000001");
    assert_eq!(a["expires_at"], "2027-11-22T10:00:00Z");
    assert_eq!(a["checked_at"], "2026-11-22T10:00:00Z");

    for number in ["+922134567000", "+922134567500", "+922134567999", "+923001234567"] {
        let a = check(&app, &w.agency, &format!("numbers/{number}")).await;
        assert_eq!(a["result"], "licensed", "{number}: {a}");
        assert_eq!(a["licence_number"], w.licence.as_str());
        assert_eq!(a["site"], json!({"name": "Karachi centre", "city": "Karachi"}));
    }
    for number in ["+922134566999", "+922134568000", "+442071234567"] {
        let a = check(&app, &w.agency, &format!("numbers/{number}")).await;
        assert_eq!(a["result"], "unknown", "{number}: {a}");
        assert!(a.get("licence_number").is_none() && a.get("site").is_none());
    }
    for ip in ["203.0.113.0", "203.0.113.255", "2001:db8:1:ffff::1"] {
        let a = check(&app, &w.agency, &format!("ips/{ip}")).await;
        assert_eq!(a["result"], "licensed", "{ip}: {a}");
        assert_eq!(a["site"]["city"], "Karachi");
    }
    for ip in ["203.0.114.1", "2001:db8:2::1", "10.0.0.1"] {
        assert_eq!(check(&app, &w.agency, &format!("ips/{ip}")).await["result"], "unknown", "{ip}");
    }
    assert_eq!(
        check(&app, &w.agency, "organisations?registration_number=0000001").await["result"],
        "licensed"
    );
    assert_eq!(
        check(&app, &w.agency, "organisations?tax_number=1000001-1").await["licence_number"],
        w.licence.as_str()
    );
    assert_eq!(
        check(&app, &w.agency, "organisations?tax_number=9999999-9").await["result"],
        "unknown"
    );
    assert_eq!(check(&app, &w.agency, "licences/CCL-2026-000099-13").await["result"], "unknown");

    // A company and its numbers known to the registry, but never licensed.
    let other = operator(&app, 2).await;
    app.post(&format!("/api/v1/sites/{}/numbers", other.site))
        .token(&other.token)
        .json(&json!({"kind": "number", "e164": "+924235761234", "purpose": "inbound"}))
        .send()
        .await
        .expect(201);
    let a = check(&app, &w.agency, "organisations?registration_number=0000002").await;
    assert_eq!(a["result"], "not_licensed");
    assert!(a.get("licence_number").is_none());
    assert_eq!(a["holder"], "Karachi Contact Solutions (Private) Limited");
    let a = check(&app, &w.agency, "numbers/+924235761234").await;
    assert_eq!(
        (a["result"].as_str(), a["site"]["name"].as_str()),
        (Some("not_licensed"), Some("Karachi centre"))
    );
}

#[actix_web::test]
async fn a_licence_stops_being_valid_at_once() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let lpath = format!("/api/v1/licences/{}", w.licence);
    act(&app, &w.regulator, &lpath, "suspend", Some(json!({"reason": "Complaint"})))
        .await
        .expect(200);
    for q in [
        format!("licences/{}", w.licence),
        "numbers/+922134567001".into(),
        "ips/203.0.113.9".into(),
        "organisations?tax_number=1000001-1".into(),
    ] {
        let a = check(&app, &w.agency, &q).await;
        assert_eq!(
            (a["result"].as_str(), a["status"].as_str()),
            (Some("not_licensed"), Some("suspended")),
            "{q}"
        );
    }
    act(&app, &w.regulator, &lpath, "reinstate", Some(json!({"reason": "Cleared"})))
        .await
        .expect(200);
    assert_eq!(check(&app, &w.agency, "numbers/+922134567001").await["result"], "licensed");

    // Past expiry: expired at once, whatever else has run.
    app.clock.advance(Duration::days(366));
    let agency = app
        .post("/api/v1/auth/token")
        .json(&json!({"grant_type": "client_credentials",
        "client_id": "x", "client_secret": "y"}))
        .send()
        .await;
    agency.problem(401);
    let regulator = app.login("reg@pta.gov.pk", PASSWORD).await;
    let a = check(&app, &regulator, "numbers/+922134567001").await;
    assert_eq!(
        (a["result"].as_str(), a["status"].as_str()),
        (Some("not_licensed"), Some("expired"))
    );
    let lpath_token = regulator.clone();
    act(&app, &lpath_token, &lpath, "revoke", Some(json!({"reason": "x"}))).await.problem(409);
}

#[actix_web::test]
async fn revoked_and_surrendered_licences_are_not_licensed() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    act(
        &app,
        &w.op.token,
        &format!("/api/v1/licences/{}", w.licence),
        "surrender",
        Some(json!({"reason": "Closing"})),
    )
    .await
    .expect(200);
    let a = check(&app, &w.agency, &format!("licences/{}", w.licence)).await;
    assert_eq!(
        (a["result"].as_str(), a["status"].as_str()),
        (Some("not_licensed"), Some("surrendered"))
    );
    let id = in_status(&app, &w.op, &w.regulator, "approved").await;
    let second =
        app.get(&format!("/api/v1/applications/{id}")).token(&w.regulator).send().await.body
            ["licence_number"]
            .as_str()
            .unwrap()
            .to_string();
    // The site is covered again by the new licence.
    assert_eq!(
        check(&app, &w.agency, "numbers/+922134567001").await["licence_number"],
        second.as_str()
    );
    act(
        &app,
        &w.regulator,
        &format!("/api/v1/licences/{second}"),
        "revoke",
        Some(json!({"reason": "Fraud"})),
    )
    .await
    .expect(200);
    let a = check(&app, &w.agency, "numbers/+922134567001").await;
    assert_eq!(
        (a["result"].as_str(), a["status"].as_str()),
        (Some("not_licensed"), Some("revoked"))
    );
}

#[actix_web::test]
async fn malformed_questions_are_400_never_unknown() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    for path in [
        "licences/CCL-2026-000001-17",
        "licences/CCL-26-1-1",
        "numbers/abc",
        "numbers/+92",
        "ips/300.1.1.1",
        "ips/not-an-ip",
        "organisations",
        "organisations?registration_number=1&tax_number=1000001-1",
        "organisations?tax_number=123",
        "licences/CCL-2026-000001-17/attestation",
    ] {
        let r =
            app.get(&format!("/api/v1/verify/{path}")).token(&w.agency).send().await.problem(400);
        assert!(!r.body["detail"].as_str().unwrap().is_empty(), "{path}");
    }
    let r = app
        .get("/api/v1/verify/licences/CCL-2026-000001-17")
        .token(&w.agency)
        .send()
        .await
        .problem(400);
    assert!(r.body["detail"].as_str().unwrap().contains("check digits"));
}

#[actix_web::test]
async fn bulk_answers_in_order_with_errors_in_place() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let items = json!([
        {"type": "licence", "value": w.licence},
        {"type": "number", "value": "+922134567123"},
        {"type": "number", "value": "not a number"},
        {"type": "ip", "value": "203.0.113.7"},
        {"type": "ip", "value": "2001:db8:9::1"},
        {"type": "registration_number", "value": "0000001"},
        {"type": "tax_number", "value": "1000001-1"},
        {"type": "licence", "value": "CCL-2026-000001-17"},
        {"type": "number", "value": "+922134567123"},
    ]);
    let r = app
        .post("/api/v1/verify/bulk")
        .token(&w.agency)
        .json(&json!({"items": items}))
        .send()
        .await
        .expect(200);
    let results = r.body["results"].as_array().unwrap();
    let results_of: Vec<&str> =
        results.iter().map(|a| a["result"].as_str().unwrap_or("error")).collect();
    assert_eq!(
        results_of,
        [
            "licensed", "licensed", "error", "licensed", "unknown", "licensed", "licensed",
            "error", "licensed"
        ]
    );
    assert_eq!(results[2]["query"], "not a number");
    assert_eq!(results[2]["error"]["status"], 422);
    assert!(results[7]["error"]["detail"].as_str().unwrap().contains("check digits"));
    for (i, item) in items.as_array().unwrap().iter().enumerate() {
        assert_eq!(results[i]["query"], item["value"], "item {i} out of order");
    }

    // 10,000 is allowed; one more is refused with a clear problem.
    let many: Vec<Value> = (0..10_000)
        .map(|i| json!({"type": "number", "value": format!("+92213456{:04}", i)}))
        .collect();
    let r = app
        .post("/api/v1/verify/bulk")
        .token(&w.agency)
        .json(&json!({"items": many}))
        .send()
        .await
        .expect(200);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 10_000);
    let licensed = results.iter().filter(|a| a["result"] == "licensed").count();
    assert_eq!(licensed, 1000, "+922134567000..999 are the licensed range");
    let too_many: Vec<Value> =
        (0..10_001).map(|_| json!({"type": "ip", "value": "10.0.0.1"})).collect();
    let r = app
        .post("/api/v1/verify/bulk")
        .token(&w.agency)
        .json(&json!({"items": too_many}))
        .send()
        .await
        .problem(422);
    assert!(r.body["detail"].as_str().unwrap().contains("10000"), "{}", r.text);
    // An item of an unknown type is answered in place, like any malformed item.
    let r = app
        .post("/api/v1/verify/bulk")
        .token(&w.agency)
        .json(&json!({"items": [{"type": "fax", "value": "1"}]}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.body["results"][0]["query"], "1");
    assert_eq!(r.body["results"][0]["error"]["errors"][0]["field"], "type");
}

/// The bulk body is read item by item as it arrives, and as strictly as any body: the envelope's
/// faults are the whole request's problem, an item's own are answered in place.
#[actix_web::test]
async fn bulk_bodies_are_read_as_strictly_as_any() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let send = |body: &'static str| {
        app.post("/api/v1/verify/bulk").token(&w.agency).body("application/json", body).send()
    };
    let item = r#"{"type": "ip", "value": "203.0.113.7"}"#;
    let ok = send(r#"{"items": [{"type": "ip", "value": "203.0.113.7"}]}"#).await.expect(200);
    assert_eq!(ok.body["results"][0]["result"], "licensed", "{item}");
    // Malformed JSON, a duplicate key (at the top or inside an item), trailing text: 400.
    for body in [
        r#"{"items": [{"type": "ip", "value": "203.0.113.7"}"#,
        r#"{"items": [], "items": []}"#,
        r#"{"items": [{"type": "ip", "type": "ip", "value": "203.0.113.7"}]}"#,
        r#"{"items": []} []"#,
        "",
    ] {
        let r = send(body).await.problem(400);
        assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}: {}", r.text);
    }
    // An envelope of the wrong shape: 422 naming the field.
    for (body, field) in [
        (r#"{"items": "all of them"}"#, "items"),
        (r#"{"items": [], "extra": 1}"#, "extra"),
        (r#"{}"#, "items"),
        (r#"[]"#, ""),
    ] {
        let r = send(body).await.problem(422);
        assert!(r.text.contains(field), "{body}: {}", r.text);
    }
    // Items that are not objects are answered in place.
    let r =
        send(r#"{"items": [7, null, {"type": "ip", "value": "203.0.113.7"}]}"#).await.expect(200);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["query"], "", "{}", r.text);
    assert_eq!(results[0]["error"]["status"], 422);
    assert_eq!(results[1]["error"]["status"], 422);
    assert_eq!(results[2]["result"], "licensed");
}

#[actix_web::test]
async fn agencies_are_logged_and_revoked_clients_refused() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    check(&app, &w.agency, &format!("licences/{}", w.licence)).await;
    check(&app, &w.agency, "numbers/+922134568000").await;
    app.post("/api/v1/verify/bulk").token(&w.agency)
        .json(&json!({"items": [{"type": "ip", "value": "203.0.113.1"}, {"type": "ip", "value": "bad"}]})).send().await.expect(200);
    // Staff checks are not agency verifications.
    check(&app, &w.regulator, "numbers/+922134568000").await;

    let log = app.get("/api/v1/verification-log").token(&w.regulator).send().await.expect(200);
    let entries: Vec<(&str, &str, &str)> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["query"].as_str().unwrap(),
                e["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert!(entries.contains(&("licence", w.licence.as_str(), "licensed")));
    assert!(entries.contains(&("number", "+922134568000", "unknown")));
    assert!(entries.contains(&("ip", "203.0.113.1", "licensed")));
    assert!(entries.contains(&("ip", "bad", "error")));
    assert!(log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["client_id"] == w.agency_client.as_str() && e["at"].is_string()));
    let filtered = app
        .get(&format!("/api/v1/verification-log?client_id={}&result=unknown", w.agency_client))
        .token(&w.regulator)
        .send()
        .await
        .expect(200);
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1);

    app.get("/api/v1/verification-log").token(&w.agency).send().await.problem(403);
    app.get("/api/v1/verification-log").token(&w.op.token).send().await.problem(403);
    app.get("/api/v1/verify/numbers/+922134567001").token(&w.op.token).send().await.problem(403);
    app.get("/api/v1/verify/numbers/+922134567001").send().await.problem(401);

    let admin = app.admin_token().await;
    app.delete(&format!("/api/v1/agency-clients/{}", w.agency_client))
        .token(&admin)
        .send()
        .await
        .expect(204);
    app.get("/api/v1/verify/numbers/+922134567001").token(&w.agency).send().await.problem(401);
}

#[actix_web::test]
async fn the_public_check_shows_little_and_is_rate_limited() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r = app.get(&format!("/api/v1/public/licences/{}", w.licence)).send().await.expect(200);
    let mut keys: Vec<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["expires_at", "holder", "result", "status"]);
    assert_eq!(r.body["result"], "licensed");
    let r = app.get("/api/v1/public/licences/CCL-2026-000099-13").send().await.expect(200);
    assert_eq!(r.body, json!({"result": "unknown"}));
    app.get("/api/v1/public/licences/CCL-2026-000001-17").send().await.problem(400);
    // The default allows 60 a minute per address; this test has used 3.
    for _ in 0..57 {
        app.get(&format!("/api/v1/public/licences/{}", w.licence)).send().await.expect(200);
    }
    let r = app.get(&format!("/api/v1/public/licences/{}", w.licence)).send().await.problem(429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

#[actix_web::test]
async fn attestations_verify_with_nothing_but_the_jwks() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r = app
        .get(&format!("/api/v1/verify/licences/{}/attestation", w.licence))
        .token(&w.agency)
        .send()
        .await
        .expect(200);
    let token = r.body["token"].as_str().unwrap();

    // As a bank would: fetch the JWKS, pick the key by kid, verify with a standard library.
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(app.get("/.well-known/jwks.json").send().await.body).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    let key =
        jsonwebtoken::DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap())
            .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.validate_exp = false; // the test clock is not the wall clock
    v.validate_aud = false;
    v.set_required_spec_claims(&["iss", "sub", "exp"]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &v).unwrap().claims;
    assert_eq!(claims["iss"], "ccreg");
    assert_eq!(claims["sub"], w.licence.as_str());
    assert_eq!(claims["result"], "licensed");
    assert_eq!(claims["status"], "provisional");
    assert_eq!(claims["holder"], "Karachi Contact Solutions (Private) Limited");
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert!(exp > iat && exp - iat <= 24 * 3600);
    assert!(claims["jti"].is_string());

    // Tampering with the claims breaks the signature.
    let parts: Vec<&str> = token.split('.').collect();
    use base64::Engine;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(claims.to_string().replace("licensed", "revoked"));
    assert!(jsonwebtoken::decode::<Value>(
        &format!("{}.{}.{}", parts[0], forged, parts[2]),
        &key,
        &v
    )
    .is_err());
}
