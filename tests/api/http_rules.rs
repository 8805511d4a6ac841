//! The conventions of API.md §1 that every route shares.

use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

#[actix_web::test]
async fn framework_errors_are_problems() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/api/v1/auth/signup")
        .body("application/json", "{\"email\": ")
        .send()
        .await
        .problem(400);
    assert!(r.body["detail"].as_str().unwrap().contains("malformed JSON"));
    app.post("/api/v1/auth/signup").body("application/json", "").send().await.problem(400);
    app.post("/api/v1/auth/signup").body("text/plain", "hello").send().await.problem(415);

    let big = format!("{{\"email\": \"{}\"}}", "a".repeat(5 * 1024 * 1024));
    app.post("/api/v1/auth/signup").body("application/json", big).send().await.problem(413);

    app.get("/api/v1/no-such-thing").send().await.problem(404);
    let r = app.req(reqwest::Method::DELETE, "/api/v1/me").send().await.problem(405);
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
    let r = app.req(reqwest::Method::PUT, "/api/v1/users/abc").send().await.problem(405);
    assert_eq!(r.header("allow").as_deref(), Some("GET, PATCH"));
    app.get("/docs/no-such-file.js").send().await.problem(404);
}

#[actix_web::test]
async fn unknown_and_server_owned_fields_are_rejected() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/api/v1/auth/signup")
        .json(&json!({"email": "u@example.pk", "password": PASSWORD, "full_name": "U", "status": "active"}))
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "status");
    assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("unknown field"));
    let r = app
        .post("/api/v1/auth/signup")
        .json(&json!({"email": "u@example.pk", "password": PASSWORD, "full_name": 42}))
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "full_name");
    let r = app
        .post("/api/v1/auth/signup")
        .json(&json!({"email": "u\u{0}@example.pk", "password": PASSWORD, "full_name": "U"}))
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "email");
    let r = app.post("/api/v1/auth/signup").json(&json!([1, 2])).send().await.problem(422);
    assert!(r.body["errors"].is_array());
}

#[actix_web::test]
async fn idempotency_keys_replay_and_refuse_other_bodies() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "idem@example.pk", "password": PASSWORD, "full_name": "Idem"});
    let first = app
        .post("/api/v1/auth/signup")
        .header("idempotency-key", "k-1")
        .json(&body)
        .send()
        .await
        .expect(201);
    let again = app
        .post("/api/v1/auth/signup")
        .header("idempotency-key", "k-1")
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(first.body, again.body);
    assert_eq!(first.header("location"), again.header("location"));
    assert_eq!(again.header("idempotency-replayed").as_deref(), Some("true"));
    assert!(first.header("idempotency-replayed").is_none());

    let other = json!({"email": "idem2@example.pk", "password": PASSWORD, "full_name": "Idem"});
    let r = app
        .post("/api/v1/auth/signup")
        .header("idempotency-key", "k-1")
        .json(&other)
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "Idempotency-Key");
    // Without the key, the same body is a duplicate.
    app.post("/api/v1/auth/signup").json(&body).send().await.problem(409);

    // Staff creation honours keys per admin, too; exactly one account is made.
    let admin = app.admin_token().await;
    let staff = json!({"email": "s@pta.gov.pk", "password": PASSWORD, "full_name": "S", "role": "inspector"});
    let sends = (0..4).map(|_| {
        app.post("/api/v1/users")
            .token(&admin)
            .header("idempotency-key", "staff-1")
            .json(&staff)
            .send()
    });
    let results = futures_util::future::join_all(sends).await;
    let ids: Vec<String> = results
        .into_iter()
        .map(|r| r.expect(201).body["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let list = app.get("/api/v1/users?role=inspector").token(&admin).send().await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    app.post("/api/v1/auth/signup")
        .header("idempotency-key", "bad key with spaces")
        .json(&body)
        .send()
        .await
        .problem(400);
}

#[actix_web::test]
async fn idempotency_keys_expire_after_a_day() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "day@example.pk", "password": PASSWORD, "full_name": "Day"});
    app.post("/api/v1/auth/signup")
        .header("idempotency-key", "d-1")
        .json(&body)
        .send()
        .await
        .expect(201);
    app.clock.advance(chrono::Duration::hours(25));
    // The key is forgotten, so this is a fresh request: and a duplicate account.
    app.post("/api/v1/auth/signup")
        .header("idempotency-key", "d-1")
        .json(&body)
        .send()
        .await
        .problem(409);
}

/// A key lives in the scope the request gives it (the caller, the route and its path values),
/// never one a handler types: the same key and body from another caller, under another parent
/// or on another route is a new request, not a replay nor a 422.
#[actix_web::test]
async fn an_idempotency_key_belongs_to_its_caller_route_and_parent() {
    let app = TestApp::spawn().await;
    let a = crate::licensing::operator(&app, 1).await;
    let b = crate::licensing::operator(&app, 2).await;
    let a2 = app.organisation(&a.token, "0000091", "1000091-1").await;
    let site = json!({"name": "Keyed floor", "address": crate::helpers::address("Quetta"),
                      "seat_count": 40, "services": ["inbound"], "markets": ["PK"]});
    let post = |token: &str, path: String, body: &serde_json::Value| {
        app.post(&path).token(token).header("idempotency-key", "same-key").json(body).send()
    };
    let first = post(&a.token, format!("/api/v1/organisations/{}/sites", a.org), &site).await;
    let first = first.expect(201);
    let answers = [
        ("another caller", post(&b.token, format!("/api/v1/organisations/{}/sites", b.org), &site)),
        ("another parent", post(&a.token, format!("/api/v1/organisations/{a2}/sites"), &site)),
    ];
    for (what, answer) in answers {
        let r = answer.await.expect(201);
        assert!(r.header("idempotency-replayed").is_none(), "{what}: replayed");
        assert_ne!(r.body["id"], first.body["id"], "{what}: the first site answered");
    }
    let range = json!({"cidr": "198.51.100.0/29"});
    let r = post(&a.token, format!("/api/v1/sites/{}/ip-ranges", a.site), &range).await;
    assert!(r.expect(201).header("idempotency-replayed").is_none(), "another route: replayed");
    // The first request again is the first answer.
    let again = post(&a.token, format!("/api/v1/organisations/{}/sites", a.org), &site).await;
    let again = again.expect(201);
    assert_eq!(again.header("idempotency-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
}
